//! Durability of `bridgenotes serve` under SIGKILL, on SQLite and PostgreSQL (a database of
//! its own per test):
//!
//! - Concurrent raters send ratings while the server is killed at seeded random moments and
//!   restarted; afterwards every rating the server acknowledged (2xx) is in the database with
//!   exactly the content of the last acknowledged write (or of the one write in flight at the
//!   kill), and nothing is half-written: every rating row references an existing note and
//!   contributor, and there are no rows nobody sent.
//! - A scoring run (`POST /api/admin/score`) is killed at seeded moments: the database then
//!   holds either the previous run's results unchanged or the complete new run, never a mix.
//!
//! The server's log output is checked for the tokens used (they must never appear).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bridgenotes_engine::rating::HELPFUL_TAGS;
use serde_json::{Value, json};

const ADMIN: &str = "durability-admin-token";

/// A small deterministic generator (SplitMix64) for the kill schedule and the clients.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The database a test runs on.
enum Db {
    Sqlite(std::path::PathBuf),
    /// A database of its own on the test server, dropped at the end.
    Postgres {
        url: String,
        name: String,
    },
}

impl Db {
    async fn postgres(test: &str) -> Db {
        let (name, url) =
            bridgenotes_storage::testing::fresh_database(&format!("durability_{test}"))
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (database test) must be reachable");
        Db::Postgres { url, name }
    }

    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => path.display().to_string(),
            Db::Postgres { url, .. } => url.clone(),
        }
    }

    async fn drop_database(&self) {
        if let Db::Postgres { name, .. } = self {
            bridgenotes_storage::testing::drop_database(name)
                .await
                .unwrap();
        }
    }

    /// Runs a query returning one text column (the same SQL on both databases).
    async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            Db::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        self.texts(&format!("SELECT CAST(({sql}) AS TEXT)")).await[0]
            .parse()
            .unwrap()
    }

    /// Checks the storage engine's own view of the file (SQLite) and referential integrity:
    /// every rating's rater exists, and with `api_only` (no imported public data, which
    /// holds ratings of notes deleted before the download) every rating's note.
    async fn assert_consistent(&self, api_only: bool) {
        if let Db::Sqlite(_) = self {
            assert_eq!(self.texts("PRAGMA integrity_check").await, ["ok"]);
            assert!(self.texts("PRAGMA foreign_key_check").await.is_empty());
        }
        let orphans = self
            .count(
                "SELECT COUNT(*) FROM ratings r
                 WHERE NOT EXISTS (SELECT 1 FROM contributors c WHERE c.id = r.rater_id)",
            )
            .await;
        assert_eq!(orphans, 0, "ratings by missing raters");
        if api_only {
            let orphans = self
                .count(
                    "SELECT COUNT(*) FROM ratings r
                     WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.id = r.note_id)",
                )
                .await;
            assert_eq!(orphans, 0, "ratings of missing notes");
        }
        let orphan_notes = self
            .count(
                "SELECT COUNT(*) FROM notes n
                 WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = n.post_id)
                    OR NOT EXISTS (SELECT 1 FROM contributors c WHERE c.id = n.author_id)",
            )
            .await;
        assert_eq!(orphan_notes, 0, "notes of missing posts or authors");
    }
}

/// A running `bridgenotes serve`.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(db: &Db, log: &Arc<Mutex<String>>) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
            .args(["serve", "--listen", "127.0.0.1:0", "--score-every", "0"])
            .args(["--rate-limit", "1000000", "--admin-token", ADMIN])
            .args(["--database", &db.url()])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let started = Instant::now();
        let base = loop {
            let line = lines.next().expect("the server logs its address").unwrap();
            log.lock().unwrap().push_str(&line);
            log.lock().unwrap().push('\n');
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
            assert!(started.elapsed() < Duration::from_secs(60), "server start");
        };
        let sink = Arc::clone(log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        Server {
            child,
            base,
            log: Arc::clone(log),
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .timeout(Duration::from_secs(120))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// A rating's content: level and tag bits (unique enough to tell writes apart).
type Content = (String, u32);

/// What one rater client knows of its ratings: per note, the last acknowledged content and
/// the writes whose answer it never got (sent after that acknowledgement).
#[derive(Default)]
struct Ledger {
    acknowledged: HashMap<i64, Content>,
    unknown: HashMap<i64, Vec<Content>>,
    acks: usize,
}

/// Rates random notes as one rater until the server stops answering or `until`.
async fn rater_client(
    base: String,
    token: String,
    notes: Vec<i64>,
    seed: u64,
    ledger: Arc<Mutex<Ledger>>,
    until: Instant,
) {
    let client = reqwest::Client::new();
    let mut rng = Rng(seed);
    while Instant::now() < until {
        let note = notes[rng.below(notes.len() as u64) as usize];
        let tags = 1 + rng.below(511) as u32;
        let level = if rng.below(2) == 0 {
            "HELPFUL"
        } else {
            "SOMEWHAT_HELPFUL"
        };
        let names: Vec<&str> = (0..9)
            .filter(|i| tags & (1 << i) != 0)
            .map(|i| HELPFUL_TAGS[i])
            .collect();
        let body = json!({"helpfulness_level": level, "tags": names});
        let content = (level.to_string(), tags);
        let url = format!("{base}/api/notes/{note}/rating");
        match send(&client, reqwest::Method::PUT, url, &token, body).await {
            Ok((200, _)) => {
                let mut ledger = ledger.lock().unwrap();
                ledger.acknowledged.insert(note, content);
                ledger.unknown.remove(&note);
                ledger.acks += 1;
            }
            Ok((status, body)) => panic!("rating refused: {status} {body}"),
            Err(_) => {
                // The server died with this request in flight: it may or may not be stored.
                let mut ledger = ledger.lock().unwrap();
                ledger.unknown.entry(note).or_default().push(content);
                return;
            }
        }
    }
}

/// Creates `writers` writers with three notes each and `raters` raters; returns the note ids
/// and the rater tokens with their participant ids.
async fn seed_community(base: &str, raters: usize) -> (Vec<i64>, Vec<(String, String)>) {
    let client = reqwest::Client::new();
    let contributor = |state: &'static str| {
        let client = client.clone();
        let url = format!("{base}/api/admin/contributors");
        async move {
            let (status, body) = send(
                &client,
                reqwest::Method::POST,
                url,
                ADMIN,
                json!({"enrollment_state": state}),
            )
            .await
            .unwrap();
            assert_eq!(status, 201, "{body}");
            (
                body["token"].as_str().unwrap().to_string(),
                body["contributor"]["participant_id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        }
    };
    let mut notes = Vec::new();
    for w in 0..3 {
        let (writer, _) = contributor("earnedIn").await;
        for p in 0..3 {
            let (status, post) = send(
                &client,
                reqwest::Method::POST,
                format!("{base}/api/posts"),
                &writer,
                json!({"external_id": format!("post-{w}-{p}"), "author_handle": format!("author{p}"),
                    "text": "A claim."}),
            )
            .await
            .unwrap();
            assert_eq!(status, 201, "{post}");
            let (status, note) = send(
                &client,
                reqwest::Method::POST,
                format!("{base}/api/notes"),
                &writer,
                json!({"post_id": post["id"], "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
                    "reasons": ["misleadingFactualError"], "summary": "See https://example.org/a"}),
            )
            .await
            .unwrap();
            assert_eq!(status, 201, "{note}");
            notes.push(note["id"].as_str().unwrap().parse().unwrap());
        }
    }
    let mut tokens = Vec::new();
    for _ in 0..raters {
        tokens.push(contributor("newUser").await);
    }
    (notes, tokens)
}

async fn acknowledged_ratings_survive_kills(db: Db, seed: u64) {
    const RATERS: usize = 6;
    const KILLS: usize = 5;
    let log = Arc::new(Mutex::new(String::new()));
    let server = Server::start(&db, &log);
    let (notes, raters) = seed_community(&server.base, RATERS).await;
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..RATERS).map(|_| Arc::default()).collect();
    let mut rng = Rng(seed);
    let mut server = Some(server);
    for kill in 0..KILLS {
        let running = server.take().unwrap_or_else(|| Server::start(&db, &log));
        // The clients run longer than the server lives: the kill lands mid-stream.
        let until = Instant::now() + Duration::from_secs(30);
        let clients: Vec<_> = raters
            .iter()
            .enumerate()
            .map(|(i, (token, _))| {
                tokio::spawn(rater_client(
                    running.base.clone(),
                    token.clone(),
                    notes.clone(),
                    seed ^ (((kill * RATERS + i) as u64) << 8),
                    Arc::clone(&ledgers[i]),
                    until,
                ))
            })
            .collect();
        let lifetime = Duration::from_millis(150 + rng.below(600));
        tokio::time::sleep(lifetime).await;
        running.kill();
        for client in clients {
            client.await.unwrap();
        }
    }

    // Read back with the server down, through a fresh process's view of the files.
    let rows = db
        .texts(
            "SELECT CAST(r.note_id AS TEXT) || ' ' || c.participant_id || ' ' ||
                r.helpfulness_level || ' ' || CAST(r.tags AS TEXT)
             FROM ratings r JOIN contributors c ON c.id = r.rater_id",
        )
        .await;
    let mut stored: BTreeMap<(i64, String), Content> = BTreeMap::new();
    for row in rows {
        let parts: Vec<&str> = row.split(' ').collect();
        stored.insert(
            (parts[0].parse().unwrap(), parts[1].to_string()),
            (parts[2].to_string(), parts[3].parse().unwrap()),
        );
    }
    let (mut acked, mut lost, mut sent_pairs) = (0, Vec::new(), HashSet::new());
    for (ledger, (_, participant)) in ledgers.iter().zip(&raters) {
        let ledger = ledger.lock().unwrap();
        acked += ledger.acks;
        for (&note, content) in &ledger.acknowledged {
            sent_pairs.insert((note, participant.clone()));
            let fine = stored.get(&(note, participant.clone())).is_some_and(|s| {
                s == content || ledger.unknown.get(&note).is_some_and(|u| u.contains(s))
            });
            if !fine {
                lost.push((note, participant.clone(), content.clone()));
            }
        }
        for (&note, contents) in &ledger.unknown {
            if let Some(s) = stored.get(&(note, participant.clone())) {
                assert!(
                    ledger.acknowledged.get(&note) == Some(s) || contents.contains(s),
                    "a rating nobody sent: {s:?}"
                );
            }
            sent_pairs.insert((note, participant.clone()));
        }
    }
    let unexpected: Vec<_> = stored.keys().filter(|k| !sent_pairs.contains(*k)).collect();
    eprintln!(
        "{}: {KILLS} kill points survived, {acked} ratings acknowledged, {} rating rows, {} lost",
        db.url(),
        stored.len(),
        lost.len()
    );
    assert!(
        acked > 20 * KILLS,
        "the clients got ratings through: {acked}"
    );
    assert!(lost.is_empty(), "acknowledged ratings lost: {lost:?}");
    assert!(
        unexpected.is_empty(),
        "rating rows nobody sent: {unexpected:?}"
    );
    db.assert_consistent(true).await;

    // The server still starts and works on the database.
    let server = Server::start(&db, &log);
    let client = reqwest::Client::new();
    let url = format!("{}/api/notes/{}/rating", server.base, notes[0]);
    let (status, _) = send(
        &client,
        reqwest::Method::PUT,
        url,
        &raters[0].0,
        json!({"helpfulness_level": "NOT_HELPFUL"}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let log_text = server.log.lock().unwrap().clone();
    server.kill();
    assert!(log_text.contains("listening on"));
    assert!(!log_text.contains(ADMIN), "the admin token was logged");
    for (token, _) in &raters {
        assert!(!log_text.contains(token.as_str()), "a token was logged");
    }
    db.drop_database().await;
}

/// The scoring tables, as text rows (what a killed run must leave as they were).
async fn scoring_state(db: &Db) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT CAST(id AS TEXT) || ' ' || CAST(notes AS TEXT) FROM scoring_runs ORDER BY id",
        "SELECT CAST(note_id AS TEXT) || ' ' || CAST(run_id AS TEXT) || ' ' ||
            COALESCE(final_rating_status, '-') || ' ' || COALESCE(decided_by, '-')
         FROM note_scores ORDER BY note_id",
        "SELECT CAST(note_id AS TEXT) || ' ' || COALESCE(current_status, '-') || ' ' ||
            COALESCE(CAST(timestamp_minute_of_final_scoring_output AS TEXT), '-')
         FROM note_status_history ORDER BY note_id",
        "SELECT CAST(contributor_id AS TEXT) || ' ' || CAST(run_id AS TEXT) || ' ' ||
            CAST(successful_rating_total AS TEXT) FROM rater_scores ORDER BY contributor_id",
        "SELECT participant_id || ' ' || CAST(rating_impact AS TEXT) || ' ' ||
            COALESCE(enrollment_state, '-') FROM contributors ORDER BY participant_id",
    ] {
        out.push(format!("-- {sql}"));
        out.extend(db.texts(sql).await);
    }
    out
}

/// Whether the scoring tables hold exactly one complete run: the latest.
async fn one_complete_run(db: &Db) {
    let latest = db.count("SELECT MAX(id) FROM scoring_runs").await;
    let notes = db
        .count("SELECT notes FROM scoring_runs WHERE id = (SELECT MAX(id) FROM scoring_runs)")
        .await;
    let scores = db.count("SELECT COUNT(*) FROM note_scores").await;
    let of_latest = db
        .count(&format!(
            "SELECT COUNT(*) FROM note_scores WHERE run_id = {latest}"
        ))
        .await;
    let raters_of_latest = db
        .count(&format!(
            "SELECT COUNT(*) FROM rater_scores WHERE run_id <> {latest}"
        ))
        .await;
    assert_eq!(
        (scores, of_latest),
        (notes, notes),
        "note scores of run {latest}"
    );
    assert_eq!(raters_of_latest, 0, "rater scores of an older run");
}

async fn killed_scoring_runs_change_nothing(db: Db, seed: u64) {
    const KILLS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("community");
    let bin = env!("CARGO_BIN_EXE_bridgenotes");
    let status = Command::new(bin)
        .args([
            "synth",
            "--quiet",
            "--notes",
            "600",
            "--raters",
            "300",
            "--ratings",
            "15000",
        ])
        .args(["--seed", "5", "--out"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success());
    let status = Command::new(bin)
        .args(["import", "--quiet", "--database", &db.url()])
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success());

    let log = Arc::new(Mutex::new(String::new()));
    let client = reqwest::Client::new();
    let score = |base: String| {
        let client = client.clone();
        async move {
            send(
                &client,
                reqwest::Method::POST,
                format!("{base}/api/admin/score"),
                ADMIN,
                json!({}),
            )
            .await
        }
    };
    // One complete run: the previous statuses, and how long a run takes.
    let server = Server::start(&db, &log);
    let started = Instant::now();
    let (status, body) = score(server.base.clone()).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let run_time = started.elapsed();
    server.kill();
    one_complete_run(&db).await;
    let mut previous = scoring_state(&db).await;
    assert!(previous.len() > 600, "the run stored its results");

    let mut rng = Rng(seed);
    let (mut kept, mut completed) = (0, 0);
    for _ in 0..KILLS {
        let runs_before = db.count("SELECT COUNT(*) FROM scoring_runs").await;
        let server = Server::start(&db, &log);
        let run = tokio::spawn(score(server.base.clone()));
        // Anywhere in the run, its end (storing the results) included.
        let at = run_time.mul_f64(0.05 + 1.1 * rng.below(1000) as f64 / 1000.0);
        tokio::time::sleep(at).await;
        server.kill();
        let answered = matches!(run.await.unwrap(), Ok((200, _)));
        one_complete_run(&db).await;
        db.assert_consistent(false).await;
        let now = scoring_state(&db).await;
        let runs = db.count("SELECT COUNT(*) FROM scoring_runs").await;
        if runs == runs_before {
            // Same runs: the killed run left no trace.
            assert!(!answered, "an acknowledged run was lost");
            assert_eq!(now, previous, "a killed run changed the scoring tables");
            kept += 1;
        } else {
            assert_eq!(runs, runs_before + 1);
            completed += 1;
            previous = now;
        }
    }
    eprintln!(
        "{}: {KILLS} scoring runs of {:.2} s killed ({kept} left the previous results, \
         {completed} had committed)",
        db.url(),
        run_time.as_secs_f64()
    );
    // A run after the kills completes.
    let server = Server::start(&db, &log);
    let (status, body) = score(server.base.clone()).await.unwrap();
    assert_eq!(status, 200, "{body}");
    server.kill();
    one_complete_run(&db).await;
    db.drop_database().await;
}

fn sqlite(dir: &Path) -> Db {
    Db::Sqlite(dir.join("durability.db"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_acknowledged_ratings() {
    let dir = tempfile::tempdir().unwrap();
    acknowledged_ratings_survive_kills(sqlite(dir.path()), 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_acknowledged_ratings() {
    acknowledged_ratings_survive_kills(Db::postgres("ratings").await, 12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_statuses_of_killed_scoring_runs() {
    let dir = tempfile::tempdir().unwrap();
    killed_scoring_runs_change_nothing(sqlite(dir.path()), 13).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_statuses_of_killed_scoring_runs() {
    killed_scoring_runs_change_nothing(Db::postgres("scoring").await, 14).await;
}
