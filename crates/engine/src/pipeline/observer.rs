//! What a scoring run reports while it works. The engine has no clock and prints nothing; a
//! caller that wants progress or timings passes an [`Observer`] and measures the stages
//! itself.

use crate::scorer::run::FitPasses;

/// A stage of a scoring run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage<'a> {
    /// One scorer, prescoring and final scoring (its reference name, e.g. `MFCoreScorer`).
    Scorer(&'a str),
    /// The PCRH model (fitted and applied).
    Pcrh,
    /// The flip model.
    Pflip,
    /// Meta-scoring, the status history update and the output tables of notes.
    MetaScoring,
    /// Contribution counts and contributor state.
    Contributors,
}

impl Stage<'_> {
    /// A short label, e.g. `scorer MFCoreScorer`.
    pub fn label(&self) -> String {
        match self {
            Stage::Scorer(name) => format!("scorer {name}"),
            Stage::Pcrh => "PCRH model".to_string(),
            Stage::Pflip => "flip model".to_string(),
            Stage::MetaScoring => "meta-scoring".to_string(),
            Stage::Contributors => "contributors".to_string(),
        }
    }
}

/// Receives the stages of a run. `index` counts stages from 0 and `total` is how many the
/// run will have. Independent scorers run side by side, so their stages may start and
/// finish on several threads at once and overlap; a stage's `finished` always follows its
/// own `started` on the same thread.
pub trait Observer: Sync {
    fn started(&self, _stage: Stage<'_>, _index: usize, _total: usize) {}
    fn finished(&self, _stage: Stage<'_>) {}
    /// A scorer's ratings and the passes of its prescoring fits, just before its
    /// `finished` (not sent for a scorer that had nothing to score).
    fn fitted(&self, _stage: Stage<'_>, _ratings: usize, _fits: &[FitPasses]) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}
