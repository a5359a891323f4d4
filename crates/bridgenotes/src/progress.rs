//! Logging and progress bars.

use std::time::Duration;

use bridgenotes_engine::pipeline::{Observer, Stage};
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

/// Wall time per stage of a run, in order.
#[derive(Default)]
pub struct Timings(std::cell::RefCell<Vec<(String, f64)>>);

impl Timings {
    pub fn record(&self, stage: &str, seconds: f64) {
        self.0.borrow_mut().push((stage.to_string(), seconds));
    }

    /// The stages as JSON objects `{stage, seconds}`.
    pub fn stages(&self) -> Vec<serde_json::Value> {
        self.0
            .borrow()
            .iter()
            .map(|(stage, seconds)| serde_json::json!({ "stage": stage, "seconds": seconds }))
            .collect()
    }
}

/// Shows which stage of scoring runs (`[3/27] scorer MFExpansionScorer`) and records how
/// long each took.
pub struct StageProgress<'a> {
    bar: ProgressBar,
    timings: &'a Timings,
    started: std::cell::Cell<Option<std::time::Instant>>,
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
            started: std::cell::Cell::new(None),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for StageProgress<'_> {
    fn started(&self, stage: Stage<'_>, index: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(index as u64);
        self.bar.set_message(stage.label());
        self.started.set(Some(std::time::Instant::now()));
    }

    fn finished(&self, stage: Stage<'_>) {
        if let Some(t) = self.started.take() {
            let seconds = t.elapsed().as_secs_f64();
            tracing::debug!(seconds, "{}", stage.label());
            self.timings.record(&stage.label(), seconds);
        }
    }
}

/// The process's peak resident memory (`VmHWM`), where the system reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
