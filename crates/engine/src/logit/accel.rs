//! Anderson acceleration of the alternating passes.
//!
//! One pass of the block solver is a map `x ↦ G(x)` on the trainable parameters whose
//! fixed points are the stationary points of the loss. Alternating passes converge
//! linearly, slowly where blocks are strongly coupled. Anderson's method (type II) keeps the
//! last few pairs `(x_i, G(x_i))` and proposes the combination of the `G(x_i)` whose
//! residuals `G(x_i) − x_i` combine to the smallest one, which on these problems cuts the
//! passes several-fold. The caller decides whether to take a proposal (it checks the loss).
//!
//! Everything here runs serially in a fixed order, so proposals do not depend on threads.

use std::collections::VecDeque;

use super::fit::LogitFactors;
use super::params::Trainable;

/// The trainable parameters of a [`LogitFactors`] as one flat vector, in a fixed order.
pub(super) fn pack(f: &LogitFactors, tr: &Trainable) -> Vec<f64> {
    let mut out = Vec::new();
    for (on, block) in blocks(f, tr) {
        if on {
            out.extend_from_slice(block);
        }
    }
    if tr.global_intercept {
        out.push(f.global_intercept);
    }
    out
}

/// Writes `x` (from [`pack`]) back into the trainable blocks of `f`.
pub(super) fn unpack(x: &[f64], f: &mut LogitFactors, tr: &Trainable) {
    let mut at = 0;
    let mut take = |on: bool, block: &mut [f64]| {
        if on {
            block.copy_from_slice(&x[at..at + block.len()]);
            at += block.len();
        }
    };
    take(tr.note_intercept, &mut f.note_intercept);
    take(tr.note_factor, &mut f.note_factor);
    take(tr.rater_intercept, &mut f.rater_intercept);
    take(tr.rater_factor, &mut f.rater_factor);
    take(tr.rater_reputation, &mut f.rater_reputation);
    if tr.global_intercept {
        f.global_intercept = x[at];
        at += 1;
    }
    debug_assert_eq!(at, x.len());
}

fn blocks<'a>(f: &'a LogitFactors, tr: &Trainable) -> [(bool, &'a [f64]); 5] {
    [
        (tr.note_intercept, &f.note_intercept),
        (tr.note_factor, &f.note_factor),
        (tr.rater_intercept, &f.rater_intercept),
        (tr.rater_factor, &f.rater_factor),
        (tr.rater_reputation, &f.rater_reputation),
    ]
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four partial sums: faster than one chain, and still one fixed order.
    let mut acc = [0.0f64; 4];
    let (ca, ra) = a.as_chunks::<4>();
    let (cb, rb) = b.as_chunks::<4>();
    for (x, y) in ca.iter().zip(cb) {
        for j in 0..4 {
            acc[j] += x[j] * y[j];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Anderson acceleration with a window of the last `depth` differences.
pub(super) struct Anderson {
    depth: usize,
    /// The previous `(x, G(x) − x)`.
    last: Option<(Vec<f64>, Vec<f64>)>,
    /// Differences of consecutive residuals and of consecutive `G(x)`, oldest first.
    delta_f: VecDeque<Vec<f64>>,
    delta_g: VecDeque<Vec<f64>>,
    /// Gram matrix of `delta_f`, in the same order.
    gram: VecDeque<VecDeque<f64>>,
}

impl Anderson {
    pub(super) fn new(depth: usize) -> Self {
        Anderson {
            depth,
            last: None,
            delta_f: VecDeque::new(),
            delta_g: VecDeque::new(),
            gram: VecDeque::new(),
        }
    }

    /// Forgets the history (after a rejected proposal).
    pub(super) fn reset(&mut self) {
        self.last = None;
        self.delta_f.clear();
        self.delta_g.clear();
        self.gram.clear();
    }

    /// Records the pass `x ↦ g` and proposes the next point; `None` while there is no
    /// history or the least-squares problem is degenerate.
    pub(super) fn propose(&mut self, x: &[f64], g: &[f64]) -> Option<Vec<f64>> {
        let residual: Vec<f64> = g.iter().zip(x).map(|(a, b)| a - b).collect();
        if let Some((last_x, last_f)) = self.last.take() {
            // G(x_prev) = x_prev + f_prev.
            let df: Vec<f64> = residual.iter().zip(&last_f).map(|(a, b)| a - b).collect();
            let dg: Vec<f64> = g
                .iter()
                .zip(last_x.iter().zip(&last_f))
                .map(|(a, (px, pf))| a - (px + pf))
                .collect();
            if self.delta_f.len() == self.depth {
                self.delta_f.pop_front();
                self.delta_g.pop_front();
                self.gram.pop_front();
                self.gram.iter_mut().for_each(|row| {
                    row.pop_front();
                });
            }
            let row: VecDeque<f64> = self.delta_f.iter().map(|v| dot(v, &df)).collect();
            for (k, r) in self.gram.iter_mut().enumerate() {
                r.push_back(row[k]);
            }
            let mut row = row;
            row.push_back(dot(&df, &df));
            self.gram.push_back(row);
            self.delta_f.push_back(df);
            self.delta_g.push_back(dg);
        }
        self.last = Some((x.to_vec(), residual));
        let m = self.delta_f.len();
        if m == 0 {
            return None;
        }
        let (_, f) = self.last.as_ref().expect("just set");
        let rhs: Vec<f64> = self.delta_f.iter().map(|v| dot(v, f)).collect();
        let top = (0..m).map(|k| self.gram[k][k]).fold(0.0f64, f64::max);
        if !(top > 0.0 && top.is_finite()) {
            return None;
        }
        let mut a: Vec<Vec<f64>> = (0..m)
            .map(|i| (0..m).map(|j| self.gram[i][j]).collect())
            .collect();
        for (k, row) in a.iter_mut().enumerate() {
            row[k] += 1e-10 * top;
        }
        let gamma = solve_dense(a, rhs)?;
        let mut z = g.to_vec();
        for (c, dg) in gamma.iter().zip(&self.delta_g) {
            for (zi, d) in z.iter_mut().zip(dg) {
                *zi -= c * d;
            }
        }
        z.iter().all(|v| v.is_finite()).then_some(z)
    }
}

/// Solves `a x = b` (small, dense) by Gaussian elimination with partial pivoting.
fn solve_dense(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        let size = a[pivot][col].abs();
        if size.is_nan() || size <= 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let m = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= m * p;
            }
            b[row] -= m * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let mut acc = b[row];
        for k in row + 1..n {
            acc -= a[row][k] * x[k];
        }
        x[row] = acc / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_unpack_round_trip_over_the_trainable_blocks() {
        let mut f = LogitFactors::new(3, 2);
        f.note_intercept = vec![1.0, 2.0, 3.0];
        f.note_factor = vec![4.0, 5.0, 6.0];
        f.rater_intercept = vec![7.0, 8.0];
        f.rater_factor = vec![9.0, 10.0];
        f.rater_reputation = vec![11.0, 12.0];
        f.global_intercept = 13.0;
        let tr = Trainable {
            note_intercept: false,
            rater_factor: false,
            ..Trainable::ALL
        };
        let x = pack(&f, &tr);
        assert_eq!(x, vec![4.0, 5.0, 6.0, 7.0, 8.0, 11.0, 12.0, 13.0]);
        let mut g = LogitFactors::new(3, 2);
        unpack(&x, &mut g, &tr);
        assert_eq!(g.note_factor, f.note_factor);
        assert_eq!(g.rater_intercept, f.rater_intercept);
        assert_eq!(g.rater_reputation, f.rater_reputation);
        assert_eq!(g.global_intercept, 13.0);
        assert_eq!(g.note_intercept, vec![0.0; 3]);
        assert_eq!(g.rater_factor, vec![0.0; 2]);
    }

    /// On an affine map, Anderson reaches the fixed point in a few steps where plain
    /// iteration crawls.
    #[test]
    fn solves_an_affine_fixed_point_in_a_few_steps() {
        let map = |x: &[f64]| -> Vec<f64> {
            vec![
                0.95 * x[0] + 0.04 * x[1] + 1.0,
                0.03 * x[0] + 0.90 * x[1] - 2.0,
                0.01 * x[1] + 0.99 * x[2] + 0.5,
            ]
        };
        let residual = |x: &[f64]| {
            map(x)
                .iter()
                .zip(x)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        };
        let steps = |accelerate: bool| {
            let mut accel = Anderson::new(3);
            let mut x = vec![0.0; 3];
            (1..=10_000)
                .find(|_| {
                    let g = map(&x);
                    x = if accelerate {
                        accel.propose(&x, &g)
                    } else {
                        None
                    }
                    .unwrap_or(g);
                    residual(&x) < 1e-9
                })
                .unwrap_or(usize::MAX)
        };
        let (fast, slow) = (steps(true), steps(false));
        assert!(fast <= 8 && slow > 1000, "{fast} vs {slow}");
        let mut accel = Anderson::new(3);
        let x = vec![1.0; 3];
        let g = map(&x);
        assert_eq!(accel.propose(&x, &g), None);
        assert!(accel.propose(&g, &map(&g)).is_some());
        accel.reset();
        assert_eq!(accel.propose(&x, &g), None);
    }
}
