//! Scorers: which raters and notes a model sees, and the fits it runs on them.
//!
//! The reference runs many scorers over the same community; each one is a selection of
//! raters (by modeling group) and notes (by topic) plus thresholds. [`ScorerSpec`] holds that
//! description; [`select`] applies it.

pub mod catalog;
pub mod final_fits;
pub mod finished;
pub mod gaussian_run;
pub mod prescore;
pub mod run;
pub mod scored_notes;

use crate::community::CommunityView;
use crate::topic::Topic;

/// Modeling groups of the core model (`c.coreGroups`).
pub const CORE_GROUPS: &[u32] = &[1, 2, 3, 6, 8, 9, 10, 11, 13, 14, 19, 21, 25];
/// Modeling groups of the Gaussian scorers (`c.coverageGroups`: the core groups but 21).
pub const COVERAGE_GROUPS: &[u32] = &[1, 2, 3, 6, 8, 9, 10, 11, 13, 14, 19, 25];
/// Modeling groups of the expansion model, added to the core groups.
pub const EXPANSION_GROUPS: &[u32] = &[0, 4, 5, 7, 12, 15, 16, 20, 22, 23, 24, 26, 27, 28, 29, 33];
/// Modeling groups of the expansion-plus model, added to the expansion groups.
pub const EXPANSION_PLUS_GROUPS: &[u32] = &[17, 18, 30, 31, 32];

/// Which notes a scorer scores, by topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicScope {
    /// Every note.
    All,
    /// Only notes without a topic.
    ExcludeTopics,
    /// Only notes of this topic.
    Only(Topic),
}

/// What a scorer looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct ScorerSpec {
    /// The reference's scorer name, e.g. `MFCoreScorer`.
    pub name: &'static str,
    /// Raters in these modeling groups are in the scorer; `None` means every rater.
    pub groups: Option<Vec<u32>>,
    /// Whether raters without an enrollment row count as in-group.
    pub include_unassigned: bool,
    pub topics: TopicScope,
    /// A note is output only if at least this share of all its ratings is from in-group raters.
    pub capture_threshold: Option<f64>,
    /// Before fitting, drop every rating of a note whose in-scope ratings are less than the
    /// capture threshold from in-group raters (`strictInclusion`, group model 33).
    pub strict_inclusion: bool,
}

impl ScorerSpec {
    /// The core model (`MFCoreScorer`).
    pub fn core() -> Self {
        ScorerSpec {
            name: "MFCoreScorer",
            groups: Some(CORE_GROUPS.to_vec()),
            include_unassigned: true,
            topics: TopicScope::ExcludeTopics,
            capture_threshold: Some(0.5),
            strict_inclusion: false,
        }
    }

    /// Whether participant `u` rates in this scorer.
    pub fn in_group(&self, community: &CommunityView, u: usize) -> bool {
        let Some(groups) = &self.groups else {
            return true;
        };
        match &community.participants[u].enrollment {
            None => self.include_unassigned,
            Some(e) => e
                .modeling_group
                .is_some_and(|g| g.fract() == 0.0 && g >= 0.0 && groups.contains(&(g as u32))),
        }
    }

    /// Per participant of `community`: whether the scorer sees their ratings
    /// ([`in_group`](Self::in_group)).
    fn members(&self, community: &CommunityView) -> Vec<bool> {
        (0..community.participants.len())
            .map(|u| self.in_group(community, u))
            .collect()
    }

    fn note_in_scope(&self, topic: Option<Topic>) -> bool {
        match self.topics {
            TopicScope::All => true,
            TopicScope::ExcludeTopics => topic.is_none(),
            TopicScope::Only(t) => topic == Some(t),
        }
    }
}

/// The part of a community a scorer sees.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Positions (in the view it was selected from, in order) of the scorer's ratings.
    pub ratings: Vec<u32>,
    /// Per note: whether the scorer scores it (topic scope).
    pub notes: Vec<bool>,
    /// Per note: whether the scorer may output it (capture threshold over all ratings).
    pub captured: Vec<bool>,
}

/// How many ratings [`select`] can give the scorer at most: its raters' ratings on notes in
/// its scope (before the strict-inclusion rule), for planning memory before selecting.
pub fn rating_bound(
    community: &CommunityView,
    spec: &ScorerSpec,
    topics: &[Option<Topic>],
) -> usize {
    let in_group = spec.members(community);
    let r = &community.ratings;
    (0..r.len())
        .filter(|&k| {
            in_group[r.rater(k) as usize] && spec.note_in_scope(topics[r.note(k) as usize])
        })
        .count()
}

/// Selects a scorer's ratings and notes. `topics` gives each note's topic.
pub fn select(community: &CommunityView, spec: &ScorerSpec, topics: &[Option<Topic>]) -> Selection {
    let in_group = spec.members(community);
    let notes: Vec<bool> = topics.iter().map(|&t| spec.note_in_scope(t)).collect();
    let r = &community.ratings;
    let strict_excluded: Vec<bool> = match (spec.strict_inclusion, spec.capture_threshold) {
        (true, Some(threshold)) => {
            let mut total = vec![0u32; community.notes.len()];
            let mut inside = vec![0u32; community.notes.len()];
            for k in 0..r.len() {
                let (n, u) = (r.note(k), r.rater(k));
                if notes[n as usize] {
                    total[n as usize] += 1;
                    inside[n as usize] += in_group[u as usize] as u32;
                }
            }
            total
                .iter()
                .zip(&inside)
                .map(|(&t, &i)| t > 0 && (i as f64 / t as f64) < threshold)
                .collect()
        }
        _ => vec![false; community.notes.len()],
    };
    let ratings = (0..r.len() as u32)
        .filter(|&k| {
            let n = r.note(k as usize) as usize;
            notes[n] && !strict_excluded[n] && in_group[r.rater(k as usize) as usize]
        })
        .collect();
    let mut total = vec![0u32; community.notes.len()];
    let mut inside = vec![0u32; community.notes.len()];
    for k in 0..r.len() {
        let (n, u) = (r.note(k), r.rater(k));
        total[n as usize] += 1;
        inside[n as usize] += in_group[u as usize] as u32;
    }
    let captured = total
        .iter()
        .zip(&inside)
        .map(|(&t, &i)| match spec.capture_threshold {
            None => true,
            Some(threshold) => t > 0 && i as f64 / t as f64 >= threshold,
        })
        .collect();
    Selection {
        ratings,
        notes,
        captured,
    }
}
