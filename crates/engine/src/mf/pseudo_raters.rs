//! Uncertainty of note intercepts from pseudo-raters (the reference's `PseudoRatersRunner`).
//!
//! After the final fit, three imaginary raters with the most extreme parameters of the fit —
//! the lowest rater intercept combined with the lowest, zero and highest rater factor — each
//! rate every note "helpful" in turn, and the note parameters are refit with raters frozen.
//! The spread of the refits bounds how much one more rating could move a note. The
//! reference's refits use the plain per-note penalty (no rating-per-note ratio), so the
//! unchanged data is refit too.

use super::{Factors, Frozen, MfParams, MfParamsError, RatingMatrix, fit};

/// Per note row: min, median and max over the four refits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NoteBounds {
    pub intercept_min: Vec<f64>,
    pub intercept_median: Vec<f64>,
    pub intercept_max: Vec<f64>,
    pub factor_min: Vec<f64>,
    pub factor_median: Vec<f64>,
    pub factor_max: Vec<f64>,
}

/// Refits the notes of a frozen-rater fit four times (original ratings, and the ratings
/// plus one helpful rating on every note by each extreme pseudo-rater) and returns the
/// spread. `fitted` holds the final fit's parameters for the rows of the matrix built from
/// `note`/`rater`/`value`; `params` are the fit's hyperparameters (any rating-per-note ratio
/// is dropped, as in the reference).
pub fn pseudo_rater_bounds(
    notes: usize,
    note: &[u32],
    rater: &[u32],
    value: &[f32],
    fitted: &Factors,
    params: &MfParams,
) -> Result<NoteBounds, MfParamsError> {
    let params = MfParams {
        rating_per_note_loss_ratio: None,
        ..*params
    }
    .validate()?;
    let raters = fitted.rater_intercept.len();
    let rated_raters: Vec<usize> = {
        let mut seen = vec![false; raters];
        rater.iter().for_each(|&u| seen[u as usize] = true);
        (0..raters).filter(|&u| seen[u]).collect()
    };
    let min_intercept = rated_raters
        .iter()
        .map(|&u| fitted.rater_intercept[u])
        .fold(f64::INFINITY, f64::min);
    let min_factor = rated_raters
        .iter()
        .map(|&u| fitted.rater_factor[u])
        .fold(f64::INFINITY, f64::min);
    let max_factor = rated_raters
        .iter()
        .map(|&u| fitted.rater_factor[u])
        .fold(f64::NEG_INFINITY, f64::max);
    let rated_notes: Vec<u32> = {
        let mut seen = vec![false; notes];
        note.iter().for_each(|&n| seen[n as usize] = true);
        (0..notes as u32).filter(|&n| seen[n as usize]).collect()
    };

    let mut init = fitted.clone();
    init.rater_intercept.extend([min_intercept; 3]);
    init.rater_factor.extend([min_factor, 0.0, max_factor]);
    let frozen = Frozen {
        raters: true,
        global_intercept: true,
    };
    let mut refits: Vec<Factors> = Vec::with_capacity(4);
    for extra in [None, Some(0u32), Some(1), Some(2)] {
        let (mut ns, mut us, mut vs) = (note.to_vec(), rater.to_vec(), value.to_vec());
        if let Some(k) = extra {
            for &n in &rated_notes {
                ns.push(n);
                us.push(raters as u32 + k);
                vs.push(1.0);
            }
        }
        let matrix = RatingMatrix::new(notes, raters + 3, &ns, &us, &vs);
        refits.push(fit(&matrix, &params, init.clone(), frozen).0);
    }
    let spread = |pick: &dyn Fn(&Factors, usize) -> f64, n: usize| {
        let mut values: Vec<f64> = refits.iter().map(|f| pick(f, n)).collect();
        values.sort_by(f64::total_cmp);
        (values[0], (values[1] + values[2]) / 2.0, values[3])
    };
    let mut bounds = NoteBounds::default();
    for n in 0..notes {
        let (lo, mid, hi) = spread(&|f, n| f.note_intercept[n], n);
        bounds.intercept_min.push(lo);
        bounds.intercept_median.push(mid);
        bounds.intercept_max.push(hi);
        let (lo, mid, hi) = spread(&|f, n| f.note_factor[n], n);
        bounds.factor_min.push(lo);
        bounds.factor_median.push(mid);
        bounds.factor_max.push(hi);
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_helpful_rating_raises_the_upper_bound() {
        // Two camps of raters; note 0 is liked by everyone, note 1 by one camp only.
        let (mut ns, mut us, mut vs) = (vec![], vec![], vec![]);
        for u in 0..10u32 {
            ns.push(0);
            us.push(u);
            vs.push(1.0);
            ns.push(1);
            us.push(u);
            vs.push(if u < 5 { 1.0 } else { 0.0 });
        }
        let mut fitted = Factors::zeros(2, 10);
        for u in 0..10 {
            fitted.rater_factor[u] = if u < 5 { -0.5 } else { 0.5 };
            fitted.rater_intercept[u] = 0.01 * u as f64;
        }
        let params = MfParams {
            rating_per_note_loss_ratio: Some(3.0),
            ..MfParams::default()
        };
        let m = RatingMatrix::new(2, 10, &ns, &us, &vs);
        let main = fit(
            &m,
            &params.validate().unwrap(),
            fitted,
            Frozen {
                raters: true,
                global_intercept: true,
            },
        )
        .0;
        let b = pseudo_rater_bounds(2, &ns, &us, &vs, &main, &params).unwrap();
        for n in 0..2 {
            assert!(
                b.intercept_min[n] <= b.intercept_median[n]
                    && b.intercept_median[n] <= b.intercept_max[n]
            );
            assert!(b.intercept_max[n] > b.intercept_min[n]);
            assert!(
                b.factor_max[n] > b.factor_min[n],
                "pseudo-raters on either side pull the factor"
            );
        }
    }
}
