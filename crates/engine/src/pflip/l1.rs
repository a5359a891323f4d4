//! L1-regularised binary logistic regression on 0/1 features, as scikit-learn 1.0.2's
//! `LogisticRegression(penalty="l1", solver="liblinear", C)` defines it:
//!
//! ```text
//! ‖w‖₁ + |b|  +  C · Σ_i log(1 + exp(−s_i (w·x_i + b)))
//! ```
//!
//! with `s_i = ±1` and the intercept `b` penalised like a weight (liblinear appends a constant
//! feature of 1). Dividing by `C` gives the form minimised here with argmin's L-BFGS in its
//! orthant-wise (OWL-QN) mode, `l1 = 1/C`. liblinear reaches the same optimum by coordinate
//! descent; the two agree to their tolerances.
//!
//! Every sum runs over the rows in order, so the fit does not depend on the number of
//! threads.

use argmin::core::{Error as ArgminError, Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

use crate::numeric::{Cached, SmoothObjective, expit, log1p_exp_neg};

/// Rows of 0/1 features: row `r` has a 1 in each column of `indices[indptr[r]..indptr[r + 1]]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BinaryRows {
    pub cols: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
}

impl BinaryRows {
    /// An empty matrix with `cols` columns.
    pub fn new(cols: usize) -> Self {
        BinaryRows {
            cols,
            indptr: vec![0],
            indices: Vec::new(),
        }
    }

    /// Appends a row with ones in `columns`.
    pub fn push(&mut self, columns: &[u32]) {
        self.indices.extend_from_slice(columns);
        self.indptr.push(self.indices.len());
    }

    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn row(&self, r: usize) -> &[u32] {
        &self.indices[self.indptr[r]..self.indptr[r + 1]]
    }
}

/// A fitted model.
#[derive(Clone, Debug, PartialEq)]
pub struct L1Fit {
    pub weights: Vec<f64>,
    pub bias: f64,
    /// L-BFGS iterations run.
    pub iterations: u64,
}

impl L1Fit {
    /// The decision value `w·x + b` of a row with ones in `columns`.
    pub fn decision(&self, columns: &[u32]) -> f64 {
        columns
            .iter()
            .map(|&c| self.weights[c as usize])
            .sum::<f64>()
            + self.bias
    }

    /// Weights that are not zero.
    pub fn nonzero(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }
}

/// L-BFGS stops when the (pseudo-)gradient norm is below this ...
const GRADIENT_TOLERANCE: f64 = 1e-6;
/// ... or when an iteration lowers the objective by less than this share of its start.
const RELATIVE_COST_TOLERANCE: f64 = 1e-12;

/// Fits the model to `x` and labels `y` (true: the positive class) with inverse penalty `c`.
///
/// Most weights of an L1 fit are zero, so it works on a growing set of columns, starting from
/// none (the intercept alone): after each fit, the columns whose gradient there breaks the
/// optimality condition of a zero weight (|gradient| ≤ 1/C) most join, a few dozen at a time,
/// until none does. The result is the optimum over all columns, at a fraction of the cost.
pub fn fit_l1(
    x: &BinaryRows,
    y: &[bool],
    c: f64,
    max_iterations: u64,
) -> Result<L1Fit, ArgminError> {
    assert_eq!(x.rows(), y.len());
    assert!(c > 0.0, "C must be positive");
    let penalty = 1.0 / c;
    let mut weights = vec![0.0; x.cols];
    let mut bias = 0.0;
    let mut iterations = 0;
    let full = Objective { x, y };
    // The first round fits the intercept alone.
    let mut working: Vec<u32> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        // The working columns alone, renumbered.
        let mut renumber = vec![u32::MAX; x.cols];
        for (i, &j) in working.iter().enumerate() {
            renumber[j as usize] = i as u32;
        }
        let mut reduced = BinaryRows::new(working.len());
        let mut row = Vec::new();
        for r in 0..x.rows() {
            row.clear();
            row.extend(
                x.row(r)
                    .iter()
                    .map(|&j| renumber[j as usize])
                    .filter(|&i| i != u32::MAX),
            );
            reduced.push(&row);
        }
        let mut start: Vec<f64> = working.iter().map(|&j| weights[j as usize]).collect();
        start.push(bias);
        let (params, iters) = owlqn(&reduced, y, penalty, start, max_iterations)?;
        iterations += iters;
        for (&j, &w) in working.iter().zip(&params) {
            weights[j as usize] = w;
        }
        bias = params[working.len()];
        // Columns outside the set that would move off zero.
        let (_, gradient) = full.evaluate(&[weights.as_slice(), &[bias]].concat());
        let before = working.len();
        let mut inside = vec![false; x.cols];
        for &j in &working {
            inside[j as usize] = true;
        }
        // The worst violators first, a bounded number a round, so each fit stays small.
        let mut violators: Vec<(f64, u32)> = (0..x.cols as u32)
            .filter(|&j| {
                !inside[j as usize] && gradient[j as usize].abs() > penalty * (1.0 + KKT_SLACK)
            })
            .map(|j| (gradient[j as usize].abs(), j))
            .collect();
        violators.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        working.extend(violators.iter().take(MAX_JOINING).map(|&(_, j)| j));
        if working.len() == before {
            break;
        }
        working.sort_unstable();
    }
    Ok(L1Fit {
        weights,
        bias,
        iterations,
    })
}

/// Rounds of growing the working set at most.
const MAX_ROUNDS: usize = 200;
/// Columns joining the working set in one round at most (the largest violations first).
const MAX_JOINING: usize = 64;
/// A zero weight's gradient may exceed the penalty by this share before its column joins.
const KKT_SLACK: f64 = 1e-4;

/// OWL-QN on all columns of `x` from `start`; returns the parameters and iterations.
fn owlqn(
    x: &BinaryRows,
    y: &[bool],
    penalty: f64,
    start: Vec<f64>,
    max_iterations: u64,
) -> Result<(Vec<f64>, u64), ArgminError> {
    let start_cost = x.rows() as f64 * std::f64::consts::LN_2;
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_l1_regularization(penalty)?
        .with_tolerance_grad(GRADIENT_TOLERANCE)?
        .with_tolerance_cost(RELATIVE_COST_TOLERANCE * start_cost.max(1.0))?;
    let result = Executor::new(Cached::new(Objective { x, y }), solver)
        .configure(|state| state.param(start).max_iters(max_iterations))
        .run()?;
    let state = result.state();
    let params = state
        .get_best_param()
        .or(state.get_param())
        .cloned()
        .expect("L-BFGS keeps its parameters");
    Ok((params, state.get_iter()))
}

struct Objective<'a> {
    x: &'a BinaryRows,
    y: &'a [bool],
}

impl SmoothObjective for Objective<'_> {
    /// The unpenalised loss and its gradient (weights, then the intercept): per row in
    /// parallel, then added into the gradient row by row in order.
    fn evaluate(&self, w: &[f64]) -> (f64, Vec<f64>) {
        let cols = self.x.cols;
        let per_row: Vec<(f64, f64)> = (0..self.x.rows())
            .into_par_iter()
            .map(|r| {
                let sign = if self.y[r] { 1.0 } else { -1.0 };
                let z = self.x.row(r).iter().map(|&c| w[c as usize]).sum::<f64>() + w[cols];
                (log1p_exp_neg(sign * z), (expit(sign * z) - 1.0) * sign)
            })
            .collect();
        let mut grad = vec![0.0; cols + 1];
        let mut loss = 0.0;
        for (r, &(l, d)) in per_row.iter().enumerate() {
            loss += l;
            for &c in self.x.row(r) {
                grad[c as usize] += d;
            }
            grad[cols] += d;
        }
        (loss, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column 0 decides the label, column 1 is noise, column 2 is always on.
    fn data() -> (BinaryRows, Vec<bool>) {
        let mut x = BinaryRows::new(3);
        let mut y = Vec::new();
        for i in 0..40u32 {
            let mut row = Vec::new();
            let label = i % 2 == 0;
            // The signal agrees with the label 9 times in 10.
            if label != (i % 10 == 3) {
                row.push(0);
            }
            if i % 3 == 0 {
                row.push(1);
            }
            row.push(2);
            x.push(&row);
            y.push(label);
        }
        (x, y)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (x, y) = data();
        let o = Objective { x: &x, y: &y };
        let w = vec![0.3, -0.7, 0.2, 0.1];
        let (_, grad) = o.evaluate(&w);
        for p in 0..w.len() {
            let h = 1e-6;
            let (mut up, mut down) = (w.clone(), w.clone());
            up[p] += h;
            down[p] -= h;
            let numeric = (o.evaluate(&up).0 - o.evaluate(&down).0) / (2.0 * h);
            assert!(
                (numeric - grad[p]).abs() < 1e-5,
                "{p}: {numeric} vs {}",
                grad[p]
            );
        }
    }

    #[test]
    fn strong_penalty_zeroes_the_noise_and_keeps_the_signal() {
        let (x, y) = data();
        let fit = fit_l1(&x, &y, 0.2, 500).unwrap();
        assert!(fit.weights[0] > 0.5, "{fit:?}");
        assert_eq!(fit.weights[1], 0.0, "{fit:?}");
        // Optimality: at the solution no zero weight can lower the penalised objective, so
        // each zero weight's gradient lies within the penalty (1/C).
        let o = Objective { x: &x, y: &y };
        let mut w = fit.weights.clone();
        w.push(fit.bias);
        let (_, grad) = o.evaluate(&w);
        for (p, (&wp, &g)) in w.iter().zip(&grad).enumerate() {
            if wp == 0.0 {
                assert!(g.abs() <= 1.0 / 0.2 + 1e-6, "{p}: {g}");
            } else {
                assert!((g + wp.signum() / 0.2).abs() < 1e-3, "{p}: {g} at {wp}");
            }
        }
        // A weaker penalty keeps more.
        let loose = fit_l1(&x, &y, 100.0, 500).unwrap();
        assert!(loose.weights[0] > fit.weights[0]);
        assert!(loose.decision(&[0, 2]) > 0.0 && loose.decision(&[2]) < 0.0);
    }
}
