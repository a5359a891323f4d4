//! The reference's `ReputationScorer` (spec §11; `reputation_scorer.py`,
//! `helpfulness_model.py`): the "coverage" model behind `coverageNoteIntercept`,
//! `coverageNoteFactor1`, `coverageRatingStatus` and `raterHelpfulnessReputation`. Its
//! results are published but meta-scoring does not read them.
//!
//! It is the three-round reputation model of [`crate::diligence`] fitted to `helpfulNum`
//! under squared error instead of to the low-diligence tags under cross-entropy:
//! `y ≈ μ + i_u + ρ_u · i_n + f_u · f_n` with a per-rater reputation ρ_u that multiplies the
//! note intercept, with its own constants ([`helpfulness_reputation_params`]). The rounds and
//! the two final fits are the diligence model's ([`crate::diligence`] documents them); the
//! blocks are solved exactly by [`fit_squared`].
//!
//! The scorer sees the ratings of core-group and unassigned raters on every note, filtered
//! to raters with 10 ratings and notes with 5 raters (one pass each way, in both phases).
//! Prescoring starts the rater factors from a fit of the stable-initialization group's
//! ratings; intercepts start from standard normal draws, reputations at 1. Final scoring
//! refits from prescoring's values on the final ratings and rates a note helpful when its
//! intercept exceeds [`COVERAGE_CRH_THRESHOLD`], otherwise "needs more ratings"; notes with
//! under half their ratings from the scorer's raters are not output.
//!
//! Reference behaviour reproduced on purpose: the model's initializer finds a note's
//! starting values only when the note id survives rounding to float64
//! ([`reaches_the_model`]); every other note starts at 0. So prescoring's note factors do
//! not start from the stable-initialization fit, and final scoring's first fit (note factors
//! only) runs with note intercepts at 0 instead of the round-2 intercepts, which moves the
//! final note factors and intercepts far from prescoring's for notes with few ratings
//! (by up to 0.28 in intercept on the golden data). The low-diligence model's final fits
//! share the initializer and so the quirk (see [`crate::diligence`]).
//!
//! Differences from the reference, by design:
//! * every round is solved to a stationary point; the reference stops its Adam loops after
//!   at most 300 epochs or when the loss moves by less than 1e-7 over 10 epochs. On the
//!   golden data prescoring's note intercepts still agree to 0.006 and the final ones to
//!   0.003 (`crates/bridgenotes/tests/reputation.rs`);
//! * the standard normal starting intercepts come from [`crate::diligence::standard_normal`]
//!   (deterministic, independent of threads and of row order), not torch's generator;
//! * the orientation of the factors follows the stable-initialization fit. In the
//!   reference Adam's first steps from the random intercepts (every parameter moves by the
//!   full learning rate, 0.2, whatever its gradient) wash that start out, and the sign of
//!   `coverageNoteFactor1` comes out either way depending on the random draws (an emulation
//!   of round 1 flips it for about half of the seeds); it carries no meaning.

mod squared;

pub use squared::{fit_squared, squared_gradient, squared_loss};

use crate::NoteStatus;
use crate::community::{CommunityView, ViewRatings};
pub use crate::diligence::reaches_the_model;
use crate::diligence::{
    DiligenceFinal, DiligenceGlobalIntercept, DiligenceParams, DiligencePrescoring,
    as_the_model_sees_it, final_rounds, prescoring_rounds, rating_weights, standard_normal,
};
use crate::first_round::{MIN_RATINGS_PER_NOTE, MIN_RATINGS_PER_RATER, filter_by_counts_with};
use crate::logit::{LogitData, LogitFactors, Trainable};
use crate::mf::MfParams;
use crate::rating_view::{Rows, lookup};
use crate::scorer::prescore::{PrescoreError, fit_free, stable_init_ratings};
use crate::scorer::{CORE_GROUPS, ScorerSpec, Selection, TopicScope, select};
use crate::topic::Topic;

/// A note is rated helpful when its final intercept exceeds this (`crhThreshold`).
pub const COVERAGE_CRH_THRESHOLD: f64 = 0.28;

/// Streams of [`standard_normal`] for the starting intercepts.
const NOTE_INTERCEPT_STREAM: u64 = 12;
const RATER_INTERCEPT_STREAM: u64 = 13;

/// The helpfulness reputation model's hyperparameters
/// (`helpfulness_model.py: _setup_dataset_and_hparams`), in the diligence model's terms.
pub fn helpfulness_reputation_params() -> DiligenceParams {
    DiligenceParams {
        lambda: 0.01,
        note_intercept_multiplier: 0.5,
        rater_intercept_multiplier: 1.0,
        reputation_multiplier: 1.0,
        global_intercept_multiplier: 0.0,
        third_round_lambda_multiplier: 0.1,
        third_round_note_intercept_multiplier: 10.0,
        pos_weight: 0.2,
        second_round_pos_weight_multiplier: 5.0,
        third_round_pos_weight_multiplier: 5.0,
        note_norm_exp: [0.0, 0.0, -0.5],
        rater_norm_exp: [-0.5, 0.0, 0.0],
        reputation_exp: 1.0,
        alpha: 0.0,
        default_reputation: 1.0,
        seed: 0,
        // The squared-error solver's stop (the logistic models' default is looser).
        tolerance: 1e-10,
        // Its final fits are solved exactly (`final_rounds` with `fit_squared`).
        final_adam: None,
        ..DiligenceParams::default()
    }
}

/// Settings of the reputation scorer; [`ReputationOptions::reference`] gives the
/// reference's.
#[derive(Clone, Debug, PartialEq)]
pub struct ReputationOptions {
    /// Which raters and notes it sees, and the capture threshold of its output.
    pub spec: ScorerSpec,
    pub params: DiligenceParams,
    /// Raters need this many ratings and notes this many raters (`filter_ratings`).
    pub min_ratings_per_rater: usize,
    pub min_raters_per_note: usize,
    /// The modeling group whose fit starts the factors (`None`: factors start at 0).
    pub stable_init_group: Option<u32>,
    /// Settings of that fit (the default matrix factorization).
    pub stable_init_mf: MfParams,
    pub crh_threshold: f64,
}

impl ReputationOptions {
    /// `ReputationScorer()` as the reference constructs it.
    pub fn reference() -> Self {
        ReputationOptions {
            spec: ScorerSpec {
                name: "ReputationScorer",
                groups: Some(CORE_GROUPS.to_vec()),
                include_unassigned: true,
                topics: TopicScope::All,
                capture_threshold: Some(0.5),
                strict_inclusion: false,
            },
            params: helpfulness_reputation_params(),
            min_ratings_per_rater: MIN_RATINGS_PER_RATER,
            min_raters_per_note: MIN_RATINGS_PER_NOTE,
            stable_init_group: Some(13),
            stable_init_mf: MfParams::default(),
            crh_threshold: COVERAGE_CRH_THRESHOLD,
        }
    }
}

/// The scorer's ratings that pass the count filters, and the model's data over them: rows
/// are the notes and raters in increasing community index, targets `helpfulNum`.
struct Fitted<'a> {
    ratings: ViewRatings<'a>,
    keep: Vec<bool>,
    data: LogitData,
    notes: Rows,
    raters: Rows,
}

fn filtered<'a>(
    community: &CommunityView<'a>,
    selection: &Selection,
    options: &ReputationOptions,
) -> Option<Fitted<'a>> {
    let ratings = community.ratings.select(&selection.ratings);
    let mut keep = vec![true; ratings.len()];
    filter_by_counts_with(
        &mut keep,
        |k| ratings.note(k),
        |k| ratings.rater(k),
        options.min_ratings_per_rater,
        options.min_raters_per_note,
    );
    if !keep.contains(&true) {
        return None;
    }
    let selected = || (0..ratings.len()).filter(|&k| keep[k]);
    let base = ratings.base();
    let notes = Rows::sorted(&base.note, selected().map(|k| ratings.base_index(k)));
    let raters = Rows::sorted(&base.rater, selected().map(|k| ratings.base_index(k)));
    let ns: Vec<u32> = selected()
        .map(|k| notes.row[ratings.note(k) as usize])
        .collect();
    let us: Vec<u32> = selected()
        .map(|k| raters.row[ratings.rater(k) as usize])
        .collect();
    let ys: Vec<f32> = selected().map(|k| ratings.helpful_num(k)).collect();
    let data = LogitData::new(notes.ids.len(), raters.ids.len(), &ns, &us, &ys);
    Some(Fitted {
        ratings,
        keep,
        data,
        notes,
        raters,
    })
}

/// Prescoring (`_prescore_notes_and_users`) on the scorer's `selection` of `community` (the
/// prescoring view). Rows are community note and participant indices. `None` when no
/// rating survives the count filters.
pub fn prescore_reputation(
    community: &CommunityView,
    selection: &Selection,
    options: &ReputationOptions,
) -> Result<Option<DiligencePrescoring>, PrescoreError> {
    let Some(Fitted {
        ratings,
        keep,
        mut data,
        notes,
        raters,
    }) = filtered(community, selection, options)
    else {
        return Ok(None);
    };
    // Factors from the stable-initialization fit; everyone outside it starts at 0.
    let mut note_factor = vec![f64::NAN; community.notes.len()];
    let mut rater_factor = vec![f64::NAN; community.participants.len()];
    if let Some(group) = options.stable_init_group {
        let subset = stable_init_ratings(community, &ratings, &keep, group);
        if subset.contains(&true) {
            let stable = fit_free(&ratings, &subset, &options.stable_init_mf)?;
            for (row, &n) in stable.note_rows.iter().enumerate() {
                if reaches_the_model(community, n) {
                    note_factor[n as usize] = stable.factors.note_factor[row];
                }
            }
            for (row, &u) in stable.rater_rows.iter().enumerate() {
                rater_factor[u as usize] = stable.factors.rater_factor[row];
            }
        }
    }
    let params = &options.params;
    let mut init = LogitFactors::new(data.notes(), data.raters());
    for (row, &n) in notes.ids.iter().enumerate() {
        init.note_factor[row] = lookup(&note_factor, n, 0.0);
        init.note_intercept[row] = standard_normal(params.seed, NOTE_INTERCEPT_STREAM, n as u64);
    }
    for (row, &u) in raters.ids.iter().enumerate() {
        init.rater_factor[row] = lookup(&rater_factor, u, 0.0);
        init.rater_intercept[row] = standard_normal(params.seed, RATER_INTERCEPT_STREAM, u as u64);
        init.rater_reputation[row] = params.default_reputation;
    }
    let fit = prescoring_rounds(&mut data, notes.ids, raters.ids, init, params, &fit_squared)?;
    Ok(Some(fit))
}

/// μ after prescoring's rounds 2 and 3 for parameters read back from the reference's
/// prescoring tables, which do not hold them: the value at which each round's loss is
/// stationary given every other parameter (`prescoring.global_intercept` is ignored; the
/// first round's μ, which final scoring does not read, is left NaN). Computed on the
/// scorer's `selection` of the prescoring view. `None` when no rating survives the count
/// filters.
pub fn recover_global_intercepts(
    community: &CommunityView,
    selection: &Selection,
    prescoring: &DiligencePrescoring,
    options: &ReputationOptions,
) -> Option<DiligenceGlobalIntercept> {
    let Fitted {
        mut data,
        notes,
        raters,
        ..
    } = filtered(community, selection, options)?;
    let params = &options.params;
    let dense = |ids: &[u32], values: &[f64], size: usize| {
        let mut out = vec![f64::NAN; size];
        for (&k, &v) in ids.iter().zip(values) {
            out[k as usize] = v;
        }
        out
    };
    let (note_space, rater_space) = (community.notes.len(), community.participants.len());
    let p = prescoring;
    let mut f = LogitFactors::new(data.notes(), data.raters());
    let note_factor = dense(&p.notes, &p.note_factor, note_space);
    let rater_factor = dense(&p.raters, &p.rater_factor, rater_space);
    let reputation = dense(&p.raters, &p.rater_reputation, rater_space);
    for (row, &n) in notes.ids.iter().enumerate() {
        f.note_factor[row] = lookup(&note_factor, n, 0.0);
    }
    for (row, &u) in raters.ids.iter().enumerate() {
        f.rater_factor[row] = lookup(&rater_factor, u, 0.0);
        f.rater_reputation[row] = lookup(&reputation, u, params.default_reputation);
    }
    let global = Trainable {
        global_intercept: true,
        ..Trainable::NONE
    };
    let mut at_round = |round: usize, note_intercept: &[f64], rater_intercept: &[f64]| {
        let note_intercept = dense(&p.notes, note_intercept, note_space);
        let rater_intercept = dense(&p.raters, rater_intercept, rater_space);
        for (row, &n) in notes.ids.iter().enumerate() {
            f.note_intercept[row] = lookup(&note_intercept, n, 0.0);
        }
        for (row, &u) in raters.ids.iter().enumerate() {
            f.rater_intercept[row] = lookup(&rater_intercept, u, 0.0);
        }
        let reputation = (round == 3).then(|| f.rater_reputation.clone());
        data.set_weights(&rating_weights(
            &data,
            &params.weights(round, reputation.as_deref()),
        ));
        let valid = params
            .logit_params(round == 3, None)
            .validate()
            .expect("the reference's hyperparameters are valid");
        fit_squared(&data, &valid, f.clone(), global)
            .0
            .global_intercept
    };
    let second_round = at_round(2, &p.note_intercept_round2, &p.rater_intercept_round2);
    let final_round = at_round(3, &p.note_intercept, &p.rater_intercept);
    Some(DiligenceGlobalIntercept {
        first_round: f64::NAN,
        second_round,
        final_round,
    })
}

/// Final scoring's results, per community note and participant.
#[derive(Clone, Debug, PartialEq)]
pub struct ReputationScores {
    /// `coverageNoteIntercept`, `coverageNoteFactor1`, `coverageRatingStatus`: notes the
    /// model fitted and outputs (at or above the capture threshold).
    pub note_intercept: Vec<Option<f64>>,
    pub note_factor: Vec<Option<f64>>,
    pub status: Vec<Option<NoteStatus>>,
    /// `raterHelpfulnessReputation`: every rater of the final fit (0 for raters prescoring
    /// did not fit).
    pub rater_reputation: Vec<Option<f64>>,
    /// The two final fits.
    pub fit: DiligenceFinal,
}

/// Final scoring (`_score_notes_and_users` and the output filter) on the scorer's
/// `selection` of `community` (the final view), from `prescoring`. `None` when no rating
/// survives the count filters.
pub fn score_reputation(
    community: &CommunityView,
    selection: &Selection,
    prescoring: &DiligencePrescoring,
    options: &ReputationOptions,
) -> Result<Option<ReputationScores>, PrescoreError> {
    let Some(Fitted {
        mut data,
        notes,
        raters,
        ..
    }) = filtered(community, selection, options)
    else {
        return Ok(None);
    };
    let fit = final_rounds(
        &mut data,
        &notes,
        &raters,
        &as_the_model_sees_it(community, prescoring),
        None,
        &options.params,
        &fit_squared,
    )?;
    let note_count = community.notes.len();
    let mut note_intercept = vec![None; note_count];
    let mut note_factor = vec![None; note_count];
    let mut status = vec![None; note_count];
    for (k, &n) in fit.notes.iter().enumerate() {
        let n = n as usize;
        if !(selection.notes[n] && selection.captured[n]) {
            continue;
        }
        let intercept = fit.note_intercept[k];
        note_intercept[n] = Some(intercept);
        note_factor[n] = Some(fit.note_factor[k]);
        status[n] = Some(if intercept > options.crh_threshold {
            NoteStatus::CurrentlyRatedHelpful
        } else {
            NoteStatus::NeedsMoreRatings
        });
    }
    let mut rater_reputation = vec![None; community.participants.len()];
    for (k, &u) in fit.raters.iter().enumerate() {
        rater_reputation[u as usize] = Some(fit.rater_reputation[k]);
    }
    Ok(Some(ReputationScores {
        note_intercept,
        note_factor,
        status,
        rater_reputation,
        fit,
    }))
}

/// The scorer from start to finish: prescoring on `prescoring_view`, final scoring on
/// `final_view` (the community with the prescoring and final post-selection-similarity
/// filters applied). `None` when either phase has nothing to score (the reference's empty
/// outputs).
pub fn run_reputation(
    prescoring_view: &CommunityView,
    final_view: &CommunityView,
    topics: &[Option<Topic>],
    options: &ReputationOptions,
) -> Result<Option<(DiligencePrescoring, ReputationScores)>, PrescoreError> {
    let selection = select(prescoring_view, &options.spec, topics);
    let Some(prescoring) = prescore_reputation(prescoring_view, &selection, options)? else {
        return Ok(None);
    };
    let selection = select(final_view, &options.spec, topics);
    let scores = score_reputation(final_view, &selection, &prescoring, options)?;
    Ok(scores.map(|s| (prescoring, s)))
}

#[cfg(test)]
mod tests;
