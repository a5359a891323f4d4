//! Independent jobs run side by side on the rayon pool, with a bound on how many are in
//! flight at once and, optionally, on the memory they hold together.

use std::sync::Mutex;

/// Runs `job(0)`, …, `job(count - 1)` side by side and returns their results in index order.
///
/// At most as many jobs as the pool has threads are in flight at any moment. (A plain
/// parallel iterator would let a thread waiting inside one job's own parallel loop steal and
/// start further jobs, and every job in flight holds its working set.) Which worker runs
/// which job varies from run to run; the results do not, as long as each job is
/// deterministic by itself.
pub(crate) fn run_side_by_side<T, F>(count: usize, job: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    run_within_budget(count, &[], None, job)
}

/// [`run_side_by_side`], where job `i` is expected to hold `weights[i]` bytes while it runs
/// (0 where `weights` is shorter) and the jobs in flight may hold `budget` bytes together.
/// Jobs start in index order; one that does not fit waits until enough others have
/// finished, and one heavier than the whole budget runs alone. A worker with no job it may
/// start leaves the batch, so the pool's threads help the jobs that run (their own parallel
/// loops); workers come back as jobs finish.
pub(crate) fn run_within_budget<T, F>(
    count: usize,
    weights: &[u64],
    budget: Option<u64>,
    job: F,
) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    let batch = Batch {
        count,
        weights,
        budget,
        job,
        threads: rayon::current_num_threads().clamp(1, count.max(1)),
        queue: Mutex::new(Queue::default()),
        slots: (0..count).map(|_| Mutex::new(None)).collect(),
    };
    rayon::scope(|scope| batch.spawn_workers(scope));
    batch
        .slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every job ran")
        })
        .collect()
}

/// Where a batch stands.
#[derive(Default)]
struct Queue {
    /// The next job to start.
    next: usize,
    /// Jobs running and the bytes they are expected to hold.
    running: usize,
    load: u64,
    /// Workers in the batch (running a job or about to look for one).
    workers: usize,
}

struct Batch<'w, T, F> {
    count: usize,
    weights: &'w [u64],
    budget: Option<u64>,
    job: F,
    threads: usize,
    queue: Mutex<Queue>,
    slots: Vec<Mutex<Option<T>>>,
}

impl<T: Send, F: Fn(usize) -> T + Sync> Batch<'_, T, F> {
    fn weight(&self, i: usize) -> u64 {
        self.weights.get(i).copied().unwrap_or(0)
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the batch's workers up to one per thread while jobs are waiting.
    fn spawn_workers<'s>(&'s self, scope: &rayon::Scope<'s>) {
        let new = {
            let mut q = self.queue();
            let waiting = self.count - q.next;
            let new = (self.threads - q.workers).min(waiting);
            q.workers += new;
            new
        };
        for _ in 0..new {
            scope.spawn(move |scope| self.work(scope));
        }
    }

    /// Takes jobs in order while the next one may start, then leaves.
    fn work<'s>(&'s self, scope: &rayon::Scope<'s>) {
        loop {
            let i = {
                let mut q = self.queue();
                let fits = |q: &Queue| {
                    q.running == 0
                        || self
                            .budget
                            .is_none_or(|b| q.load + self.weight(q.next) <= b)
                };
                if q.next >= self.count || !fits(&q) {
                    q.workers -= 1;
                    return;
                }
                let i = q.next;
                q.next += 1;
                q.running += 1;
                q.load += self.weight(i);
                i
            };
            let result = (self.job)(i);
            *self.slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            {
                let mut q = self.queue();
                q.running -= 1;
                q.load -= self.weight(i);
            }
            // Room was freed: workers that left may start jobs again.
            self.spawn_workers(scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{run_side_by_side, run_within_budget};
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

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

    #[test]
    fn jobs_in_flight_hold_no_more_than_the_budget() {
        // Weights 1..=5 bytes, budget 6: never more in flight than that, whatever the
        // threads; results still in order.
        let weights: Vec<u64> = (0..30).map(|i| 1 + i % 5).collect();
        for threads in [1, 2, 4] {
            let (load, peak) = (AtomicU64::new(0), AtomicU64::new(0));
            let out = in_pool(threads, || {
                run_within_budget(30, &weights, Some(6), |i| {
                    let now = load.fetch_add(weights[i], Ordering::SeqCst) + weights[i];
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    load.fetch_sub(weights[i], Ordering::SeqCst);
                    i
                })
            });
            assert_eq!(out, (0..30).collect::<Vec<_>>());
            assert!(peak.load(Ordering::SeqCst) <= 6, "{threads} threads");
        }
    }

    #[test]
    fn a_job_heavier_than_the_budget_runs_alone_and_the_rest_side_by_side_again() {
        // Job 0 alone exceeds the budget; jobs 1..=6 fit two at a time. Each of those waits
        // (up to a deadline) for another to be running, so the peak shows whether workers
        // came back after the heavy job.
        let weights = [100, 1, 1, 1, 1, 1, 1];
        let (live, peak, heavy_alone) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(1),
        );
        in_pool(2, || {
            run_within_budget(7, &weights, Some(2), |i| {
                let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                if i == 0 {
                    std::thread::sleep(Duration::from_millis(20));
                    if live.load(Ordering::SeqCst) != 1 {
                        heavy_alone.store(0, Ordering::SeqCst);
                    }
                } else {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while live.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                live.fetch_sub(1, Ordering::SeqCst);
            })
        });
        assert_eq!(heavy_alone.load(Ordering::SeqCst), 1);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
