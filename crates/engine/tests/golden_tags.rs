//! Tag computations against the reference's outputs on the `tiny-s1` golden dataset
//! (`../shared/golden`, beside the checkout).
//!
//! * Explanation tags are recomputed from the tag counts in `aux_note_info` and the final
//!   status in `scored_notes`, and must equal the reference's `firstTag`/`secondTag`.
//! * Tag and incorrect aggregates are recomputed from the input ratings and the core model's
//!   final note and rater factors, and must equal the core model's columns in
//!   `aux_note_info` (incorrect aggregates to float32 output precision; tag aggregates to
//!   1e-3, see the test).
//! * Per-rater incorrect-tag counts must equal the prescoring rater output of a scorer that
//!   sees every rating.

mod common;

use common::{Tsv, golden};
use std::collections::HashMap;
use std::path::PathBuf;

use bridgenotes_engine::NoteStatus;
use bridgenotes_engine::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};
use bridgenotes_engine::tags::{
    ExplanationParams, IncorrectFilterParams, NOT_HELPFUL_HARD_TO_UNDERSTAND, RaterIncorrectCounts,
    TagAggregateParams, TagCounts, TagSet, TaggedRatings, explanation_tags, incorrect_aggregates,
    note_tag_aggregates, rater_incorrect_counts,
};

fn dataset() -> PathBuf {
    golden("tiny-s1")
}

fn tsv(relative: &str) -> Tsv {
    Tsv::read(&dataset(), relative)
}

fn optional_f64(cell: &str) -> Option<f64> {
    (!cell.is_empty()).then(|| cell.parse().expect("a number"))
}

fn optional_tag(cell: &str) -> Option<&str> {
    (!cell.is_empty()).then_some(cell)
}

/// `a` and `b` agree to float32 output precision (both missing, or both present and close).
fn agrees(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-7,
        _ => false,
    }
}

#[test]
fn golden_explanation_tags_match_reference() {
    let scored = tsv("reference-output/scored_notes.tsv.gz");
    let aux = tsv("reference-output/aux_note_info.tsv.gz");
    let counts_of: HashMap<&str, TagCounts> = {
        let helpful: Vec<usize> = HELPFUL_TAGS.iter().map(|t| aux.col(t)).collect();
        let not_helpful: Vec<usize> = NOT_HELPFUL_TAGS.iter().map(|t| aux.col(t)).collect();
        let id = aux.col("noteId");
        aux.rows
            .iter()
            .map(|row| {
                let count = |c: usize| row[c].parse::<u32>().expect("a tag count");
                let counts = TagCounts {
                    helpful: std::array::from_fn(|k| count(helpful[k])),
                    not_helpful: std::array::from_fn(|k| count(not_helpful[k])),
                };
                (row[id].as_str(), counts)
            })
            .collect()
    };
    let params = ExplanationParams::default();
    let (id, status, first, second, decided_by) = (
        scored.col("noteId"),
        scored.col("finalRatingStatus"),
        scored.col("firstTag"),
        scored.col("secondTag"),
        scored.col("decidedBy"),
    );
    let (mut rated, mut agree, mut insufficient) = (0, 0, 0);
    for row in &scored.rows {
        let counts = &counts_of[row[id].as_str()];
        let reference = (optional_tag(&row[first]), optional_tag(&row[second]));
        let status: NoteStatus = row[status].parse().expect("a status");
        match status {
            NoteStatus::CurrentlyRatedHelpful | NoteStatus::CurrentlyRatedNotHelpful => {
                rated += 1;
                let e = explanation_tags(status, counts, &params);
                if (e.first_tag, e.second_tag) == reference && !e.insufficient {
                    agree += 1;
                } else {
                    eprintln!("note {}: {e:?}, reference {reference:?}", row[id]);
                }
            }
            _ => {
                assert_eq!(reference, (None, None), "note {} has tags", row[id]);
                if row[decided_by].starts_with("InsufficientExplanation") {
                    // It was CRH or CRNH before the rule; either way it lacked tags.
                    insufficient += 1;
                    let lacks = |s| explanation_tags(s, counts, &params).insufficient;
                    assert!(
                        lacks(NoteStatus::CurrentlyRatedHelpful)
                            || lacks(NoteStatus::CurrentlyRatedNotHelpful),
                        "note {} was set to NMR for lack of tags but has them",
                        row[id]
                    );
                }
            }
        }
    }
    let share = agree as f64 / rated as f64;
    eprintln!(
        "explanation tags: {agree} of {rated} CRH/CRNH notes agree ({:.2} %); \
         {insufficient} notes decided by InsufficientExplanation",
        100.0 * share
    );
    assert!(rated > 200, "only {rated} rated notes");
    assert!(share >= 0.995, "agreement {share}");
}

#[test]
fn golden_active_filter_tags_are_comma_joined_in_tsv_order() {
    let scored = tsv("reference-output/scored_notes.tsv.gz");
    let aux = tsv("reference-output/aux_note_info.tsv.gz");
    let adjusted_of: HashMap<&str, Vec<f64>> = {
        let columns: Vec<usize> = NOT_HELPFUL_TAGS
            .iter()
            .map(|t| aux.col(&format!("{t}Adjusted")))
            .collect();
        let id = aux.col("noteId");
        aux.rows
            .iter()
            .filter(|row| !row[columns[0]].is_empty())
            .map(|row| {
                let values = columns.iter().map(|&c| row[c].parse().unwrap()).collect();
                (row[id].as_str(), values)
            })
            .collect()
    };
    let (id, active) = (scored.col("noteId"), scored.col("activeFilterTags"));
    let mut filtered = 0;
    for row in scored.rows.iter().filter(|r| !r[active].is_empty()) {
        filtered += 1;
        let mut set = 0u16;
        for name in row[active].split(',') {
            let k = NOT_HELPFUL_TAGS
                .iter()
                .position(|t| *t == name)
                .unwrap_or_else(|| panic!("unknown tag {name:?}"));
            assert_ne!(k, NOT_HELPFUL_HARD_TO_UNDERSTAND);
            // Every fired tag passed the adjusted-total minimum.
            assert!(adjusted_of[row[id].as_str()][k] > 2.5, "note {}", row[id]);
            set |= 1 << k;
        }
        assert_eq!(
            TagSet(set).active_filter_tags().as_deref(),
            Some(row[active].as_str())
        );
    }
    assert!(filtered > 10, "only {filtered} filtered notes");
}

/// Input ratings that carry a helpfulness value: (note id, rater id, tag bits).
fn golden_ratings() -> Vec<(String, String, u32)> {
    let ratings = tsv("input/ratings-00000.tsv.gz");
    let tags: Vec<usize> = HELPFUL_TAGS
        .iter()
        .chain(NOT_HELPFUL_TAGS.iter())
        .map(|t| ratings.col(t))
        .collect();
    let (note, rater, level, helpful, not_helpful) = (
        ratings.col("noteId"),
        ratings.col("raterParticipantId"),
        ratings.col("helpfulnessLevel"),
        ratings.col("helpful"),
        ratings.col("notHelpful"),
    );
    ratings
        .rows
        .iter()
        .filter(|r| !r[level].is_empty() || r[helpful] == "1" || r[not_helpful] == "1")
        .map(|r| {
            let bits = tags
                .iter()
                .enumerate()
                .map(|(bit, &c)| u32::from(r[c] == "1") << bit)
                .sum();
            (r[note].clone(), r[rater].clone(), bits)
        })
        .collect()
}

/// Dense indices for ids in order of first appearance.
#[derive(Default)]
struct Index(HashMap<String, u32>);

impl Index {
    fn get(&mut self, id: &str) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(id.to_string()).or_insert(next)
    }
}

/// The expansion-plus scorer scores every rating (no group or topic filter), so its prescoring
/// counts are over all ratings.
#[test]
fn golden_tags_rater_incorrect_counts_match_prescoring() {
    let ratings = golden_ratings();
    let mut raters = Index::default();
    let (mut note, mut rater, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    for (_, u, t) in &ratings {
        note.push(0);
        rater.push(raters.get(u));
        tags.push(*t);
    }
    let counts = rater_incorrect_counts(TaggedRatings::new(&note, &rater, &tags), raters.0.len());
    let output = tsv("reference-output/prescoring/prescoring_rater_model_output.tsv.gz");
    let (id, scorer, incorrect, total) = (
        output.col("raterParticipantId"),
        output.col("scorerName"),
        output.col("incorrectTagRatingsMadeByRater"),
        output.col("totalRatingsMadeByRater"),
    );
    let mut compared = 0;
    for row in output
        .rows
        .iter()
        .filter(|r| r[scorer] == "MFExpansionPlusScorer")
    {
        let reference = optional_f64(&row[incorrect]).map(|i| RaterIncorrectCounts {
            incorrect_tag_ratings: i as u32,
            total_ratings: optional_f64(&row[total]).expect("both counts") as u32,
        });
        let ours = raters.0.get(&row[id]).and_then(|&u| counts[u as usize]);
        assert_eq!(ours, reference, "rater {}", row[id]);
        compared += 1;
    }
    assert!(compared > 100, "only {compared} raters");
}

/// Reads the core scorer's rows of a prescoring table: id column → row.
fn core_prescoring_rows<'a>(table: &'a Tsv, id: &str) -> Vec<(&'a str, &'a Vec<String>)> {
    let (id, scorer) = (table.col(id), table.col("scorerName"));
    table
        .rows
        .iter()
        .filter(|r| r[scorer] == "MFCoreScorer")
        .map(|r| (r[id].as_str(), r))
        .collect()
}

#[test]
fn golden_tags_and_incorrect_aggregates_match_core_final_scoring() {
    let scored = tsv("reference-output/scored_notes.tsv.gz");
    let helpfulness = tsv("reference-output/helpfulness_scores.tsv.gz");
    let prescoring_notes = tsv("reference-output/prescoring/prescoring_note_model_output.tsv.gz");
    let prescoring_raters = tsv("reference-output/prescoring/prescoring_rater_model_output.tsv.gz");
    let aux = tsv("reference-output/aux_note_info.tsv.gz");

    let mut notes = Index::default();
    let mut raters = Index::default();
    // The core model's final note factors (the notes in `scored_notes` are the notes in
    // `aux_note_info`, in the same order) and rater factors (frozen in final scoring).
    let mut final_note_factor = Vec::new();
    for (id, f) in scored
        .column("noteId")
        .into_iter()
        .zip(scored.column("coreNoteFactor1"))
    {
        assert_eq!(notes.get(id) as usize, final_note_factor.len());
        final_note_factor.push(optional_f64(f));
    }
    let mut rater_factor = Vec::new();
    for (id, f) in helpfulness
        .column("raterParticipantId")
        .into_iter()
        .zip(helpfulness.column("coreRaterFactor1"))
    {
        assert_eq!(raters.get(id) as usize, rater_factor.len());
        rater_factor.push(optional_f64(f));
    }
    let (mut note, mut rater, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    for (n, u, t) in golden_ratings() {
        note.push(notes.get(&n));
        rater.push(raters.get(&u));
        tags.push(t);
    }
    final_note_factor.resize(notes.0.len(), None);
    rater_factor.resize(raters.0.len(), None);

    // The core fit also held notes that its capture-threshold post-processing later dropped
    // from the output; they count in the factor normalization and in η. Their final factors
    // are not published, so their prescoring factors stand in (they differ by < 0.011), which
    // is why the tag aggregates are compared to 1e-3 rather than to output precision.
    let mut fit_note_factor = final_note_factor.clone();
    let f = prescoring_notes.col("internalNoteFactor1");
    for (id, row) in core_prescoring_rows(&prescoring_notes, "noteId") {
        let n = notes.get(id) as usize;
        if n < fit_note_factor.len() && fit_note_factor[n].is_none() {
            fit_note_factor[n] = optional_f64(&row[f]);
        }
    }
    // The core scorer's prescoring incorrect-tag counts; FilterIncorrect's rater table is
    // the final-fit raters that have a prescoring row.
    let mut rater_counts = vec![None; raters.0.len()];
    let mut in_prescoring = vec![false; raters.0.len()];
    let (incorrect, total) = (
        prescoring_raters.col("incorrectTagRatingsMadeByRater"),
        prescoring_raters.col("totalRatingsMadeByRater"),
    );
    for (id, row) in core_prescoring_rows(&prescoring_raters, "raterParticipantId") {
        let Some(&u) = raters.0.get(id) else { continue };
        in_prescoring[u as usize] = true;
        rater_counts[u as usize] = optional_f64(&row[incorrect]).map(|i| RaterIncorrectCounts {
            incorrect_tag_ratings: i as u32,
            total_ratings: optional_f64(&row[total]).expect("both counts") as u32,
        });
    }
    let incorrect_raters: Vec<Option<f64>> = rater_factor
        .iter()
        .zip(&in_prescoring)
        .map(|(f, &p)| f.filter(|_| p))
        .collect();

    let ratings = TaggedRatings::new(&note, &rater, &tags);
    let tag_aggregates = note_tag_aggregates(
        ratings,
        &fit_note_factor,
        &rater_factor,
        &TagAggregateParams::default(),
    );
    let incorrect = incorrect_aggregates(
        ratings,
        &final_note_factor,
        &incorrect_raters,
        &rater_counts,
        &IncorrectFilterParams::default(),
    );

    let near = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-3 * a.abs().max(b.abs()) + 1e-6,
        _ => false,
    };
    let id = aux.col("noteId");
    let cell = |row: &Vec<String>, name: &str| optional_f64(&row[aux.col(name)]);
    let (mut tag_checked, mut incorrect_checked, mut worst) = (0, 0, 0.0f64);
    for row in &aux.rows {
        let n = notes.get(&row[id]) as usize;
        // Notes outside the published fit have no aggregates in the output.
        let ours = tag_aggregates[n]
            .as_ref()
            .filter(|_| final_note_factor[n].is_some());
        let reference = cell(row, "ratingWeight");
        assert!(
            near(ours.map(|a| a.rating_weight), reference),
            "note {}: ratingWeight {:?} vs {reference:?}",
            row[id],
            ours.map(|a| a.rating_weight)
        );
        if let (Some(a), Some(b)) = (ours, reference) {
            worst = worst.max((a.rating_weight / b - 1.0).abs());
        }
        for (k, tag) in NOT_HELPFUL_TAGS.iter().enumerate() {
            let (adjusted, ratio) = (format!("{tag}Adjusted"), format!("{tag}AdjustedRatio"));
            assert!(
                near(ours.map(|a| a.adjusted[k]), cell(row, &adjusted)),
                "note {}: {adjusted}",
                row[id]
            );
            assert!(
                near(ours.and_then(|a| a.adjusted_ratio[k]), cell(row, &ratio)),
                "note {}: {ratio}",
                row[id]
            );
        }
        tag_checked += usize::from(ours.is_some());

        let ours = incorrect[n];
        let count = |x: u32| Some(x as f64);
        assert!(
            agrees(
                ours.and_then(|a| count(a.incorrect)),
                cell(row, "notHelpfulIncorrect_interval")
            ) && agrees(
                ours.and_then(|a| count(a.voters)),
                cell(row, "num_voters_interval")
            ) && agrees(
                ours.map(|a| a.p_incorrect_user),
                cell(row, "p_incorrect_user_interval")
            ),
            "note {}: {ours:?}",
            row[id]
        );
        // The reference writes an undefined tf-idf (0/0) as `nan`, a missing one as empty.
        let reference = cell(row, "tf_idf_incorrect_interval");
        let tf_idf_agrees = match (ours, reference) {
            (Some(a), Some(b)) if b.is_nan() => a.tf_idf.is_none(),
            (Some(a), Some(b)) if b.is_infinite() => a.tf_idf == Some(b),
            (ours, reference) => agrees(ours.and_then(|a| a.tf_idf), reference),
        };
        assert!(tf_idf_agrees, "note {}: {ours:?} vs {reference:?}", row[id]);
        incorrect_checked += usize::from(ours.is_some());
    }
    eprintln!(
        "tag aggregates of {tag_checked} notes agree (worst ratingWeight ratio off by {worst:.1e}); \
         incorrect aggregates of {incorrect_checked} notes agree"
    );
    assert!(tag_checked > 400 && incorrect_checked > 100);
}
