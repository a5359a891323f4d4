//! Applying post-selection similarity: raters who rate together too often are treated as
//! one voice (the reference's `apply_post_selection_similarity`). Detecting the cliques is a
//! separate stage; this module applies given clique assignments.

use crate::community::{Community, CommunityView, ViewRatings};

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

/// The community as a scorer sees it after the filter: clique ratings dropped, correlated
/// raters flagged, and the scorer's order restored (ratings by ordinary raters first). A
/// clique member's rating is dropped when the note's author is in the same clique; otherwise
/// only the earliest rating per (note, clique) survives. The number of ratings dropped is
/// `community.ratings.len() - view.ratings.len()`.
pub fn view<'a>(
    community: &'a Community,
    cliques: &Cliques,
    variant: Variant,
) -> CommunityView<'a> {
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
    let correlated: Vec<bool> = (0..community.participants.len())
        .map(|u| {
            let quasi = cliques.quasi_clique.get(u).copied().flatten();
            match variant {
                Variant::Prescoring => quasi.is_some_and(|q| q >= 1),
                Variant::Final => member(u).is_some() && quasi.is_some_and(|q| q >= 1),
            }
        })
        .collect();
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
    let mut order: Vec<u32> = (0..r.len() as u32).filter(|&k| keep[k as usize]).collect();
    drop(keep);
    order.sort_by_key(|&k| {
        let k = k as usize;
        (r.high_volume[k], correlated[r.rater[k] as usize])
    });
    CommunityView {
        participants: &community.participants,
        notes: &community.notes,
        ratings: ViewRatings::new(r, order, correlated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusHistoryRow;
    use crate::community::{CommunityNote, Participant, ScoringRatings};

    /// Participants 0–5: 0 and 1 in post-selection clique 7 (0 also in quasi-clique 1),
    /// 2 and 3 in clique 9 (2 in quasi-clique 0, 3 in none), 4 ordinary, 5 high-volume.
    /// `notes` notes, note 0 by participant 1, the rest by participant 4.
    fn community(notes: usize, ratings: &[(u32, u32, i64)]) -> (Community, Cliques) {
        let participants = (0..6)
            .map(|u| Participant {
                id: u.to_string(),
                enrollment: None,
            })
            .collect();
        let notes = (0..notes)
            .map(|n| CommunityNote {
                note_id: n as i64,
                author: if n == 0 { 1 } else { 4 },
                created_at_millis: 0,
                tweet_id: Some(1),
                classification: None,
                summary: String::new(),
                history: StatusHistoryRow::default(),
            })
            .collect();
        let len = ratings.len();
        let ratings = ScoringRatings {
            note: ratings.iter().map(|r| r.0).collect(),
            rater: ratings.iter().map(|r| r.1).collect(),
            created_at_millis: ratings.iter().map(|r| r.2).collect(),
            helpful_num: (0..len).map(|k| k as f32).collect(),
            level: vec![None; len],
            tags: (0..len as u32).map(|k| 100 + k).collect(),
            population_sampled: (0..len).map(|k| k % 2 == 0).collect(),
            high_volume: ratings.iter().map(|r| r.1 == 5).collect(),
            correlated: vec![false; len],
        };
        let cliques = Cliques {
            post_selection: vec![Some(7), Some(7), Some(9), Some(9), None, None],
            quasi_clique: vec![Some(1), None, Some(0), None, None, None],
        };
        (
            Community {
                participants,
                notes,
                ratings,
            },
            cliques,
        )
    }

    /// (note, rater, time) of every rating of a view, in view order.
    fn rows(view: &CommunityView) -> Vec<(u32, u32, i64)> {
        let r = &view.ratings;
        (0..r.len())
            .map(|k| (r.note(k), r.rater(k), r.created_at_millis(k)))
            .collect()
    }

    const RATINGS: [(u32, u32, i64); 9] = [
        (0, 0, 5), // by a member of the author's clique (7): dropped
        (1, 5, 1), // high-volume: last
        (1, 1, 4), // clique 7 on note 1, later than rater 0's: dropped in prescoring
        (1, 0, 3), // clique 7 on note 1, the earliest
        (1, 4, 2), // ordinary
        (2, 2, 8), // clique 9 on note 2, later than rater 3's
        (2, 3, 6), // clique 9 on note 2, the earliest
        (0, 4, 9), // ordinary
        (0, 2, 7), // clique 9 on note 0 (author in clique 7): kept
    ];

    #[test]
    fn prescoring_filter_drops_clique_ratings_and_orders_ordinary_raters_first() {
        let (c, cliques) = community(MIN_NOTES_FOR_FILTER, &RATINGS);
        let view = view(&c, &cliques, Variant::Prescoring);
        // Survivors in input order, ordinary ratings before the high-volume one; only
        // rater 0 (quasi-clique 1) is correlated, and sorts with the high-volume ones
        // after it by (high volume, correlated).
        assert_eq!(
            rows(&view),
            vec![
                (1, 4, 2),
                (2, 3, 6),
                (0, 4, 9),
                (0, 2, 7),
                (1, 0, 3),
                (1, 5, 1)
            ]
        );
        let r = &view.ratings;
        let correlated: Vec<bool> = (0..r.len()).map(|k| r.correlated(k)).collect();
        assert_eq!(correlated, [false, false, false, false, true, false]);
        assert_eq!(r.base_indices(&[0, 4, 5]), [4, 3, 1]);
        // The other columns come from the base ratings.
        assert_eq!(r.tags(4), 103);
        assert_eq!(r.helpful_num(5), 1.0);
        assert!(r.high_volume(5) && !r.high_volume(4));
        assert!(!r.population_sampled(4) && r.population_sampled(0));
    }

    #[test]
    fn final_filter_treats_only_raters_in_both_cliques_as_members() {
        let (c, cliques) = community(MIN_NOTES_FOR_FILTER, &RATINGS);
        let view = view(&c, &cliques, Variant::Final);
        // Members: 0 (clique 7, quasi 1) and 2 (clique 9, quasi 0). Rater 1's and 3's
        // ratings stay; rater 0's rating on note 0 (author 1 is not a member now) stays.
        assert_eq!(
            rows(&view),
            vec![
                (1, 1, 4),
                (1, 4, 2),
                (2, 2, 8),
                (2, 3, 6),
                (0, 4, 9),
                (0, 2, 7),
                (0, 0, 5),
                (1, 0, 3),
                (1, 5, 1)
            ]
        );
        let r = &view.ratings;
        assert!(r.correlated(6) && r.correlated(7));
        assert!((0..6).all(|k| !r.correlated(k)) && !r.correlated(8));
    }

    #[test]
    fn small_communities_keep_every_rating_but_still_flag_correlated_raters() {
        let (c, cliques) = community(MIN_NOTES_FOR_FILTER - 1, &RATINGS);
        let view = view(&c, &cliques, Variant::Prescoring);
        assert_eq!(view.ratings.len(), RATINGS.len());
        let correlated: Vec<u32> = (0..view.ratings.len())
            .filter(|&k| view.ratings.correlated(k))
            .map(|k| view.ratings.rater(k))
            .collect();
        assert_eq!(correlated, [0, 0]);
        // A copy of the view's columns holds the same values as the view.
        let copy = view.ratings.to_ratings();
        assert_eq!(copy.len(), view.ratings.len());
        for k in 0..copy.len() {
            assert_eq!(copy.note[k], view.ratings.note(k));
            assert_eq!(copy.tags[k], view.ratings.tags(k));
            assert_eq!(copy.correlated[k], view.ratings.correlated(k));
        }
    }

    #[test]
    fn the_whole_community_is_a_view_of_every_rating_in_order() {
        let (c, _) = community(3, &RATINGS);
        let view = c.view();
        assert_eq!(rows(&view), RATINGS.to_vec());
        assert_eq!(view.ratings.order(), None);
        assert_eq!(view.ratings.to_ratings(), c.ratings);
    }
}
