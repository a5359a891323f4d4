//! Final-round statuses of one scorer: the facts the rule chain needs, gathered from the
//! final fits, the scorer's ratings and its prescoring, then the chain itself
//! (`compute_scored_notes(finalRound=True)` in the reference).

use crate::community::CommunityView;
use crate::prescoring::ScorerPrescoring;
use crate::rules::{NoteFacts, Rule, RuleOutcome, RuleParams, apply_rules, sign_counts};
use crate::tags::{
    IncorrectFilterParams, NoteIncorrectAggregate, NoteTagAggregate, RaterIncorrectCounts,
    TagAggregateParams, TagFilterParams, TagSet, TagThresholds, TaggedRatings, filter_incorrect,
    incorrect_aggregates, note_tag_aggregates, tag_filter,
};

use super::Selection;
use super::final_fits::FinalFits;

/// Per note of the scorer's scope: the facts, the tag and incorrect aggregates, and the
/// outcome of the rule chain (`None` outside the scorer's scope).
#[derive(Clone, Debug, Default)]
pub struct ScoredNotes {
    pub facts: Vec<NoteFacts>,
    pub outcome: Vec<Option<RuleOutcome>>,
    pub tag_aggregates: Vec<Option<NoteTagAggregate>>,
    /// The tags the tag-outlier rule acted on (`activeFilterTags`); empty where the rule did
    /// not act (outside the scope, or the note was already Not Helpful when it ran).
    pub active_filter_tags: Vec<TagSet>,
    pub incorrect: Vec<Option<NoteIncorrectAggregate>>,
    /// Scorer ratings per note (`numRatings`), before any filter.
    pub num_ratings: Vec<u32>,
    /// Population-sampled ratings per note by raters of the main fit with a negative and a
    /// non-negative factor (`negFactor_/posFactor_populationSampledRatingCount`).
    pub population_sampled_signs: Vec<[u32; 2]>,
}

/// Inputs of the rule chain that come from models run elsewhere.
#[derive(Clone, Copy, Debug)]
pub struct RuleInputs<'a> {
    /// Final low-diligence note intercept per note.
    pub low_diligence_intercept: &'a [Option<f64>],
    /// Tag-filter thresholds from prescoring; `None`: the tag filter never fires.
    pub tag_thresholds: Option<&'a TagThresholds>,
}

/// Scores every note in the scorer's scope.
pub fn score_notes(
    community: &CommunityView,
    selection: &Selection,
    pre: &ScorerPrescoring,
    fits: &FinalFits,
    params: &RuleParams,
    incorrect_params: &IncorrectFilterParams,
    inputs: RuleInputs<'_>,
) -> ScoredNotes {
    let notes = community.notes.len();
    let r = &community.ratings;
    let mut num_ratings = vec![0u32; notes];
    for &k in &selection.ratings {
        num_ratings[r.note(k as usize) as usize] += 1;
    }
    // Rater factors of the main fit's raters (frozen at their prescoring values).
    let rater_factor: Vec<Option<f64>> = (0..community.participants.len())
        .map(|u| {
            if fits.main.raters[u] {
                pre.rater_factor[u]
            } else {
                None
            }
        })
        .collect();
    let (sn, sv, sf): (Vec<u32>, Vec<f32>, Vec<f64>) = selection
        .ratings
        .iter()
        .filter_map(|&k| {
            let k = k as usize;
            rater_factor[r.rater(k) as usize].map(|f| (r.note(k), r.helpful_num(k), f))
        })
        .fold(
            (vec![], vec![], vec![]),
            |(mut a, mut b, mut c), (n, v, f)| {
                a.push(n);
                b.push(v);
                c.push(f);
                (a, b, c)
            },
        );
    let signs = sign_counts(notes, &sn, &sv, &sf);
    let mut population_sampled_signs = vec![[0u32; 2]; notes];
    for &k in &selection.ratings {
        let k = k as usize;
        if r.population_sampled(k)
            && let Some(f) = rater_factor[r.rater(k) as usize]
        {
            population_sampled_signs[r.note(k) as usize][usize::from(f >= 0.0)] += 1;
        }
    }
    let base = r.base();
    let in_scorer = r.base_indices(&selection.ratings);
    let tagged = TaggedRatings::new(&base.note, &base.rater, &base.tags).at(&in_scorer);
    let tag_aggregates = note_tag_aggregates(
        tagged,
        &fits.main.factor,
        &rater_factor,
        &TagAggregateParams::default(),
    );
    let counts: Vec<Option<RaterIncorrectCounts>> = pre
        .incorrect_tag_ratings_made_by_rater
        .iter()
        .zip(&pre.total_ratings_made_by_rater)
        .map(|(i, t)| match (i, t) {
            (Some(i), Some(t)) => Some(RaterIncorrectCounts {
                incorrect_tag_ratings: *i as u32,
                total_ratings: *t as u32,
            }),
            _ => None,
        })
        .collect();
    let incorrect = incorrect_aggregates(
        tagged,
        &fits.main.factor,
        &rater_factor,
        &counts,
        incorrect_params,
    );
    let mut out = ScoredNotes {
        facts: Vec::with_capacity(notes),
        outcome: Vec::with_capacity(notes),
        active_filter_tags: Vec::with_capacity(notes),
        num_ratings,
        population_sampled_signs,
        ..ScoredNotes::default()
    };
    for n in 0..notes {
        let fired = match inputs.tag_thresholds {
            Some(t) => tag_filter(tag_aggregates[n].as_ref(), t, &TagFilterParams::default()),
            None => TagSet::default(),
        };
        let note = &community.notes[n];
        let facts = NoteFacts {
            num_ratings: out.num_ratings[n],
            classification: note.classification,
            current_status: note.history.current_status,
            intercept: fits.main.intercept[n],
            factor: fits.main.factor[n],
            intercept_max: fits.bounds.as_ref().and_then(|b| b.intercept_max[n]),
            signs: signs[n],
            low_diligence_intercept: inputs.low_diligence_intercept[n],
            tag_filter: !fired.is_empty(),
            incorrect_filter: filter_incorrect(incorrect[n].as_ref(), incorrect_params),
            intercept_no_high_volume: fits.no_high_volume[n],
            intercept_no_correlated: fits.no_correlated[n],
        };
        let outcome = selection.notes[n].then(|| apply_rules(&facts, params, true));
        let acted = outcome
            .as_ref()
            .is_some_and(|o| o.active_rules.contains(&Rule::TagFilter));
        out.active_filter_tags
            .push(if acted { fired } else { TagSet::default() });
        out.outcome.push(outcome);
        out.facts.push(facts);
    }
    out.tag_aggregates = tag_aggregates;
    out.incorrect = incorrect;
    out
}
