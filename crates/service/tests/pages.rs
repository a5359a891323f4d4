//! HTTP-level tests of the HTML pages: the real server on an ephemeral loopback port over
//! an SQLite file, a test clock, and an HTTP client that does not follow redirects (so
//! cookies and redirects can be checked).

use std::sync::Arc;

use bridgenotes_service::api::{CreatedContributor, NoteOut, PostOut};
use bridgenotes_service::clock::TestClock;
use bridgenotes_service::{AppState, Config, serve};
use bridgenotes_storage::sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin-secret";
/// 2026-11-21, in milliseconds.
const T0: i64 = 1_795_132_800_000;
const XSS: &str = "<script>alert('x')</script><b>bold</b>";

struct Server {
    base: String,
    client: reqwest::Client,
    dir: Arc<tempfile::TempDir>,
    clock: TestClock,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Server {
    async fn start() -> Server {
        Server::start_on(Arc::new(tempfile::tempdir().unwrap()), TestClock::new(T0)).await
    }

    /// A server on the database in `dir` (a restart when another server used it before).
    async fn start_on(dir: Arc<tempfile::TempDir>, clock: TestClock) -> Server {
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("db.sqlite"))
                .await
                .unwrap(),
        );
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
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            dir,
            clock,
            _shutdown: tx,
        }
    }

    async fn api(&self, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn contributor(&self, state: &str) -> CreatedContributor {
        let body = self
            .api(
                reqwest::Method::POST,
                "/api/admin/contributors",
                ADMIN,
                json!({ "enrollment_state": state }),
            )
            .await;
        serde_json::from_value(body).unwrap()
    }

    async fn post(&self, token: &str, external: &str, text: &str) -> String {
        let body = self
            .api(
                reqwest::Method::POST,
                "/api/posts",
                token,
                json!({"external_id": external, "author_handle": "someone", "text": text}),
            )
            .await;
        serde_json::from_value::<PostOut>(body).unwrap().id
    }

    async fn note(&self, id: &str) -> NoteOut {
        let response = self
            .client
            .get(format!("{}/api/notes/{id}", self.base))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let response = request.send().await.unwrap();
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn post_form(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let response = request.send().await.unwrap();
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// Signs in through the form; returns the cookie to send.
    async fn sign_in(&self, token: &str) -> String {
        let page = self.post_form("/signin", None, &[("token", token)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let set_cookie = page.headers["set-cookie"].to_str().unwrap().to_string();
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        set_cookie.split(';').next().unwrap().to_string()
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn csrf_of(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).expect("a form with a CSRF token") + marker.len();
    body[start..].split('"').next().unwrap().to_string()
}

/// A community: a writer with a note (whose summary holds markup) and two raters.
struct Setup {
    server: Server,
    writer: CreatedContributor,
    rater: CreatedContributor,
    post: String,
    note: String,
}

async fn setup() -> Setup {
    let server = Server::start().await;
    let writer = server.contributor("earnedIn").await;
    let rater = server.contributor("newUser").await;
    let post = server
        .post(
            &writer.token,
            "p1",
            "A politician says a foreign leader threatens democracy.",
        )
        .await;
    let body = server
        .api(
            reqwest::Method::POST,
            "/api/notes",
            &writer.token,
            json!({
                "post_id": post,
                "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
                "reasons": ["misleadingMissingImportantContext"],
                "summary": format!("{XSS} Context: https://example.org/election"),
            }),
        )
        .await;
    let note: NoteOut = serde_json::from_value(body).unwrap();
    Setup {
        server,
        writer,
        rater,
        post,
        note: note.id,
    }
}

#[tokio::test]
async fn every_page_renders_with_security_headers_and_escaped_text() {
    let s = setup().await;
    // A scoring run, so the pages show scored state too.
    s.server
        .api(reqwest::Method::POST, "/api/admin/score", ADMIN, json!({}))
        .await;
    let pages = [
        ("/", "Needs your help"),
        ("/timeline/needs-help", "Needs your help"),
        ("/timeline/new", "New"),
        ("/timeline/helpful", "Rated helpful"),
        ("/timeline/not-helpful", "Rated not helpful"),
        (&format!("/posts/{}", s.post), "Notes (1)"),
        (&format!("/notes/{}", s.note), "Why this status"),
        (
            &format!("/contributors/{}", s.writer.contributor.participant_id),
            "Writing impact",
        ),
        ("/signin", "Your API token"),
    ];
    for (path, expected) in pages {
        let page = s.server.get(path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains(expected), "{path} lacks {expected:?}");
        assert!(page.body.starts_with("<!DOCTYPE html>"), "{path}");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("http"), "no external sources: {csp}");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        // The note's markup is text everywhere it appears.
        assert!(
            !page.body.contains("<script>"),
            "{path} has unescaped markup"
        );
        assert!(
            !page.body.contains("<b>bold"),
            "{path} has unescaped markup"
        );
    }
    for path in ["/", "/timeline/new", &format!("/posts/{}", s.post)] {
        let page = s.server.get(path, None).await;
        assert!(
            page.body
                .contains("&lt;script&gt;alert('x')&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"),
            "{path} does not show the summary as text"
        );
    }
    let note_page = s.server.get(&format!("/notes/{}", s.note), None).await;
    assert!(note_page.body.contains("<svg id=\"viewpoint-plot\""));
    assert!(note_page.body.contains("Status history"));
    assert!(note_page.body.contains("Decided by"));
    let missing = s.server.get("/notes/12345", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forms_refuse_a_missing_or_wrong_csrf_token() {
    let s = setup().await;
    let cookie = s.server.sign_in(&s.rater.token).await;
    let path = format!("/notes/{}/rating", s.note);
    let no_token = s
        .server
        .post_form(&path, Some(&cookie), &[("level", "HELPFUL")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong = s
        .server
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", "0123456789abcdef"), ("level", "HELPFUL")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // Without a session at all.
    let anonymous = s
        .server
        .post_form(&path, None, &[("csrf", "x"), ("level", "HELPFUL")])
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Another session's token does not work either.
    let other_cookie = s.server.sign_in(&s.writer.token).await;
    let other_page = s
        .server
        .get(&format!("/posts/{}", s.post), Some(&other_cookie))
        .await;
    let other_csrf = csrf_of(&other_page.body);
    let crossed = s
        .server
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", &other_csrf), ("level", "HELPFUL")],
        )
        .await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.server.note(&s.note).await.ratings,
        0,
        "nothing was stored"
    );
    let bad_sign_in = s
        .server
        .post_form("/signin", None, &[("token", "not-a-token")])
        .await;
    assert_eq!(bad_sign_in.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_rate_write_and_request_through_forms() {
    let s = setup().await;
    // The rater signs in and rates the note.
    let cookie = s.server.sign_in(&s.rater.token).await;
    let note_path = format!("/notes/{}", s.note);
    let page = s.server.get(&note_path, Some(&cookie)).await;
    assert!(page.body.contains(&s.rater.contributor.alias), "signed in");
    assert!(page.body.contains("Rate this note"));
    assert!(page.body.contains("0 ratings"));
    let csrf = csrf_of(&page.body);
    let rated = s
        .server
        .post_form(
            &format!("{note_path}/rating"),
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("level", "HELPFUL"),
                ("tag", "helpfulClear"),
                ("tag", "helpfulGoodSources"),
            ],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    assert_eq!(s.server.note(&s.note).await.ratings, 1);
    let page = s.server.get(&note_path, Some(&cookie)).await;
    assert!(page.body.contains("1 ratings"), "the rating is counted");
    // A rule of the API applies to the form: a not-helpful tag on a helpful rating.
    let refused = s
        .server
        .post_form(
            &format!("{note_path}/rating"),
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("level", "HELPFUL"),
                ("tag", "notHelpfulIncorrect"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("invalid_tag"));

    // The writer cannot rate their own note (the same rule as the API); they write a note
    // on a second post through the form, and it shows on the post page.
    let writer_cookie = s.server.sign_in(&s.writer.token).await;
    let writer_page = s.server.get(&note_path, Some(&writer_cookie)).await;
    assert!(!writer_page.body.contains("Rate this note"));
    let writer_csrf = csrf_of(&writer_page.body);
    let own = s
        .server
        .post_form(
            &format!("{note_path}/rating"),
            Some(&writer_cookie),
            &[("csrf", &writer_csrf), ("level", "HELPFUL")],
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(own.body.contains("own_note"));

    let post2 = s
        .server
        .post(&s.writer.token, "p2", "A second post with a claim.")
        .await;
    let post_path = format!("/posts/{post2}");
    let page = s.server.get(&post_path, Some(&writer_cookie)).await;
    assert!(page.body.contains("Write a note"));
    let written = s
        .server
        .post_form(
            &format!("{post_path}/notes"),
            Some(&writer_cookie),
            &[
                ("csrf", &writer_csrf),
                ("classification", "MISINFORMED_OR_POTENTIALLY_MISLEADING"),
                ("reason", "misleadingFactualError"),
                ("reason", "misleadingMissingImportantContext"),
                (
                    "summary",
                    "The figure in the post is from 2019, not this year.",
                ),
                ("sources", "https://example.org/figures"),
                ("trustworthy_sources", "1"),
            ],
        )
        .await;
    assert_eq!(written.status, StatusCode::SEE_OTHER, "{}", written.body);
    let page = s.server.get(&post_path, None).await;
    assert!(page.body.contains("The figure in the post is from 2019"));
    assert!(page.body.contains("https://example.org/figures"));
    // A misleading note without a source is refused, as in the API.
    let post3 = s.server.post(&s.writer.token, "p3", "Third.").await;
    let no_source = s
        .server
        .post_form(
            &format!("/posts/{post3}/notes"),
            Some(&writer_cookie),
            &[
                ("csrf", &writer_csrf),
                ("classification", "MISINFORMED_OR_POTENTIALLY_MISLEADING"),
                ("reason", "misleadingFactualError"),
                ("summary", "No source here."),
            ],
        )
        .await;
    assert_eq!(no_source.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_source.body.contains("missing_source"));

    // The rater requests a note on the third post.
    let requested = s
        .server
        .post_form(
            &format!("/posts/{post3}/requests"),
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("source_link", "https://example.org/a"),
                ("reason", "Needs context"),
            ],
        )
        .await;
    assert_eq!(
        requested.status,
        StatusCode::SEE_OTHER,
        "{}",
        requested.body
    );

    // Signing out ends the session.
    let out = s
        .server
        .post_form("/signout", Some(&cookie), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let page = s.server.get(&note_path, Some(&cookie)).await;
    assert!(!page.body.contains("Rate this note"));
}

#[tokio::test]
async fn sessions_outlive_a_restart_and_expire_after_thirty_days() {
    let s = setup().await;
    let cookie = s.server.sign_in(&s.rater.token).await;
    let note_path = format!("/notes/{}", s.note);
    let (dir, clock) = (s.server.dir.clone(), s.server.clock.clone());
    drop(s.server);
    let server = Server::start_on(dir, clock.clone()).await;
    let page = server.get(&note_path, Some(&cookie)).await;
    assert!(
        page.body.contains("Rate this note"),
        "still signed in after a restart"
    );
    let csrf = csrf_of(&page.body);
    let rated = server
        .post_form(
            &format!("{note_path}/rating"),
            Some(&cookie),
            &[("csrf", &csrf), ("level", "HELPFUL")],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    clock.advance(30 * 86_400_000);
    let page = server.get(&note_path, Some(&cookie)).await;
    assert!(!page.body.contains("Rate this note"), "the session expired");
    let late = server
        .post_form(
            &format!("{note_path}/rating"),
            Some(&cookie),
            &[("csrf", &csrf), ("level", "NOT_HELPFUL")],
        )
        .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn needs_your_help_leaves_out_own_and_rated_notes_and_says_why() {
    let s = setup().await;
    let rater = s.server.sign_in(&s.rater.token).await;
    let writer = s.server.sign_in(&s.writer.token).await;
    let marker = "Context: https://example.org/election";
    let page = s.server.get("/", Some(&rater)).await;
    assert!(
        page.body.contains(marker),
        "the note needs the rater's help"
    );
    // A new post and no raters of either side yet.
    assert!(
        page.body
            .contains("Here because: its raters so far lean to one side")
    );
    let page = s.server.get("/", Some(&writer)).await;
    assert!(
        !page.body.contains(marker),
        "a writer's own note is left out"
    );
    let page = s.server.get("/", None).await;
    assert!(page.body.contains(marker));

    let note_page = s
        .server
        .get(&format!("/notes/{}", s.note), Some(&rater))
        .await;
    let rated = s
        .server
        .post_form(
            &format!("/notes/{}/rating", s.note),
            Some(&rater),
            &[("csrf", &csrf_of(&note_page.body)), ("level", "HELPFUL")],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER);
    let page = s.server.get("/", Some(&rater)).await;
    assert!(
        !page.body.contains(marker),
        "a note already rated is left out"
    );
}
