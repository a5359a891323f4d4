//! Crash safety of `bridgenotes score`: the process is SIGKILLed at points spread over a run;
//! every output file must then be either its previous version or the complete new one (never
//! a partial file), and the next run must complete with the right output and no leftovers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const OUTPUTS: [&str; 4] = [
    "scored_notes.tsv",
    "helpfulness_scores.tsv",
    "note_status_history.tsv",
    "aux_note_info.tsv",
];

fn golden_input() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/tiny-s1/input")
}

fn score_command(input: &Path, ext: &str, out: &Path) -> Command {
    let file = |name: &str| input.join(format!("{name}-00000.{ext}"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_bridgenotes"));
    command
        .args(["score", "--quiet", "--epoch-millis", "1795132800000", "-n"])
        .arg(file("notes"))
        .arg("-r")
        .arg(file("ratings"))
        .arg("-s")
        .arg(file("noteStatusHistory"))
        .arg("-e")
        .arg(file("userEnrollment"))
        .arg("-o")
        .arg(out);
    command
}

fn read_outputs(dir: &Path) -> Vec<Vec<u8>> {
    OUTPUTS
        .iter()
        .map(|name| std::fs::read(dir.join(name)).unwrap())
        .collect()
}

/// A complete output file: the new file's header and row count, every row full width. (Bytes
/// may differ from `new` only in `rescoringActiveRules`, which reads the wall clock.)
fn complete_like(file: &[u8], new: &[u8]) -> bool {
    let (file, new) = (String::from_utf8_lossy(file), String::from_utf8_lossy(new));
    let header = new.lines().next().unwrap_or_default();
    let width = header.split('\t').count();
    file.ends_with('\n')
        && file.lines().next() == Some(header)
        && file.lines().count() == new.lines().count()
        && file.lines().all(|l| l.split('\t').count() == width)
}

#[test]
fn killed_runs_leave_previous_or_complete_outputs() {
    let dir = tempfile::tempdir().unwrap();
    // Previous outputs: a different (synthetic) community, so old and new files differ.
    let synth = dir.path().join("synth");
    let status = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(["synth", "--quiet", "--notes", "200", "--raters", "80"])
        .args(["--ratings", "3000", "--seed", "5", "--out"])
        .arg(&synth)
        .status()
        .unwrap();
    assert!(status.success());
    let previous_dir = dir.path().join("previous");
    assert!(
        score_command(&synth, "tsv", &previous_dir)
            .status()
            .unwrap()
            .success()
    );
    let previous = read_outputs(&previous_dir);
    // The complete new outputs, and how long a run takes.
    let new_dir = dir.path().join("new");
    let started = Instant::now();
    assert!(
        score_command(&golden_input(), "tsv.gz", &new_dir)
            .status()
            .unwrap()
            .success()
    );
    let duration = started.elapsed();
    let new = read_outputs(&new_dir);

    let out = dir.path().join("out");
    let (mut kept_previous, mut got_new) = (0, 0);
    for point in 0..10u32 {
        std::fs::create_dir_all(&out).unwrap();
        for (name, bytes) in OUTPUTS.iter().zip(&previous) {
            std::fs::write(out.join(name), bytes).unwrap();
        }
        let mut child = score_command(&golden_input(), "tsv.gz", &out)
            .spawn()
            .unwrap();
        std::thread::sleep(duration.mul_f64(f64::from(point) / 8.0) + Duration::from_millis(5));
        let _ = child.kill();
        child.wait().unwrap();
        for (k, name) in OUTPUTS.iter().enumerate() {
            let now = std::fs::read(out.join(name)).unwrap();
            if now == previous[k] {
                kept_previous += 1;
            } else if complete_like(&now, &new[k]) {
                got_new += 1;
            } else {
                panic!("kill point {point}: {name} is neither the previous nor the new file");
            }
        }
    }
    println!("files kept previous: {kept_previous}, complete new: {got_new}");
    assert!(
        kept_previous > 0,
        "some kills landed before the outputs were replaced"
    );
    // The next run completes, matches, and leaves no temporary files behind.
    assert!(
        score_command(&golden_input(), "tsv.gz", &out)
            .status()
            .unwrap()
            .success()
    );
    for (now, new) in read_outputs(&out).iter().zip(&new) {
        assert!(complete_like(now, new));
    }
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
