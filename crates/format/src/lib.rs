//! Readers and writers for the Community Notes public data download.
//!
//! Inputs (`notes`, `ratings`, `noteStatusHistory`, `userEnrollment`, `noteRequests`) are
//! tab-separated files, plain or gzipped. Columns are matched by header name, so their order
//! may vary; unknown columns are ignored with one warning per file; optional (deprecated)
//! columns may be absent. A bad cell is a [`FormatError`] naming the file, line, column and
//! value: readers never panic and never skip a row silently.
//!
//! Outputs are written the way the reference scorer's pandas writer writes them (see
//! [`float`] for number text) and atomically: to a temporary file in the target directory,
//! renamed over the target only when complete.

pub mod cache;
pub mod compare;
pub mod enrollment;
pub mod error;
pub mod float;
pub mod history;
pub mod notes;
pub mod prescoring;
pub mod ratings;
pub mod requests;
mod schema;
pub mod source;
pub mod table;
pub mod write;

pub use error::FormatError;
pub use schema::ReadOptions;

/// Result of this crate's operations.
pub type Result<T, E = FormatError> = std::result::Result<T, E>;
