//! Readers and writers for the Community Notes public data download.
//!
//! Inputs (`notes`, `ratings`, `noteStatusHistory`, `userEnrollment`, `noteRequests`) are
//! tab-separated files, plain or gzipped. Columns are matched by header name, so their order
//! may vary; unknown columns are ignored with one warning per file; optional (deprecated)
//! columns may be absent. A bad cell is a [`FormatError`] naming the file, line, column and
//! value: readers never panic and never skip a row silently.
//!
//! Every reader also reads from any [`std::io::Read`] (`read_*_from`), naming the file it
//! was given in its errors; that is what the fuzz targets in `fuzz/` (see `FUZZING.md`)
//! drive.
//!
//! # Hostile input
//!
//! What `bridgenotes score` does with damaged or unusual inputs
//! (`crates/bridgenotes/tests/hostile_input.rs` checks each), and what the reference scorer
//! does (`process_data.py`, which reads each file as UTF-8 text with pandas). An error
//! stops the run before any output file is replaced.
//!
//! | input | bridgenotes | reference |
//! |---|---|---|
//! | truncated gzip file | error naming the file (`incomplete deflate stream`, `unexpected end of file`) | error |
//! | plain file cut mid-row | error naming file and line: wrong number of fields | pandas fills the missing cells; the typed columns then fail or read as missing |
//! | note id twice, rows identical | the copy is dropped, with a warning counting such rows | dropped silently |
//! | note id twice, rows differ | error naming the notes file and the note id | assertion error |
//! | rating (rater, note) twice, identical | the copy is dropped, with a warning counting them | dropped silently |
//! | rating (rater, note) twice, differing | error naming the ratings file, the rater and the note | assertion error |
//! | ratings of notes in neither the notes file nor the status history | dropped, with a warning counting ratings and notes | dropped (logged) |
//! | notes or ratings created after the scoring time | scored as they are, with a warning counting them | scored as they are |
//! | a 10 MB line | read like any other line; an error shows at most the first 200 bytes of a cell | read |
//! | CRLF line ends | read like LF line ends; errors name the right line | same |
//! | a carriage return not followed by a line feed | part of its cell | ends the line |
//! | UTF-8 byte order mark | ignored at the start of the header | no effect: the header line is skipped and columns are taken by position |
//! | invalid UTF-8 (Latin-1 bytes) in any cell | error naming file, line and column (`invalid UTF-8`) | `UnicodeDecodeError` for the whole file |
//! | empty file | error naming the file (`the file is empty`) | error (`Expected N columns`) |
//! | header-only notes, status history or enrollment file | read as no rows; scored | read as no rows |
//! | header-only ratings file | error naming the file (`no ratings to score`), so that empty outputs never replace good ones | read as no rows (what its scorers then do is not checked here) |
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
