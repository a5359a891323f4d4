//! The first matrix-factorization round of a scorer: rating filters, the fit, and the
//! provisional statuses it implies (the reference's `_prescore_notes_and_users` steps 1–4,
//! without stable initialization).

use crate::mf::{Factors, FitReport, Frozen, MfParams, RatingMatrix, fit, spectral_init};
use crate::rules::{RuleParams, provisional_status};
use crate::{NoteStatus, Ratings};

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
    let count = |keys: &[u32], keep: &[bool]| {
        let size = keys.iter().map(|&k| k as usize + 1).max().unwrap_or(0);
        let mut counts = vec![0usize; size];
        for (&k, _) in keys.iter().zip(keep).filter(|(_, kept)| **kept) {
            counts[k as usize] += 1;
        }
        counts
    };
    let notes = count(note, keep);
    keep.iter_mut()
        .zip(note)
        .for_each(|(k, &n)| *k &= notes[n as usize] >= min_note);
    let raters = count(rater, keep);
    keep.iter_mut()
        .zip(rater)
        .for_each(|(k, &u)| *k &= raters[u as usize] >= min_rater);
    let notes = count(note, keep);
    keep.iter_mut()
        .zip(note)
        .for_each(|(k, &n)| *k &= notes[n as usize] >= min_note);
}

/// Result of a first-round fit over a [`Ratings`] table.
#[derive(Clone, Debug)]
pub struct FirstRound {
    /// Note ids of the fit's note rows.
    pub note_ids: Vec<i64>,
    /// Rater ids of the fit's rater rows.
    pub rater_ids: Vec<String>,
    /// Ratings per note row in the fit.
    pub note_ratings: Vec<usize>,
    pub factors: Factors,
    pub report: FitReport,
}

impl FirstRound {
    /// The provisional status of note row `n` under the core thresholds (GeneralCRH and
    /// GeneralCRNH; classification is not considered here).
    pub fn status(&self, n: usize, thresholds: &RuleParams) -> NoteStatus {
        provisional_status(
            self.factors.note_intercept[n],
            self.factors.note_factor[n],
            self.note_ratings[n],
            thresholds,
        )
    }
}

/// Fits the core model to every rating that carries a helpfulness value, after the
/// first-round count filters; factors follow the reference's sign convention.
pub fn fit_first_round(
    ratings: &Ratings,
    params: &MfParams,
) -> Result<FirstRound, crate::mf::MfParamsError> {
    let params = params.validate()?;
    let mut keep: Vec<bool> = (0..ratings.len())
        .map(|i| ratings.helpful_num(i).is_some())
        .collect();
    filter_by_counts(
        &ratings.note,
        &ratings.rater,
        &mut keep,
        MIN_RATINGS_PER_RATER,
        MIN_RATINGS_PER_NOTE,
    );
    // Rows in order of first appearance, as the reference indexes them.
    let mut note_row = vec![u32::MAX; ratings.note_ids.len()];
    let mut rater_row = vec![u32::MAX; ratings.rater_ids.len()];
    let (mut note_ids, mut rater_ids) = (Vec::new(), Vec::new());
    let (mut ns, mut us, mut vs) = (Vec::new(), Vec::new(), Vec::new());
    for i in (0..ratings.len()).filter(|&i| keep[i]) {
        let n = ratings.note[i] as usize;
        if note_row[n] == u32::MAX {
            note_row[n] = note_ids.len() as u32;
            note_ids.push(ratings.note_ids[n]);
        }
        let u = ratings.rater[i] as usize;
        if rater_row[u] == u32::MAX {
            rater_row[u] = rater_ids.len() as u32;
            rater_ids.push(ratings.rater_ids[u].clone());
        }
        ns.push(note_row[n]);
        us.push(rater_row[u]);
        vs.push(ratings.helpful_num(i).expect("kept ratings have a value"));
    }
    let mut note_ratings = vec![0usize; note_ids.len()];
    ns.iter().for_each(|&n| note_ratings[n as usize] += 1);
    let matrix = RatingMatrix::new(note_ids.len(), rater_ids.len(), &ns, &us, &vs);
    let seed = deterministic_init(note_ids.len(), rater_ids.len()).rater_factor;
    let init = spectral_init(&matrix, &params, &seed);
    let (mut factors, report) = fit(&matrix, &params, init, Frozen::default());
    factors.identify_sign();
    Ok(FirstRound {
        note_ids,
        rater_ids,
        note_ratings,
        factors,
        report,
    })
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
