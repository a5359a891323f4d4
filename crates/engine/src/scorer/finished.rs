//! What a scorer keeps once it has finished: its results on the notes it outputs, stored for
//! those notes only, and its prescoring (see [`FinishedScorer::shed_prescoring`]).
//!
//! Thirty-odd scorers wait for meta-scoring together, and most of them output a small part
//! of the notes (a modeling group's, a topic's). Their working tables are dense over every
//! note and every rating of the community; keeping those until meta-scoring cost about
//! 165 bytes per note per scorer and 8 bytes per rating the scorer read. Every later stage
//! reads a scorer's note values only where it outputs the note, so the dense tables are
//! dropped here and the note values kept as rows, one per output note.

use crate::NoteStatus;
use crate::mf::Factors;
use crate::rules::RuleOutcome;
use crate::tags::{NoteIncorrectAggregate, NoteTagAggregate, TagSet};
use crate::topic::Topic;

use super::catalog::{ScorerConfig, ScorerKind};
use super::prescore::{Prescored, RowFit};
use super::run::ScorerRun;

/// One scorer's results on one note it outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NoteResult {
    /// The final fit's note intercept and factor.
    pub intercept: Option<f64>,
    pub factor: Option<f64>,
    /// `…NumFinalRoundRatings`.
    pub final_round_ratings: Option<f64>,
    /// Intercepts refit without high-volume raters, without correlated raters, and on
    /// population-sampled ratings alone.
    pub no_high_volume: Option<f64>,
    pub no_correlated: Option<f64>,
    pub population_sampled: Option<f64>,
    /// Pseudo-rater bounds of the intercept.
    pub intercept_min: Option<f64>,
    pub intercept_max: Option<f64>,
    /// Final low-diligence note intercept.
    pub low_diligence: Option<f64>,
    /// The rule chain's status and active rules.
    pub outcome: Option<RuleOutcome>,
    /// The tags the tag-outlier rule acted on.
    pub active_filter_tags: TagSet,
    /// Population-sampled ratings by raters with a negative and a non-negative factor.
    pub population_sampled_signs: [u32; 2],
    /// Topic models: `topicNoteConfident`.
    pub topic_confident: Option<bool>,
}

impl NoteResult {
    /// The scorer's raw status for the note.
    pub fn status(&self) -> Option<NoteStatus> {
        self.outcome.as_ref().map(|o| o.status)
    }
}

/// A finished scorer: its configuration, its prescoring, and a [`NoteResult`] for each note
/// it outputs.
#[derive(Clone, Debug)]
pub struct FinishedScorer {
    pub config: ScorerConfig,
    pub prescored: Prescored,
    /// Community indices of the notes the scorer outputs, increasing.
    notes: Vec<u32>,
    /// One per entry of `notes`.
    results: Vec<NoteResult>,
    /// The tag and incorrect-tag aggregates, one per entry of `notes`; empty unless kept
    /// (only the core model's are written out).
    aggregates: Vec<(Option<NoteTagAggregate>, Option<NoteIncorrectAggregate>)>,
}

impl FinishedScorer {
    /// Keeps what later stages read of `run`; with `keep_aggregates`, also its tag and
    /// incorrect-tag aggregates.
    pub fn new(run: ScorerRun, keep_aggregates: bool) -> Self {
        let ScorerRun {
            config,
            prescored,
            fits,
            scored,
            low_diligence,
            output,
            final_round_ratings,
            topic_confident,
            ..
        } = run;
        let mut outcomes = scored.outcome;
        let mut tag_aggregates = scored.tag_aggregates;
        let mut incorrect = scored.incorrect;
        let bound = |pick: fn(&super::final_fits::Bounds) -> &Vec<Option<f64>>, n: usize| {
            fits.bounds.as_ref().and_then(|b| pick(b)[n])
        };
        let (mut notes, mut results, mut aggregates) = (Vec::new(), Vec::new(), Vec::new());
        for n in (0..output.len()).filter(|&n| output[n]) {
            notes.push(n as u32);
            results.push(NoteResult {
                intercept: fits.main.intercept[n],
                factor: fits.main.factor[n],
                final_round_ratings: final_round_ratings[n],
                no_high_volume: fits.no_high_volume[n],
                no_correlated: fits.no_correlated[n],
                population_sampled: fits.population_sampled.as_ref().and_then(|p| p[n]),
                intercept_min: bound(|b| &b.intercept_min, n),
                intercept_max: bound(|b| &b.intercept_max, n),
                low_diligence: low_diligence[n],
                outcome: outcomes[n].take(),
                active_filter_tags: scored.active_filter_tags[n],
                population_sampled_signs: scored.population_sampled_signs[n],
                topic_confident: topic_confident[n],
            });
            if keep_aggregates {
                aggregates.push((tag_aggregates[n].take(), incorrect[n].take()));
            }
        }
        FinishedScorer {
            config,
            prescored,
            notes,
            results,
            aggregates,
        }
    }

    /// The notes the scorer outputs, increasing, each with its result.
    pub fn results(&self) -> impl Iterator<Item = (usize, &NoteResult)> {
        self.notes.iter().map(|&n| n as usize).zip(&self.results)
    }

    /// Per community note (of `notes`): its result, where the scorer outputs it.
    pub fn by_note(&self, notes: usize) -> Vec<Option<&NoteResult>> {
        let mut dense = vec![None; notes];
        for (n, result) in self.results() {
            dense[n] = Some(result);
        }
        dense
    }

    /// Per community note (of `notes`): the tag and incorrect-tag aggregates, where the
    /// scorer outputs the note and they were kept.
    pub fn aggregates_by_note(
        &self,
        notes: usize,
    ) -> Vec<Option<&(Option<NoteTagAggregate>, Option<NoteIncorrectAggregate>)>> {
        let mut dense = vec![None; notes];
        for (&n, aggregate) in self.notes.iter().zip(&self.aggregates) {
            dense[n as usize] = Some(aggregate);
        }
        dense
    }

    /// Frees the prescoring that only this scorer's own final scoring reads (or a Gaussian
    /// scorer that starts from it): the note tables, the rounds' fits, the low-diligence
    /// model, the provisional statuses, the helpfulness details and the rater columns other
    /// than those the contributor columns, the PCRH model and the flip model read of a
    /// non-core scorer.
    pub fn shed_prescoring(&mut self) {
        let p = &mut self.prescored;
        p.tables.drop_note_tables();
        p.tables.drop_rater_details();
        for fit in [&mut p.first_round, &mut p.final_round] {
            *fit = RowFit {
                note_rows: Vec::new(),
                rater_rows: Vec::new(),
                factors: Factors::zeros(0, 0),
                report: fit.report,
            };
        }
        p.provisional = Vec::new();
        p.helpfulness = Vec::new();
        p.diligence = None;
    }

    /// The topic of a topic model.
    pub fn topic(&self) -> Option<Topic> {
        match self.config.kind {
            ScorerKind::Topic(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mf::FitReport;
    use crate::prescoring::{PrescoringMeta, ScorerPrescoring};
    use crate::rules::Rule;
    use crate::scorer::Selection;
    use crate::scorer::final_fits::{Bounds, FinalFits, NoteFit};
    use crate::scorer::scored_notes::ScoredNotes;
    use crate::tags::NUM_NOT_HELPFUL_TAGS;

    const NOTES: usize = 5;
    const PARTICIPANTS: usize = 3;

    fn row_fit() -> RowFit {
        RowFit {
            note_rows: vec![0, 1],
            rater_rows: vec![0],
            factors: Factors::zeros(2, 1),
            report: FitReport {
                passes: 1,
                loss: 0.0,
                mse: 0.0,
            },
        }
    }

    fn values(offset: f64) -> Vec<Option<f64>> {
        (0..NOTES).map(|n| Some(offset + n as f64)).collect()
    }

    /// A run over five notes that outputs notes 1 and 3, every per-note value telling its
    /// note apart.
    fn run() -> ScorerRun {
        let mut tables = ScorerPrescoring::empty(NOTES, PARTICIPANTS, PrescoringMeta::default());
        tables.rater_intercept[1] = Some(0.5);
        tables.rater_factor[1] = Some(-0.5);
        tables.mean_note_score[1] = Some(0.1);
        let outcome = |n: usize| RuleOutcome {
            status: if n == 3 {
                NoteStatus::CurrentlyRatedHelpful
            } else {
                NoteStatus::NeedsMoreRatings
            },
            active_rules: vec![Rule::InitialNmr],
        };
        let aggregate = |n: usize| NoteTagAggregate {
            rating_weight: n as f64,
            adjusted: [0.0; NUM_NOT_HELPFUL_TAGS],
            adjusted_ratio: [None; NUM_NOT_HELPFUL_TAGS],
        };
        ScorerRun {
            config: ScorerConfig::all().remove(0),
            prescored: Prescored {
                tables,
                provisional: vec![None; NOTES],
                first_round: row_fit(),
                final_round: row_fit(),
                helpfulness: vec![None; PARTICIPANTS],
                diligence: None,
            },
            selection: Selection {
                ratings: vec![0, 1, 2],
                notes: vec![true; NOTES],
                captured: vec![true; NOTES],
            },
            fits: FinalFits {
                main: NoteFit {
                    intercept: values(0.0),
                    factor: values(10.0),
                    ratings: vec![0, 1, 2],
                    raters: vec![true; PARTICIPANTS],
                },
                bounds: Some(Bounds {
                    intercept_min: values(20.0),
                    intercept_max: values(30.0),
                }),
                no_high_volume: values(40.0),
                no_correlated: values(50.0),
                population_sampled: Some(values(60.0)),
            },
            scored: ScoredNotes {
                facts: Vec::new(),
                outcome: (0..NOTES).map(|n| Some(outcome(n))).collect(),
                tag_aggregates: (0..NOTES).map(|n| Some(aggregate(n))).collect(),
                active_filter_tags: (0..NOTES).map(|n| TagSet(n as u16)).collect(),
                incorrect: vec![None; NOTES],
                num_ratings: vec![0; NOTES],
                population_sampled_signs: (0..NOTES).map(|n| [n as u32, 0]).collect(),
            },
            low_diligence: values(70.0),
            output: vec![false, true, false, true, false],
            final_round_ratings: values(80.0),
            user_rows: vec![true; PARTICIPANTS],
            topic_confident: (0..NOTES).map(|n| Some(n == 3)).collect(),
        }
    }

    #[test]
    fn keeps_the_output_notes_and_each_of_their_values() {
        let finished = FinishedScorer::new(run(), false);
        let kept: Vec<usize> = finished.results().map(|(n, _)| n).collect();
        assert_eq!(kept, [1, 3]);
        for (n, r) in finished.results() {
            let v = n as f64;
            let all = [
                r.intercept,
                r.factor,
                r.intercept_min,
                r.intercept_max,
                r.no_high_volume,
                r.no_correlated,
                r.population_sampled,
                r.low_diligence,
                r.final_round_ratings,
            ];
            let expected: Vec<Option<f64>> = (0..9).map(|k| Some(10.0 * k as f64 + v)).collect();
            assert_eq!(all.to_vec(), expected, "note {n}");
            assert_eq!(r.active_filter_tags, TagSet(n as u16));
            assert_eq!(r.population_sampled_signs, [n as u32, 0]);
            assert_eq!(r.topic_confident, Some(n == 3));
        }
        let dense = finished.by_note(NOTES);
        assert_eq!(
            dense
                .iter()
                .map(|r| r.and_then(NoteResult::status))
                .collect::<Vec<_>>(),
            [
                None,
                Some(NoteStatus::NeedsMoreRatings),
                None,
                Some(NoteStatus::CurrentlyRatedHelpful),
                None
            ]
        );
        assert!(
            finished
                .aggregates_by_note(NOTES)
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn keeps_aggregates_of_output_notes_only_when_asked() {
        let finished = FinishedScorer::new(run(), true);
        let weights: Vec<Option<f64>> = finished
            .aggregates_by_note(NOTES)
            .iter()
            .map(|a| a.and_then(|(t, _)| t.as_ref()).map(|t| t.rating_weight))
            .collect();
        assert_eq!(weights, [None, Some(1.0), None, Some(3.0), None]);
    }

    #[test]
    fn shedding_prescoring_keeps_what_contributor_columns_read() {
        let mut finished = FinishedScorer::new(run(), false);
        finished.shed_prescoring();
        let t = &finished.prescored.tables;
        assert!(t.note_intercept.is_empty() && t.mean_note_score.is_empty());
        assert!(finished.prescored.first_round.note_rows.is_empty());
        assert!(t.has_rater_row(1) && !t.has_rater_row(0));
        assert_eq!(
            (t.rater_intercept[1], t.rater_factor[1]),
            (Some(0.5), Some(-0.5))
        );
    }
}
