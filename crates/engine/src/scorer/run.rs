//! One matrix-factorization scorer from start to finish: prescoring on the prescoring view
//! of the community, then the final fits, the low-diligence refit and the rule chain on the
//! final view (`prescore` + `score_final` in the reference).

use crate::community::CommunityView;
use crate::diligence::{LossRatios, as_the_model_sees_it, fit_diligence_final};
use crate::rating_view::RatingView;
use crate::tags::TagThresholds;
use crate::topic::Topic;

use super::catalog::ScorerConfig;
use super::final_fits::{FinalFitOptions, FinalFits, final_fits};
use super::prescore::{PrescoreError, Prescored, prescore};
use super::scored_notes::{RuleInputs, ScoredNotes, score_notes};
use super::{Selection, select};

/// How many passes over its ratings one fit of a scorer took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FitPasses {
    /// Which fit: `first round`, `final round`, `low diligence 1` (to 3).
    pub fit: &'static str,
    pub passes: usize,
}

/// What one scorer produced, dense over the community's notes, participants and ratings.
/// [`FinishedScorer`](super::finished::FinishedScorer) keeps the part later stages read.
pub struct ScorerRun {
    pub config: ScorerConfig,
    pub prescored: Prescored,
    /// The scorer's ratings and notes in the final view.
    pub selection: Selection,
    pub fits: FinalFits,
    pub scored: ScoredNotes,
    /// Final low-diligence note intercept per note.
    pub low_diligence: Vec<Option<f64>>,
    /// Per note: whether the scorer outputs the note (in scope and above the capture
    /// threshold).
    pub output: Vec<bool>,
    /// Per note: `…NumFinalRoundRatings`, the scorer's ratings on the note by raters of its
    /// user table (missing when there are none).
    pub final_round_ratings: Vec<Option<f64>>,
    /// Per participant: whether the scorer has a `helpfulness_scores` row for them (raters of
    /// the final fit and rows of its prescoring rater table; group models keep only raters
    /// enrolled in their groups).
    pub user_rows: Vec<bool>,
    /// Topic models: per note, `topicNoteConfident`.
    pub topic_confident: Vec<Option<bool>>,
}

impl ScorerRun {
    /// The passes of the prescoring fits: the first round, the final round (a separate fit
    /// only where the scorer filters raters by helpfulness) and the low-diligence rounds.
    pub fn fit_passes(&self) -> Vec<FitPasses> {
        let p = &self.prescored;
        let mut fits = vec![FitPasses {
            fit: "first round",
            passes: p.first_round.report.passes,
        }];
        if self.config.prescore.use_reputation {
            fits.push(FitPasses {
                fit: "final round",
                passes: p.final_round.report.passes,
            });
        }
        let rounds = ["low diligence 1", "low diligence 2", "low diligence 3"];
        if let Some(reports) = p.diligence.as_ref().and_then(|d| d.reports) {
            fits.extend(rounds.iter().zip(reports).map(|(&fit, r)| FitPasses {
                fit,
                passes: r.passes,
            }));
        }
        fits
    }
}

/// Runs `config` on a community. `prescoring_view` and `final_view` are the community with
/// the prescoring and final post-selection-similarity filters applied; `topics` gives each
/// note's topic. `None` when the scorer has nothing to score (no rating survives its
/// filters), as the reference returns empty outputs.
pub fn run_scorer(
    prescoring_view: &CommunityView,
    final_view: &CommunityView,
    config: &ScorerConfig,
    topics: &[Option<Topic>],
    pseudo_raters: bool,
) -> Result<Option<ScorerRun>, PrescoreError> {
    let pre_selection = select(prescoring_view, &config.spec, topics);
    if pre_selection.ratings.is_empty() {
        return Ok(None);
    }
    let Some(prescored) = prescore(prescoring_view, &pre_selection, &config.prescore)? else {
        return Ok(None);
    };
    let selection = select(final_view, &config.spec, topics);
    if selection.ratings.is_empty() {
        return Ok(None);
    }
    let fit_options = FinalFitOptions {
        mf: config.prescore.mf,
        use_reputation: config.prescore.use_reputation,
        pseudo_raters: pseudo_raters && config.pseudo_raters,
    };
    let fits = final_fits(
        final_view,
        &selection.ratings,
        &prescored.tables,
        &fit_options,
    )?;
    finish(final_view, config, prescored, selection, fits).map(Some)
}

/// What every scorer does once its final fits are done: the final low-diligence fit, the
/// rule chain, and the per-note and per-rater bookkeeping of its outputs.
pub(super) fn finish(
    final_view: &CommunityView,
    config: &ScorerConfig,
    prescored: Prescored,
    selection: Selection,
    fits: FinalFits,
) -> Result<ScorerRun, PrescoreError> {
    let notes = final_view.notes.len();
    let participants = final_view.participants.len();
    let tables = &prescored.tables;
    let thresholds = tables
        .meta
        .tag_filter_thresholds
        .as_ref()
        .map(|t| TagThresholds {
            adjusted_ratio: std::array::from_fn(|k| t.get(k).copied().filter(|v| !v.is_nan())),
        });

    // Final low-diligence intercepts, started from the low-diligence model's prescoring as
    // the reference's initializer sees it (notes whose id does not survive float64 start
    // at 0).
    let mut low_diligence = vec![None; notes];
    if let Some(pre_diligence) = &prescored.diligence {
        // The main fit's ratings in view order, as the model reads them.
        let mut used = fits.main.ratings.clone();
        used.sort_unstable();
        let used = final_view.ratings.select(&used);
        let ratios = LossRatios {
            note: tables.meta.ratings_per_note(),
            rater: tables.meta.ratings_per_user(),
        };
        let fitted = fit_diligence_final(
            RatingView::from(&used),
            None,
            &as_the_model_sees_it(final_view, pre_diligence),
            Some(ratios),
            &config.prescore.diligence,
        )?;
        if let Some(d) = fitted {
            for (k, &n) in d.notes.iter().enumerate() {
                low_diligence[n as usize] = Some(d.note_intercept[k]);
            }
        }
    }
    let inputs = RuleInputs {
        low_diligence_intercept: &low_diligence,
        tag_thresholds: thresholds.as_ref(),
    };
    let scored = score_notes(
        final_view,
        &selection,
        tables,
        &fits,
        &config.prescore.rules,
        &config.incorrect,
        inputs,
    );
    let output: Vec<bool> = (0..notes)
        .map(|n| selection.notes[n] && selection.captured[n])
        .collect();

    // The user table: final-fit raters and the prescoring rater rows.
    let user_rows: Vec<bool> = (0..participants)
        .map(|u| {
            (fits.main.raters[u] || tables.has_rater_row(u)) && config.keeps_user(final_view, u)
        })
        .collect();
    let r = &final_view.ratings;
    let mut counts = vec![0u32; notes];
    for &k in &selection.ratings {
        if user_rows[r.rater(k as usize) as usize] {
            counts[r.note(k as usize) as usize] += 1;
        }
    }
    let final_round_ratings = (0..notes)
        .map(|n| (output[n] && counts[n] > 0).then_some(counts[n] as f64))
        .collect();

    // Topic confidence: enough ratings (over all ratings) from each side of the rater factor.
    let topic_confident = match config.topic_confidence_ratings {
        None => vec![None; notes],
        Some(min) => {
            let (mut positive, mut negative) = (vec![0u32; notes], vec![0u32; notes]);
            for k in 0..r.len() {
                let u = r.rater(k) as usize;
                if !fits.main.raters[u] {
                    continue;
                }
                match tables.rater_factor[u] {
                    Some(f) if f >= 0.0 => positive[r.note(k) as usize] += 1,
                    Some(_) => negative[r.note(k) as usize] += 1,
                    None => {}
                }
            }
            (0..notes)
                .map(|n| {
                    output[n].then(|| {
                        fits.main.intercept[n].is_some() && positive[n] > min && negative[n] > min
                    })
                })
                .collect()
        }
    };

    Ok(ScorerRun {
        config: config.clone(),
        prescored,
        selection,
        fits,
        scored,
        low_diligence,
        output,
        final_round_ratings,
        user_rows,
        topic_confident,
    })
}
