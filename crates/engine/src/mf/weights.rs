//! The reference's normalized loss (`NormalizedLoss`): per-rating weights that balance the
//! two sides of the rater factor and damp prolific raters, computed from a first fit's
//! rater factors and used by a second fit.

use super::{NormalizedLoss, RatingMatrix};

/// The ratings `(note row, rater row, value)` as a matrix weighted by
/// [`normalized_weights`] from the first fit's `rater_factor`: what the second fit of a
/// normalized-loss model solves.
pub fn normalized_matrix(
    (notes, raters): (usize, usize),
    (note, rater, value): (&[u32], &[u32], &[f32]),
    rater_factor: &[f64],
    h: &NormalizedLoss,
) -> RatingMatrix {
    let weights = normalized_weights(notes, raters, note, rater, rater_factor, h);
    RatingMatrix::new_weighted(notes, raters, note, rater, value, &weights)
}

/// Per-rating weights, in the order of `note` and `rater` (rows of the fit), from the
/// raters' factors of a first fit (`rater_factor`, per rater row; a factor above 0 counts
/// as the positive side). Every weight starts at 1 and the steps of `h` apply in its field
/// order. Values are rounded to 32 bits, as the reference hands them to its loss.
///
/// Where one side of the factor has no rating at all the sign balancing is skipped (the
/// reference would divide by zero there).
///
/// # Panics
/// If `note` and `rater` differ in length or an index is out of range.
pub fn normalized_weights(
    notes: usize,
    raters: usize,
    note: &[u32],
    rater: &[u32],
    rater_factor: &[f64],
    h: &NormalizedLoss,
) -> Vec<f64> {
    assert_eq!(note.len(), rater.len(), "ragged rating arrays");
    assert_eq!(rater_factor.len(), raters, "one factor per rater row");
    let positive: Vec<bool> = rater
        .iter()
        .map(|&u| rater_factor[u as usize] > 0.0)
        .collect();
    let mut w = vec![1.0f64; note.len()];
    let totals = |w: &[f64], keys: &[u32], buckets: usize| {
        let mut t = vec![0.0f64; buckets];
        for (&k, &x) in keys.iter().zip(w) {
            t[k as usize] += x;
        }
        t
    };
    if let Some(alpha) = h.note_sign_alpha {
        let before = totals(&w, note, notes);
        let (mut pos, mut neg) = (vec![0.0f64; notes], vec![0.0f64; notes]);
        let (mut has_pos, mut has_neg) = (vec![false; notes], vec![false; notes]);
        for (k, &n) in note.iter().enumerate() {
            let n = n as usize;
            if positive[k] {
                pos[n] += w[k];
                has_pos[n] = true;
            } else {
                neg[n] += w[k];
                has_neg[n] = true;
            }
        }
        for (k, &n) in note.iter().enumerate() {
            let n = n as usize;
            if positive[k] && has_pos[n] && has_neg[n] {
                w[k] *= (alpha + neg[n]) / (alpha + pos[n]);
            }
        }
        let after = totals(&w, note, notes);
        for (k, &n) in note.iter().enumerate() {
            w[k] = w[k] / after[n as usize] * before[n as usize];
        }
    }
    if h.global_sign_norm {
        let pos = positive.iter().filter(|&&p| p).count();
        let neg = positive.len() - pos;
        if pos > 0 && neg > 0 {
            let before: f64 = w.iter().sum();
            let ratio = neg as f64 / pos as f64;
            for (x, &p) in w.iter_mut().zip(&positive) {
                if p {
                    *x *= ratio;
                }
            }
            let after: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x *= before / after);
        }
    }
    if h.note_norm_exp != 0.0 {
        let t = totals(&w, note, notes);
        for (x, &n) in w.iter_mut().zip(note) {
            *x *= t[n as usize].powf(h.note_norm_exp);
        }
    }
    if h.rater_norm_exp != 0.0 {
        let t = totals(&w, rater, raters);
        for (x, &u) in w.iter_mut().zip(rater) {
            *x *= t[u as usize].powf(h.rater_norm_exp);
        }
    }
    w.iter().map(|&x| f64::from(x as f32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: NormalizedLoss = NormalizedLoss {
        note_sign_alpha: None,
        global_sign_norm: false,
        note_norm_exp: 0.0,
        rater_norm_exp: 0.0,
    };

    #[test]
    fn no_step_leaves_every_weight_at_one() {
        let w = normalized_weights(2, 2, &[0, 1, 1], &[0, 0, 1], &[1.0, -1.0], &PLAIN);
        assert_eq!(w, vec![1.0; 3]);
    }

    #[test]
    fn global_sign_norm_gives_both_sides_half_the_total() {
        // Raters 0 and 1 positive (3 ratings), rater 2 negative (1 rating).
        let (note, rater) = ([0, 1, 2, 0], [0, 0, 1, 2]);
        let h = NormalizedLoss {
            global_sign_norm: true,
            ..PLAIN
        };
        let w = normalized_weights(3, 3, &note, &rater, &[0.5, 0.1, -0.3], &h);
        let pos: f64 = w[..3].iter().sum();
        assert!((pos - 2.0).abs() < 1e-6, "{w:?}");
        assert!((w[3] - 2.0).abs() < 1e-6, "{w:?}");
    }

    #[test]
    fn rater_norm_divides_by_a_power_of_the_rater_total() {
        // Rater 0 rates 16 notes, rater 1 one.
        let note: Vec<u32> = (0..17).collect();
        let mut rater = vec![0u32; 16];
        rater.push(1);
        let h = NormalizedLoss {
            rater_norm_exp: -0.25,
            ..PLAIN
        };
        let w = normalized_weights(17, 2, &note, &rater, &[1.0, -1.0], &h);
        assert!(w[..16].iter().all(|&x| x == 0.5), "{w:?}");
        assert_eq!(w[16], 1.0);
    }

    #[test]
    fn note_sign_keeps_each_note_total_and_tilts_towards_the_minority() {
        // Note 0: two positive ratings, one negative. Note 1: positive only (untouched).
        let (note, rater) = ([0, 0, 0, 1], [0, 1, 2, 0]);
        let h = NormalizedLoss {
            note_sign_alpha: Some(1.0),
            note_norm_exp: 1.0,
            ..PLAIN
        };
        let w = normalized_weights(2, 3, &note, &rater, &[1.0, 1.0, -1.0], &h);
        // Positive side scaled by (1 + 1) / (1 + 2), then note 0 restored to 3; the note
        // norm then multiplies by the note total (3 and 1).
        let scale = 3.0 / (2.0 * 2.0 / 3.0 + 1.0);
        assert!((w[0] - 3.0 * 2.0 / 3.0 * scale).abs() < 1e-5, "{w:?}");
        assert!((w[2] - 3.0 * scale).abs() < 1e-5, "{w:?}");
        assert_eq!(w[3], 1.0);
    }
}
