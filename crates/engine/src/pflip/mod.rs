//! The flip model (the reference's `pflip_plus_model.py`): for a note in status
//! stabilization, or one that went CRH in the last day, how likely it is to lose CRH status.
//! It writes `pflipProba`; its label (flip or stay CRH) lets a stabilizing note become CRH
//! once its stabilization time is up (see [`crate::meta`]).
//!
//! Training: notes on posts after 19 August 2024 that entered stabilization or went CRH and
//! have since locked, labelled CRH (locked CRH, unless ScoringDriftGuard decided it) or FLIP
//! (went CRH or entered stabilization, then locked NMR or CRNH). Each is described twice
//! ([`features`]): as of entering stabilization and as of going CRH (the earlier and the later
//! of the two times, less 15 minutes, but never before its fifth rating), from the ratings
//! made by then. The rows are encoded as 0/1 features ([`encode`]) and an L1-penalised
//! logistic regression (`C` = 0.04) is fitted to nine tenths of them ([`l1`]). A note is
//! predicted to flip when its decision value exceeds the one at which 60 % of the training
//! rows labelled CRH would be called flips.
//!
//! Prediction: every note on the post of a note in stabilization, or of a note that went CRH
//! in the last 24 hours, is described from all its current ratings; `pflipProba` is the
//! model's probability.
//!
//! Departures from the reference, which cannot be reproduced exactly: its nine tenths are
//! drawn at random (the golden runs give no seed); here they are a fixed hash of note and
//! moment. Its solver is liblinear's coordinate descent in random order, stopped at a
//! tolerance of 1e-4; here L-BFGS in orthant-wise mode runs to the optimum. Its k-means bins
//! move an empty cluster to one of the points farthest from their centres, and among tied
//! points (duplicate counts) numpy's partition picks one by its own order; here the first in
//! row order, so a few columns get one bin fewer or more. Past [`MAX_TRAINING_NOTES`] labelled
//! notes a fixed hash-chosen subset trains the model, so the fit stays bounded at any scale.
//!
//! On small-s2 its probabilities correlate with the reference's output at r 0.89; the
//! reference's own code rerun on the same inputs reaches 0.91-0.97, and trained on the same
//! rows as here 0.91-0.93 with these.

mod encode;
mod features;
pub mod l1;

use rayon::prelude::*;

use crate::NoteStatus;
use crate::community::{CommunityNote, Participant, ViewRatings};
use crate::meta::PflipLabel;
use encode::Encoder;
use features::{FeatureSource, NoteRow, on_a_post};

/// Only notes on posts with a larger id train the model (19 August 2024).
pub const MIN_TWEET_ID: i64 = 1_825_679_568_688_054_351;
/// Ratings made in the last this many milliseconds before a status change were not yet seen
/// by the scoring run that made it.
const RATING_LATENCY_MILLIS: i64 = 15 * 60_000;
/// The cutoff never falls before a note's fifth rating.
const MIN_RATINGS: usize = 5;
/// Inverse penalty of the logistic regression.
const C: f64 = 0.04;
/// Iteration limit of the fit.
const MAX_ITERATIONS: u64 = 2500;
/// Share of the rows that train the model (the rest is held out, as in the reference).
const TRAIN_SHARE: f64 = 0.9;
/// The decision threshold calls this share of CRH training rows flips.
const CRH_FALSE_POSITIVE_RATE: f64 = 0.6;
/// Notes that went CRH this recently are predicted.
const RECENT_CRH_MILLIS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;
/// Labelled notes that train the model at most (a hash-chosen subset past this).
pub const MAX_TRAINING_NOTES: usize = 4_096;
/// Posts whose notes are described together when predicting (their most recent rating is
/// the "now" of recent-rating counts).
const POSTS_PER_BATCH: usize = 10_000;

/// What the model reads.
pub struct PflipInputs<'a> {
    pub notes: &'a [CommunityNote],
    pub participants: &'a [Participant],
    /// The ratings it learns from (the reference: after the prescoring similarity filter).
    pub training_ratings: &'a ViewRatings<'a>,
    /// The ratings it predicts from (the reference: after the final similarity filter).
    pub current_ratings: &'a ViewRatings<'a>,
    /// Per participant: the prescoring rater factor of the core model, else the expansion
    /// model's, else the expansion-plus model's.
    pub rater_factor: &'a [Option<f64>],
    /// The run's time.
    pub now_millis: i64,
}

/// One note's prediction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PflipPrediction {
    pub label: PflipLabel,
    /// `pflipProba`.
    pub probability: f64,
}

/// How a note was labelled for training.
fn training_label(note: &CommunityNote) -> Option<bool> {
    use NoteStatus::*;
    let h = &note.history;
    let locked_low = matches!(
        h.locked_status,
        Some(NeedsMoreRatings | CurrentlyRatedNotHelpful)
    );
    let was_crh = h.first_non_nmr_status == Some(CurrentlyRatedHelpful);
    let stabilized = h
        .timestamp_millis_of_first_nmr_due_to_min_stable_crh_time
        .is_some();
    let mut label = None;
    if h.locked_status == Some(CurrentlyRatedHelpful) {
        label = Some(false);
    }
    if (was_crh || (stabilized && h.first_non_nmr_status.is_none())) && locked_low {
        label = Some(true);
    }
    let drift_guarded = h
        .current_decided_by
        .as_deref()
        .is_some_and(|d| d.starts_with("ScoringDriftGuard"));
    label.filter(|&flip| flip || !drift_guarded)
}

/// The two training moments of a note (earlier, later), before the rating-count floor.
fn moments(note: &CommunityNote) -> Option<(f64, f64)> {
    let h = &note.history;
    let stabilized = h.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time;
    if stabilized.is_none() && h.first_non_nmr_status != Some(NoteStatus::CurrentlyRatedHelpful) {
        return None;
    }
    let times: Vec<f64> = [stabilized, h.timestamp_millis_of_first_non_nmr_status]
        .into_iter()
        .flatten()
        .filter(|t| !t.is_nan())
        .collect();
    let lo = times.iter().copied().reduce(f64::min)?;
    let hi = times.iter().copied().reduce(f64::max)?;
    Some((lo, hi))
}

/// A fixed pseudo-random number for a note and a tag (splitmix64).
fn hash(note_id: i64, tag: u64) -> u64 {
    let mut z = (note_id as u64) ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The fitted model.
struct Model {
    encoder: Encoder,
    fit: l1::L1Fit,
    threshold: f64,
}

/// Fits the model and predicts the notes it applies to (`None` for the others, and for all
/// when there is too little to learn from).
pub fn run_pflip(inputs: &PflipInputs<'_>) -> Vec<Option<PflipPrediction>> {
    let mut predictions = vec![None; inputs.notes.len()];
    let Some(model) = train(inputs, MAX_TRAINING_NOTES) else {
        return predictions;
    };
    for (n, p) in predict(&model, inputs) {
        predictions[n as usize] = Some(p);
    }
    predictions
}

/// The training rows: each labelled note at its two moments.
fn training_rows(inputs: &PflipInputs<'_>, max_notes: usize) -> Vec<(NoteRow, bool, u64)> {
    let candidates: Vec<u32> = (0..inputs.notes.len() as u32)
        .filter(|&n| {
            let note = &inputs.notes[n as usize];
            on_a_post(note).is_some_and(|t| t > MIN_TWEET_ID)
                && training_label(note).is_some()
                && moments(note).is_some()
        })
        .collect();
    let mut rated = vec![false; inputs.notes.len()];
    for k in 0..inputs.training_ratings.len() {
        rated[inputs.training_ratings.note(k) as usize] = true;
    }
    let mut labelled: Vec<u32> = candidates
        .into_iter()
        .filter(|&n| rated[n as usize])
        .collect();
    if labelled.len() > max_notes {
        labelled.sort_by_key(|&n| hash(inputs.notes[n as usize].note_id, 0));
        labelled.truncate(max_notes);
        labelled.sort_unstable();
    }
    let source = FeatureSource::new(
        inputs.notes,
        inputs.training_ratings,
        inputs.rater_factor,
        &labelled,
    );
    let source = &source;
    labelled
        .par_iter()
        .flat_map_iter(|&n| {
            let note = &inputs.notes[n as usize];
            let flip = training_label(note).expect("labelled");
            let (lo, hi) = moments(note).expect("has moments");
            let mut times: Vec<i64> = source.rating_times(n).collect();
            times.sort_unstable();
            let floor = times[(MIN_RATINGS - 1).min(times.len() - 1)];
            [(lo, 1u64), (hi, 2u64)].into_iter().map(move |(at, tag)| {
                let cutoff = (at as i64 - RATING_LATENCY_MILLIS).max(floor);
                let row = source.describe(n, Some(cutoff), cutoff);
                (row, flip, hash(note.note_id, tag))
            })
        })
        .collect()
}

fn train(inputs: &PflipInputs<'_>, max_notes: usize) -> Option<Model> {
    let mut rows = training_rows(inputs, max_notes);
    if rows.is_empty() {
        return None;
    }
    // The held-out tenth: the rows with the largest hashes.
    rows.sort_by_key(|r| r.2);
    rows.truncate(((rows.len() as f64) * TRAIN_SHARE).floor() as usize);
    let labels: Vec<bool> = rows.iter().map(|r| r.1).collect();
    if labels.iter().all(|&l| l) || labels.iter().all(|&l| !l) {
        return None;
    }
    let rows: Vec<NoteRow> = rows.into_iter().map(|r| r.0).collect();
    let rater_id = |r: u32| inputs.participants[r as usize].id.clone();
    let (encoder, x) = Encoder::fit(&rows, &labels, &rater_id);
    drop(rows);
    let fit = l1::fit_l1(&x, &labels, C, MAX_ITERATIONS).ok()?;
    let scores: Vec<f64> = (0..x.rows()).map(|r| fit.decision(x.row(r))).collect();
    let threshold = roc_threshold(&labels, &scores, CRH_FALSE_POSITIVE_RATE);
    Some(Model {
        encoder,
        fit,
        threshold,
    })
}

/// The notes to predict: those on the posts of notes in stabilization or recently CRH.
fn targets(inputs: &PflipInputs<'_>) -> Vec<u32> {
    let recent = inputs.now_millis as f64 - RECENT_CRH_MILLIS;
    let posts: rustc_hash::FxHashSet<i64> = inputs
        .notes
        .iter()
        .filter(|note| {
            let h = &note.history;
            let stabilizing = h
                .timestamp_millis_of_nmr_due_to_min_stable_crh_time
                .is_some_and(|t| t > 0.0);
            let recently_crh = h.current_status == Some(NoteStatus::CurrentlyRatedHelpful)
                && (h
                    .timestamp_millis_of_first_non_nmr_status
                    .is_some_and(|t| t >= recent)
                    || h.timestamp_millis_of_latest_non_nmr_status
                        .is_some_and(|t| t >= recent));
            stabilizing || recently_crh
        })
        .filter_map(on_a_post)
        .collect();
    // Their notes, grouped by post, posts in the order of their first note (as the reference
    // batches them).
    let mut group_of: rustc_hash::FxHashMap<i64, usize> = rustc_hash::FxHashMap::default();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (n, note) in inputs.notes.iter().enumerate() {
        if let Some(post) = on_a_post(note).filter(|p| posts.contains(p)) {
            let g = *group_of.entry(post).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(n as u32);
        }
    }
    groups.concat()
}

fn predict(model: &Model, inputs: &PflipInputs<'_>) -> Vec<(u32, PflipPrediction)> {
    let targets = targets(inputs);
    let mut out = Vec::with_capacity(targets.len());
    let post = |n: u32| on_a_post(&inputs.notes[n as usize]).expect("on a post");
    let mut start = 0;
    while start < targets.len() {
        // The next batch: up to POSTS_PER_BATCH posts.
        let mut end = start;
        let mut posts = 0;
        while end < targets.len() {
            if end == start || post(targets[end]) != post(targets[end - 1]) {
                if posts == POSTS_PER_BATCH {
                    break;
                }
                posts += 1;
            }
            end += 1;
        }
        let batch = &targets[start..end];
        let source = FeatureSource::new(
            inputs.notes,
            inputs.current_ratings,
            inputs.rater_factor,
            batch,
        );
        let present = batch
            .iter()
            .flat_map(|&n| source.rating_times(n))
            .max()
            .unwrap_or(inputs.now_millis);
        let predicted: Vec<(u32, PflipPrediction)> = batch
            .par_iter()
            .map(|&n| {
                let row = source.describe(n, None, present);
                let z = model.fit.decision(&model.encoder.encode(&row));
                let label = if z > model.threshold {
                    PflipLabel::Flip
                } else {
                    PflipLabel::Crh
                };
                (
                    n,
                    PflipPrediction {
                        label,
                        probability: crate::numeric::expit(z),
                    },
                )
            })
            .collect();
        out.extend(predicted);
        start = end;
    }
    out
}

/// The decision threshold of scikit-learn's ROC curve (with its intermediate points dropped)
/// whose false-positive rate is nearest `rate`: positives are flips.
fn roc_threshold(labels: &[bool], scores: &[f64], rate: f64) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Descending scores; equal scores keep a fixed order (they share one ROC point).
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(b.cmp(&a)));
    // One point per distinct score: (false positives, true positives, score).
    let mut points: Vec<(f64, f64, f64)> = Vec::new();
    let (mut tp, mut fp) = (0.0, 0.0);
    for (i, &r) in order.iter().enumerate() {
        if labels[r] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last = i + 1 == order.len() || scores[order[i + 1]] != scores[r];
        if last {
            points.push((fp, tp, scores[r]));
        }
    }
    // Drop points collinear with their neighbours.
    if points.len() > 2 {
        let mut kept = vec![points[0]];
        for i in 1..points.len() - 1 {
            let (a, b, c) = (points[i - 1], points[i], points[i + 1]);
            let bends = (c.0 - 2.0 * b.0 + a.0) != 0.0 || (c.1 - 2.0 * b.1 + a.1) != 0.0;
            if bends {
                kept.push(b);
            }
        }
        kept.push(points[points.len() - 1]);
        points = kept;
    }
    let total_fp = points.last().map_or(0.0, |p| p.0);
    let mut best = (f64::INFINITY, points.first().map_or(0.0, |p| p.2 + 1.0));
    // The curve starts at (0, 0) with a threshold above every score.
    let start = (0.0f64, points.first().map_or(0.0, |p| p.2 + 1.0));
    for (fpr, threshold) in
        std::iter::once(start).chain(points.iter().map(|p| (p.0 / total_fp, p.2)))
    {
        let distance = (fpr - rate).abs();
        if distance < best.0 {
            best = (distance, threshold);
        }
    }
    best.1
}

#[cfg(test)]
mod tests;
