//! The per-model columns of `scored_notes`: each scorer's note parameters, status, rules and
//! counts, coalesced over the scorers that share one set of columns (the group models, the
//! topic models), and the model results meta-scoring reads.

use crate::NoteStatus;
use crate::meta::{ModelResult, TopicResult};
use crate::output::OutputTable;
use crate::scorer::catalog::ScorerKind;
use crate::scorer::finished::{FinishedScorer, NoteResult};

use super::{f32s, f64s, strs};

/// One model's columns, per note; `source` is the scorer (of those coalesced) that output
/// the note, with its result.
pub(super) struct ModelColumns<'a> {
    pub source: Vec<Option<(&'a FinishedScorer, &'a NoteResult)>>,
    pub intercept: Vec<Option<f64>>,
    pub factor: Vec<Option<f64>>,
    pub status: Vec<Option<NoteStatus>>,
    pub active_rules: Vec<Option<String>>,
    pub final_round_ratings: Vec<Option<f64>>,
    pub no_high_volume: Vec<Option<f64>>,
    pub no_correlated: Vec<Option<f64>>,
    pub intercept_min: Vec<Option<f64>>,
    pub intercept_max: Vec<Option<f64>>,
    pub population_sampled: Vec<Option<f64>>,
}

impl<'a> ModelColumns<'a> {
    /// Coalesces the scorers selected by `pick`: each note takes its values from the first
    /// scorer that outputs it (the reference allows at most one).
    pub fn coalesce(
        runs: &'a [FinishedScorer],
        notes: usize,
        pick: impl Fn(ScorerKind) -> bool,
    ) -> Self {
        let mut source = vec![None; notes];
        for run in runs.iter().filter(|r| pick(r.config.kind)) {
            for (n, result) in run.results() {
                source[n].get_or_insert((run, result));
            }
        }
        let each = |f: fn(&NoteResult) -> Option<f64>| -> Vec<Option<f64>> {
            source.iter().map(|s| s.and_then(|(_, r)| f(r))).collect()
        };
        ModelColumns {
            intercept: each(|r| r.intercept),
            factor: each(|r| r.factor),
            final_round_ratings: each(|r| r.final_round_ratings),
            no_high_volume: each(|r| r.no_high_volume),
            no_correlated: each(|r| r.no_correlated),
            intercept_min: each(|r| r.intercept_min),
            intercept_max: each(|r| r.intercept_max),
            population_sampled: each(|r| r.population_sampled),
            status: source
                .iter()
                .map(|s| s.and_then(|(_, r)| r.status()))
                .collect(),
            active_rules: source
                .iter()
                .map(|s| s.and_then(|(_, r)| r.outcome.as_ref().map(|o| o.active_rules_text())))
                .collect(),
            source,
        }
    }

    /// The result meta-scoring reads for note `n`.
    pub fn result(&self, n: usize) -> ModelResult {
        ModelResult {
            status: self.status[n],
            intercept: self.intercept[n],
        }
    }

    /// The group id of the run that output note `n` (`modelingGroup`,
    /// `modelingMultiGroup`).
    pub fn modeling_group(&self, n: usize) -> Option<u32> {
        self.source[n].and_then(|(r, _)| match r.config.kind {
            ScorerKind::Group(g) | ScorerKind::MultiGroup(g) => Some(g),
            _ => None,
        })
    }

    /// The topic result of note `n` (topic models).
    pub fn topic_result(&self, n: usize) -> TopicResult {
        let Some((run, result)) = self.source[n] else {
            return TopicResult::default();
        };
        TopicResult {
            status: self.status[n],
            intercept: self.intercept[n],
            factor: self.factor[n],
            topic: run.topic(),
            confident: result.topic_confident,
        }
    }

    /// Writes the columns `{prefix}NoteIntercept`, `{prefix}NoteFactor1`, … that the
    /// output has.
    pub fn write(&self, table: &mut OutputTable, prefix: &str) {
        let floats: [(&str, &Vec<Option<f64>>); 7] = [
            ("NoteIntercept", &self.intercept),
            ("NoteFactor1", &self.factor),
            ("NoteInterceptNoHighVol", &self.no_high_volume),
            ("NoteInterceptNoCorrelated", &self.no_correlated),
            ("NoteInterceptMin", &self.intercept_min),
            ("NoteInterceptMax", &self.intercept_max),
            ("NoteInterceptPopulationSampled", &self.population_sampled),
        ];
        for (suffix, values) in floats {
            let name = format!("{prefix}{suffix}");
            if table.has(&name) {
                table.set(&name, f32s(values.iter().copied()));
            }
        }
        table.set(
            &format!("{prefix}RatingStatus"),
            strs(self.status.iter().copied()),
        );
        table.set(
            &format!("{prefix}ActiveRules"),
            strs(self.active_rules.iter().cloned()),
        );
        table.set(
            &format!("{prefix}NumFinalRoundRatings"),
            f64s(self.final_round_ratings.iter().copied()),
        );
    }
}
