//! Independent jobs run side by side on the rayon pool, with a bound on how many are in
//! flight at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `job(0)`, …, `job(count - 1)` side by side and returns their results in index order.
///
/// At most as many jobs as the pool has threads are in flight at any moment: that many
/// workers each take the next unstarted index until none is left. (A plain parallel
/// iterator would let a thread waiting inside one job's own parallel loop steal and start
/// further jobs, and every job in flight holds its working set.) Which worker runs which
/// job varies from run to run; the results do not, as long as each job is deterministic
/// by itself.
pub(crate) fn run_side_by_side<T, F>(count: usize, job: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().clamp(1, count.max(1));
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let result = job(i);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every job ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::run_side_by_side;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(f)
    }

    #[test]
    fn results_come_back_in_index_order() {
        for threads in [1, 2, 4] {
            let out = in_pool(threads, || run_side_by_side(37, |i| i * i));
            assert_eq!(out, (0..37).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(in_pool(2, || run_side_by_side(0, |i| i)).is_empty());
    }

    #[test]
    fn no_more_jobs_in_flight_than_threads() {
        // Each job runs a nested parallel loop, where a waiting thread could steal work.
        for threads in [1, 2, 3] {
            let (live, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
            in_pool(threads, || {
                run_side_by_side(24, |i| {
                    let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    use rayon::prelude::*;
                    let s: u64 = (0..20_000u64).into_par_iter().map(|x| x ^ i as u64).sum();
                    live.fetch_sub(1, Ordering::SeqCst);
                    s
                })
            });
            let peak = peak.load(Ordering::SeqCst);
            assert!(
                peak >= 1 && peak <= threads,
                "peak {peak} with {threads} threads"
            );
        }
    }
}
