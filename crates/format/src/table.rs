//! Reading any TSV table as text, keyed by column name: for comparing output folders and
//! for reading the reference's intermediate tables.

use std::path::Path;

use crate::schema::parse_i64;
use crate::{FormatError, Result};

/// A TSV file held as text cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    /// Position of column `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The cells of column `name`.
    pub fn column(&self, name: &str) -> Option<impl Iterator<Item = &str>> {
        let at = self.position(name)?;
        Some(self.rows.iter().map(move |r| r[at].as_str()))
    }

    /// Column `name` parsed as floats (`None` for empty cells or text that is no number).
    pub fn floats(&self, name: &str) -> Option<Vec<Option<f64>>> {
        Some(self.column(name)?.map(|c| c.parse::<f64>().ok()).collect())
    }

    /// Column `name` parsed as integers.
    pub fn ints(&self, name: &str) -> Option<Vec<Option<i64>>> {
        Some(
            self.column(name)?
                .map(|c| parse_i64(c.as_bytes()))
                .collect(),
        )
    }
}

/// Reads a TSV file (plain or gzipped, with quoting) into text cells.
pub fn read_text_table(path: &Path) -> Result<TextTable> {
    let input = crate::source::open(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut table = TextTable::default();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| FormatError::Malformed {
            path: path.to_path_buf(),
            line: e.position().map_or(i as u64 + 1, |p| p.line()),
            message: e.to_string(),
        })?;
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if i == 0 {
            table.header = cells;
        } else if cells.len() != table.header.len() {
            return Err(FormatError::Ragged {
                path: path.to_path_buf(),
                line: i as u64 + 1,
                expected: table.header.len(),
                found: cells.len(),
            });
        } else {
            table.rows.push(cells);
        }
    }
    if table.header.is_empty() {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(table)
}
