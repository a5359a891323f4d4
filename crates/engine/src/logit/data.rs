//! The labelled, weighted ratings of one logistic fit, held note-major and rater-major so
//! that every block update reads a contiguous run and has exactly one writer.

use crate::mf::counting_sort;

/// The ratings of one block (one note or one rater): the other side's row, the label and
/// the weight of each rating.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// Rater rows (in a note's run) or note rows (in a rater's run).
    pub other: &'a [u32],
    pub label: &'a [f32],
    pub weight: &'a [f64],
}

/// Ratings of one fit: `u32` rows, `f32` labels in [0, 1], `f64` weights, two orderings
/// (40 bytes a rating). Weights start at 1 and can be replaced with
/// [`LogitData::set_weights`]. The input order is not kept as such: each ordering records
/// the input position of its entries, and both sort stably, so a row's entries are in input
/// order.
#[derive(Clone, Debug)]
pub struct LogitData {
    notes: usize,
    raters: usize,
    note_start: Vec<usize>,
    by_note_rater: Vec<u32>,
    by_note_label: Vec<f32>,
    by_note_weight: Vec<f64>,
    /// Input position of each note-major entry.
    by_note_input: Vec<u32>,
    rater_start: Vec<usize>,
    by_rater_note: Vec<u32>,
    by_rater_label: Vec<f32>,
    by_rater_weight: Vec<f64>,
    by_rater_input: Vec<u32>,
}

impl LogitData {
    /// Builds the data from parallel arrays of note row, rater row and label; every weight
    /// is 1.
    ///
    /// # Panics
    /// If the arrays differ in length, a row is out of range or a label is outside [0, 1].
    pub fn new(notes: usize, raters: usize, note: &[u32], rater: &[u32], label: &[f32]) -> Self {
        assert!(
            note.len() == rater.len() && rater.len() == label.len(),
            "ragged rating arrays"
        );
        assert!(
            note.len() < u32::MAX as usize,
            "too many ratings for one fit"
        );
        assert!(
            note.iter().all(|&n| (n as usize) < notes),
            "note row out of range"
        );
        assert!(
            rater.iter().all(|&u| (u as usize) < raters),
            "rater row out of range"
        );
        assert!(
            label.iter().all(|y| (0.0..=1.0).contains(y)),
            "labels must lie in [0, 1]"
        );
        let (note_start, by_note_input) = counting_sort(note, notes);
        let (rater_start, by_rater_input) = counting_sort(rater, raters);
        LogitData {
            notes,
            raters,
            by_note_rater: by_note_input.iter().map(|&i| rater[i as usize]).collect(),
            by_note_label: by_note_input.iter().map(|&i| label[i as usize]).collect(),
            by_note_weight: vec![1.0; note.len()],
            by_note_input,
            note_start,
            by_rater_note: by_rater_input.iter().map(|&i| note[i as usize]).collect(),
            by_rater_label: by_rater_input.iter().map(|&i| label[i as usize]).collect(),
            by_rater_weight: vec![1.0; note.len()],
            by_rater_input,
            rater_start,
        }
    }

    /// Replaces the weights; `weights` is in input order (one per rating given to `new`).
    ///
    /// # Panics
    /// If there is not one weight per rating or a weight is negative or not finite.
    pub fn set_weights(&mut self, weights: &[f64]) {
        assert_eq!(weights.len(), self.len(), "one weight per rating");
        assert!(
            weights.iter().all(|w| w.is_finite() && *w >= 0.0),
            "weights must be finite and >= 0"
        );
        for (slot, &i) in self.by_note_weight.iter_mut().zip(&self.by_note_input) {
            *slot = weights[i as usize];
        }
        for (slot, &i) in self.by_rater_weight.iter_mut().zip(&self.by_rater_input) {
            *slot = weights[i as usize];
        }
    }

    /// The weights in input order.
    pub fn weights(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.len()];
        for (&w, &i) in self.by_note_weight.iter().zip(&self.by_note_input) {
            out[i as usize] = w;
        }
        out
    }

    /// Note rows, rater rows and labels in input order, rebuilt from the note-major
    /// ordering.
    #[cfg(test)]
    pub fn input(&self) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
        let (mut note, mut rater, mut label) = (
            vec![0; self.len()],
            vec![0; self.len()],
            vec![0.0; self.len()],
        );
        for n in 0..self.notes {
            let run = self.note_run(n);
            for (j, &i) in self.note_inputs(n).iter().enumerate() {
                let i = i as usize;
                (note[i], rater[i], label[i]) = (n as u32, run.other[j], run.label[j]);
            }
        }
        (note, rater, label)
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.by_note_label.len()
    }

    /// Whether there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.by_note_label.is_empty()
    }

    /// Input positions of the ratings of note row `n`, increasing (the order of
    /// [`note_run`](Self::note_run)).
    pub fn note_inputs(&self, n: usize) -> &[u32] {
        &self.by_note_input[self.note_start[n]..self.note_start[n + 1]]
    }

    /// Input positions of the ratings by rater row `u`, increasing (the order of
    /// [`rater_run`](Self::rater_run)).
    pub fn rater_inputs(&self, u: usize) -> &[u32] {
        &self.by_rater_input[self.rater_start[u]..self.rater_start[u + 1]]
    }

    /// Number of note rows (parameter rows; some may have no ratings).
    pub fn notes(&self) -> usize {
        self.notes
    }

    /// Number of rater rows.
    pub fn raters(&self) -> usize {
        self.raters
    }

    /// The ratings of note row `n`.
    pub fn note_run(&self, n: usize) -> Run<'_> {
        let range = self.note_start[n]..self.note_start[n + 1];
        Run {
            other: &self.by_note_rater[range.clone()],
            label: &self.by_note_label[range.clone()],
            weight: &self.by_note_weight[range],
        }
    }

    /// The ratings by rater row `u`.
    pub fn rater_run(&self, u: usize) -> Run<'_> {
        let range = self.rater_start[u]..self.rater_start[u + 1];
        Run {
            other: &self.by_rater_note[range.clone()],
            label: &self.by_rater_label[range.clone()],
            weight: &self.by_rater_weight[range],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_their_ratings_in_both_orderings() {
        let note = [1, 0, 1, 0];
        let rater = [0, 1, 1, 0];
        let label = [1.0, 0.0, 0.0, 1.0];
        let mut d = LogitData::new(2, 2, &note, &rater, &label);
        d.set_weights(&[10.0, 20.0, 30.0, 40.0]);
        assert_eq!(d.weights(), vec![10.0, 20.0, 30.0, 40.0]);
        let r = d.note_run(0);
        assert_eq!(r.other, &[1, 0]);
        assert_eq!(r.weight, &[20.0, 40.0]);
        assert_eq!(r.label, &[0.0, 1.0]);
        let r = d.rater_run(1);
        assert_eq!(r.other, &[0, 1]);
        assert_eq!(r.weight, &[20.0, 30.0]);
        assert_eq!(
            (d.note_inputs(1), d.rater_inputs(0)),
            (&[0, 2][..], &[0, 3][..])
        );
        assert_eq!(d.input(), (note.to_vec(), rater.to_vec(), label.to_vec()));
    }
}
