//! Reading the golden reference files in the engine's own tests (the engine crate cannot use
//! the format crate's readers here without a dependency cycle).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A golden dataset's folder (shared/ sits beside the checkout).
pub fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden")
        .join(name)
}

/// A gzipped TSV file read as text: header names and rows of cells. The golden files have
/// no quoted fields (checked), so splitting on tabs is exact.
pub struct Tsv {
    pub columns: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl Tsv {
    /// Reads `relative` inside the dataset folder `dataset`.
    pub fn read(dataset: &Path, relative: &str) -> Tsv {
        let path = dataset.join(relative);
        let file = std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("golden file {}: {e}", path.display()));
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .expect("gzipped UTF-8 text");
        assert!(!text.contains('"'), "{relative}: quoted fields");
        let mut lines = text.lines();
        let columns: HashMap<String, usize> = lines
            .next()
            .expect("a header")
            .split('\t')
            .enumerate()
            .map(|(i, name)| (name.to_string(), i))
            .collect();
        let rows: Vec<Vec<String>> = lines
            .map(|line| line.split('\t').map(str::to_string).collect())
            .collect();
        for row in &rows {
            assert_eq!(row.len(), columns.len(), "{relative}: ragged row");
        }
        Tsv { columns, rows }
    }

    /// Position of column `name`.
    pub fn col(&self, name: &str) -> usize {
        *self
            .columns
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Column `name` of every row.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }

    /// Column `name` as numbers (`None` for empty cells).
    pub fn floats(&self, name: &str) -> Vec<Option<f64>> {
        self.column(name)
            .iter()
            .map(|c| (!c.is_empty()).then(|| c.parse().expect("a number")))
            .collect()
    }

    /// Rows keyed by `noteId`.
    pub fn by_note(&self) -> HashMap<i64, &Vec<String>> {
        let c = self.col("noteId");
        self.rows
            .iter()
            .map(|r| (r[c].parse().expect("a note id"), r))
            .collect()
    }
}
