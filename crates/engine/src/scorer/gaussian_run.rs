//! One Gaussian scorer's final scoring (`GaussianScorer.score_final` in the reference): note
//! intercepts from the kernel aggregation ([`crate::gaussian`]) over the final-round ratings
//! of its raters and of three subsets (no high-volume raters, no correlated raters,
//! population-sampled ratings), note factors from a frozen-rater refit, then the same
//! low-diligence fit and rule chain as every scorer.

use crate::community::CommunityView;
use crate::gaussian::{GaussianRatings, gaussian_scores_with};
use crate::topic::Topic;

use super::catalog::ScorerConfig;
use super::final_fits::{FinalFitOptions, FinalFits, NoteFit, fit_ratings, main_fit};
use super::prescore::{PrescoreError, Prescored};
use super::run::{ScorerRun, finish};
use super::select;

/// Runs a Gaussian scorer on `final_view` with `prescored`, the prescoring of the scorer its
/// configuration names. `None` when it has no rating to score.
///
/// # Panics
/// If `config` is not a Gaussian scorer.
pub fn run_gaussian(
    final_view: &CommunityView,
    config: &ScorerConfig,
    prescored: &Prescored,
    topics: &[Option<Topic>],
) -> Result<Option<ScorerRun>, PrescoreError> {
    let settings = config
        .gaussian
        .as_ref()
        .expect("a Gaussian scorer's configuration");
    let notes = final_view.notes.len();
    let participants = final_view.participants.len();
    let selection = select(final_view, &config.spec, topics);
    if selection.ratings.is_empty() {
        return Ok(None);
    }
    let pre = &prescored.tables;
    let r = &final_view.ratings;
    let authors: Vec<u32> = final_view.notes.iter().map(|n| n.author).collect();
    let use_reputation = config.prescore.use_reputation;

    // Intercepts of one subset of the scorer's ratings (`None` for notes it leaves out).
    let intercepts = |subset: &[u32]| -> (Vec<u32>, Vec<Option<f64>>, Vec<Option<f64>>) {
        let used = fit_ratings(final_view, subset, pre, use_reputation);
        let note: Vec<u32> = used.iter().map(|&k| r.note(k as usize)).collect();
        let rater: Vec<u32> = used.iter().map(|&k| r.rater(k as usize)).collect();
        let helpful_num: Vec<f32> = used.iter().map(|&k| r.helpful_num(k as usize)).collect();
        let scores = gaussian_scores_with(
            &settings.crh,
            &settings.crnh,
            GaussianRatings {
                note: &note,
                rater: &rater,
                helpful_num: &helpful_num,
            },
            notes,
            &pre.rater_factor,
            &authors,
        );
        let intercept = scores.iter().map(|s| s.map(|s| s.intercept)).collect();
        let factor = scores.iter().map(|s| s.map(|s| s.factor)).collect();
        (used, intercept, factor)
    };
    let subset = |keep: &dyn Fn(usize) -> bool| -> Vec<u32> {
        selection
            .ratings
            .iter()
            .copied()
            .filter(|&k| keep(k as usize))
            .collect()
    };
    let no_high_volume = intercepts(&subset(&|k| !r.high_volume(k))).1;
    let no_correlated = intercepts(&subset(&|k| !r.correlated(k))).1;
    let sampled = subset(&|k| r.population_sampled(k));
    let population_sampled = (!sampled.is_empty()).then(|| intercepts(&sampled).1);
    let (used, intercept, gaussian_factor) = intercepts(&selection.ratings);
    if used.is_empty() {
        return Ok(None);
    }

    // Note factors from a refit with the prescoring raters frozen (default hyperparameters);
    // the kernel's own factor where the refit has none.
    let refit = main_fit(
        final_view,
        &selection.ratings,
        pre,
        &FinalFitOptions {
            mf: config.prescore.mf,
            use_reputation,
            pseudo_raters: false,
        },
    )?;
    let factor = (0..notes)
        .map(|n| {
            intercept[n].and(
                refit.factor[n]
                    .or(gaussian_factor[n])
                    .map(|f| f as f32 as f64),
            )
        })
        .collect();
    // The rule chain reads every prescoring rater with a factor, not only final-round ones.
    let raters = (0..participants)
        .map(|u| pre.rater_factor[u].is_some())
        .collect();
    let fits = FinalFits {
        main: NoteFit {
            intercept,
            factor,
            ratings: used,
            raters,
        },
        bounds: None,
        no_high_volume,
        no_correlated,
        population_sampled,
    };
    finish(final_view, config, prescored.clone(), selection, fits).map(Some)
}
