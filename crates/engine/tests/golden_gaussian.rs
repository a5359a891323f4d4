//! The Gaussian scorer's note intercepts against the reference's on the golden datasets
//! (`../shared/golden`, beside the checkout).
//!
//! The final-round ratings are rebuilt from the inputs the way the reference's final phase
//! builds them for its Gaussian scorers: post-selection similarity with the cliques of the
//! prescoring rater table, raters in the coverage groups or without an enrollment row,
//! notes with at least 5 such ratings, raters with MFCoreScorer prescoring parameters that
//! passed its helpfulness filter, ordered as the reference's merges leave them. Rater
//! factors are MFCoreScorer's prescoring factors; note authors come from the status history.
//!
//! `GaussianCoreWithTopicsScorer` sees every note and `GaussianScorer` the notes without a
//! topic; otherwise they are the same scorer and every note is scored on its own, so both
//! reference columns are compared, the second on the notes it has.

mod common;

use common::{Tsv, golden};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use bridgenotes_engine::gaussian::{GaussianNote, GaussianRatings, gaussian_scores};

/// `c.coverageGroups`.
const COVERAGE_GROUPS: [u32; 12] = [1, 2, 3, 6, 8, 9, 10, 11, 13, 14, 19, 25];
/// Notes needed in the notes file for post-selection similarity to apply.
const MIN_NOTES_FOR_PSS: usize = 200;
/// Ratings a note needs to be scored.
const MIN_RATINGS_PER_NOTE: usize = 5;
/// Share of a note's ratings that must come from the scorer's raters.
const CAPTURE_THRESHOLD: f64 = 0.5;

/// Dense participant indices.
#[derive(Default)]
struct Participants(HashMap<String, u32>);

impl Participants {
    fn index(&mut self, id: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(id.to_string()).or_insert(next)
    }
}

struct Inputs {
    note_ids: Vec<i64>,
    /// Per note: the author (status history).
    author: Vec<u32>,
    /// Per note: whether the scorer publishes its scores.
    captured: Vec<bool>,
    /// Final-round ratings.
    note: Vec<u32>,
    rater: Vec<u32>,
    helpful_num: Vec<f32>,
    /// Per participant: MFCoreScorer's prescoring rater factor.
    rater_factor: Vec<Option<f64>>,
    /// Ratings post-selection similarity removed.
    pss_dropped: usize,
}

fn optional(cell: &str) -> Option<f64> {
    (!cell.is_empty()).then(|| cell.parse().expect("a number"))
}

/// Note id and author of every row of the notes file. Its free-text column may be quoted,
/// which the shared reader refuses; the two leading columns never are, and every row is
/// checked to have the header's number of fields (no quoted tab or line break).
fn notes_file_authors(dataset: &Path) -> Vec<(i64, String)> {
    let path = dataset.join("input/notes-00000.tsv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("the notes file"))
        .read_to_string(&mut text)
        .expect("gzipped UTF-8 text");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split('\t').collect();
    assert_eq!(header[..2], ["noteId", "noteAuthorParticipantId"]);
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), header.len(), "notes file: ragged row");
            (fields[0].parse().expect("a note id"), fields[1].to_string())
        })
        .collect()
}

fn read_inputs(dataset: &Path, apply_pss: bool) -> Inputs {
    let mut people = Participants::default();

    // Notes: the status history holds every note and its author.
    let history = Tsv::read(dataset, "input/noteStatusHistory-00000.tsv.gz");
    let mut note_index: HashMap<i64, u32> = HashMap::new();
    let mut note_ids = Vec::new();
    let mut author = Vec::new();
    for (id, a) in history
        .column("noteId")
        .iter()
        .zip(history.column("noteAuthorParticipantId"))
    {
        let id: i64 = id.parse().expect("a note id");
        note_index.insert(id, note_ids.len() as u32);
        note_ids.push(id);
        author.push(people.index(a));
    }
    // Post-selection similarity reads the authors of the notes file (deleted notes have none).
    let file_author: HashMap<i64, u32> = notes_file_authors(dataset)
        .into_iter()
        .map(|(id, a)| (id, people.index(&a)))
        .collect();

    // MFCoreScorer's prescoring rater rows, in table order; cliques from every row.
    let table = Tsv::read(
        dataset,
        "reference-output/prescoring/prescoring_rater_model_output.tsv.gz",
    );
    let (id, scorer, intercept, factor, above, pss, quasi) = (
        table.col("raterParticipantId"),
        table.col("scorerName"),
        table.col("internalRaterIntercept"),
        table.col("internalRaterFactor1"),
        table.col("aboveHelpfulnessThreshold"),
        table.col("postSelectionValue"),
        table.col("quasiCliqueValue"),
    );
    let mut core_rows: Vec<(u32, Option<f64>, Option<f64>, bool)> = Vec::new();
    let mut clique: HashMap<u32, i64> = HashMap::new();
    for row in &table.rows {
        let u = people.index(&row[id]);
        if let (Some(p), Some(_)) = (optional(&row[pss]), optional(&row[quasi])) {
            clique.insert(u, p as i64);
        }
        if row[scorer] == "MFCoreScorer" {
            core_rows.push((
                u,
                optional(&row[intercept]),
                optional(&row[factor]),
                row[above] == "True",
            ));
        }
    }

    // Enrollment: the coverage groups, and raters without a row.
    let enrollment = Tsv::read(dataset, "input/userEnrollment-00000.tsv.gz");
    let mut in_group: HashMap<u32, bool> = HashMap::new();
    for (p, g) in enrollment
        .column("participantId")
        .iter()
        .zip(enrollment.column("modelingGroup"))
    {
        let group = optional(g);
        let member = group.is_some_and(|g| COVERAGE_GROUPS.iter().any(|&c| c as f64 == g));
        in_group.insert(people.index(p), member);
    }

    // Ratings with a value on a known note.
    let ratings = Tsv::read(dataset, "input/ratings-00000.tsv.gz");
    let (rn, rr, rc, rl) = (
        ratings.col("noteId"),
        ratings.col("raterParticipantId"),
        ratings.col("createdAtMillis"),
        ratings.col("helpfulnessLevel"),
    );
    struct Rating {
        note_id: i64,
        note: u32,
        rater: u32,
        created: i64,
        helpful_num: f32,
    }
    let mut all: Vec<Rating> = Vec::new();
    for row in &ratings.rows {
        let helpful_num = match row[rl].as_str() {
            "HELPFUL" => 1.0,
            "SOMEWHAT_HELPFUL" => 0.5,
            "NOT_HELPFUL" => 0.0,
            other => panic!("rating without a helpfulness level: {other:?}"),
        };
        let note_id: i64 = row[rn].parse().expect("a note id");
        let Some(&note) = note_index.get(&note_id) else {
            continue;
        };
        all.push(Rating {
            note_id,
            note,
            rater: people.index(&row[rr]),
            created: row[rc].parse().expect("a time"),
            helpful_num,
        });
    }

    // Post-selection similarity: clique members' ratings, earliest per (note, clique) unless
    // the note's author is in the same clique, first; then every other rating.
    let before = all.len();
    if apply_pss && file_author.len() >= MIN_NOTES_FOR_PSS {
        let (mut members, others): (Vec<Rating>, Vec<Rating>) =
            all.into_iter().partition(|r| clique.contains_key(&r.rater));
        members.sort_by_key(|r| (r.note_id, r.created));
        let mut seen = HashSet::new();
        members.retain(|r| {
            let c = clique[&r.rater];
            let same = file_author
                .get(&r.note_id)
                .and_then(|a| clique.get(a))
                .is_some_and(|&a| a == c);
            !same && seen.insert((r.note_id, c))
        });
        all = members;
        all.extend(others);
    }
    let pss_dropped = before - all.len();

    // The scorer's raters, then notes with enough of their ratings. The scorer publishes
    // only notes at least half of whose ratings are by its raters (`captureThreshold`).
    let is_in = |u: u32| in_group.get(&u).copied().unwrap_or(true);
    let mut share = vec![(0usize, 0usize); note_ids.len()];
    for r in &all {
        share[r.note as usize].0 += usize::from(is_in(r.rater));
        share[r.note as usize].1 += 1;
    }
    let captured = share
        .iter()
        .map(|&(inside, total)| total > 0 && inside as f64 / total as f64 >= CAPTURE_THRESHOLD)
        .collect();
    all.retain(|r| is_in(r.rater));
    let mut per_note: HashMap<u32, usize> = HashMap::new();
    all.iter()
        .for_each(|r| *per_note.entry(r.note).or_default() += 1);
    all.retain(|r| per_note[&r.note] >= MIN_RATINGS_PER_NOTE);

    // Raters with parameters who passed the helpfulness filter, in the table's order.
    let mut rank: HashMap<u32, usize> = HashMap::new();
    for (position, &(u, intercept, factor, above)) in core_rows.iter().enumerate() {
        if intercept.is_some() && factor.is_some() && above {
            rank.insert(u, position);
        }
    }
    let mut kept: Vec<(usize, usize)> = all
        .iter()
        .enumerate()
        .filter_map(|(k, r)| rank.get(&r.rater).map(|&p| (p, k)))
        .collect();
    kept.sort_unstable();

    let mut rater_factor = vec![None; people.0.len()];
    for &(u, _, factor, _) in &core_rows {
        rater_factor[u as usize] = factor;
    }
    Inputs {
        note_ids,
        author,
        captured,
        note: kept.iter().map(|&(_, k)| all[k].note).collect(),
        rater: kept.iter().map(|&(_, k)| all[k].rater).collect(),
        helpful_num: kept.iter().map(|&(_, k)| all[k].helpful_num).collect(),
        rater_factor,
        pss_dropped,
    }
}

fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    sxy / (sxx * syy).sqrt()
}

struct Agreement {
    notes: usize,
    r: f64,
    max_diff: f64,
    within_1e6: usize,
    /// Bitwise equal float32 values.
    identical: usize,
    /// Notes the reference scored that we did not, and the reverse.
    missing: usize,
    extra: usize,
}

/// Our intercepts against the reference column `column` (notes it has no value for are
/// compared only when `all_notes`, i.e. the column covers every note).
fn agreement(
    inputs: &Inputs,
    ours: &[Option<GaussianNote>],
    scored: &Tsv,
    column: &str,
    all_notes: bool,
) -> Agreement {
    // The reference writes float32 values in their shortest form: parsed as float32 they are
    // the reference's values exactly.
    let theirs: HashMap<i64, Option<f64>> =
        scored
            .column("noteId")
            .iter()
            .map(|id| id.parse().expect("a note id"))
            .zip(scored.column(column).iter().map(|cell| {
                (!cell.is_empty()).then(|| cell.parse::<f32>().expect("a number") as f64)
            }))
            .collect();
    let (mut pairs, mut missing, mut extra) = (Vec::new(), 0, 0);
    let uncaptured = inputs
        .note_ids
        .iter()
        .zip(&inputs.captured)
        .filter(|&(id, &c)| !c && theirs.get(id).copied().flatten().is_some())
        .count();
    assert_eq!(
        uncaptured, 0,
        "{column}: published notes below the capture threshold"
    );
    for (n, &id) in inputs.note_ids.iter().enumerate() {
        if !inputs.captured[n] {
            continue;
        }
        match (
            ours[n].map(|g| g.intercept),
            theirs.get(&id).copied().flatten(),
        ) {
            (Some(a), Some(b)) => pairs.push((a, b)),
            (None, Some(_)) => missing += 1,
            (Some(_), None) if all_notes => extra += 1,
            _ => {}
        }
    }
    let diffs: Vec<f64> = pairs.iter().map(|(a, b)| (a - b).abs()).collect();
    Agreement {
        notes: pairs.len(),
        r: pearson(&pairs),
        max_diff: diffs.iter().fold(0.0, |m, &d| m.max(d)),
        within_1e6: diffs.iter().filter(|&&d| d <= 1e-6).count(),
        identical: diffs.iter().filter(|&&d| d == 0.0).count(),
        missing,
        extra,
    }
}

fn check(name: &str) {
    let dataset = golden(name);
    let scored = Tsv::read(&dataset, "reference-output/scored_notes.tsv.gz");
    let run = |apply_pss: bool| {
        let inputs = read_inputs(&dataset, apply_pss);
        let ratings = GaussianRatings {
            note: &inputs.note,
            rater: &inputs.rater,
            helpful_num: &inputs.helpful_num,
        };
        let ours = gaussian_scores(
            ratings,
            inputs.note_ids.len(),
            &inputs.rater_factor,
            &inputs.author,
        );
        (inputs, ours)
    };

    let (inputs, ours) = run(true);
    let with_topics = agreement(
        &inputs,
        &ours,
        &scored,
        "gaussianCoreWithTopicsNoteIntercept",
        true,
    );
    let without_topics = agreement(&inputs, &ours, &scored, "gaussianNoteIntercept", false);
    let (plain_inputs, plain) = run(false);
    let no_pss = agreement(
        &plain_inputs,
        &plain,
        &scored,
        "gaussianCoreWithTopicsNoteIntercept",
        false,
    );
    for (label, a) in [
        ("gaussianCoreWithTopicsNoteIntercept", &with_topics),
        ("gaussianNoteIntercept", &without_topics),
        ("  (without post-selection similarity)", &no_pss),
    ] {
        eprintln!(
            "{name} {label}: {} notes, r = {:.9}, max |Δ| = {:.2e}, {} within 1e-6, \
             {} identical; {} missing, {} extra",
            a.notes, a.r, a.max_diff, a.within_1e6, a.identical, a.missing, a.extra
        );
    }
    eprintln!(
        "{name}: {} final-round ratings, {} dropped by post-selection similarity",
        inputs.note.len(),
        inputs.pss_dropped
    );
    for a in [&with_topics, &without_topics] {
        assert!(a.notes > 400, "only {} notes compared", a.notes);
        assert_eq!((a.missing, a.extra), (0, 0), "scored note sets differ");
        assert!(a.r >= 0.995, "r = {}", a.r);
        assert!(a.max_diff <= 1e-6, "max |Δ| = {}", a.max_diff);
    }
}

#[test]
fn tiny_s1_intercepts_match_the_reference() {
    check("tiny-s1");
}

#[test]
fn small_s2_intercepts_match_the_reference() {
    check("small-s2");
}
