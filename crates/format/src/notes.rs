//! The notes file (`notes-00000.tsv`).

use std::io::Read;
use std::path::Path;

use bridgenotes_engine::Note;
use bridgenotes_engine::note::{MISLEADING_REASONS, NOT_MISLEADING_REASONS};

use crate::schema::{ColumnSpec, Row, for_each_row, optional, required};
use crate::write::{push_int, push_public_text, write_lines};
use crate::{FormatError, ReadOptions, Result};

const NOTE_ID: usize = 0;
const AUTHOR: usize = 1;
const CREATED_AT: usize = 2;
const TWEET_ID: usize = 3;
const CLASSIFICATION: usize = 4;
const BELIEVABLE: usize = 5;
const HARMFUL: usize = 6;
const VALIDATION_DIFFICULTY: usize = 7;
const MISLEADING: usize = 8;
const NOT_MISLEADING: usize = 15;
const TRUSTWORTHY_SOURCES: usize = 20;
const SUMMARY: usize = 21;
const IS_MEDIA_NOTE: usize = 22;
const IS_COLLABORATIVE_NOTE: usize = 23;

/// Columns of the notes file, in public order.
pub(crate) const SPECS: [ColumnSpec; 24] = [
    required("noteId"),
    ColumnSpec {
        name: "noteAuthorParticipantId",
        aliases: &["participantId"],
        required: true,
    },
    required("createdAtMillis"),
    required("tweetId"),
    required("classification"),
    optional("believable"),
    optional("harmful"),
    optional("validationDifficulty"),
    optional(MISLEADING_REASONS[0]),
    optional(MISLEADING_REASONS[1]),
    optional(MISLEADING_REASONS[2]),
    optional(MISLEADING_REASONS[3]),
    optional(MISLEADING_REASONS[4]),
    optional(MISLEADING_REASONS[5]),
    optional(MISLEADING_REASONS[6]),
    optional(NOT_MISLEADING_REASONS[0]),
    optional(NOT_MISLEADING_REASONS[1]),
    optional(NOT_MISLEADING_REASONS[2]),
    optional(NOT_MISLEADING_REASONS[3]),
    optional(NOT_MISLEADING_REASONS[4]),
    optional("trustworthySources"),
    required("summary"),
    optional("isMediaNote"),
    optional("isCollaborativeNote"),
];

fn parse(row: &Row<'_, '_>) -> Result<Note> {
    let mut misleading = [false; 7];
    for (i, flag) in misleading.iter_mut().enumerate() {
        *flag = row.flag(MISLEADING + i)?;
    }
    let mut not_misleading = [false; 5];
    for (i, flag) in not_misleading.iter_mut().enumerate() {
        *flag = row.flag(NOT_MISLEADING + i)?;
    }
    let author = row.text(AUTHOR)?;
    if author.is_empty() {
        return Err(row.error(AUTHOR, "missing required participant id"));
    }
    Ok(Note {
        note_id: row.int(NOTE_ID)?,
        author: author.to_string(),
        created_at_millis: row.int(CREATED_AT)?,
        tweet_id: row.int(TWEET_ID)?,
        classification: row.req_enum(CLASSIFICATION)?,
        believable: row.opt_text(BELIEVABLE)?.map(str::to_string),
        harmful: row.opt_text(HARMFUL)?.map(str::to_string),
        validation_difficulty: row.opt_text(VALIDATION_DIFFICULTY)?.map(str::to_string),
        misleading,
        not_misleading,
        trustworthy_sources: row.flag(TRUSTWORTHY_SOURCES)?,
        summary: row.text(SUMMARY)?.to_string(),
        is_media_note: row.flag(IS_MEDIA_NOTE)?,
        is_collaborative_note: row.flag(IS_COLLABORATIVE_NOTE)?,
    })
}

/// Reads a notes file (plain or gzipped).
pub fn read_notes(path: &Path, options: &ReadOptions) -> Result<Vec<Note>> {
    let input = crate::source::open_file(path)?;
    read_notes_from(input, path, options)
}

/// Reads a notes file from `input` (plain or gzipped bytes); `path` names it in errors.
pub fn read_notes_from(
    input: impl Read + Send,
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<Note>> {
    let input = crate::source::decompressing(input).map_err(|e| FormatError::io(path, e))?;
    let mut notes = Vec::new();
    for_each_row(input, path, options, &SPECS, |row| {
        notes.push(parse(row)?);
        Ok(())
    })?;
    Ok(notes)
}

/// The header line of the notes file.
pub fn header() -> String {
    let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
    names.join("\t") + "\n"
}

fn push_flag(out: &mut String, flag: bool) {
    out.push_str(if flag { "1" } else { "0" });
}

/// Appends one note as a line of the notes file.
pub fn push_note_line(out: &mut String, note: &Note) {
    push_int(out, note.note_id);
    out.push('\t');
    push_public_text(out, &note.author);
    out.push('\t');
    push_int(out, note.created_at_millis);
    out.push('\t');
    push_int(out, note.tweet_id);
    out.push('\t');
    out.push_str(note.classification.name());
    for text in [&note.believable, &note.harmful, &note.validation_difficulty] {
        out.push('\t');
        if let Some(text) = text {
            push_public_text(out, text);
        }
    }
    for &flag in note.misleading.iter().chain(&note.not_misleading) {
        out.push('\t');
        push_flag(out, flag);
    }
    out.push('\t');
    push_flag(out, note.trustworthy_sources);
    out.push('\t');
    push_public_text(out, &note.summary);
    out.push('\t');
    push_flag(out, note.is_media_note);
    out.push('\t');
    push_flag(out, note.is_collaborative_note);
    out.push('\n');
}

/// Writes notes atomically in the public format.
pub fn write_notes(path: &Path, notes: &[Note]) -> Result<()> {
    write_lines(path, &header(), notes, push_note_line)
}
