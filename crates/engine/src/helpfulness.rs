//! Contributor helpfulness: which ratings are *valid*, how helpful authors and raters are,
//! the harassment penalty, the threshold that admits a rater to the second-round fit, and the
//! contribution counts of `helpfulness_scores.tsv`.
//!
//! Spec: `contributor-scores.md` §1–4 and §5.2. Reference: `helpfulness_scores.py`,
//! `note_ratings.py` (`get_valid_ratings` and the functions it calls) and
//! `contributor_state.py` (`get_contributor_scores`).
//!
//! The same rules serve twice. In prescoring a scorer feeds them its provisional first-round
//! statuses and the **input** status history; in contributor scoring they get the final
//! statuses and the **updated** history. Everything here is a pure function of its
//! arguments, indexed densely: notes by note index, ratings by their position in a
//! [`ViewRatings`], participants by participant index. A missing value is `None`.
//!
//! # Example
//!
//! ```
//! use bridgenotes_engine::NoteStatus;
//! use bridgenotes_engine::community::ScoringRatings;
//! use bridgenotes_engine::helpfulness::*;
//!
//! // One note (index 0, by participant 0) created at t = 2e12, rated helpful by
//! // participant 1 an hour later; the note became helpful afterwards.
//! let ratings = ScoringRatings {
//!     note: vec![0],
//!     rater: vec![1],
//!     created_at_millis: vec![2_000_003_600_000],
//!     helpful_num: vec![1.0],
//!     ..ScoringRatings::default()
//! };
//! let times = NoteTimes {
//!     created_at_millis: vec![2_000_000_000_000],
//!     latest_non_nmr_status_millis: vec![Some(2_000_007_200_000.0)],
//! };
//! let status = [Some(NoteStatus::CurrentlyRatedHelpful)];
//! let valid = valid_ratings(&ratings.view(), &times, &status);
//! assert_eq!(valid.outcome, [Some(RatingOutcome::SuccessfulHelpful)]);
//!
//! let params = HelpfulnessParams::default();
//! let authors = author_helpfulness(2, &[0], &status, &[Some(0.5)], &params);
//! let raters = valid_rating_counts(2, &ratings.view(), &valid);
//! let scores = helpfulness_scores(&authors, &raters, None, &params);
//! assert!(scores[1].as_ref().unwrap().above_helpfulness_threshold);
//! ```

use crate::community::{CommunityNote, ViewRatings};
use crate::numeric::KahanSum;
use crate::{NoteStatus, StatusHistoryRow};

/// Ratings made this long (ms) after a note's creation could have seen the note's status in
/// the public download, so they are not valid (`c.publicTSVTimeDelay`, 48 hours).
pub const PUBLIC_TSV_DELAY_MILLIS: i64 = 172_800_000;

/// Notes created before this time (ms; 2022-05-19 UTC) have no reliable status history
/// (`c.deletedNoteTombstonesLaunchTime`); their valid ratings are chosen by
/// [`MAX_HISTORICAL_VALID_RATINGS`] instead.
pub const TOMBSTONES_LAUNCH_MILLIS: i64 = 1_652_918_400_000;

/// How many of an old note's earliest ratings can be valid (`_maxHistoricalValidRatings`).
pub const MAX_HISTORICAL_VALID_RATINGS: usize = 5;

/// The note times the window rules read, indexed by note index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NoteTimes {
    /// The note's creation time, as in its status history row.
    pub created_at_millis: Vec<i64>,
    /// `timestampMillisOfLatestNonNMRStatus` of the note's status history row (`T`).
    pub latest_non_nmr_status_millis: Vec<Option<f64>>,
}

impl NoteTimes {
    /// Reads the times from status history rows, one per note in note-index order.
    pub fn from_history<'a>(rows: impl IntoIterator<Item = &'a StatusHistoryRow>) -> Self {
        let (created_at_millis, latest_non_nmr_status_millis) = rows
            .into_iter()
            .map(|h| {
                (
                    h.created_at_millis,
                    h.timestamp_millis_of_latest_non_nmr_status,
                )
            })
            .unzip();
        NoteTimes {
            created_at_millis,
            latest_non_nmr_status_millis,
        }
    }

    /// The times of the notes' **input** status history (what prescoring uses).
    pub fn from_input_history(notes: &[CommunityNote]) -> Self {
        Self::from_history(notes.iter().map(|n| &n.history))
    }
}

/// How a valid rating compares with its note's status.
///
/// The variant names follow the reference's counters, whose second word names the **note's
/// status**, not the rating: an "unsuccessful helpful" rating is a not-helpful rating on a
/// helpful note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatingOutcome {
    /// A helpful rating on a CRH note (`successfulRatingHelpfulCount`).
    SuccessfulHelpful,
    /// A not-helpful rating on a CRNH note (`successfulRatingNotHelpfulCount`).
    SuccessfulNotHelpful,
    /// A not-helpful rating on a CRH note (`unsuccessfulRatingHelpfulCount`).
    UnsuccessfulHelpful,
    /// A helpful rating on a CRNH note (`unsuccessfulRatingNotHelpfulCount`).
    UnsuccessfulNotHelpful,
}

impl RatingOutcome {
    /// Whether the rating agreed with the note's status (`ratingAgreesWithNoteStatus`).
    pub fn is_successful(self) -> bool {
        matches!(
            self,
            RatingOutcome::SuccessfulHelpful | RatingOutcome::SuccessfulNotHelpful
        )
    }
}

/// Per rating: whether it falls in the validity window and, if it is a valid rating, its
/// outcome (spec §1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidRatings {
    /// The rating is a *window rating* (§1 steps 1–2): made within 48 h of the note's creation
    /// and before the note's latest non-NMR status, or, for a note created before
    /// [`TOMBSTONES_LAUNCH_MILLIS`], among its first five ratings within 48 h.
    pub in_window: Vec<bool>,
    /// `Some` exactly for valid ratings: window ratings, helpful or not helpful (somewhat
    /// helpful is excluded), on a note whose status is CRH or CRNH.
    pub outcome: Vec<Option<RatingOutcome>>,
}

/// `x`, with NaN (which pandas treats as missing) read as missing.
fn present(x: Option<f64>) -> Option<f64> {
    x.filter(|v| !v.is_nan())
}

/// The window flag of every rating (spec §1 steps 1–2).
fn rating_window(ratings: &ViewRatings, times: &NoteTimes) -> Vec<bool> {
    assert_eq!(
        times.latest_non_nmr_status_millis.len(),
        times.created_at_millis.len(),
        "one status time per note"
    );
    let mut in_window = vec![false; ratings.len()];
    // Ratings within 48 h on notes older than the status history: (note, time, rating).
    let mut historical: Vec<(u32, i64, u32)> = Vec::new();
    for (i, window) in in_window.iter_mut().enumerate() {
        let note = ratings.note(i);
        let rated = ratings.created_at_millis(i);
        let created = times.created_at_millis[note as usize];
        // The reference subtracts as floats; exact for millisecond times, and no overflow.
        let within_48h = (rated as f64 - created as f64) < PUBLIC_TSV_DELAY_MILLIS as f64;
        if !within_48h {
            continue;
        }
        if created < TOMBSTONES_LAUNCH_MILLIS {
            historical.push((note, rated, i as u32));
        } else {
            let before_status = present(times.latest_non_nmr_status_millis[note as usize])
                .is_none_or(|t| (rated as f64) < t);
            *window = before_status;
        }
    }
    // Old notes: the first five by rating time, whatever their status time. The reference
    // sorts with an unstable sort, so equal times are picked in an unspecified order (pandas
    // 2.2.2 reorders ties even among eight rows); here the earlier rating (lower index) wins,
    // which makes the choice deterministic.
    historical.sort_unstable();
    for group in historical.chunk_by(|a, b| a.0 == b.0) {
        for &(_, _, i) in group.iter().take(MAX_HISTORICAL_VALID_RATINGS) {
            in_window[i as usize] = true;
        }
    }
    in_window
}

/// Classifies every rating (spec §1).
///
/// `times` and `status` are indexed by note index; `status` is `None` for a note without a
/// scored-notes row (its ratings drop out of everything after the window test). Assumes at
/// most one rating per (note, rater), as preprocessing guarantees.
pub fn valid_ratings(
    ratings: &ViewRatings,
    times: &NoteTimes,
    status: &[Option<NoteStatus>],
) -> ValidRatings {
    assert_eq!(
        status.len(),
        times.created_at_millis.len(),
        "one status per note"
    );
    let in_window = rating_window(ratings, times);
    let outcome = in_window
        .iter()
        .enumerate()
        .map(|(i, &window)| {
            if !window {
                return None;
            }
            // Somewhat helpful (0.5) ratings are never valid.
            let value = ratings.helpful_num(i);
            let helpful = if value == 1.0 {
                true
            } else if value == 0.0 {
                false
            } else {
                return None;
            };
            match (status[ratings.note(i) as usize], helpful) {
                (Some(NoteStatus::CurrentlyRatedHelpful), true) => {
                    Some(RatingOutcome::SuccessfulHelpful)
                }
                (Some(NoteStatus::CurrentlyRatedHelpful), false) => {
                    Some(RatingOutcome::UnsuccessfulHelpful)
                }
                (Some(NoteStatus::CurrentlyRatedNotHelpful), false) => {
                    Some(RatingOutcome::SuccessfulNotHelpful)
                }
                (Some(NoteStatus::CurrentlyRatedNotHelpful), true) => {
                    Some(RatingOutcome::UnsuccessfulNotHelpful)
                }
                _ => None,
            }
        })
        .collect();
    ValidRatings { in_window, outcome }
}

/// Thresholds of the helpfulness rules (`MFBaseScorer.__init__` defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HelpfulnessParams {
    /// `minMeanNoteScore`: an author's notes must average at least this first-round
    /// intercept (0.05; −0.01 for Group 14).
    pub min_mean_note_score: f64,
    /// `minCRHVsCRNHRatio`: minimum `crhCrnhRatioDifference` (0.0).
    pub min_crh_vs_crnh_ratio: f64,
    /// `minRaterAgreeRatio`: minimum agreement with note statuses, with and without the
    /// harassment penalty (0.66).
    pub min_rater_agree_ratio: f64,
    /// `CRNHMultiplier`: how much a CRNH note costs against a CRH note (5.0).
    pub crnh_multiplier: f64,
}

impl Default for HelpfulnessParams {
    fn default() -> Self {
        HelpfulnessParams {
            min_mean_note_score: 0.05,
            min_crh_vs_crnh_ratio: 0.0,
            min_rater_agree_ratio: 0.66,
            crnh_multiplier: 5.0,
        }
    }
}

impl HelpfulnessParams {
    /// The Group 14 scorer's values (`minMeanNoteScore = -0.01`). Note that with a
    /// non-positive minimum the author conditions always pass; see
    /// [`above_helpfulness_threshold`].
    pub fn group_14() -> Self {
        HelpfulnessParams {
            min_mean_note_score: -0.01,
            ..Self::default()
        }
    }
}

/// An author's helpfulness over their notes in the first-round fit (spec §2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AuthorScore {
    /// `crhCrnhRatioDifference` = CRH share − `crnh_multiplier` × CRNH share.
    pub crh_crnh_ratio_difference: f64,
    /// `meanNoteScore`: mean first-round intercept.
    pub mean_note_score: f64,
}

/// Author helpfulness per participant (spec §2; `author_helpfulness`).
///
/// Per-note inputs, indexed by note index: `note_author` (participant index), `status` (the
/// statuses the scorer assigned) and `first_round_intercept`. Only notes with a first-round
/// intercept count (a NaN intercept is missing); a counted note without a status counts as
/// neither CRH nor CRNH. The result has `num_participants` entries and is `None` for a
/// participant with no counted note (both values missing). Intercepts are summed in
/// note-index order with pandas' compensated summation.
pub fn author_helpfulness(
    num_participants: usize,
    note_author: &[u32],
    status: &[Option<NoteStatus>],
    first_round_intercept: &[Option<f64>],
    params: &HelpfulnessParams,
) -> Vec<Option<AuthorScore>> {
    #[derive(Clone, Copy, Default)]
    struct Tally {
        notes: u64,
        crh: u64,
        crnh: u64,
        intercepts: KahanSum,
    }
    let mut tally = vec![Tally::default(); num_participants];
    for (note, &author) in note_author.iter().enumerate() {
        let Some(intercept) = present(first_round_intercept[note]) else {
            continue;
        };
        let t = &mut tally[author as usize];
        t.notes += 1;
        t.crh += u64::from(status[note] == Some(NoteStatus::CurrentlyRatedHelpful));
        t.crnh += u64::from(status[note] == Some(NoteStatus::CurrentlyRatedNotHelpful));
        t.intercepts.add(intercept);
    }
    tally
        .into_iter()
        .map(|t| {
            (t.notes > 0).then(|| {
                let notes = t.notes as f64;
                let crh_ratio = t.crh as f64 / notes;
                let crnh_ratio = t.crnh as f64 / notes;
                AuthorScore {
                    crh_crnh_ratio_difference: crh_ratio - crnh_ratio * params.crnh_multiplier,
                    mean_note_score: t.intercepts.sum / notes,
                }
            })
        })
        .collect()
}

/// A rater's valid ratings by outcome: the four counters of spec §1, from which the two
/// totals and the agreement ratio follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ValidRatingCounts {
    /// `successfulRatingHelpfulCount`: helpful ratings on CRH notes.
    pub successful_helpful: u32,
    /// `successfulRatingNotHelpfulCount`: not-helpful ratings on CRNH notes.
    pub successful_not_helpful: u32,
    /// `unsuccessfulRatingHelpfulCount`: not-helpful ratings on CRH notes.
    pub unsuccessful_helpful: u32,
    /// `unsuccessfulRatingNotHelpfulCount`: helpful ratings on CRNH notes.
    pub unsuccessful_not_helpful: u32,
}

impl ValidRatingCounts {
    /// Counts one more valid rating.
    pub fn add(&mut self, outcome: RatingOutcome) {
        match outcome {
            RatingOutcome::SuccessfulHelpful => self.successful_helpful += 1,
            RatingOutcome::SuccessfulNotHelpful => self.successful_not_helpful += 1,
            RatingOutcome::UnsuccessfulHelpful => self.unsuccessful_helpful += 1,
            RatingOutcome::UnsuccessfulNotHelpful => self.unsuccessful_not_helpful += 1,
        }
    }

    /// `successfulRatingTotal` (= Σ `ratingAgreesWithNoteStatus`).
    pub fn successful_total(&self) -> u32 {
        self.successful_helpful + self.successful_not_helpful
    }

    /// `unsuccessfulRatingTotal`.
    pub fn unsuccessful_total(&self) -> u32 {
        self.unsuccessful_helpful + self.unsuccessful_not_helpful
    }

    /// The number of valid ratings (`ratingCount`).
    pub fn valid_total(&self) -> u32 {
        self.successful_total() + self.unsuccessful_total()
    }

    /// `raterAgreeRatio` = successful / valid; `None` without a valid rating.
    pub fn agree_ratio(&self) -> Option<f64> {
        self.agree_ratio_with_penalty(0.0)
    }

    /// `raterAgreeRatioKeyWithHarassmentAbusePenalty` = (successful − penalty) / valid;
    /// `None` without a valid rating.
    pub fn agree_ratio_with_penalty(&self, penalty: f64) -> Option<f64> {
        let valid = self.valid_total();
        (valid > 0).then(|| (f64::from(self.successful_total()) - penalty) / f64::from(valid))
    }
}

/// Valid-rating counts per participant (spec §3; `_rater_helpfulness`): `None` for a
/// participant with no valid rating.
pub fn valid_rating_counts(
    num_participants: usize,
    ratings: &ViewRatings,
    valid: &ValidRatings,
) -> Vec<Option<ValidRatingCounts>> {
    let mut counts = vec![None; num_participants];
    assert_eq!(valid.outcome.len(), ratings.len(), "one outcome per rating");
    for (i, outcome) in valid.outcome.iter().enumerate() {
        let rater = ratings.rater(i);
        if let Some(outcome) = outcome {
            counts[rater as usize]
                .get_or_insert_with(ValidRatingCounts::default)
                .add(*outcome);
        }
    }
    counts
}

/// How helpful ratings of harassment or abuse are penalised (`MFBaseScorer.__init__`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HarassmentPenaltyParams {
    /// `minimumHarassmentScoreToPenalize`: notes whose harassment intercept reaches this are
    /// penalised (2.0; 2.5 for Group 14).
    pub min_harassment_score: f64,
    /// `tagConsensusHarassmentHelpfulRatingPenalty`: penalty per helpful rating (10).
    pub penalty_per_rating: f64,
    /// `multiplyPenaltyByHarassmentScore`: scale the penalty by intercept / minimum (true;
    /// false for Group 14).
    pub multiply_by_harassment_score: bool,
}

impl Default for HarassmentPenaltyParams {
    fn default() -> Self {
        HarassmentPenaltyParams {
            min_harassment_score: 2.0,
            penalty_per_rating: 10.0,
            multiply_by_harassment_score: true,
        }
    }
}

impl HarassmentPenaltyParams {
    /// The Group 14 scorer's values: a flat 10 per helpful rating from intercept 2.5 on.
    pub fn group_14() -> Self {
        HarassmentPenaltyParams {
            min_harassment_score: 2.5,
            penalty_per_rating: 10.0,
            multiply_by_harassment_score: false,
        }
    }
}

/// `totalHelpfulHarassmentPenalty` per participant (spec §3), 0 for participants without a
/// penalised rating.
///
/// `first_round` marks the scorer's first-round ratings (after the ≥ 10 / ≥ 5 count filter),
/// one flag per rating of `ratings`; `harassment_note_intercept` is indexed by note index
/// (`None` or NaN: not penalised). Every marked helpful (1.0) rating on a note whose
/// intercept `h` is at least the minimum adds `penalty_per_rating`, times
/// `h / min_harassment_score` when `multiply_by_harassment_score`. Sums are taken in rating
/// order with pandas' compensated summation.
pub fn harassment_penalties(
    num_participants: usize,
    ratings: &ViewRatings,
    first_round: &[bool],
    harassment_note_intercept: &[Option<f64>],
    params: &HarassmentPenaltyParams,
) -> Vec<f64> {
    assert_eq!(first_round.len(), ratings.len(), "one flag per rating");
    let mut totals = vec![KahanSum::default(); num_participants];
    for (i, _) in first_round.iter().enumerate().filter(|(_, f)| **f) {
        if ratings.helpful_num(i) != 1.0 {
            continue;
        }
        let Some(h) = present(harassment_note_intercept[ratings.note(i) as usize])
            .filter(|&h| h >= params.min_harassment_score)
        else {
            continue;
        };
        let penalty = if params.multiply_by_harassment_score {
            params.penalty_per_rating * (h / params.min_harassment_score)
        } else {
            params.penalty_per_rating
        };
        totals[ratings.rater(i) as usize].add(penalty);
    }
    totals.into_iter().map(|t| t.sum).collect()
}

/// One participant's row of a scorer's helpfulness scores (spec §2–4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HelpfulnessScore {
    /// From [`AuthorScore`]; `None` for a participant without a first-round-scored note.
    pub crh_crnh_ratio_difference: Option<f64>,
    /// From [`AuthorScore`]; `None` like the above.
    pub mean_note_score: Option<f64>,
    /// `raterAgreeRatio`; `None` without a valid rating.
    pub rater_agree_ratio: Option<f64>,
    /// The valid-rating counts; `None` without a valid rating.
    pub counts: Option<ValidRatingCounts>,
    /// `totalHelpfulHarassmentPenalty` (0 in the first pass or without penalised ratings).
    pub total_helpful_harassment_penalty: f64,
    /// `raterAgreeRatioKeyWithHarassmentAbusePenalty`; `None` without a valid rating.
    pub rater_agree_ratio_with_harassment_abuse_penalty: Option<f64>,
    /// `aboveHelpfulnessThreshold`, see [`above_helpfulness_threshold`].
    pub above_helpfulness_threshold: bool,
}

/// The inclusion test `aboveHelpfulnessThreshold` (spec §4), with the reference's
/// missing-value semantics: `A and agree ≥ min and penalised ≥ min`, where `A` holds when
///
/// 1. `crh_crnh_ratio_difference ≥ min_crh_vs_crnh_ratio` and
///    `mean_note_score ≥ min_mean_note_score`, or
/// 2. both are missing (the participant authored no scored note), or
/// 3. the reference's third clause, which Python's precedence turns into
///    `(diff missing and mean present and mean ≠ 0) ≥ min_mean_note_score`, the boolean
///    read as 0 or 1.
///
/// The spec calls clause 3 "never true in practice". That holds for the default minimum
/// (0.05), since the two author values are missing together; but the code wins, and with a
/// minimum ≤ 0 (Group 14's −0.01) clause 3 is `0 ≥ −0.01` or `1 ≥ −0.01`, true for everyone,
/// so Group 14 applies no author condition at all (checked against pandas 2.2.2).
///
/// Missing agreement ratios make the result false (a NaN compares false). NaN author values
/// count as missing, as `pd.isna` does.
pub fn above_helpfulness_threshold(
    crh_crnh_ratio_difference: Option<f64>,
    mean_note_score: Option<f64>,
    rater_agree_ratio: Option<f64>,
    rater_agree_ratio_with_penalty: Option<f64>,
    params: &HelpfulnessParams,
) -> bool {
    let diff = present(crh_crnh_ratio_difference);
    let mean = present(mean_note_score);
    let meets = |x: Option<f64>, min: f64| x.is_some_and(|v| v >= min);
    let author_clause =
        meets(diff, params.min_crh_vs_crnh_ratio) && meets(mean, params.min_mean_note_score);
    let no_notes_clause = diff.is_none() && mean.is_none();
    let precedence_clause = {
        let flag = diff.is_none() && mean.is_some_and(|m| m != 0.0);
        f64::from(u8::from(flag)) >= params.min_mean_note_score
    };
    (author_clause || no_notes_clause || precedence_clause)
        && meets(rater_agree_ratio, params.min_rater_agree_ratio)
        && meets(rater_agree_ratio_with_penalty, params.min_rater_agree_ratio)
}

/// A scorer's helpfulness scores (spec §2–4; `compute_general_helpfulness_scores`), one
/// entry per participant.
///
/// A participant has a row (`Some`) when they are an author with a scored note or a rater
/// with a valid rating (the reference's outer join); a penalised rater with neither has no
/// row, and a participant without a row is treated as below the threshold. `penalties`
/// comes from [`harassment_penalties`], or is `None` for the first pass (no penalty). All
/// slices have one entry per participant.
pub fn helpfulness_scores(
    authors: &[Option<AuthorScore>],
    raters: &[Option<ValidRatingCounts>],
    penalties: Option<&[f64]>,
    params: &HelpfulnessParams,
) -> Vec<Option<HelpfulnessScore>> {
    assert_eq!(authors.len(), raters.len(), "one entry per participant");
    if let Some(p) = penalties {
        assert_eq!(p.len(), raters.len(), "one entry per participant");
    }
    authors
        .iter()
        .zip(raters)
        .enumerate()
        .map(|(participant, (author, counts))| {
            if author.is_none() && counts.is_none() {
                return None;
            }
            let penalty = penalties.map_or(0.0, |p| p[participant]);
            let diff = author.map(|a| a.crh_crnh_ratio_difference);
            let mean = author.map(|a| a.mean_note_score);
            let agree = counts.and_then(|c| c.agree_ratio());
            let penalised = counts.and_then(|c| c.agree_ratio_with_penalty(penalty));
            Some(HelpfulnessScore {
                crh_crnh_ratio_difference: diff,
                mean_note_score: mean,
                rater_agree_ratio: agree,
                counts: *counts,
                total_helpful_harassment_penalty: penalty,
                rater_agree_ratio_with_harassment_abuse_penalty: penalised,
                above_helpfulness_threshold: above_helpfulness_threshold(
                    diff, mean, agree, penalised, params,
                ),
            })
        })
        .collect()
}

/// A participant's rating contributions (spec §5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatingContributions {
    /// The six valid-rating counts (zero without a valid rating).
    pub valid: ValidRatingCounts,
    /// `ratingsAwaitingMoreRatings`: window ratings on notes whose status is NMR.
    pub ratings_awaiting_more_ratings: u32,
    /// `ratedAfterDecision`: ratings (any, not only window ratings) made strictly after the
    /// note's latest non-NMR status time.
    pub rated_after_decision: u32,
}

/// A participant's authoring contributions (spec §5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthorContributions {
    /// `notesCurrentlyRatedHelpful`.
    pub notes_currently_rated_helpful: u32,
    /// `notesCurrentlyRatedNotHelpful`.
    pub notes_currently_rated_not_helpful: u32,
    /// `notesAwaitingMoreRatings`.
    pub notes_awaiting_more_ratings: u32,
    /// `aggregateRatingReceivedTotal`: Σ numRatings of the authored notes.
    pub aggregate_rating_received_total: u64,
}

/// Contribution counts per participant (spec §5.2), indexed by participant index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContributionCounts {
    /// `None` for a participant with no window rating on a note that has a status: the
    /// reference has no rating-side values for them (not even `ratedAfterDecision`).
    pub rating: Vec<Option<RatingContributions>>,
    /// `None` for a participant who authored no note with a status.
    pub authoring: Vec<Option<AuthorContributions>>,
}

/// Contribution counts (spec §5.2; `get_contributor_scores` with its default arguments).
///
/// Per-note inputs, indexed by note index: `times` from the **updated** status history,
/// `note_author`, `final_status` (`None` for a note outside the scored notes) and
/// `num_ratings`. `ratings` are the preprocessed ratings before PSS filtering.
pub fn contribution_counts(
    num_participants: usize,
    ratings: &ViewRatings,
    times: &NoteTimes,
    note_author: &[u32],
    final_status: &[Option<NoteStatus>],
    num_ratings: &[u32],
) -> ContributionCounts {
    let valid = valid_ratings(ratings, times, final_status);
    let mut rating: Vec<Option<RatingContributions>> = vec![None; num_participants];
    let mut rated_after_decision = vec![0u32; num_participants];
    for i in 0..ratings.len() {
        let note = ratings.note(i) as usize;
        let rater = ratings.rater(i) as usize;
        let decided = present(times.latest_non_nmr_status_millis[note]);
        if decided.is_some_and(|t| ratings.created_at_millis(i) as f64 > t) {
            rated_after_decision[rater] += 1;
        }
        let Some(status) = final_status[note] else {
            continue;
        };
        if !valid.in_window[i] {
            continue;
        }
        let row = rating[rater].get_or_insert_with(RatingContributions::default);
        row.ratings_awaiting_more_ratings += u32::from(status == NoteStatus::NeedsMoreRatings);
        if let Some(outcome) = valid.outcome[i] {
            row.valid.add(outcome);
        }
    }
    for (row, after) in rating.iter_mut().zip(rated_after_decision) {
        if let Some(row) = row {
            row.rated_after_decision = after;
        }
    }

    let mut authoring: Vec<Option<AuthorContributions>> = vec![None; num_participants];
    for (note, &author) in note_author.iter().enumerate() {
        let Some(status) = final_status[note] else {
            continue;
        };
        let row = authoring[author as usize].get_or_insert_with(AuthorContributions::default);
        row.notes_currently_rated_helpful += u32::from(status == NoteStatus::CurrentlyRatedHelpful);
        row.notes_currently_rated_not_helpful +=
            u32::from(status == NoteStatus::CurrentlyRatedNotHelpful);
        row.notes_awaiting_more_ratings += u32::from(status == NoteStatus::NeedsMoreRatings);
        row.aggregate_rating_received_total += u64::from(num_ratings[note]);
    }
    ContributionCounts { rating, authoring }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::{Community, ScoringRatings};
    use NoteStatus::{
        CurrentlyRatedHelpful as Crh, CurrentlyRatedNotHelpful as Crnh, FirmReject,
        NeedsMoreRatings as Nmr,
    };
    use RatingOutcome::*;
    use proptest::prelude::*;

    /// A note created after the status history began.
    const NEW: i64 = 1_700_000_000_000;
    /// A note created before it.
    const OLD: i64 = 1_600_000_000_000;
    const HOUR: i64 = 3_600_000;

    /// Ratings from (note, rater, created at, helpfulNum).
    fn ratings(rows: &[(u32, u32, i64, f32)]) -> ScoringRatings {
        let mut r = ScoringRatings::default();
        for &(note, rater, at, value) in rows {
            r.note.push(note);
            r.rater.push(rater);
            r.created_at_millis.push(at);
            r.helpful_num.push(value);
        }
        r
    }

    fn times(notes: &[(i64, Option<f64>)]) -> NoteTimes {
        NoteTimes {
            created_at_millis: notes.iter().map(|n| n.0).collect(),
            latest_non_nmr_status_millis: notes.iter().map(|n| n.1).collect(),
        }
    }

    fn window(r: &ScoringRatings, t: &NoteTimes) -> Vec<bool> {
        let status = vec![None; t.created_at_millis.len()];
        valid_ratings(&r.view(), t, &status).in_window
    }

    #[test]
    fn window_is_48_hours_after_creation_and_before_the_status() {
        let t = times(&[
            (NEW, None),
            (NEW, Some((NEW + 10 * HOUR) as f64)),
            (NEW, Some(f64::NAN)),
        ]);
        let r = ratings(&[
            (0, 0, NEW, 1.0),
            (0, 1, NEW + PUBLIC_TSV_DELAY_MILLIS - 1, 1.0),
            (0, 2, NEW + PUBLIC_TSV_DELAY_MILLIS, 1.0),
            // Rated before the note's creation time: still within 48 hours.
            (0, 3, NEW - 5, 1.0),
            (1, 0, NEW + 10 * HOUR - 1, 1.0),
            // Not strictly before the status time.
            (1, 1, NEW + 10 * HOUR, 1.0),
            (1, 2, NEW + 11 * HOUR, 1.0),
            // A NaN status time is missing: only the 48 hours count.
            (2, 0, NEW + 20 * HOUR, 1.0),
            (2, 1, NEW + 48 * HOUR, 1.0),
        ]);
        assert_eq!(
            window(&r, &t),
            [true, true, false, true, true, false, false, true, false]
        );
    }

    #[test]
    fn old_notes_take_their_first_five_ratings_within_48_hours() {
        let t = times(&[
            // The status time is ignored for old notes.
            (OLD, Some(OLD as f64)),
            (OLD, Some(OLD as f64)),
            // Created exactly at the launch: the new-note rule applies.
            (
                TOMBSTONES_LAUNCH_MILLIS,
                Some((TOMBSTONES_LAUNCH_MILLIS + HOUR) as f64),
            ),
            (
                TOMBSTONES_LAUNCH_MILLIS - 1,
                Some((TOMBSTONES_LAUNCH_MILLIS + HOUR) as f64),
            ),
        ]);
        let r = ratings(&[
            (0, 0, OLD + 2 * HOUR, 1.0),
            (0, 1, OLD + HOUR, 1.0),
            (0, 2, OLD + 2 * HOUR, 0.0),
            (0, 3, OLD + 2 * HOUR, 0.5),
            // Early in rating order but past 48 hours: never a candidate.
            (0, 4, OLD + 49 * HOUR, 1.0),
            // Ties with ratings 0, 2 and 3 at the cut: the earlier ratings win.
            (0, 5, OLD + 2 * HOUR, 1.0),
            (0, 6, OLD, 1.0),
            (0, 7, OLD + 4 * HOUR, 1.0),
            (1, 0, OLD + 40 * HOUR, 1.0),
            (1, 1, OLD + 30 * HOUR, 1.0),
            (2, 0, TOMBSTONES_LAUNCH_MILLIS + 2 * HOUR, 1.0),
            (3, 0, TOMBSTONES_LAUNCH_MILLIS + 2 * HOUR, 1.0),
        ]);
        assert_eq!(
            window(&r, &t),
            [
                true, true, true, true, false, false, true, false, true, true, false, true
            ]
        );
    }

    #[test]
    fn valid_ratings_are_binary_window_ratings_on_decided_notes() {
        let t = times(&[(NEW, None); 5]);
        let status = [Some(Crh), Some(Crnh), Some(Nmr), None, Some(FirmReject)];
        let r = ratings(&[
            (0, 0, NEW, 1.0),
            (0, 1, NEW, 0.0),
            (0, 2, NEW, 0.5),
            (0, 3, NEW + PUBLIC_TSV_DELAY_MILLIS, 1.0),
            (1, 0, NEW, 1.0),
            (1, 1, NEW, 0.0),
            (1, 2, NEW, 0.5),
            (2, 0, NEW, 1.0),
            (3, 0, NEW, 1.0),
            (4, 0, NEW, 0.0),
        ]);
        let v = valid_ratings(&r.view(), &t, &status);
        assert_eq!(
            v.in_window,
            [true, true, true, false, true, true, true, true, true, true]
        );
        assert_eq!(
            v.outcome,
            [
                Some(SuccessfulHelpful),
                Some(UnsuccessfulHelpful),
                None,
                None,
                Some(UnsuccessfulNotHelpful),
                Some(SuccessfulNotHelpful),
                None,
                None,
                None,
                None,
            ]
        );
        let counts = valid_rating_counts(4, &r.view(), &v);
        let c0 = counts[0].unwrap();
        assert_eq!((c0.successful_helpful, c0.unsuccessful_not_helpful), (1, 1));
        assert_eq!(
            (
                c0.successful_total(),
                c0.unsuccessful_total(),
                c0.valid_total()
            ),
            (1, 1, 2)
        );
        assert_eq!(c0.agree_ratio(), Some(0.5));
        let c1 = counts[1].unwrap();
        assert_eq!((c1.successful_not_helpful, c1.unsuccessful_helpful), (1, 1));
        // Somewhat-helpful and out-of-window ratings make no valid rating.
        assert_eq!(counts[2], None);
        assert_eq!(counts[3], None);
    }

    #[test]
    fn author_helpfulness_counts_notes_with_a_first_round_intercept() {
        let params = HelpfulnessParams::default();
        let notes: [(u32, Option<NoteStatus>, Option<f64>); 9] = [
            (0, Some(Crh), Some(0.5)),
            (0, Some(Crh), Some(0.25)),
            (0, Some(Crnh), Some(-0.25)),
            (0, Some(Nmr), Some(0.5)),
            // Not in the first-round fit: ignored.
            (0, Some(Crh), None),
            (1, Some(Crh), None),
            (1, Some(Crh), Some(f64::NAN)),
            (2, Some(Crh), Some(0.125)),
            // In the fit without a status: neither CRH nor CRNH.
            (3, None, Some(0.5)),
        ];
        let author: Vec<u32> = notes.iter().map(|n| n.0).collect();
        let status: Vec<_> = notes.iter().map(|n| n.1).collect();
        let intercept: Vec<_> = notes.iter().map(|n| n.2).collect();
        let a = author_helpfulness(5, &author, &status, &intercept, &params);
        // 2 CRH and 1 CRNH of 4: 0.5 − 5 × 0.25; mean (0.5 + 0.25 − 0.25 + 0.5) / 4.
        assert_eq!(
            a[0],
            Some(AuthorScore {
                crh_crnh_ratio_difference: -0.75,
                mean_note_score: 0.25
            })
        );
        assert_eq!(a[1], None);
        assert_eq!(
            a[2],
            Some(AuthorScore {
                crh_crnh_ratio_difference: 1.0,
                mean_note_score: 0.125
            })
        );
        assert_eq!(
            a[3],
            Some(AuthorScore {
                crh_crnh_ratio_difference: 0.0,
                mean_note_score: 0.5
            })
        );
        assert_eq!(a[4], None);
    }

    #[test]
    fn mean_note_score_sums_like_pandas() {
        // pandas 2.2.2's grouped sum of these values is 3.0 (compensated); a plain
        // left-to-right sum gives 1.0.
        let values = [
            0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1e16, 1.0, 1.0, -1e16, 0.3, 0.7,
        ];
        let intercept: Vec<_> = values.iter().map(|&v| Some(v)).collect();
        let a = author_helpfulness(
            1,
            &[0; 16],
            &[Some(Nmr); 16],
            &intercept,
            &HelpfulnessParams::default(),
        );
        assert_eq!(a[0].unwrap().mean_note_score, 3.0 / 16.0);
    }

    #[test]
    fn penalty_applies_to_first_round_helpful_ratings_on_harassment_notes() {
        let harassment = [
            Some(3.0),
            Some(2.0),
            Some(1.999),
            None,
            Some(f64::NAN),
            Some(4.0),
        ];
        let r = ratings(&[
            (0, 0, NEW, 1.0),
            (1, 0, NEW, 1.0),
            (2, 0, NEW, 1.0),
            (3, 0, NEW, 1.0),
            (4, 0, NEW, 1.0),
            (5, 0, NEW, 0.0),
            (5, 0, NEW, 0.5),
            // Not a first-round rating.
            (0, 1, NEW, 1.0),
            (5, 1, NEW, 1.0),
        ]);
        let first_round = [true, true, true, true, true, true, true, false, true];
        let p = harassment_penalties(
            3,
            &r.view(),
            &first_round,
            &harassment,
            &HarassmentPenaltyParams::default(),
        );
        // 10 × 3/2 + 10 × 2/2; and 10 × 4/2.
        assert_eq!(p, [25.0, 20.0, 0.0]);
        let p = harassment_penalties(
            3,
            &r.view(),
            &first_round,
            &harassment,
            &HarassmentPenaltyParams::group_14(),
        );
        // Flat 10 from 2.5 on.
        assert_eq!(p, [10.0, 10.0, 0.0]);
    }

    #[test]
    fn threshold_follows_the_reference_missing_value_rules() {
        let d = HelpfulnessParams::default();
        let above = |diff, mean, agree, penalised| {
            above_helpfulness_threshold(diff, mean, agree, penalised, &d)
        };
        let ok = Some(0.75);
        // No scored note: the author conditions pass.
        assert!(above(None, None, ok, ok));
        // A missing agreement ratio fails, with or without notes.
        assert!(!above(None, None, None, None));
        assert!(!above(Some(1.0), Some(1.0), None, None));
        // Boundaries are inclusive.
        assert!(above(Some(0.0), Some(0.05), Some(0.66), Some(0.66)));
        assert!(!above(Some(-0.01), Some(0.05), ok, ok));
        assert!(!above(Some(0.0), Some(0.0499), ok, ok));
        assert!(!above(Some(0.0), Some(0.05), Some(0.6599), ok));
        assert!(!above(Some(0.0), Some(0.05), ok, Some(0.6599)));
        // The precedence artefact: ratio missing, mean present and non-zero.
        assert!(above(None, Some(0.3), ok, ok));
        assert!(above(None, Some(-0.3), ok, ok));
        assert!(!above(None, Some(0.0), ok, ok));
        assert!(!above(Some(f64::NAN), Some(0.0), ok, ok));
        assert!(above(Some(f64::NAN), Some(f64::NAN), ok, ok));
        // One author value missing and the other failing.
        assert!(!above(Some(-1.0), None, ok, ok));
        // Group 14's negative minimum makes the artefact true for everyone.
        let g = HelpfulnessParams::group_14();
        assert!(above_helpfulness_threshold(
            Some(-3.0),
            Some(-5.0),
            ok,
            ok,
            &g
        ));
        assert!(!above_helpfulness_threshold(
            Some(-3.0),
            Some(-5.0),
            ok,
            Some(0.5),
            &g
        ));
        assert!(!above(Some(-3.0), Some(-5.0), ok, ok));
    }

    #[test]
    fn scores_are_the_outer_union_of_authors_and_raters() {
        let good_author = Some(AuthorScore {
            crh_crnh_ratio_difference: 0.5,
            mean_note_score: 0.25,
        });
        let weak_author = Some(AuthorScore {
            crh_crnh_ratio_difference: 0.5,
            mean_note_score: 0.0,
        });
        let three_of_four = Some(ValidRatingCounts {
            successful_helpful: 2,
            successful_not_helpful: 1,
            unsuccessful_helpful: 1,
            unsuccessful_not_helpful: 0,
        });
        let two_of_three = Some(ValidRatingCounts {
            successful_helpful: 2,
            unsuccessful_not_helpful: 1,
            ..ValidRatingCounts::default()
        });
        let authors = [good_author, None, None, None, weak_author, good_author];
        let raters = [
            None,
            three_of_four,
            three_of_four,
            None,
            three_of_four,
            two_of_three,
        ];
        let penalties = [0.0, 0.0, 1.0, 15.0, 0.0, 0.0];
        let d = HelpfulnessParams::default();
        let s = helpfulness_scores(&authors, &raters, Some(&penalties), &d);

        let author_only = s[0].unwrap();
        assert_eq!(author_only.mean_note_score, Some(0.25));
        assert_eq!(author_only.rater_agree_ratio, None);
        assert_eq!(author_only.counts, None);
        assert_eq!(author_only.total_helpful_harassment_penalty, 0.0);
        assert!(!author_only.above_helpfulness_threshold);

        let rater_only = s[1].unwrap();
        assert_eq!(rater_only.crh_crnh_ratio_difference, None);
        assert_eq!(rater_only.rater_agree_ratio, Some(0.75));
        assert_eq!(
            rater_only.rater_agree_ratio_with_harassment_abuse_penalty,
            Some(0.75)
        );
        assert!(rater_only.above_helpfulness_threshold);

        // (3 − 1) / 4 falls below 0.66.
        let penalised = s[2].unwrap();
        assert_eq!(penalised.rater_agree_ratio, Some(0.75));
        assert_eq!(penalised.total_helpful_harassment_penalty, 1.0);
        assert_eq!(
            penalised.rater_agree_ratio_with_harassment_abuse_penalty,
            Some(0.5)
        );
        assert!(!penalised.above_helpfulness_threshold);

        // A penalty alone makes no row.
        assert_eq!(s[3], None);
        assert!(!s[4].unwrap().above_helpfulness_threshold);
        assert!(s[5].unwrap().above_helpfulness_threshold);

        // First pass: no penalty at all.
        let first = helpfulness_scores(&authors, &raters, None, &d);
        assert!(first[2].unwrap().above_helpfulness_threshold);
        assert_eq!(first[2].unwrap().total_helpful_harassment_penalty, 0.0);
        // Group 14 ignores the weak author's mean note score.
        let g = helpfulness_scores(&authors, &raters, None, &HelpfulnessParams::group_14());
        assert!(g[4].unwrap().above_helpfulness_threshold);
    }

    #[test]
    fn contribution_counts_use_final_statuses_and_updated_times() {
        let t = times(&[
            (NEW, Some((NEW + 10 * HOUR) as f64)),
            (NEW, None),
            (NEW, Some((NEW + 5 * HOUR) as f64)),
            (NEW, None),
            (NEW, None),
        ]);
        let author = [0, 0, 1, 1, 4];
        let status = [Some(Crh), Some(Nmr), Some(Crnh), None, None];
        let num_ratings = [3, 2, 4, 7, 1];
        let r = ratings(&[
            (0, 2, NEW + HOUR, 1.0),
            (1, 2, NEW + HOUR, 0.5),
            (2, 2, NEW + 6 * HOUR, 1.0),
            // At the status time exactly: neither before it nor after it.
            (0, 3, NEW + 10 * HOUR, 1.0),
            (2, 3, NEW + 50 * HOUR, 0.0),
            // A window rating on a note without a status.
            (3, 4, NEW + HOUR, 1.0),
            (2, 0, NEW + HOUR, 0.0),
        ]);
        let c = contribution_counts(5, &r.view(), &t, &author, &status, &num_ratings);
        assert_eq!(
            c.rating[2],
            Some(RatingContributions {
                valid: ValidRatingCounts {
                    successful_helpful: 1,
                    ..ValidRatingCounts::default()
                },
                ratings_awaiting_more_ratings: 1,
                rated_after_decision: 1,
            })
        );
        assert_eq!(
            c.rating[0],
            Some(RatingContributions {
                valid: ValidRatingCounts {
                    successful_not_helpful: 1,
                    ..ValidRatingCounts::default()
                },
                ratings_awaiting_more_ratings: 0,
                rated_after_decision: 0,
            })
        );
        // Rated after a decision but never in the window: no rating-side values.
        assert_eq!(c.rating[3], None);
        assert_eq!(c.rating[4], None);
        assert_eq!(c.rating[1], None);
        assert_eq!(
            c.authoring[0],
            Some(AuthorContributions {
                notes_currently_rated_helpful: 1,
                notes_currently_rated_not_helpful: 0,
                notes_awaiting_more_ratings: 1,
                aggregate_rating_received_total: 5,
            })
        );
        assert_eq!(
            c.authoring[1],
            Some(AuthorContributions {
                notes_currently_rated_helpful: 0,
                notes_currently_rated_not_helpful: 1,
                notes_awaiting_more_ratings: 0,
                aggregate_rating_received_total: 4,
            })
        );
        assert_eq!(c.authoring[4], None);
        assert_eq!(c.authoring[2], None);
    }

    #[test]
    fn note_times_come_from_the_status_history() {
        let note = |id: i64, created: i64, latest: Option<f64>| CommunityNote {
            note_id: id,
            author: 0,
            created_at_millis: created,
            tweet_id: None,
            classification: None,
            summary: String::new(),
            history: StatusHistoryRow {
                note_id: id,
                created_at_millis: created,
                timestamp_millis_of_latest_non_nmr_status: latest,
                ..StatusHistoryRow::default()
            },
        };
        let community = Community {
            notes: vec![note(1, OLD, None), note(2, NEW, Some(NEW as f64 + 1.0))],
            ..Community::default()
        };
        assert_eq!(
            NoteTimes::from_input_history(&community.notes),
            times(&[(OLD, None), (NEW, Some(NEW as f64 + 1.0))])
        );
    }

    /// Note times, note statuses, harassment intercepts, ratings, first-round flags.
    type Sample = (
        NoteTimes,
        Vec<Option<NoteStatus>>,
        Vec<Option<f64>>,
        ScoringRatings,
        Vec<bool>,
    );

    /// A random small community.
    fn arbitrary_community() -> impl Strategy<Value = Sample> {
        let statuses = [None, Some(Crh), Some(Crnh), Some(Nmr), Some(FirmReject)];
        let note = (any::<bool>(), 0..3usize, 0..statuses.len(), 0..4usize);
        prop::collection::vec(note, 1..6).prop_flat_map(move |notes| {
            let n = notes.len() as u32;
            let rating = (0..n, 0..6u32, -2..80i64, 0..3usize, any::<bool>());
            prop::collection::vec(rating, 0..60).prop_map(move |rows| {
                let created: Vec<i64> = notes.iter().map(|n| if n.0 { OLD } else { NEW }).collect();
                let t = NoteTimes {
                    latest_non_nmr_status_millis: notes
                        .iter()
                        .zip(&created)
                        .map(|(n, &c)| match n.1 {
                            0 => None,
                            1 => Some((c + 20 * HOUR) as f64),
                            _ => Some((c + 60 * HOUR) as f64),
                        })
                        .collect(),
                    created_at_millis: created.clone(),
                };
                let status = notes.iter().map(|n| statuses[n.2]).collect();
                let harassment = notes
                    .iter()
                    .map(|n| [None, Some(1.0), Some(2.0), Some(3.5)][n.3])
                    .collect();
                let r = ratings(
                    &rows
                        .iter()
                        .map(|&(note, rater, hours, v, _)| {
                            let at = created[note as usize] + hours * HOUR;
                            (note, rater, at, [0.0, 0.5, 1.0][v])
                        })
                        .collect::<Vec<_>>(),
                );
                let first_round = rows.iter().map(|row| row.4).collect();
                (t, status, harassment, r, first_round)
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn counts_are_consistent(
            (t, status, harassment, r, first_round) in arbitrary_community()
        ) {
            const PARTICIPANTS: usize = 6;
            let v = valid_ratings(&r.view(), &t, &status);
            let notes = t.created_at_millis.len();
            let mut old_window = vec![0usize; notes];
            for i in 0..r.len() {
                let note = r.note[i] as usize;
                let age = r.created_at_millis[i] - t.created_at_millis[note];
                if v.in_window[i] {
                    prop_assert!(age < PUBLIC_TSV_DELAY_MILLIS);
                }
                if t.created_at_millis[note] < TOMBSTONES_LAUNCH_MILLIS {
                    old_window[note] += usize::from(v.in_window[i]);
                } else {
                    let before = t.latest_non_nmr_status_millis[note]
                        .is_none_or(|s| (r.created_at_millis[i] as f64) < s);
                    prop_assert_eq!(v.in_window[i], age < PUBLIC_TSV_DELAY_MILLIS && before);
                }
                if v.outcome[i].is_some() {
                    prop_assert!(v.in_window[i]);
                    prop_assert!(r.helpful_num[i] != 0.5);
                    prop_assert!(matches!(status[note], Some(Crh) | Some(Crnh)));
                }
            }
            prop_assert!(old_window.iter().all(|&k| k <= MAX_HISTORICAL_VALID_RATINGS));

            let counts = valid_rating_counts(PARTICIPANTS, &r.view(), &v);
            let penalties = harassment_penalties(
                PARTICIPANTS, &r.view(), &first_round, &harassment, &HarassmentPenaltyParams::default(),
            );
            let mut authors = vec![None; PARTICIPANTS];
            authors[0] = Some(AuthorScore { crh_crnh_ratio_difference: 0.0, mean_note_score: 0.1 });
            let scores = helpfulness_scores(
                &authors, &counts, Some(&penalties), &HelpfulnessParams::default(),
            );
            let contributions = contribution_counts(
                PARTICIPANTS, &r.view(), &t, &vec![0; notes], &status, &vec![1; notes],
            );
            for p in 0..PARTICIPANTS {
                let valid = (0..r.len())
                    .filter(|&i| r.rater[i] as usize == p && v.outcome[i].is_some())
                    .count() as u32;
                let window = (0..r.len())
                    .filter(|&i| {
                        r.rater[i] as usize == p
                            && v.in_window[i]
                            && status[r.note[i] as usize].is_some()
                    })
                    .count() as u32;
                prop_assert!(penalties[p] >= 0.0);
                match counts[p] {
                    None => prop_assert_eq!(valid, 0),
                    Some(c) => {
                        prop_assert_eq!(c.successful_total() + c.unsuccessful_total(), valid);
                        prop_assert_eq!(c.valid_total(), valid);
                        let ratio = c.agree_ratio().unwrap();
                        prop_assert!((0.0..=1.0).contains(&ratio));
                        let s = scores[p].unwrap();
                        prop_assert_eq!(s.rater_agree_ratio, Some(ratio));
                        prop_assert!(
                            s.rater_agree_ratio_with_harassment_abuse_penalty.unwrap() <= ratio
                        );
                        if s.above_helpfulness_threshold {
                            prop_assert!(ratio >= 0.66);
                        }
                    }
                }
                match contributions.rating[p] {
                    None => prop_assert_eq!(window, 0),
                    Some(c) => {
                        prop_assert!(window > 0);
                        prop_assert_eq!(Some(c.valid), counts[p].or(Some(Default::default())));
                        prop_assert!(c.ratings_awaiting_more_ratings + c.valid.valid_total() <= window);
                    }
                }
            }
            let scored = status.iter().filter(|s| s.is_some()).count() as u32;
            let a = contributions.authoring[0];
            prop_assert_eq!(a.is_some(), scored > 0);
            if let Some(a) = a {
                prop_assert!(
                    a.notes_currently_rated_helpful
                        + a.notes_currently_rated_not_helpful
                        + a.notes_awaiting_more_ratings
                        <= scored
                );
                prop_assert_eq!(a.aggregate_rating_received_total, u64::from(scored));
            }
        }
    }
}
