//! `bridgenotes compare`: prints the comparison of two scoring output folders
//! ([`bridgenotes_format::compare`]) as aligned plain-text tables or as JSON.

use std::fmt::Write as _;
use std::io::Write as _;

use bridgenotes_format::compare::{
    ColumnAgreement, ColumnKind, ColumnsReport, CompareReport, CoreThreshold, HelpfulnessReport,
    KeyOverlap, NumericComparison, ScoredNotesReport, StatusComparison, compare_dirs,
};

use crate::cli::CompareArgs;

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let report = compare_dirs(&args.ours, &args.theirs, args.limit)?;
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&report)?;
        json.push('\n');
        json
    } else {
        render(&report, args.limit)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `bridgenotes compare … | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The human-readable report.
pub fn render(report: &CompareReport, limit: usize) -> String {
    let mut out = String::new();
    let o = &mut out;
    line(o, format!("ours:   {}", report.ours));
    line(o, format!("theirs: {}", report.theirs));
    line(o, String::new());
    let name = |p: &Option<String>| match p {
        Some(p) => std::path::Path::new(p)
            .file_name()
            .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned()),
        None => "MISSING".to_string(),
    };
    let rows = report
        .files
        .iter()
        .map(|f| vec![f.name.clone(), name(&f.ours), name(&f.theirs)])
        .collect();
    table(o, "", &["file", "ours", "theirs"], rows);

    if let Some(r) = &report.scored_notes {
        scored_notes(o, r, limit);
    }
    if let Some(r) = &report.helpfulness_scores {
        helpfulness(o, r);
    }
    if let Some(r) = &report.note_status_history {
        columns(o, "note_status_history", r);
    }
    if let Some(r) = &report.aux_note_info {
        columns(o, "aux_note_info", r);
    }
    out
}

fn line(out: &mut String, text: String) {
    out.push_str(&text);
    out.push('\n');
}

fn section(out: &mut String, title: &str, key: &str) {
    line(out, String::new());
    line(out, format!("== {title} (keyed by {key})"));
}

fn overlap(out: &mut String, what: &str, o: &KeyOverlap, columns: [&[String]; 2]) {
    line(
        out,
        format!(
            "{what}: {} ours, {} theirs; {} on both sides, {} only ours, {} only theirs",
            o.rows_ours, o.rows_theirs, o.both, o.only_ours, o.only_theirs
        ),
    );
    if o.duplicate_keys_ours + o.duplicate_keys_theirs > 0 {
        line(
            out,
            format!(
                "duplicate keys (first row counts): {} ours, {} theirs",
                o.duplicate_keys_ours, o.duplicate_keys_theirs
            ),
        );
    }
    for (side, n, examples) in [
        ("ours", o.only_ours, &o.only_ours_examples),
        ("theirs", o.only_theirs, &o.only_theirs_examples),
    ] {
        if n > 0 {
            let more = if n > examples.len() { ", …" } else { "" };
            line(out, format!("only {side}: {}{more}", examples.join(", ")));
        }
    }
    for (side, cols) in ["ours", "theirs"].into_iter().zip(columns) {
        if !cols.is_empty() {
            line(out, format!("columns only in {side}: {}", cols.join(", ")));
        }
    }
}

/// Short names for the common statuses, so matrices stay narrow.
fn label(status: &str) -> &str {
    match status {
        "CURRENTLY_RATED_HELPFUL" => "CRH",
        "CURRENTLY_RATED_NOT_HELPFUL" => "CRNH",
        "NEEDS_MORE_RATINGS" => "NMR",
        "" => "(empty)",
        s => s,
    }
}

fn agreement(s: &StatusComparison) -> String {
    format!(
        "{}: {} of {} agree ({})",
        s.column,
        s.agree,
        s.compared,
        percent(s.agree_pct)
    )
}

fn matrix(out: &mut String, s: &StatusComparison) {
    let mut header = vec!["ours \\ theirs".to_string()];
    header.extend(s.labels.iter().map(|l| label(l).to_string()));
    let rows = s
        .labels
        .iter()
        .zip(&s.matrix)
        .map(|(l, counts)| {
            let mut row = vec![label(l).to_string()];
            row.extend(counts.iter().map(usize::to_string));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(out, "  ", &header, rows);
}

fn numeric_rows(comparisons: &[&NumericComparison]) -> Vec<Vec<String>> {
    comparisons
        .iter()
        .map(|c| {
            let absent = match (c.in_ours, c.in_theirs) {
                (true, true) => "",
                (true, false) => " (not in theirs)",
                (false, true) => " (not in ours)",
                (false, false) => " (in neither)",
            };
            vec![
                format!("{}{absent}", c.column),
                c.both.to_string(),
                c.only_ours.to_string(),
                c.only_theirs.to_string(),
                c.pearson_r.map_or("-".into(), |r| format!("{r:.6}")),
                c.abs_pearson_r.map_or("-".into(), |r| format!("{r:.6}")),
                c.same_sign
                    .map_or("-".into(), |s| format!("{:.2}%", 100.0 * s)),
                c.max_abs_diff.map_or("-".into(), number),
                c.max_abs_diff_key.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect()
}

fn numeric_table(out: &mut String, key: &str, comparisons: &[&NumericComparison]) {
    let at = format!("at {key}");
    let header = [
        "column",
        "both",
        "only ours",
        "only theirs",
        "r",
        "r of |values|",
        "same sign",
        "max |diff|",
        at.as_str(),
    ];
    table(out, "  ", &header, numeric_rows(comparisons));
}

fn scored_notes(out: &mut String, r: &ScoredNotesReport, limit: usize) {
    section(out, "scored_notes", &r.overlap.key);
    overlap(
        out,
        "notes",
        &r.overlap,
        [&r.columns_only_ours, &r.columns_only_theirs],
    );

    line(out, String::new());
    match &r.final_rating_status {
        Some(s) => {
            line(out, agreement(s));
            matrix(out, s);
        }
        None => line(out, "finalRatingStatus: not on both sides".into()),
    }

    if !r.rating_statuses.is_empty() {
        line(out, String::new());
        line(
            out,
            "status columns (notes where at least one side has a value):".into(),
        );
        let rows = r
            .rating_statuses
            .iter()
            .map(|s| {
                vec![
                    s.column.clone(),
                    s.compared.to_string(),
                    s.agree.to_string(),
                    percent(s.agree_pct),
                ]
            })
            .collect();
        table(out, "  ", &["column", "compared", "agree", "agree %"], rows);
        for s in r.rating_statuses.iter().filter(|s| s.agree < s.compared) {
            line(out, String::new());
            line(out, agreement(s));
            matrix(out, s);
        }
    }

    line(out, String::new());
    match &r.decided_by {
        Some(d) => {
            line(out, agreement(d));
            let pairs = d.disagreements();
            if !pairs.is_empty() {
                let rows = pairs
                    .iter()
                    .take(limit)
                    .map(|(a, b, n)| vec![label(a).into(), label(b).into(), n.to_string()])
                    .collect();
                table(out, "  ", &["ours", "theirs", "notes"], rows);
            }
        }
        None => line(out, "decidedBy: not on both sides".into()),
    }

    if !r.other_text_columns.is_empty() {
        line(out, String::new());
        line(
            out,
            "other text columns (exactly, over every note; empty = empty):".into(),
        );
        column_table(out, &r.other_text_columns);
    }

    if !r.models.is_empty() {
        line(out, String::new());
        line(
            out,
            "note parameters (notes with a value on both sides / one side):".into(),
        );
        let all: Vec<&NumericComparison> = r
            .models
            .iter()
            .flat_map(|m| [&m.intercept, &m.factor1])
            .collect();
        numeric_table(out, "noteId", &all);
    }

    if let Some(p) = &r.flip_model {
        line(out, String::new());
        line(
            out,
            format!(
                "flip model ({}): on both sides for {} notes, ours only {}, theirs only {}; r = {}, max diff {}",
                p.column,
                p.both,
                p.ours_only,
                p.theirs_only,
                p.pearson_r.map_or("-".into(), |r| format!("{r:.4}")),
                p.max_abs_diff.map_or("-".into(), number),
            ),
        );
    }

    line(out, String::new());
    line(
        out,
        format!(
            "finalRatingStatus disagreements: {} (showing {}, nearest a core threshold first)",
            r.disagreements_total,
            r.disagreements.len()
        ),
    );
    if !r.disagreements.is_empty() {
        let rows = r
            .disagreements
            .iter()
            .map(|d| {
                vec![
                    d.note_id.clone(),
                    label(&d.status_ours).into(),
                    label(&d.status_theirs).into(),
                    label(&d.decided_by_ours).into(),
                    label(&d.decided_by_theirs).into(),
                    d.core_intercept_ours
                        .map_or("-".into(), |x| format!("{x:.4}")),
                    d.core_intercept_theirs
                        .map_or("-".into(), |x| format!("{x:.4}")),
                    d.threshold_distance
                        .map_or("-".into(), |x| format!("{x:.4}")),
                    d.nearest_threshold.map_or("-", threshold_name).into(),
                ]
            })
            .collect();
        table(
            out,
            "  ",
            &[
                "noteId",
                "ours",
                "theirs",
                "decidedBy ours",
                "decidedBy theirs",
                "core i. ours",
                "core i. theirs",
                "distance",
                "nearest",
            ],
            rows,
        );
    }
}

fn threshold_name(t: CoreThreshold) -> &'static str {
    match t {
        CoreThreshold::Crh => "CRH 0.40",
        CoreThreshold::FirmReject => "firm reject 0.30",
        CoreThreshold::CrnhLine => "CRNH -0.05-0.8|f|",
    }
}

fn helpfulness(out: &mut String, r: &HelpfulnessReport) {
    section(out, "helpfulness_scores", &r.overlap.key);
    overlap(
        out,
        "raters",
        &r.overlap,
        [&r.columns_only_ours, &r.columns_only_theirs],
    );
    line(out, String::new());
    match &r.above_helpfulness_threshold {
        Some(s) => {
            line(out, agreement(s));
            matrix(out, s);
        }
        None => line(out, "aboveHelpfulnessThreshold: not on both sides".into()),
    }
    if !r.parameters.is_empty() {
        line(out, String::new());
        line(
            out,
            "rater parameters (raters with a value on both sides / one side):".into(),
        );
        let all: Vec<&NumericComparison> = r.parameters.iter().collect();
        numeric_table(out, "rater", &all);
    }
}

fn columns(out: &mut String, title: &str, r: &ColumnsReport) {
    section(out, title, &r.overlap.key);
    overlap(
        out,
        "notes",
        &r.overlap,
        [&r.columns_only_ours, &r.columns_only_theirs],
    );
    line(out, String::new());
    line(
        out,
        "per column (numbers within 1e-6 relative, text exactly):".into(),
    );
    column_table(out, &r.columns);
}

/// Per-column agreement, a row a column: kind, counts, r, first difference.
fn column_table(out: &mut String, columns: &[ColumnAgreement]) {
    let rows = columns
        .iter()
        .map(|c| {
            vec![
                c.column.clone(),
                match c.kind {
                    ColumnKind::Number => "number",
                    ColumnKind::Text => "text",
                    ColumnKind::Empty => "empty",
                }
                .into(),
                c.compared.to_string(),
                c.agree.to_string(),
                percent(c.agree_pct),
                c.pearson_r.map_or(String::new(), |r| format!("{r:.4}")),
                c.first_difference.as_ref().map_or(String::new(), |d| {
                    format!("{}: {:?} vs {:?}", d.key, d.ours, d.theirs)
                }),
            ]
        })
        .collect();
    table(
        out,
        "  ",
        &[
            "column",
            "kind",
            "compared",
            "agree",
            "agree %",
            "r",
            "first difference (ours vs theirs)",
        ],
        rows,
    );
}

fn percent(p: Option<f64>) -> String {
    p.map_or("-".into(), |p| format!("{p:.2}%"))
}

/// A difference: fixed decimals where readable, else scientific.
fn number(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

/// Does the cell read as a number (right-aligned)?
fn numeric_cell(cell: &str) -> bool {
    cell == "-" || cell.trim_end_matches('%').parse::<f64>().is_ok()
}

/// An aligned plain-text table: columns padded to their widest cell, numeric columns
/// right-aligned, the last column unpadded.
fn table(out: &mut String, indent: &str, header: &[&str], rows: Vec<Vec<String>>) {
    let n = header.len();
    let width = |c: &str| c.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(c));
        }
    }
    let right: Vec<bool> = (0..n)
        .map(|i| !rows.is_empty() && rows.iter().all(|r| numeric_cell(&r[i])))
        .collect();
    let mut emit = |cells: &[&str]| {
        let mut text = String::from(indent);
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - width(c);
            if i > 0 {
                text.push_str("  ");
            }
            if right[i] {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(c);
            } else {
                text.push_str(c);
                if i + 1 < n {
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    emit(header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        emit(&cells);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_text_left_and_numbers_right() {
        let mut out = String::new();
        table(
            &mut out,
            "",
            &["column", "n", "note"],
            vec![
                vec!["a".into(), "1".into(), "x".into()],
                vec!["longer".into(), "100".into(), "yy".into()],
            ],
        );
        assert_eq!(
            out,
            "column    n  note\n\
             a         1  x\n\
             longer  100  yy\n"
        );
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.04512), "0.0451");
        assert_eq!(number(3.2e-8), "3.20e-8");
        assert_eq!(percent(Some(99.8)), "99.80%");
        assert_eq!(percent(None), "-");
    }
}
