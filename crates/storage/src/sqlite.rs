//! SQLite: the default store, one file beside the service. WAL mode lets readers (API
//! reads, the scoring snapshot) run while one writer commits; writes go through a pool of
//! one connection, so transactions never fail on a busy database: they queue.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::migrate;

/// A community in an SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// A read transaction in WAL mode is already a snapshot.
    const SNAPSHOT_SQL: Option<&'static str> = None;

    /// Opens (creating if missing) the database file at `path` and migrates it.
    pub async fn open(path: &Path) -> crate::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        migrate(&writer, migrate::SQLITE, now).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { writer, reader })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }
}

crate::sql::store_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow, "sqlite");
