//! Matching header names to known columns, and typed access to the cells of a row with
//! errors that name file, line and column.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::{FormatError, Result};

/// How to read input files.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// The first line of each file is a header (the public download has one). Without
    /// headers, columns are taken in the public order and the count must match exactly.
    pub headers: bool,
    /// Keep rating columns the scorer never reads (`version`, `ratedOnTweetId`,
    /// `suggestion`, `suggestionId`) so a file can be written back as it was read.
    pub keep_unused_columns: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            headers: true,
            keep_unused_columns: false,
        }
    }
}

/// A column a reader knows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColumnSpec {
    pub name: &'static str,
    /// Other header spellings of the same column.
    pub aliases: &'static [&'static str],
    pub required: bool,
}

pub(crate) const fn required(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        aliases: &[],
        required: true,
    }
}

pub(crate) const fn optional(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        aliases: &[],
        required: false,
    }
}

/// Where each known column sits in one file.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub path: PathBuf,
    /// For each spec (by index), its 0-based field position in the file.
    pub positions: Vec<Option<usize>>,
    /// Header name of each field position.
    pub names: Vec<String>,
}

impl Layout {
    /// Maps a header line onto `specs`. Unknown columns are ignored with one warning.
    pub fn from_header(path: &Path, specs: &[ColumnSpec], header: &[&[u8]]) -> Result<Layout> {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                let raw = if i == 0 {
                    raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
                } else {
                    raw
                };
                String::from_utf8_lossy(raw).trim().to_string()
            })
            .collect();
        let mut positions = vec![None; specs.len()];
        let mut unknown = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let spec = specs
                .iter()
                .position(|s| s.name == name || s.aliases.contains(&name.as_str()));
            match spec {
                Some(index) if positions[index].is_none() => positions[index] = Some(position),
                Some(_) => {
                    return Err(FormatError::Malformed {
                        path: path.to_path_buf(),
                        line: 1,
                        message: format!("column {name} appears twice in the header"),
                    });
                }
                None => unknown.push(name.clone()),
            }
        }
        if let Some(missing) = specs
            .iter()
            .zip(&positions)
            .find(|(s, p)| s.required && p.is_none())
        {
            return Err(FormatError::MissingColumn {
                path: path.to_path_buf(),
                name: missing.0.name.to_string(),
            });
        }
        if !unknown.is_empty() {
            tracing::warn!(
                "{}: ignoring {} unknown column(s): {}",
                path.display(),
                unknown.len(),
                unknown.join(", ")
            );
        }
        Ok(Layout {
            path: path.to_path_buf(),
            positions,
            names,
        })
    }

    /// Columns in spec order, for a file without a header line of exactly `width` fields.
    pub fn positional(path: &Path, specs: &[ColumnSpec], width: usize) -> Result<Layout> {
        if width != specs.len() {
            return Err(FormatError::Malformed {
                path: path.to_path_buf(),
                line: 1,
                message: format!(
                    "expected {} columns without a header, but got {width}",
                    specs.len()
                ),
            });
        }
        Ok(Layout {
            path: path.to_path_buf(),
            positions: (0..specs.len()).map(Some).collect(),
            names: specs.iter().map(|s| s.name.to_string()).collect(),
        })
    }

    /// Number of fields every row must have.
    pub fn width(&self) -> usize {
        self.names.len()
    }
}

/// One data row, split into fields, with its 1-based line number.
pub(crate) struct Row<'r, 'a> {
    pub layout: &'r Layout,
    pub fields: &'r [&'a [u8]],
    pub line: u64,
}

impl<'a> Row<'_, 'a> {
    /// The raw cell of spec `column`, `None` when the file lacks that column.
    pub fn raw(&self, column: usize) -> Option<&'a [u8]> {
        self.layout.positions[column].map(|p| self.fields[p])
    }

    pub fn error(&self, column: usize, problem: &str) -> FormatError {
        let position = self.layout.positions[column].unwrap_or(0);
        FormatError::Cell {
            path: self.layout.path.clone(),
            line: self.line,
            column: position + 1,
            name: self.layout.names[position].clone(),
            problem: problem.to_string(),
            value: shown_value(self.fields[position]),
        }
    }

    /// A required text cell: present and valid UTF-8 (may be empty).
    pub fn text(&self, column: usize) -> Result<&'a str> {
        match self.raw(column) {
            Some(raw) => std::str::from_utf8(raw).map_err(|_| self.error(column, "invalid UTF-8")),
            None => Ok(""),
        }
    }

    /// A text cell that is missing when empty.
    pub fn opt_text(&self, column: usize) -> Result<Option<&'a str>> {
        let text = self.text(column)?;
        Ok(if text.is_empty() { None } else { Some(text) })
    }

    /// A required integer.
    pub fn int(&self, column: usize) -> Result<i64> {
        match self.raw(column) {
            None | Some(b"") => Err(self.error(column, "missing required integer")),
            Some(raw) => parse_i64(raw).ok_or_else(|| self.error(column, "not an integer")),
        }
    }

    /// An integer that may be missing (empty cell or absent column).
    pub fn opt_int(&self, column: usize) -> Result<Option<i64>> {
        match self.raw(column) {
            None | Some(b"") => Ok(None),
            Some(raw) => parse_i64(raw)
                .map(Some)
                .ok_or_else(|| self.error(column, "not an integer")),
        }
    }

    /// A float that may be missing. Accepts integers and Python's float text.
    pub fn opt_float(&self, column: usize) -> Result<Option<f64>> {
        match self.raw(column) {
            None | Some(b"") => Ok(None),
            Some(raw) => std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|v| !v.is_nan())
                .map(Some)
                .ok_or_else(|| self.error(column, "not a number")),
        }
    }

    /// A 0/1 flag; an empty cell or absent column reads as false.
    pub fn flag(&self, column: usize) -> Result<bool> {
        match self.raw(column) {
            None | Some(b"") | Some(b"0") => Ok(false),
            Some(b"1") => Ok(true),
            Some(_) => Err(self.error(column, "expected 0 or 1")),
        }
    }

    /// A named value of an enumeration; missing when empty.
    pub fn opt_enum<T: FromStr>(&self, column: usize) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        match self.opt_text(column)? {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|e: T::Err| self.error(column, &e.to_string())),
        }
    }

    /// A required named value of an enumeration.
    pub fn req_enum<T: FromStr>(&self, column: usize) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_enum(column)?
            .ok_or_else(|| self.error(column, "missing required value"))
    }
}

/// Longest cell text an error message repeats in full (in bytes).
const SHOWN_VALUE_BYTES: usize = 200;

/// A cell's text for an error message: lossy UTF-8, and cut after [`SHOWN_VALUE_BYTES`] with
/// a note of the full length, so that a megabyte-long cell makes a readable error.
fn shown_value(raw: &[u8]) -> String {
    if raw.len() <= SHOWN_VALUE_BYTES {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let mut end = SHOWN_VALUE_BYTES;
    // Cut at a character boundary where the text is UTF-8 (at most 3 bytes back).
    while end > SHOWN_VALUE_BYTES - 3 && end < raw.len() && raw[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    format!(
        "{}… ({} bytes in all)",
        String::from_utf8_lossy(&raw[..end]),
        raw.len()
    )
}

/// Parses a decimal integer (optional leading `-`) without allocating.
pub(crate) fn parse_i64(raw: &[u8]) -> Option<i64> {
    let (negative, digits) = match raw.first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate towards the sign so that i64::MIN parses too.
    let mut value: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(d as i64)?
        } else {
            value.checked_add(d as i64)?
        };
    }
    Some(value)
}

/// Reads every row of a (possibly quoted) TSV file with the `csv` crate, calling `each` with
/// the row. For files with free text (notes); ratings have a faster reader. `input` holds
/// the file's bytes (already decompressed); `path` names it in errors.
pub(crate) fn for_each_row(
    input: impl Read,
    path: &Path,
    options: &ReadOptions,
    specs: &[ColumnSpec],
    mut each: impl FnMut(&Row<'_, '_>) -> Result<()>,
) -> Result<()> {
    let mut reader = tsv_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut layout: Option<Layout> = None;
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(path, e))?;
        if !more {
            break;
        }
        let line = record_line(&reader, &record);
        if layout.is_none() {
            let header: Vec<&[u8]> = record.iter().collect();
            let first = if options.headers {
                Layout::from_header(path, specs, &header)?
            } else {
                Layout::positional(path, specs, header.len())?
            };
            layout = Some(first);
            if options.headers {
                continue;
            }
        }
        let layout = layout.as_ref().expect("layout set above");
        let mut fields: Vec<&[u8]> = record.iter().collect();
        strip_carriage_return(&mut fields);
        if fields.len() == 1 && fields[0].is_empty() {
            continue; // blank line
        }
        if fields.len() != layout.width() {
            return Err(FormatError::Ragged {
                path: path.to_path_buf(),
                line,
                expected: layout.width(),
                found: fields.len(),
            });
        }
        each(&Row {
            layout,
            fields: &fields,
            line,
        })?;
    }
    if layout.is_none() {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// The `csv` reader for input files: tab-separated, rows of any width (checked by the
/// caller), quotes as in the public download. Only a line feed ends a row: the carriage
/// return of a CRLF line end stays on the last field (callers strip it with
/// [`strip_carriage_return`]) and one elsewhere is part of its field, as in the fast ratings
/// path. (With the `csv` crate's default, a carriage return also ends a row and each row
/// after a CRLF line end reports the line before its own.)
pub(crate) fn tsv_reader<R: Read>(input: R) -> csv::Reader<Tracked<R>> {
    let input = Tracked {
        input,
        delivered: 0,
        at_end: false,
    };
    csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_reader(input)
}

/// An input that counts what it delivered and remembers whether it has ended, so that the
/// line a record starts on can be worked out from where it ends.
pub(crate) struct Tracked<R> {
    input: R,
    delivered: u64,
    at_end: bool,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(out)?;
        if n == 0 && !out.is_empty() {
            self.at_end = true;
        } else {
            self.delivered += n as u64;
        }
        Ok(n)
    }
}

/// The 1-based line `record` (just read by `reader`) starts on. The `csv` crate's own record
/// position is where it began looking for the record, before any blank lines it skipped;
/// this counts back from where the record ends instead: past the line feeds inside its
/// quoted fields, and past its terminating line feed unless the end of the input ended it.
///
/// `csv-core` ends a record at its line feed without looking further, so a record that
/// needed the end of the input (the reader saw it and the record ends where the input
/// does) has no terminator of its own — even when the input's last byte is a line feed:
/// that one sits inside a quoted field left open to the end, and is already counted.
pub(crate) fn record_line<R: Read>(
    reader: &csv::Reader<Tracked<R>>,
    record: &csv::ByteRecord,
) -> u64 {
    let end = reader.position();
    let input = reader.get_ref();
    let unterminated = input.at_end && end.byte() == input.delivered;
    let inside: u64 = record
        .iter()
        .map(|field| memchr::memchr_iter(b'\n', field).count() as u64)
        .sum();
    end.line()
        .saturating_sub(inside)
        .saturating_sub(u64::from(!unterminated))
        .max(1)
}

/// Drops the carriage return of a CRLF line end from the last field of a record.
pub(crate) fn strip_carriage_return(fields: &mut [&[u8]]) {
    if let Some(last) = fields.last_mut()
        && let Some(stripped) = last.strip_suffix(b"\r")
    {
        *last = stripped;
    }
}

fn csv_error(path: &Path, error: csv::Error) -> FormatError {
    let line = error.position().map_or(0, |p| p.line());
    match error.into_kind() {
        csv::ErrorKind::Io(e) => FormatError::io(path, e),
        other => FormatError::Malformed {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The line each record of `text` starts on, as the readers name it.
    fn record_lines(text: &[u8]) -> Vec<u64> {
        let mut reader = tsv_reader(text);
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            lines.push(record_line(&reader, &record));
        }
        lines
    }

    #[test]
    fn records_are_named_by_the_line_they_start_on() {
        assert_eq!(record_lines(b"a\tb\n\n\nc\td\n"), [1, 4]);
        assert_eq!(record_lines(b"a\tb\n\nc\td"), [1, 3]);
        // Line feeds inside a closed quote, then the row's own line feed.
        assert_eq!(record_lines(b"a\n\n\"x\ny\"\nc\n"), [1, 3, 5]);
        // A quote left open to the end: the input's last line feed is inside the field
        // (fuzz finding 6), with or without one.
        assert_eq!(record_lines(b"a\n\n\"x\ny\n"), [1, 3]);
        assert_eq!(record_lines(b"a\n\n\"x\ny"), [1, 3]);
        assert_eq!(record_lines(b"a\n\n\"x\n\n"), [1, 3]);
    }

    #[test]
    fn long_cells_are_cut_in_error_messages() {
        assert_eq!(shown_value(b"12x4"), "12x4");
        let long = "é".repeat(1 << 20);
        let shown = shown_value(long.as_bytes());
        assert!(shown.starts_with(&"é".repeat(100)), "{shown}");
        assert!(shown.ends_with("… (2097152 bytes in all)"), "{shown}");
        assert!(shown.len() < 300);
        assert!(
            !shown.contains('\u{FFFD}'),
            "cut inside a character: {shown}"
        );
    }

    proptest! {
        #[test]
        fn integers_parse_like_std(value in any::<i64>()) {
            prop_assert_eq!(parse_i64(value.to_string().as_bytes()), Some(value));
        }

        #[test]
        fn garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..24)) {
            let ours = parse_i64(&raw);
            let std = std::str::from_utf8(&raw).ok().and_then(|s| s.parse::<i64>().ok());
            prop_assert_eq!(ours, std);
        }
    }
}
