//! The note requests file (`noteRequests-00000.tsv`). The scorer does not read it; the
//! service imports and exports it.

use std::io::Read;
use std::path::Path;

use bridgenotes_engine::NoteRequest;

use crate::schema::{ColumnSpec, Row, for_each_row, required};
use crate::write::{push_int, push_public_text, write_lines};
use crate::{FormatError, ReadOptions, Result};

/// Columns of the note requests file, in public order.
pub(crate) const SPECS: [ColumnSpec; 7] = [
    required("tweetId"),
    required("sourceLinks"),
    required("suggestions"),
    required("noteRequestFeedEligibleTimestamp"),
    required("apiSmallFeedEligibleTimestamp"),
    required("apiLargeFeedEligibleTimestamp"),
    required("apiXlFeedEligibleTimestamp"),
];

fn parse(row: &Row<'_, '_>) -> Result<NoteRequest> {
    Ok(NoteRequest {
        tweet_id: row.int(0)?,
        source_links: row.text(1)?.to_string(),
        suggestions: row.text(2)?.to_string(),
        note_request_feed_eligible_timestamp: row.int(3)?,
        api_small_feed_eligible_timestamp: row.int(4)?,
        api_large_feed_eligible_timestamp: row.int(5)?,
        api_xl_feed_eligible_timestamp: row.int(6)?,
    })
}

/// Reads a note requests file (plain or gzipped).
pub fn read_note_requests(path: &Path, options: &ReadOptions) -> Result<Vec<NoteRequest>> {
    let input = crate::source::open_file(path)?;
    read_note_requests_from(input, path, options)
}

/// Reads a note requests file from `input` (plain or gzipped bytes); `path` names it in errors.
pub fn read_note_requests_from(
    input: impl Read + Send,
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<NoteRequest>> {
    let input = crate::source::decompressing(input).map_err(|e| FormatError::io(path, e))?;
    let mut rows = Vec::new();
    for_each_row(input, path, options, &SPECS, |row| {
        rows.push(parse(row)?);
        Ok(())
    })?;
    Ok(rows)
}

/// The header line of the note requests file.
pub fn header() -> String {
    let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
    names.join("\t") + "\n"
}

/// Appends one request in the public format.
pub fn push_note_request_line(out: &mut String, r: &NoteRequest) {
    push_int(out, r.tweet_id);
    out.push('\t');
    push_public_text(out, &r.source_links);
    out.push('\t');
    push_public_text(out, &r.suggestions);
    for t in [
        r.note_request_feed_eligible_timestamp,
        r.api_small_feed_eligible_timestamp,
        r.api_large_feed_eligible_timestamp,
        r.api_xl_feed_eligible_timestamp,
    ] {
        out.push('\t');
        push_int(out, t);
    }
    out.push('\n');
}

/// Writes note requests atomically in the public format.
pub fn write_note_requests(path: &Path, rows: &[NoteRequest]) -> Result<()> {
    write_lines(path, &header(), rows, push_note_request_line)
}
