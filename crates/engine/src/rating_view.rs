//! A borrowed view of the rating columns the tag-based models read, so they run on the raw
//! [`Ratings`] table, on a prepared [`ScoringRatings`] or on a [`ViewRatings`] (some of
//! them, in an order of their own) without copying.

use crate::community::{ScoringRatings, ViewRatings};
use crate::{HelpfulnessLevel, Ratings};

/// Rating columns, one entry per rating in each. `note` and `rater` are indices in the
/// caller's own index spaces (interned ids of [`Ratings`], or the note and participant
/// indices of a [`crate::community::Community`]); models report their rows in those terms.
///
/// With an `order`, the view's rating `i` is the columns' entry `order[i]`; read ratings by
/// position through the methods ([`note`](Self::note), …), which apply it.
#[derive(Clone, Copy, Debug)]
pub struct RatingView<'a> {
    pub note: &'a [u32],
    pub rater: &'a [u32],
    pub created_at_millis: &'a [i64],
    pub level: &'a [Option<HelpfulnessLevel>],
    /// Tag bits as in [`Ratings::tags`].
    pub tags: &'a [u32],
    /// The column index of each rating of the view; `None`: every entry, in order.
    pub order: Option<&'a [u32]>,
}

impl RatingView<'_> {
    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.order.map_or(self.note.len(), <[u32]>::len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column index of the view's rating `i`.
    #[inline]
    pub fn index(&self, i: usize) -> usize {
        match self.order {
            Some(order) => order[i] as usize,
            None => i,
        }
    }

    #[inline]
    pub fn note(&self, i: usize) -> u32 {
        self.note[self.index(i)]
    }

    #[inline]
    pub fn rater(&self, i: usize) -> u32 {
        self.rater[self.index(i)]
    }

    #[inline]
    pub fn created_at_millis(&self, i: usize) -> i64 {
        self.created_at_millis[self.index(i)]
    }

    #[inline]
    pub fn level(&self, i: usize) -> Option<HelpfulnessLevel> {
        self.level[self.index(i)]
    }

    #[inline]
    pub fn tags(&self, i: usize) -> u32 {
        self.tags[self.index(i)]
    }

    /// Panics unless every column has one entry per column index, every `order` index is
    /// within them, and `include` (when given) has one entry per rating.
    pub(crate) fn check(&self, include: Option<&[bool]>) {
        let n = self.note.len();
        assert!(
            self.rater.len() == n
                && self.created_at_millis.len() == n
                && self.level.len() == n
                && self.tags.len() == n,
            "ragged rating columns"
        );
        if let Some(order) = self.order {
            assert!(
                order.iter().all(|&i| (i as usize) < n),
                "view indices within the columns"
            );
        }
        if let Some(include) = include {
            assert_eq!(include.len(), self.len(), "one include flag per rating");
        }
    }
}

impl<'a> From<&'a ViewRatings<'a>> for RatingView<'a> {
    fn from(r: &'a ViewRatings<'a>) -> Self {
        RatingView {
            order: r.order(),
            ..RatingView::from(r.base())
        }
    }
}

impl<'a> From<&'a ScoringRatings> for RatingView<'a> {
    fn from(r: &'a ScoringRatings) -> Self {
        RatingView {
            note: &r.note,
            rater: &r.rater,
            created_at_millis: &r.created_at_millis,
            level: &r.level,
            tags: &r.tags,
            order: None,
        }
    }
}

impl<'a> From<&'a Ratings> for RatingView<'a> {
    fn from(r: &'a Ratings) -> Self {
        RatingView {
            note: &r.note,
            rater: &r.rater,
            created_at_millis: &r.created_at_millis,
            level: &r.level,
            tags: &r.tags,
            order: None,
        }
    }
}

/// Row tables of one fit: each caller index that occurs gets a dense row.
pub(crate) struct Rows {
    /// Caller index of each row.
    pub ids: Vec<u32>,
    /// Row of each caller index (`u32::MAX` when absent).
    pub row: Vec<u32>,
}

impl Rows {
    /// Rows in order of first appearance among `keys[i]` for selected `i`.
    pub(crate) fn first_appearance(keys: &[u32], selected: impl Iterator<Item = usize>) -> Rows {
        let size = keys.iter().map(|&k| k as usize + 1).max().unwrap_or(0);
        let mut row = vec![u32::MAX; size];
        let mut ids = Vec::new();
        for i in selected {
            let k = keys[i] as usize;
            if row[k] == u32::MAX {
                row[k] = ids.len() as u32;
                ids.push(keys[i]);
            }
        }
        Rows { ids, row }
    }

    /// Rows in increasing caller index among `keys[i]` for selected `i`.
    pub(crate) fn sorted(keys: &[u32], selected: impl Iterator<Item = usize>) -> Rows {
        let size = keys.iter().map(|&k| k as usize + 1).max().unwrap_or(0);
        let mut present = vec![false; size];
        for i in selected {
            present[keys[i] as usize] = true;
        }
        let mut row = vec![u32::MAX; size];
        let mut ids = Vec::new();
        for (k, _) in present.iter().enumerate().filter(|(_, p)| **p) {
            row[k] = ids.len() as u32;
            ids.push(k as u32);
        }
        Rows { ids, row }
    }
}

/// `values[index]` when present and finite, else `default` (the reference's fill of
/// missing and NaN initial values).
pub(crate) fn lookup(values: &[f64], index: u32, default: f64) -> f64 {
    values
        .get(index as usize)
        .copied()
        .filter(|v| v.is_finite())
        .unwrap_or(default)
}

/// Owned rating columns for tests: the columns a [`RatingView`] borrows.
#[cfg(test)]
pub(crate) struct RatingColumns {
    pub note: Vec<u32>,
    pub rater: Vec<u32>,
    pub created: Vec<i64>,
    pub level: Vec<Option<HelpfulnessLevel>>,
    pub tags: Vec<u32>,
}

#[cfg(test)]
impl RatingColumns {
    /// Every rating, in order.
    pub fn view(&self) -> RatingView<'_> {
        RatingView {
            note: &self.note,
            rater: &self.rater,
            created_at_millis: &self.created,
            level: &self.level,
            tags: &self.tags,
            order: None,
        }
    }

    /// The ratings at `order`, in that order, as columns of their own.
    pub fn gathered(&self, order: &[u32]) -> RatingColumns {
        fn pick<T: Copy>(values: &[T], order: &[u32]) -> Vec<T> {
            order.iter().map(|&k| values[k as usize]).collect()
        }
        RatingColumns {
            note: pick(&self.note, order),
            rater: pick(&self.rater, order),
            created: pick(&self.created, order),
            level: pick(&self.level, order),
            tags: pick(&self.tags, order),
        }
    }
}
