//! A community prepared for scoring: participants, notes and ratings, indexed densely and
//! preprocessed the way the reference preprocesses its inputs (see [`crate::preprocess`]).
//!
//! Every scorer reads this one structure. Indices are `u32`: participant index, note index.

use crate::{Classification, Enrollment, HelpfulnessLevel, StatusHistoryRow};

/// A contributor: anyone who wrote a note, rated one, or has an enrollment row.
#[derive(Clone, Debug, PartialEq)]
pub struct Participant {
    /// The public participant id.
    pub id: String,
    /// Their enrollment row, if the enrollment file has one.
    pub enrollment: Option<Enrollment>,
}

impl Participant {
    /// The modeling group from enrollment (`None` without a row or without a group).
    pub fn modeling_group(&self) -> Option<f64> {
        self.enrollment.as_ref().and_then(|e| e.modeling_group)
    }
}

/// A note as the scorer sees it: the union of the notes file and the status history.
#[derive(Clone, Debug, PartialEq)]
pub struct CommunityNote {
    pub note_id: i64,
    /// Participant index of the author.
    pub author: u32,
    pub created_at_millis: i64,
    /// `None` for deleted notes (in the history but not in the notes file).
    pub tweet_id: Option<i64>,
    /// `None` for deleted notes.
    pub classification: Option<Classification>,
    /// Note text (empty for deleted notes).
    pub summary: String,
    /// The status history row from the input (for a new note: id, author and creation time
    /// only).
    pub history: StatusHistoryRow,
}

impl CommunityNote {
    /// Whether the note was deleted by its author.
    pub fn is_deleted(&self) -> bool {
        self.classification.is_none()
    }
}

/// Ratings ready for scoring, one entry per rating in every column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoringRatings {
    /// Note index.
    pub note: Vec<u32>,
    /// Participant index of the rater.
    pub rater: Vec<u32>,
    pub created_at_millis: Vec<i64>,
    /// 0, 0.5 or 1.
    pub helpful_num: Vec<f32>,
    pub level: Vec<Option<HelpfulnessLevel>>,
    /// Tag bits as in [`crate::Ratings::tags`].
    pub tags: Vec<u32>,
    /// Solicited by population sampling.
    pub population_sampled: Vec<bool>,
    /// By a rater flagged as high-volume.
    pub high_volume: Vec<bool>,
    /// By a rater in a post-selection-similarity clique.
    pub correlated: Vec<bool>,
}

impl ScoringRatings {
    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.note.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.note.is_empty()
    }

    /// Keeps only the ratings for which `keep` is true, in order.
    pub fn retain(&mut self, keep: &[bool]) {
        fn filter<T: Copy>(values: &mut Vec<T>, keep: &[bool]) {
            let mut k = keep.iter();
            values.retain(|_| *k.next().expect("one flag per rating"));
        }
        assert_eq!(keep.len(), self.len(), "one flag per rating");
        filter(&mut self.note, keep);
        filter(&mut self.rater, keep);
        filter(&mut self.created_at_millis, keep);
        filter(&mut self.helpful_num, keep);
        filter(&mut self.level, keep);
        filter(&mut self.tags, keep);
        filter(&mut self.population_sampled, keep);
        filter(&mut self.high_volume, keep);
        filter(&mut self.correlated, keep);
    }

    /// The ratings at `indices`, in that order.
    pub fn subset(&self, indices: &[u32]) -> ScoringRatings {
        fn pick<T: Copy>(values: &[T], indices: &[u32]) -> Vec<T> {
            indices.iter().map(|&i| values[i as usize]).collect()
        }
        ScoringRatings {
            note: pick(&self.note, indices),
            rater: pick(&self.rater, indices),
            created_at_millis: pick(&self.created_at_millis, indices),
            helpful_num: pick(&self.helpful_num, indices),
            level: pick(&self.level, indices),
            tags: pick(&self.tags, indices),
            population_sampled: pick(&self.population_sampled, indices),
            high_volume: pick(&self.high_volume, indices),
            correlated: pick(&self.correlated, indices),
        }
    }

    /// Reorders the ratings by `order` (a permutation of `0..len`).
    pub fn permute(&mut self, order: &[u32]) {
        assert_eq!(order.len(), self.len(), "a permutation of all ratings");
        *self = self.subset(order);
    }
}

/// Everything a scorer reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Community {
    /// Sorted the way the reference orders its participant codes: by integer value when every
    /// id is an integer, else by the id string.
    pub participants: Vec<Participant>,
    /// Sorted by note id.
    pub notes: Vec<CommunityNote>,
    pub ratings: ScoringRatings,
}

impl Community {
    /// Index of the note with id `note_id`.
    pub fn note_index(&self, note_id: i64) -> Option<u32> {
        self.notes
            .binary_search_by_key(&note_id, |n| n.note_id)
            .ok()
            .map(|i| i as u32)
    }
}

impl Community {
    /// The whole community as a [`CommunityView`]: every rating, in order, with its own
    /// `correlated` flag.
    pub fn view(&self) -> CommunityView<'_> {
        CommunityView {
            participants: &self.participants,
            notes: &self.notes,
            ratings: self.ratings.view(),
        }
    }
}

impl ScoringRatings {
    /// Every rating, in order, as a [`ViewRatings`].
    pub fn view(&self) -> ViewRatings<'_> {
        ViewRatings {
            base: self,
            order: None,
            correlated: None,
        }
    }
}

/// What a scorer reads: a community's participants and notes, and some of its ratings in a
/// given order ([`ViewRatings`]). The post-selection-similarity filters
/// ([`crate::pss::view`]) make the two views a run scores from; neither copies a rating.
#[derive(Clone, Debug)]
pub struct CommunityView<'a> {
    pub participants: &'a [Participant],
    pub notes: &'a [CommunityNote],
    pub ratings: ViewRatings<'a>,
}

/// A community's ratings seen through a filter: some of them, in an order of their own,
/// each with a `correlated` flag that depends only on its rater. Positions `0..len()` are
/// the view's own; the view holds 4 bytes a rating (none when it shows every rating in
/// order), not a copy of the columns.
#[derive(Clone, Debug)]
pub struct ViewRatings<'a> {
    base: &'a ScoringRatings,
    /// The base index of each rating of the view; `None`: every base rating, in order.
    order: Option<Vec<u32>>,
    /// Per participant: whether their ratings are `correlated`; `None`: the base column.
    correlated: Option<Vec<bool>>,
}

impl<'a> ViewRatings<'a> {
    /// The ratings of `base` at `order`, in that order, with `correlated[rater]` as their
    /// `correlated` flag.
    ///
    /// # Panics
    /// If an index is out of range or `correlated` lacks a rater.
    pub fn new(base: &'a ScoringRatings, order: Vec<u32>, correlated: Vec<bool>) -> Self {
        assert!(
            order.iter().all(|&k| (k as usize) < base.len()),
            "view indices within the ratings"
        );
        assert!(
            base.rater.iter().all(|&u| (u as usize) < correlated.len()),
            "a correlated flag for every rater"
        );
        ViewRatings {
            base,
            order: Some(order),
            correlated: Some(correlated),
        }
    }

    /// Number of ratings in the view.
    pub fn len(&self) -> usize {
        self.order.as_ref().map_or(self.base.len(), Vec::len)
    }

    /// Whether the view shows no rating.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The base index of the view's rating `k`.
    #[inline]
    pub fn base_index(&self, k: usize) -> usize {
        match &self.order {
            Some(order) => order[k] as usize,
            None => k,
        }
    }

    /// Base indices of the view's ratings at `positions`, in that order.
    pub fn base_indices(&self, positions: &[u32]) -> Vec<u32> {
        positions
            .iter()
            .map(|&k| self.base_index(k as usize) as u32)
            .collect()
    }

    /// The base index of every rating of the view, in view order; `None` when the view is
    /// every base rating in order.
    pub fn order(&self) -> Option<&[u32]> {
        self.order.as_deref()
    }

    /// The ratings the view draws from.
    pub fn base(&self) -> &'a ScoringRatings {
        self.base
    }

    #[inline]
    pub fn note(&self, k: usize) -> u32 {
        self.base.note[self.base_index(k)]
    }

    #[inline]
    pub fn rater(&self, k: usize) -> u32 {
        self.base.rater[self.base_index(k)]
    }

    #[inline]
    pub fn created_at_millis(&self, k: usize) -> i64 {
        self.base.created_at_millis[self.base_index(k)]
    }

    #[inline]
    pub fn helpful_num(&self, k: usize) -> f32 {
        self.base.helpful_num[self.base_index(k)]
    }

    #[inline]
    pub fn level(&self, k: usize) -> Option<HelpfulnessLevel> {
        self.base.level[self.base_index(k)]
    }

    #[inline]
    pub fn tags(&self, k: usize) -> u32 {
        self.base.tags[self.base_index(k)]
    }

    #[inline]
    pub fn population_sampled(&self, k: usize) -> bool {
        self.base.population_sampled[self.base_index(k)]
    }

    #[inline]
    pub fn high_volume(&self, k: usize) -> bool {
        self.base.high_volume[self.base_index(k)]
    }

    #[inline]
    pub fn correlated(&self, k: usize) -> bool {
        match &self.correlated {
            Some(by_rater) => by_rater[self.rater(k) as usize],
            None => self.base.correlated[self.base_index(k)],
        }
    }

    /// The view's ratings at `positions`, in that order, as a view of their own over the
    /// same ratings (4 bytes a rating; a scorer's ratings).
    pub fn select(&self, positions: &[u32]) -> ViewRatings<'a> {
        ViewRatings {
            base: self.base,
            order: Some(self.base_indices(positions)),
            correlated: self.correlated.clone(),
        }
    }

    /// The view's ratings at `positions`, in that order, as columns of their own (tests
    /// compare views with copies; runs read through the view).
    #[cfg(test)]
    pub(crate) fn subset(&self, positions: &[u32]) -> ScoringRatings {
        let mut out = self.base.subset(&self.base_indices(positions));
        if let Some(by_rater) = &self.correlated {
            out.correlated = out.rater.iter().map(|&u| by_rater[u as usize]).collect();
        }
        out
    }

    /// Every rating of the view as columns of their own.
    #[cfg(test)]
    pub(crate) fn to_ratings(&self) -> ScoringRatings {
        let all: Vec<u32> = (0..self.len() as u32).collect();
        self.subset(&all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratings() -> ScoringRatings {
        ScoringRatings {
            note: vec![0, 1, 2, 3, 4],
            rater: vec![0, 1, 0, 1, 2],
            created_at_millis: vec![10, 11, 12, 13, 14],
            helpful_num: vec![0.0, 0.5, 1.0, 0.0, 1.0],
            level: vec![None; 5],
            tags: vec![1, 2, 3, 4, 5],
            population_sampled: vec![true, false, true, false, true],
            high_volume: vec![false, false, false, true, true],
            correlated: vec![false; 5],
        }
    }

    #[test]
    fn a_selection_of_a_view_reads_what_a_copy_of_it_holds() {
        let base = ratings();
        // A view of ratings 4, 2, 1, 0 with rater 1 correlated.
        let view = ViewRatings::new(&base, vec![4, 2, 1, 0], vec![false, true, false]);
        let positions = [3, 2, 0];
        let selected = view.select(&positions);
        assert_eq!(selected.len(), 3);
        assert_eq!(selected.order(), Some(&[0, 1, 4][..]));
        assert_eq!(selected.to_ratings(), view.subset(&positions));
        let copy = selected.to_ratings();
        assert_eq!(copy.note, [0, 1, 4]);
        assert_eq!(copy.correlated, [false, true, false]);
        assert_eq!(copy.helpful_num, [0.0, 0.5, 1.0]);
        assert_eq!(copy.high_volume, [false, false, true]);
    }

    #[test]
    fn the_whole_ratings_view_keeps_the_columns_own_flags() {
        let mut base = ratings();
        base.correlated[3] = true;
        let view = base.view();
        assert_eq!(view.len(), 5);
        assert_eq!(view.order(), None);
        assert!(view.correlated(3) && !view.correlated(1));
        let selected = view.select(&[3, 1]);
        assert!(selected.correlated(0) && !selected.correlated(1));
        assert_eq!(selected.base_index(0), 3);
    }

    #[test]
    #[should_panic(expected = "view indices within the ratings")]
    fn a_view_past_the_ratings_is_refused() {
        let base = ratings();
        ViewRatings::new(&base, vec![5], vec![false; 3]);
    }
}
