//! The bridgenotes service: contributors write and rate notes through a JSON API, and a
//! scheduled scoring run (the engine, on a snapshot of the database) decides their statuses.
//!
//! - [`api`]: the routes under `/api` and their OpenAPI document (`/api/openapi.json`).
//! - [`rules`]: the Community Notes rules (writing ability, limits, note content, requests,
//!   enrollment after scoring) as pure functions; storage runs them inside its write
//!   transactions.
//! - [`scoring`]: a scoring run, and the scheduler that repeats it.
//! - [`pages`]: the server-rendered HTML pages and forms (maud; every user text escaped).
//! - [`auth`]: bearer tokens (stored hashed) and the administrator token.
//! - [`clock`]: "now" ([`clock::SystemClock`], or a [`clock::TestClock`] tests advance).
//!
//! Invariants: the async runtime never runs the engine (scoring runs on a blocking thread);
//! every write is one storage transaction; a failed scoring run changes nothing.

pub mod api;
pub mod auth;
pub mod clock;
pub mod error;
pub mod ids;
pub mod needs_help;
pub mod pages;
pub mod ratelimit;
pub mod rules;
pub mod scoring;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use bridgenotes_storage::Store;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::ids::IdGenerator;
use crate::ratelimit::RateLimiter;

/// Service settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The administrator token (from `--admin-token` or `BRIDGENOTES_ADMIN_TOKEN`); without
    /// one, admin routes refuse everyone.
    pub admin_token: Option<String>,
    /// Requests per second each token may make on average…
    pub rate_per_second: f64,
    /// …and at once.
    pub rate_burst: f64,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Run the engine's pseudo-rater refits in scoring runs.
    pub pseudo_raters: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin_token: None,
            rate_per_second: 50.0,
            rate_burst: 200.0,
            body_limit: 64 * 1024,
            pseudo_raters: true,
        }
    }
}

/// What every handler shares.
pub struct Inner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub admin_token_hash: Option<String>,
    pub ids: IdGenerator,
    pub limiter: RateLimiter,
    /// Held for the length of a scoring run: runs never overlap.
    pub scoring: tokio::sync::Mutex<()>,
}

/// The service's shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// State over an opened (migrated) store.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> bridgenotes_storage::Result<AppState> {
        let floor = store.max_id().await?;
        Ok(AppState(Arc::new(Inner {
            admin_token_hash: config.admin_token.as_deref().map(auth::token_hash),
            limiter: RateLimiter::new(config.rate_per_second, config.rate_burst),
            ids: IdGenerator::new(floor),
            scoring: tokio::sync::Mutex::new(()),
            store,
            clock,
            config,
        })))
    }
}

/// The HTTP application.
pub fn app(state: AppState) -> axum::Router {
    let limit = state.config.body_limit;
    pages::routes()
        .merge(api::routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
