//! Errors of the readers and writers. Every variant names the file; row errors name the
//! 1-based line (the header is line 1) and the column.

use std::path::PathBuf;

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}:{line}: column {column} ({name}): {problem}: {value:?}", path = path.display())]
    Cell {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
        problem: String,
        value: String,
    },

    #[error(
        "{path}:{line}: expected {expected} tab-separated fields as in the header, found {found}",
        path = path.display()
    )]
    Ragged {
        path: PathBuf,
        line: u64,
        expected: usize,
        found: usize,
    },

    #[error("{path}: required column {name} is missing from the header", path = path.display())]
    MissingColumn { path: PathBuf, name: String },

    #[error("{path}: the file is empty (expected a header line)", path = path.display())]
    Empty { path: PathBuf },

    #[error("{path}:{line}: {message}", path = path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{path}: no .tsv or .tsv.gz files in this directory", path = path.display())]
    EmptyDirectory { path: PathBuf },
}

impl FormatError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.into(),
            source,
        }
    }

    /// The same error with its line number (if any) moved `by` lines down.
    pub(crate) fn shifted(mut self, by: u64) -> Self {
        match &mut self {
            FormatError::Cell { line, .. }
            | FormatError::Ragged { line, .. }
            | FormatError::Malformed { line, .. } => *line += by,
            _ => {}
        }
        self
    }

    /// The 1-based line the error is on, where it has one.
    pub fn line(&self) -> Option<u64> {
        match self {
            FormatError::Cell { line, .. }
            | FormatError::Ragged { line, .. }
            | FormatError::Malformed { line, .. } => Some(*line),
            _ => None,
        }
    }
}
