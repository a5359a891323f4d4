//! Moves along the exact symmetries of the model, which change only the penalties.

use super::fit::{LogitFactors, Penalties};
use super::params::Trainable;

/// Rounds of the one-parameter moves in [`rebalance`]. The moves interact (most of them
/// touch the rater intercepts), so one round does not reach the least penalty; a few get
/// close, and the next pass continues from there.
const ROUNDS: usize = 4;

/// Moves along the model's exact symmetries to a point of less penalty.
///
/// Write the logit as `μ + i_u + R_u·N_n` with `R_u = (ρ_u, f_u)` and `N_n = (i_n, f_n)`.
/// The logits are unchanged by `N_n → M N_n + m`, `R_u → M⁻ᵀ R_u`, `i_u → i_u − R_u·M⁻¹m`
/// for any invertible 2×2 `M` and 2-vector `m`, and by `μ → μ + a, i_u → i_u − a`; only the
/// penalties change along these directions. Alternating block updates crawl along them
/// (the penalties are all that curve the loss there, and each block sees only its own
/// side of a move), so this step takes them directly. It cycles through one-parameter
/// moves, each to its exact least penalty:
///
/// * scales: `f_n → c f_n, f_u → f_u/c` and `i_n → c i_n, ρ_u → ρ_u/c`;
/// * shears: `f_n → f_n + t i_n, ρ_u → ρ_u − t f_u` and `i_n → i_n − t f_n,
///   f_u → f_u + t ρ_u`;
/// * shifts: `f_n → f_n + t, i_u → i_u − t f_u`, `i_n → i_n + t, i_u → i_u − t ρ_u` and
///   `μ → μ + t, i_u → i_u − t`; and, when the rater intercepts are frozen and every ρ_u
///   equals one value ρ ≠ 0, `i_n → i_n + t, μ → μ − ρ t`.
///
/// A move runs only when every block it changes is trainable. Each shift or shear is a
/// quadratic in `t`: moving `v → v + t·x` and `w → w − t·z` has its least penalty at
/// `t = (q Σ w z − p Σ v x) / (p Σ x² + q Σ z²)`.
pub(super) fn rebalance(f: &mut LogitFactors, pen: &Penalties, tr: &Trainable) {
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let dot = |v: &[f64], w: &[f64]| v.iter().zip(w).map(|(x, y)| x * y).sum::<f64>();
    let scale = |a: &mut Vec<f64>, pa: f64, b: &mut Vec<f64>, pb: f64| {
        // min over c of pa·c²·Σa² + pb·Σb²/c²  →  c⁴ = pb·Σb² / (pa·Σa²).
        let (sa, sb) = (pa * sq(a), pb * sq(b));
        if sa > 0.0 && sb > 0.0 && sa.is_finite() && sb.is_finite() {
            let c = (sb / sa).sqrt().sqrt();
            a.iter_mut().for_each(|x| *x *= c);
            b.iter_mut().for_each(|x| *x /= c);
        }
    };
    // v → v + t·x (penalty p), w → w − t·z (penalty q); `None` for x ≡ 1 or z ≡ 1.
    let shift =
        |v: &mut [f64], x: Option<&[f64]>, p: f64, w: &mut [f64], z: Option<&[f64]>, q: f64| {
            let (vx, xx) = match x {
                Some(x) => (dot(v, x), sq(x)),
                None => (v.iter().sum::<f64>(), v.len() as f64),
            };
            let (wz, zz) = match z {
                Some(z) => (dot(w, z), sq(z)),
                None => (w.iter().sum::<f64>(), w.len() as f64),
            };
            let denominator = p * xx + q * zz;
            let t = (q * wz - p * vx) / denominator;
            if !(denominator > 0.0 && t.is_finite()) || t == 0.0 {
                return;
            }
            match x {
                Some(x) => v.iter_mut().zip(x).for_each(|(a, b)| *a += t * b),
                None => v.iter_mut().for_each(|a| *a += t),
            }
            match z {
                Some(z) => w.iter_mut().zip(z).for_each(|(a, b)| *a -= t * b),
                None => w.iter_mut().for_each(|a| *a -= t),
            }
        };
    for _ in 0..ROUNDS {
        if tr.note_factor && tr.rater_factor {
            scale(
                &mut f.note_factor,
                pen.note_factor,
                &mut f.rater_factor,
                pen.rater_factor,
            );
        }
        if tr.note_intercept && tr.rater_reputation {
            scale(
                &mut f.note_intercept,
                pen.note_intercept,
                &mut f.rater_reputation,
                pen.rater_reputation,
            );
        }
        if tr.note_factor && tr.rater_reputation {
            shift(
                &mut f.note_factor,
                Some(&f.note_intercept),
                pen.note_factor,
                &mut f.rater_reputation,
                Some(&f.rater_factor),
                pen.rater_reputation,
            );
        }
        if tr.rater_factor && tr.note_intercept {
            shift(
                &mut f.rater_factor,
                Some(&f.rater_reputation),
                pen.rater_factor,
                &mut f.note_intercept,
                Some(&f.note_factor),
                pen.note_intercept,
            );
        }
        if tr.note_factor && tr.rater_intercept {
            shift(
                &mut f.note_factor,
                None,
                pen.note_factor,
                &mut f.rater_intercept,
                Some(&f.rater_factor),
                pen.rater_intercept,
            );
        }
        if tr.note_intercept && tr.rater_intercept {
            shift(
                &mut f.note_intercept,
                None,
                pen.note_intercept,
                &mut f.rater_intercept,
                Some(&f.rater_reputation),
                pen.rater_intercept,
            );
        }
        if tr.global_intercept && tr.rater_intercept {
            shift(
                std::slice::from_mut(&mut f.global_intercept),
                None,
                pen.global,
                &mut f.rater_intercept,
                None,
                pen.rater_intercept,
            );
        }
    }
    let rho = f.rater_reputation.first().copied();
    let constant = rho.is_some_and(|r| r != 0.0 && f.rater_reputation.iter().all(|x| *x == r));
    if let (true, Some(rho)) = (
        tr.global_intercept && tr.note_intercept && !tr.rater_intercept && constant,
        rho,
    ) {
        // min over b of pen_μ·(μ + ρb)² + p·Σ(i_n − b)².
        let p = pen.note_intercept;
        let count = f.note_intercept.len() as f64;
        let denominator = p * count + pen.global * rho * rho;
        if denominator > 0.0 && rho != 0.0 {
            let sum: f64 = f.note_intercept.iter().sum();
            let b = (p * sum - pen.global * rho * f.global_intercept) / denominator;
            f.global_intercept += rho * b;
            f.note_intercept.iter_mut().for_each(|x| *x -= b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(notes: usize, raters: usize, seed: u64) -> LogitFactors {
        let mut state = seed | 1;
        let mut next = || {
            state = crate::first_round::splitmix64(state);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut f = LogitFactors::new(notes, raters);
        f.global_intercept = next();
        for n in 0..notes {
            f.note_intercept[n] = next() + 0.3;
            f.note_factor[n] = 2.0 * next() - 0.5;
        }
        for u in 0..raters {
            f.rater_intercept[u] = next() - 0.2;
            f.rater_factor[u] = 0.5 * next() + 0.4;
            f.rater_reputation[u] = 1.0 + 0.5 * next();
        }
        f
    }

    fn penalty(f: &LogitFactors, p: &Penalties) -> f64 {
        let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
        p.note_intercept * sq(&f.note_intercept)
            + p.note_factor * sq(&f.note_factor)
            + p.rater_intercept * sq(&f.rater_intercept)
            + p.rater_factor * sq(&f.rater_factor)
            + p.rater_reputation * sq(&f.rater_reputation)
            + p.global * f.global_intercept * f.global_intercept
    }

    const PEN: Penalties = Penalties {
        note_intercept: 2.0,
        note_factor: 0.5,
        rater_intercept: 3.0,
        rater_factor: 0.7,
        rater_reputation: 1.5,
        global: 0.4,
    };

    #[test]
    fn moves_keep_every_logit_and_lower_the_penalty() {
        let choices = [
            Trainable::ALL,
            Trainable::PLAIN,
            Trainable {
                note_intercept: false,
                ..Trainable::ALL
            },
            Trainable {
                note_intercept: true,
                rater_intercept: true,
                global_intercept: true,
                ..Trainable::NONE
            },
        ];
        for (k, tr) in choices.into_iter().enumerate() {
            let mut f = factors(30, 20, k as u64);
            if !tr.rater_reputation {
                f.rater_reputation.iter_mut().for_each(|r| *r = 1.0);
            }
            let before = f.clone();
            rebalance(&mut f, &PEN, &tr);
            for n in 0..30 {
                for u in 0..20 {
                    let (a, b) = (before.logit(n, u), f.logit(n, u));
                    assert!(
                        (a - b).abs() < 1e-12 * (1.0 + a.abs()),
                        "{tr:?}: {a} vs {b}"
                    );
                }
            }
            let (p0, p1) = (penalty(&before, &PEN), penalty(&f, &PEN));
            assert!(p1 < p0 * 0.999, "{tr:?}: {p0} → {p1}");
            let same = |on: bool, a: &[f64], b: &[f64]| on || a == b;
            assert!(same(
                tr.note_intercept,
                &f.note_intercept,
                &before.note_intercept
            ));
            assert!(same(tr.note_factor, &f.note_factor, &before.note_factor));
            assert!(same(
                tr.rater_intercept,
                &f.rater_intercept,
                &before.rater_intercept
            ));
            assert!(same(tr.rater_factor, &f.rater_factor, &before.rater_factor));
            assert!(same(
                tr.rater_reputation,
                &f.rater_reputation,
                &before.rater_reputation
            ));
            assert!(tr.global_intercept || f.global_intercept == before.global_intercept);
        }
    }

    #[test]
    fn repeated_moves_settle() {
        // Rounds of moves approach the least penalty along the symmetries: a second call
        // changes the penalty far less than the first.
        let mut f = factors(40, 25, 9);
        let p0 = penalty(&f, &PEN);
        rebalance(&mut f, &PEN, &Trainable::ALL);
        let p1 = penalty(&f, &PEN);
        for _ in 0..20 {
            rebalance(&mut f, &PEN, &Trainable::ALL);
        }
        let p2 = penalty(&f, &PEN);
        rebalance(&mut f, &PEN, &Trainable::ALL);
        let p3 = penalty(&f, &PEN);
        assert!(p1 < p0 && p2 <= p1 && p3 <= p2);
        assert!((p2 - p3) < 1e-6 * (p0 - p1), "{p0} {p1} {p2} {p3}");
    }
}
