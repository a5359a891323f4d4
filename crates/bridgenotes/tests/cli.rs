//! End-to-end runs of the `bridgenotes` binary.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bridgenotes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn golden(dataset: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden")
        .join(dataset)
}

fn first_line_gz(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines().next().unwrap().to_string()
}

const FILES: [&str; 5] = [
    "notes",
    "ratings",
    "noteStatusHistory",
    "userEnrollment",
    "noteRequests",
];

#[test]
fn synth_writes_golden_headers_identically_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str, out: &Path| {
        let out = out.to_str().unwrap();
        let args = [
            "synth",
            "--notes",
            "300",
            "--raters",
            "120",
            "--ratings",
            "6000",
            "--seed",
            "7",
            "--out",
            out,
            "--threads",
            threads,
            "--quiet",
        ];
        let result = bridgenotes(&args);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run("1", &one);
    run("2", &two);
    for name in FILES {
        let file = format!("{name}-00000.tsv");
        let a = std::fs::read(one.join(&file)).unwrap();
        let b = std::fs::read(two.join(&file)).unwrap();
        assert!(a == b, "{file} differs between 1 and 2 threads");
        let header = String::from_utf8_lossy(&a)
            .lines()
            .next()
            .unwrap()
            .to_string();
        let want = first_line_gz(&golden("tiny-s1").join("input").join(format!("{file}.gz")));
        assert_eq!(header, want, "{file} header");
    }
}

#[test]
fn synth_rejects_impossible_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let result = bridgenotes(&[
        "synth",
        "--notes",
        "0",
        "--raters",
        "10",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!result.status.success());
    assert!(!String::from_utf8_lossy(&result.stderr).is_empty());
}

fn score_args<'a>(input: &'a Path, out: &'a str, ratings: &'a str) -> Vec<String> {
    score_args_ext(input, "tsv.gz", out, ratings)
}

/// `score` arguments for the public files in `input` named `NAME-00000.{ext}`.
fn score_args_ext(input: &Path, ext: &str, out: &str, ratings: &str) -> Vec<String> {
    let file = |name: &str| {
        input
            .join(format!("{name}-00000.{ext}"))
            .to_string_lossy()
            .into_owned()
    };
    vec![
        "score".into(),
        "--quiet".into(),
        "-n".into(),
        file("notes"),
        "-r".into(),
        ratings.into(),
        "-s".into(),
        file("noteStatusHistory"),
        "-e".into(),
        file("userEnrollment"),
        "-o".into(),
        out.into(),
        "--epoch-millis".into(),
        "1795132800000".into(),
    ]
}

#[test]
fn score_reports_bad_input_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ratings.tsv");
    let header = first_line_gz(&golden("tiny-s1").join("input/ratings-00000.tsv.gz"));
    let mut row = vec!["123", "ABC", "not-a-time"];
    row.extend(std::iter::repeat_n("0", 32));
    std::fs::write(&bad, format!("{header}\n{}\n", row.join("\t"))).unwrap();
    let input = golden("tiny-s1").join("input");
    let out = dir.path().join("out");
    let args = score_args(&input, out.to_str().unwrap(), bad.to_str().unwrap());
    let result = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(
        stderr.contains("ratings.tsv:2")
            && stderr.contains("createdAtMillis")
            && stderr.contains("not-a-time"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written on error");
}

const OUTPUTS: [&str; 4] = [
    "scored_notes",
    "helpfulness_scores",
    "note_status_history",
    "aux_note_info",
];

fn run_score(out: &Path, threads: &str, extra: &[&str]) {
    let input = golden("tiny-s1").join("input");
    let ratings = input.join("ratings-00000.tsv.gz");
    let mut args = score_args(&input, out.to_str().unwrap(), ratings.to_str().unwrap());
    args.extend(["--threads".to_string(), threads.to_string()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let result = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn score_writes_the_reference_files_with_their_exact_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_score(&out, "2", &[]);
    for name in OUTPUTS {
        let ours = std::fs::read_to_string(out.join(format!("{name}.tsv"))).unwrap();
        let theirs =
            first_line_gz(&golden("tiny-s1").join(format!("reference-output/{name}.tsv.gz")));
        assert_eq!(ours.lines().next().unwrap(), theirs, "{name} header");
        let width = theirs.split('\t').count();
        assert!(
            ours.lines().all(|l| l.split('\t').count() == width),
            "{name}: every row has {width} cells"
        );
    }
    let rows = std::fs::read_to_string(out.join("scored_notes.tsv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 1001, "one row per note");
}

/// Threads and the memory budget change only the schedule: one scorer at a time (a budget
/// of one byte), or as many as there are threads (no budget).
#[test]
fn score_is_byte_identical_on_any_thread_count_and_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    run_score(&one, "1", &[]);
    for (name, threads, extra) in [
        ("two", "2", &["--memory-budget", "none"]),
        ("budget", "2", &["--memory-budget", "1"]),
    ] {
        let other = dir.path().join(name);
        run_score(&other, threads, extra);
        for output in OUTPUTS {
            let file = format!("{output}.tsv");
            assert!(
                std::fs::read(one.join(&file)).unwrap()
                    == std::fs::read(other.join(&file)).unwrap(),
                "{name}: {file}"
            );
        }
    }
}

#[test]
fn demo_scores_a_synthetic_community() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let result = bridgenotes(&[
        "demo",
        "--quiet",
        "--no-serve",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("statuses:") && stdout.contains("helpful"),
        "{stdout}"
    );
    for name in OUTPUTS {
        let text = std::fs::read_to_string(out.join(format!("output/{name}.tsv"))).unwrap();
        assert!(text.lines().count() > 100, "{name} has rows");
    }
    assert!(out.join("input/ratings-00000.tsv").exists());
}

/// Communities too small for most models (some scorers keep no rating after their filters)
/// still score, with pseudo-rater refits on.
#[test]
fn score_handles_communities_too_small_for_most_models() {
    let dir = tempfile::tempdir().unwrap();
    for (notes, raters, ratings) in [("12", "8", "60"), ("40", "25", "300"), ("80", "40", "900")] {
        let input = dir.path().join(format!("in-{notes}"));
        let result = bridgenotes(&[
            "synth",
            "--notes",
            notes,
            "--raters",
            raters,
            "--ratings",
            ratings,
            "--seed",
            "3",
            "--out",
            input.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let out = dir.path().join(format!("out-{notes}"));
        let ratings = input.join("ratings-00000.tsv");
        let mut args = score_args_ext(
            &input,
            "tsv",
            out.to_str().unwrap(),
            ratings.to_str().unwrap(),
        );
        args.push("--pseudoraters".into());
        let result = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "{notes} notes: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let rows = std::fs::read_to_string(out.join("scored_notes.tsv"))
            .unwrap()
            .lines()
            .count();
        assert!(rows > 1, "{notes} notes: scored notes written");
    }
}

/// `--scorers` runs only the named scorers; `--timings` reports each stage, its memory and a
/// scorer's fit passes, and the peak memory.
#[test]
fn score_runs_chosen_scorers_and_reports_stage_timings() {
    let dir = tempfile::tempdir().unwrap();
    let input = golden("tiny-s1").join("input");
    let out = dir.path().join("out");
    let timings = dir.path().join("timings.json");
    let ratings = input.join("ratings-00000.tsv.gz");
    let mut args = score_args(&input, out.to_str().unwrap(), ratings.to_str().unwrap());
    args.extend([
        "--scorers".into(),
        "MFCoreScorer".into(),
        "--timings".into(),
        timings.display().to_string(),
    ]);
    let result = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&timings).unwrap()).unwrap();
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"scorer MFCoreScorer"), "{stages:?}");
    assert!(
        !stages.iter().any(|s| s.contains("Expansion")),
        "{stages:?}"
    );
    assert!(report["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
    for stage in report["stages"].as_array().unwrap() {
        let resident = stage["resident_bytes"].as_u64().unwrap();
        assert!(resident > 1 << 20, "{stage}");
        assert!(
            resident <= report["peak_rss_bytes"].as_u64().unwrap(),
            "{stage}"
        );
    }
    assert_eq!(report["ratings"].as_u64(), Some(20_800));
    // The scorer's stage names its ratings and the passes of each prescoring fit.
    let core = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "scorer MFCoreScorer")
        .unwrap();
    let scorer_ratings = core["ratings"].as_u64().unwrap();
    assert!(
        scorer_ratings > 10_000 && scorer_ratings <= 20_800,
        "{core}"
    );
    let fits: Vec<(&str, u64)> = core["fit_passes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["fit"].as_str().unwrap(), f["passes"].as_u64().unwrap()))
        .collect();
    let names: Vec<&str> = fits.iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "first round",
            "final round",
            "low diligence 1",
            "low diligence 2",
            "low diligence 3"
        ]
    );
    assert!(fits.iter().all(|f| f.1 >= 1), "{fits:?}");
    let scored = std::fs::read_to_string(out.join("scored_notes.tsv")).unwrap();
    let header: Vec<&str> = scored.lines().next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (core, expansion) = (column("coreRatingStatus"), column("expansionRatingStatus"));
    let rows: Vec<Vec<&str>> = scored
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(rows.iter().any(|r| !r[core].is_empty()));
    assert!(rows.iter().all(|r| r[expansion].is_empty()));
}

/// A plain HTTP/1.1 GET over loopback: the status line and the body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// `bridgenotes demo` serves the seeded community: the scenario's post and its context
/// note (decided by the bridging model) are on the pages.
#[test]
fn demo_serves_the_seeded_community() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args([
            "demo",
            "--quiet",
            "--listen",
            "127.0.0.1:0",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let (mut base, mut post, mut note) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("serving http://").nth(1) {
            base = rest.split('/').next().map(str::to_string);
        }
        if let Some(rest) = line.split("the scenario: http://").nth(1) {
            post = rest.split_once('/').map(|(_, p)| format!("/{p}"));
        }
        if let Some(rest) = line.split("why this status: http://").nth(1) {
            note = rest.split_once('/').map(|(_, p)| format!("/{p}"));
        }
        printed.push(line);
        if base.is_some() && post.is_some() && note.is_some() {
            break;
        }
    }
    let check = || {
        let base = base.clone().expect("the URL is printed");
        let (status, body) = http_get(&base, "/");
        assert!(status.contains("200"), "{status}");
        assert!(body.contains("Needs your help"));
        let (status, body) = http_get(&base, post.as_deref().unwrap());
        assert!(status.contains("200"), "{status}");
        assert!(body.contains("threat to democracy"));
        assert!(body.contains("54% of the vote"));
        let (status, body) = http_get(&base, note.as_deref().unwrap());
        assert!(status.contains("200"), "{status}");
        assert!(body.contains("viewpoint-plot"));
        // Both camps rate the context note helpful: the core (bridging) model rates it
        // helpful with a small factor (the final status may still be held in stabilization).
        assert!(
            body.contains("Core model's status</th><td>CURRENTLY_RATED_HELPFUL"),
            "the bridging model rates the context note helpful"
        );
        let (status, _) = http_get(&base, "/timeline/helpful");
        assert!(status.contains("200"), "{status}");
    };
    let result = std::panic::catch_unwind(check);
    child.kill().ok();
    child.wait().ok();
    assert!(result.is_ok(), "demo output: {printed:#?}");
}

#[test]
fn bench_score_reports_stages_and_the_reference_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let golden = golden("tiny-s1");
    let result = bridgenotes(&[
        "bench-score",
        "--sizes",
        "3000",
        "--data",
        dir.path().to_str().unwrap(),
        "--golden",
        golden.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for expected in [
        "reference: 207.9 s, 818 MiB",
        "x faster",
        "3000 ratings",
        "scorer MFCoreScorer",
        "ratings/s per core",
        "streaming pass",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in {stdout}");
    }
}
