//! End-to-end runs of `bridgenotes compare` on the golden reference outputs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bridgenotes(ours: &Path, theirs: &Path, flags: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .arg("compare")
        .arg(ours)
        .arg(theirs)
        .args(flags)
        .output()
        .expect("the binary runs")
}

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/tiny-s1/reference-output")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(ours: &Path, theirs: &Path) -> Value {
    let out = bridgenotes(ours, theirs, &["--json"]);
    serde_json::from_str(&stdout(&out)).expect("--json prints JSON")
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// A golden output file as header and rows of cells (the golden files have no quoting).
fn read_gz(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut text = String::new();
    let file = std::fs::File::open(reference().join(format!("{name}.tsv.gz"))).unwrap();
    flate2::read::MultiGzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>());
    (lines.next().unwrap(), lines.collect())
}

fn write_tsv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut text = header.join("\t");
    for row in rows {
        text.push('\n');
        text.push_str(&row.join("\t"));
    }
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

/// Checks that every comparison in a report of a folder against itself agrees fully.
fn assert_full_agreement(r: &Value) {
    let sn = &r["scored_notes"];
    assert_eq!(n(&sn["overlap"]["both"]), 1000);
    assert_eq!(
        n(&sn["overlap"]["only_ours"]) + n(&sn["overlap"]["only_theirs"]),
        0
    );
    let statuses = std::iter::once(&sn["final_rating_status"])
        .chain(sn["rating_statuses"].as_array().unwrap())
        .chain([&sn["decided_by"]]);
    for s in statuses {
        assert_eq!(s["agree"], s["compared"], "{}", s["column"]);
        assert!(n(&s["compared"]) > 0, "{}", s["column"]);
    }
    assert_eq!(sn["final_rating_status"]["agree_pct"], 100.0);
    assert_eq!(n(&sn["final_rating_status"]["compared"]), 1000);
    assert_eq!(sn["rating_statuses"].as_array().unwrap().len(), 10);
    let models = sn["models"].as_array().unwrap();
    assert_eq!(models.len(), 10);
    let mut correlated = 0;
    for m in models {
        for p in [&m["intercept"], &m["factor1"]] {
            assert_eq!(n(&p["only_ours"]) + n(&p["only_theirs"]), 0);
            if n(&p["both"]) > 1 {
                assert_eq!(p["pearson_r"], 1.0, "{}", p["column"]);
                assert_eq!(p["max_abs_diff"], 0.0, "{}", p["column"]);
                assert_eq!(p["max_abs_diff_key"], Value::Null, "{}", p["column"]);
                correlated += 1;
            }
        }
    }
    assert_eq!(correlated, 20, "every model has values on tiny-s1");
    assert_eq!(n(&sn["disagreements_total"]), 0);

    let hs = &r["helpfulness_scores"];
    assert_eq!(n(&hs["overlap"]["both"]), 301);
    let above = &hs["above_helpfulness_threshold"];
    assert_eq!(above["agree"], above["compared"]);
    assert_eq!(above["agree_pct"], 100.0);
    for p in hs["parameters"].as_array().unwrap() {
        assert_eq!(p["pearson_r"], 1.0);
        assert_eq!(p["max_abs_diff"], 0.0);
    }
    for name in ["note_status_history", "aux_note_info"] {
        let t = &r[name];
        assert_eq!(n(&t["overlap"]["both"]), 1000, "{name}");
        for c in t["columns"].as_array().unwrap() {
            assert_eq!(c["agree"], c["compared"], "{name} {}", c["column"]);
        }
    }
}

#[test]
fn the_reference_agrees_with_itself() {
    let golden = reference();
    let r = json(&golden, &golden);
    assert_full_agreement(&r);
    assert_eq!(
        r["note_status_history"]["columns"]
            .as_array()
            .unwrap()
            .len(),
        23
    );
    // Text columns of aux_note_info are compared too (exactly), numbers with their r.
    let aux = r["aux_note_info"]["columns"].as_array().unwrap();
    let column = |name: &str| aux.iter().find(|c| c["column"] == name).unwrap();
    assert_eq!(column("currentStatus")["kind"], "text");
    assert_eq!(column("pcrhFinalPred")["kind"], "text");
    assert_eq!(column("pcrhExitProba")["pearson_r"], 1.0);
    // Scored notes' other text columns: every model's active rules, the tags, topics.
    let other = r["scored_notes"]["other_text_columns"].as_array().unwrap();
    let names: Vec<&str> = other
        .iter()
        .map(|c| c["column"].as_str().unwrap())
        .collect();
    for name in [
        "coreActiveRules",
        "activeFilterTags",
        "firstTag",
        "noteTopic",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(!names.contains(&"coreRatingStatus") && !names.contains(&"decidedBy"));
    for c in other {
        assert_eq!(c["agree"], c["compared"], "{}", c["column"]);
    }

    let text = stdout(&bridgenotes(&golden, &golden, &[]));
    assert!(
        text.contains("finalRatingStatus: 1000 of 1000 agree (100.00%)"),
        "{text}"
    );
    assert!(
        text.contains("finalRatingStatus disagreements: 0"),
        "{text}"
    );
    assert!(text.contains("== helpfulness_scores (keyed by raterParticipantId)"));
    let core = text
        .lines()
        .find(|l| l.trim_start().starts_with("coreNoteIntercept "))
        .expect("a core intercept row");
    assert!(core.contains("1.000000"), "{core}");
}

#[test]
fn altered_statuses_and_parameters_are_detected_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let altered = dir.path();

    // scored_notes: two final statuses, one core intercept.
    let (header, mut rows) = read_gz("scored_notes");
    let (status, intercept) = (
        col(&header, "finalRatingStatus"),
        col(&header, "coreNoteIntercept"),
    );
    let nmr = rows
        .iter()
        .position(|r| r[status] == "NEEDS_MORE_RATINGS" && !r[intercept].is_empty())
        .unwrap();
    let crh = rows
        .iter()
        .position(|r| r[status] == "CURRENTLY_RATED_HELPFUL")
        .unwrap();
    let moved = rows.iter().rposition(|r| !r[intercept].is_empty()).unwrap();
    assert!(moved != nmr && moved != crh);
    rows[nmr][status] = "CURRENTLY_RATED_HELPFUL".into();
    rows[crh][status] = "CURRENTLY_RATED_NOT_HELPFUL".into();
    let old: f64 = rows[moved][intercept].parse().unwrap();
    rows[moved][intercept] = format!("{}", old + 0.5);
    let note = |i: usize| rows[i][0].clone();
    let (nmr_id, crh_id, moved_id) = (note(nmr), note(crh), note(moved));
    let our_intercept: f64 = rows[nmr][intercept].parse().unwrap();
    write_tsv(&altered.join("scored_notes.tsv"), &header, &rows);

    // helpfulness_scores: one threshold flag, one rater intercept.
    let (header, mut rows) = read_gz("helpfulness_scores");
    let (above, rater_intercept) = (
        col(&header, "aboveHelpfulnessThreshold"),
        col(&header, "coreRaterIntercept"),
    );
    let flipped = rows.iter().position(|r| r[above] == "True").unwrap();
    rows[flipped][above] = "False".into();
    let shifted = rows
        .iter()
        .rposition(|r| !r[rater_intercept].is_empty())
        .unwrap();
    let old: f64 = rows[shifted][rater_intercept].parse().unwrap();
    rows[shifted][rater_intercept] = format!("{}", old + 0.25);
    let (flipped_id, shifted_id) = (rows[flipped][0].clone(), rows[shifted][0].clone());
    write_tsv(&altered.join("helpfulness_scores.tsv"), &header, &rows);

    // note_status_history: one status and one timestamp beyond the tolerance, and two
    // changes within it (1 ms on 1.8e12; integral text for a float).
    let (header, mut rows) = read_gz("note_status_history");
    let (current, ts, created) = (
        col(&header, "currentStatus"),
        col(&header, "timestampMillisOfCurrentStatus"),
        col(&header, "createdAtMillis"),
    );
    let c: f64 = rows[20][created].parse().unwrap();
    rows[20][created] = format!("{:.1}", c + 1.0);
    rows[30][ts] = rows[30][ts].trim_end_matches(".0").to_string();
    let changed = rows
        .iter()
        .position(|r| r[current] == "NEEDS_MORE_RATINGS")
        .unwrap();
    rows[changed][current] = "CURRENTLY_RATED_NOT_HELPFUL".into();
    rows[changed][ts] = "1795142800000.0".into();
    let changed_id = rows[changed][0].clone();
    write_tsv(&altered.join("note_status_history.tsv"), &header, &rows);

    // aux_note_info: copied as it is, gzipped.
    std::fs::copy(
        reference().join("aux_note_info.tsv.gz"),
        altered.join("aux_note_info.tsv.gz"),
    )
    .unwrap();

    let r = json(&reference(), altered);
    let sn = &r["scored_notes"];
    let f = &sn["final_rating_status"];
    assert_eq!((n(&f["compared"]), n(&f["agree"])), (1000, 998));
    let labels: Vec<&str> = f["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "CURRENTLY_RATED_HELPFUL",
            "CURRENTLY_RATED_NOT_HELPFUL",
            "NEEDS_MORE_RATINGS"
        ]
    );
    assert_eq!(
        f["matrix"],
        serde_json::json!([[82, 1, 0], [0, 154, 0], [1, 0, 762]])
    );
    assert_eq!(n(&sn["disagreements_total"]), 2);
    let mut ids: Vec<&str> = sn["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["note_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![nmr_id.as_str(), crh_id.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let d = sn["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["note_id"] == nmr_id.as_str())
        .unwrap();
    assert_eq!(d["status_ours"], "NEEDS_MORE_RATINGS");
    assert_eq!(d["status_theirs"], "CURRENTLY_RATED_HELPFUL");
    assert_eq!(d["decided_by_ours"], d["decided_by_theirs"]);
    assert_eq!(d["core_intercept_ours"], our_intercept);
    assert!(d["threshold_distance"].as_f64().unwrap() >= 0.0);
    for s in sn["rating_statuses"].as_array().unwrap() {
        assert_eq!(s["agree"], s["compared"], "{}", s["column"]);
    }
    assert_eq!(sn["decided_by"]["agree"], sn["decided_by"]["compared"]);
    for m in sn["models"].as_array().unwrap() {
        for p in [&m["intercept"], &m["factor1"]] {
            if p["column"] == "coreNoteIntercept" {
                let diff = p["max_abs_diff"].as_f64().unwrap();
                assert!((diff - 0.5).abs() < 1e-6, "{diff}");
                assert_eq!(p["max_abs_diff_key"], moved_id.as_str());
                assert!(p["pearson_r"].as_f64().unwrap() < 1.0);
            } else if n(&p["both"]) > 1 {
                assert_eq!(p["max_abs_diff"], 0.0, "{}", p["column"]);
            }
        }
    }

    let hs = &r["helpfulness_scores"];
    let a = &hs["above_helpfulness_threshold"];
    assert_eq!(n(&a["compared"]) - n(&a["agree"]), 1);
    assert_eq!(a["labels"], serde_json::json!(["False", "True"]));
    assert_eq!(
        a["matrix"][1][0], 1,
        "True in ours, False in theirs: {flipped_id}"
    );
    let params = hs["parameters"].as_array().unwrap();
    assert_eq!(params[0]["column"], "coreRaterIntercept");
    assert!((params[0]["max_abs_diff"].as_f64().unwrap() - 0.25).abs() < 1e-6);
    assert_eq!(params[0]["max_abs_diff_key"], shifted_id.as_str());
    assert_eq!(params[1]["max_abs_diff"], 0.0);
    assert_eq!(params[1]["pearson_r"], 1.0);

    for c in r["note_status_history"]["columns"].as_array().unwrap() {
        let name = c["column"].as_str().unwrap();
        let lost = n(&c["compared"]) - n(&c["agree"]);
        if name == "currentStatus" || name == "timestampMillisOfCurrentStatus" {
            assert_eq!(lost, 1, "{name}");
            assert_eq!(c["first_difference"]["key"], changed_id.as_str());
        } else {
            assert_eq!(lost, 0, "{name}");
        }
    }
    for c in r["aux_note_info"]["columns"].as_array().unwrap() {
        assert_eq!(c["agree"], c["compared"]);
    }
    assert!(
        r["files"][0]["theirs"]
            .as_str()
            .unwrap()
            .ends_with("scored_notes.tsv")
    );
    assert!(
        r["files"][3]["theirs"]
            .as_str()
            .unwrap()
            .ends_with("aux_note_info.tsv.gz")
    );

    let text = stdout(&bridgenotes(&reference(), altered, &[]));
    assert!(
        text.contains("finalRatingStatus: 998 of 1000 agree (99.80%)"),
        "{text}"
    );
    assert!(
        text.contains("finalRatingStatus disagreements: 2 (showing 2"),
        "{text}"
    );
    for id in [&nmr_id, &crh_id] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(id.as_str())),
            "{id} listed"
        );
    }

    // --limit 1 lists one of the two.
    let out = bridgenotes(&reference(), altered, &["--json", "--limit", "1"]);
    let r: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        r["scored_notes"]["disagreements"].as_array().unwrap().len(),
        1
    );
    assert_eq!(n(&r["scored_notes"]["disagreements_total"]), 2);

    // A missing file is reported, not an error.
    std::fs::remove_file(altered.join("aux_note_info.tsv.gz")).unwrap();
    let r = json(&reference(), altered);
    assert_eq!(r["files"][3]["theirs"], Value::Null);
    assert_eq!(r["aux_note_info"], Value::Null);
    assert!(r["scored_notes"].is_object());
    let text = stdout(&bridgenotes(&reference(), altered, &[]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("aux_note_info") && l.ends_with("MISSING")),
        "{text}"
    );
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("scored_notes.tsv");
    std::fs::write(
        &bad,
        "noteId\tfinalRatingStatus\n1\tNEEDS_MORE_RATINGS\textra\n",
    )
    .unwrap();
    let out = bridgenotes(&reference(), dir.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&*bad.to_string_lossy()) && err.contains(":2:"),
        "{err}"
    );

    let gone = dir.path().join("no-such-folder");
    let out = bridgenotes(&reference(), &gone, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-folder"));
}
