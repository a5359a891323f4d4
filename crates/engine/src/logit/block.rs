//! Block updates: every note's `(i_n, f_n)` given the raters, every rater's
//! `(i_u, f_u, ρ_u)` given the notes, and μ given both, each by damped Newton steps on a
//! 2×2, 3×3 or 1×1 system, in parallel over blocks with one writer per parameter.

use rayon::prelude::*;

use super::LogitData;
use super::fit::{LogitFactors, Penalties, bce_value, reduce, slope_and_curvature};
use super::params::Trainable;

/// Smallest run of blocks handed to one worker.
const MIN_LEN: usize = 256;
/// Newton iterations per block and per pass, at most.
const MAX_NEWTON: usize = 60;

/// How far [`minimize`] goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Solve {
    /// To the block's minimum (damped Newton until the step vanishes).
    Exact,
    /// Until one Newton step is certain to lower the objective, which it then takes
    /// without evaluating its end point. Near a solution that is one evaluation per block
    /// and pass, and since Newton converges quadratically the step lands about as close as
    /// an exact solve would.
    Descend,
}

/// Value (when asked for), gradient and Hessian of one block's objective, and the reach of
/// each coordinate: the largest |covariate| over the block's ratings, so that a step `δ`
/// moves no logit by more than `Σ |δ_j| · reach_j`.
#[derive(Clone, Copy)]
struct Local<const D: usize> {
    value: Option<f64>,
    grad: [f64; D],
    hess: [[f64; D]; D],
    reach: [f64; D],
}

impl<const D: usize> Local<D> {
    /// The penalty part `Σ p_j θ_j²`.
    fn penalty(theta: &[f64; D], pen: &[f64; D], with_value: bool) -> Self {
        let mut local = Local {
            value: with_value.then_some(0.0),
            grad: [0.0; D],
            hess: [[0.0; D]; D],
            reach: [0.0; D],
        };
        for j in 0..D {
            if let Some(v) = local.value.as_mut() {
                *v += pen[j] * theta[j] * theta[j];
            }
            local.grad[j] = 2.0 * pen[j] * theta[j];
            local.hess[j][j] = 2.0 * pen[j];
        }
        local
    }

    /// Adds one rating with weight `w`, logit `s`, label `y` and covariates `x`.
    #[inline(always)]
    fn add(&mut self, w: f64, s: f64, y: f64, x: &[f64; D]) {
        let (slope, curvature, e) = slope_and_curvature(s, y);
        if let Some(v) = self.value.as_mut() {
            *v += w * bce_value(s, y, e);
        }
        let (ws, wc) = (w * slope, w * curvature);
        for j in 0..D {
            self.grad[j] += ws * x[j];
            for k in j..D {
                self.hess[j][k] += wc * x[j] * x[k];
            }
            self.reach[j] = self.reach[j].max(x[j].abs());
        }
    }

    /// Copies the upper triangle of the Hessian to the lower one.
    fn symmetric(mut self) -> Self {
        for j in 0..D {
            for k in 0..j {
                self.hess[j][k] = self.hess[k][j];
            }
        }
        self
    }
}

/// Solves `h x = g` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve_linear<const D: usize>(mut h: [[f64; D]; D], mut g: [f64; D]) -> Option<[f64; D]> {
    for col in 0..D {
        let pivot = (col..D).max_by(|&a, &b| h[a][col].abs().total_cmp(&h[b][col].abs()))?;
        let size = h[pivot][col].abs();
        if size.is_nan() || size <= 1e-300 {
            return None;
        }
        h.swap(col, pivot);
        g.swap(col, pivot);
        for row in col + 1..D {
            let m = h[row][col] / h[col][col];
            let pivot_row = h[col];
            for (x, p) in h[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= m * p;
            }
            g[row] -= m * g[col];
        }
    }
    let mut x = [0.0; D];
    for row in (0..D).rev() {
        let mut acc = g[row];
        for k in row + 1..D {
            acc -= h[row][k] * x[k];
        }
        x[row] = acc / h[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Minimizes a convex block objective over the `active` coordinates of `theta` by damped
/// Newton steps (to the minimum, or until a step is certain to descend: see [`Solve`]).
/// `eval(θ, with_value)` gives the gradient and Hessian at θ, and the value when asked.
/// Returns the value at the start when `start_value` is set.
///
/// A step `δ` with slope `g·δ < 0` is certain to satisfy the Armijo condition when
/// `g·δ + ½ e^R δᵀHδ ≤ 10⁻⁴ g·δ`, with `R = Σ |δ_j| reach_j` the largest change of any
/// logit along it: the cross-entropy's curvature `σ(1 − σ)` changes by at most a factor
/// `e^|Δs|` when its logit moves by `Δs`, so `e^R δᵀHδ` bounds the curvature all along the
/// step. For a Newton step that holds whenever `R ≤ ln 1.9998`.
///
/// Otherwise a full Newton step is taken when the objective's slope along it is still
/// non-positive at its end: the objective is convex, so it then decreased all along the
/// step, and no value is needed. Otherwise the step is cut back until the Armijo condition
/// holds on values. (Within rounding of the optimum, where values cannot be compared, a
/// tiny full step is also taken when its end slope is smaller in size than its start slope,
/// which for a quadratic means the value did not rise.)
fn minimize<const D: usize>(
    theta: &mut [f64; D],
    active: [bool; D],
    solve: Solve,
    start_value: bool,
    eval: impl Fn(&[f64; D], bool) -> Local<D>,
) -> Option<f64> {
    if !active.iter().any(|a| *a) {
        return start_value.then(|| eval(theta, true).value.expect("asked for the value"));
    }
    let mut at = eval(theta, start_value);
    let start = at.value;
    for _ in 0..MAX_NEWTON {
        let (mut g, mut h) = (at.grad, at.hess);
        for j in (0..D).filter(|&j| !active[j]) {
            g[j] = 0.0;
            h[j] = [0.0; D];
            h.iter_mut().for_each(|row| row[j] = 0.0);
            h[j][j] = 1.0;
        }
        let newton = solve_linear(h, g).map(|x| x.map(|v| -v));
        let mut step = newton.unwrap_or([0.0; D]);
        let mut slope: f64 = (0..D).map(|j| g[j] * step[j]).sum();
        if slope.is_nan() || slope >= 0.0 {
            // Singular or indefinite curvature: fall back to a scaled gradient step.
            let scale = (0..D).map(|j| h[j][j]).fold(0.0f64, f64::max).max(1.0);
            step = g.map(|v| -v / scale);
            slope = (0..D).map(|j| g[j] * step[j]).sum();
            if slope.is_nan() || slope >= 0.0 {
                break;
            }
        }
        let size = step.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = 1.0 + theta.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if size <= 1e-14 * scale {
            break;
        }
        let along = |t: f64| {
            let mut trial = *theta;
            for j in 0..D {
                trial[j] += t * step[j];
            }
            trial
        };
        if solve == Solve::Descend {
            let reach: f64 = (0..D).map(|j| step[j].abs() * at.reach[j]).sum();
            let curvature: f64 = (0..D)
                .map(|j| step[j] * (0..D).map(|k| h[j][k] * step[k]).sum::<f64>())
                .sum();
            if reach <= 0.69 && slope + 0.5 * reach.exp() * curvature <= 1e-4 * slope {
                *theta = along(1.0);
                break;
            }
        }
        let full = along(1.0);
        let next = eval(&full, false);
        let end_slope: f64 = (0..D).map(|j| next.grad[j] * step[j]).sum();
        let (trial, next, t) = if end_slope <= 0.0 || (size <= 1e-7 * scale && end_slope < -slope) {
            (full, next, 1.0)
        } else {
            let start = at
                .value
                .unwrap_or_else(|| eval(theta, true).value.expect("asked for the value"));
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..60 {
                let trial = along(t);
                let next = eval(&trial, true);
                if next.value.expect("asked for the value") <= start + 1e-4 * t * slope {
                    accepted = Some((trial, next, t));
                    break;
                }
                t *= 0.5;
            }
            let Some(accepted) = accepted else {
                break;
            };
            accepted
        };
        *theta = trial;
        at = next;
        if solve == Solve::Exact && t == 1.0 && size <= 1e-10 * scale {
            break;
        }
    }
    start
}

/// Updates every note block given the raters. With `with_value`, returns the sum over
/// notes of the data loss and the note penalties at the start (else 0).
pub(super) fn update_notes(
    data: &LogitData,
    f: &mut LogitFactors,
    pen: &Penalties,
    tr: &Trainable,
    solve: Solve,
    with_value: bool,
) -> f64 {
    let mu = f.global_intercept;
    // (μ + i_u, ρ_u, f_u) per rater: one rating reads one place.
    let raters: Vec<[f64; 3]> = f
        .rater_intercept
        .iter()
        .zip(&f.rater_reputation)
        .zip(&f.rater_factor)
        .map(|((i, r), g)| [mu + i, *r, *g])
        .collect();
    let active = [tr.note_intercept, tr.note_factor];
    let p = [pen.note_intercept, pen.note_factor];
    let mut values = vec![0.0; if with_value { data.notes() } else { 0 }];
    let update = |n: usize, i_n: &mut f64, f_n: &mut f64| {
        let run = data.note_run(n);
        let mut theta = [*i_n, *f_n];
        let value = minimize(&mut theta, active, solve, with_value, |t, with_value| {
            let mut local = Local::penalty(t, &p, with_value);
            for ((&u, &y), &w) in run.other.iter().zip(run.label).zip(run.weight) {
                let [a, r, g] = raters[u as usize];
                let s = a + r * t[0] + g * t[1];
                local.add(w, s, y as f64, &[r, g]);
            }
            local.symmetric()
        });
        *i_n = theta[0];
        *f_n = theta[1];
        value.unwrap_or(0.0)
    };
    let blocks = f
        .note_intercept
        .par_iter_mut()
        .zip(f.note_factor.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_LEN);
    if with_value {
        blocks
            .zip(values.par_iter_mut())
            .for_each(|((n, (i_n, f_n)), v)| *v = update(n, i_n, f_n));
    } else {
        blocks.for_each(|(n, (i_n, f_n))| {
            update(n, i_n, f_n);
        });
    }
    values.iter().sum()
}

/// Updates every rater block given the notes. With `with_value`, returns the sum over
/// raters of the data loss and the rater penalties at the start (else 0).
pub(super) fn update_raters(
    data: &LogitData,
    f: &mut LogitFactors,
    pen: &Penalties,
    tr: &Trainable,
    solve: Solve,
    with_value: bool,
) -> f64 {
    let mu = f.global_intercept;
    // (i_n, f_n) per note: one rating reads one place.
    let notes: Vec<[f64; 2]> = f
        .note_intercept
        .iter()
        .zip(&f.note_factor)
        .map(|(i, g)| [*i, *g])
        .collect();
    let active = [tr.rater_intercept, tr.rater_factor, tr.rater_reputation];
    let p = [pen.rater_intercept, pen.rater_factor, pen.rater_reputation];
    let mut values = vec![0.0; if with_value { data.raters() } else { 0 }];
    let update = |u: usize, i_u: &mut f64, f_u: &mut f64, r_u: &mut f64| {
        let run = data.rater_run(u);
        let mut theta = [*i_u, *f_u, *r_u];
        let value = minimize(&mut theta, active, solve, with_value, |t, with_value| {
            let mut local = Local::penalty(t, &p, with_value);
            for ((&n, &y), &w) in run.other.iter().zip(run.label).zip(run.weight) {
                let [i, g] = notes[n as usize];
                let s = mu + t[0] + g * t[1] + i * t[2];
                local.add(w, s, y as f64, &[1.0, g, i]);
            }
            local.symmetric()
        });
        *i_u = theta[0];
        *f_u = theta[1];
        *r_u = theta[2];
        value.unwrap_or(0.0)
    };
    let blocks = f
        .rater_intercept
        .par_iter_mut()
        .zip(f.rater_factor.par_iter_mut())
        .zip(f.rater_reputation.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_LEN);
    if with_value {
        blocks
            .zip(values.par_iter_mut())
            .for_each(|((u, ((i_u, f_u), r_u)), v)| *v = update(u, i_u, f_u, r_u));
    } else {
        blocks.for_each(|(u, ((i_u, f_u), r_u))| {
            update(u, i_u, f_u, r_u);
        });
    }
    values.iter().sum()
}

/// Updates μ given every other parameter (exactly: a 1×1 convex problem).
pub(super) fn update_global(data: &LogitData, f: &mut LogitFactors, pen: &Penalties) {
    let mut theta = [f.global_intercept];
    let frozen = &*f;
    minimize(&mut theta, [true], Solve::Exact, false, |t, with_value| {
        let [value, grad, hess] = reduce(data, |n| {
            let run = data.note_run(n);
            let mut acc = [0.0; 3];
            for k in 0..run.other.len() {
                let u = run.other[k] as usize;
                let s = t[0] + frozen.logit_without_global(n, u);
                let y = run.label[k] as f64;
                let (slope, curvature, e) = slope_and_curvature(s, y);
                let w = run.weight[k];
                if with_value {
                    acc[0] += w * bce_value(s, y, e);
                }
                acc[1] += w * slope;
                acc[2] += w * curvature;
            }
            acc
        });
        Local {
            value: with_value.then_some(value + pen.global * t[0] * t[0]),
            grad: [grad + 2.0 * pen.global * t[0]],
            hess: [[hess + 2.0 * pen.global]],
            reach: [1.0],
        }
    });
    f.global_intercept = theta[0];
}
