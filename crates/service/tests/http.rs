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

/// A running server and a client for it.
struct Server {
    base: String,
    client: reqwest::Client,
    clock: TestClock,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    async fn start(store: Arc<dyn Store>) -> Server {
        let clock = TestClock::new(T0);
        let config = Config {
            admin_token: Some(ADMIN.to_string()),
            rate_per_second: 10_000.0,
            rate_burst: 10_000.0,
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
                    let store = SqliteStore::open(&dir.path().join("service.db")).await.unwrap();
                    super::$name(Server::start(Arc::new(store)).await).await;
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
                    super::$name(Server::start(Arc::new(store)).await).await;
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
