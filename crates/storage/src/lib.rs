//! Storage of a bridgenotes community: one [`Store`] trait and two implementations on sqlx,
//! [`sqlite::SqliteStore`] (the default: one file, WAL mode) and
//! [`postgres::PostgresStore`].
//!
//! - Schemas follow the public download format (column names, bit orders, millisecond
//!   times), so import, export and scoring read and write the engine's own row types.
//! - Each dialect has its own migrations (`migrations/sqlite`, `migrations/postgres`),
//!   applied by [`connect`] before anything else.
//! - Every write runs in one transaction; every SQL statement is parameterized.
//! - Writes that a rule may refuse (a note over a limit, a rating of one's own note) read
//!   the facts the rule needs inside the writing transaction, after locking the writer's row,
//!   and hand them to a check the caller supplies: storage knows no rules, and no two
//!   concurrent writes can both slip under a limit.

pub mod alias;
mod migrate;
pub mod model;
pub mod postgres;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use bridgenotes_engine::{Note, RatingRow};

pub use model::*;

/// Why a rule refused a write. Storage passes it through unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub kind: RefusalKind,
    /// Stable machine-readable code, e.g. `own_note`.
    pub code: &'static str,
    pub message: String,
}

/// The class of a refusal: what an HTTP layer would answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// Not allowed for this contributor (403).
    Forbidden,
    /// Over a rate or volume limit (429).
    Limit,
    /// Conflicts with what exists (409).
    Conflict,
    /// The input breaks a rule about its content (422).
    Invalid,
}

impl Refusal {
    pub fn new(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            kind,
            code,
            message: message.into(),
        }
    }
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration {version} ({description}) failed: {source}")]
    Migration {
        version: i64,
        description: String,
        source: sqlx::Error,
    },
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: expected postgres://…, sqlite:PATH or a file path")]
    UnsupportedUrl(String),
}

/// Result of storage operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A rule check run inside a writing transaction.
pub type Check<'a, F> = &'a (dyn Fn(&F) -> Result<(), Refusal> + Send + Sync);

/// The community's storage. Every method is one transaction.
#[async_trait]
pub trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn dialect(&self) -> &'static str;

    /// Creates a contributor; [`StoreError::Conflict`] if the participant id exists.
    async fn create_contributor(&self, new: &NewContributor) -> Result<Contributor>;
    /// The contributor whose API token hashes to `token_hash`.
    async fn contributor_by_token_hash(&self, token_hash: &str) -> Result<Option<Contributor>>;
    async fn contributor(&self, participant_id: &str) -> Result<Option<Contributor>>;

    /// Creates a post; [`StoreError::Conflict`] if its id or external id exists.
    async fn create_post(&self, post: &Post) -> Result<()>;
    async fn post(&self, id: i64) -> Result<Option<Post>>;

    /// Writes a note by `note.author` on post `note.tweet_id` if `check` accepts the
    /// writer's facts.
    async fn create_note(
        &self,
        note: &Note,
        now_millis: i64,
        check: Check<'_, WriterFacts>,
    ) -> Result<()>;
    /// Marks a note deleted; only its author may ([`RefusalKind::Forbidden`] otherwise).
    async fn delete_note(&self, note_id: i64, author: &str, now_millis: i64) -> Result<()>;
    async fn note(&self, note_id: i64) -> Result<Option<NoteView>>;
    /// A contributor's notes, newest first (deleted ones included).
    async fn notes_by_author(&self, participant_id: &str, limit: i64) -> Result<Vec<NoteView>>;
    /// The notes on a post that are not deleted, oldest first.
    async fn notes_on_post(&self, post_id: i64) -> Result<Vec<NoteView>>;
    /// Notes that are not deleted, for a timeline. `None`: the newest. `Some(status)`: those
    /// whose final status is `status`, newest first; for `NEEDS_MORE_RATINGS` unscored notes
    /// count too, and the fewest-rated come first (they need ratings most).
    async fn notes_by_status(&self, status: Option<&str>, limit: i64) -> Result<Vec<NoteView>>;

    /// Notes that may need the viewer's rating, for the "Needs your help" timeline: not
    /// deleted, status needs-more-ratings (or not scored yet), and — when `viewer` is given
    /// (a participant id) — neither written nor already rated by the viewer. The newest
    /// `limit` notes, newest first; ranking them is the caller's.
    async fn needs_help_candidates(
        &self,
        viewer: Option<&str>,
        limit: i64,
    ) -> Result<Vec<HelpCandidate>>;

    /// Stores a rating (replacing the rater's earlier rating of the note) if `check`
    /// accepts the facts. Returns whether an earlier rating was replaced.
    async fn rate(&self, rating: &RatingRow, check: Check<'_, RaterFacts>) -> Result<bool>;
    /// The ratings of one note.
    async fn ratings_of_note(&self, note_id: i64) -> Result<Vec<RatingRow>>;

    /// Stores a note request if `check` accepts the requester's facts.
    async fn request_note(
        &self,
        request: &NoteRequestRecord,
        check: Check<'_, RequesterFacts>,
    ) -> Result<()>;
    /// Requests made at or after `since_millis`, and which posts have notes.
    async fn request_facts(&self, since_millis: i64) -> Result<RequestFacts>;

    /// The four public tables in one consistent snapshot (the scorer's input).
    async fn snapshot(&self) -> Result<PublicData>;
    /// Stores a scoring run's results in one transaction: all or nothing. Returns the run id.
    async fn store_scoring(&self, result: &ScoringResult) -> Result<i64>;
    /// The latest scoring run.
    async fn latest_run(&self) -> Result<Option<ScoringRun>>;
    /// All rater scores of the latest run, keyed by participant id.
    async fn rater_scores(&self) -> Result<Vec<RaterScore>>;

    /// Stores a new browser session (by the hash of its cookie value) and drops expired ones.
    async fn create_session(
        &self,
        id_hash: &str,
        contributor_id: i64,
        csrf: &str,
        now_millis: i64,
        expires_at_millis: i64,
    ) -> Result<()>;
    /// The session whose cookie value hashes to `id_hash`, if it has not expired by
    /// `now_millis`.
    async fn session(&self, id_hash: &str, now_millis: i64) -> Result<Option<SessionRecord>>;
    /// Ends a session (signing out). Ending one that does not exist is no error.
    async fn delete_session(&self, id_hash: &str) -> Result<()>;

    /// Loads a public download (one transaction). Participants get contributor rows
    /// without tokens; posts are created for the notes' post ids.
    async fn import(&self, data: &PublicData, now_millis: i64) -> Result<ImportCounts>;
    /// The largest note or post id in use (ids handed out later must be above it).
    async fn max_id(&self) -> Result<i64>;
}

/// Opens the database at `url` and applies its migrations.
///
/// `postgres://…` or `postgresql://…` opens PostgreSQL; `sqlite:PATH` or a plain path opens
/// (creating if needed) an SQLite file.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(sqlite::SqliteStore::open(path.as_ref()).await?))
    } else if url.contains("://") {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    } else {
        Ok(Arc::new(sqlite::SqliteStore::open(url.as_ref()).await?))
    }
}

pub mod testing {
    //! Fresh databases for tests: an SQLite file in a temporary folder, or a PostgreSQL
    //! schema of its own (so test runs and tests in one run never see each other's rows).

    use std::sync::atomic::{AtomicU64, Ordering};

    use sqlx::postgres::PgConnectOptions;

    use crate::postgres::PostgresStore;

    /// The PostgreSQL server tests use: `BRIDGENOTES_TEST_POSTGRES`, else
    /// `postgres://postgres@127.0.0.1:5432/test`.
    pub fn postgres_url() -> String {
        std::env::var("BRIDGENOTES_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
    }

    /// A store in a new, empty schema of the test database. Fails (never skips) when the
    /// server cannot be reached. Drop the schema with [`drop_schema`] when done.
    pub async fn fresh_postgres() -> crate::Result<(PostgresStore, String)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let url = postgres_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let options: PgConnectOptions = url.parse()?;
        let admin = sqlx::PgPool::connect_with(options.clone()).await?;
        // The schema name is made here from digits and letters: no user input.
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let store =
            PostgresStore::connect_with(options.options([("search_path", schema.as_str())]))
                .await?;
        Ok((store, schema))
    }

    /// Drops a schema made by [`fresh_postgres`].
    pub async fn drop_schema(schema: &str) -> crate::Result<()> {
        let admin = sqlx::PgPool::connect(&postgres_url()).await?;
        sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(())
    }

    /// A new, empty database of its own on the test server, for tests that run the service
    /// as a separate process: its name (`PREFIX_PID`) and URL. `prefix` must be letters,
    /// digits and underscores. A leftover of the same name is dropped first. Drop it with
    /// [`drop_database`] when done.
    pub async fn fresh_database(prefix: &str) -> crate::Result<(String, String)> {
        let base = postgres_url();
        let name = plain_identifier(&format!("{prefix}_{}", std::process::id()));
        let admin = sqlx::PgPool::connect(&base).await?;
        // `plain_identifier` checked the name: letters, digits and underscores only.
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let server = base
            .rsplit_once('/')
            .map_or(base.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        Ok((name, url))
    }

    /// `name`, which is pasted into SQL (database names cannot be bound): panics unless it is
    /// only ASCII letters, digits and underscores.
    fn plain_identifier(name: &str) -> String {
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "database name {name:?}: letters, digits and underscores only"
        );
        name.to_string()
    }

    /// Drops a database made by [`fresh_database`].
    pub async fn drop_database(name: &str) -> crate::Result<()> {
        let name = plain_identifier(name);
        let admin = sqlx::PgPool::connect(&postgres_url()).await?;
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(())
    }
}
