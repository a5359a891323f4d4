//! The user enrollment file (`userEnrollment-00000.tsv`).

use std::io::Read;
use std::path::Path;

use bridgenotes_engine::Enrollment;

use crate::float::push_integral_or_repr;
use crate::schema::{ColumnSpec, Row, for_each_row, optional, required};
use crate::write::{push_int, push_public_text, write_lines};
use crate::{FormatError, ReadOptions, Result};

/// Columns of the enrollment file, in public order.
pub(crate) const SPECS: [ColumnSpec; 8] = [
    required("participantId"),
    required("enrollmentState"),
    required("successfulRatingNeededToEarnIn"),
    required("timestampOfLastStateChange"),
    optional("timestampOfLastEarnOut"),
    optional("modelingPopulation"),
    optional("modelingGroup"),
    required("numberOfTimesEarnedOut"),
];

fn parse(row: &Row<'_, '_>) -> Result<Enrollment> {
    let participant_id = row.text(0)?;
    if participant_id.is_empty() {
        return Err(row.error(0, "missing required participant id"));
    }
    Ok(Enrollment {
        participant_id: participant_id.to_string(),
        state: row.req_enum(1)?,
        successful_rating_needed_to_earn_in: row.int(2)?,
        timestamp_of_last_state_change: row.int(3)?,
        timestamp_of_last_earn_out: row.opt_float(4)?,
        modeling_population: row.opt_text(5)?.map(str::to_string),
        modeling_group: row.opt_float(6)?,
        number_of_times_earned_out: row.int(7)?,
    })
}

/// Reads a user enrollment file (plain or gzipped).
pub fn read_enrollment(path: &Path, options: &ReadOptions) -> Result<Vec<Enrollment>> {
    let input = crate::source::open_file(path)?;
    read_enrollment_from(input, path, options)
}

/// Reads a user enrollment file from `input` (plain or gzipped bytes); `path` names it in errors.
pub fn read_enrollment_from(
    input: impl Read + Send,
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<Enrollment>> {
    let input = crate::source::decompressing(input).map_err(|e| FormatError::io(path, e))?;
    let mut rows = Vec::new();
    for_each_row(input, path, options, &SPECS, |row| {
        rows.push(parse(row)?);
        Ok(())
    })?;
    Ok(rows)
}

/// The header line of the enrollment file.
pub fn header() -> String {
    let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
    names.join("\t") + "\n"
}

/// Appends one enrollment row in the public format.
pub fn push_enrollment_line(out: &mut String, e: &Enrollment) {
    push_public_text(out, &e.participant_id);
    out.push('\t');
    out.push_str(e.state.name());
    out.push('\t');
    push_int(out, e.successful_rating_needed_to_earn_in);
    out.push('\t');
    push_int(out, e.timestamp_of_last_state_change);
    out.push('\t');
    if let Some(t) = e.timestamp_of_last_earn_out {
        push_integral_or_repr(out, t);
    }
    out.push('\t');
    if let Some(p) = &e.modeling_population {
        push_public_text(out, p);
    }
    out.push('\t');
    if let Some(g) = e.modeling_group {
        push_integral_or_repr(out, g);
    }
    out.push('\t');
    push_int(out, e.number_of_times_earned_out);
    out.push('\n');
}

/// Writes enrollment rows atomically in the public format.
pub fn write_enrollment(path: &Path, rows: &[Enrollment]) -> Result<()> {
    write_lines(path, &header(), rows, push_enrollment_line)
}
