//! `bridgenotes bench-parse`: ratings parse throughput against a baseline that only reads
//! the same bytes and counts lines (the I/O and decompression bound).

use std::io::Read;
use std::time::Instant;

use anyhow::Context;
use bridgenotes_format::{ReadOptions, ratings, source};

use crate::cli::BenchParseArgs;

/// Reads every byte behind `path` and counts line ends.
fn streaming_pass(path: &std::path::Path) -> anyhow::Result<u64> {
    let mut lines = 0u64;
    let mut buf = vec![0u8; 8 << 20];
    for file in source::input_files(path)? {
        let mut input = source::open(&file)?;
        loop {
            let n = input
                .read(&mut buf)
                .with_context(|| file.display().to_string())?;
            if n == 0 {
                break;
            }
            lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        }
    }
    Ok(lines)
}

pub fn parse(args: &BenchParseArgs) -> anyhow::Result<()> {
    let threads = rayon::current_num_threads();
    let started = Instant::now();
    let lines = streaming_pass(&args.ratings)?;
    let baseline = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let cpu_before = crate::progress::cpu_seconds();
    let table = ratings::read_ratings(&args.ratings, &ReadOptions::default())?;
    let parse = started.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(crate::progress::cpu_seconds())
        .map(|((u0, s0), (u1, s1))| (u1 - u0, s1 - s0));
    let rows = table.len() as f64;
    println!(
        "ratings:          {} rows ({} lines), {} raters, {} notes",
        table.len(),
        lines,
        table.rater_ids.len(),
        table.note_ids.len()
    );
    println!(
        "streaming pass:   {baseline:.2} s ({:.1} M lines/s)",
        lines as f64 / baseline / 1e6
    );
    println!(
        "parse:            {parse:.2} s ({:.2} M rows/s, {:.2} M rows/s per thread, {threads} threads)",
        rows / parse / 1e6,
        rows / parse / 1e6 / threads as f64
    );
    if let Some((user, system)) = cpu {
        // Per core: rows per CPU-second the parse took on all its threads (the reader
        // thread's copies out of the page cache are the system part).
        println!(
            "parse CPU:        user {user:.2} s, system {system:.2} s ({:.2} M rows per CPU-second, {:.2} M per user-CPU-second)",
            rows / (user + system) / 1e6,
            rows / user / 1e6
        );
    }
    println!("ratio parse / streaming pass: {:.2}", parse / baseline);
    Ok(())
}

/// One `score` run, as its `--timings` file reports it.
struct ScoreRun {
    report: serde_json::Value,
}

impl ScoreRun {
    fn seconds(&self) -> f64 {
        self.report["seconds"].as_f64().unwrap_or(f64::NAN)
    }

    fn peak_mib(&self) -> f64 {
        self.report["peak_rss_bytes"]
            .as_f64()
            .map_or(f64::NAN, |b| b / (1024.0 * 1024.0))
    }
}

/// Runs `bridgenotes score` (this executable) on a dataset folder in the public format.
fn run_score(
    data: &std::path::Path,
    out: &std::path::Path,
    gz: bool,
    epoch_millis: i64,
) -> anyhow::Result<ScoreRun> {
    let ext = if gz { "tsv.gz" } else { "tsv" };
    let file = |name: &str| data.join(format!("{name}-00000.{ext}"));
    let timings = out.join("timings.json");
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("score")
        .arg("--quiet")
        .arg("-n")
        .arg(file("notes"))
        .arg("-r")
        .arg(file("ratings"))
        .arg("-s")
        .arg(file("noteStatusHistory"))
        .arg("-e")
        .arg(file("userEnrollment"))
        .arg("-o")
        .arg(out)
        .arg("--epoch-millis")
        .arg(epoch_millis.to_string())
        .arg("--timings")
        .arg(&timings)
        .status()
        .context("running bridgenotes score")?;
    anyhow::ensure!(status.success(), "score failed on {}", data.display());
    let text = std::fs::read_to_string(&timings)?;
    Ok(ScoreRun {
        report: serde_json::from_str(&text)?,
    })
}

/// Parses `h:mm:ss.ss` / `m:ss.ss` wall times of the golden manifests.
fn wall_seconds(text: &str) -> Option<f64> {
    text.split(':').try_fold(0.0, |acc, part| {
        Some(acc * 60.0 + part.parse::<f64>().ok()?)
    })
}

/// The reference's wall time and peak memory on a golden dataset (all phases).
fn reference_figures(manifest: &std::path::Path) -> anyhow::Result<(f64, f64)> {
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest)?)?;
    let phases = m["reference"]["timings_2cpu"]
        .as_object()
        .context("no timings_2cpu in the manifest")?;
    let mut seconds = 0.0;
    let mut peak: f64 = 0.0;
    for phase in phases.values() {
        seconds += phase["wall"].as_str().and_then(wall_seconds).unwrap_or(0.0);
        peak = peak.max(phase["maxRssMiB"].as_f64().unwrap_or(0.0));
    }
    Ok((seconds, peak))
}

/// One process's wall time and peak resident memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct ProcessFigures {
    seconds: f64,
    peak_mib: f64,
}

/// Runs `command` to completion, sampling its peak memory while it runs.
fn measure(mut command: std::process::Command, what: &str) -> anyhow::Result<ProcessFigures> {
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let mut peak_bytes: u64 = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let peak = crate::progress::proc_status_bytes(&child.id().to_string(), "VmHWM:");
        peak_bytes = peak_bytes.max(peak.unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    anyhow::ensure!(status.success(), "{what} failed ({status})");
    Ok(ProcessFigures {
        seconds: started.elapsed().as_secs_f64(),
        peak_mib: peak_bytes as f64 / (1024.0 * 1024.0),
    })
}

/// Runs the reference scorer (`main.py` in `reference`) on a golden dataset's input, one
/// process per phase as its golden run was made; wall times add up, the peak is the
/// largest phase's. Its outputs go to `work`/golden-reference-out and each phase's log to
/// `work`/golden-reference-PHASE.log.
fn run_reference(
    python: &std::path::Path,
    reference: &std::path::Path,
    golden: &std::path::Path,
    work: &std::path::Path,
) -> anyhow::Result<ProcessFigures> {
    anyhow::ensure!(
        reference.join("main.py").is_file(),
        "{}: no main.py (give the scoring/src folder of a twitter/communitynotes checkout)",
        reference.display()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("MANIFEST.json"))?)?;
    let epoch = manifest["epochMillis"]
        .as_i64()
        .context("no epochMillis in the manifest")?;
    // The reference reads plain TSV files.
    let input = work.join("golden-reference-in");
    std::fs::create_dir_all(&input)?;
    let names = ["notes", "ratings", "noteStatusHistory", "userEnrollment"];
    for name in names {
        let from = golden.join("input").join(format!("{name}-00000.tsv.gz"));
        let to = input.join(format!("{name}-00000.tsv"));
        let mut reader = bridgenotes_format::source::open(&from)?;
        let mut file = std::fs::File::create(&to).with_context(|| to.display().to_string())?;
        std::io::copy(&mut reader, &mut file).with_context(|| from.display().to_string())?;
    }
    let out = work.join("golden-reference-out");
    std::fs::create_dir_all(&out)?;
    // The reference runs from its own folder, so a relative interpreter path is made
    // absolute here (a bare name such as `python3` is looked up on PATH). Symbolic links
    // are kept: a virtual environment's `bin/python` is one, and resolving it would leave
    // the environment.
    let python = if python.components().count() > 1 {
        std::path::absolute(python).with_context(|| python.display().to_string())?
    } else {
        python.to_path_buf()
    };
    let file = |name: &str| input.join(format!("{name}-00000.tsv")).canonicalize();
    let inputs = [
        ("--enrollment", file("userEnrollment")?),
        ("--notes", file("notes")?),
        ("--ratings", file("ratings")?),
        ("--status", file("noteStatusHistory")?),
        ("--outdir", out.canonicalize()?),
    ];
    let mut total = ProcessFigures::default();
    for phase in ["pss", "prescoring", "final", "contributor"] {
        let log_path = work.join(format!("golden-reference-{phase}.log"));
        let log =
            std::fs::File::create(&log_path).with_context(|| log_path.display().to_string())?;
        let mut command = std::process::Command::new(&python);
        command.current_dir(reference).arg("main.py");
        for (flag, path) in &inputs {
            command.arg(flag).arg(path);
        }
        command
            .arg("--epoch-millis")
            .arg(epoch.to_string())
            .args(["--phase", phase])
            .env("WANDB_MODE", "disabled")
            .stdout(log.try_clone()?)
            .stderr(log);
        let figures = measure(
            command,
            &format!(
                "the reference's {phase} phase (its log: {})",
                log_path.display()
            ),
        )?;
        println!(
            "  reference {phase:<12} {:>8.1} s {:>7.0} MiB",
            figures.seconds, figures.peak_mib
        );
        total.seconds += figures.seconds;
        total.peak_mib = total.peak_mib.max(figures.peak_mib);
    }
    Ok(total)
}

/// A stage's fit passes as `first round 75, final round 40, low diligence 286/169/36`
/// (empty for a stage without fits).
fn fit_passes(stage: &serde_json::Value) -> String {
    let Some(fits) = stage["fit_passes"].as_array() else {
        return String::new();
    };
    let mut parts: Vec<String> = Vec::new();
    let mut diligence: Vec<String> = Vec::new();
    for f in fits {
        let (fit, passes) = (f["fit"].as_str().unwrap_or("?"), &f["passes"]);
        if fit.starts_with("low diligence") {
            diligence.push(passes.to_string());
        } else {
            parts.push(format!("{fit} {passes}"));
        }
    }
    if !diligence.is_empty() {
        parts.push(format!("low diligence {}", diligence.join("/")));
    }
    parts.join(", ")
}

/// `bridgenotes bench-score`: synthesizes datasets of the given sizes (kept in `--data` for
/// later runs), scores each in a child process, and prints per-stage times, throughput,
/// peak memory and ratios against a plain streaming pass over the ratings and, on a golden
/// dataset, against the reference scorer's recorded run.
pub fn score(args: &crate::cli::BenchScoreArgs) -> anyhow::Result<()> {
    const EPOCH: i64 = 1_795_132_800_000;
    std::fs::create_dir_all(&args.data)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(golden) = &args.golden {
        let (ref_seconds, ref_mib) = reference_figures(&golden.join("MANIFEST.json"))?;
        let out = args.data.join("golden-out");
        let run = run_score(&golden.join("input"), &out, true, EPOCH)?;
        println!("golden dataset {}:", golden.display());
        println!(
            "  reference: {ref_seconds:.1} s, {ref_mib:.0} MiB; bridgenotes: {:.1} s, {:.0} MiB",
            run.seconds(),
            run.peak_mib()
        );
        println!(
            "  ratio: {:.0}x faster, {:.1}x less memory",
            ref_seconds / run.seconds(),
            ref_mib / run.peak_mib()
        );
        if let Some(reference) = &args.reference {
            println!("  the reference, run now on this machine:");
            let now = run_reference(&args.python, reference, golden, &args.data)?;
            // bridgenotes again, right after it, so both see the same machine state.
            let run = run_score(&golden.join("input"), &out, true, EPOCH)?;
            println!(
                "  reference: {:.1} s, {:.0} MiB; bridgenotes: {:.2} s, {:.0} MiB",
                now.seconds,
                now.peak_mib,
                run.seconds(),
                run.peak_mib()
            );
            println!(
                "  ratio: {:.0}x faster, {:.1}x less memory (side by side)",
                now.seconds / run.seconds(),
                now.peak_mib / run.peak_mib()
            );
            println!(
                "  the reference against its own recorded run: bridgenotes compare {} {}",
                args.data.join("golden-reference-out").display(),
                golden.join("reference-output").display()
            );
        }
    }
    for &ratings in &args.sizes {
        // Shapes like the public data: 2.5 M notes and 1.4 M raters at 206 M ratings.
        let notes = (ratings / 82).max(100);
        let raters = (ratings / 147).max(50);
        let dir = args.data.join(format!("synth-{ratings}"));
        if !dir.join("ratings-00000.tsv").exists() {
            let started = Instant::now();
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["synth", "--quiet", "--seed", "1"])
                .args(["--notes", &notes.to_string()])
                .args(["--raters", &raters.to_string()])
                .args(["--ratings", &ratings.to_string()])
                .arg("--out")
                .arg(&dir)
                .status()?;
            anyhow::ensure!(status.success(), "synth failed for {ratings} ratings");
            println!(
                "synthesized {ratings} ratings in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let started = Instant::now();
        streaming_pass(&dir.join("ratings-00000.tsv"))?;
        let pass = started.elapsed().as_secs_f64();
        let run = run_score(
            &dir,
            &args.data.join(format!("out-{ratings}")),
            false,
            EPOCH,
        )?;
        let total = run.seconds();
        println!(
            "\n{ratings} ratings ({notes} notes, {raters} raters), {} threads:",
            run.report["threads"]
        );
        println!(
            "  {:<44} {:>9} {:>7} {:>13} {:>11} {:>9}  passes per fit",
            "stage", "seconds", "share", "resident MiB", "ratings", "k/s"
        );
        for stage in run.report["stages"].as_array().into_iter().flatten() {
            let s = stage["seconds"].as_f64().unwrap_or(0.0);
            let resident = stage["resident_bytes"]
                .as_f64()
                .map_or("-".to_string(), |b| format!("{:.0}", b / (1024.0 * 1024.0)));
            let (scored, rate) = match stage["ratings"].as_f64() {
                Some(r) => (format!("{r:.0}"), format!("{:.0}", r / s.max(1e-9) / 1e3)),
                None => ("-".to_string(), "-".to_string()),
            };
            println!(
                "  {:<44} {s:>9.2} {:>6.1}% {resident:>13} {scored:>11} {rate:>9}  {}",
                stage["stage"].as_str().unwrap_or("?"),
                100.0 * s / total,
                fit_passes(stage)
            );
        }
        println!(
            "  total {total:.1} s; {:.0} k ratings/s per core; peak RSS {:.0} MiB",
            ratings as f64 / total / cores as f64 / 1e3,
            run.peak_mib()
        );
        println!(
            "  plain streaming pass over the ratings file: {pass:.2} s (score / pass = {:.0})",
            total / pass
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_passes_read_in_fit_order_with_the_diligence_rounds_together() {
        let stage = serde_json::json!({
            "stage": "scorer MFCoreScorer",
            "fit_passes": [
                {"fit": "first round", "passes": 75},
                {"fit": "final round", "passes": 40},
                {"fit": "low diligence 1", "passes": 286},
                {"fit": "low diligence 2", "passes": 169},
                {"fit": "low diligence 3", "passes": 36},
            ],
        });
        assert_eq!(
            fit_passes(&stage),
            "first round 75, final round 40, low diligence 286/169/36"
        );
        assert_eq!(fit_passes(&serde_json::json!({"stage": "write"})), "");
    }

    #[test]
    fn a_measured_process_reports_its_peak_memory() {
        // A shell that holds 32 MiB of text for half a second.
        let mut command = std::process::Command::new("sh");
        command.args([
            "-c",
            "x=$(head -c 33554432 /dev/zero | tr '\\0' a); sleep 0.5",
        ]);
        let figures = measure(command, "sh").unwrap();
        assert!(figures.seconds >= 0.5, "{figures:?}");
        assert!(figures.peak_mib >= 16.0, "{figures:?}");
        let failing = std::process::Command::new("false");
        assert!(measure(failing, "false").is_err());
    }

    /// The reference runs one process per phase, in order, on decompressed copies of the
    /// golden input, from its own folder; a stand-in `main.py` (run by `sh`) logs its calls.
    #[test]
    fn the_reference_runs_phase_by_phase_on_the_golden_input() {
        let golden =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/tiny-s1");
        let reference = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let log = work.path().join("calls.log");
        std::fs::write(
            reference.path().join("main.py"),
            format!("echo \"$(pwd) $WANDB_MODE $*\" >> {}\n", log.display()),
        )
        .unwrap();
        // The stand-in `main.py` files are shell scripts.
        let run = |folder: &std::path::Path| {
            run_reference(std::path::Path::new("sh"), folder, &golden, work.path())
        };
        let figures = run(reference.path()).unwrap();
        assert!(figures.seconds > 0.0);
        let calls = std::fs::read_to_string(&log).unwrap();
        let calls: Vec<&str> = calls.lines().collect();
        assert_eq!(calls.len(), 4, "{calls:?}");
        for (call, phase) in calls
            .iter()
            .zip(["pss", "prescoring", "final", "contributor"])
        {
            let reference_dir = reference.path().canonicalize().unwrap();
            assert!(
                call.starts_with(&format!("{} disabled ", reference_dir.display())),
                "{call}"
            );
            assert!(
                call.ends_with(&format!("--epoch-millis 1795132800000 --phase {phase}")),
                "{call}"
            );
            assert!(
                call.contains("golden-reference-in/ratings-00000.tsv --status"),
                "{call}"
            );
        }
        // The input, decompressed byte for byte.
        let notes = std::fs::read(work.path().join("golden-reference-in/notes-00000.tsv")).unwrap();
        let mut gz = Vec::new();
        bridgenotes_format::source::open(&golden.join("input/notes-00000.tsv.gz"))
            .unwrap()
            .read_to_end(&mut gz)
            .unwrap();
        assert_eq!(notes, gz);
        // A phase that fails names its log.
        std::fs::write(
            reference.path().join("main.py"),
            "echo broken >&2; exit 3\n",
        )
        .unwrap();
        let err = run(reference.path()).unwrap_err().to_string();
        assert!(
            err.contains("pss phase") && err.contains("golden-reference-pss.log"),
            "{err}"
        );
        let log = std::fs::read_to_string(work.path().join("golden-reference-pss.log")).unwrap();
        assert_eq!(log, "broken\n");
        // A folder without the reference in it is refused up front.
        let empty = tempfile::tempdir().unwrap();
        let err = run(empty.path()).unwrap_err();
        assert!(err.to_string().contains("no main.py"), "{err}");
    }

    #[test]
    fn manifest_wall_times_parse() {
        assert_eq!(wall_seconds("0:08.39"), Some(8.39));
        assert_eq!(wall_seconds("4:23.16"), Some(263.16));
        assert_eq!(wall_seconds("1:02:03"), Some(3723.0));
        assert_eq!(wall_seconds("x"), None);
    }
}
