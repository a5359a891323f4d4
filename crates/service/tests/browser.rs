//! Browser tests: Debian's headless Chromium, driven over the W3C WebDriver protocol
//! (chromedriver) from Rust, against the real server on an ephemeral loopback port. They
//! open each timeline, a note page and its viewpoint plot, sign in, rate a note and see the
//! rating counted, write a note and see it on the post page, and save a screenshot of each
//! page under `target/screenshots/` — at desktop width, and at a phone's width (390 CSS
//! pixels) where no page may scroll sideways.
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them). Fails, never skips, without them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::prelude::{BASE64_STANDARD, Engine as _};
use bridgenotes_service::api::{CreatedContributor, NoteOut, PostOut};
use bridgenotes_service::clock::TestClock;
use bridgenotes_service::{AppState, Config, serve};
use bridgenotes_storage::sqlite::SqliteStore;
use serde_json::{Value, json};

const ADMIN: &str = "admin-secret";
const T0: i64 = 1_795_132_800_000;
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver and one browser session.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn start() -> Browser {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromium (Debian package chromium) must be installed");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1200,1000"]
            }
        }}});
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_string();
        Browser {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let value: Value = request.send().await.unwrap().json().await.unwrap();
        if value["value"].get("error").is_some() {
            panic!("webdriver {path}: {value}");
        }
        value["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("find {css}: {v}"))
            .to_string()
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (up to 10 s) until the page source contains `text`.
    async fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let source = self.source().await;
            if source.contains(text) {
                return source;
            }
            assert!(
                Instant::now() < deadline,
                "page never showed {text:?}: {source}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = BASE64_STANDARD.decode(data.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Emulates a phone's screen (CSS pixels, a mobile viewport, 3 device pixels per CSS
    /// pixel) through chromedriver's DevTools passthrough: windows cannot be made that
    /// narrow.
    async fn emulate_phone(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {"width": width, "height": height, "deviceScaleFactor": 3, "mobile": true}
            })),
        )
        .await;
    }

    /// Runs a script in the page and returns its value.
    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    async fn quit(mut self) {
        self.http.delete(&self.session).send().await.ok();
        self.driver.kill().ok();
        self.driver.wait().ok();
    }
}

async fn api(base: &str, path: &str, token: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}");
    response.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_sign_in_rate_and_write() {
    // The server with a small community: a writer's note on a post, a rater.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap(),
    );
    let config = Config {
        admin_token: Some(ADMIN.to_string()),
        ..Config::default()
    };
    let state = AppState::new(store, Arc::new(TestClock::new(T0)), config)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async {
        rx.await.ok();
    }));
    let contributor = |state: &'static str| {
        let base = base.clone();
        async move {
            let v = api(
                &base,
                "/api/admin/contributors",
                ADMIN,
                json!({ "enrollment_state": state }),
            )
            .await;
            serde_json::from_value::<CreatedContributor>(v).unwrap()
        }
    };
    let writer = contributor("earnedIn").await;
    let rater = contributor("newUser").await;
    let post = |external: &'static str, text: &'static str| {
        let (base, token) = (base.clone(), writer.token.clone());
        async move {
            let v = api(
                &base,
                "/api/posts",
                &token,
                json!({"external_id": external, "author_handle": "senator_example", "text": text}),
            )
            .await;
            serde_json::from_value::<PostOut>(v).unwrap().id
        }
    };
    let post1 = post(
        "b1",
        "Senator Alex Example: \"President Jordan Sample of Northland is a threat to democracy.\"",
    )
    .await;
    let post2 = post("b2", "A second post.").await;
    let note: NoteOut = serde_json::from_value(
        api(
            &base,
            "/api/notes",
            &writer.token,
            json!({
                "post_id": post1,
                "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
                "reasons": ["misleadingMissingImportantContext"],
                "summary": "Jordan Sample won the 2024 election with 54% of the vote; his approval rating is 48%. https://example.org/results",
            }),
        )
        .await,
    )
    .unwrap();
    api(&base, "/api/admin/score", ADMIN, json!({})).await;

    let browser = Browser::start().await;
    for (path, name, heading) in [
        ("/", "timeline-needs-your-help", "Needs your help"),
        ("/timeline/new", "timeline-new", "New"),
        (
            "/timeline/helpful",
            "timeline-rated-helpful",
            "Rated helpful",
        ),
        (
            "/timeline/not-helpful",
            "timeline-rated-not-helpful",
            "Rated not helpful",
        ),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        assert!(browser.title().await.starts_with(heading), "{path}");
        browser.screenshot(name).await;
    }
    browser.goto(&format!("{base}/notes/{}", note.id)).await;
    browser.find("svg#viewpoint-plot").await;
    browser.wait_for("Why this status").await;
    browser.screenshot("note-why-this-status").await;

    // Sign in as the rater and rate the note.
    browser.goto(&format!("{base}/signin")).await;
    browser.screenshot("sign-in").await;
    browser.type_into("#token", &rater.token).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for("Writing impact").await;
    browser.screenshot("contributor-profile").await;
    browser.goto(&format!("{base}/notes/{}", note.id)).await;
    browser.wait_for("0 ratings").await;
    browser.click("input[value=HELPFUL]").await;
    browser.click("input[value=helpfulGoodSources]").await;
    browser.click("form[action$='/rating'] button").await;
    browser.wait_for("1 ratings").await;
    browser.screenshot("note-rated").await;

    // Sign in as the writer and write a note on the second post.
    browser.goto(&format!("{base}/signin")).await;
    browser.type_into("#token", &writer.token).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for("Writing impact").await;
    browser.goto(&format!("{base}/posts/{post2}")).await;
    browser.wait_for("Write a note").await;
    browser.click("input[value=misleadingFactualError]").await;
    browser
        .type_into("#summary", "The number in this post is from 2019.")
        .await;
    browser
        .type_into("#sources", "https://example.org/2019-figures")
        .await;
    browser.click("form[action$='/notes'] button").await;
    browser
        .wait_for("The number in this post is from 2019.")
        .await;
    assert!(browser.title().await.starts_with("Post"));
    browser.screenshot("post-with-written-note").await;
    browser.goto(&format!("{base}/posts/{post1}")).await;
    browser.wait_for("threat to democracy").await;
    browser.screenshot("post-page").await;

    // A phone's width: every page fits without sideways scrolling.
    browser.emulate_phone(390, 844).await;
    let viewport = browser.script("return window.innerWidth").await;
    assert!(
        viewport.as_u64().is_some_and(|w| w <= 400),
        "a phone-sized viewport: {viewport}"
    );
    for (path, name) in [
        ("/".to_string(), "phone-timeline-needs-your-help"),
        (format!("/notes/{}", note.id), "phone-note-why-this-status"),
        (format!("/posts/{post1}"), "phone-post-page"),
        (format!("/posts/{post2}"), "phone-write-a-note"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        let widths = browser
            .script("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        let (content, window) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        assert!(
            content <= window,
            "{path} is {content} px wide on a {window} px phone screen"
        );
        browser.screenshot(name).await;
    }
    browser.quit().await;
    tx.send(()).ok();
}
