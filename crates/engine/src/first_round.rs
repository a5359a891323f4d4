//! Pieces of a scorer's first matrix-factorization round: the rating count filters and a
//! deterministic starting point for free fits (see `scorer::prescore`).

use crate::mf::Factors;

/// Minimum ratings per rater and per note for a first-round fit (`filter_ratings(10, 5)`).
pub const MIN_RATINGS_PER_RATER: usize = 10;
/// Minimum ratings per note (`minNumRatingsPerNote`).
pub const MIN_RATINGS_PER_NOTE: usize = 5;

/// Which ratings survive the reference's count filter: notes with at least `min_note`
/// ratings, then raters with at least `min_rater` of the remaining ratings, then notes with
/// at least `min_note` again — one pass each, not iterated to a fixed point.
pub fn filter_by_counts(
    note: &[u32],
    rater: &[u32],
    keep: &mut [bool],
    min_rater: usize,
    min_note: usize,
) {
    assert!(
        note.len() == keep.len() && rater.len() == keep.len(),
        "one note, rater and flag per rating"
    );
    filter_by_counts_with(keep, |i| note[i], |i| rater[i], min_rater, min_note);
}

/// [`filter_by_counts`] over ratings `0..keep.len()` whose note and rater are `note(i)` and
/// `rater(i)` (for ratings read through a view).
pub fn filter_by_counts_with(
    keep: &mut [bool],
    note: impl Fn(usize) -> u32,
    rater: impl Fn(usize) -> u32,
    min_rater: usize,
    min_note: usize,
) {
    let count = |key: &dyn Fn(usize) -> u32, keep: &[bool]| {
        let size = (0..keep.len())
            .map(|i| key(i) as usize + 1)
            .max()
            .unwrap_or(0);
        let mut counts = vec![0usize; size];
        for i in (0..keep.len()).filter(|&i| keep[i]) {
            counts[key(i) as usize] += 1;
        }
        counts
    };
    let notes = count(&note, keep);
    for (i, k) in keep.iter_mut().enumerate() {
        *k &= notes[note(i) as usize] >= min_note;
    }
    let raters = count(&rater, keep);
    for (i, k) in keep.iter_mut().enumerate() {
        *k &= raters[rater(i) as usize] >= min_rater;
    }
    let notes = count(&note, keep);
    for (i, k) in keep.iter_mut().enumerate() {
        *k &= notes[note(i) as usize] >= min_note;
    }
}

/// A fixed pseudo-random starting point: factors uniform in (−a, a) with
/// a = sqrt(6 / (rows + 1)) (the reference's Xavier initialization), intercepts zero. The
/// draws come from a hash of the row index, so they do not depend on threads or history.
pub fn deterministic_init(notes: usize, raters: usize) -> Factors {
    let mut f = Factors::zeros(notes, raters);
    let draw = |stream: u64, k: usize, rows: usize| {
        let a = (6.0 / (rows as f64 + 1.0)).sqrt();
        let x = (splitmix64(stream ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 11) as f64
            / (1u64 << 53) as f64;
        (2.0 * x - 1.0) * a
    };
    f.rater_factor
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = draw(1, k, raters));
    f.note_factor
        .iter_mut()
        .enumerate()
        .for_each(|(k, x)| *x = draw(2, k, notes));
    f
}

/// The SplitMix64 finalizer: a well-mixed 64-bit hash.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_filter_is_one_pass_each() {
        // Note 0: 5 ratings by raters 0..5; note 1: 4 ratings.
        let note = [0, 0, 0, 0, 0, 1, 1, 1, 1];
        let rater = [0, 1, 2, 3, 4, 0, 1, 2, 3];
        let mut keep = [true; 9];
        filter_by_counts(&note, &rater, &mut keep, 1, 5);
        assert_eq!(
            keep,
            [true, true, true, true, true, false, false, false, false]
        );
        let mut keep = [true; 9];
        // Rater minimum 2 drops rater 4, and then note 0 has only 4 ratings left.
        filter_by_counts(&note, &rater, &mut keep, 2, 4);
        assert_eq!(
            keep,
            [true, true, true, true, false, true, true, true, true]
        );
    }
}
