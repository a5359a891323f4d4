//! Prescoring of a matrix-factorization scorer (`_prescore_notes_and_users`): the
//! first-round fit, provisional statuses, rater helpfulness (with the harassment penalty),
//! the final-round fit on helpful raters, and the values final scoring starts from.

use crate::NoteStatus;
use crate::adam::AdamSettings;
use crate::community::{CommunityView, ViewRatings};
use crate::diligence::{DiligenceParams, DiligencePrescoring, fit_diligence_prescoring};
use crate::first_round::{
    MIN_RATINGS_PER_NOTE, MIN_RATINGS_PER_RATER, deterministic_init, filter_by_counts_with,
};
use crate::harassment::{TagModelParams, TagOutcome, fit_harassment_model};
use crate::helpfulness::{
    HarassmentPenaltyParams, HelpfulnessParams, HelpfulnessScore, NoteTimes, author_helpfulness,
    harassment_penalties, helpfulness_scores, valid_rating_counts, valid_ratings,
};
use crate::logit::LogitParamsError;
use crate::mf::{
    Factors, FitReport, Frozen, MfParams, MfParamsError, RatingMatrix, ValidMfParams, fit,
    fit_adam, loss, normalized_matrix, spectral_init,
};
use crate::prescoring::{PrescoringMeta, ScorerPrescoring};
use crate::rating_view::RatingView;
use crate::rules::{NoteFacts, RuleParams, apply_rules};
use crate::tags::{
    TagAggregateParams, TagFilterParams, TaggedRatings, note_tag_aggregates,
    rater_incorrect_counts, tag_thresholds,
};

use super::Selection;

/// Settings of a scorer's prescoring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrescoreOptions {
    pub mf: MfParams,
    pub rules: RuleParams,
    pub helpfulness: HelpfulnessParams,
    pub penalty: HarassmentPenaltyParams,
    pub tag_filter: TagFilterParams,
    pub harassment: TagModelParams,
    pub diligence: DiligenceParams,
    /// Filter raters by helpfulness before the final round (`useReputation`). Topic scorers
    /// do not: their final round is their first round, without the harassment model.
    pub use_reputation: bool,
    /// Start the first round from a fit on this modeling group's notes (13 for the core and
    /// expansion scorers; `None`: a spectral start).
    pub stable_init_group: Option<u32>,
    /// Fits that start from an earlier fit (the first round after the stable
    /// initialization, the final round after the first) replay the reference's Adam loop
    /// with these settings ([`fit_adam`]; learning rate 0.2, the reference's
    /// `initLearningRate`); `None` solves them to the stationary point. Free fits (the
    /// stable initialization, first rounds without one) always go to the stationary point:
    /// the reference starts those from random draws.
    pub replay_adam: Option<AdamSettings>,
}

impl PrescoreOptions {
    /// The core model's settings.
    pub fn core() -> Self {
        PrescoreOptions {
            use_reputation: true,
            stable_init_group: Some(13),
            replay_adam: Some(AdamSettings::with_learning_rate(0.2)),
            mf: MfParams::default(),
            rules: RuleParams::core(),
            helpfulness: HelpfulnessParams::default(),
            penalty: HarassmentPenaltyParams::default(),
            tag_filter: TagFilterParams::default(),
            harassment: TagModelParams::default(),
            diligence: DiligenceParams::default(),
        }
    }
}

/// A fit over a subset of ratings, with its own dense rows.
#[derive(Clone, Debug)]
pub struct RowFit {
    /// Community note index of each note row.
    pub note_rows: Vec<u32>,
    /// Participant index of each rater row.
    pub rater_rows: Vec<u32>,
    pub factors: Factors,
    pub report: FitReport,
}

impl RowFit {
    /// Note intercepts and factors per community note (`None` outside the fit).
    pub fn note_params(&self, notes: usize) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
        let (mut i, mut f) = (vec![None; notes], vec![None; notes]);
        for (row, &n) in self.note_rows.iter().enumerate() {
            i[n as usize] = Some(self.factors.note_intercept[row]);
            f[n as usize] = Some(self.factors.note_factor[row]);
        }
        (i, f)
    }

    /// Rater intercepts and factors per participant (`None` outside the fit).
    pub fn rater_params(&self, participants: usize) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
        let (mut i, mut f) = (vec![None; participants], vec![None; participants]);
        for (row, &u) in self.rater_rows.iter().enumerate() {
            i[u as usize] = Some(self.factors.rater_intercept[row]);
            f[u as usize] = Some(self.factors.rater_factor[row]);
        }
        (i, f)
    }
}

/// Where a free fit starts.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// From the leading singular vector of the centred ratings ([`spectral_init`]).
    Spectral,
    /// From an earlier fit: its notes and raters take their fitted values, everyone else 0.
    From(&'a RowFit),
}

/// Fits the model, from a spectral start, to the ratings of `ratings` flagged in `keep`;
/// factors follow the reference's sign convention.
pub fn fit_free(
    ratings: &ViewRatings,
    keep: &[bool],
    params: &MfParams,
) -> Result<RowFit, MfParamsError> {
    fit_rows(ratings, keep, params, Start::Spectral, None)
}

fn fit_rows(
    ratings: &ViewRatings,
    keep: &[bool],
    params: &MfParams,
    start: Start<'_>,
    replay: Option<&AdamSettings>,
) -> Result<RowFit, MfParamsError> {
    let params = params.validate()?;
    let mut note_row = rustc_hash::FxHashMap::default();
    let mut rater_row = rustc_hash::FxHashMap::default();
    let (mut note_rows, mut rater_rows) = (Vec::new(), Vec::new());
    let (mut ns, mut us, mut vs) = (Vec::new(), Vec::new(), Vec::new());
    for k in (0..ratings.len()).filter(|&k| keep[k]) {
        let n = *note_row.entry(ratings.note(k)).or_insert_with(|| {
            note_rows.push(ratings.note(k));
            (note_rows.len() - 1) as u32
        });
        let u = *rater_row.entry(ratings.rater(k)).or_insert_with(|| {
            rater_rows.push(ratings.rater(k));
            (rater_rows.len() - 1) as u32
        });
        ns.push(n);
        us.push(u);
        vs.push(ratings.helpful_num(k));
    }
    let (notes, raters) = (note_rows.len(), rater_rows.len());
    // An earlier fit's values on this fit's rows (0 for rows it did not have).
    let from = |earlier: &RowFit| {
        let mut init = Factors::zeros(notes, raters);
        for (row, n) in earlier.note_rows.iter().enumerate() {
            if let Some(&i) = note_row.get(n) {
                init.note_intercept[i as usize] = earlier.factors.note_intercept[row];
                init.note_factor[i as usize] = earlier.factors.note_factor[row];
            }
        }
        for (row, u) in earlier.rater_rows.iter().enumerate() {
            if let Some(&i) = rater_row.get(u) {
                init.rater_intercept[i as usize] = earlier.factors.rater_intercept[row];
                init.rater_factor[i as usize] = earlier.factors.rater_factor[row];
            }
        }
        // The reference's final-round `run_mf` is given no global intercept, so its μ starts
        // at 0 there. Starting the replay so (2026-12-07) moved small-s2 away from the
        // reference, beyond its own rerun's spread (core rater intercept r 0.9998 → 0.9977,
        // coreRatingStatus 99.0 → 97.9 %; tiny-s1 98.6 → 99.0 %), where carrying μ over from
        // the first round lands where the reference's reruns do; kept.
        init.global_intercept = earlier.factors.global_intercept;
        init
    };
    if params.get().normalized_loss.is_some() {
        let start = match start {
            Start::From(earlier) => Some(from(earlier)),
            Start::Spectral => None,
        };
        let (factors, report) =
            fit_normalized((&ns, &us, &vs), (notes, raters), &params, start, replay);
        return Ok(RowFit {
            note_rows,
            rater_rows,
            factors,
            report,
        });
    }
    let matrix = RatingMatrix::new(notes, raters, &ns, &us, &vs);
    let init = match start {
        Start::Spectral => {
            let seed = deterministic_init(notes, raters).rater_factor;
            spectral_init(&matrix, &params, &seed)
        }
        Start::From(earlier) => from(earlier),
    };
    let (mut factors, report) = match (start, replay) {
        (Start::From(_), Some(settings)) => {
            let (f, replayed) = fit_adam(&matrix, &params, init, Frozen::default(), settings);
            let (loss, mse) = loss(&matrix, &params, &f);
            let report = FitReport {
                passes: replayed.epochs,
                loss,
                mse,
            };
            (f, report)
        }
        _ => fit(&matrix, &params, init, Frozen::default()),
    };
    factors.identify_sign();
    Ok(RowFit {
        note_rows,
        rater_rows,
        factors,
        report,
    })
}

/// The reference's normalized-loss fit (`run_mf` with `NormalizedLossHyperparameters`) of
/// the ratings `(note row, rater row, value)`: a first fit, per-rating weights from its
/// rater factors, then a second fit under those weights from fresh notes and μ and the
/// first fit's starting raters. `start` is an earlier fit's values on these rows; `None`
/// starts both fits from a random draw (the same one), as the reference starts from its own.
///
/// The loss of these models has a degenerate optimum (rater factors of one sign standing in
/// for the heavily penalized note intercepts) that the reference's slow Adam loop, stopped
/// a hundred-odd epochs in, does not reach; so both fits replay that loop (`replay`)
/// instead of solving to the optimum. Where it stops depends on the random draw.
fn fit_normalized(
    (note, rater, value): (&[u32], &[u32], &[f32]),
    (notes, raters): (usize, usize),
    params: &ValidMfParams,
    start: Option<Factors>,
    replay: Option<&AdamSettings>,
) -> (Factors, FitReport) {
    let h = params
        .get()
        .normalized_loss
        .expect("called for normalized-loss models");
    let run = |m: &RatingMatrix, start: Factors| match replay {
        Some(settings) => {
            let (f, replayed) = fit_adam(m, params, start, Frozen::default(), settings);
            let (loss, mse) = loss(m, params, &f);
            let report = FitReport {
                passes: replayed.epochs,
                loss,
                mse,
            };
            (f, report)
        }
        None => fit(m, params, start, Frozen::default()),
    };
    let random = deterministic_init(notes, raters);
    let first_start = start.clone().unwrap_or_else(|| random.clone());
    let matrix = RatingMatrix::new(notes, raters, note, rater, value);
    let (mut first, _) = run(&matrix, first_start);
    first.identify_sign();
    let weighted = normalized_matrix(
        (notes, raters),
        (note, rater, value),
        &first.rater_factor,
        &h,
    );
    let raters_start = start.unwrap_or_else(|| random.clone());
    let second_start = Factors {
        global_intercept: 0.0,
        note_intercept: vec![0.0; notes],
        note_factor: random.note_factor,
        rater_intercept: raters_start.rater_intercept,
        rater_factor: raters_start.rater_factor,
    };
    let (mut second, report) = run(&weighted, second_start);
    second.identify_sign();
    (second, report)
}

/// Ratings for the stable initialization (`get_ratings_for_stable_init`): among the
/// ratings flagged in `keep` by raters with an enrollment row, those by members of `group`
/// on notes with at least 5 such ratings of which at least 75 % come from `group`.
pub(crate) fn stable_init_ratings(
    community: &CommunityView,
    ratings: &ViewRatings,
    keep: &[bool],
    group: u32,
) -> Vec<bool> {
    const MIN_SHARE: f64 = 0.75;
    const MIN_RATINGS: u32 = 5;
    let membership: Vec<Option<bool>> = community
        .participants
        .iter()
        .map(|p| {
            p.enrollment
                .as_ref()
                .map(|e| e.modeling_group == Some(f64::from(group)))
        })
        .collect();
    let notes = community.notes.len();
    let (mut total, mut inside) = (vec![0u32; notes], vec![0u32; notes]);
    for k in (0..ratings.len()).filter(|&k| keep[k]) {
        if let Some(member) = membership[ratings.rater(k) as usize] {
            let n = ratings.note(k) as usize;
            total[n] += 1;
            inside[n] += member as u32;
        }
    }
    (0..ratings.len())
        .map(|k| {
            let n = ratings.note(k) as usize;
            keep[k]
                && membership[ratings.rater(k) as usize] == Some(true)
                && total[n] >= MIN_RATINGS
                && f64::from(inside[n]) / f64::from(total[n]) >= MIN_SHARE
        })
        .collect()
}

/// The first-round fit: with a stable-initialization group, a fit on that group's notes
/// first, whose parameters start the full fit (which anchors the factor axis to that
/// group's viewpoints, as the reference does); otherwise a spectral start.
fn first_round_fit(
    community: &CommunityView,
    ratings: &ViewRatings,
    keep: &[bool],
    options: &PrescoreOptions,
) -> Result<RowFit, MfParamsError> {
    if let Some(group) = options.stable_init_group {
        let subset = stable_init_ratings(community, ratings, keep, group);
        if subset.contains(&true) {
            let stable = fit_free(ratings, &subset, &options.mf)?;
            return fit_rows(
                ratings,
                keep,
                &options.mf,
                Start::From(&stable),
                options.replay_adam.as_ref(),
            );
        }
    }
    // Normalized-loss models replay the reference's loop even from a random start (see
    // `fit_normalized`).
    let replay = options.mf.normalized_loss.and(options.replay_adam.as_ref());
    fit_rows(ratings, keep, &options.mf, Start::Spectral, replay)
}

/// Everything prescoring produced for one scorer.
#[derive(Clone, Debug)]
pub struct Prescored {
    pub tables: ScorerPrescoring,
    /// Provisional (first-round) status per note in the scorer's scope.
    pub provisional: Vec<Option<NoteStatus>>,
    pub first_round: RowFit,
    pub final_round: RowFit,
    /// Rater helpfulness with the harassment penalty, per participant.
    pub helpfulness: Vec<Option<HelpfulnessScore>>,
    /// The low-diligence model's prescoring, which its final fits start from.
    pub diligence: Option<DiligencePrescoring>,
}

/// Why prescoring failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrescoreError {
    #[error(transparent)]
    MatrixFactorization(#[from] MfParamsError),
    #[error(transparent)]
    Logistic(#[from] LogitParamsError),
}

/// A per-note (or per-participant) value vector with NaN for missing, as model inits take.
fn or_nan(values: &[Option<f64>]) -> Vec<f64> {
    values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// Rater helpfulness and the final round it selects.
struct Helped {
    helpfulness: Vec<Option<HelpfulnessScore>>,
    /// Harassment-model (intercept, factor) per note.
    harassment_notes: Vec<Option<(f64, f64)>>,
    /// Ratings of the final round (first-round ratings of helpful raters).
    final_mask: Vec<bool>,
    final_round: RowFit,
}

/// Rater helpfulness without and with the harassment penalty, then the final-round fit on the
/// first-round ratings of helpful raters. `None` when no rating is valid for helpfulness.
fn helpful_final_round(
    community: &CommunityView,
    ratings: &ViewRatings,
    first_round_mask: &[bool],
    provisional: &[Option<NoteStatus>],
    first_round: &RowFit,
    options: &PrescoreOptions,
) -> Result<Option<Helped>, PrescoreError> {
    let notes = community.notes.len();
    let participants = community.participants.len();
    let (first_intercept, first_factor) = first_round.note_params(notes);
    let times = NoteTimes::from_input_history(community.notes);
    let valid = valid_ratings(ratings, &times, provisional);
    if valid.outcome.iter().all(Option::is_none) {
        return Ok(None);
    }
    let counts = valid_rating_counts(participants, ratings, &valid);
    let authors: Vec<u32> = community.notes.iter().map(|n| n.author).collect();
    let author_scores = author_helpfulness(
        participants,
        &authors,
        provisional,
        &first_intercept,
        &options.helpfulness,
    );
    // The harassment (tag-consensus) model, on first-round ratings of raters who pass the
    // helpfulness filter before any penalty, started from the first-round factors.
    let unpenalised = helpfulness_scores(&author_scores, &counts, None, &options.helpfulness);
    let passes = |u: usize| {
        unpenalised[u]
            .as_ref()
            .is_some_and(|h| h.above_helpfulness_threshold)
    };
    let harassment_mask: Vec<bool> = (0..ratings.len())
        .map(|k| first_round_mask[k] && passes(ratings.rater(k) as usize))
        .collect();
    let (_, first_rater_factor) = first_round.rater_params(participants);
    let harassment = fit_harassment_model(
        RatingView::from(ratings),
        Some(&harassment_mask),
        &or_nan(&first_factor),
        &or_nan(&first_rater_factor),
        &options.harassment,
    )?;
    let harassment_notes = match &harassment {
        TagOutcome::Fitted(model) => model.by_note(notes),
        TagOutcome::NoData | TagOutcome::DegeneratePositiveRate(_) => vec![None; notes],
    };
    let harassment_note_intercept: Vec<Option<f64>> =
        harassment_notes.iter().map(|p| p.map(|p| p.0)).collect();
    let penalties = harassment_penalties(
        participants,
        ratings,
        first_round_mask,
        &harassment_note_intercept,
        &options.penalty,
    );
    let helpfulness = helpfulness_scores(
        &author_scores,
        &counts,
        Some(&penalties),
        &options.helpfulness,
    );
    let helpful = |u: usize| {
        helpfulness[u]
            .as_ref()
            .is_some_and(|h| h.above_helpfulness_threshold)
    };
    let final_mask: Vec<bool> = (0..ratings.len())
        .map(|k| first_round_mask[k] && helpful(ratings.rater(k) as usize))
        .collect();
    if !final_mask.contains(&true) {
        return Ok(None);
    }
    // Started from the first round, as the reference starts it.
    let final_round = fit_rows(
        ratings,
        &final_mask,
        &options.mf,
        Start::From(first_round),
        options.replay_adam.as_ref(),
    )?;
    Ok(Some(Helped {
        helpfulness,
        harassment_notes,
        final_mask,
        final_round,
    }))
}

/// Prescores one scorer. `None` when no rating survives the first-round count filters or no
/// rating is valid for helpfulness (the reference's empty outputs / `EmptyRatingException`).
pub fn prescore(
    community: &CommunityView,
    selection: &Selection,
    options: &PrescoreOptions,
) -> Result<Option<Prescored>, PrescoreError> {
    let notes = community.notes.len();
    let participants = community.participants.len();
    let ratings = community.ratings.select(&selection.ratings);

    // First round: count filters, then a free fit.
    let mut first_round_mask = vec![true; ratings.len()];
    filter_by_counts_with(
        &mut first_round_mask,
        |k| ratings.note(k),
        |k| ratings.rater(k),
        MIN_RATINGS_PER_RATER,
        MIN_RATINGS_PER_NOTE,
    );
    if !first_round_mask.contains(&true) {
        return Ok(None);
    }
    let first_round = first_round_fit(community, &ratings, &first_round_mask, options)?;
    let (first_intercept, first_factor) = first_round.note_params(notes);

    // Provisional statuses of every note in scope.
    let mut num_ratings = vec![0u32; notes];
    (0..ratings.len()).for_each(|k| num_ratings[ratings.note(k) as usize] += 1);
    let provisional: Vec<Option<NoteStatus>> = (0..notes)
        .map(|n| {
            selection.notes[n].then(|| {
                let facts = NoteFacts {
                    num_ratings: num_ratings[n],
                    classification: community.notes[n].classification,
                    intercept: first_intercept[n],
                    factor: first_factor[n],
                    ..NoteFacts::default()
                };
                apply_rules(&facts, &options.rules, false).status
            })
        })
        .collect();

    let (first_rater_intercept, first_rater_factor) = first_round.rater_params(participants);
    let helped = if options.use_reputation {
        match helpful_final_round(
            community,
            &ratings,
            &first_round_mask,
            &provisional,
            &first_round,
            options,
        )? {
            Some(helped) => helped,
            None => return Ok(None),
        }
    } else {
        // Topic scorers: the first round is the final round; no helpfulness, no harassment.
        Helped {
            helpfulness: vec![None; participants],
            harassment_notes: vec![None; notes],
            final_mask: first_round_mask.clone(),
            final_round: first_round.clone(),
        }
    };
    let Helped {
        helpfulness,
        harassment_notes,
        final_mask,
        final_round,
    } = helped;
    let harassment_note_intercept: Vec<Option<f64>> =
        harassment_notes.iter().map(|p| p.map(|p| p.0)).collect();
    let (final_intercept, final_factor) = final_round.note_params(notes);
    let (rater_intercept, rater_factor) = final_round.rater_params(participants);

    // The low-diligence model on the final-round ratings.
    let diligence = fit_diligence_prescoring(
        RatingView::from(&ratings),
        Some(&final_mask),
        &or_nan(&rater_factor),
        &options.diligence,
    )?;

    // Tag-filter thresholds: final-round factors, over notes provisionally helpful.
    let tagged = TaggedRatings::from(&ratings);
    let aggregates = note_tag_aggregates(
        tagged,
        &final_factor,
        &rater_factor,
        &TagAggregateParams::default(),
    );
    let crh: Vec<u32> = (0..notes as u32)
        .filter(|&n| {
            provisional[n as usize] == Some(NoteStatus::CurrentlyRatedHelpful)
                && final_factor[n as usize].is_some()
        })
        .collect();
    let thresholds = tag_thresholds(&aggregates, &crh, &options.tag_filter);
    let incorrect = rater_incorrect_counts(tagged, participants);

    let meta = PrescoringMeta {
        global_intercept: final_round.factors.global_intercept,
        low_diligence_global_intercepts: diligence.as_ref().map(|d| {
            let g = &d.global_intercept;
            [g.first_round, g.second_round, g.final_round]
        }),
        tag_filter_thresholds: Some(
            thresholds
                .adjusted_ratio
                .iter()
                .map(|t| t.unwrap_or(f64::NAN))
                .collect(),
        ),
        final_round_num_ratings: final_mask.iter().filter(|k| **k).count(),
        final_round_num_notes: final_round.note_rows.len(),
        final_round_num_users: final_round.rater_rows.len(),
    };
    let mut tables = ScorerPrescoring::empty(notes, participants, meta);
    tables.note_intercept = final_intercept;
    tables.note_factor = final_factor;
    tables.harassment_note_intercept = harassment_note_intercept;
    tables.harassment_note_factor = harassment_notes.iter().map(|p| p.map(|p| p.1)).collect();
    if let Some(d) = &diligence {
        for (k, &n) in d.notes.iter().enumerate() {
            let n = n as usize;
            tables.low_diligence_note_intercept[n] = Some(d.note_intercept[k]);
            tables.low_diligence_note_factor[n] = Some(d.note_factor[k]);
            tables.low_diligence_note_intercept_round2[n] = Some(d.note_intercept_round2[k]);
        }
        for (k, &u) in d.raters.iter().enumerate() {
            let u = u as usize;
            tables.low_diligence_rater_intercept[u] = Some(d.rater_intercept[k]);
            tables.low_diligence_rater_factor[u] = Some(d.rater_factor[k]);
            tables.low_diligence_rater_reputation[u] = Some(d.rater_reputation[k]);
            tables.low_diligence_rater_intercept_round2[u] = Some(d.rater_intercept_round2[k]);
        }
    }
    tables.rater_intercept = rater_intercept;
    tables.rater_factor = rater_factor;
    tables.first_round_rater_intercept = first_rater_intercept;
    tables.first_round_rater_factor = first_rater_factor;
    for u in 0..participants {
        if let Some(h) = &helpfulness[u] {
            tables.crh_crnh_ratio_difference[u] = h.crh_crnh_ratio_difference;
            tables.mean_note_score[u] = h.mean_note_score;
            tables.rater_agree_ratio[u] = h.rater_agree_ratio;
            tables.above_helpfulness_threshold[u] = Some(h.above_helpfulness_threshold);
        }
        if let Some(c) = incorrect[u] {
            tables.incorrect_tag_ratings_made_by_rater[u] = Some(c.incorrect_tag_ratings as f64);
            tables.total_ratings_made_by_rater[u] = Some(c.total_ratings as f64);
        }
    }
    Ok(Some(Prescored {
        tables,
        provisional,
        first_round,
        final_round,
        helpfulness,
        diligence,
    }))
}
