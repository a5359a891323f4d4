//! The alternating block solver for the logistic model.

use rayon::prelude::*;

use super::{LogitData, Trainable, ValidLogitParams};

/// Parameters of the logistic model, one entry per note row and per rater row.
///
/// The logit of a rating by rater `u` on note `n` is
/// `s = μ + i_u + ρ_u · i_n + f_u · f_n`; a plain biased factorization keeps every ρ_u at 1.
#[derive(Clone, Debug, PartialEq)]
pub struct LogitFactors {
    pub global_intercept: f64,
    pub note_intercept: Vec<f64>,
    pub note_factor: Vec<f64>,
    pub rater_intercept: Vec<f64>,
    pub rater_factor: Vec<f64>,
    /// ρ_u, the rater's multiplier of the note intercept.
    pub rater_reputation: Vec<f64>,
}

impl LogitFactors {
    /// Intercepts and factors zero, every reputation 1.
    pub fn new(notes: usize, raters: usize) -> Self {
        LogitFactors {
            global_intercept: 0.0,
            note_intercept: vec![0.0; notes],
            note_factor: vec![0.0; notes],
            rater_intercept: vec![0.0; raters],
            rater_factor: vec![0.0; raters],
            rater_reputation: vec![1.0; raters],
        }
    }

    /// The logit of a rating by rater row `u` on note row `n`.
    pub fn logit(&self, n: usize, u: usize) -> f64 {
        self.global_intercept + self.logit_without_global(n, u)
    }

    /// The logit less μ.
    fn logit_without_global(&self, n: usize, u: usize) -> f64 {
        self.rater_intercept[u]
            + self.rater_reputation[u] * self.note_intercept[n]
            + self.rater_factor[u] * self.note_factor[n]
    }

    /// The reference's sign convention: factors are negated unless at least half of the
    /// raters with a non-zero factor have a negative one.
    pub fn identify_sign(&mut self) {
        let nonzero = self.rater_factor.iter().filter(|f| **f != 0.0).count();
        let negative = self.rater_factor.iter().filter(|f| **f < 0.0).count();
        if nonzero > 0 && (negative as f64) / (nonzero as f64) < 0.5 {
            self.note_factor.iter_mut().for_each(|f| *f = -*f);
            self.rater_factor.iter_mut().for_each(|f| *f = -*f);
        }
    }

    fn check_shape(&self, data: &LogitData) {
        assert_eq!(
            self.note_intercept.len(),
            data.notes(),
            "one i_n per note row"
        );
        assert_eq!(self.note_factor.len(), data.notes(), "one f_n per note row");
        assert_eq!(
            self.rater_intercept.len(),
            data.raters(),
            "one i_u per rater row"
        );
        assert_eq!(
            self.rater_factor.len(),
            data.raters(),
            "one f_u per rater row"
        );
        assert_eq!(
            self.rater_reputation.len(),
            data.raters(),
            "one ρ_u per rater row"
        );
    }
}

/// The loss of a parameter set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogitLoss {
    /// Weighted mean cross-entropy plus the penalties (what the fit minimizes).
    pub total: f64,
    /// Weighted mean cross-entropy alone.
    pub data: f64,
}

/// How a fit went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogitReport {
    /// Alternating passes run (each solves every trainable block once).
    pub passes: usize,
    /// Whether the parameters stopped moving (or one pass was exact) before `max_passes`.
    pub converged: bool,
    pub loss: LogitLoss,
}

/// Ratings per chunk of notes in reductions: fixed, so sums do not depend on threads.
const CHUNK: usize = 1024;
/// Smallest run of blocks handed to one worker.
const MIN_LEN: usize = 256;
/// Newton iterations per block and per pass, at most.
const MAX_NEWTON: usize = 60;

/// Penalty multipliers after scaling the loss by the number of ratings N.
struct Penalties {
    note_intercept: f64,
    note_factor: f64,
    rater_intercept: f64,
    rater_factor: f64,
    rater_reputation: f64,
    global: f64,
}

fn penalties(data: &LogitData, params: &ValidLogitParams) -> Penalties {
    let p = params.get();
    let n = data.len() as f64;
    let rows = |ratio: Option<f64>, count: usize| match ratio {
        Some(r) => n / r,
        None => count.max(1) as f64,
    };
    let note_rows = rows(p.note_loss_ratio, data.notes());
    let rater_rows = rows(p.rater_loss_ratio, data.raters());
    Penalties {
        note_intercept: p.note_intercept_lambda * n / note_rows,
        note_factor: p.note_factor_lambda * n / note_rows,
        rater_intercept: p.rater_intercept_lambda * n / rater_rows,
        rater_factor: p.rater_factor_lambda * n / rater_rows,
        rater_reputation: p.rater_reputation_lambda * n / rater_rows,
        global: p.global_intercept_lambda * n,
    }
}

/// Binary cross-entropy with logits at `s` for label `y`: the loss, its derivative
/// `σ(s) − y` and its second derivative `σ(s)(1 − σ(s))`, computed without overflow.
#[inline]
fn cross_entropy(s: f64, y: f64) -> (f64, f64, f64) {
    let (slope, curvature, e) = slope_and_curvature(s, y);
    (bce_value(s, y, e), slope, curvature)
}

/// `σ(s) − y`, `σ(s)(1 − σ(s))` and `e^−|s|` (for [`bce_value`]).
#[inline]
fn slope_and_curvature(s: f64, y: f64) -> (f64, f64, f64) {
    let e = (-s.abs()).exp();
    let p = if s >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (p - y, e / ((1.0 + e) * (1.0 + e)), e)
}

/// The loss `max(s, 0) − s·y + ln(1 + e^−|s|)` given `e = e^−|s|`. (The logarithm is
/// the costliest part of the model, so block updates compute it only when they need a
/// value.)
#[inline]
fn bce_value(s: f64, y: f64, e: f64) -> f64 {
    s.max(0.0) - s * y + e.ln_1p()
}

/// Value (when asked for), gradient and Hessian of one block's objective.
#[derive(Clone, Copy)]
struct Local<const D: usize> {
    value: Option<f64>,
    grad: [f64; D],
    hess: [[f64; D]; D],
}

impl<const D: usize> Local<D> {
    /// The penalty part `Σ p_j θ_j²`.
    fn penalty(theta: &[f64; D], pen: &[f64; D], with_value: bool) -> Self {
        let mut local = Local {
            value: with_value.then_some(0.0),
            grad: [0.0; D],
            hess: [[0.0; D]; D],
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
    #[inline]
    fn add(&mut self, w: f64, s: f64, y: f64, x: &[f64; D]) {
        let (slope, curvature, e) = slope_and_curvature(s, y);
        if let Some(v) = self.value.as_mut() {
            *v += w * bce_value(s, y, e);
        }
        for j in 0..D {
            self.grad[j] += w * slope * x[j];
            for k in 0..D {
                self.hess[j][k] += w * curvature * x[j] * x[k];
            }
        }
    }
}

/// Solves `h x = g` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve<const D: usize>(mut h: [[f64; D]; D], mut g: [f64; D]) -> Option<[f64; D]> {
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
/// Newton steps. `eval(θ, with_value)` gives the gradient and Hessian at θ, and the value
/// when asked.
///
/// A full Newton step is taken when the objective's slope along it is still non-positive
/// at its end: the objective is convex, so it then decreased all along the step, and no
/// value is needed. Otherwise the step is cut back until the Armijo condition holds on
/// values. (Within rounding of the optimum, where values cannot be compared, a tiny full
/// step is also taken when its end slope is smaller in size than its start slope, which
/// for a quadratic means the value did not rise.)
fn minimize<const D: usize>(
    theta: &mut [f64; D],
    active: [bool; D],
    eval: impl Fn(&[f64; D], bool) -> Local<D>,
) {
    if !active.iter().any(|a| *a) {
        return;
    }
    let mut at = eval(theta, false);
    for _ in 0..MAX_NEWTON {
        let (mut g, mut h) = (at.grad, at.hess);
        for j in (0..D).filter(|&j| !active[j]) {
            g[j] = 0.0;
            h[j] = [0.0; D];
            h.iter_mut().for_each(|row| row[j] = 0.0);
            h[j][j] = 1.0;
        }
        let newton = solve(h, g).map(|x| x.map(|v| -v));
        let mut step = newton.unwrap_or([0.0; D]);
        let mut slope: f64 = (0..D).map(|j| g[j] * step[j]).sum();
        if slope.is_nan() || slope >= 0.0 {
            // Singular or indefinite curvature: fall back to a scaled gradient step.
            let scale = (0..D).map(|j| h[j][j]).fold(0.0f64, f64::max).max(1.0);
            step = g.map(|v| -v / scale);
            slope = (0..D).map(|j| g[j] * step[j]).sum();
            if slope.is_nan() || slope >= 0.0 {
                return;
            }
        }
        let size = step.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = 1.0 + theta.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if size <= 1e-14 * scale {
            return;
        }
        let along = |t: f64| {
            let mut trial = *theta;
            for j in 0..D {
                trial[j] += t * step[j];
            }
            trial
        };
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
                return;
            };
            accepted
        };
        *theta = trial;
        at = next;
        if t == 1.0 && size <= 1e-10 * scale {
            return;
        }
    }
}

/// Sums `per_note` over note rows in fixed chunks, then the chunks in order.
fn reduce<const K: usize>(
    data: &LogitData,
    per_note: impl Fn(usize) -> [f64; K] + Sync + Send,
) -> [f64; K] {
    let partials: Vec<[f64; K]> = (0..data.notes())
        .into_par_iter()
        .chunks(CHUNK)
        .map(|notes| {
            let mut acc = [0.0; K];
            for n in notes {
                let v = per_note(n);
                for j in 0..K {
                    acc[j] += v[j];
                }
            }
            acc
        })
        .collect();
    partials.iter().fold([0.0; K], |mut acc, v| {
        for j in 0..K {
            acc[j] += v[j];
        }
        acc
    })
}

fn update_notes(data: &LogitData, f: &mut LogitFactors, pen: &Penalties, tr: &Trainable) {
    let mu = f.global_intercept;
    let (ri, rf, rr) = (&f.rater_intercept, &f.rater_factor, &f.rater_reputation);
    let active = [tr.note_intercept, tr.note_factor];
    let p = [pen.note_intercept, pen.note_factor];
    f.note_intercept
        .par_iter_mut()
        .zip(f.note_factor.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_LEN)
        .for_each(|(n, (i_n, f_n))| {
            let run = data.note_run(n);
            let mut theta = [*i_n, *f_n];
            minimize(&mut theta, active, |t, with_value| {
                let mut local = Local::penalty(t, &p, with_value);
                for k in 0..run.other.len() {
                    let u = run.other[k] as usize;
                    let x = [rr[u], rf[u]];
                    let s = mu + ri[u] + x[0] * t[0] + x[1] * t[1];
                    local.add(run.weight[k], s, run.label[k] as f64, &x);
                }
                local
            });
            *i_n = theta[0];
            *f_n = theta[1];
        });
}

fn update_raters(data: &LogitData, f: &mut LogitFactors, pen: &Penalties, tr: &Trainable) {
    let mu = f.global_intercept;
    let (ni, nf) = (&f.note_intercept, &f.note_factor);
    let active = [tr.rater_intercept, tr.rater_factor, tr.rater_reputation];
    let p = [pen.rater_intercept, pen.rater_factor, pen.rater_reputation];
    f.rater_intercept
        .par_iter_mut()
        .zip(f.rater_factor.par_iter_mut())
        .zip(f.rater_reputation.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_LEN)
        .for_each(|(u, ((i_u, f_u), r_u))| {
            let run = data.rater_run(u);
            let mut theta = [*i_u, *f_u, *r_u];
            minimize(&mut theta, active, |t, with_value| {
                let mut local = Local::penalty(t, &p, with_value);
                for k in 0..run.other.len() {
                    let n = run.other[k] as usize;
                    let x = [1.0, nf[n], ni[n]];
                    let s = mu + t[0] + x[1] * t[1] + x[2] * t[2];
                    local.add(run.weight[k], s, run.label[k] as f64, &x);
                }
                local
            });
            *i_u = theta[0];
            *f_u = theta[1];
            *r_u = theta[2];
        });
}

fn update_global(data: &LogitData, f: &mut LogitFactors, pen: &Penalties) {
    let mut theta = [f.global_intercept];
    let frozen = &*f;
    minimize(&mut theta, [true], |t, with_value| {
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
        }
    });
    f.global_intercept = theta[0];
}

/// The regularized loss (what [`fit_logit`] minimizes) and the weighted mean cross-entropy.
///
/// # Panics
/// If `f` does not have one entry per row of `data`.
pub fn logit_loss(data: &LogitData, params: &ValidLogitParams, f: &LogitFactors) -> LogitLoss {
    f.check_shape(data);
    let n = data.len() as f64;
    if n == 0.0 {
        return LogitLoss {
            total: 0.0,
            data: 0.0,
        };
    }
    let [sum] = reduce(data, |note| {
        let run = data.note_run(note);
        let mut acc = 0.0;
        for k in 0..run.other.len() {
            let s = f.logit(note, run.other[k] as usize);
            acc += run.weight[k] * cross_entropy(s, run.label[k] as f64).0;
        }
        [acc]
    });
    let pen = penalties(data, params);
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let reg = pen.note_intercept * sq(&f.note_intercept)
        + pen.note_factor * sq(&f.note_factor)
        + pen.rater_intercept * sq(&f.rater_intercept)
        + pen.rater_factor * sq(&f.rater_factor)
        + pen.rater_reputation * sq(&f.rater_reputation)
        + pen.global * f.global_intercept * f.global_intercept;
    LogitLoss {
        total: (sum + reg) / n,
        data: sum / n,
    }
}

/// The gradient of the regularized loss with respect to every parameter (frozen or not).
///
/// # Panics
/// If `f` does not have one entry per row of `data`.
pub fn logit_gradient(
    data: &LogitData,
    params: &ValidLogitParams,
    f: &LogitFactors,
) -> LogitFactors {
    f.check_shape(data);
    let mut g = LogitFactors::new(data.notes(), data.raters());
    g.rater_reputation.iter_mut().for_each(|x| *x = 0.0);
    let n = data.len() as f64;
    if n == 0.0 {
        return g;
    }
    let pen = penalties(data, params);
    g.note_intercept
        .par_iter_mut()
        .zip(g.note_factor.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_LEN)
        .for_each(|(note, (gi, gf))| {
            let run = data.note_run(note);
            let (mut si, mut sf) = (0.0, 0.0);
            for k in 0..run.other.len() {
                let u = run.other[k] as usize;
                let s = f.logit(note, u);
                let r = run.weight[k] * cross_entropy(s, run.label[k] as f64).1;
                si += r * f.rater_reputation[u];
                sf += r * f.rater_factor[u];
            }
            *gi = (si + 2.0 * pen.note_intercept * f.note_intercept[note]) / n;
            *gf = (sf + 2.0 * pen.note_factor * f.note_factor[note]) / n;
        });
    g.rater_intercept
        .par_iter_mut()
        .zip(g.rater_factor.par_iter_mut())
        .zip(g.rater_reputation.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_LEN)
        .for_each(|(u, ((gi, gf), gr))| {
            let run = data.rater_run(u);
            let (mut si, mut sf, mut sr) = (0.0, 0.0, 0.0);
            for k in 0..run.other.len() {
                let note = run.other[k] as usize;
                let s = f.logit(note, u);
                let r = run.weight[k] * cross_entropy(s, run.label[k] as f64).1;
                si += r;
                sf += r * f.note_factor[note];
                sr += r * f.note_intercept[note];
            }
            *gi = (si + 2.0 * pen.rater_intercept * f.rater_intercept[u]) / n;
            *gf = (sf + 2.0 * pen.rater_factor * f.rater_factor[u]) / n;
            *gr = (sr + 2.0 * pen.rater_reputation * f.rater_reputation[u]) / n;
        });
    let [sum] = reduce(data, |note| {
        let run = data.note_run(note);
        let mut acc = 0.0;
        for k in 0..run.other.len() {
            let s = f.logit(note, run.other[k] as usize);
            acc += run.weight[k] * cross_entropy(s, run.label[k] as f64).1;
        }
        [acc]
    });
    g.global_intercept = (sum + 2.0 * pen.global * f.global_intercept) / n;
    g
}

/// Moves along the model's exact symmetries to the point of least penalty. The logits are
/// unchanged by `f_n → c·f_n, f_u → f_u/c`, by `i_n → c·i_n, ρ_u → ρ_u/c`, by
/// `μ → μ + a, i_u → i_u − a` and, when every ρ_u equals one value ρ ≠ 0, by
/// `μ → μ + ρ·b, i_n → i_n − b`; only the penalties change along them, so each has a
/// closed-form best point. Alternating block updates crawl along such directions; this
/// step jumps to the bottom. Only trainable blocks move.
fn rebalance(f: &mut LogitFactors, pen: &Penalties, tr: &Trainable) {
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let scale = |a: &mut Vec<f64>, pa: f64, b: &mut Vec<f64>, pb: f64| {
        // min over c of pa·c²·Σa² + pb·Σb²/c²  →  c⁴ = pb·Σb² / (pa·Σa²).
        let (sa, sb) = (pa * sq(a), pb * sq(b));
        if sa > 0.0 && sb > 0.0 && sa.is_finite() && sb.is_finite() {
            let c = (sb / sa).sqrt().sqrt();
            a.iter_mut().for_each(|x| *x *= c);
            b.iter_mut().for_each(|x| *x /= c);
        }
    };
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
    if tr.global_intercept && tr.rater_intercept {
        // min over a of pen_μ·(μ + a)² + p·Σ(i_u − a)².
        let p = pen.rater_intercept;
        let count = f.rater_intercept.len() as f64;
        let denominator = p * count + pen.global;
        if denominator > 0.0 {
            let sum: f64 = f.rater_intercept.iter().sum();
            let a = (p * sum - pen.global * f.global_intercept) / denominator;
            f.global_intercept += a;
            f.rater_intercept.iter_mut().for_each(|x| *x -= a);
        }
    }
    let rho = f.rater_reputation.first().copied();
    let constant = rho.is_some_and(|r| r != 0.0 && f.rater_reputation.iter().all(|x| *x == r));
    if let (true, Some(rho)) = (tr.global_intercept && tr.note_intercept && constant, rho) {
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

/// `a + t · (a − b)` for every parameter.
fn beyond(a: &LogitFactors, b: &LogitFactors, t: f64) -> LogitFactors {
    let go = |x: &[f64], y: &[f64]| -> Vec<f64> {
        x.iter().zip(y).map(|(p, q)| p + t * (p - q)).collect()
    };
    LogitFactors {
        global_intercept: a.global_intercept + t * (a.global_intercept - b.global_intercept),
        note_intercept: go(&a.note_intercept, &b.note_intercept),
        note_factor: go(&a.note_factor, &b.note_factor),
        rater_intercept: go(&a.rater_intercept, &b.rater_intercept),
        rater_factor: go(&a.rater_factor, &b.rater_factor),
        rater_reputation: go(&a.rater_reputation, &b.rater_reputation),
    }
}

/// Alternating passes converge linearly, slowly where blocks are strongly coupled. After a
/// pass, this tries continuing along the pass's own move, 1, 3, 7, 15 and 31 times further,
/// and keeps the longest continuation that still lowers the loss (about halving the passes
/// on the golden data). Frozen blocks do not move in a pass, so they do not move here
/// either.
fn extrapolate(
    data: &LogitData,
    params: &ValidLogitParams,
    f: &mut LogitFactors,
    before: &LogitFactors,
    current: &mut LogitLoss,
) {
    let mut best: Option<(LogitFactors, LogitLoss)> = None;
    for t in [1.0, 3.0, 7.0, 15.0, 31.0] {
        let trial = beyond(f, before, t);
        let loss = logit_loss(data, params, &trial);
        let floor = best.as_ref().map_or(current.total, |(_, l)| l.total);
        if loss.total.is_nan() || loss.total >= floor {
            break;
        }
        best = Some((trial, loss));
    }
    if let Some((trial, loss)) = best {
        *f = trial;
        *current = loss;
    }
}

/// Largest absolute difference between two parameter sets of the same shape.
fn largest_change(a: &LogitFactors, b: &LogitFactors) -> f64 {
    let diff = |x: &[f64], y: &[f64]| {
        x.iter()
            .zip(y)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
    };
    diff(&a.note_intercept, &b.note_intercept)
        .max(diff(&a.note_factor, &b.note_factor))
        .max(diff(&a.rater_intercept, &b.rater_intercept))
        .max(diff(&a.rater_factor, &b.rater_factor))
        .max(diff(&a.rater_reputation, &b.rater_reputation))
        .max((a.global_intercept - b.global_intercept).abs())
}

/// Fits the model to `data` from `init`, changing only the `trainable` blocks, until no
/// parameter moves by more than the tolerance in a pass.
///
/// Each pass solves every note block given the raters, then every rater block given the
/// notes, then μ, each exactly (damped Newton to convergence), then moves along the model's
/// symmetries to the least penalty and extrapolates along the pass's move when that lowers
/// the loss; every step lowers the loss or keeps it. When only one of the three groups is
/// trainable the problem is convex and one pass is exact. With no ratings the initial
/// values are returned unchanged. The result is a stationary point; with more than one
/// group trainable the problem is not convex, so which one depends on the start.
///
/// # Panics
/// If `init` does not have one entry per note row and rater row of `data`.
pub fn fit_logit(
    data: &LogitData,
    params: &ValidLogitParams,
    init: LogitFactors,
    trainable: Trainable,
) -> (LogitFactors, LogitReport) {
    init.check_shape(data);
    let p = params.get();
    let pen = penalties(data, params);
    let mut f = init;
    let mut current = logit_loss(data, params, &f);
    if data.is_empty() || trainable.groups() == 0 {
        let report = LogitReport {
            passes: 0,
            converged: true,
            loss: current,
        };
        return (f, report);
    }
    let (mut passes, mut converged) = (0, false);
    while passes < p.max_passes {
        let before = f.clone();
        if trainable.notes() {
            update_notes(data, &mut f, &pen, &trainable);
        }
        if trainable.raters() {
            update_raters(data, &mut f, &pen, &trainable);
        }
        if trainable.global_intercept {
            update_global(data, &mut f, &pen);
        }
        rebalance(&mut f, &pen, &trainable);
        passes += 1;
        current = logit_loss(data, params, &f);
        let moved = largest_change(&before, &f);
        if trainable.groups() == 1 || moved <= p.tolerance {
            converged = true;
            break;
        }
        extrapolate(data, params, &mut f, &before, &mut current);
    }
    let report = LogitReport {
        passes,
        converged,
        loss: current,
    };
    (f, report)
}
