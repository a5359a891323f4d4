//! The rank-1 factorization under the replayed Adam loop of [`crate::adam`].

use crate::adam::{AdamReport, AdamSettings, replay_adam};

use super::fit::{Factors, Frozen, gradient, loss};
use super::{RatingMatrix, ValidMfParams};

/// All values of `f` in one vector: note intercepts, note factors, rater intercepts, rater
/// factors, μ.
fn pack(f: &Factors) -> Vec<f64> {
    let mut x = Vec::with_capacity(2 * (f.note_intercept.len() + f.rater_intercept.len()) + 1);
    x.extend_from_slice(&f.note_intercept);
    x.extend_from_slice(&f.note_factor);
    x.extend_from_slice(&f.rater_intercept);
    x.extend_from_slice(&f.rater_factor);
    x.push(f.global_intercept);
    x
}

/// Writes `x` (as [`pack`] lays it out) into `f`.
fn unpack(x: &[f64], f: &mut Factors) {
    let (notes, raters) = (f.note_intercept.len(), f.rater_intercept.len());
    let (ni, rest) = x.split_at(notes);
    let (nf, rest) = rest.split_at(notes);
    let (ri, rest) = rest.split_at(raters);
    let (rf, mu) = rest.split_at(raters);
    f.note_intercept.copy_from_slice(ni);
    f.note_factor.copy_from_slice(nf);
    f.rater_intercept.copy_from_slice(ri);
    f.rater_factor.copy_from_slice(rf);
    f.global_intercept = mu[0];
}

/// Fits `matrix` from `init` with the replayed Adam loop; `frozen` blocks keep their
/// initial values (rounded to single precision).
pub fn fit_adam(
    matrix: &RatingMatrix,
    params: &ValidMfParams,
    init: Factors,
    frozen: Frozen,
    settings: &AdamSettings,
) -> (Factors, AdamReport) {
    let mut f = init;
    let mut x = pack(&f);
    let at = |x: &[f64]| {
        let mut g = f.clone();
        unpack(x, &mut g);
        g
    };
    let report = replay_adam(
        &mut x,
        settings,
        |x| loss(matrix, params, &at(x)).0,
        |x| pack(&gradient(matrix, params, &at(x), frozen)),
    );
    unpack(&x, &mut f);
    (f, report)
}
