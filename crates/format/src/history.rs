//! The note status history file (`noteStatusHistory-00000.tsv`).

use std::io::Read;
use std::path::Path;

use bridgenotes_engine::history::STATUS_HISTORY_COLUMNS as NAMES;
use bridgenotes_engine::{NoteStatus, StatusHistoryRow};

use crate::float::push_integral_or_repr;
use crate::schema::{ColumnSpec, Row, for_each_row, optional, required};
use crate::write::{push_int, push_public_text, write_lines};
use crate::{FormatError, ReadOptions, Result};

/// Columns of the status history file, in public order.
pub(crate) const SPECS: [ColumnSpec; 24] = {
    let mut specs = [optional(""); 24];
    let mut i = 0;
    while i < 24 {
        specs[i] = if i < 3 {
            required(NAMES[i])
        } else {
            optional(NAMES[i])
        };
        i += 1;
    }
    specs
};

const FIRST_NMR_DUE_TO_MIN_STABLE_CRH: usize = 22;
const ABOVE_PCRH_THRESHOLD: usize = 23;

fn parse(row: &Row<'_, '_>) -> Result<StatusHistoryRow> {
    let author = row.text(1)?;
    if author.is_empty() {
        return Err(row.error(1, "missing required participant id"));
    }
    let mut h = StatusHistoryRow {
        note_id: row.int(0)?,
        author: author.to_string(),
        created_at_millis: row.int(2)?,
        timestamp_millis_of_first_non_nmr_status: row.opt_float(3)?,
        first_non_nmr_status: row.opt_enum(4)?,
        timestamp_millis_of_current_status: row.opt_float(5)?,
        current_status: row.opt_enum(6)?,
        timestamp_millis_of_latest_non_nmr_status: row.opt_float(7)?,
        most_recent_non_nmr_status: row.opt_enum(8)?,
        timestamp_millis_of_status_lock: row.opt_float(9)?,
        locked_status: row.opt_enum(10)?,
        timestamp_millis_of_retro_lock: row.opt_float(11)?,
        current_core_status: row.opt_enum(12)?,
        current_expansion_status: row.opt_enum(13)?,
        current_group_status: row.opt_enum(14)?,
        current_decided_by: row.opt_text(15)?.map(str::to_string),
        current_modeling_group: row.opt_float(16)?,
        timestamp_millis_of_most_recent_status_change: row.opt_float(17)?,
        timestamp_millis_of_nmr_due_to_min_stable_crh_time: row.opt_float(18)?,
        current_multi_group_status: row.opt_enum(19)?,
        current_modeling_multi_group: row.opt_float(20)?,
        timestamp_minute_of_final_scoring_output: row.opt_float(21)?,
        timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: row.opt_float(22)?,
        above_pcrh_threshold_time: row.opt_float(23)?,
    };
    // The reference reads a 23-column file (one without abovePcrhThresholdTime) by blanking
    // the 23rd column too.
    if row.layout.positions[ABOVE_PCRH_THRESHOLD].is_none()
        && row.layout.positions[FIRST_NMR_DUE_TO_MIN_STABLE_CRH].is_some()
    {
        h.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time = None;
    }
    Ok(h)
}

/// Reads a note status history file (plain or gzipped).
pub fn read_status_history(path: &Path, options: &ReadOptions) -> Result<Vec<StatusHistoryRow>> {
    let input = crate::source::open_file(path)?;
    read_status_history_from(input, path, options)
}

/// Reads a note status history file from `input` (plain or gzipped bytes); `path` names it in errors.
pub fn read_status_history_from(
    input: impl Read + Send,
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<StatusHistoryRow>> {
    let input = crate::source::decompressing(input).map_err(|e| FormatError::io(path, e))?;
    let mut rows = Vec::new();
    for_each_row(input, path, options, &SPECS, |row| {
        rows.push(parse(row)?);
        Ok(())
    })?;
    Ok(rows)
}

/// The header line of the status history file.
pub fn header() -> String {
    NAMES.join("\t") + "\n"
}

fn push_time(out: &mut String, value: Option<f64>) {
    out.push('\t');
    if let Some(v) = value {
        push_integral_or_repr(out, v);
    }
}

fn push_status(out: &mut String, value: Option<NoteStatus>) {
    out.push('\t');
    if let Some(s) = value {
        out.push_str(s.as_str());
    }
}

/// Appends one row in the public download's style (integral timestamps without `.0`).
pub fn push_status_history_line(out: &mut String, h: &StatusHistoryRow) {
    push_int(out, h.note_id);
    out.push('\t');
    push_public_text(out, &h.author);
    out.push('\t');
    push_int(out, h.created_at_millis);
    push_time(out, h.timestamp_millis_of_first_non_nmr_status);
    push_status(out, h.first_non_nmr_status);
    push_time(out, h.timestamp_millis_of_current_status);
    push_status(out, h.current_status);
    push_time(out, h.timestamp_millis_of_latest_non_nmr_status);
    push_status(out, h.most_recent_non_nmr_status);
    push_time(out, h.timestamp_millis_of_status_lock);
    push_status(out, h.locked_status);
    push_time(out, h.timestamp_millis_of_retro_lock);
    push_status(out, h.current_core_status);
    push_status(out, h.current_expansion_status);
    push_status(out, h.current_group_status);
    out.push('\t');
    if let Some(d) = &h.current_decided_by {
        push_public_text(out, d);
    }
    push_time(out, h.current_modeling_group);
    push_time(out, h.timestamp_millis_of_most_recent_status_change);
    push_time(out, h.timestamp_millis_of_nmr_due_to_min_stable_crh_time);
    push_status(out, h.current_multi_group_status);
    push_time(out, h.current_modeling_multi_group);
    push_time(out, h.timestamp_minute_of_final_scoring_output);
    push_time(
        out,
        h.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time,
    );
    push_time(out, h.above_pcrh_threshold_time);
    out.push('\n');
}

/// Writes a status history atomically in the public download's format.
pub fn write_status_history(path: &Path, rows: &[StatusHistoryRow]) -> Result<()> {
    write_lines(path, &header(), rows, push_status_history_line)
}
