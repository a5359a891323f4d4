//! Tokens never reach the logs: every event of the service and of the libraries under it
//! (axum, hyper, sqlx), at the most verbose level, is captured while contributors and the
//! administrator use their tokens (good, wrong, malformed), and none of the text contains a
//! token or a token's hash.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bridgenotes_service::api::CreatedContributor;
use bridgenotes_service::auth::token_hash;
use bridgenotes_service::clock::TestClock;
use bridgenotes_service::{AppState, Config, serve};
use bridgenotes_storage::sqlite::SqliteStore;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-that-must-not-be-logged";

/// Log output, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("logs.db"))
        .await
        .unwrap();
    let config = Config {
        admin_token: Some(ADMIN.to_string()),
        ..Config::default()
    };
    let clock = TestClock::new(1_795_132_800_000);
    let state = AppState::new(Arc::new(store), Arc::new(clock), config)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async {
        stopped.await.ok();
    }));
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, authorization: &str, body: Value| {
        client
            .request(method, format!("{base}{path}"))
            .header(reqwest::header::AUTHORIZATION, authorization)
            .json(&body)
            .send()
    };

    let mut tokens = vec![ADMIN.to_string()];
    for state in ["earnedIn", "newUser"] {
        let response = send(
            reqwest::Method::POST,
            "/api/admin/contributors",
            &format!("Bearer {ADMIN}"),
            json!({ "enrollment_state": state }),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 201);
        let created: CreatedContributor = response.json().await.unwrap();
        tokens.push(created.token);
    }
    let (writer, rater) = (tokens[1].clone(), tokens[2].clone());
    let post: Value = send(
        reqwest::Method::POST,
        "/api/posts",
        &format!("Bearer {writer}"),
        json!({"external_id": "p1", "author_handle": "someone", "text": "A claim."}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let post = post["id"].as_str().unwrap().to_string();
    let note: Value = send(
        reqwest::Method::POST,
        "/api/notes",
        &format!("Bearer {writer}"),
        json!({"post_id": post, "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
            "reasons": ["misleadingFactualError"], "summary": "Wrong: https://example.org/a"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let note = note["id"].as_str().unwrap().to_string();
    let rating = json!({"helpfulness_level": "HELPFUL", "tags": []});
    let path = format!("/api/notes/{note}/rating");
    assert_eq!(
        send(
            reqwest::Method::PUT,
            &path,
            &format!("Bearer {rater}"),
            rating.clone()
        )
        .await
        .unwrap()
        .status(),
        200
    );
    // Refusals and errors, which are the likeliest to be logged.
    let wrong = "bn_wrong-token-that-must-not-be-logged".to_string();
    for authorization in [
        format!("Bearer {writer}"),
        format!("Bearer {wrong}"),
        format!("Basic {rater}"),
        format!("Bearer {rater}"),
    ] {
        send(reqwest::Method::PUT, &path, &authorization, rating.clone())
            .await
            .unwrap();
        send(
            reqwest::Method::POST,
            "/api/admin/score",
            &authorization,
            json!({}),
        )
        .await
        .unwrap();
    }
    tokens.push(wrong);
    let score = send(
        reqwest::Method::POST,
        "/api/admin/score",
        &format!("Bearer {ADMIN}"),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(score.status(), 200);
    let signin = client
        .post(format!("{base}/signin"))
        .form(&[("token", rater.as_str())])
        .send()
        .await
        .unwrap();
    assert!(signin.status().as_u16() < 500);
    stop.send(()).ok();

    let logs = captured.text();
    // The capture works: the libraries' request handling and the SQL they ran are there.
    assert!(logs.contains("INSERT INTO ratings"), "{logs}");
    assert!(logs.contains("scoring run stored"), "{logs}");
    for token in &tokens {
        assert!(!logs.contains(token.as_str()), "a token was logged");
        assert!(
            !logs.contains(&token_hash(token)),
            "a token's hash was logged"
        );
    }
}
