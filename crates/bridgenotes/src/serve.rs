//! `bridgenotes serve`: the service on a database, with scheduled scoring.

use std::sync::Arc;

use anyhow::Context;
use bridgenotes_service::clock::SystemClock;
use bridgenotes_service::scoring::{minutes, spawn_scheduler};
use bridgenotes_service::{AppState, Config, serve};

use crate::cli::ServeArgs;

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = bridgenotes_storage::connect(&args.database.database)
            .await
            .with_context(|| format!("opening database {}", args.database.database))?;
        let admin_token = args
            .admin_token
            .clone()
            .or_else(|| std::env::var("BRIDGENOTES_ADMIN_TOKEN").ok())
            .filter(|t| !t.is_empty());
        if admin_token.is_none() {
            tracing::warn!("no administrator token: admin routes refuse every request");
        }
        let config = Config {
            admin_token,
            rate_per_second: args.rate_limit,
            rate_burst: (args.rate_limit * 4.0).max(1.0),
            ..Config::default()
        };
        let state = AppState::new(store, Arc::new(SystemClock), config).await?;
        if args.score_every > 0 {
            spawn_scheduler(state.clone(), minutes(args.score_every));
        }
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        tracing::info!(
            "listening on http://{} ({} database)",
            listener.local_addr()?,
            state.store.dialect()
        );
        serve(listener, state, async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
        Ok(())
    })
}
