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
