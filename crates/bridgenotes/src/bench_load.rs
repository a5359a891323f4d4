//! `bridgenotes bench-load`: a load generator for the service. It seeds writers, posts and
//! notes through the API, then holds N concurrent raters (one contributor each) rating
//! random notes for a bounded time or number of requests, and reports requests per second,
//! latency percentiles and errors.
//!
//! Without `--url` it serves the database given by `--database` itself, on its own runtime
//! and an ephemeral loopback port, with the per-token rate limit off; with `--url` it loads
//! a running `bridgenotes serve` (whose rate limit must allow the load).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bridgenotes_engine::rating::HELPFUL_TAGS;
use bridgenotes_service::clock::SystemClock;
use bridgenotes_service::{AppState, Config, serve};
use serde_json::{Value, json};

use crate::cli::BenchLoadArgs;

/// What a load run measured.
#[derive(Debug, serde::Serialize)]
pub struct LoadReport {
    pub clients: usize,
    pub seconds: f64,
    /// Ratings acknowledged with a 2xx answer.
    pub ok: u64,
    /// Requests answered otherwise, or not at all.
    pub errors: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// A few of the errors, for the reader.
    pub error_samples: Vec<String>,
}

/// SplitMix64: each client's choice of notes and levels, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

pub fn run(args: &BenchLoadArgs) -> anyhow::Result<()> {
    if args.clients == 0 || args.notes == 0 {
        bail!("--clients and --notes must be at least 1");
    }
    let (base, admin_token, _server) = match &args.url {
        Some(url) => {
            let token = args
                .admin_token
                .clone()
                .or_else(|| std::env::var("BRIDGENOTES_ADMIN_TOKEN").ok())
                .context("--url needs the server's --admin-token (or BRIDGENOTES_ADMIN_TOKEN)")?;
            (url.trim_end_matches('/').to_string(), token, None)
        }
        None => {
            let token = bridgenotes_service::auth::new_token();
            let server = InProcessServer::start(&args.database, &token)?;
            (server.base.clone(), token, Some(server))
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(load(args, &base, &admin_token))?;
    println!(
        "{} clients, {:.1} s: {} ratings acknowledged, {} errors; {:.0} requests/s; \
         latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        report.clients,
        report.seconds,
        report.ok,
        report.errors,
        report.requests_per_second,
        report.p50_ms,
        report.p90_ms,
        report.p99_ms,
        report.max_ms
    );
    for sample in &report.error_samples {
        println!("  error: {sample}");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The service on its own runtime (its own threads), stopped on drop.
struct InProcessServer {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl InProcessServer {
    fn start(database: &str, admin_token: &str) -> anyhow::Result<InProcessServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let (state, listener) = runtime.block_on(async {
            let store = bridgenotes_storage::connect(database)
                .await
                .with_context(|| format!("opening database {database}"))?;
            let config = Config {
                admin_token: Some(admin_token.to_string()),
                rate_per_second: 1e12,
                rate_burst: 1e12,
                ..Config::default()
            };
            let state = AppState::new(store, Arc::new(SystemClock), config).await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            anyhow::Ok((state, listener))
        })?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(serve(listener, state, async {
                stopped.await.ok();
            }))?;
            Ok(())
        });
        Ok(InProcessServer {
            base,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = client
        .request(method, &url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .with_context(|| url.clone())?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url}: {status} {body}");
    }
    Ok(body)
}

/// Seeds the community and runs the raters.
async fn load(args: &BenchLoadArgs, base: &str, admin: &str) -> anyhow::Result<LoadReport> {
    let client = reqwest::Client::new();
    let contributor = |state: &'static str| {
        let client = client.clone();
        let url = format!("{base}/api/admin/contributors");
        async move {
            let body = call(
                &client,
                reqwest::Method::POST,
                url,
                admin,
                json!({ "enrollment_state": state }),
            )
            .await?;
            body["token"]
                .as_str()
                .map(str::to_string)
                .context("no token in the answer")
        }
    };
    // Three notes per writer, each on another post author's post (the per-author limit).
    let run_tag = bridgenotes_service::auth::random_hex(4);
    let mut notes = Vec::with_capacity(args.notes);
    while notes.len() < args.notes {
        let writer = contributor("earnedIn").await?;
        for k in 0..3.min(args.notes - notes.len()) {
            let i = notes.len();
            let post = call(
                &client,
                reqwest::Method::POST,
                format!("{base}/api/posts"),
                &writer,
                json!({"external_id": format!("load-{run_tag}-{i}"),
                    "author_handle": format!("load-author-{k}"), "text": "A claim to check."}),
            )
            .await?;
            let note = call(
                &client,
                reqwest::Method::POST,
                format!("{base}/api/notes"),
                &writer,
                json!({"post_id": post["id"], "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING",
                    "reasons": ["misleadingMissingImportantContext"],
                    "summary": "The figure is from 2019: https://example.org/stats"}),
            )
            .await?;
            notes.push(note["id"].as_str().context("no note id")?.to_string());
        }
    }
    let mut raters = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        raters.push(contributor("newUser").await?);
    }
    let notes = Arc::new(notes);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let per_client = args.max_requests.map(|n| n.div_ceil(args.clients as u64));
    let tasks: Vec<_> = raters
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let client = reqwest::Client::new();
            let notes = Arc::clone(&notes);
            let base = base.to_string();
            let seed = args.seed ^ ((i as u64) << 32);
            tokio::spawn(async move {
                rater(client, base, token, notes, seed, deadline, per_client).await
            })
        })
        .collect();
    let mut latencies: Vec<u32> = Vec::new();
    let (mut errors, mut samples) = (0u64, Vec::new());
    for task in tasks {
        let outcome = task.await?;
        latencies.extend(outcome.latencies_us);
        errors += outcome.errors;
        for s in outcome.error_samples {
            if samples.len() < 5 {
                samples.push(s);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let quantile = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        f64::from(latencies[rank - 1]) / 1000.0
    };
    Ok(LoadReport {
        clients: args.clients,
        seconds,
        ok: latencies.len() as u64,
        errors,
        requests_per_second: (latencies.len() as u64 + errors) as f64 / seconds,
        p50_ms: quantile(0.50),
        p90_ms: quantile(0.90),
        p99_ms: quantile(0.99),
        max_ms: quantile(1.0),
        error_samples: samples,
    })
}

/// What one rater saw.
struct Outcome {
    latencies_us: Vec<u32>,
    errors: u64,
    error_samples: Vec<String>,
}

/// Rates random notes, one request at a time, until the deadline or its request budget.
async fn rater(
    client: reqwest::Client,
    base: String,
    token: String,
    notes: Arc<Vec<String>>,
    seed: u64,
    deadline: Instant,
    budget: Option<u64>,
) -> Outcome {
    let mut rng = Rng(seed);
    let mut outcome = Outcome {
        latencies_us: Vec::new(),
        errors: 0,
        error_samples: Vec::new(),
    };
    let mut sent = 0u64;
    while Instant::now() < deadline && budget.is_none_or(|b| sent < b) {
        sent += 1;
        let note = &notes[(rng.next() % notes.len() as u64) as usize];
        let body = match rng.next() % 3 {
            0 => json!({"helpfulness_level": "HELPFUL",
                "tags": [HELPFUL_TAGS[(rng.next() % 9) as usize]]}),
            1 => json!({"helpfulness_level": "SOMEWHAT_HELPFUL", "tags": []}),
            _ => json!({"helpfulness_level": "NOT_HELPFUL",
                "tags": ["notHelpfulIncorrect", "notHelpfulSourcesMissingOrUnreliable"]}),
        };
        let url = format!("{base}/api/notes/{note}/rating");
        let start = Instant::now();
        let result = client
            .put(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let error = match result {
            Ok(response) if response.status().is_success() => {
                // Read the whole answer: the request is done when its body is.
                match response.bytes().await {
                    Ok(_) => None,
                    Err(e) => Some(e.to_string()),
                }
            }
            Ok(response) => {
                let status = response.status();
                Some(format!(
                    "{status} {}",
                    response.text().await.unwrap_or_default()
                ))
            }
            Err(e) => Some(e.to_string()),
        };
        match error {
            None => outcome
                .latencies_us
                .push(start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
            Some(e) => {
                outcome.errors += 1;
                if outcome.error_samples.len() < 2 {
                    outcome.error_samples.push(e);
                }
            }
        }
    }
    outcome
}
