//! `import` then `export` keeps everything the scorer reads: scoring the export gives the
//! same statuses as scoring the original download (golden dataset tiny-s1).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bridgenotes(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "bridgenotes {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn golden_input() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/tiny-s1/input")
}

fn score(input: &Path, ext: &str, out: &Path) -> BTreeMap<String, String> {
    let file = |name: &str| input.join(format!("{name}-00000.{ext}"));
    bridgenotes(&[
        "score",
        "--quiet",
        "--epoch-millis",
        "1795132800000",
        "-n",
        file("notes").to_str().unwrap(),
        "-r",
        file("ratings").to_str().unwrap(),
        "-s",
        file("noteStatusHistory").to_str().unwrap(),
        "-e",
        file("userEnrollment").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(out.join("scored_notes.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let id = header.iter().position(|c| *c == "noteId").unwrap();
    let status = header
        .iter()
        .position(|c| *c == "finalRatingStatus")
        .unwrap();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (cells[id].to_string(), cells[status].to_string())
        })
        .collect()
}

#[test]
fn import_export_score_round_trip_keeps_every_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("community.db");
    let db = db.to_str().unwrap();
    let export = dir.path().join("export");
    bridgenotes(&[
        "import",
        "--quiet",
        golden_input().to_str().unwrap(),
        "--database",
        db,
    ]);
    bridgenotes(&[
        "export",
        "--quiet",
        "--out",
        export.to_str().unwrap(),
        "--database",
        db,
    ]);
    let original = score(
        &golden_input(),
        "tsv.gz",
        &dir.path().join("scored-original"),
    );
    let round_trip = score(&export, "tsv", &dir.path().join("scored-export"));
    assert!(original.len() > 900, "{} notes scored", original.len());
    let differing: Vec<_> = original
        .iter()
        .filter(|(id, status)| round_trip.get(*id) != Some(status))
        .take(10)
        .collect();
    assert!(differing.is_empty(), "statuses differ: {differing:?}");
    assert_eq!(original.len(), round_trip.len());
}
