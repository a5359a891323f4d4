//! Schema migrations: numbered SQL files per dialect, compiled into the binary. Each is
//! applied once, in its own transaction, and recorded in `schema_migrations` (the code that
//! applies them is in `sql`, shared by both dialects).

/// One migration: its number, name and SQL (several statements).
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// SQLite's migrations, in order.
pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        description: "community",
        sql: include_str!("../migrations/sqlite/0001_community.sql"),
    },
    Migration {
        version: 2,
        description: "intervals and sessions",
        sql: include_str!("../migrations/sqlite/0002_intervals_and_sessions.sql"),
    },
];

/// PostgreSQL's migrations, in order.
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        description: "community",
        sql: include_str!("../migrations/postgres/0001_community.sql"),
    },
    Migration {
        version: 2,
        description: "intervals and sessions",
        sql: include_str!("../migrations/postgres/0002_intervals_and_sessions.sql"),
    },
];
