//! Logging and progress bars.

use std::time::Duration;

use bridgenotes_engine::pipeline::{FitPasses, Observer, Stage};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Sends `tracing` output to stderr; `RUST_LOG` overrides the level.
pub fn init_logging(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

/// A counter with rate for a phase of unknown length (`quiet`: hidden).
pub fn counter(quiet: bool, phase: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {phase:<10} {{human_pos}} {unit} ({{per_sec}}, {{elapsed}})"
        ))
        .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Wall time per stage of a run, in the order the stages finished (stages that run side
/// by side overlap, so their times add up to more than the wall time), the process's
/// resident memory as each finished and, for a scorer, its ratings and the passes of its
/// fits.
#[derive(Default)]
pub struct Timings {
    stages: std::sync::Mutex<Vec<StageRecord>>,
    /// Stage label, ratings and fit passes of each scorer, until its stage is recorded.
    fits: std::sync::Mutex<Vec<(String, usize, Vec<FitPasses>)>>,
}

struct StageRecord {
    stage: String,
    seconds: f64,
    resident_bytes: Option<u64>,
    fits: Option<(usize, Vec<FitPasses>)>,
}

impl Timings {
    pub fn record(&self, stage: &str, seconds: f64) {
        let resident_bytes = proc_status_bytes("self", "VmRSS:");
        let fits = {
            let mut pending = lock(&self.fits);
            let i = pending.iter().position(|(label, ..)| label == stage);
            i.map(|i| pending.remove(i)).map(|(_, r, f)| (r, f))
        };
        lock(&self.stages).push(StageRecord {
            stage: stage.to_string(),
            seconds,
            resident_bytes,
            fits,
        });
    }

    /// Notes a scorer's ratings and fit passes, for the stage `stage` recorded next.
    pub fn record_fits(&self, stage: &str, ratings: usize, fits: &[FitPasses]) {
        lock(&self.fits).push((stage.to_string(), ratings, fits.to_vec()));
    }

    /// The stages as JSON objects `{stage, seconds, resident_bytes}` (`resident_bytes`: the
    /// whole process's resident memory when the stage finished, null where the system does
    /// not report it); a scorer's also has `ratings` and `fit_passes`, its fits in order as
    /// `{fit, passes}` (passes over the ratings).
    pub fn stages(&self) -> Vec<serde_json::Value> {
        lock(&self.stages)
            .iter()
            .map(|r| {
                let mut stage = serde_json::json!({
                    "stage": r.stage,
                    "seconds": r.seconds,
                    "resident_bytes": r.resident_bytes,
                });
                if let Some((ratings, fits)) = &r.fits {
                    stage["ratings"] = (*ratings).into();
                    stage["fit_passes"] = fits
                        .iter()
                        .map(|f| serde_json::json!({"fit": f.fit, "passes": f.passes}))
                        .collect();
                }
                stage
            })
            .collect()
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Shows which stages of scoring run (`[3/27] scorer MFExpansionScorer`) and records how
/// long each took.
pub struct StageProgress<'a> {
    bar: ProgressBar,
    timings: &'a Timings,
    /// The stages under way: label and start.
    running: std::sync::Mutex<Vec<(String, std::time::Instant)>>,
    finished: std::sync::atomic::AtomicU64,
}

impl<'a> StageProgress<'a> {
    pub fn new(quiet: bool, timings: &'a Timings) -> Self {
        let bar = ProgressBar::new(0);
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{spinner} scoring   [{pos}/{len}] {msg} ({elapsed})")
                .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        StageProgress {
            bar,
            timings,
            running: std::sync::Mutex::new(Vec::new()),
            finished: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl StageProgress<'_> {
    fn running(&self) -> std::sync::MutexGuard<'_, Vec<(String, std::time::Instant)>> {
        lock(&self.running)
    }

    fn show(&self, running: &[(String, std::time::Instant)]) {
        let labels: Vec<&str> = running.iter().map(|(label, _)| label.as_str()).collect();
        self.bar.set_message(labels.join(" + "));
    }
}

impl Observer for StageProgress<'_> {
    fn started(&self, stage: Stage<'_>, _index: usize, total: usize) {
        self.bar.set_length(total as u64);
        let mut running = self.running();
        running.push((stage.label(), std::time::Instant::now()));
        self.show(&running);
    }

    fn fitted(&self, stage: Stage<'_>, ratings: usize, fits: &[FitPasses]) {
        self.timings.record_fits(&stage.label(), ratings, fits);
    }

    fn finished(&self, stage: Stage<'_>) {
        let label = stage.label();
        let mut running = self.running();
        if let Some(i) = running.iter().position(|(l, _)| *l == label) {
            let (_, t) = running.remove(i);
            let seconds = t.elapsed().as_secs_f64();
            tracing::debug!(seconds, "{label}");
            self.timings.record(&label, seconds);
            let done = self
                .finished
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            self.bar.set_position(done);
            self.show(&running);
        }
    }
}

/// The process's peak resident memory (`VmHWM`), where the system reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("self", "VmHWM:")
}

/// A memory figure (`VmRSS:`, `VmHWM:` …) of `/proc/PROCESS/status`, given in KiB there, in
/// bytes; `process` is a process id or `self`.
pub fn proc_status_bytes(process: &str, field: &str) -> Option<u64> {
    proc_kib_field(&format!("/proc/{process}/status"), field)
}

/// The memory the system could give to new work now (`MemAvailable` of `/proc/meminfo`), in
/// bytes, where the system reports it.
pub fn available_memory_bytes() -> Option<u64> {
    proc_kib_field("/proc/meminfo", "MemAvailable:")
}

/// A `FIELD: N kB` line of a /proc file, in bytes.
fn proc_kib_field(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time of the whole process so far (user, system), in seconds, over all its threads,
/// where the system reports it (`/proc/self/stat`, in the kernel's 1/100 s ticks).
pub fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, so split after its `)`):
    // state is field 3; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user / 100.0, system / 100.0))
}
