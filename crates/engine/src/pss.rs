//! Applying post-selection similarity: raters who rate together too often are treated as
//! one voice (the reference's `apply_post_selection_similarity`). Detecting the cliques is a
//! separate stage; this module applies given clique assignments.

use crate::community::Community;

/// Minimum number of notes for the filter to apply (`c.minNumNotesForProdData`).
pub const MIN_NOTES_FOR_FILTER: usize = 200;

/// Per participant: the post-selection-similarity clique and the quasi-clique, if any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cliques {
    pub post_selection: Vec<Option<i64>>,
    pub quasi_clique: Vec<Option<i64>>,
}

/// Which raters the filter treats as clique members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Prescoring: every rater with a post-selection clique.
    Prescoring,
    /// Final scoring: only raters with both a post-selection clique and a quasi-clique (the
    /// reference reads the cliques back from its prescoring rater table after dropping rows
    /// with any missing value).
    Final,
}

/// Drops clique ratings and flags correlated raters, then restores the scorer's order:
/// ratings by ordinary raters first. A clique member's rating is dropped when the note's
/// author is in the same clique; otherwise only the earliest rating per (note, clique)
/// survives. Returns the number of ratings dropped.
pub fn apply(community: &mut Community, cliques: &Cliques, variant: Variant) -> usize {
    let member = |u: usize| -> Option<i64> {
        let clique = cliques.post_selection.get(u).copied().flatten()?;
        match variant {
            Variant::Prescoring => Some(clique),
            Variant::Final => cliques
                .quasi_clique
                .get(u)
                .copied()
                .flatten()
                .map(|_| clique),
        }
    };
    let correlated = |u: usize| match variant {
        Variant::Prescoring => cliques
            .quasi_clique
            .get(u)
            .copied()
            .flatten()
            .is_some_and(|q| q >= 1),
        Variant::Final => member(u).is_some() && cliques.quasi_clique[u].is_some_and(|q| q >= 1),
    };
    let r = &community.ratings;
    let mut keep = vec![true; r.len()];
    if community.notes.len() >= MIN_NOTES_FOR_FILTER {
        let mut order: Vec<u32> = (0..r.len() as u32)
            .filter(|&k| member(r.rater[k as usize] as usize).is_some())
            .collect();
        order.sort_by_key(|&k| (r.note[k as usize], r.created_at_millis[k as usize], k));
        let mut seen = std::collections::HashSet::new();
        for k in order.into_iter().map(|k| k as usize) {
            let clique = member(r.rater[k] as usize).expect("filtered to members");
            let author = community.notes[r.note[k] as usize].author as usize;
            if member(author) == Some(clique) || !seen.insert((r.note[k], clique)) {
                keep[k] = false;
            }
        }
    }
    let dropped = keep.iter().filter(|k| !**k).count();
    community.ratings.retain(&keep);
    let r = &mut community.ratings;
    for k in 0..r.len() {
        r.correlated[k] = correlated(r.rater[k] as usize);
    }
    let mut order: Vec<u32> = (0..r.len() as u32).collect();
    order.sort_by_key(|&k| (r.high_volume[k as usize], r.correlated[k as usize]));
    r.permute(&order);
    dropped
}
