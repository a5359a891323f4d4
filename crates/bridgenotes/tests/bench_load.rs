//! `bridgenotes bench-load`, briefly: a few raters for two seconds on SQLite and on
//! PostgreSQL (a database of its own), every rating acknowledged, none refused or lost.
//! (Throughput and latency are reported, never asserted: see BENCHMARKS.md for real runs.)

use std::process::Command;

use serde_json::Value;

fn load(database: &str, dir: &std::path::Path) -> Value {
    let report = dir.join("load.json");
    let output = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
        .args(["bench-load", "--quiet", "--clients", "4", "--seconds", "2"])
        .args([
            "--max-requests",
            "20000",
            "--notes",
            "12",
            "--database",
            database,
        ])
        .arg("--json")
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("requests/s"), "{stdout}");
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

fn assert_clean(report: &Value) {
    assert_eq!(report["errors"], 0, "{report}");
    assert!(report["ok"].as_u64().unwrap() >= 20, "{report}");
    assert!(report["p99_ms"].as_f64().unwrap() >= report["p50_ms"].as_f64().unwrap());
}

#[test]
fn a_short_load_on_sqlite_has_no_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("load.db");
    let report = load(db.to_str().unwrap(), dir.path());
    assert_clean(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_load_on_postgres_has_no_errors() {
    let (name, url) = bridgenotes_storage::testing::fresh_database("bench_load")
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (database test) must be reachable");
    let dir = tempfile::tempdir().unwrap();
    let report = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || load(&url, &dir)
    })
    .await
    .unwrap();
    bridgenotes_storage::testing::drop_database(&name)
        .await
        .unwrap();
    assert_clean(&report);
}
