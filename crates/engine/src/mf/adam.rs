//! The rank-1 factorization under the replayed Adam loop of [`crate::adam`].

use crate::adam::{AdamReport, AdamSettings, pack_rank1, replay_adam, unpack_rank1};

use super::fit::{Factors, Frozen, loss_and_gradient};
use super::{RatingMatrix, ValidMfParams};

/// `f`'s trainable values in one vector (see [`pack_rank1`]).
fn pack(f: &Factors) -> Vec<f64> {
    let blocks = [
        &f.note_intercept[..],
        &f.note_factor,
        &f.rater_intercept,
        &f.rater_factor,
    ];
    pack_rank1(blocks, f.global_intercept)
}

/// Writes `x` (as [`pack`] lays it out) into `f`.
fn unpack(x: &[f64], f: &mut Factors) {
    let blocks = [
        &mut f.note_intercept[..],
        &mut f.note_factor,
        &mut f.rater_intercept,
        &mut f.rater_factor,
    ];
    unpack_rank1(x, blocks, &mut f.global_intercept);
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
    let report = replay_adam(&mut x, settings, |x, _| {
        let (loss, g) = loss_and_gradient(matrix, params, &at(x), frozen);
        (loss, pack(&g))
    });
    unpack(&x, &mut f);
    (f, report)
}
