//! PostgreSQL: for communities that outgrow one file or want a managed database. One pool
//! serves reads and writes; the scoring snapshot is a REPEATABLE READ transaction.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::migrate;

/// A community in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    const SNAPSHOT_SQL: Option<&'static str> =
        Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");

    /// Connects to `url` (`postgres://user@host:port/database`) and migrates the database.
    pub async fn connect(url: &str) -> crate::Result<PostgresStore> {
        let options: PgConnectOptions = url.parse()?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options (tests use them to pick a schema) and migrates.
    pub async fn connect_with(options: PgConnectOptions) -> crate::Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        migrate(&pool, migrate::POSTGRES, now).await?;
        Ok(PostgresStore { pool })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }
}

crate::sql::store_impl!(
    PostgresStore,
    sqlx::Postgres,
    sqlx::postgres::PgRow,
    "postgres"
);
