//! Comparing two scoring output folders — ours against the reference's, or two runs of
//! either: which notes and raters each side has, status agreement with confusion matrices,
//! parameter correlations, and per-column agreement.
//!
//! The comparisons work on [`TextTable`]s, so they can be checked on hand-made tables;
//! [`compare_dirs`] finds the four output files (`NAME.tsv` or `NAME.tsv.gz`) in two folders
//! and runs them. Rows are matched by key (`noteId`, `raterParticipantId`), never by row
//! number. Every count below is over keys present on both sides unless it says otherwise;
//! keys on one side only are counted in [`KeyOverlap`]. The reports serialize with serde.
//!
//! Numbers: a cell is a value when it parses as a finite float; empty cells, `nan` and
//! infinities count as missing.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};

use bridgenotes_engine::rules::RuleParams;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::table::{TextTable, read_text_table};
use crate::{FormatError, Result};

/// The scoring output files, in report order.
pub const OUTPUT_FILES: [&str; 4] = [
    SCORED_NOTES,
    HELPFULNESS_SCORES,
    NOTE_STATUS_HISTORY,
    AUX_NOTE_INFO,
];
pub const SCORED_NOTES: &str = "scored_notes";
pub const HELPFULNESS_SCORES: &str = "helpfulness_scores";
pub const NOTE_STATUS_HISTORY: &str = "note_status_history";
pub const AUX_NOTE_INFO: &str = "aux_note_info";

/// The column prefixes of the models whose `…NoteIntercept` / `…NoteFactor1` are compared.
pub const MODELS: [&str; 10] = [
    "core",
    "expansion",
    "expansionPlus",
    "coreWithTopics",
    "group",
    "multiGroup",
    "topic",
    "gaussian",
    "gaussianCoreWithTopics",
    "coverage",
];

/// Two numbers agree when they differ by at most this fraction of the larger magnitude.
pub const RELATIVE_TOLERANCE: f64 = 1e-6;

/// The rater parameters compared in `helpfulness_scores`.
pub const RATER_PARAMETERS: [&str; 2] = ["coreRaterIntercept", "coreRaterFactor1"];

/// Which output folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Ours,
    Theirs,
}

/// A table lacks the column its rows are keyed by.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{side:?} table has no key column {column}")]
pub struct MissingKey {
    pub side: Side,
    pub column: String,
}

/// The whole comparison of two output folders.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareReport {
    pub ours: String,
    pub theirs: String,
    /// The four output files and where each was found (`None`: missing on that side).
    pub files: Vec<FileEntry>,
    /// `None` when the file is missing on either side; likewise below.
    pub scored_notes: Option<ScoredNotesReport>,
    pub helpfulness_scores: Option<HelpfulnessReport>,
    pub note_status_history: Option<ColumnsReport>,
    pub aux_note_info: Option<ColumnsReport>,
}

/// One output file on both sides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

/// Which keys each side has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyOverlap {
    pub key: String,
    pub rows_ours: usize,
    pub rows_theirs: usize,
    /// Distinct keys on both sides.
    pub both: usize,
    pub only_ours: usize,
    pub only_theirs: usize,
    /// Rows repeating an earlier row's key (ignored: the first row of a key counts).
    pub duplicate_keys_ours: usize,
    pub duplicate_keys_theirs: usize,
    /// The first keys (up to the limit) found only in ours, in our row order.
    pub only_ours_examples: Vec<String>,
    /// The first keys (up to the limit) found only in theirs, in their row order.
    pub only_theirs_examples: Vec<String>,
}

/// A categorical column (a status, `decidedBy`, a flag) on both sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusComparison {
    pub column: String,
    /// Keys on both sides where at least one side has a value.
    pub compared: usize,
    pub agree: usize,
    /// `100 · agree / compared`; `None` when nothing was compared.
    pub agree_pct: Option<f64>,
    /// The values seen on either side, sorted, the empty cell (`""`) last if present.
    pub labels: Vec<String>,
    /// `matrix[i][j]`: keys with `labels[i]` in ours and `labels[j]` in theirs.
    pub matrix: Vec<Vec<usize>>,
}

impl StatusComparison {
    /// The off-diagonal cells as (ours, theirs, count), most frequent first.
    pub fn disagreements(&self) -> Vec<(&str, &str, usize)> {
        let mut cells = Vec::new();
        for (i, row) in self.matrix.iter().enumerate() {
            for (j, &n) in row.iter().enumerate() {
                if i != j && n > 0 {
                    cells.push((self.labels[i].as_str(), self.labels[j].as_str(), n));
                }
            }
        }
        cells.sort_by_key(|c| std::cmp::Reverse(c.2));
        cells
    }
}

/// A numeric column on both sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumericComparison {
    pub column: String,
    pub in_ours: bool,
    pub in_theirs: bool,
    /// Keys with a value on both sides / ours only / theirs only.
    pub both: usize,
    pub only_ours: usize,
    pub only_theirs: usize,
    /// Pearson correlation over `both`; `None` with fewer than two values or a constant side.
    pub pearson_r: Option<f64>,
    /// The same over absolute values, and the share of `both` pairs, among those with no
    /// zero, that have the same sign: for factors, whose side the reference may pick at
    /// random, these separate a flipped or different axis from a noisy one.
    pub abs_pearson_r: Option<f64>,
    pub same_sign: Option<f64>,
    pub max_abs_diff: Option<f64>,
    /// The key where `max_abs_diff` occurs (the first, on ties); `None` when it is 0.
    pub max_abs_diff_key: Option<String>,
}

/// A model's note parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelComparison {
    pub model: String,
    pub intercept: NumericComparison,
    pub factor1: NumericComparison,
}

/// The core thresholds a note intercept is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoreThreshold {
    /// Helpful: intercept ≥ 0.40.
    Crh,
    /// Firm reject: intercept < 0.30.
    FirmReject,
    /// Not helpful: intercept ≤ −0.05 − 0.8·|factor|.
    CrnhLine,
}

/// A note whose `finalRatingStatus` differs between the sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DisagreeingNote {
    pub note_id: String,
    pub status_ours: String,
    pub status_theirs: String,
    pub decided_by_ours: String,
    pub decided_by_theirs: String,
    pub core_intercept_ours: Option<f64>,
    pub core_intercept_theirs: Option<f64>,
    pub core_factor_ours: Option<f64>,
    /// Distance of our core intercept to the nearest core threshold.
    pub threshold_distance: Option<f64>,
    pub nearest_threshold: Option<CoreThreshold>,
}

/// `scored_notes`, keyed by `noteId`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoredNotesReport {
    pub overlap: KeyOverlap,
    pub columns_only_ours: Vec<String>,
    pub columns_only_theirs: Vec<String>,
    /// `None` when the column is missing on a side (likewise `decided_by`).
    pub final_rating_status: Option<StatusComparison>,
    /// Every other `*RatingStatus` column present on both sides, in our column order.
    pub rating_statuses: Vec<StatusComparison>,
    pub decided_by: Option<StatusComparison>,
    /// The other text columns on both sides (each model's active rules, `activeFilterTags`,
    /// explanation tags, topics …), compared exactly over every note (empty = empty).
    pub other_text_columns: Vec<ColumnAgreement>,
    /// The models of [`MODELS`] with a parameter column on at least one side.
    pub models: Vec<ModelComparison>,
    /// The flip model's `pflipProba`, when either side has the column.
    pub flip_model: Option<ProbabilityComparison>,
    /// Notes whose `finalRatingStatus` differs.
    pub disagreements_total: usize,
    /// The first `limit` of them, nearest a core threshold first (no core intercept: last).
    pub disagreements: Vec<DisagreeingNote>,
}

/// `helpfulness_scores`, keyed by `raterParticipantId`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HelpfulnessReport {
    pub overlap: KeyOverlap,
    pub columns_only_ours: Vec<String>,
    pub columns_only_theirs: Vec<String>,
    pub above_helpfulness_threshold: Option<StatusComparison>,
    /// [`RATER_PARAMETERS`] present on at least one side.
    pub parameters: Vec<NumericComparison>,
}

/// How a column's cells are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Every non-empty cell on both sides is a number: compared within
    /// [`RELATIVE_TOLERANCE`], missing equals missing.
    Number,
    /// Compared as exact text.
    Text,
    /// Empty on both sides.
    Empty,
}

/// One differing cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CellDifference {
    pub key: String,
    pub ours: String,
    pub theirs: String,
}

/// Agreement of one column over the keys on both sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnAgreement {
    pub column: String,
    pub kind: ColumnKind,
    pub compared: usize,
    pub agree: usize,
    pub agree_pct: Option<f64>,
    /// Numbers: Pearson r over the rows with a number on both sides.
    pub pearson_r: Option<f64>,
    /// The first differing cell in our row order.
    pub first_difference: Option<CellDifference>,
}

/// A probability column that a model fills for some notes only: which notes have it on
/// each side, and how its values correlate where both do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbabilityComparison {
    pub column: String,
    pub both: usize,
    pub ours_only: usize,
    pub theirs_only: usize,
    /// Pearson r over the notes with a value on both sides.
    pub pearson_r: Option<f64>,
    /// Largest absolute difference over those notes.
    pub max_abs_diff: Option<f64>,
}

/// Compares `column` over the joined rows.
fn compare_probability(join: &Join, column: &str) -> ProbabilityComparison {
    let (co, ct) = (join.ours.position(column), join.theirs.position(column));
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let (mut ours_only, mut theirs_only) = (0, 0);
    for &(i, j, _) in &join.pairs {
        match (
            number(cell(join.ours, i, co)),
            number(cell(join.theirs, j, ct)),
        ) {
            (Some(x), Some(y)) => {
                xs.push(x);
                ys.push(y);
            }
            (Some(_), None) => ours_only += 1,
            (None, Some(_)) => theirs_only += 1,
            (None, None) => {}
        }
    }
    ProbabilityComparison {
        column: column.to_string(),
        both: xs.len(),
        ours_only,
        theirs_only,
        pearson_r: pearson(&xs, &ys),
        max_abs_diff: xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (x - y).abs())
            .reduce(f64::max),
    }
}

/// Per-column agreement of a table (`note_status_history`, `aux_note_info`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnsReport {
    pub overlap: KeyOverlap,
    pub columns_only_ours: Vec<String>,
    pub columns_only_theirs: Vec<String>,
    /// Columns on both sides except the key, in our column order.
    pub columns: Vec<ColumnAgreement>,
}

/// Rows of two tables matched by key.
struct Join<'a> {
    ours: &'a TextTable,
    theirs: &'a TextTable,
    /// (our row, their row, key) for every key on both sides, in our row order.
    pairs: Vec<(usize, usize, &'a str)>,
    overlap: KeyOverlap,
}

fn join<'a>(
    ours: &'a TextTable,
    theirs: &'a TextTable,
    key: &str,
    limit: usize,
) -> std::result::Result<Join<'a>, MissingKey> {
    let missing = |side| MissingKey {
        side,
        column: key.to_string(),
    };
    let ko = ours.position(key).ok_or_else(|| missing(Side::Ours))?;
    let kt = theirs.position(key).ok_or_else(|| missing(Side::Theirs))?;
    let mut overlap = KeyOverlap {
        key: key.to_string(),
        rows_ours: ours.rows.len(),
        rows_theirs: theirs.rows.len(),
        ..KeyOverlap::default()
    };
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    for (j, row) in theirs.rows.iter().enumerate() {
        match index.entry(row[kt].as_str()) {
            Entry::Occupied(_) => overlap.duplicate_keys_theirs += 1,
            Entry::Vacant(v) => {
                v.insert(j);
            }
        }
    }
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut matched = vec![false; theirs.rows.len()];
    let mut pairs = Vec::new();
    for (i, row) in ours.rows.iter().enumerate() {
        let k = row[ko].as_str();
        if !seen.insert(k) {
            overlap.duplicate_keys_ours += 1;
            continue;
        }
        match index.get(k) {
            Some(&j) => {
                matched[j] = true;
                pairs.push((i, j, k));
            }
            None => {
                overlap.only_ours += 1;
                if overlap.only_ours_examples.len() < limit {
                    overlap.only_ours_examples.push(k.to_string());
                }
            }
        }
    }
    for (j, row) in theirs.rows.iter().enumerate() {
        let k = row[kt].as_str();
        if !matched[j] && index.get(k) == Some(&j) {
            overlap.only_theirs += 1;
            if overlap.only_theirs_examples.len() < limit {
                overlap.only_theirs_examples.push(k.to_string());
            }
        }
    }
    overlap.both = pairs.len();
    Ok(Join {
        ours,
        theirs,
        pairs,
        overlap,
    })
}

/// Columns of `a` that `b` lacks, in `a`'s order.
fn columns_missing_from(a: &TextTable, b: &TextTable) -> Vec<String> {
    let have: FxHashSet<&str> = b.header.iter().map(String::as_str).collect();
    a.header
        .iter()
        .filter(|c| !have.contains(c.as_str()))
        .cloned()
        .collect()
}

fn in_both(ours: &TextTable, theirs: &TextTable, column: &str) -> bool {
    ours.position(column).is_some() && theirs.position(column).is_some()
}

/// A cell as a finite number.
fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn numbers(table: &TextTable, column: &str) -> Option<Vec<Option<f64>>> {
    table
        .floats(column)
        .map(|v| v.into_iter().map(|x| x.filter(|x| x.is_finite())).collect())
}

/// `a` and `b` within [`RELATIVE_TOLERANCE`] of the larger magnitude.
pub fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= RELATIVE_TOLERANCE * a.abs().max(b.abs())
}

fn pct(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// Pearson's correlation of paired values; `None` for fewer than two pairs or a constant side.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    assert_eq!(xs.len(), ys.len(), "pearson: paired values");
    let n = xs.len();
    if n < 2 {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n as f64;
    let my = ys.iter().sum::<f64>() / n as f64;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let r = sxy / (sxx * syy).sqrt();
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

fn cell(table: &TextTable, row: usize, column: Option<usize>) -> &str {
    column.map_or("", |c| table.rows[row][c].as_str())
}

/// Confusion matrix of a categorical column over keys where at least one side has a value.
fn compare_categorical(join: &Join, column: &str) -> StatusComparison {
    let co = join.ours.position(column);
    let ct = join.theirs.position(column);
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for &(i, j, _) in &join.pairs {
        let (a, b) = (cell(join.ours, i, co), cell(join.theirs, j, ct));
        if !(a.is_empty() && b.is_empty()) {
            *counts.entry((a, b)).or_default() += 1;
        }
    }
    let mut labels: Vec<&str> = counts.keys().flat_map(|&(a, b)| [a, b]).collect();
    labels.sort_by_key(|l| (l.is_empty(), *l));
    labels.dedup();
    let at = |l: &str| labels.iter().position(|x| *x == l).expect("label listed");
    let mut matrix = vec![vec![0; labels.len()]; labels.len()];
    let (mut compared, mut agree) = (0, 0);
    for (&(a, b), &n) in &counts {
        matrix[at(a)][at(b)] += n;
        compared += n;
        if a == b {
            agree += n;
        }
    }
    StatusComparison {
        column: column.to_string(),
        compared,
        agree,
        agree_pct: pct(agree, compared),
        labels: labels.into_iter().map(str::to_string).collect(),
        matrix,
    }
}

/// A numeric column over the keys on both sides; a column missing on a side has no values.
fn compare_numeric(join: &Join, column: &str) -> NumericComparison {
    let o = numbers(join.ours, column);
    let t = numbers(join.theirs, column);
    let mut out = NumericComparison {
        column: column.to_string(),
        in_ours: o.is_some(),
        in_theirs: t.is_some(),
        both: 0,
        only_ours: 0,
        only_theirs: 0,
        pearson_r: None,
        abs_pearson_r: None,
        same_sign: None,
        max_abs_diff: None,
        max_abs_diff_key: None,
    };
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for &(i, j, key) in &join.pairs {
        let a = o.as_ref().and_then(|v| v[i]);
        let b = t.as_ref().and_then(|v| v[j]);
        match (a, b) {
            (Some(a), Some(b)) => {
                xs.push(a);
                ys.push(b);
                let d = (a - b).abs();
                if out.max_abs_diff.is_none_or(|m| d > m) {
                    out.max_abs_diff = Some(d);
                    out.max_abs_diff_key = (d > 0.0).then(|| key.to_string());
                }
            }
            (Some(_), None) => out.only_ours += 1,
            (None, Some(_)) => out.only_theirs += 1,
            (None, None) => {}
        }
    }
    out.both = xs.len();
    out.pearson_r = pearson(&xs, &ys);
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    out.abs_pearson_r = pearson(&abs(&xs), &abs(&ys));
    let signed: Vec<bool> = xs
        .iter()
        .zip(&ys)
        .filter(|(a, b)| **a != 0.0 && **b != 0.0)
        .map(|(a, b)| (*a > 0.0) == (*b > 0.0))
        .collect();
    out.same_sign = (!signed.is_empty())
        .then(|| signed.iter().filter(|s| **s).count() as f64 / signed.len() as f64);
    out
}

/// Distance of a core note intercept to the nearest core threshold (0.40 CRH, 0.30 firm
/// reject, and without a factor no CRNH line, else −0.05 − 0.8·|factor|).
pub fn core_threshold_distance(intercept: f64, factor: Option<f64>) -> (f64, CoreThreshold) {
    let p = RuleParams::core();
    let mut lines = vec![(p.crh_intercept, CoreThreshold::Crh)];
    if let Some(firm) = p.firm_reject_intercept {
        lines.push((firm, CoreThreshold::FirmReject));
    }
    if let Some(f) = factor {
        lines.push((
            p.crnh_intercept + p.crnh_factor_multiplier * f.abs(),
            CoreThreshold::CrnhLine,
        ));
    }
    lines
        .into_iter()
        .map(|(line, which)| ((intercept - line).abs(), which))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("at least the CRH line")
}

/// Compares two `scored_notes` tables keyed by `noteId`; lists at most `limit` disagreeing
/// notes and one-sided keys.
pub fn compare_scored_notes(
    ours: &TextTable,
    theirs: &TextTable,
    limit: usize,
) -> std::result::Result<ScoredNotesReport, MissingKey> {
    let join = join(ours, theirs, "noteId", limit)?;
    let present = |c: &str| in_both(ours, theirs, c);
    let final_rating_status =
        present("finalRatingStatus").then(|| compare_categorical(&join, "finalRatingStatus"));
    let rating_statuses = ours
        .header
        .iter()
        .filter(|c| c.ends_with("RatingStatus") && *c != "finalRatingStatus" && present(c))
        .map(|c| compare_categorical(&join, c))
        .collect();
    let decided_by = present("decidedBy").then(|| compare_categorical(&join, "decidedBy"));
    let other_text_columns = ours
        .header
        .iter()
        .filter(|c| {
            *c != "noteId"
                && !c.ends_with("RatingStatus")
                && *c != "decidedBy"
                && present(c)
                && column_kind(ours, theirs, c) == ColumnKind::Text
        })
        .map(|c| compare_column(&join, c, ColumnKind::Text))
        .collect();
    let models = MODELS
        .iter()
        .filter_map(|m| {
            let (i, f) = (format!("{m}NoteIntercept"), format!("{m}NoteFactor1"));
            let any = [&i, &f]
                .iter()
                .any(|c| ours.position(c).is_some() || theirs.position(c).is_some());
            any.then(|| ModelComparison {
                model: m.to_string(),
                intercept: compare_numeric(&join, &i),
                factor1: compare_numeric(&join, &f),
            })
        })
        .collect();
    let flip = "pflipProba";
    let flip_model = (ours.position(flip).is_some() || theirs.position(flip).is_some())
        .then(|| compare_probability(&join, flip));

    let mut disagreements = Vec::new();
    if final_rating_status.is_some() {
        let status = |t: &TextTable| t.position("finalRatingStatus");
        let decided = |t: &TextTable| t.position("decidedBy");
        let (so, st) = (status(ours), status(theirs));
        let (dbo, dbt) = (decided(ours), decided(theirs));
        let (io, it) = (
            ours.position("coreNoteIntercept"),
            theirs.position("coreNoteIntercept"),
        );
        let fo = ours.position("coreNoteFactor1");
        for &(i, j, key) in &join.pairs {
            let (a, b) = (cell(ours, i, so), cell(theirs, j, st));
            if a == b {
                continue;
            }
            let intercept = number(cell(ours, i, io));
            let factor = number(cell(ours, i, fo));
            let nearest = intercept.map(|x| core_threshold_distance(x, factor));
            disagreements.push(DisagreeingNote {
                note_id: key.to_string(),
                status_ours: a.to_string(),
                status_theirs: b.to_string(),
                decided_by_ours: cell(ours, i, dbo).to_string(),
                decided_by_theirs: cell(theirs, j, dbt).to_string(),
                core_intercept_ours: intercept,
                core_intercept_theirs: number(cell(theirs, j, it)),
                core_factor_ours: factor,
                threshold_distance: nearest.map(|n| n.0),
                nearest_threshold: nearest.map(|n| n.1),
            });
        }
    }
    let disagreements_total = disagreements.len();
    // Stable: equal distances keep our row order; notes without a core intercept go last.
    disagreements.sort_by(|a, b| match (a.threshold_distance, b.threshold_distance) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    disagreements.truncate(limit);

    Ok(ScoredNotesReport {
        columns_only_ours: columns_missing_from(ours, theirs),
        columns_only_theirs: columns_missing_from(theirs, ours),
        overlap: join.overlap,
        final_rating_status,
        rating_statuses,
        decided_by,
        other_text_columns,
        models,
        flip_model,
        disagreements_total,
        disagreements,
    })
}

/// Compares two `helpfulness_scores` tables keyed by `raterParticipantId`.
pub fn compare_helpfulness(
    ours: &TextTable,
    theirs: &TextTable,
    limit: usize,
) -> std::result::Result<HelpfulnessReport, MissingKey> {
    let join = join(ours, theirs, "raterParticipantId", limit)?;
    let above = "aboveHelpfulnessThreshold";
    let above_helpfulness_threshold =
        in_both(ours, theirs, above).then(|| compare_categorical(&join, above));
    let parameters = RATER_PARAMETERS
        .iter()
        .filter(|c| ours.position(c).is_some() || theirs.position(c).is_some())
        .map(|c| compare_numeric(&join, c))
        .collect();
    Ok(HelpfulnessReport {
        columns_only_ours: columns_missing_from(ours, theirs),
        columns_only_theirs: columns_missing_from(theirs, ours),
        overlap: join.overlap,
        above_helpfulness_threshold,
        parameters,
    })
}

fn column_kind(ours: &TextTable, theirs: &TextTable, column: &str) -> ColumnKind {
    let cells = ours
        .column(column)
        .into_iter()
        .flatten()
        .chain(theirs.column(column).into_iter().flatten())
        .filter(|c| !c.is_empty());
    let mut any = false;
    for c in cells {
        if c.parse::<f64>().is_err() {
            return ColumnKind::Text;
        }
        any = true;
    }
    if any {
        ColumnKind::Number
    } else {
        ColumnKind::Empty
    }
}

fn compare_column(join: &Join, column: &str, kind: ColumnKind) -> ColumnAgreement {
    let co = join.ours.position(column);
    let ct = join.theirs.position(column);
    let mut agree = 0;
    let mut first_difference = None;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for &(i, j, key) in &join.pairs {
        let (a, b) = (cell(join.ours, i, co), cell(join.theirs, j, ct));
        let same = match kind {
            ColumnKind::Number => match (number(a), number(b)) {
                (Some(x), Some(y)) => {
                    xs.push(x);
                    ys.push(y);
                    close(x, y)
                }
                (None, None) => true,
                _ => false,
            },
            ColumnKind::Text | ColumnKind::Empty => a == b,
        };
        if same {
            agree += 1;
        } else if first_difference.is_none() {
            first_difference = Some(CellDifference {
                key: key.to_string(),
                ours: a.to_string(),
                theirs: b.to_string(),
            });
        }
    }
    ColumnAgreement {
        column: column.to_string(),
        kind,
        compared: join.pairs.len(),
        agree,
        agree_pct: pct(agree, join.pairs.len()),
        pearson_r: pearson(&xs, &ys),
        first_difference,
    }
}

/// Per-column agreement of two tables keyed by `key`: numbers within
/// [`RELATIVE_TOLERANCE`], text exactly.
pub fn compare_columns(
    ours: &TextTable,
    theirs: &TextTable,
    key: &str,
    limit: usize,
) -> std::result::Result<ColumnsReport, MissingKey> {
    let join = join(ours, theirs, key, limit)?;
    let columns = ours
        .header
        .iter()
        .filter(|c| *c != key && theirs.position(c).is_some())
        .map(|c| compare_column(&join, c, column_kind(ours, theirs, c)))
        .collect();
    Ok(ColumnsReport {
        columns_only_ours: columns_missing_from(ours, theirs),
        columns_only_theirs: columns_missing_from(theirs, ours),
        overlap: join.overlap,
        columns,
    })
}

/// `dir/NAME.tsv`, else `dir/NAME.tsv.gz`, if either is a file.
pub fn find_output(dir: &Path, name: &str) -> Option<PathBuf> {
    [format!("{name}.tsv"), format!("{name}.tsv.gz")]
        .into_iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// Compares the scoring outputs in two folders. Missing files are reported, not errors;
/// an unreadable file, or one without its key column, is an error naming it.
pub fn compare_dirs(ours: &Path, theirs: &Path, limit: usize) -> Result<CompareReport> {
    for dir in [ours, theirs] {
        if !dir.is_dir() {
            return Err(FormatError::io(
                dir,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            ));
        }
    }
    let mut report = CompareReport {
        ours: ours.display().to_string(),
        theirs: theirs.display().to_string(),
        files: Vec::new(),
        scored_notes: None,
        helpfulness_scores: None,
        note_status_history: None,
        aux_note_info: None,
    };
    for name in OUTPUT_FILES {
        let (po, pt) = (find_output(ours, name), find_output(theirs, name));
        report.files.push(FileEntry {
            name: name.to_string(),
            ours: po.as_ref().map(|p| p.display().to_string()),
            theirs: pt.as_ref().map(|p| p.display().to_string()),
        });
        let (Some(po), Some(pt)) = (po, pt) else {
            continue;
        };
        // One file pair in memory at a time.
        let (to, tt) = rayon::join(|| read_text_table(&po), || read_text_table(&pt));
        let (to, tt) = (to?, tt?);
        let located = |e: MissingKey| FormatError::MissingColumn {
            path: match e.side {
                Side::Ours => po.clone(),
                Side::Theirs => pt.clone(),
            },
            name: e.column,
        };
        match name {
            SCORED_NOTES => {
                report.scored_notes = Some(compare_scored_notes(&to, &tt, limit).map_err(located)?)
            }
            HELPFULNESS_SCORES => {
                report.helpfulness_scores =
                    Some(compare_helpfulness(&to, &tt, limit).map_err(located)?)
            }
            NOTE_STATUS_HISTORY => {
                report.note_status_history =
                    Some(compare_columns(&to, &tt, "noteId", limit).map_err(located)?)
            }
            AUX_NOTE_INFO => {
                report.aux_note_info =
                    Some(compare_columns(&to, &tt, "noteId", limit).map_err(located)?)
            }
            _ => unreachable!("OUTPUT_FILES lists four names"),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table from lines of tab-separated cells, the first the header.
    fn table(text: &str) -> TextTable {
        let mut lines = text
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect());
        TextTable {
            header: lines.next().unwrap(),
            rows: lines.collect(),
        }
    }

    const CRH: &str = "CURRENTLY_RATED_HELPFUL";
    const CRNH: &str = "CURRENTLY_RATED_NOT_HELPFUL";
    const NMR: &str = "NEEDS_MORE_RATINGS";

    fn notes(rows: &[(&str, &str, &str, &str, &str)]) -> TextTable {
        let mut text = String::from(
            "noteId\tcoreNoteIntercept\tcoreNoteFactor1\tfinalRatingStatus\tdecidedBy",
        );
        for (id, i, f, s, d) in rows {
            text.push_str(&format!("\n{id}\t{i}\t{f}\t{s}\t{d}"));
        }
        table(&text)
    }

    #[test]
    fn confusion_matrix_counts_pairs_and_agreement() {
        let ours = notes(&[
            ("1", "0.5", "0.1", CRH, "CoreModel (v1.1)"),
            ("2", "0.1", "0.2", NMR, "CoreModel (v1.1)"),
            ("3", "0.35", "0.0", CRH, "CoreModel (v1.1)"),
            ("4", "-0.3", "0.1", CRNH, "CoreModel (v1.1)"),
        ]);
        let theirs = notes(&[
            ("4", "-0.3", "0.1", CRNH, "CoreModel (v1.1)"),
            ("3", "0.36", "0.0", NMR, "ExpansionModel (v1.1)"),
            ("2", "0.1", "0.2", NMR, "CoreModel (v1.1)"),
            ("1", "0.5", "0.1", CRH, "CoreModel (v1.1)"),
        ]);
        let r = compare_scored_notes(&ours, &theirs, 20).unwrap();
        let s = r.final_rating_status.unwrap();
        assert_eq!(s.labels, [CRH, CRNH, NMR]);
        assert_eq!(s.matrix, [[1, 0, 1], [0, 1, 0], [0, 0, 1]]);
        assert_eq!((s.compared, s.agree), (4, 3));
        assert_eq!(s.agree_pct, Some(75.0));
        assert_eq!(s.disagreements(), [(CRH, NMR, 1)]);
        let d = r.decided_by.unwrap();
        assert_eq!((d.compared, d.agree), (4, 3));
        assert_eq!(r.disagreements_total, 1);
        let n = &r.disagreements[0];
        assert_eq!(n.note_id, "3");
        assert_eq!(
            (n.status_ours.as_str(), n.status_theirs.as_str()),
            (CRH, NMR)
        );
        assert_eq!(n.decided_by_theirs, "ExpansionModel (v1.1)");
        assert_eq!(n.core_intercept_ours, Some(0.35));
        assert_eq!(n.core_intercept_theirs, Some(0.36));
        assert!((n.threshold_distance.unwrap() - 0.05).abs() < 1e-12);
        assert!(r.overlap.only_ours == 0 && r.overlap.only_theirs == 0);
        assert_eq!(r.overlap.both, 4);
    }

    #[test]
    fn status_columns_count_only_notes_with_a_value_and_only_when_on_both_sides() {
        let ours = table(
            "noteId\tcoreRatingStatus\texpansionRatingStatus\tgroupRatingStatus\n\
             1\tFIRM_REJECT\t\tx\n\
             2\t\t\tx\n\
             3\tNEEDS_MORE_RATINGS\tNEEDS_MORE_RATINGS\tx",
        );
        let theirs = table(
            "noteId\tcoreRatingStatus\texpansionRatingStatus\n\
             1\tFIRM_REJECT\tNEEDS_MORE_RATINGS\n\
             2\t\t\n\
             3\tNEEDS_MORE_RATINGS\tNEEDS_MORE_RATINGS",
        );
        let r = compare_scored_notes(&ours, &theirs, 20).unwrap();
        assert!(r.final_rating_status.is_none() && r.decided_by.is_none());
        let cols: Vec<_> = r
            .rating_statuses
            .iter()
            .map(|s| s.column.as_str())
            .collect();
        assert_eq!(cols, ["coreRatingStatus", "expansionRatingStatus"]);
        let core = &r.rating_statuses[0];
        assert_eq!((core.compared, core.agree), (2, 2));
        let exp = &r.rating_statuses[1];
        assert_eq!((exp.compared, exp.agree), (3 - 1, 1));
        assert_eq!(exp.labels, ["NEEDS_MORE_RATINGS", ""]);
        assert_eq!(exp.matrix, [[1, 0], [1, 0]]);
        assert_eq!(r.columns_only_ours, ["groupRatingStatus"]);
        assert!(r.columns_only_theirs.is_empty());
        assert!(r.models.is_empty());
        assert_eq!(r.disagreements_total, 0);
    }

    #[test]
    fn pearson_and_max_diff_of_model_parameters() {
        let ours = notes(&[
            ("1", "0.1", "1.0", NMR, ""),
            ("2", "0.2", "2.0", NMR, ""),
            ("3", "0.3", "", NMR, ""),
            ("4", "0.4", "4.0", NMR, ""),
            ("5", "", "", NMR, ""),
        ]);
        let theirs = notes(&[
            ("1", "0.2", "-1.0", NMR, ""),
            ("2", "0.4", "-2.0", NMR, ""),
            ("3", "0.6", "", NMR, ""),
            ("4", "0.8", "", NMR, ""),
            ("5", "0.5", "", NMR, ""),
        ]);
        let r = compare_scored_notes(&ours, &theirs, 20).unwrap();
        assert_eq!(r.models.len(), 1);
        let core = &r.models[0];
        assert_eq!(core.model, "core");
        let i = &core.intercept;
        assert_eq!((i.both, i.only_ours, i.only_theirs), (4, 0, 1));
        assert!((i.pearson_r.unwrap() - 1.0).abs() < 1e-12);
        assert!((i.max_abs_diff.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(i.max_abs_diff_key.as_deref(), Some("4"));
        let f = &core.factor1;
        assert_eq!((f.both, f.only_ours, f.only_theirs), (2, 1, 0));
        assert!((f.pearson_r.unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(f.max_abs_diff, Some(4.0));
        // Flipped sides: the magnitudes agree, the signs never.
        assert!((f.abs_pearson_r.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(f.same_sign, Some(0.0));
        assert_eq!(i.same_sign, Some(1.0));
    }

    #[test]
    fn flip_model_probabilities_by_which_notes_have_them() {
        let ours = table("noteId\tpflipProba\n1\t0.2\n2\t0.4\n3\t0.9\n4\t\n5\t");
        let theirs = table("noteId\tpflipProba\n1\t0.1\n2\t0.3\n3\t\n4\t0.5\n5\t");
        let p = compare_scored_notes(&ours, &theirs, 20)
            .unwrap()
            .flip_model
            .unwrap();
        assert_eq!((p.both, p.ours_only, p.theirs_only), (2, 1, 1));
        assert!((p.pearson_r.unwrap() - 1.0).abs() < 1e-12);
        assert!((p.max_abs_diff.unwrap() - 0.1).abs() < 1e-12);
        // Absent on both sides: not reported.
        let plain = notes(&[("1", "0.1", "0.2", NMR, "")]);
        let r = compare_scored_notes(&plain, &plain, 20).unwrap();
        assert!(r.flip_model.is_none());
    }

    #[test]
    fn pearson_edge_cases() {
        assert_eq!(pearson(&[], &[]), None);
        assert_eq!(pearson(&[1.0], &[2.0]), None);
        assert_eq!(pearson(&[1.0, 1.0], &[2.0, 3.0]), None);
        let xs = [0.18988118, 0.28041893, -0.39738467, 0.5];
        assert_eq!(pearson(&xs, &xs), Some(1.0));
        let r = pearson(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap();
        assert!((r - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_model_column_missing_on_one_side_counts_as_values_only_on_the_other() {
        let ours = table("noteId\tgaussianNoteIntercept\n1\t0.1\n2\t");
        let theirs = table("noteId\n1\n2");
        let r = compare_scored_notes(&ours, &theirs, 20).unwrap();
        assert_eq!(r.models.len(), 1);
        let g = &r.models[0];
        assert_eq!(g.model, "gaussian");
        assert!(g.intercept.in_ours && !g.intercept.in_theirs);
        assert!(!g.factor1.in_ours && !g.factor1.in_theirs);
        assert_eq!(
            (
                g.intercept.both,
                g.intercept.only_ours,
                g.intercept.only_theirs
            ),
            (0, 1, 0)
        );
        assert_eq!(g.intercept.pearson_r, None);
        assert_eq!(r.columns_only_ours, ["gaussianNoteIntercept"]);
    }

    #[test]
    fn keys_on_one_side_and_duplicates() {
        let ours = notes(&[
            ("1", "", "", NMR, ""),
            ("2", "", "", NMR, ""),
            ("2", "", "", CRH, ""),
            ("7", "", "", NMR, ""),
        ]);
        let theirs = notes(&[
            ("9", "", "", NMR, ""),
            ("8", "", "", NMR, ""),
            ("2", "", "", NMR, ""),
            ("1", "", "", CRH, ""),
            ("1", "", "", NMR, ""),
        ]);
        let r = compare_scored_notes(&ours, &theirs, 1).unwrap();
        let o = &r.overlap;
        assert_eq!((o.rows_ours, o.rows_theirs, o.both), (4, 5, 2));
        assert_eq!((o.only_ours, o.only_theirs), (1, 2));
        assert_eq!((o.duplicate_keys_ours, o.duplicate_keys_theirs), (1, 1));
        assert_eq!(o.only_ours_examples, ["7"]);
        assert_eq!(
            o.only_theirs_examples,
            ["9"],
            "limited to 1, their row order"
        );
        // The first row of a key counts: note 1 is NMR vs CRH, note 2 NMR vs NMR.
        let s = r.final_rating_status.unwrap();
        assert_eq!((s.compared, s.agree), (2, 1));
        assert_eq!(r.disagreements[0].note_id, "1");
    }

    #[test]
    fn missing_key_column_names_the_side() {
        let ours = table("noteId\n1");
        let theirs = table("note\n1");
        let e = compare_scored_notes(&ours, &theirs, 5).unwrap_err();
        assert_eq!(
            e,
            MissingKey {
                side: Side::Theirs,
                column: "noteId".into()
            }
        );
    }

    #[test]
    fn disagreements_sorted_by_distance_and_limited() {
        let ours = notes(&[
            ("1", "0.15", "0.0", CRH, ""),  // 0.15 to firm reject (0.2 to CRNH)
            ("2", "0.41", "0.0", CRH, ""),  // 0.01 to CRH
            ("3", "", "", CRH, ""),         // no intercept: last
            ("4", "-0.45", "0.5", CRH, ""), // 0 to the CRNH line -0.05 - 0.8 * 0.5
            ("5", "0.315", "0.0", CRH, ""), // 0.015 to firm reject
        ]);
        let theirs = notes(&[
            ("1", "", "", NMR, ""),
            ("2", "", "", NMR, ""),
            ("3", "", "", NMR, ""),
            ("4", "", "", NMR, ""),
            ("5", "", "", NMR, ""),
        ]);
        let r = compare_scored_notes(&ours, &theirs, 20).unwrap();
        let ids: Vec<_> = r.disagreements.iter().map(|d| d.note_id.as_str()).collect();
        assert_eq!(ids, ["4", "2", "5", "1", "3"]);
        let near: Vec<_> = r
            .disagreements
            .iter()
            .map(|d| d.nearest_threshold)
            .collect();
        use CoreThreshold::*;
        assert_eq!(
            near,
            [
                Some(CrnhLine),
                Some(Crh),
                Some(FirmReject),
                Some(FirmReject),
                None
            ]
        );
        let r = compare_scored_notes(&ours, &theirs, 2).unwrap();
        assert_eq!(r.disagreements_total, 5);
        assert_eq!(r.disagreements.len(), 2);
    }

    #[test]
    fn helpfulness_threshold_agreement_and_rater_parameters() {
        let ours = table(
            "raterParticipantId\tcoreRaterIntercept\tcoreRaterFactor1\taboveHelpfulnessThreshold\n\
             a\t0.1\t0.5\tTrue\n\
             b\t0.2\t-0.5\tFalse\n\
             c\t\t\t",
        );
        let theirs = table(
            "raterParticipantId\tcoreRaterFactor1\taboveHelpfulnessThreshold\n\
             c\t\t\n\
             b\t-0.4\tTrue\n\
             a\t0.5\tTrue",
        );
        let r = compare_helpfulness(&ours, &theirs, 20).unwrap();
        let a = r.above_helpfulness_threshold.unwrap();
        assert_eq!((a.compared, a.agree), (2, 1));
        assert_eq!(a.agree_pct, Some(50.0));
        assert_eq!(a.labels, ["False", "True"]);
        assert_eq!(r.parameters.len(), 2);
        let i = &r.parameters[0];
        assert!(i.in_ours && !i.in_theirs);
        assert_eq!((i.both, i.only_ours), (0, 2));
        let f = &r.parameters[1];
        assert_eq!(f.both, 2);
        assert!((f.max_abs_diff.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(f.max_abs_diff_key.as_deref(), Some("b"));
        assert!((f.pearson_r.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(r.columns_only_ours, ["coreRaterIntercept"]);
    }

    #[test]
    fn column_agreement_numbers_within_tolerance_text_exact() {
        let ours = table(
            "noteId\tts\tstatus\tempty\tonlyOurs\n\
             1\t1795132800000.0\tCURRENTLY_RATED_HELPFUL\t\tx\n\
             2\t0.5\tNEEDS_MORE_RATINGS\t\tx\n\
             3\t\tNEEDS_MORE_RATINGS\t\tx\n\
             4\t1.0\tNEEDS_MORE_RATINGS\t\tx",
        );
        let theirs = table(
            "noteId\tstatus\tts\tempty\n\
             1\tCURRENTLY_RATED_HELPFUL\t1795132800000\t\n\
             2\tNEEDS_MORE_RATINGS\t0.5000001\t\n\
             3\tNEEDS_MORE_RATINGS\t\t\n\
             4\tCURRENTLY_RATED_HELPFUL\t1.00001\t",
        );
        let r = compare_columns(&ours, &theirs, "noteId", 20).unwrap();
        let cols: Vec<_> = r
            .columns
            .iter()
            .map(|c| (c.column.as_str(), c.kind, c.agree, c.compared))
            .collect();
        assert_eq!(
            cols,
            [
                ("ts", ColumnKind::Number, 3, 4),
                ("status", ColumnKind::Text, 3, 4),
                ("empty", ColumnKind::Empty, 4, 4),
            ]
        );
        assert_eq!(
            r.columns[0].first_difference,
            Some(CellDifference {
                key: "4".into(),
                ours: "1.0".into(),
                theirs: "1.00001".into()
            })
        );
        assert_eq!(r.columns[1].agree_pct, Some(75.0));
        // r over the three rows with a number on both sides (nearly equal pairs).
        let ts_r = r.columns[0].pearson_r.unwrap();
        assert!((ts_r - 1.0).abs() < 1e-9, "{ts_r}");
        assert_eq!(r.columns[1].pearson_r, None, "text has no r");
        assert_eq!(r.columns_only_ours, ["onlyOurs"]);
    }

    #[test]
    fn close_is_relative() {
        assert!(close(0.0, 0.0));
        assert!(close(1e12, 1e12 + 1e5));
        assert!(!close(1e-9, 2e-9));
        assert!(!close(1.0, 1.00001));
    }

    #[test]
    fn report_serializes() {
        let t = notes(&[("1", "0.5", "0.1", CRH, "CoreModel (v1.1)")]);
        let r = compare_scored_notes(&t, &t, 20).unwrap();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["final_rating_status"]["agree_pct"], 100.0);
        assert_eq!(
            json["models"][0]["intercept"]["pearson_r"],
            serde_json::Value::Null
        );
        assert_eq!(json["models"][0]["intercept"]["max_abs_diff"], 0.0);
        assert_eq!(
            json["models"][0]["intercept"]["max_abs_diff_key"],
            serde_json::Value::Null,
            "no key for a zero difference"
        );
    }

    #[test]
    fn compare_dirs_reports_missing_files_and_names_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let text = "noteId\tfinalRatingStatus\n1\tNEEDS_MORE_RATINGS\n";
        std::fs::write(a.join("scored_notes.tsv"), text).unwrap();
        std::fs::write(b.join("scored_notes.tsv"), text).unwrap();
        std::fs::write(b.join("aux_note_info.tsv"), "noteId\n1\n").unwrap();
        let r = compare_dirs(&a, &b, 20).unwrap();
        assert_eq!(r.files.len(), 4);
        assert!(r.files[3].ours.is_none() && r.files[3].theirs.is_some());
        assert!(r.scored_notes.is_some() && r.aux_note_info.is_none());
        std::fs::write(b.join("scored_notes.tsv"), "noteId\tx\n1\n").unwrap();
        let e = compare_dirs(&a, &b, 20).unwrap_err().to_string();
        assert!(e.contains("scored_notes.tsv") && e.contains(":2:"), "{e}");
        std::fs::write(b.join("scored_notes.tsv"), "id\n1\n").unwrap();
        let e = compare_dirs(&a, &b, 20).unwrap_err().to_string();
        assert!(
            e.contains("b/scored_notes.tsv") && e.contains("noteId"),
            "{e}"
        );
        let e = compare_dirs(&a, &dir.path().join("none"), 20).unwrap_err();
        assert!(e.to_string().contains("none"), "{e}");
    }
}
