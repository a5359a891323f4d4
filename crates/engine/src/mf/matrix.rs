//! The ratings of one fit, indexed both note-major and rater-major so that every parameter
//! update reads a contiguous run and has exactly one writer (deterministic, no atomics).

/// Ratings of one fit in compressed form: `u32` indices, `f32` values, two orderings.
#[derive(Clone, Debug)]
pub struct RatingMatrix {
    notes: usize,
    raters: usize,
    /// Note-major: ratings of note `n` are `by_note_*[note_start[n]..note_start[n + 1]]`.
    note_start: Vec<usize>,
    by_note_rater: Vec<u32>,
    by_note_value: Vec<f32>,
    /// Rater-major, likewise.
    rater_start: Vec<usize>,
    by_rater_note: Vec<u32>,
    by_rater_value: Vec<f32>,
    /// Per-rating loss weights in both orders (`None`: every weight is 1).
    by_note_weight: Option<Vec<f64>>,
    by_rater_weight: Option<Vec<f64>>,
}

/// Stable counting sort: bucket starts and, per sorted position, the input position.
pub(crate) fn counting_sort(keys: &[u32], buckets: usize) -> (Vec<usize>, Vec<u32>) {
    let mut start = vec![0usize; buckets + 1];
    for &k in keys {
        start[k as usize + 1] += 1;
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut next = start.clone();
    let mut order = vec![0u32; keys.len()];
    for (i, &k) in keys.iter().enumerate() {
        order[next[k as usize]] = i as u32;
        next[k as usize] += 1;
    }
    (start, order)
}

impl RatingMatrix {
    /// Builds the matrix from parallel arrays of note index, rater index and value.
    ///
    /// # Panics
    /// If the arrays differ in length or an index is out of range.
    pub fn new(notes: usize, raters: usize, note: &[u32], rater: &[u32], value: &[f32]) -> Self {
        Self::build(notes, raters, note, rater, value, None)
    }

    /// As [`new`](Self::new), each rating's squared error weighted by `weight` in the loss.
    ///
    /// # Panics
    /// If the arrays differ in length or an index is out of range.
    pub fn new_weighted(
        notes: usize,
        raters: usize,
        note: &[u32],
        rater: &[u32],
        value: &[f32],
        weight: &[f64],
    ) -> Self {
        assert_eq!(weight.len(), value.len(), "one weight per rating");
        Self::build(notes, raters, note, rater, value, Some(weight))
    }

    fn build(
        notes: usize,
        raters: usize,
        note: &[u32],
        rater: &[u32],
        value: &[f32],
        weight: Option<&[f64]>,
    ) -> Self {
        assert!(
            note.len() == rater.len() && rater.len() == value.len(),
            "ragged rating arrays"
        );
        assert!(
            note.len() < u32::MAX as usize,
            "too many ratings for one fit"
        );
        let (note_start, note_order) = counting_sort(note, notes);
        let (rater_start, rater_order) = counting_sort(rater, raters);
        let permute = |order: &[u32], w: &[f64]| order.iter().map(|&i| w[i as usize]).collect();
        RatingMatrix {
            notes,
            raters,
            by_note_rater: note_order.iter().map(|&i| rater[i as usize]).collect(),
            by_note_value: note_order.iter().map(|&i| value[i as usize]).collect(),
            by_note_weight: weight.map(|w| permute(&note_order, w)),
            note_start,
            by_rater_note: rater_order.iter().map(|&i| note[i as usize]).collect(),
            by_rater_value: rater_order.iter().map(|&i| value[i as usize]).collect(),
            by_rater_weight: weight.map(|w| permute(&rater_order, w)),
            rater_start,
        }
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.by_note_value.len()
    }

    /// Whether there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.by_note_value.is_empty()
    }

    /// Whether the ratings carry loss weights.
    pub fn is_weighted(&self) -> bool {
        self.by_note_weight.is_some()
    }

    /// Number of note rows (some may have no ratings).
    pub fn notes(&self) -> usize {
        self.notes
    }

    /// Number of rater rows.
    pub fn raters(&self) -> usize {
        self.raters
    }

    /// Raters and values of the ratings of note `n`.
    pub fn note_ratings(&self, n: usize) -> (&[u32], &[f32]) {
        let range = self.note_start[n]..self.note_start[n + 1];
        (
            &self.by_note_rater[range.clone()],
            &self.by_note_value[range],
        )
    }

    /// Notes and values of the ratings by rater `u`.
    pub fn rater_ratings(&self, u: usize) -> (&[u32], &[f32]) {
        let range = self.rater_start[u]..self.rater_start[u + 1];
        (
            &self.by_rater_note[range.clone()],
            &self.by_rater_value[range],
        )
    }

    /// Loss weights of the ratings of note `n`, in [`note_ratings`](Self::note_ratings)
    /// order (`None`: all 1).
    pub fn note_weights(&self, n: usize) -> Option<&[f64]> {
        let range = self.note_start[n]..self.note_start[n + 1];
        self.by_note_weight.as_ref().map(|w| &w[range])
    }

    /// Loss weights of the ratings by rater `u` (`None`: all 1).
    pub fn rater_weights(&self, u: usize) -> Option<&[f64]> {
        let range = self.rater_start[u]..self.rater_start[u + 1];
        self.by_rater_weight.as_ref().map(|w| &w[range])
    }
}
