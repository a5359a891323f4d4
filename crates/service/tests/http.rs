//! HTTP-level tests: the real server on an ephemeral loopback port, a real database (an
//! SQLite file, and a fresh schema of the PostgreSQL test database, which must be
//! reachable), a test clock, and an HTTP client.

use std::sync::Arc;

use bridgenotes_service::api::{CreatedContributor, NoteOut, PostOut, RunOut};
use bridgenotes_service::clock::TestClock;
use bridgenotes_service::{AppState, Config, serve};
use bridgenotes_storage::Store;
use bridgenotes_storage::sqlite::SqliteStore;
use bridgenotes_storage::testing::{drop_schema, fresh_postgres};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin-secret";
const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// 2026-11-21, in milliseconds.
const T0: i64 = 1_795_132_800_000;

/// Where a test server's database lives, so tests can read every table back.
enum Db {
    /// The SQLite file.
    Sqlite(std::path::PathBuf),
    /// The schema of the PostgreSQL test database.
    Postgres(String),
}

impl Db {
    /// Every row of every table, as text, tables by name and rows sorted: two dumps are
    /// equal exactly when the database holds the same data.
    async fn dump(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Db::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                )
                .fetch_all(&pool)
                .await
                .unwrap();
                for table in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                            .bind(&table)
                            .fetch_all(&pool)
                            .await
                            .unwrap();
                    // Table and column names come from the schema itself.
                    let row = columns
                        .iter()
                        .map(|c| format!("quote(\"{c}\")"))
                        .collect::<Vec<_>>()
                        .join(" || '|' || ");
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT {row} FROM \"{table}\" ORDER BY 1"))
                            .fetch_all(&pool)
                            .await
                            .unwrap();
                    out.push(format!("table {table}"));
                    out.extend(rows);
                }
                pool.close().await;
            }
            Db::Postgres(schema) => {
                let options: sqlx::postgres::PgConnectOptions =
                    bridgenotes_storage::testing::postgres_url()
                        .parse()
                        .unwrap();
                let pool = sqlx::PgPool::connect_with(options).await.unwrap();
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = $1 ORDER BY table_name",
                )
                .bind(schema)
                .fetch_all(&pool)
                .await
                .unwrap();
                for table in tables {
                    let mut rows: Vec<String> = sqlx::query_scalar(&format!(
                        "SELECT t::text FROM \"{schema}\".\"{table}\" t"
                    ))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                    rows.sort();
                    out.push(format!("table {table}"));
                    out.extend(rows);
                }
                pool.close().await;
            }
        }
        out
    }
}

/// A running server and a client for it.
struct Server {
    base: String,
    client: reqwest::Client,
    clock: TestClock,
    db: Db,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    async fn start(store: Arc<dyn Store>, db: Db) -> Server {
        Self::start_with(store, db, 10_000.0, 10_000.0).await
    }

    /// A server whose tokens may make `burst` requests at once and `rate` per second.
    async fn start_with(store: Arc<dyn Store>, db: Db, rate: f64, burst: f64) -> Server {
        let clock = TestClock::new(T0);
        let config = Config {
            admin_token: Some(ADMIN.to_string()),
            rate_per_second: rate,
            rate_burst: burst,
            ..Config::default()
        };
        let state = AppState::new(store, Arc::new(clock.clone()), config)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, state, async {
            rx.await.ok();
        }));
        Server {
            base,
            client: reqwest::Client::new(),
            clock,
            db,
            _shutdown: tx,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn contributor(&self, state: &str) -> (String, String) {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/api/admin/contributors",
                Some(ADMIN),
                Some(json!({ "enrollment_state": state })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let created: CreatedContributor = serde_json::from_value(body).unwrap();
        (created.contributor.participant_id, created.token)
    }

    async fn post(&self, token: &str, author: &str) -> String {
        let external = format!("{author}-{}", self.clock_now());
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/api/posts",
                Some(token),
                Some(json!({"external_id": external, "author_handle": author, "text": "A claim."})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let post: PostOut = serde_json::from_value(body).unwrap();
        post.id
    }

    fn clock_now(&self) -> i64 {
        use bridgenotes_service::clock::Clock;
        self.clock.now_millis()
    }

    async fn write(&self, token: &str, post: &str, summary: &str) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            "/api/notes",
            Some(token),
            Some(json!({
                "post_id": post,
                "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
                "reasons": ["misleadingMissingImportantContext"],
                "summary": summary,
            })),
        )
        .await
    }

    async fn note(&self, token: &str, post: &str) -> String {
        let (status, body) = self
            .write(
                token,
                post,
                "The figure is from 2019; see https://example.org/stats",
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        serde_json::from_value::<NoteOut>(body).unwrap().id
    }

    async fn rate(&self, token: &str, note: &str, level: &str) -> (StatusCode, Value) {
        let tags = match level {
            "HELPFUL" => json!(["helpfulClear", "helpfulGoodSources"]),
            "NOT_HELPFUL" => json!([
                "notHelpfulIncorrect",
                "notHelpfulSourcesMissingOrUnreliable"
            ]),
            _ => json!([]),
        };
        self.send(
            reqwest::Method::PUT,
            &format!("/api/notes/{note}/rating"),
            Some(token),
            Some(json!({ "helpfulness_level": level, "tags": tags })),
        )
        .await
    }

    async fn rated(&self, token: &str, note: &str, level: &str) {
        let (status, body) = self.rate(token, note, level).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn score(&self) -> RunOut {
        let (status, body) = self
            .send(reqwest::Method::POST, "/api/admin/score", Some(ADMIN), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn get_note(&self, note: &str) -> NoteOut {
        let (status, body) = self
            .send(
                reqwest::Method::GET,
                &format!("/api/notes/{note}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn me(&self, token: &str) -> Value {
        let (status, body) = self
            .send(reqwest::Method::GET, "/api/me", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Runs each test body on a server over SQLite and over PostgreSQL.
macro_rules! both {
    ($($name:ident;)+) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("service.db");
                    let store = SqliteStore::open(&path).await.unwrap();
                    super::$name(Server::start(Arc::new(store), Db::Sqlite(path)).await).await;
                }
            )+
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, schema) = fresh_postgres()
                        .await
                        .expect("PostgreSQL at 127.0.0.1:5432 (database test) must be reachable");
                    let db = Db::Postgres(schema.clone());
                    super::$name(Server::start(Arc::new(store), db).await).await;
                    drop_schema(&schema).await.unwrap();
                }
            )+
        }
    };
}

both! {
    life_of_a_note;
    own_note_cannot_be_rated;
    one_note_per_post;
    daily_and_post_author_limits;
    locked_out_and_new_writers_cannot_write;
    note_content_rules;
    tokens_are_required_and_checked;
    requests_and_the_ai_writer_api;
    authorization_matrix;
    body_size_limit;
}

/// Refused requests of a token over its rate limit change nothing either.
mod rate_limited {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("service.db");
        let store = SqliteStore::open(&path).await.unwrap();
        super::rate_limit_changes_nothing(
            Server::start_with(Arc::new(store), Db::Sqlite(path), 0.001, 3.0).await,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let (store, schema) = fresh_postgres()
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (database test) must be reachable");
        let db = Db::Postgres(schema.clone());
        super::rate_limit_changes_nothing(
            Server::start_with(Arc::new(store), db, 0.001, 3.0).await,
        )
        .await;
        drop_schema(&schema).await.unwrap();
    }
}

/// A contributor earns in by rating, writes a note, others rate it, scoring shows it,
/// its history updates and, 14 days on, its status locks.
async fn life_of_a_note(s: Server) {
    // A polarized community: two camps of raters, writers bootstrapped as earned in.
    let mut writers = Vec::new();
    for _ in 0..8 {
        writers.push(s.contributor("earnedIn").await.1);
    }
    let mut camps: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for i in 0..24 {
        camps[i % 2].push(s.contributor("newUser").await.1);
    }
    let (newcomer_id, newcomer) = s.contributor("newUser").await;
    assert_eq!(s.me(&newcomer).await["can_write"], json!(false));

    // 24 notes: kind 0 helpful to both camps, 1 and 2 helpful to one camp, 3 to neither.
    let mut notes = Vec::new();
    for k in 0..24 {
        let post = s.post(&writers[k % 8], &format!("poster{k}")).await;
        notes.push((k % 4, s.note(&writers[k % 8], &post).await));
        s.clock.advance(MINUTE);
    }
    let verdict = |kind: usize, camp: usize| match (kind, camp) {
        (0, _) | (1, 0) | (2, 1) => "HELPFUL",
        _ => "NOT_HELPFUL",
    };
    // The newcomer rates first, before any status exists.
    for (kind, note) in &notes {
        if *kind == 0 || *kind == 3 {
            s.rated(&newcomer, note, verdict(*kind, 0)).await;
        }
    }
    for (camp, raters) in camps.iter().enumerate() {
        for rater in raters {
            for (kind, note) in &notes {
                s.rated(rater, note, verdict(*kind, camp)).await;
            }
        }
    }
    s.clock.advance(DAY);
    let run = s.score().await;
    assert_eq!(run.notes, 24);
    // A newly helpful note is held as needing more ratings for an hour (the engine's
    // stabilization period); the next run after that shows it.
    s.clock.advance(61 * MINUTE);
    let run = s.score().await;
    assert!(run.currently_rated_helpful >= 4, "{run:?}");
    for (kind, note) in &notes {
        let n = s.get_note(note).await;
        match kind {
            0 => assert_eq!(n.status, "CURRENTLY_RATED_HELPFUL", "{n:?}"),
            3 => assert_eq!(n.status, "CURRENTLY_RATED_NOT_HELPFUL", "{n:?}"),
            _ => assert_eq!(n.status, "NEEDS_MORE_RATINGS", "{n:?}"),
        }
    }

    // The newcomer's ratings matched the statuses: rating impact ≥ 5, writing unlocked.
    let me = s.me(&newcomer).await;
    assert!(me["rating_impact"].as_i64().unwrap() >= 5, "{me}");
    assert_eq!(me["enrollment_state"], json!("earnedIn"), "{me}");
    assert_eq!(me["can_write"], json!(true));

    // The newcomer writes a note; both camps find it helpful.
    let post = s.post(&newcomer, "poster-new").await;
    let note = s.note(&newcomer, &post).await;
    let written_at = s.clock_now();
    for raters in &camps {
        for rater in raters {
            s.rated(rater, &note, "HELPFUL").await;
        }
    }
    s.clock.advance(DAY);
    s.score().await;
    s.clock.advance(61 * MINUTE);
    s.score().await;
    let n = s.get_note(&note).await;
    assert_eq!(n.status, "CURRENTLY_RATED_HELPFUL", "{n:?}");
    assert_eq!(n.author, newcomer_id);
    let history = n.history.expect("history after scoring");
    assert_eq!(
        history.current_status.as_deref(),
        Some("CURRENTLY_RATED_HELPFUL")
    );
    assert_eq!(
        history.first_non_nmr_status.as_deref(),
        Some("CURRENTLY_RATED_HELPFUL")
    );
    assert!(history.locked_status.is_none());
    let score = n.score.expect("score after scoring");
    assert!(score.core_note_intercept.unwrap() > 0.4, "{score:?}");
    // The pseudo-rater interval is stored and brackets the intercept.
    let (lo, hi) = (
        score.core_note_intercept_min.expect("interval low end"),
        score.core_note_intercept_max.expect("interval high end"),
    );
    let i = score.core_note_intercept.unwrap();
    assert!(lo <= i && i <= hi && lo < hi, "{score:?}");
    let page = reqwest::get(format!("{}/notes/{note}", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("{lo:+.3} to {hi:+.3}")),
        "the note page shows the interval"
    );
    assert_eq!(s.me(&newcomer).await["writing_impact"], json!(1));

    // Two weeks after it was written the status locks.
    s.clock
        .advance(written_at + 14 * DAY + MINUTE - s.clock_now());
    s.score().await;
    let n = s.get_note(&note).await;
    let history = n.history.unwrap();
    assert_eq!(
        history.locked_status.as_deref(),
        Some("CURRENTLY_RATED_HELPFUL")
    );
    assert!(history.timestamp_millis_of_status_lock.is_some());
    assert_eq!(n.status, "CURRENTLY_RATED_HELPFUL");
}

async fn own_note_cannot_be_rated(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    let (_, other) = s.contributor("newUser").await;
    let post = s.post(&writer, "poster").await;
    let note = s.note(&writer, &post).await;
    let (status, body) = s.rate(&writer, &note, "HELPFUL").await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "own_note"));
    // Others may, and a second rating replaces the first.
    let (status, body) = s.rate(&other, &note, "HELPFUL").await;
    assert_eq!((status, &body["replaced"]), (StatusCode::OK, &json!(false)));
    let (_, body) = s.rate(&other, &note, "NOT_HELPFUL").await;
    assert_eq!(body["replaced"], json!(true));
    assert_eq!(s.get_note(&note).await.ratings, 1);
    let (status, body) = s.rate(&other, "12345", "HELPFUL").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    // Deleting: only the author, and deleted notes take no ratings.
    let (status, body) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/notes/{note}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "not_note_author")
    );
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/notes/{note}"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.rate(&other, &note, "HELPFUL").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "note_deleted")
    );
}

async fn one_note_per_post(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    let post = s.post(&writer, "poster").await;
    s.note(&writer, &post).await;
    let (status, body) = s
        .write(&writer, &post, "Again: https://example.org/x")
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "duplicate_note")
    );
    let (_, other) = s.contributor("earnedIn").await;
    s.note(&other, &post).await;
}

async fn daily_and_post_author_limits(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    // Three notes a day on one post author…
    for _ in 0..3 {
        let post = s.post(&writer, "same-author").await;
        s.note(&writer, &post).await;
        s.clock.advance(1);
    }
    let post = s.post(&writer, "same-author").await;
    let (status, body) = s.write(&writer, &post, "More: https://example.org/4").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "post_author_limit")
    );
    // …and five a day in all (no writing impact yet).
    for i in 0..2 {
        let post = s.post(&writer, &format!("author{i}")).await;
        s.note(&writer, &post).await;
        s.clock.advance(1);
    }
    let post = s.post(&writer, "yet-another").await;
    let (status, body) = s
        .write(&writer, &post, "Sixth: https://example.org/6")
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "daily_note_limit")
    );
    // A day later the window has passed.
    s.clock.advance(DAY);
    s.note(&writer, &post).await;
}

async fn locked_out_and_new_writers_cannot_write(s: Server) {
    let (_, locked) = s.contributor("earnedOutNoAcknowledge").await;
    let (_, new) = s.contributor("newUser").await;
    let post = s.post(&locked, "poster").await;
    let (status, body) = s.write(&locked, &post, "Note https://example.org/a").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "writing_locked")
    );
    let (status, body) = s.write(&new, &post, "Note https://example.org/a").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "not_earned_in")
    );
    assert_eq!(s.me(&new).await["rating_impact_needed"], json!(5));
}

async fn note_content_rules(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    let post = s.post(&writer, "poster").await;
    let (status, body) = s.write(&writer, &post, "No source given here.").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "missing_source")
    );
    let long = format!("{} https://example.org/a", "x".repeat(281));
    let (status, body) = s.write(&writer, &post, &long).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "summary_too_long")
    );
    // URLs do not count towards the 280 characters.
    let fits = format!(
        "{} https://example.org/{}",
        "x".repeat(279),
        "y".repeat(200)
    );
    let (status, body) = s.write(&writer, &post, &fits).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A not-misleading note needs no source; reasons must match the classification.
    let post = s.post(&writer, "poster2").await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/notes",
            Some(&writer),
            Some(json!({"post_id": post, "classification": "NOT_MISLEADING",
                "reasons": ["misleadingFactualError"], "summary": "Fine as is."})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason")
    );
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/notes",
            Some(&writer),
            Some(json!({"post_id": post, "classification": "NOT_MISLEADING",
                "reasons": ["notMisleadingPersonalOpinion"], "summary": "An opinion."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Malformed and oversized bodies are JSON errors too.
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/notes",
            Some(&writer),
            Some(json!({"post_id": 1})),
        )
        .await;
    assert_eq!((status.as_u16() / 100, code(&body)), (4, "invalid_body"));
    let huge = "x".repeat(100 * 1024);
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/notes",
            Some(&writer),
            Some(json!({"post_id": post, "classification": "NOT_MISLEADING", "summary": huge})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
}

async fn tokens_are_required_and_checked(s: Server) {
    let (status, body) = s.send(reqwest::Method::GET, "/api/me", None, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    let (status, body) = s
        .send(reqwest::Method::GET, "/api/me", Some("bn_wrong"), None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let (_, token) = s.contributor("newUser").await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/admin/score",
            Some(&token),
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "admin_only"));
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/notes",
            None,
            Some(json!({"post_id": "1", "classification": "NOT_MISLEADING", "summary": "x"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    let (status, body) = s
        .send(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["paths"]["/api/notes/{id}/rating"]["put"].is_object(),
        "{body}"
    );
    let (status, body) = s
        .send(reqwest::Method::GET, "/api/nowhere", None, None)
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

async fn requests_and_the_ai_writer_api(s: Server) {
    let (_, poster) = s.contributor("newUser").await;
    let posts = [s.post(&poster, "a").await, s.post(&poster, "b").await];
    let mut requesters = Vec::new();
    for _ in 0..4 {
        requesters.push(s.contributor("newUser").await.1);
    }
    // Four requests show post a to writers; one does not show post b.
    for (i, token) in requesters.iter().enumerate() {
        let (status, body) = s
            .send(
                reqwest::Method::POST,
                &format!("/api/posts/{}/requests", posts[0]),
                Some(token),
                Some(json!({"source_link": "https://example.org/src", "reason": format!("r{i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            &format!("/api/posts/{}/requests", posts[0]),
            Some(&requesters[0]),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "duplicate_request")
    );
    s.send(
        reqwest::Method::POST,
        &format!("/api/posts/{}/requests", posts[1]),
        Some(&requesters[0]),
        Some(json!({})),
    )
    .await;

    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/admin/contributors",
            Some(ADMIN),
            Some(json!({"ai_writer": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ai: CreatedContributor = serde_json::from_value(body).unwrap();
    let (status, body) = s
        .send(
            reqwest::Method::GET,
            "/api/ai/posts_eligible_for_notes",
            Some(&ai.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let eligible = body.as_array().unwrap();
    assert_eq!(eligible.len(), 1, "{body}");
    assert_eq!(eligible[0]["post"]["id"], json!(posts[0]));
    assert_eq!(
        eligible[0]["suggested_sources"],
        json!([["https://example.org/src", 4]])
    );

    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/ai/notes",
            Some(&ai.token),
            Some(json!({"post_id": posts[0], "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
                "reasons": ["misleadingFactualError"], "summary": "Wrong year: https://example.org/src"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = s
        .send(
            reqwest::Method::GET,
            "/api/ai/notes_written",
            Some(&ai.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["status"], json!("NEEDS_MORE_RATINGS"), "{body}");
    // AI writers do not rate.
    let (_, writer) = s.contributor("earnedIn").await;
    let note = s.note(&writer, &posts[1]).await;
    let (status, body) = s.rate(&ai.token, &note, "HELPFUL").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ai_writer_cannot_rate")
    );
    // Contributors are limited to five requests a day.
    for post in 2..6 {
        let id = s.post(&poster, &format!("p{post}")).await;
        s.send(
            reqwest::Method::POST,
            &format!("/api/posts/{id}/requests"),
            Some(&requesters[0]),
            Some(json!({})),
        )
        .await;
    }
    let id = s.post(&poster, "p6").await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            &format!("/api/posts/{id}/requests"),
            Some(&requesters[0]),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "request_limit")
    );
}

/// One refused request of the authorization matrix.
struct Case {
    what: &'static str,
    method: reqwest::Method,
    path: String,
    /// The `Authorization` header, verbatim.
    authorization: Option<String>,
    body: Option<Value>,
    status: StatusCode,
    code: &'static str,
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// Every write endpoint of the API, asked by someone who may not: no token, a wrong or
/// malformed token, the administrator's token on contributor routes and a contributor's on
/// administrator routes, another contributor's note, one's own note, a locked-out, new or
/// removed writer, an AI writer where contributors go and back, and writers and requesters
/// over their limits. Each is answered with its status and JSON error code, and the
/// database (every row of every table) is unchanged afterwards.
async fn authorization_matrix(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    let (_, other) = s.contributor("earnedIn").await;
    let (_, rater) = s.contributor("newUser").await;
    let (_, locked) = s.contributor("earnedOutNoAcknowledge").await;
    let (_, removed) = s.contributor("removed").await;
    let (_, busy) = s.contributor("earnedIn").await;
    let (_, requester) = s.contributor("newUser").await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/admin/contributors",
            Some(ADMIN),
            Some(json!({"ai_writer": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ai: CreatedContributor = serde_json::from_value(body).unwrap();
    let ai = ai.token;

    let post = s.post(&writer, "poster").await;
    let note = s.note(&writer, &post).await;
    let other_post = s.post(&other, "poster-b").await;
    let others_note = s.note(&other, &other_post).await;
    let gone_post = s.post(&writer, "poster-c").await;
    let deleted = s.note(&writer, &gone_post).await;
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/notes/{deleted}"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // `busy` wrote three notes on one post author's posts and five in all today.
    for i in 0..5 {
        let author = if i < 3 { "same-author" } else { "elsewhere" };
        let p = s.post(&busy, &format!("{author}{i}")).await;
        s.note(&busy, &p).await;
        s.clock.advance(1);
    }
    let fresh_post = s.post(&writer, "poster-d").await;
    // `requester` made five note requests today.
    for i in 0..5 {
        let p = s.post(&requester, &format!("requested{i}")).await;
        let (status, body) = s
            .send(
                reqwest::Method::POST,
                &format!("/api/posts/{p}/requests"),
                Some(&requester),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            &format!("/api/posts/{post}/requests"),
            Some(&rater),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let note_body = |post: &str| {
        json!({
            "post_id": post,
            "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
            "reasons": ["misleadingMissingImportantContext"],
            "summary": "The figure is from 2019; see https://example.org/stats",
        })
    };
    let rating = json!({"helpfulness_level": "HELPFUL", "tags": ["helpfulClear"]});
    let new_post = json!({"external_id": "x-1", "author_handle": "someone", "text": "A claim."});
    use reqwest::Method as M;
    let endpoints: Vec<(M, String, Option<Value>)> = vec![
        (
            M::POST,
            "/api/admin/contributors".into(),
            Some(json!({"enrollment_state": "earnedIn"})),
        ),
        (M::POST, "/api/admin/score".into(), None),
        (M::POST, "/api/posts".into(), Some(new_post.clone())),
        (
            M::POST,
            format!("/api/posts/{fresh_post}/requests"),
            Some(json!({})),
        ),
        (M::POST, "/api/notes".into(), Some(note_body(&fresh_post))),
        (M::DELETE, format!("/api/notes/{note}"), None),
        (
            M::PUT,
            format!("/api/notes/{others_note}/rating"),
            Some(rating.clone()),
        ),
        (
            M::POST,
            "/api/ai/notes".into(),
            Some(note_body(&fresh_post)),
        ),
    ];
    let mut cases = Vec::new();
    for (method, path, body) in &endpoints {
        let admin_route = path.starts_with("/api/admin/");
        let case = |what, authorization: Option<String>, status, code| Case {
            what,
            method: method.clone(),
            path: path.clone(),
            authorization,
            body: body.clone(),
            status,
            code,
        };
        cases.push(case(
            "no token",
            None,
            StatusCode::UNAUTHORIZED,
            "missing_token",
        ));
        cases.push(case(
            "not a bearer token",
            Some(format!("Basic {writer}")),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ));
        cases.push(case(
            "empty bearer token",
            Some("Bearer ".into()),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ));
        if admin_route {
            for (what, token) in [
                ("wrong token", "bn_0000"),
                ("a contributor's token", writer.as_str()),
                ("an AI writer's token", ai.as_str()),
            ] {
                cases.push(case(
                    what,
                    bearer(token),
                    StatusCode::FORBIDDEN,
                    "admin_only",
                ));
            }
        } else {
            for (what, token) in [("wrong token", "bn_0000"), ("the admin token", ADMIN)] {
                cases.push(case(
                    what,
                    bearer(token),
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                ));
            }
        }
    }
    let mut case = |what, method: M, path: String, token: &str, body, status, code| {
        cases.push(Case {
            what,
            method,
            path,
            authorization: bearer(token),
            body,
            status,
            code,
        })
    };
    let f = StatusCode::FORBIDDEN;
    let rate_path = |n: &str| format!("/api/notes/{n}/rating");
    case(
        "delete another's note",
        M::DELETE,
        format!("/api/notes/{note}"),
        &other,
        None,
        f,
        "not_note_author",
    );
    case(
        "delete another's note (AI writer)",
        M::DELETE,
        format!("/api/notes/{note}"),
        &ai,
        None,
        f,
        "not_note_author",
    );
    case(
        "delete a missing note",
        M::DELETE,
        "/api/notes/12345".into(),
        &writer,
        None,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    case(
        "rate own note",
        M::PUT,
        rate_path(&note),
        &writer,
        Some(rating.clone()),
        f,
        "own_note",
    );
    case(
        "AI writer rates",
        M::PUT,
        rate_path(&note),
        &ai,
        Some(rating.clone()),
        f,
        "ai_writer_cannot_rate",
    );
    case(
        "removed contributor rates",
        M::PUT,
        rate_path(&note),
        &removed,
        Some(rating.clone()),
        f,
        "removed",
    );
    case(
        "rate a deleted note",
        M::PUT,
        rate_path(&deleted),
        &rater,
        Some(rating.clone()),
        StatusCode::CONFLICT,
        "note_deleted",
    );
    case(
        "rate a missing note",
        M::PUT,
        rate_path("12345"),
        &rater,
        Some(rating.clone()),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    case(
        "rate with an unknown level",
        M::PUT,
        rate_path(&note),
        &rater,
        Some(json!({"helpfulness_level": "VERY", "tags": []})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_helpfulness_level",
    );
    case(
        "rate with mismatched tags",
        M::PUT,
        rate_path(&note),
        &rater,
        Some(json!({"helpfulness_level": "HELPFUL", "tags": ["notHelpfulIncorrect"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_tag",
    );
    case(
        "locked-out writer",
        M::POST,
        "/api/notes".into(),
        &locked,
        Some(note_body(&fresh_post)),
        f,
        "writing_locked",
    );
    case(
        "writer not earned in",
        M::POST,
        "/api/notes".into(),
        &rater,
        Some(note_body(&fresh_post)),
        f,
        "not_earned_in",
    );
    case(
        "removed writer",
        M::POST,
        "/api/notes".into(),
        &removed,
        Some(note_body(&fresh_post)),
        f,
        "removed",
    );
    case(
        "over the daily note limit",
        M::POST,
        "/api/notes".into(),
        &busy,
        Some(note_body(&fresh_post)),
        StatusCode::TOO_MANY_REQUESTS,
        "daily_note_limit",
    );
    case(
        "second note on a post",
        M::POST,
        "/api/notes".into(),
        &writer,
        Some(note_body(&post)),
        StatusCode::CONFLICT,
        "duplicate_note",
    );
    case(
        "note on a missing post",
        M::POST,
        "/api/notes".into(),
        &writer,
        Some(note_body("12345")),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    case(
        "contributor on the AI writer route",
        M::POST,
        "/api/ai/notes".into(),
        &writer,
        Some(note_body(&fresh_post)),
        f,
        "not_ai_writer",
    );
    case(
        "over the request limit",
        M::POST,
        format!("/api/posts/{fresh_post}/requests"),
        &requester,
        Some(json!({})),
        StatusCode::TOO_MANY_REQUESTS,
        "request_limit",
    );
    case(
        "second request on a post",
        M::POST,
        format!("/api/posts/{post}/requests"),
        &rater,
        Some(json!({})),
        StatusCode::CONFLICT,
        "duplicate_request",
    );
    case(
        "request on a missing post",
        M::POST,
        "/api/posts/12345/requests".into(),
        &rater,
        Some(json!({})),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    case(
        "post without an author",
        M::POST,
        "/api/posts".into(),
        &rater,
        Some(json!({"external_id": "y", "author_handle": " ", "text": "t"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_post",
    );
    case(
        "malformed id",
        M::PUT,
        rate_path("1e9"),
        &rater,
        Some(rating.clone()),
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );

    // Over the post author limit: a fresh writer with three notes on one author's posts.
    let (_, limited) = s.contributor("earnedIn").await;
    for i in 0..3 {
        let (status, body) = s
            .send(
                reqwest::Method::POST,
                "/api/posts",
                Some(&limited),
                Some(json!({"external_id": format!("pa-{i}"), "author_handle": "prolific", "text": "t"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        s.note(&limited, &id).await;
        s.clock.advance(1);
    }
    let (_, body) = s
        .send(
            reqwest::Method::POST,
            "/api/posts",
            Some(&limited),
            Some(json!({"external_id": "pa-3", "author_handle": "prolific", "text": "t"})),
        )
        .await;
    let fourth = body["id"].as_str().unwrap().to_string();
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/posts",
            Some(&limited),
            Some(json!({"external_id": "pa-3", "author_handle": "prolific", "text": "again"})),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));
    cases.push(Case {
        what: "over the post author limit",
        method: M::POST,
        path: "/api/notes".into(),
        authorization: bearer(&limited),
        body: Some(note_body(&fourth)),
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "post_author_limit",
    });

    let before = s.db.dump().await;
    assert!(before.len() > 30, "the dump reads the tables: {before:?}");
    for case in &cases {
        let mut request = s
            .client
            .request(case.method.clone(), format!("{}{}", s.base, case.path));
        if let Some(authorization) = &case.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        if let Some(body) = &case.body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            is_json && body["error"]["message"].is_string(),
            "{}: {} {}: a JSON error, not {body}",
            case.what,
            case.method,
            case.path
        );
        assert_eq!(
            (status, code(&body)),
            (case.status, case.code),
            "{}: {} {}: {body}",
            case.what,
            case.method,
            case.path
        );
        let after = s.db.dump().await;
        if after != before {
            let changed: Vec<_> = after.iter().filter(|r| !before.contains(r)).collect();
            panic!(
                "{}: {} {} changed the database: {changed:?}",
                case.what, case.method, case.path
            );
        }
    }
    assert!(cases.len() >= 60, "{} cases", cases.len());

    // The same requests, allowed, do change it (the dump sees writes).
    s.rated(&rater, &note, "HELPFUL").await;
    let after = s.db.dump().await;
    assert_ne!(after, before);
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/notes/{others_note}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ne!(s.db.dump().await, after);
}

/// Sends one HTTP/1.1 request over a plain socket, its body in chunks (`chunked`: with
/// chunked transfer encoding, else with a Content-Length), and returns the status code. The
/// server may answer and close before the whole body is sent; the answer is read anyway.
fn raw_request(address: &str, head: &str, chunks: &[Vec<u8>], chunked: bool) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let length: usize = chunks.iter().map(Vec::len).sum();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {length}")
    };
    let head = format!("{head}Host: test\r\nConnection: close\r\n{framing}\r\n\r\n");
    let mut sent = stream.write_all(head.as_bytes()).is_ok();
    for chunk in chunks {
        if !sent {
            break;
        }
        sent = if chunked {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|()| stream.write_all(chunk))
                .and_then(|()| stream.write_all(b"\r\n"))
                .is_ok()
        } else {
            stream.write_all(chunk).is_ok()
        };
    }
    if sent && chunked {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    reply
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer: {reply:?}"))
}

/// Request bodies over the limit (1 MiB and more here; the default limit is 64 KiB) are
/// refused with 413 on every route that reads a body, API and pages, with or without a
/// Content-Length, and change nothing.
async fn body_size_limit(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    let post = s.post(&writer, "poster").await;
    let note = s.note(&writer, &post).await;
    let before = s.db.dump().await;
    let address = s.base.trim_start_matches("http://").to_string();
    let mut body = format!("{{\"post_id\": \"{post}\", \"summary\": \"").into_bytes();
    body.extend(std::iter::repeat_n(b'x', 1024 * 1024 + 1));
    body.extend(b"\"}");
    let chunks: Vec<Vec<u8>> = body.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let mut requests = Vec::new();
    for (method, path, token) in [
        ("POST", "/api/admin/contributors".to_string(), ADMIN),
        ("POST", "/api/posts".into(), writer.as_str()),
        (
            "POST",
            format!("/api/posts/{post}/requests"),
            writer.as_str(),
        ),
        ("POST", "/api/notes".into(), writer.as_str()),
        ("PUT", format!("/api/notes/{note}/rating"), writer.as_str()),
        ("POST", "/api/ai/notes".into(), writer.as_str()),
    ] {
        requests.push(format!(
            "{method} {path} HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\n"
        ));
    }
    for path in [
        "/signin".to_string(),
        format!("/notes/{note}/rating"),
        format!("/posts/{post}/notes"),
        format!("/posts/{post}/requests"),
    ] {
        requests.push(format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        ));
    }
    for head in requests {
        for chunked in [false, true] {
            let (address, head2, chunks) = (address.clone(), head.clone(), chunks.clone());
            let status = tokio::task::spawn_blocking(move || {
                raw_request(&address, &head2, &chunks, chunked)
            })
            .await
            .unwrap();
            assert_eq!(status, 413, "{head} (chunked: {chunked})");
        }
    }
    // Under the limit the same kind of request is read (and refused for what it says).
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/api/notes",
            Some(&writer),
            Some(json!({"post_id": post, "summary": "x".repeat(60 * 1024)})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    assert_eq!(s.db.dump().await, before);
}

async fn rate_limit_changes_nothing(s: Server) {
    let (_, writer) = s.contributor("earnedIn").await;
    let (_, rater) = s.contributor("newUser").await;
    let post = s.post(&writer, "poster").await;
    let note = s.note(&writer, &post).await;
    // Three requests at once, then the bucket is empty.
    s.rated(&rater, &note, "HELPFUL").await;
    s.rated(&rater, &note, "NOT_HELPFUL").await;
    s.rated(&rater, &note, "HELPFUL").await;
    let before = s.db.dump().await;
    let (status, body) = s.rate(&rater, &note, "NOT_HELPFUL").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert_eq!(s.db.dump().await, before);
    // Another token has its own bucket.
    assert_eq!(
        s.rate(&writer, &note, "HELPFUL").await.1["error"]["code"],
        "own_note"
    );
}
