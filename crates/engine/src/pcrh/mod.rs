//! The PCRH model (the reference's `pcrh_model.py`): from a note's early ratings, how likely
//! it is to end up Currently Rated Helpful. It writes `abovePcrhThresholdTime` and the aux
//! columns `pcrhExitN`, `pcrhExitProba`, `pcrhRevoked`, `pcrhRevokeN`, `pcrhFinalPred`;
//! no status depends on it.
//!
//! Training: for each cascade size N (8, 10, 15, 20, 30, 50), every note created after the
//! training cutoff with at least N ratings is described by its first N ratings (see
//! [`features`]) and labelled by whether its input status is CRH; notes already CRH before
//! their N-th rating are left out, as is a size with fewer than 50 notes. A gradient-boosted
//! tree ensemble (forust's, with the reference's 200 rounds of depth 5 at rate 0.07 and
//! early stopping on a held-out tenth) is fitted to the pooled rows.
//!
//! Prediction: each note with 8 to 100 ratings is described by all of them, with N its
//! rating count; it is above when the probability reaches the threshold of the nearest
//! cascade size, or, if it was above before, until the probability falls under 0.5.
//!
//! Departures from the reference, which cannot be reproduced exactly: its classifier is
//! scikit-learn's `HistGradientBoostingClassifier`, whose held-out tenth is drawn at random
//! (the golden runs give no seed); here the split is a fixed hash of note and size,
//! leaves are bounded by hessian weight rather than by 20 samples, and leaf values carry an
//! L2 penalty of 1 (scikit-learn's default has none). The reference's own code, rerun on its
//! own prescoring tables, reproduces its probabilities only to r ≈ 0.8 (small-s2); these
//! come as close. Past 300 000 training
//! rows a fixed hash-chosen subset is kept, so the fit stays bounded at any scale.

mod features;

use forust_ml::gradientbooster::GrowPolicy;
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};

use crate::NoteStatus;
use crate::community::{CommunityNote, Participant, ViewRatings};
use crate::scorer::CORE_GROUPS;
use crate::topic::Topic;
use features::{AuthorRecords, FEATURES, NoteRatings, note_features};

/// Probability thresholds by number of ratings (`c.pcrhPerNThresholds`); the sizes are the
/// training cascade.
pub const THRESHOLDS: [(u32, f64); 6] = [
    (8, 0.77),
    (10, 0.78),
    (15, 0.76),
    (20, 0.74),
    (30, 0.70),
    (50, 0.67),
];
/// A note above before stays above until its probability falls under this.
pub const REVOKE_THRESHOLD: f64 = 0.5;
/// Only notes created after this train the model (`c.pcrhTrainingCutoffMillis`).
pub const TRAINING_CUTOFF_MILLIS: i64 = 1_741_564_800_000;
/// Notes with more ratings than this get no prediction.
const MAX_RATINGS: usize = 100;
/// A cascade size with fewer training notes is left out.
const MIN_ROWS_PER_SIZE: usize = 50;
/// Training rows kept at most (a hash-chosen subset past this).
const MAX_TRAINING_ROWS: usize = 300_000;
/// Notes whose features are held at once when predicting.
const PREDICTION_BATCH: usize = 16_384;

/// What the model reads.
pub struct PcrhInputs<'a> {
    pub notes: &'a [CommunityNote],
    pub participants: &'a [Participant],
    /// The ratings it learns from (the reference: after the prescoring similarity filter).
    pub training_ratings: &'a ViewRatings<'a>,
    /// The ratings it predicts from (the reference: before the final similarity filter).
    pub current_ratings: &'a ViewRatings<'a>,
    /// Per participant: the core model's prescoring rater factor, or the first round's
    /// where the final round has none.
    pub core_factor: &'a [Option<f64>],
    /// Per participant: whether the core model's prescoring final round placed them.
    pub scored_rater: &'a [bool],
    /// Each note's topic.
    pub topics: &'a [Option<Topic>],
    /// Per topic with a topic model: its prescoring rater factors, per participant.
    pub topic_factors: &'a [(Topic, &'a [Option<f64>])],
    /// Per note: whether its input `abovePcrhThresholdTime` is positive (above last run).
    pub previously_above: &'a [bool],
}

/// One note's prediction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PcrhPrediction {
    /// Its number of ratings (`pcrhExitN`).
    pub ratings: u32,
    /// The model's probability that the note ends up CRH (`pcrhExitProba`).
    pub probability: f64,
    /// Above the threshold now (`pcrhFinalPred`).
    pub above: bool,
    /// Was above and fell under [`REVOKE_THRESHOLD`] (`pcrhRevoked`).
    pub revoked: bool,
}

impl PcrhPrediction {
    /// `pcrhRevokeN`: the rating count at which the note was revoked.
    pub fn revoke_n(&self) -> Option<f64> {
        self.revoked.then_some(f64::from(self.ratings))
    }
}

/// The threshold for a note with `n` ratings: that of the nearest cascade size (the smaller
/// on a tie).
pub fn threshold(n: u32) -> f64 {
    let mut best = THRESHOLDS[0];
    for t in THRESHOLDS {
        if t.0.abs_diff(n) < best.0.abs_diff(n) {
            best = t;
        }
    }
    best.1
}

/// Fits the model and predicts every note it applies to (`None` for the others, and for
/// all when there is too little to learn from).
pub fn run_pcrh(inputs: &PcrhInputs<'_>) -> Vec<Option<PcrhPrediction>> {
    run_pcrh_capped(inputs, MAX_TRAINING_ROWS)
}

/// [`run_pcrh`] learning from at most `max_rows` training rows.
fn run_pcrh_capped(inputs: &PcrhInputs<'_>, max_rows: usize) -> Vec<Option<PcrhPrediction>> {
    let notes = inputs.notes.len();
    let mut predictions = vec![None; notes];
    let in_core_groups: Vec<bool> = inputs
        .participants
        .iter()
        .map(|p| {
            p.modeling_group()
                .is_some_and(|g| CORE_GROUPS.iter().any(|&c| f64::from(c) == g))
        })
        .collect();
    let authors = AuthorRecords::new(inputs.notes, inputs.participants.len());
    let topic_axis = |n: usize| {
        let topic = inputs.topics.get(n).copied().flatten()?;
        inputs
            .topic_factors
            .iter()
            .find(|(t, _)| *t == topic)
            .map(|(_, axis)| *axis)
    };

    let Some(model) = fit(inputs, &in_core_groups, &authors, &topic_axis, max_rows) else {
        return predictions;
    };

    // Prediction: all current ratings of each note with 8 to 100 of them.
    let ratings = inputs.current_ratings;
    let by_note = ByNote::new(ratings, notes, |k| {
        in_core_groups[ratings.rater(k) as usize]
    });
    let reference = inputs
        .notes
        .iter()
        .filter_map(|n| n.history.timestamp_millis_of_current_status)
        .fold(f64::NEG_INFINITY, f64::max);
    let min_ratings = THRESHOLDS[0].0 as usize;
    let eligible: Vec<usize> = (0..notes)
        .filter(|&n| (min_ratings..=MAX_RATINGS).contains(&by_note.of(n).len()))
        .collect();
    // In batches, so the feature rows of a large community are never all held at once.
    let mut rows = Vec::new();
    let mut scored = Vec::new();
    for batch in eligible.chunks(PREDICTION_BATCH) {
        rows.clear();
        for &n in batch {
            let all = by_note.of(n);
            scored.clear();
            scored.extend(
                all.iter()
                    .copied()
                    .filter(|&k| inputs.scored_rater[ratings.rater(k as usize) as usize]),
            );
            let note = NoteRatings {
                all,
                scored: &scored,
            };
            note_features(
                ratings,
                &note,
                inputs.core_factor,
                topic_axis(n),
                authors.counts(n, inputs.notes[n].author, reference),
                all.len() as f64,
                &mut rows,
            );
        }
        for (&n, probability) in batch.iter().zip(model.probabilities(&rows)) {
            let count = by_note.of(n).len() as u32;
            let (above, revoked) = if inputs.previously_above[n] {
                let revoked = probability < REVOKE_THRESHOLD;
                (!revoked, revoked)
            } else {
                (probability >= threshold(count), false)
            };
            predictions[n] = Some(PcrhPrediction {
                ratings: count,
                probability,
                above,
                revoked,
            });
        }
    }
    predictions
}

/// Builds the training rows and fits the classifier.
fn fit<'a>(
    inputs: &PcrhInputs<'a>,
    in_core_groups: &[bool],
    authors: &AuthorRecords,
    topic_axis: &dyn Fn(usize) -> Option<&'a [Option<f64>]>,
    max_rows: usize,
) -> Option<Classifier> {
    let ratings = inputs.training_ratings;
    let recent: Vec<bool> = inputs
        .notes
        .iter()
        .map(|n| !n.is_deleted() && n.created_at_millis > TRAINING_CUTOFF_MILLIS)
        .collect();
    let by_note = ByNote::new(ratings, inputs.notes.len(), |k| {
        in_core_groups[ratings.rater(k) as usize] && recent[ratings.note(k) as usize]
    });
    // The time of each note's `size`-th rating, unless the note has fewer or was CRH by then.
    let nth_rating = |n: usize, size: u32| -> Option<i64> {
        let all = by_note.of(n);
        let last = *all.get(size as usize - 1)?;
        let nth = ratings.created_at_millis(last as usize);
        let h = &inputs.notes[n].history;
        let decided_before = h.first_non_nmr_status == Some(NoteStatus::CurrentlyRatedHelpful)
            && h.timestamp_millis_of_first_non_nmr_status
                .is_some_and(|t| t < nth as f64);
        (!decided_before).then_some(nth)
    };
    // The training rows (note, size) and their keys; a size with too few notes is left out.
    // Each row: its key, the note, the size and the time of the size-th rating.
    let mut candidates: Vec<(u64, u32, u32, i64)> = Vec::new();
    for (size, _) in THRESHOLDS {
        let before = candidates.len();
        candidates.extend((0..inputs.notes.len()).filter_map(|n| {
            let nth = nth_rating(n, size)?;
            let id = inputs.notes[n].note_id as u64;
            Some((mix(id ^ (u64::from(size) << 56)), n as u32, size, nth))
        }));
        if candidates.len() - before < MIN_ROWS_PER_SIZE {
            candidates.truncate(before);
        }
    }
    if candidates.is_empty() {
        return None;
    }
    // Past the cap, keep the rows with the smallest keys (a fixed pseudo-random subset),
    // before any features are computed.
    if candidates.len() > max_rows {
        candidates.select_nth_unstable(max_rows);
        candidates.truncate(max_rows);
        candidates.sort_unstable_by_key(|&(_, n, size, _)| (size, n));
    }
    let mut rows = Vec::with_capacity(candidates.len() * FEATURES);
    let mut labels = Vec::with_capacity(candidates.len());
    let mut scored = Vec::new();
    for &(_, n, size, nth) in &candidates {
        let n = n as usize;
        let note = &inputs.notes[n];
        let all = by_note.of(n);
        scored.clear();
        scored.extend(all.iter().copied().filter(|&k| {
            ratings.created_at_millis(k as usize) <= nth
                && inputs.scored_rater[ratings.rater(k as usize) as usize]
        }));
        let note_ratings = NoteRatings {
            all: &all[..size as usize],
            scored: &scored,
        };
        note_features(
            ratings,
            &note_ratings,
            inputs.core_factor,
            topic_axis(n),
            authors.counts(n, note.author, nth as f64),
            f64::from(size),
            &mut rows,
        );
        labels.push(f64::from(
            note.history.current_status == Some(NoteStatus::CurrentlyRatedHelpful),
        ));
    }
    // A tenth held out for early stopping.
    let (train, held_out): (Vec<usize>, Vec<usize>) =
        (0..candidates.len()).partition(|&i| !candidates[i].0.is_multiple_of(10));
    Classifier::fit(&rows, &labels, &train, &held_out)
}

/// Ratings grouped by note, each note's in time order (ties in input order).
struct ByNote {
    offsets: Vec<usize>,
    ratings: Vec<u32>,
}

impl ByNote {
    fn new(ratings: &ViewRatings, notes: usize, keep: impl Fn(usize) -> bool) -> Self {
        let mut offsets = vec![0usize; notes + 1];
        for k in 0..ratings.len() {
            if keep(k) {
                offsets[ratings.note(k) as usize + 1] += 1;
            }
        }
        for n in 0..notes {
            offsets[n + 1] += offsets[n];
        }
        let mut next = offsets.clone();
        let mut order = vec![0u32; offsets[notes]];
        for k in 0..ratings.len() {
            if keep(k) {
                let n = ratings.note(k) as usize;
                order[next[n]] = k as u32;
                next[n] += 1;
            }
        }
        for n in 0..notes {
            order[offsets[n]..offsets[n + 1]]
                .sort_by_key(|&k| (ratings.created_at_millis(k as usize), k));
        }
        ByNote {
            offsets,
            ratings: order,
        }
    }

    fn of(&self, n: usize) -> &[u32] {
        &self.ratings[self.offsets[n]..self.offsets[n + 1]]
    }
}

/// SplitMix64's finalizer: a fixed, well-spread hash.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The gradient-boosted classifier.
struct Classifier {
    booster: GradientBooster,
}

impl Classifier {
    /// Fits rows `train` of `rows` (row-major, [`FEATURES`] wide), stopping early when the
    /// log loss on rows `held_out` has not improved for 10 rounds.
    fn fit(rows: &[f64], labels: &[f64], train: &[usize], held_out: &[usize]) -> Option<Self> {
        if train.is_empty() {
            return None;
        }
        let (train_x, train_y) = column_major(rows, labels, train);
        let (held_x, held_y) = column_major(rows, labels, held_out);
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(200)
            .set_learning_rate(0.07)
            .set_max_depth(5)
            .set_max_leaves(31)
            .set_l2(1.0)
            .set_min_leaf_weight(1.0)
            .set_initialize_base_score(true)
            .set_parallel(true)
            .set_tiled_histograms(true);
        // Best-first growth, as scikit-learn grows its trees.
        booster.grow_policy = GrowPolicy::LossGuide;
        let train_weights = vec![1.0; train.len()];
        let held_weights = vec![1.0; held_out.len()];
        let train_matrix = Matrix::new(&train_x, train.len(), FEATURES);
        let evaluation = (!held_out.is_empty()).then(|| {
            vec![(
                Matrix::new(&held_x, held_out.len(), FEATURES),
                held_y.as_slice(),
                held_weights.as_slice(),
            )]
        });
        if evaluation.is_some() {
            booster = booster
                .set_evaluation_metric(Some(Metric::LogLoss))
                .set_early_stopping_rounds(Some(10));
        }
        booster
            .fit(&train_matrix, &train_y, &train_weights, evaluation)
            .ok()?;
        // Like scikit-learn, predict with every round fitted, not only up to the best.
        booster.prediction_iteration = None;
        Some(Classifier { booster })
    }

    /// The probability of the positive class for each row of `rows` (row-major).
    fn probabilities(&self, rows: &[f64]) -> Vec<f64> {
        let count = rows.len() / FEATURES;
        if count == 0 {
            return Vec::new();
        }
        let all: Vec<usize> = (0..count).collect();
        let (x, _) = column_major(rows, &vec![0.0; count], &all);
        self.booster
            .predict(&Matrix::new(&x, count, FEATURES), false)
            .into_iter()
            .map(|margin| 1.0 / (1.0 + (-margin).exp()))
            .collect()
    }
}

/// The chosen rows, column by column, and their labels.
fn column_major(rows: &[f64], labels: &[f64], chosen: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut x = Vec::with_capacity(chosen.len() * FEATURES);
    for f in 0..FEATURES {
        x.extend(chosen.iter().map(|&i| rows[i * FEATURES + f]));
    }
    (x, chosen.iter().map(|&i| labels[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::ScoringRatings;

    #[test]
    fn the_threshold_is_that_of_the_nearest_size_and_the_smaller_on_a_tie() {
        assert_eq!(threshold(8), 0.77);
        assert_eq!(threshold(9), 0.77);
        assert_eq!(threshold(12), 0.78);
        assert_eq!(threshold(13), 0.76);
        assert_eq!(threshold(40), 0.70);
        assert_eq!(threshold(100), 0.67);
    }

    #[test]
    fn notes_are_grouped_in_time_order() {
        let ratings = ScoringRatings {
            note: vec![1, 0, 1, 1],
            rater: vec![0, 1, 2, 3],
            created_at_millis: vec![30, 5, 10, 10],
            ..ScoringRatings::default()
        };
        let by_note = ByNote::new(&ratings.view(), 3, |_| true);
        assert_eq!(by_note.of(0), &[1]);
        assert_eq!(by_note.of(1), &[2, 3, 0]);
        assert!(by_note.of(2).is_empty());
        let kept = ByNote::new(&ratings.view(), 3, |k| k != 2);
        assert_eq!(kept.of(1), &[3, 0]);
    }

    /// A polarized community: notes CRH in their input history drew helpful ratings from
    /// both sides; the others only from one side.
    struct Polarized {
        notes: Vec<CommunityNote>,
        participants: Vec<Participant>,
        ratings: ScoringRatings,
        factor: Vec<Option<f64>>,
    }

    const RATERS: usize = 40;
    const DAY: i64 = 86_400_000;

    fn polarized(notes: usize, ratings_per_note: usize) -> Polarized {
        use crate::{Classification, Enrollment, EnrollmentState, HelpfulnessLevel};
        let participants: Vec<Participant> = (0..RATERS + 1)
            .map(|p| Participant {
                id: format!("p{p}"),
                enrollment: Some(Enrollment {
                    participant_id: format!("p{p}"),
                    state: EnrollmentState::EarnedIn,
                    successful_rating_needed_to_earn_in: 0,
                    timestamp_of_last_state_change: 0,
                    timestamp_of_last_earn_out: None,
                    modeling_population: None,
                    modeling_group: Some(1.0),
                    number_of_times_earned_out: 0,
                }),
            })
            .collect();
        let factor = (0..=RATERS)
            .map(|p| (p < RATERS).then_some(if p % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        let mut ratings = ScoringRatings::default();
        let mut community_notes = Vec::new();
        for n in 0..notes {
            let helpful = n % 3 == 0;
            let created = TRAINING_CUTOFF_MILLIS + (n as i64 + 1) * 1000;
            community_notes.push(CommunityNote {
                note_id: n as i64 + 1,
                author: RATERS as u32,
                created_at_millis: created,
                tweet_id: Some(n as i64),
                classification: Some(Classification::MisinformedOrPotentiallyMisleading),
                summary: String::new(),
                history: crate::StatusHistoryRow {
                    note_id: n as i64 + 1,
                    current_status: Some(if helpful {
                        NoteStatus::CurrentlyRatedHelpful
                    } else {
                        NoteStatus::NeedsMoreRatings
                    }),
                    timestamp_millis_of_current_status: Some((created + DAY) as f64),
                    ..Default::default()
                },
            });
            for j in 0..ratings_per_note {
                let rater = (n + j) % RATERS;
                let level = if helpful || rater.is_multiple_of(2) {
                    HelpfulnessLevel::Helpful
                } else {
                    HelpfulnessLevel::NotHelpful
                };
                ratings.note.push(n as u32);
                ratings.rater.push(rater as u32);
                ratings.created_at_millis.push(created + j as i64);
                ratings.helpful_num.push(0.0);
                ratings.level.push(Some(level));
                ratings.tags.push(0);
                ratings.population_sampled.push(false);
                ratings.high_volume.push(false);
                ratings.correlated.push(false);
            }
        }
        Polarized {
            notes: community_notes,
            participants,
            ratings,
            factor,
        }
    }

    fn predict(c: &Polarized, previously_above: &[bool]) -> Vec<Option<PcrhPrediction>> {
        predict_capped(c, previously_above, MAX_TRAINING_ROWS)
    }

    fn predict_capped(
        c: &Polarized,
        previously_above: &[bool],
        max_rows: usize,
    ) -> Vec<Option<PcrhPrediction>> {
        let scored = vec![true; c.participants.len()];
        let topics = vec![None; c.notes.len()];
        let ratings = c.ratings.view();
        run_pcrh_capped(
            &PcrhInputs {
                notes: &c.notes,
                participants: &c.participants,
                training_ratings: &ratings,
                current_ratings: &ratings,
                core_factor: &c.factor,
                scored_rater: &scored,
                topics: &topics,
                topic_factors: &[],
                previously_above,
            },
            max_rows,
        )
    }

    #[test]
    fn a_capped_training_set_still_learns_and_repeats() {
        // 300 notes at sizes 8 and 10: 600 rows, of which 150 are kept.
        let c = polarized(300, 12);
        let above = vec![false; c.notes.len()];
        let capped = predict_capped(&c, &above, 150);
        assert_eq!(capped, predict_capped(&c, &above, 150));
        assert_ne!(capped, predict(&c, &above), "the cap changes the fit");
        for (n, p) in capped.iter().enumerate() {
            let p = p.expect("predicted");
            assert_eq!(p.above, n % 3 == 0, "note {n}: {}", p.probability);
        }
    }

    #[test]
    fn the_model_tells_bridging_notes_from_one_sided_ones() {
        let c = polarized(300, 12);
        let mut above = vec![false; c.notes.len()];
        // Two one-sided notes were above last run: they are revoked.
        above[1] = true;
        above[2] = true;
        let predictions = predict(&c, &above);
        assert_eq!(predictions, predict(&c, &above), "repeatable");
        for (n, p) in predictions.iter().enumerate() {
            let p = p.expect("every note has 8 to 100 ratings");
            assert_eq!(p.ratings, 12);
            if n % 3 == 0 {
                assert!(p.probability > 0.9, "note {n}: {}", p.probability);
                assert!(p.above && !p.revoked);
            } else {
                assert!(p.probability < 0.1, "note {n}: {}", p.probability);
                assert!(!p.above);
                assert_eq!(p.revoked, above[n]);
                assert_eq!(p.revoke_n(), above[n].then_some(12.0));
            }
        }
    }

    #[test]
    fn notes_with_too_few_or_too_many_ratings_get_no_prediction() {
        let few = polarized(300, 7);
        assert!(predict(&few, &[false; 300]).iter().all(Option::is_none));
        let many = polarized(300, 101);
        // 101 ratings: the model trains (every size has its notes) but predicts none.
        assert!(predict(&many, &[false; 300]).iter().all(Option::is_none));
    }
}
