//! The weighted squared-error solver of the helpfulness reputation model.
//!
//! The prediction for a rating by rater `u` on note `n` is
//! `s = μ + i_u + ρ_u · i_n + f_u · f_n` (as in [`crate::logit`], without a link), and the
//! loss is `(1/N) Σ w · (s − y)² + penalties`, with the penalties of [`LogitParams`]
//! (`λ · Σθ² / D` per block, `D` the rows of that side or `N / ratio`; `λ_μ · μ²`).
//!
//! Given the raters, every note's `(i_n, f_n)` is a ridge regression on the covariates
//! `(ρ_u, f_u)`; given the notes, every rater's `(i_u, f_u, ρ_u)` one on `(1, f_n, i_n)`;
//! μ given both is a weighted mean. Each block is therefore solved exactly by one 2×2 or 3×3
//! linear solve, in parallel with one writer per parameter, and the blocks alternate until no
//! parameter moves. Sums over all ratings run in fixed chunks of notes added in chunk order,
//! so results are bitwise identical on any number of threads.
//!
//! [`LogitParams`]: crate::logit::LogitParams

use rayon::prelude::*;

use crate::logit::{
    LogitData, LogitFactors, LogitLoss, LogitReport, Penalties, Trainable, ValidLogitParams,
    largest_change, penalties, reduce,
};

/// Smallest run of blocks handed to one worker.
const MIN_LEN: usize = 256;

/// The normal equations `A θ = b` of one block: `A = Σ w x xᵀ + diag(p)`, `b = Σ w x r`.
struct Normal<const D: usize> {
    a: [[f64; D]; D],
    b: [f64; D],
}

impl<const D: usize> Normal<D> {
    fn new(pen: [f64; D]) -> Self {
        let mut a = [[0.0; D]; D];
        for j in 0..D {
            a[j][j] = pen[j];
        }
        Normal { a, b: [0.0; D] }
    }

    /// Adds a rating with weight `w`, covariates `x` and target `r` (the label less the
    /// terms outside the block).
    #[inline]
    fn add(&mut self, w: f64, x: &[f64; D], r: f64) {
        for (j, row) in self.a.iter_mut().enumerate() {
            let wx = w * x[j];
            self.b[j] += wx * r;
            for (a, &xk) in row.iter_mut().zip(x) {
                *a += wx * xk;
            }
        }
    }

    /// The minimizer over the `active` coordinates, the others held at `theta`'s values;
    /// `theta` unchanged when the system is singular.
    fn solve(mut self, theta: &mut [f64; D], active: [bool; D]) {
        // Frozen coordinates move to the right-hand side; their rows become identities.
        for j in (0..D).filter(|&j| !active[j]) {
            for k in 0..D {
                self.b[k] -= self.a[k][j] * theta[j];
                self.a[k][j] = 0.0;
            }
            self.a[j] = [0.0; D];
            self.a[j][j] = 1.0;
            self.b[j] = theta[j];
        }
        if let Some(x) = gauss(self.a, self.b) {
            for j in (0..D).filter(|&j| active[j]) {
                theta[j] = x[j];
            }
        }
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` when singular.
fn gauss<const D: usize>(mut a: [[f64; D]; D], mut b: [f64; D]) -> Option<[f64; D]> {
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..D {
        let pivot = (col..D).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        let size = a[pivot][col].abs();
        if size.is_nan() || size <= 1e-13 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..D {
            let m = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= m * p;
            }
            b[row] -= m * b[col];
        }
    }
    let mut x = [0.0; D];
    for row in (0..D).rev() {
        let mut acc = b[row];
        for k in row + 1..D {
            acc -= a[row][k] * x[k];
        }
        x[row] = acc / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The prediction less μ.
#[inline]
fn without_global(f: &LogitFactors, n: usize, u: usize) -> f64 {
    f.rater_intercept[u]
        + f.rater_reputation[u] * f.note_intercept[n]
        + f.rater_factor[u] * f.note_factor[n]
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
            let mut normal = Normal::new(p);
            for k in 0..run.other.len() {
                let u = run.other[k] as usize;
                let r = run.label[k] as f64 - mu - ri[u];
                normal.add(run.weight[k], &[rr[u], rf[u]], r);
            }
            let mut theta = [*i_n, *f_n];
            normal.solve(&mut theta, active);
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
            let mut normal = Normal::new(p);
            for k in 0..run.other.len() {
                let n = run.other[k] as usize;
                let r = run.label[k] as f64 - mu;
                normal.add(run.weight[k], &[1.0, nf[n], ni[n]], r);
            }
            let mut theta = [*i_u, *f_u, *r_u];
            normal.solve(&mut theta, active);
            *i_u = theta[0];
            *f_u = theta[1];
            *r_u = theta[2];
        });
}

fn update_global(data: &LogitData, f: &mut LogitFactors, pen: &Penalties) {
    let frozen = &*f;
    let [weight, residual] = reduce(data, |n| {
        let run = data.note_run(n);
        let mut acc = [0.0; 2];
        for k in 0..run.other.len() {
            let w = run.weight[k];
            acc[0] += w;
            acc[1] += w * (run.label[k] as f64 - without_global(frozen, n, run.other[k] as usize));
        }
        acc
    });
    let denominator = weight + pen.global;
    if denominator > 0.0 {
        f.global_intercept = residual / denominator;
    }
}

/// The regularized loss (what [`fit_squared`] minimizes) and the weighted mean squared error.
///
/// # Panics
/// If `f` does not have one entry per row of `data`.
pub fn squared_loss(data: &LogitData, params: &ValidLogitParams, f: &LogitFactors) -> LogitLoss {
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
            let e = f.logit(note, run.other[k] as usize) - run.label[k] as f64;
            acc += run.weight[k] * e * e;
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
pub fn squared_gradient(
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
    for note in 0..data.notes() {
        let run = data.note_run(note);
        for k in 0..run.other.len() {
            let u = run.other[k] as usize;
            let e = 2.0 * run.weight[k] * (f.logit(note, u) - run.label[k] as f64) / n;
            g.note_intercept[note] += e * f.rater_reputation[u];
            g.note_factor[note] += e * f.rater_factor[u];
            g.rater_intercept[u] += e;
            g.rater_factor[u] += e * f.note_factor[note];
            g.rater_reputation[u] += e * f.note_intercept[note];
            g.global_intercept += e;
        }
    }
    let add = |g: &mut [f64], theta: &[f64], p: f64| {
        for (g, t) in g.iter_mut().zip(theta) {
            *g += 2.0 * p * t / n;
        }
    };
    add(&mut g.note_intercept, &f.note_intercept, pen.note_intercept);
    add(&mut g.note_factor, &f.note_factor, pen.note_factor);
    add(
        &mut g.rater_intercept,
        &f.rater_intercept,
        pen.rater_intercept,
    );
    add(&mut g.rater_factor, &f.rater_factor, pen.rater_factor);
    add(
        &mut g.rater_reputation,
        &f.rater_reputation,
        pen.rater_reputation,
    );
    g.global_intercept += 2.0 * pen.global * f.global_intercept / n;
    g
}

/// Moves along the model's exact symmetries to the point of least penalty: the predictions
/// are unchanged by `f_n → c·f_n, f_u → f_u/c`, by `i_n → c·i_n, ρ_u → ρ_u/c`, by
/// `μ → μ + a, i_u → i_u − a` and, when every ρ_u is one value ρ ≠ 0, by
/// `μ → μ + ρ·b, i_n → i_n − b`. Alternating updates crawl along these directions; each has
/// a closed-form best point. Only trainable blocks move.
fn rebalance(f: &mut LogitFactors, pen: &Penalties, tr: &Trainable) {
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let scale = |a: &mut [f64], pa: f64, b: &mut [f64], pb: f64| {
        // The best c minimizes pa·c²·Σa² + pb·Σb²/c²: c⁴ = pb·Σb² / (pa·Σa²).
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
        // The best a minimizes pen_μ·(μ + a)² + p·Σ(i_u − a)².
        let p = pen.rater_intercept;
        let denominator = p * f.rater_intercept.len() as f64 + pen.global;
        if denominator > 0.0 {
            let sum: f64 = f.rater_intercept.iter().sum();
            let a = (p * sum - pen.global * f.global_intercept) / denominator;
            f.global_intercept += a;
            f.rater_intercept.iter_mut().for_each(|x| *x -= a);
        }
    }
    let rho = f.rater_reputation.first().copied().unwrap_or(0.0);
    let constant = rho != 0.0 && f.rater_reputation.iter().all(|x| *x == rho);
    if tr.global_intercept && tr.note_intercept && constant {
        // The best b minimizes pen_μ·(μ + ρb)² + p·Σ(i_n − b)².
        let p = pen.note_intercept;
        let denominator = p * f.note_intercept.len() as f64 + pen.global * rho * rho;
        if denominator > 0.0 {
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

/// After a pass, tries continuing along the pass's own move 1, 3, 7, 15 and 31 times
/// further and keeps the longest continuation that still lowers the loss. Frozen blocks do
/// not move in a pass, so they do not move here either.
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
        let loss = squared_loss(data, params, &trial);
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

/// Fits the model to `data` from `init` under squared error, changing only the `trainable`
/// blocks, until no parameter moves by more than the tolerance in a pass.
///
/// Each pass solves every note block given the raters, then every rater block given the
/// notes, then μ, each exactly; then moves along the model's symmetries to the least
/// penalty, and extrapolates along the pass's move while that lowers the loss. Every step
/// lowers the loss or keeps it. With one of the three groups (notes, raters, μ) trainable
/// one pass is exact. The result is a stationary point; with more than one group trainable
/// the problem is not convex, so which one depends on the start.
///
/// # Panics
/// If `init` does not have one entry per note row and rater row of `data`.
pub fn fit_squared(
    data: &LogitData,
    params: &ValidLogitParams,
    init: LogitFactors,
    trainable: Trainable,
) -> (LogitFactors, LogitReport) {
    init.check_shape(data);
    let p = params.get();
    let pen = penalties(data, params);
    let mut f = init;
    let mut current = squared_loss(data, params, &f);
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
        current = squared_loss(data, params, &f);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_solves_handle_frozen_and_singular_coordinates() {
        // min (3 − 2a − b)² + (1 − b)² + a² + b² over a alone (b frozen at 0.5).
        let mut normal = Normal::<2>::new([1.0, 1.0]);
        normal.add(1.0, &[2.0, 1.0], 3.0);
        normal.add(1.0, &[0.0, 1.0], 1.0);
        let mut theta = [0.0, 0.5];
        normal.solve(&mut theta, [true, false]);
        // d/da: −4(3 − 2a − 0.5) + 2a = 0 → a = 10 / 10.
        assert!((theta[0] - 1.0).abs() < 1e-12, "{theta:?}");
        assert_eq!(theta[1], 0.5);
        // No data and no penalty: the block keeps its values.
        let mut theta = [0.25, -0.75];
        Normal::<2>::new([0.0, 0.0]).solve(&mut theta, [true, true]);
        assert_eq!(theta, [0.25, -0.75]);
    }
}
