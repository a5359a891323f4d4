//! The low-diligence model (spec §10; the reference's `diligence_model.py` and
//! `reputation_matrix_factorization.py`): a logistic factorization of whether raters tag a
//! note "incorrect", "irrelevant sources" or "sources missing or unreliable", with a
//! per-rater reputation ρ_u multiplying the note intercept:
//! `s = f_n · f_u + i_n · ρ_u + i_u + μ`. Its final note intercept
//! (`lowDiligenceNoteIntercept`) drives the FilterLowDiligence rule
//! (above [`LOW_DILIGENCE_THRESHOLD`]).
//!
//! Prescoring trains three rounds on the scorer's final-round ratings:
//! 1. everything but ρ_u (held at 1), positives weighted 100;
//! 2. everything but i_n (now ρ_u too), same weights; i_n, i_u and μ are kept as the
//!    "round 2" values;
//! 3. only i_n, i_u and μ, positives weighted 500, each rating further weighted by
//!    `(α + max(ρ_u, 0)^0.5) / (1 + α)` and then by `(Σ weights of its note + 2⁻²⁰)^−0.5`.
//!
//! Final scoring refits from the prescoring values with raters and μ frozen: first f_n alone
//! (round-2 weights, round-2 intercepts and μ), then i_n alone (round-3 weights, prescoring
//! final i_u and μ), with penalties in the ratio form when ratios are given.
//!
//! Reference behaviour reproduced on purpose: the reference's initializer finds a note's
//! prescoring values only when its id survives rounding to float64 ([`reaches_the_model`]);
//! every other note starts final scoring at 0. Since fit A holds i_n fixed, those notes fit
//! their factor with the note intercept at 0 rather than at its round-2 value, and fit B
//! starts from that factor. The caller applies this ([`as_the_model_sees_it`]) to what it
//! hands [`fit_diligence_final`].
//!
//! The rounds and the final fits are shared with the helpfulness reputation model
//! ([`crate::reputation`]), which runs them under squared error (a `RoundSolver`).
//!
//! Spec §10 and the reference code agree on everything used here (checked against
//! `diligence_model.py`, `reputation_matrix_factorization.py`, `weighted_loss.py`).
//!
//! Differences from the reference, by design:
//! * The reference trains each round with Adam (learning rate 0.2) for at most 301 steps,
//!   checking every fifth epoch whether the loss moved by less than 1e-5 since the last
//!   check. Final scoring's two fits start from given values, so their path is repeatable:
//!   they replay that loop ([`DiligenceParams::final_adam`], [`AdamSettings::reputation`]).
//!   The prescoring rounds are solved to a stationary point by the exact alternating
//!   solver of [`crate::logit`] (round 1 starts from torch's random draws, and rounds 2–3
//!   from round 1). Adam does stop short. Measured on `small-s2`
//!   (`tests/golden_tag_diligence.rs`, which rebuilds MFCoreScorer's final-round ratings
//!   from its own outputs and runs the replay from the reference's round-2 values,
//!   reproducing its round-3 note intercepts to a mean of 8e-6 and its rater intercepts to
//!   1e-6): round 3 stops after 80 epochs at a loss 9e-6 above the optimum; the optimum's
//!   note intercepts differ from the reference's by 0.010 on average and 0.074 at most, and
//!   28 of 5,603 notes land on the other side of [`LOW_DILIGENCE_THRESHOLD`] (none with the
//!   replay). Round 2 ends near a stationary point (rms gradient ≤ 3e-6), but polishing it
//!   still moves weakly determined note factors (by 0.005 on average, 1.8 at most).
//! * The reference starts f_n, i_n and i_u of round 1 from torch's (unseeded) standard
//!   normal draws. Here they come from [`standard_normal`], a hash of a seed, the parameter
//!   kind and the caller's note or rater index: deterministic and independent of threads
//!   and of which other rows are in the fit.
//! * Rows are in increasing caller index; the reference sorts note and rater ids. Only the
//!   random draws depend on row order there; here they do not depend on it at all.

use crate::community::CommunityView;
use crate::first_round::splitmix64;
use crate::logit::{
    AdamSettings, LogitData, LogitFactors, LogitParams, LogitParamsError, LogitReport, Trainable,
    ValidLogitParams, fit_logit, fit_logit_adam_blocks, logit_loss,
};
use crate::rating::not_helpful_bit;
use crate::rating_view::{RatingView, Rows, lookup};

/// Notes whose final low-diligence intercept exceeds this are filtered
/// (`lowDiligenceThreshold`).
pub const LOW_DILIGENCE_THRESHOLD: f64 = 0.263;

/// The tags that make a rating a low-diligence positive: `notHelpfulIncorrect`,
/// `notHelpfulSourcesMissingOrUnreliable`, `notHelpfulIrrelevantSources`.
pub const LOW_DILIGENCE_TAGS: u32 = not_helpful_bit(1) | not_helpful_bit(2) | not_helpful_bit(10);

/// The model's target for a rating with tag bits `tags`: 1 when any low-diligence tag is
/// set (the reference clips the sum of the three tag columns to [0, 1]).
pub fn diligence_target(tags: u32) -> f32 {
    if tags & LOW_DILIGENCE_TAGS != 0 {
        1.0
    } else {
        0.0
    }
}

/// Hyperparameters of the low-diligence model; the defaults are the reference's
/// (`_setup_dataset_and_hparams`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiligenceParams {
    /// Base penalty λ (`l2Lambda`).
    pub lambda: f64,
    /// Multipliers of λ per block: note intercept, rater intercept, reputation, μ. Factors
    /// use λ itself.
    pub note_intercept_multiplier: f64,
    pub rater_intercept_multiplier: f64,
    pub reputation_multiplier: f64,
    pub global_intercept_multiplier: f64,
    /// Round 3 (and final fit B): λ and the note-intercept multiplier are multiplied again.
    pub third_round_lambda_multiplier: f64,
    pub third_round_note_intercept_multiplier: f64,
    /// Weight of a positive rating in round 1 (`posWeight`).
    pub pos_weight: f64,
    /// Positive weight multipliers of rounds 2 and 3.
    pub second_round_pos_weight_multiplier: f64,
    pub third_round_pos_weight_multiplier: f64,
    /// Exponents of the per-note and per-rater weight normalization, per round.
    pub note_norm_exp: [f64; 3],
    pub rater_norm_exp: [f64; 3],
    /// Round-3 reputation weighting `(α + max(ρ, 0)^exp) / (1 + α)`.
    pub reputation_exp: f64,
    pub alpha: f64,
    /// ρ_u of every rater at the start of prescoring.
    pub default_reputation: f64,
    /// Seed of the deterministic standard-normal starting values.
    pub seed: u64,
    /// Stopping of each fit (largest parameter move per pass) and its pass limit. The
    /// default, 1e-6, ends the prescoring rounds when their loss has long settled (to about
    /// 1e-12 on the golden datasets), far inside what the reference's own loop resolves (it
    /// stops when the loss moves by less than 1e-5 in five epochs); polishing the values to
    /// 1e-8 cost a tenth of a scorer's instructions and changed no status on the golden
    /// datasets.
    pub tolerance: f64,
    pub max_passes: usize,
    /// Final scoring's two fits replay the reference's Adam loop with these settings (where
    /// it stops is what the reference computes); `None` solves them exactly instead.
    pub final_adam: Option<AdamSettings>,
}

impl Default for DiligenceParams {
    fn default() -> Self {
        DiligenceParams {
            lambda: 0.03,
            note_intercept_multiplier: 1.0,
            rater_intercept_multiplier: 10.0,
            reputation_multiplier: 50.0,
            global_intercept_multiplier: 0.0,
            third_round_lambda_multiplier: 1.0,
            third_round_note_intercept_multiplier: 1.0,
            pos_weight: 100.0,
            second_round_pos_weight_multiplier: 1.0,
            third_round_pos_weight_multiplier: 5.0,
            note_norm_exp: [0.0, 0.0, -0.5],
            rater_norm_exp: [0.0, 0.0, 0.0],
            reputation_exp: 0.5,
            alpha: 0.1,
            default_reputation: 1.0,
            seed: 0,
            tolerance: 1e-6,
            max_passes: LogitParams::default().max_passes,
            final_adam: Some(AdamSettings::reputation()),
        }
    }
}

/// Ratings per note and per rater of prescoring's final round, for the ratio-form
/// penalties of final scoring (`finalRoundNumRatings / finalRoundNumNotes`, `/ …NumUsers`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossRatios {
    pub note: f64,
    pub rater: f64,
}

impl DiligenceParams {
    /// The penalties of rounds 1–2 (`third == false`) or round 3.
    pub(crate) fn logit_params(&self, third: bool, ratios: Option<LossRatios>) -> LogitParams {
        let lambda = if third {
            self.lambda * self.third_round_lambda_multiplier
        } else {
            self.lambda
        };
        let note_intercept = if third {
            self.note_intercept_multiplier * self.third_round_note_intercept_multiplier
        } else {
            self.note_intercept_multiplier
        };
        LogitParams {
            note_intercept_lambda: lambda * note_intercept,
            note_factor_lambda: lambda,
            rater_intercept_lambda: lambda * self.rater_intercept_multiplier,
            rater_factor_lambda: lambda,
            rater_reputation_lambda: lambda * self.reputation_multiplier,
            global_intercept_lambda: lambda * self.global_intercept_multiplier,
            note_loss_ratio: ratios.map(|r| r.note),
            rater_loss_ratio: ratios.map(|r| r.rater),
            tolerance: self.tolerance,
            max_passes: self.max_passes,
        }
    }

    /// The weighting of round `round` (1, 2 or 3); round 3 needs the reputations.
    pub(crate) fn weights<'a>(
        &self,
        round: usize,
        reputation: Option<&'a [f64]>,
    ) -> WeightSpec<'a> {
        let pos_weight = self.pos_weight
            * match round {
                1 => 1.0,
                2 => self.second_round_pos_weight_multiplier,
                _ => self.third_round_pos_weight_multiplier,
            };
        WeightSpec {
            pos_weight,
            reputation: if round == 3 { reputation } else { None },
            reputation_exp: self.reputation_exp,
            alpha: self.alpha,
            note_norm_exp: self.note_norm_exp[round - 1],
            rater_norm_exp: self.rater_norm_exp[round - 1],
        }
    }
}

/// How ratings are weighted in one round (the reference's `WeightedLoss`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightSpec<'a> {
    /// Weight of a rating labelled 1 (others start at 1).
    pub pos_weight: f64,
    /// Per rater row: ratings are multiplied by `(α + max(ρ, 0)^exp) / (1 + α)`.
    pub reputation: Option<&'a [f64]>,
    pub reputation_exp: f64,
    pub alpha: f64,
    /// Then by `(Σ weights of the note + 2⁻²⁰)^exp` when non-zero.
    pub note_norm_exp: f64,
    /// Then by `(Σ weights of the rater + 2⁻²⁰)^exp` when non-zero.
    pub rater_norm_exp: f64,
}

/// The weight of every rating of `data` (input order) under `spec`: class weight, then
/// reputation, then note normalization, then rater normalization, as the reference applies
/// them. Sums run serially in input order.
pub fn rating_weights(data: &LogitData, spec: &WeightSpec<'_>) -> Vec<f64> {
    if let Some(reputation) = spec.reputation {
        assert_eq!(
            reputation.len(),
            data.raters(),
            "one reputation per rater row"
        );
    }
    // Each row's ratings come in input order in both orderings, so summing a row's run
    // adds the same terms in the same order as a serial pass over the input would.
    let mut w = vec![0.0; data.len()];
    for n in 0..data.notes() {
        let run = data.note_run(n);
        for ((&i, &u), &y) in data.note_inputs(n).iter().zip(run.other).zip(run.label) {
            let mut x = if y == 1.0 { spec.pos_weight } else { 1.0 };
            if let Some(reputation) = spec.reputation {
                let r = reputation[u as usize].max(0.0).powf(spec.reputation_exp);
                x *= (spec.alpha + r) / (1.0 + spec.alpha);
            }
            w[i as usize] = x;
        }
    }
    fn normalize<'a>(w: &mut [f64], rows: usize, inputs: impl Fn(usize) -> &'a [u32], exp: f64) {
        if exp == 0.0 {
            return;
        }
        for row in 0..rows {
            let positions = inputs(row);
            let total: f64 = positions.iter().fold(0.0, |t, &i| t + w[i as usize]);
            let factor = (total + 2f64.powi(-20)).powf(exp);
            for &i in positions {
                w[i as usize] *= factor;
            }
        }
    }
    normalize(
        &mut w,
        data.notes(),
        |n| data.note_inputs(n),
        spec.note_norm_exp,
    );
    normalize(
        &mut w,
        data.raters(),
        |u| data.rater_inputs(u),
        spec.rater_norm_exp,
    );
    w
}

/// A standard normal draw determined by `(seed, stream, index)` (Box–Muller on two
/// SplitMix64 uniforms).
pub fn standard_normal(seed: u64, stream: u64, index: u64) -> f64 {
    let a = splitmix64(
        seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let b = splitmix64(a);
    let u1 = ((a >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (b >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Streams of [`standard_normal`] per parameter kind.
const NOTE_FACTOR_STREAM: u64 = 1;
const NOTE_INTERCEPT_STREAM: u64 = 2;
const RATER_INTERCEPT_STREAM: u64 = 3;

/// μ after each prescoring round (the reference's `ReputationGlobalIntercept`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiligenceGlobalIntercept {
    pub first_round: f64,
    pub second_round: f64,
    pub final_round: f64,
}

/// Prescoring's low-diligence parameters. `notes` and `raters` hold the caller's index of
/// each row. Values read back from a file may be NaN for "missing"; final scoring treats
/// NaN like an absent row.
#[derive(Clone, Debug, PartialEq)]
pub struct DiligencePrescoring {
    pub notes: Vec<u32>,
    /// `lowDiligenceNoteIntercept` (round 3).
    pub note_intercept: Vec<f64>,
    /// `lowDiligenceNoteFactor1`.
    pub note_factor: Vec<f64>,
    /// `lowDiligenceNoteInterceptRound2`.
    pub note_intercept_round2: Vec<f64>,
    pub raters: Vec<u32>,
    /// `lowDiligenceRaterIntercept` (round 3).
    pub rater_intercept: Vec<f64>,
    /// `lowDiligenceRaterFactor1`.
    pub rater_factor: Vec<f64>,
    /// `lowDiligenceRaterReputation`.
    pub rater_reputation: Vec<f64>,
    /// `lowDiligenceRaterInterceptRound2`.
    pub rater_intercept_round2: Vec<f64>,
    pub global_intercept: DiligenceGlobalIntercept,
    /// The three rounds' fits (absent when read back from a file).
    pub reports: Option<[LogitReport; 3]>,
}

/// Final scoring's low-diligence parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct DiligenceFinal {
    pub notes: Vec<u32>,
    /// `lowDiligenceNoteIntercept` (fit B): the value FilterLowDiligence reads.
    pub note_intercept: Vec<f64>,
    /// `lowDiligenceNoteFactor1` (fit A).
    pub note_factor: Vec<f64>,
    pub raters: Vec<u32>,
    /// The frozen rater values of fit B: final prescoring intercept, factor, reputation.
    pub rater_intercept: Vec<f64>,
    pub rater_factor: Vec<f64>,
    pub rater_reputation: Vec<f64>,
    pub reports: [LogitReport; 2],
}

/// Whether a note's starting values reach the reference's model. Its initializer looks them
/// up in a dictionary built from the rows of a table holding note ids next to float columns,
/// which pandas turns into one float64 array: the keys are the ids rounded to float64, and
/// a note is found only when its id survives that rounding (ids near 2·10¹⁸ do only when
/// they are multiples of 256). Every other note starts from the default (0). (Two ids that
/// round to the same float would share one entry; with ids that far apart this does not
/// arise and is not reproduced.)
pub fn reaches_the_model(community: &CommunityView, note: u32) -> bool {
    let id = community.notes[note as usize].note_id;
    let rounded = id as f64;
    rounded < 9_223_372_036_854_775_808.0 && rounded as i64 == id
}

/// `prescoring` without the note rows that do not reach the model
/// ([`reaches_the_model`]), so final scoring starts those notes at 0 as the reference does
/// (in the low-diligence model and in the reputation scorer, which share the initializer).
pub(crate) fn as_the_model_sees_it(
    community: &CommunityView,
    prescoring: &DiligencePrescoring,
) -> DiligencePrescoring {
    let keep: Vec<bool> = prescoring
        .notes
        .iter()
        .map(|&n| reaches_the_model(community, n))
        .collect();
    let pick = |values: &[f64]| -> Vec<f64> {
        values
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(v, _)| *v)
            .collect()
    };
    DiligencePrescoring {
        notes: prescoring
            .notes
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(n, _)| *n)
            .collect(),
        note_intercept: pick(&prescoring.note_intercept),
        note_factor: pick(&prescoring.note_factor),
        note_intercept_round2: pick(&prescoring.note_intercept_round2),
        ..prescoring.clone()
    }
}

/// The data of one diligence fit: the included ratings, rows in increasing caller index.
fn build_data(ratings: RatingView<'_>, include: Option<&[bool]>) -> (LogitData, Rows, Rows) {
    ratings.check(include);
    let selected = || (0..ratings.len()).filter(|&i| include.is_none_or(|inc| inc[i]));
    let notes = Rows::sorted(ratings.note, selected().map(|i| ratings.index(i)));
    let raters = Rows::sorted(ratings.rater, selected().map(|i| ratings.index(i)));
    let ns: Vec<u32> = selected()
        .map(|i| notes.row[ratings.note(i) as usize])
        .collect();
    let us: Vec<u32> = selected()
        .map(|i| raters.row[ratings.rater(i) as usize])
        .collect();
    let ys: Vec<f32> = selected()
        .map(|i| diligence_target(ratings.tags(i)))
        .collect();
    let data = LogitData::new(notes.ids.len(), raters.ids.len(), &ns, &us, &ys);
    (data, notes, raters)
}

/// Prescoring's three rounds on the `include`d ratings (all when `None`: the scorer's
/// final-round ratings), with rater factors starting from the final-round helpfulness fit
/// (`rater_factor_init[rater]`; missing or NaN → 0). `None` when no rating is included.
pub fn fit_diligence_prescoring(
    ratings: RatingView<'_>,
    include: Option<&[bool]>,
    rater_factor_init: &[f64],
    params: &DiligenceParams,
) -> Result<Option<DiligencePrescoring>, LogitParamsError> {
    let (mut data, notes, raters) = build_data(ratings, include);
    if data.is_empty() {
        return Ok(None);
    }
    let mut init = LogitFactors::new(data.notes(), data.raters());
    let seed = params.seed;
    for (row, &n) in notes.ids.iter().enumerate() {
        init.note_factor[row] = standard_normal(seed, NOTE_FACTOR_STREAM, n as u64);
        init.note_intercept[row] = standard_normal(seed, NOTE_INTERCEPT_STREAM, n as u64);
    }
    for (row, &u) in raters.ids.iter().enumerate() {
        init.rater_factor[row] = lookup(rater_factor_init, u, 0.0);
        init.rater_intercept[row] = standard_normal(seed, RATER_INTERCEPT_STREAM, u as u64);
        init.rater_reputation[row] = params.default_reputation;
    }
    prescoring_rounds(&mut data, notes.ids, raters.ids, init, params, &fit_logit).map(Some)
}

/// One training round of a reputation model: fits `data` from the given start, changing
/// only the trainable blocks, to a stationary point of its loss ([`fit_logit`] for this
/// model's cross-entropy; `crate::reputation` solves squared error).
pub(crate) type RoundSolver<'a> = &'a dyn Fn(
    &LogitData,
    &ValidLogitParams,
    LogitFactors,
    Trainable,
) -> (LogitFactors, LogitReport);

/// The three prescoring rounds from `init` (see the module documentation), minimizing the
/// loss `solve` stands for. `notes` and `raters` are the caller's indices of the rows of
/// `data`, whose weights are replaced round by round.
pub(crate) fn prescoring_rounds(
    data: &mut LogitData,
    notes: Vec<u32>,
    raters: Vec<u32>,
    init: LogitFactors,
    params: &DiligenceParams,
    solve: RoundSolver,
) -> Result<DiligencePrescoring, LogitParamsError> {
    let early = params.logit_params(false, None).validate()?;
    let third = params.logit_params(true, None).validate()?;
    data.set_weights(&rating_weights(data, &params.weights(1, None)));
    let round1 = Trainable {
        rater_reputation: false,
        ..Trainable::ALL
    };
    let (f, report1) = solve(data, &early, init, round1);
    let first_round = f.global_intercept;

    data.set_weights(&rating_weights(data, &params.weights(2, None)));
    let round2 = Trainable {
        note_intercept: false,
        ..Trainable::ALL
    };
    let (f, report2) = solve(data, &early, f, round2);
    let note_intercept_round2 = f.note_intercept.clone();
    let rater_intercept_round2 = f.rater_intercept.clone();
    let second_round = f.global_intercept;

    data.set_weights(&rating_weights(
        data,
        &params.weights(3, Some(&f.rater_reputation)),
    ));
    let round3 = Trainable {
        note_intercept: true,
        rater_intercept: true,
        global_intercept: true,
        ..Trainable::NONE
    };
    let (f, report3) = solve(data, &third, f, round3);

    Ok(DiligencePrescoring {
        notes,
        note_intercept: f.note_intercept,
        note_factor: f.note_factor,
        note_intercept_round2,
        raters,
        rater_intercept: f.rater_intercept,
        rater_factor: f.rater_factor,
        rater_reputation: f.rater_reputation,
        rater_intercept_round2,
        global_intercept: DiligenceGlobalIntercept {
            first_round,
            second_round,
            final_round: f.global_intercept,
        },
        reports: Some([report1, report2, report3]),
    })
}

/// Final scoring's two fits on the `include`d ratings (the main fit's ratings), from
/// prescoring's values. Notes and raters absent from prescoring start at 0 (and such raters
/// get reputation 0). `ratios` selects the ratio-form penalties (always given by the
/// reference in final scoring). `None` when no rating is included.
pub fn fit_diligence_final(
    ratings: RatingView<'_>,
    include: Option<&[bool]>,
    prescoring: &DiligencePrescoring,
    ratios: Option<LossRatios>,
    params: &DiligenceParams,
) -> Result<Option<DiligenceFinal>, LogitParamsError> {
    let (mut data, notes, raters) = build_data(ratings, include);
    if data.is_empty() {
        return Ok(None);
    }
    let replay = |data: &LogitData, p: &ValidLogitParams, init, trainable| {
        let settings = params.final_adam.as_ref().expect("replaying");
        let (f, report) = fit_logit_adam_blocks(data, p, init, trainable, settings);
        let loss = logit_loss(data, p, &f);
        let report = LogitReport {
            passes: report.epochs,
            converged: !report.hit_epoch_limit,
            loss,
        };
        (f, report)
    };
    let solve: RoundSolver = if params.final_adam.is_some() {
        &replay
    } else {
        &fit_logit
    };
    final_rounds(
        &mut data, &notes, &raters, prescoring, ratios, params, solve,
    )
    .map(Some)
}

/// Final scoring's two fits (see the module documentation) of `data`, whose rows are the
/// caller indices of `notes` and `raters`, minimizing the loss `solve` stands for.
pub(crate) fn final_rounds(
    data: &mut LogitData,
    notes: &Rows,
    raters: &Rows,
    prescoring: &DiligencePrescoring,
    ratios: Option<LossRatios>,
    params: &DiligenceParams,
    solve: RoundSolver,
) -> Result<DiligenceFinal, LogitParamsError> {
    let early = params.logit_params(false, ratios).validate()?;
    let third = params.logit_params(true, ratios).validate()?;
    let dense = |ids: &[u32], values: &[f64], size: usize| {
        let mut out = vec![f64::NAN; size];
        for (&k, &v) in ids.iter().zip(values) {
            if let Some(slot) = out.get_mut(k as usize) {
                *slot = v;
            }
        }
        out
    };
    let note_space = notes.row.len();
    let rater_space = raters.row.len();
    let p = prescoring;
    let note_factor = dense(&p.notes, &p.note_factor, note_space);
    let note_intercept2 = dense(&p.notes, &p.note_intercept_round2, note_space);
    let rater_factor = dense(&p.raters, &p.rater_factor, rater_space);
    let rater_intercept = dense(&p.raters, &p.rater_intercept, rater_space);
    let rater_intercept2 = dense(&p.raters, &p.rater_intercept_round2, rater_space);
    let reputation = dense(&p.raters, &p.rater_reputation, rater_space);

    // Fit A: note factors only, from round-2 intercepts and μ.
    let mut f = LogitFactors::new(data.notes(), data.raters());
    for (row, &n) in notes.ids.iter().enumerate() {
        f.note_factor[row] = lookup(&note_factor, n, 0.0);
        f.note_intercept[row] = lookup(&note_intercept2, n, 0.0);
    }
    for (row, &u) in raters.ids.iter().enumerate() {
        f.rater_factor[row] = lookup(&rater_factor, u, 0.0);
        f.rater_intercept[row] = lookup(&rater_intercept2, u, 0.0);
        f.rater_reputation[row] = lookup(&reputation, u, 0.0);
    }
    f.global_intercept = p.global_intercept.second_round;
    data.set_weights(&rating_weights(data, &params.weights(2, None)));
    let fit_a = Trainable {
        note_factor: true,
        ..Trainable::NONE
    };
    let (mut f, report_a) = solve(data, &early, f, fit_a);

    // Fit B: note intercepts only, from the final prescoring rater intercepts and μ.
    f.global_intercept = p.global_intercept.final_round;
    for (row, &u) in raters.ids.iter().enumerate() {
        f.rater_intercept[row] = lookup(&rater_intercept, u, 0.0);
    }
    data.set_weights(&rating_weights(
        data,
        &params.weights(3, Some(&f.rater_reputation)),
    ));
    let fit_b = Trainable {
        note_intercept: true,
        ..Trainable::NONE
    };
    let (f, report_b) = solve(data, &third, f, fit_b);

    Ok(DiligenceFinal {
        notes: notes.ids.clone(),
        note_intercept: f.note_intercept,
        note_factor: f.note_factor,
        raters: raters.ids.clone(),
        rater_intercept: f.rater_intercept,
        rater_factor: f.rater_factor,
        rater_reputation: f.rater_reputation,
        reports: [report_a, report_b],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HelpfulnessLevel;
    use crate::logit::{ValidLogitParams, logit_gradient};

    use crate::rating_view::RatingColumns as Columns;

    /// Notes with a latent "sloppiness", raters with a latent propensity to tag; caller
    /// indices are spread out (note `3k + 1`, rater `2k`) to exercise the row mapping.
    fn community(notes: u32, raters: u32, density: f64, seed: u64) -> Columns {
        let mut state = seed | 1;
        let mut next = || {
            state = splitmix64(state);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let sloppy: Vec<f64> = (0..notes).map(|_| next() * 4.0 - 3.0).collect();
        let eager: Vec<f64> = (0..raters).map(|_| next() * 2.0 - 1.0).collect();
        let side: Vec<f64> = (0..raters).map(|_| next() * 2.0 - 1.0).collect();
        let slant: Vec<f64> = (0..notes).map(|_| next() * 2.0 - 1.0).collect();
        let mut c = Columns {
            note: vec![],
            rater: vec![],
            created: vec![],
            level: vec![],
            tags: vec![],
        };
        for n in 0..notes {
            for u in 0..raters {
                if next() >= density {
                    continue;
                }
                let s = -2.0
                    + sloppy[n as usize]
                    + eager[u as usize]
                    + side[u as usize] * slant[n as usize];
                let p = 1.0 / (1.0 + (-s).exp());
                let tags = if next() < p {
                    [not_helpful_bit(1), not_helpful_bit(2), not_helpful_bit(10)]
                        [(next() * 3.0) as usize]
                } else {
                    0
                };
                c.note.push(3 * n + 1);
                c.rater.push(2 * u);
                c.created.push(0);
                c.level.push(Some(HelpfulnessLevel::NotHelpful));
                c.tags.push(tags);
            }
        }
        c
    }

    fn rater_factors(raters: u32) -> Vec<f64> {
        (0..2 * raters)
            .map(|k| ((k * 37) % 11) as f64 / 11.0 - 0.5)
            .collect()
    }

    #[test]
    fn target_is_any_of_three_tags() {
        assert_eq!(diligence_target(0), 0.0);
        assert_eq!(diligence_target(not_helpful_bit(1)), 1.0);
        assert_eq!(
            diligence_target(not_helpful_bit(2) | not_helpful_bit(10)),
            1.0
        );
        assert_eq!(
            diligence_target(not_helpful_bit(9) | not_helpful_bit(0)),
            0.0
        );
    }

    #[test]
    fn weights_follow_the_reference_order() {
        // Two notes, two raters; rater 1 has reputation 0.25, rater 0 a negative one.
        let note = [0, 0, 1, 1];
        let rater = [0, 1, 0, 1];
        let label = [1.0, 0.0, 0.0, 1.0];
        let data = LogitData::new(2, 2, &note, &rater, &label);
        let reputation = [-0.5, 0.25];
        let spec = WeightSpec {
            pos_weight: 500.0,
            reputation: Some(&reputation),
            reputation_exp: 0.5,
            alpha: 0.1,
            note_norm_exp: -0.5,
            rater_norm_exp: 0.0,
        };
        let w = rating_weights(&data, &spec);
        let r0 = 0.1 / 1.1;
        let r1 = (0.1 + 0.5) / 1.1;
        let raw = [500.0 * r0, r1, r0, 500.0 * r1];
        let tiny = 2f64.powi(-20);
        let n0 = (raw[0] + raw[1] + tiny).powf(-0.5);
        let n1 = (raw[2] + raw[3] + tiny).powf(-0.5);
        let want = [raw[0] * n0, raw[1] * n0, raw[2] * n1, raw[3] * n1];
        for k in 0..4 {
            assert!(
                (w[k] - want[k]).abs() < 1e-12 * want[k],
                "{k}: {w:?} {want:?}"
            );
        }
        // Rater normalization runs last, on the note-normalized weights.
        let spec = WeightSpec {
            rater_norm_exp: -1.0,
            ..spec
        };
        let w = rating_weights(&data, &spec);
        let u0 = want[0] + want[2] + tiny;
        assert!((w[0] - want[0] / u0).abs() < 1e-12);
    }

    #[test]
    fn normal_draws_look_normal_and_repeat() {
        let draws: Vec<f64> = (0..20_000).map(|k| standard_normal(5, 1, k)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
        assert_eq!(standard_normal(5, 1, 7), draws[7]);
        assert_ne!(standard_normal(6, 1, 7), draws[7]);
        assert_ne!(standard_normal(5, 2, 7), draws[7]);
    }

    /// Rebuilds a round's data from the view, with that round's weights.
    fn round_data(
        c: &Columns,
        fit: &DiligencePrescoring,
        params: &DiligenceParams,
        round: usize,
        reputation: &[f64],
    ) -> LogitData {
        let (mut data, notes, raters) = build_data(c.view(), None);
        assert_eq!(notes.ids, fit.notes);
        assert_eq!(raters.ids, fit.raters);
        data.set_weights(&rating_weights(
            &data,
            &params.weights(round, Some(reputation)),
        ));
        data
    }

    fn biggest(v: &[f64]) -> f64 {
        v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
    }

    #[test]
    fn a_view_in_another_order_fits_like_its_ratings_gathered() {
        let c = community(40, 30, 0.4, 5);
        // Every third rating dropped, the rest read back to front.
        let order: Vec<u32> = (0..c.note.len() as u32)
            .rev()
            .filter(|k| k % 3 != 0)
            .collect();
        let gathered = c.gathered(&order);
        let through_view = RatingView {
            order: Some(&order),
            ..c.view()
        };
        let params = DiligenceParams::default();
        let a = fit_diligence_prescoring(through_view, None, &rater_factors(30), &params).unwrap();
        let b =
            fit_diligence_prescoring(gathered.view(), None, &rater_factors(30), &params).unwrap();
        assert!(a.is_some());
        assert_eq!(a, b);
    }

    #[test]
    fn prescoring_rounds_end_at_stationary_points() {
        let c = community(60, 50, 0.35, 11);
        // The default stops when no parameter moves by more than 1e-8 in a pass, which
        // leaves gradients of about that size; a tighter stop shows the rounds end at the
        // stationary points themselves.
        let params = DiligenceParams {
            tolerance: 1e-10,
            ..DiligenceParams::default()
        };
        let fit = fit_diligence_prescoring(c.view(), None, &rater_factors(50), &params)
            .unwrap()
            .unwrap();
        assert_eq!(fit.notes, (0..60).map(|n| 3 * n + 1).collect::<Vec<_>>());
        assert_eq!(fit.raters, (0..50).map(|u| 2 * u).collect::<Vec<_>>());
        let reports = fit.reports.unwrap();
        assert!(reports.iter().all(|r| r.converged), "{reports:?}");

        // Round 3: i_n, i_u and μ are stationary under the round-3 loss.
        let data = round_data(&c, &fit, &params, 3, &fit.rater_reputation);
        let third: ValidLogitParams = params.logit_params(true, None).validate().unwrap();
        let f3 = LogitFactors {
            global_intercept: fit.global_intercept.final_round,
            note_intercept: fit.note_intercept.clone(),
            note_factor: fit.note_factor.clone(),
            rater_intercept: fit.rater_intercept.clone(),
            rater_factor: fit.rater_factor.clone(),
            rater_reputation: fit.rater_reputation.clone(),
        };
        let g = logit_gradient(&data, &third, &f3);
        assert!(
            biggest(&g.note_intercept) < 1e-9,
            "{}",
            biggest(&g.note_intercept)
        );
        assert!(biggest(&g.rater_intercept) < 1e-9);
        assert!(g.global_intercept.abs() < 1e-9);

        // Round 2: everything but i_n is stationary at the round-2 values (round 3 leaves
        // factors and reputations alone).
        let data = round_data(&c, &fit, &params, 2, &fit.rater_reputation);
        let early: ValidLogitParams = params.logit_params(false, None).validate().unwrap();
        let f2 = LogitFactors {
            global_intercept: fit.global_intercept.second_round,
            note_intercept: fit.note_intercept_round2.clone(),
            rater_intercept: fit.rater_intercept_round2.clone(),
            ..f3
        };
        let g = logit_gradient(&data, &early, &f2);
        assert!(
            biggest(&g.note_factor) < 1e-9,
            "{}",
            biggest(&g.note_factor)
        );
        assert!(biggest(&g.rater_factor) < 1e-9);
        assert!(biggest(&g.rater_reputation) < 1e-9);
        assert!(biggest(&g.rater_intercept) < 1e-9);
        assert!(g.global_intercept.abs() < 1e-9);
        // Reputations moved away from their start.
        assert!(fit.rater_reputation.iter().any(|r| (r - 1.0).abs() > 0.01));
    }

    /// Final scoring on prescoring's own data, in the mean form, solved exactly, reproduces
    /// prescoring: fit A's f_n is stationary at the round-2 point and fit B's i_n at the
    /// round-3 point.
    #[test]
    fn final_scoring_on_the_same_data_reproduces_prescoring() {
        let c = community(40, 40, 0.4, 5);
        // Prescoring converged tightly, so that what the exact final fits find is its values.
        let params = DiligenceParams {
            final_adam: None,
            tolerance: 1e-10,
            ..DiligenceParams::default()
        };
        let pre = fit_diligence_prescoring(c.view(), None, &rater_factors(40), &params)
            .unwrap()
            .unwrap();
        let fin = fit_diligence_final(c.view(), None, &pre, None, &params)
            .unwrap()
            .unwrap();
        assert_eq!(fin.notes, pre.notes);
        assert_eq!(fin.reports.map(|r| r.passes), [1, 1]);
        for k in 0..pre.notes.len() {
            assert!((fin.note_factor[k] - pre.note_factor[k]).abs() < 1e-7);
            assert!((fin.note_intercept[k] - pre.note_intercept[k]).abs() < 1e-7);
        }
        assert_eq!(fin.rater_factor, pre.rater_factor);
        assert_eq!(fin.rater_intercept, pre.rater_intercept);
        assert_eq!(fin.rater_reputation, pre.rater_reputation);
    }

    #[test]
    fn final_scoring_fills_missing_rows_and_honours_ratios() {
        let c = community(40, 40, 0.4, 9);
        let params = DiligenceParams {
            final_adam: None,
            ..DiligenceParams::default()
        };
        // Prescoring without rater 0 (caller index 0) and without the first note.
        let include: Vec<bool> = (0..c.note.len())
            .map(|i| c.rater[i] != 0 && c.note[i] != 1)
            .collect();
        let pre = fit_diligence_prescoring(c.view(), Some(&include), &rater_factors(40), &params)
            .unwrap()
            .unwrap();
        assert!(!pre.raters.contains(&0));
        let ratios = LossRatios {
            note: 12.0,
            rater: 15.0,
        };
        let fin = fit_diligence_final(c.view(), None, &pre, Some(ratios), &params)
            .unwrap()
            .unwrap();
        assert_eq!(fin.raters[0], 0);
        assert_eq!(fin.rater_reputation[0], 0.0);
        assert_eq!(fin.rater_factor[0], 0.0);
        assert_eq!(fin.rater_intercept[0], 0.0);
        // Fit B is stationary for its note intercepts under the ratio-form penalty.
        let (mut data, _, _) = build_data(c.view(), None);
        data.set_weights(&rating_weights(
            &data,
            &params.weights(3, Some(&fin.rater_reputation)),
        ));
        let third = params.logit_params(true, Some(ratios)).validate().unwrap();
        let f = LogitFactors {
            global_intercept: pre.global_intercept.final_round,
            note_intercept: fin.note_intercept.clone(),
            note_factor: fin.note_factor.clone(),
            rater_intercept: fin.rater_intercept.clone(),
            rater_factor: fin.rater_factor.clone(),
            rater_reputation: fin.rater_reputation.clone(),
        };
        let g = logit_gradient(&data, &third, &f);
        assert!(biggest(&g.note_intercept) < 1e-9);
        // And the ratio changes the answer.
        let mean_form = fit_diligence_final(c.view(), None, &pre, None, &params)
            .unwrap()
            .unwrap();
        assert!(
            mean_form
                .note_intercept
                .iter()
                .zip(&fin.note_intercept)
                .any(|(a, b)| (a - b).abs() > 1e-3)
        );
    }

    /// The replayed final fits stop where the reference's loop does (a check every fifth
    /// epoch, at most 301 steps), near the exact optimum and never below its loss, and
    /// move only the block each fit trains.
    #[test]
    fn replayed_final_fits_stop_near_the_exact_optimum() {
        let c = community(60, 50, 0.35, 13);
        let exact = DiligenceParams {
            final_adam: None,
            ..DiligenceParams::default()
        };
        let pre = fit_diligence_prescoring(c.view(), None, &rater_factors(50), &exact)
            .unwrap()
            .unwrap();
        let ratios = Some(LossRatios {
            note: 12.0,
            rater: 15.0,
        });
        let want = fit_diligence_final(c.view(), None, &pre, ratios, &exact)
            .unwrap()
            .unwrap();
        let replay = DiligenceParams::default();
        assert_eq!(replay.final_adam, Some(AdamSettings::reputation()));
        let got = fit_diligence_final(c.view(), None, &pre, ratios, &replay)
            .unwrap()
            .unwrap();
        for r in &got.reports {
            assert!(r.passes.is_multiple_of(5) || r.passes == 301, "{r:?}");
            assert!(r.passes > 5, "{r:?}");
        }
        // Adam ends within its tolerance of the optimum, and not below it.
        let b = &got.reports[1];
        assert!(b.loss.total >= want.reports[1].loss.total - 1e-9, "{b:?}");
        assert!(b.loss.total - want.reports[1].loss.total < 1e-3, "{b:?}");
        let diffs: Vec<f64> = got
            .note_intercept
            .iter()
            .zip(&want.note_intercept)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let largest = biggest(&diffs);
        let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
        assert!(
            mean < 0.15 && largest < 0.5,
            "mean {mean}, largest {largest}"
        );
        assert!(largest > 0.0, "the replay is not the exact solver");
        // Raters are never trained in final scoring (the replay holds them in single
        // precision, as torch does).
        for (a, b) in [
            (&got.rater_factor, &want.rater_factor),
            (&got.rater_intercept, &want.rater_intercept),
        ] {
            assert!(a.iter().zip(b).all(|(a, b)| *a == *b as f32 as f64));
        }
    }

    #[test]
    fn identical_on_one_and_two_threads() {
        let c = community(300, 120, 0.15, 21);
        let params = DiligenceParams::default();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let pre =
                        fit_diligence_prescoring(c.view(), None, &rater_factors(120), &params)
                            .unwrap()
                            .unwrap();
                    let ratios = Some(LossRatios {
                        note: 10.0,
                        rater: 20.0,
                    });
                    let fin = fit_diligence_final(c.view(), None, &pre, ratios, &params)
                        .unwrap()
                        .unwrap();
                    (pre, fin)
                })
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn nothing_included_means_no_model() {
        let c = community(5, 5, 0.5, 1);
        let none = vec![false; c.note.len()];
        let params = DiligenceParams::default();
        assert_eq!(
            fit_diligence_prescoring(c.view(), Some(&none), &[], &params).unwrap(),
            None
        );
    }
}
