//! The alternating exact-update solver.

use rayon::prelude::*;

use super::{RatingMatrix, ValidMfParams};

/// Fitted (or initial) parameters: one entry per note row and per rater row of the matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    pub global_intercept: f64,
    pub note_intercept: Vec<f64>,
    pub note_factor: Vec<f64>,
    pub rater_intercept: Vec<f64>,
    pub rater_factor: Vec<f64>,
}

impl Factors {
    /// All parameters zero.
    pub fn zeros(notes: usize, raters: usize) -> Self {
        Factors {
            global_intercept: 0.0,
            note_intercept: vec![0.0; notes],
            note_factor: vec![0.0; notes],
            rater_intercept: vec![0.0; raters],
            rater_factor: vec![0.0; raters],
        }
    }

    /// The reference's sign convention (`_flip_factors_for_identification`): factors are
    /// negated unless at least half of the raters with a non-zero factor have a negative one.
    pub fn identify_sign(&mut self) {
        let nonzero = self.rater_factor.iter().filter(|f| **f != 0.0).count();
        let negative = self.rater_factor.iter().filter(|f| **f < 0.0).count();
        if nonzero > 0 && (negative as f64) / (nonzero as f64) < 0.5 {
            self.note_factor.iter_mut().for_each(|f| *f = -*f);
            self.rater_factor.iter_mut().for_each(|f| *f = -*f);
        }
    }
}

/// Which parameter blocks stay at their initial values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Frozen {
    pub raters: bool,
    pub global_intercept: bool,
}

/// How a fit went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitReport {
    /// Alternating passes run (each updates every unfrozen block once).
    pub passes: usize,
    /// Final regularized loss, as the reference defines it.
    pub loss: f64,
    /// Final mean squared error over the ratings (the reference's "train error").
    pub mse: f64,
}

const CHUNK: usize = 4096;

/// Penalty multipliers after scaling the loss by the number of ratings N.
struct Penalties {
    note_intercept: f64,
    note_factor: f64,
    rater_intercept: f64,
    rater_factor: f64,
    global: f64,
    /// The diamond penalty on each note's |i_n · f_n|.
    diamond: f64,
}

fn penalties(matrix: &RatingMatrix, params: &ValidMfParams) -> Penalties {
    let p = params.get();
    let n = matrix.len() as f64;
    let note_rows = match p.rating_per_note_loss_ratio {
        Some(ratio) => n / ratio,
        None => matrix.notes().max(1) as f64,
    };
    let rater_rows = matrix.raters().max(1) as f64;
    Penalties {
        note_intercept: p.note_intercept_lambda * n / note_rows,
        note_factor: p.note_factor_lambda * n / note_rows,
        rater_intercept: p.rater_intercept_lambda * n / rater_rows,
        rater_factor: p.rater_factor_lambda * n / rater_rows,
        diamond: p.diamond_lambda * n / note_rows,
        global: if p.use_global_intercept {
            p.global_intercept_lambda * n
        } else {
            0.0
        },
    }
}

/// Sufficient statistics of one block: Σ w, Σ w·x, Σ w·x², Σ w·e, Σ w·e·x over its
/// ratings, where e is the rating minus everything but this block's terms, x the other
/// side's factor and w the rating's loss weight (1 without weights).
#[derive(Default)]
struct BlockSums {
    weight: f64,
    x: f64,
    xx: f64,
    e: f64,
    ex: f64,
}

/// The weight of the `j`-th rating of a block (1 without weights).
#[inline]
fn weight_at(weights: Option<&[f64]>, j: usize) -> f64 {
    weights.map_or(1.0, |w| w[j])
}

impl BlockSums {
    fn add(&mut self, e: f64, x: f64, w: f64) {
        self.weight += w;
        self.x += w * x;
        self.xx += w * x * x;
        self.e += w * e;
        self.ex += w * e * x;
    }

    /// Solves min Σ w_k (e_k − i − x_k f)² + a i² + b f² + d |i f| for (i, f); keeps
    /// `current` if singular.
    fn solve(&self, a: f64, b: f64, d: f64, current: (f64, f64)) -> (f64, f64) {
        let s0 = self.weight + a;
        let s2 = self.xx + b;
        if d != 0.0 {
            return self.solve_diamond(s0, s2, d, current);
        }
        let det = s0 * s2 - self.x * self.x;
        if det.abs() < 1e-300 {
            return current;
        }
        (
            (self.e * s2 - self.ex * self.x) / det,
            (s0 * self.ex - self.x * self.e) / det,
        )
    }

    /// The block problem with the diamond penalty. In each quadrant |i f| = ±i f, so the
    /// objective is a quadratic there: the minimum is a stationary point of one quadrant's
    /// quadratic lying in that quadrant, or on an axis (i = 0 or f = 0), where the
    /// penalty vanishes. Every candidate is evaluated and the lowest kept (first on ties).
    fn solve_diamond(&self, s0: f64, s2: f64, d: f64, current: (f64, f64)) -> (f64, f64) {
        let (p, q, b) = (self.e, self.ex, self.x);
        let objective = |i: f64, f: f64| {
            s0 * i * i + 2.0 * b * i * f + s2 * f * f - 2.0 * p * i - 2.0 * q * f
                + d * (i * f).abs()
        };
        let mut candidates = vec![(0.0, 0.0)];
        if s0 > 0.0 {
            candidates.push((p / s0, 0.0));
        }
        if s2 > 0.0 {
            candidates.push((0.0, q / s2));
        }
        for side in [1.0, -1.0] {
            let cross = b + side * d / 2.0;
            let det = s0 * s2 - cross * cross;
            if det > 1e-300 {
                let i = (p * s2 - q * cross) / det;
                let f = (s0 * q - cross * p) / det;
                if side * i * f >= 0.0 {
                    candidates.push((i, f));
                }
            }
        }
        if s0 <= 0.0 && s2 <= 0.0 {
            return current;
        }
        let mut best = candidates[0];
        let mut best_value = objective(best.0, best.1);
        for &(i, f) in &candidates[1..] {
            let value = objective(i, f);
            if value < best_value {
                best = (i, f);
                best_value = value;
            }
        }
        best
    }
}

fn update_notes(matrix: &RatingMatrix, f: &mut Factors, pen: &Penalties) {
    let mu = f.global_intercept;
    let (ri, rf) = (&f.rater_intercept, &f.rater_factor);
    f.note_intercept
        .par_iter_mut()
        .zip(f.note_factor.par_iter_mut())
        .enumerate()
        .with_min_len(CHUNK)
        .for_each(|(n, (i_n, f_n))| {
            let (raters, values) = matrix.note_ratings(n);
            let weights = matrix.note_weights(n);
            let mut sums = BlockSums::default();
            for (j, (&u, &r)) in raters.iter().zip(values).enumerate() {
                sums.add(
                    r as f64 - mu - ri[u as usize],
                    rf[u as usize],
                    weight_at(weights, j),
                );
            }
            let (i, fac) = sums.solve(
                pen.note_intercept,
                pen.note_factor,
                pen.diamond,
                (*i_n, *f_n),
            );
            *i_n = i;
            *f_n = fac;
        });
}

fn update_raters(matrix: &RatingMatrix, f: &mut Factors, pen: &Penalties) {
    let mu = f.global_intercept;
    let (ni, nf) = (&f.note_intercept, &f.note_factor);
    f.rater_intercept
        .par_iter_mut()
        .zip(f.rater_factor.par_iter_mut())
        .enumerate()
        .with_min_len(CHUNK)
        .for_each(|(u, (i_u, f_u))| {
            let (notes, values) = matrix.rater_ratings(u);
            let weights = matrix.rater_weights(u);
            let mut sums = BlockSums::default();
            for (j, (&n, &r)) in notes.iter().zip(values).enumerate() {
                sums.add(
                    r as f64 - mu - ni[n as usize],
                    nf[n as usize],
                    weight_at(weights, j),
                );
            }
            let (i, fac) = sums.solve(pen.rater_intercept, pen.rater_factor, 0.0, (*i_u, *f_u));
            *i_u = i;
            *f_u = fac;
        });
}

/// Σ over ratings of `term(residual without μ, weight)`, summed in fixed chunk order so the
/// result does not depend on the thread count.
fn sum_over_ratings(
    matrix: &RatingMatrix,
    f: &Factors,
    term: impl Fn(f64, f64) -> f64 + Sync,
) -> f64 {
    let partials: Vec<f64> = (0..matrix.notes())
        .into_par_iter()
        .chunks(CHUNK)
        .map(|notes| {
            let mut sum = 0.0;
            for n in notes {
                let (raters, values) = matrix.note_ratings(n);
                let weights = matrix.note_weights(n);
                for (j, (&u, &r)) in raters.iter().zip(values).enumerate() {
                    let u = u as usize;
                    let pred = f.rater_intercept[u]
                        + f.note_intercept[n]
                        + f.rater_factor[u] * f.note_factor[n];
                    sum += term(r as f64 - pred, weight_at(weights, j));
                }
            }
            sum
        })
        .collect();
    partials.iter().sum()
}

fn update_global(matrix: &RatingMatrix, f: &mut Factors, pen: &Penalties) {
    let n = matrix.len() as f64;
    if n == 0.0 {
        return;
    }
    let (residual, total) = if matrix.is_weighted() {
        (
            sum_over_ratings(matrix, f, |x, w| w * x),
            sum_over_ratings(matrix, f, |_, w| w),
        )
    } else {
        (sum_over_ratings(matrix, f, |x, _| x), n)
    };
    f.global_intercept = residual / (total + pen.global);
}

/// A starting point in the basin of the best rank-1 solution: intercepts from an
/// intercept-only fit, factors from the leading singular vectors of the residual matrix
/// (power iteration from `seed_factor`, the starting rater vector). Alternating updates from
/// an arbitrary start can stall at a worse stationary point; from here they do not.
pub fn spectral_init(
    matrix: &RatingMatrix,
    params: &ValidMfParams,
    seed_factor: &[f64],
) -> Factors {
    assert_eq!(
        seed_factor.len(),
        matrix.raters(),
        "one seed value per rater row"
    );
    let pen = penalties(matrix, params);
    let mut f = Factors::zeros(matrix.notes(), matrix.raters());
    // Intercepts only: factors stay zero through the block updates.
    let mut previous = f64::INFINITY;
    for _ in 0..params.get().max_passes {
        update_notes(matrix, &mut f, &pen);
        update_raters(matrix, &mut f, &pen);
        if params.get().use_global_intercept {
            update_global(matrix, &mut f, &pen);
        }
        let (now, _) = loss(matrix, params, &f);
        if (previous - now).abs() <= params.get().tolerance {
            break;
        }
        previous = now;
    }
    let mu = f.global_intercept;
    let residual =
        |n: usize, u: usize, r: f32| r as f64 - mu - f.note_intercept[n] - f.rater_intercept[u];
    let mut rater_vec = seed_factor.to_vec();
    let mut note_vec = vec![0.0; matrix.notes()];
    let mut sigma = 0.0;
    let normalize = |v: &mut [f64]| {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        norm
    };
    normalize(&mut rater_vec);
    for _ in 0..100 {
        note_vec
            .par_iter_mut()
            .enumerate()
            .with_min_len(CHUNK)
            .for_each(|(n, out)| {
                let (raters, values) = matrix.note_ratings(n);
                *out = raters
                    .iter()
                    .zip(values)
                    .map(|(&u, &r)| residual(n, u as usize, r) * rater_vec[u as usize])
                    .sum();
            });
        normalize(&mut note_vec);
        rater_vec
            .par_iter_mut()
            .enumerate()
            .with_min_len(CHUNK)
            .for_each(|(u, out)| {
                let (notes, values) = matrix.rater_ratings(u);
                *out = notes
                    .iter()
                    .zip(values)
                    .map(|(&n, &r)| residual(n as usize, u, r) * note_vec[n as usize])
                    .sum();
            });
        sigma = normalize(&mut rater_vec);
    }
    // Split the singular value so both sides carry factors of typical size.
    let scale_notes = (sigma * matrix.notes() as f64 / matrix.len().max(1) as f64).sqrt();
    let scale_raters = (sigma * matrix.raters() as f64 / matrix.len().max(1) as f64).sqrt();
    let (notes, raters) = (matrix.notes() as f64, matrix.raters() as f64);
    f.note_factor = note_vec
        .iter()
        .map(|x| x * scale_notes * notes.sqrt())
        .collect();
    f.rater_factor = rater_vec
        .iter()
        .map(|x| x * scale_raters * raters.sqrt())
        .collect();
    f
}

/// The reference's regularized loss and the plain mean squared error.
pub fn loss(matrix: &RatingMatrix, params: &ValidMfParams, f: &Factors) -> (f64, f64) {
    let n = matrix.len() as f64;
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mu = f.global_intercept;
    let mse = sum_over_ratings(matrix, f, |x, w| w * (x - mu) * (x - mu)) / n;
    let reg = penalty(f, &penalties(matrix, params)) / n;
    (mse + reg, mse)
}

/// The regularization term of [`loss`] before it is divided by N.
fn penalty(f: &Factors, pen: &Penalties) -> f64 {
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let mu = f.global_intercept;
    pen.note_intercept * sq(&f.note_intercept)
        + pen.note_factor * sq(&f.note_factor)
        + pen.rater_intercept * sq(&f.rater_intercept)
        + pen.rater_factor * sq(&f.rater_factor)
        + pen.global * mu * mu
        + if pen.diamond != 0.0 {
            pen.diamond
                * f.note_intercept
                    .iter()
                    .zip(&f.note_factor)
                    .map(|(i, f)| (i * f).abs())
                    .sum::<f64>()
        } else {
            0.0
        }
}

/// d|i·f|/di = sign(i·f)·f (0 where i·f = 0, as torch's `abs` has it).
fn diamond_slope(i: f64, f: f64) -> f64 {
    let product = i * f;
    if product > 0.0 {
        f
    } else if product < 0.0 {
        -f
    } else {
        0.0
    }
}

/// The gradient of [`loss`] at `f`, with the blocks `frozen` leaves fixed (and μ when the
/// model has none) set to zero.
pub fn gradient(
    matrix: &RatingMatrix,
    params: &ValidMfParams,
    f: &Factors,
    frozen: Frozen,
) -> Factors {
    loss_and_gradient(matrix, params, f, frozen).1
}

/// The rater blocks of [`gradient`], written into `g`.
fn rater_gradient(matrix: &RatingMatrix, f: &Factors, pen: &Penalties, g: &mut Factors) {
    let n = matrix.len() as f64;
    let mu = f.global_intercept;
    g.rater_intercept
        .par_iter_mut()
        .zip(g.rater_factor.par_iter_mut())
        .enumerate()
        .with_min_len(CHUNK)
        .for_each(|(u, (gi, gf))| {
            let (notes, values) = matrix.rater_ratings(u);
            let weights = matrix.rater_weights(u);
            let (mut si, mut sf) = (0.0, 0.0);
            for (j, (&note, &r)) in notes.iter().zip(values).enumerate() {
                let note = note as usize;
                let e = weight_at(weights, j)
                    * (r as f64
                        - mu
                        - f.rater_intercept[u]
                        - f.note_intercept[note]
                        - f.rater_factor[u] * f.note_factor[note]);
                si += e;
                sf += e * f.note_factor[note];
            }
            *gi = 2.0 * (pen.rater_intercept * f.rater_intercept[u] - si) / n;
            *gf = 2.0 * (pen.rater_factor * f.rater_factor[u] - sf) / n;
        });
}

/// [`loss`]'s first value (bit for bit) and [`gradient`] together, for the Adam replay: the
/// loss, the note blocks and μ share one pass over the ratings note by note (each sum in the
/// order and the chunks of [`sum_over_ratings`]), the rater blocks take a second.
pub fn loss_and_gradient(
    matrix: &RatingMatrix,
    params: &ValidMfParams,
    f: &Factors,
    frozen: Frozen,
) -> (f64, Factors) {
    let mut g = Factors::zeros(matrix.notes(), matrix.raters());
    let n = matrix.len() as f64;
    if n == 0.0 {
        return (0.0, g);
    }
    let pen = penalties(matrix, params);
    let mu = f.global_intercept;
    // Per chunk of notes: Σ (x − μ)² and Σ (x − μ) with x = r − (i_u + i_n + f_u f_n), as
    // `sum_over_ratings` sums them.
    let partials: Vec<[f64; 2]> = g
        .note_intercept
        .par_chunks_mut(CHUNK)
        .zip(g.note_factor.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, (gis, gfs))| {
            let (mut squares, mut residuals) = (0.0, 0.0);
            for (j, (gi, gf)) in gis.iter_mut().zip(gfs.iter_mut()).enumerate() {
                let note = chunk * CHUNK + j;
                let (raters, values) = matrix.note_ratings(note);
                let weights = matrix.note_weights(note);
                let (mut si, mut sf) = (0.0, 0.0);
                for (j, (&u, &r)) in raters.iter().zip(values).enumerate() {
                    let u = u as usize;
                    let w = weight_at(weights, j);
                    let pred = f.rater_intercept[u]
                        + f.note_intercept[note]
                        + f.rater_factor[u] * f.note_factor[note];
                    let x = r as f64 - pred;
                    squares += w * (x - mu) * (x - mu);
                    residuals += w * (x - mu);
                    let e = w
                        * (r as f64
                            - mu
                            - f.rater_intercept[u]
                            - f.note_intercept[note]
                            - f.rater_factor[u] * f.note_factor[note]);
                    si += e;
                    sf += e * f.rater_factor[u];
                }
                let (i_n, f_n) = (f.note_intercept[note], f.note_factor[note]);
                *gi = 2.0 * (pen.note_intercept * i_n - si) / n;
                *gf = 2.0 * (pen.note_factor * f_n - sf) / n;
                if pen.diamond != 0.0 {
                    *gi += pen.diamond * diamond_slope(i_n, f_n) / n;
                    *gf += pen.diamond * diamond_slope(f_n, i_n) / n;
                }
            }
            [squares, residuals]
        })
        .collect();
    if !frozen.raters {
        rater_gradient(matrix, f, &pen, &mut g);
    }
    if params.get().use_global_intercept && !frozen.global_intercept {
        let residual: f64 = partials.iter().map(|p| p[1]).sum();
        g.global_intercept = 2.0 * (pen.global * mu - residual) / n;
    }
    let mse = partials.iter().map(|p| p[0]).sum::<f64>() / n;
    (mse + penalty(f, &pen) / n, g)
}

/// Fits the model to `matrix` from `init`, updating every block not `frozen` until the loss
/// stops improving by more than the tolerance.
///
/// # Panics
/// If `init` does not have one entry per note row and rater row of `matrix`.
pub fn fit(
    matrix: &RatingMatrix,
    params: &ValidMfParams,
    init: Factors,
    frozen: Frozen,
) -> (Factors, FitReport) {
    assert_eq!(
        init.note_intercept.len(),
        matrix.notes(),
        "one note intercept per note row"
    );
    assert_eq!(
        init.note_factor.len(),
        matrix.notes(),
        "one note factor per note row"
    );
    assert_eq!(
        init.rater_intercept.len(),
        matrix.raters(),
        "one rater intercept per rater row"
    );
    assert_eq!(
        init.rater_factor.len(),
        matrix.raters(),
        "one rater factor per rater row"
    );
    let p = params.get();
    let pen = penalties(matrix, params);
    let mut f = init;
    if !p.use_global_intercept {
        f.global_intercept = 0.0;
    }
    let (mut current, _) = loss(matrix, params, &f);
    let mut passes = 0;
    while passes < p.max_passes {
        update_notes(matrix, &mut f, &pen);
        if !frozen.raters {
            update_raters(matrix, &mut f, &pen);
        }
        if p.use_global_intercept && !frozen.global_intercept {
            update_global(matrix, &mut f, &pen);
        }
        passes += 1;
        let (next, _) = loss(matrix, params, &f);
        let change = current - next;
        current = next;
        if change.abs() <= p.tolerance || (frozen.raters && frozen.global_intercept) {
            break;
        }
    }
    let (loss, mse) = loss(matrix, params, &f);
    (f, FitReport { passes, loss, mse })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mf::MfParams;
    use proptest::prelude::*;

    /// A small random problem: `notes` × `raters` with roughly `density` of cells rated.
    fn problem(seed: u64, notes: usize, raters: usize, density: f64) -> RatingMatrix {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut ns, mut us, mut vs) = (Vec::new(), Vec::new(), Vec::new());
        let viewpoint: Vec<f64> = (0..raters).map(|_| next() * 2.0 - 1.0).collect();
        let slant: Vec<f64> = (0..notes).map(|_| next() * 2.0 - 1.0).collect();
        for (n, s) in slant.iter().enumerate() {
            for (u, v) in viewpoint.iter().enumerate() {
                if next() < density {
                    let p = 0.5 + 0.4 * v * s;
                    let v = if next() < p {
                        1.0
                    } else if next() < 0.2 {
                        0.5
                    } else {
                        0.0
                    };
                    ns.push(n as u32);
                    us.push(u as u32);
                    vs.push(v);
                }
            }
        }
        RatingMatrix::new(notes, raters, &ns, &us, &vs)
    }

    fn small_init(notes: usize, raters: usize) -> Factors {
        let mut f = Factors::zeros(notes, raters);
        for (k, x) in f.rater_factor.iter_mut().enumerate() {
            *x = ((k * 7919) % 13) as f64 / 13.0 - 0.5;
        }
        for (k, x) in f.note_factor.iter_mut().enumerate() {
            *x = ((k * 104729) % 11) as f64 / 11.0 - 0.5;
        }
        f
    }

    /// The Adam replay's fused evaluation gives, bit for bit, the loss computed apart, and
    /// with frozen blocks the gradient of the others unchanged, over more notes than one
    /// chunk of the sums. (The gradient's values are checked against numerical ones below.)
    #[test]
    fn fused_loss_equals_the_separate_one_bit_for_bit() {
        let m = problem(5, 9000, 12, 0.2);
        let params = MfParams::default().validate().unwrap();
        let mut f = small_init(9000, 12);
        f.global_intercept = 0.17;
        f.note_intercept
            .iter_mut()
            .enumerate()
            .for_each(|(k, x)| *x = (k % 9) as f64 * 0.03 - 0.1);
        f.rater_intercept
            .iter_mut()
            .enumerate()
            .for_each(|(k, x)| *x = (k % 5) as f64 * 0.02);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for frozen in [
            Frozen::default(),
            Frozen {
                raters: true,
                global_intercept: true,
            },
        ] {
            let (total, g) = loss_and_gradient(&m, &params, &f, frozen);
            let apart = gradient(&m, &params, &f, Frozen::default());
            assert_eq!(total.to_bits(), loss(&m, &params, &f).0.to_bits());
            assert_eq!(bits(&g.note_intercept), bits(&apart.note_intercept));
            assert_eq!(bits(&g.note_factor), bits(&apart.note_factor));
            if frozen.raters {
                assert_raters_and_global_frozen(&g);
            } else {
                assert_eq!(bits(&g.rater_intercept), bits(&apart.rater_intercept));
                assert_eq!(bits(&g.rater_factor), bits(&apart.rater_factor));
                assert_ne!(g.global_intercept, 0.0);
            }
        }
    }

    /// Numerical gradient of the loss at `f` in the coordinate chosen by `pick`.
    /// The gradient of frozen raters and global intercept is zero.
    fn assert_raters_and_global_frozen(g: &Factors) {
        assert!(
            g.rater_intercept
                .iter()
                .chain(&g.rater_factor)
                .all(|x| *x == 0.0)
        );
        assert_eq!(g.global_intercept, 0.0);
    }

    fn numeric_gradient(
        m: &RatingMatrix,
        p: &ValidMfParams,
        f: &Factors,
        pick: impl Fn(&mut Factors) -> &mut f64,
    ) -> f64 {
        let h = 1e-6;
        let mut plus = f.clone();
        *pick(&mut plus) += h;
        let mut minus = f.clone();
        *pick(&mut minus) -= h;
        (loss(m, p, &plus).0 - loss(m, p, &minus).0) / (2.0 * h)
    }

    #[test]
    fn converges_to_a_stationary_point() {
        let m = problem(3, 40, 60, 0.3);
        let params = MfParams::default().validate().unwrap();
        let (f, report) = fit(&m, &params, small_init(40, 60), Frozen::default());
        assert!(report.passes < 2000, "did not converge: {report:?}");
        for k in [0, 7, 39] {
            let g = numeric_gradient(&m, &params, &f, |f| &mut f.note_intercept[k]);
            assert!(g.abs() < 1e-5, "note intercept gradient {g}");
            let g = numeric_gradient(&m, &params, &f, |f| &mut f.note_factor[k]);
            assert!(g.abs() < 1e-5, "note factor gradient {g}");
        }
        for k in [0, 30, 59] {
            let g = numeric_gradient(&m, &params, &f, |f| &mut f.rater_factor[k]);
            assert!(g.abs() < 1e-5, "rater factor gradient {g}");
        }
        let g = numeric_gradient(&m, &params, &f, |f| &mut f.global_intercept);
        assert!(g.abs() < 1e-5, "global gradient {g}");
        // The factor captures the planted viewpoint structure.
        assert!(report.mse < loss(&m, &params, &Factors::zeros(40, 60)).1);
    }

    /// The analytic gradient at `f` against central differences of the loss, for the
    /// notes and raters listed and μ.
    fn assert_gradient_matches(
        m: &RatingMatrix,
        params: &ValidMfParams,
        f: &Factors,
        notes: &[usize],
        raters: &[usize],
    ) {
        let g = gradient(m, params, f, Frozen::default());
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-7, "{a} vs {b}");
        for &k in notes {
            close(
                g.note_intercept[k],
                numeric_gradient(m, params, f, |f| &mut f.note_intercept[k]),
            );
            close(
                g.note_factor[k],
                numeric_gradient(m, params, f, |f| &mut f.note_factor[k]),
            );
        }
        for &k in raters {
            close(
                g.rater_intercept[k],
                numeric_gradient(m, params, f, |f| &mut f.rater_intercept[k]),
            );
            close(
                g.rater_factor[k],
                numeric_gradient(m, params, f, |f| &mut f.rater_factor[k]),
            );
        }
        close(
            g.global_intercept,
            numeric_gradient(m, params, f, |f| &mut f.global_intercept),
        );
    }

    /// `problem` with every rating weighted by a fixed pseudo-random value in [0.25, 2).
    fn weighted_problem(seed: u64, notes: usize, raters: usize, density: f64) -> RatingMatrix {
        let m = problem(seed, notes, raters, density);
        let (mut ns, mut us, mut vs, mut ws) = (vec![], vec![], vec![], vec![]);
        for n in 0..notes {
            let (r, v) = m.note_ratings(n);
            for (&u, &x) in r.iter().zip(v) {
                ns.push(n as u32);
                us.push(u);
                vs.push(x);
                ws.push(0.25 + ((ns.len() * 7919) % 7) as f64 / 4.0);
            }
        }
        RatingMatrix::new_weighted(notes, raters, &ns, &us, &vs, &ws)
    }

    /// Weights of 1 change nothing, bit for bit.
    #[test]
    fn unit_weights_fit_as_no_weights() {
        let m = problem(8, 30, 40, 0.3);
        let (mut ns, mut us, mut vs) = (vec![], vec![], vec![]);
        for n in 0..30 {
            let (r, v) = m.note_ratings(n);
            for (&u, &x) in r.iter().zip(v) {
                ns.push(n as u32);
                us.push(u);
                vs.push(x);
            }
        }
        let ones = vec![1.0; vs.len()];
        let w = RatingMatrix::new_weighted(30, 40, &ns, &us, &vs, &ones);
        let params = MfParams::default().validate().unwrap();
        let (a, ra) = fit(&m, &params, small_init(30, 40), Frozen::default());
        let (b, rb) = fit(&w, &params, small_init(30, 40), Frozen::default());
        assert_eq!(a, b);
        assert_eq!(ra, rb);
    }

    /// With weights and the diamond penalty the analytic gradient still matches the loss
    /// (away from the penalty's kinks), and the weighted fit without the penalty reaches a
    /// stationary point of the weighted loss.
    #[test]
    fn weighted_and_diamond_losses_have_matching_gradients() {
        let m = weighted_problem(9, 20, 30, 0.4);
        let params = MfParams {
            diamond_lambda: 0.5,
            ..MfParams::default()
        }
        .validate()
        .unwrap();
        let mut f = small_init(20, 30);
        f.global_intercept = 0.2;
        f.note_intercept
            .iter_mut()
            .enumerate()
            .for_each(|(k, x)| *x = 0.05 + (k % 5) as f64 * 0.04 - 0.1);
        assert_gradient_matches(&m, &params, &f, &[1, 6, 18], &[0, 29]);

        let plain = MfParams::default().validate().unwrap();
        let (fitted, _) = fit(&m, &plain, small_init(20, 30), Frozen::default());
        let g = gradient(&m, &plain, &fitted, Frozen::default());
        let largest = g
            .note_intercept
            .iter()
            .chain(&g.note_factor)
            .chain(&g.rater_intercept)
            .chain(&g.rater_factor)
            .chain([&g.global_intercept])
            .fold(0.0f64, |a, x| a.max(x.abs()));
        assert!(largest < 1e-6, "largest gradient {largest}");
    }

    /// The analytic gradient agrees with central differences of the loss, and frozen
    /// blocks get none.
    #[test]
    fn gradient_matches_the_loss() {
        let m = problem(4, 20, 30, 0.4);
        let params = MfParams::default().validate().unwrap();
        let mut f = small_init(20, 30);
        f.global_intercept = 0.2;
        f.note_intercept[3] = 0.1;
        f.rater_intercept[5] = -0.2;
        assert_gradient_matches(&m, &params, &f, &[0, 3, 19], &[0, 5, 29]);
        let frozen = Frozen {
            raters: true,
            global_intercept: true,
        };
        assert_raters_and_global_frozen(&gradient(&m, &params, &f, frozen));
    }

    /// The replayed Adam loop lowers the loss towards the optimum's, leaves frozen blocks
    /// alone (up to single-precision rounding) and repeats bit for bit.
    #[test]
    fn adam_replay_approaches_the_optimum() {
        use crate::adam::AdamSettings;
        use crate::mf::fit_adam;
        let m = problem(6, 30, 40, 0.3);
        let params = MfParams::default().validate().unwrap();
        let init = small_init(30, 40);
        let settings = AdamSettings::with_learning_rate(0.05);
        let (f, report) = fit_adam(&m, &params, init.clone(), Frozen::default(), &settings);
        assert!(!report.hit_epoch_limit);
        let (_, optimum) = fit(&m, &params, init.clone(), Frozen::default());
        let start = loss(&m, &params, &init).0;
        let end = loss(&m, &params, &f).0;
        assert!(end < start);
        assert!(
            end - optimum.loss < 0.1 * (start - optimum.loss),
            "{end} {optimum:?}"
        );
        let frozen = Frozen {
            raters: true,
            global_intercept: true,
        };
        let (g, _) = fit_adam(&m, &params, init.clone(), frozen, &settings);
        for (a, b) in g.rater_factor.iter().zip(&init.rater_factor) {
            assert_eq!(*a, *b as f32 as f64);
        }
        assert_eq!(
            fit_adam(&m, &params, init, Frozen::default(), &settings).0,
            f
        );
    }

    #[test]
    fn frozen_raters_need_one_exact_pass() {
        let m = problem(5, 30, 50, 0.3);
        let params = MfParams::default().validate().unwrap();
        let (full, _) = fit(&m, &params, small_init(30, 50), Frozen::default());
        let mut start = full.clone();
        start.note_intercept.iter_mut().for_each(|x| *x = 0.3);
        start.note_factor.iter_mut().for_each(|x| *x = -0.2);
        let frozen = Frozen {
            raters: true,
            global_intercept: true,
        };
        let (refit, report) = fit(&m, &params, start, frozen);
        assert_eq!(report.passes, 1);
        assert_eq!(refit.rater_factor, full.rater_factor);
        for n in 0..30 {
            assert!((refit.note_intercept[n] - full.note_intercept[n]).abs() < 1e-5);
            let g = numeric_gradient(&m, &params, &refit, |f| &mut f.note_factor[n]);
            assert!(g.abs() < 1e-6);
        }
    }

    #[test]
    fn identical_on_one_and_two_threads() {
        let m = problem(9, 5000, 300, 0.02);
        let params = MfParams::default().validate().unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit(&m, &params, small_init(5000, 300), Frozen::default()))
        };
        let (a, ra) = run(1);
        let (b, rb) = run(2);
        assert_eq!(ra, rb);
        assert_eq!(a, b);
    }

    #[test]
    fn sign_identification_makes_most_raters_negative() {
        let mut f = Factors::zeros(1, 3);
        f.rater_factor = vec![0.5, 0.2, -0.1];
        f.note_factor = vec![0.3];
        f.identify_sign();
        assert_eq!(f.rater_factor, vec![-0.5, -0.2, 0.1]);
        assert_eq!(f.note_factor, vec![-0.3]);
        f.identify_sign();
        assert_eq!(f.rater_factor, vec![-0.5, -0.2, 0.1]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn never_increases_the_loss(seed in 0u64..1000, density in 0.05f64..0.6) {
            let m = problem(seed, 12, 20, density);
            let params = MfParams { max_passes: 1, ..MfParams::default() }.validate().unwrap();
            let mut f = small_init(12, 20);
            let mut previous = loss(&m, &params, &f).0;
            for _ in 0..20 {
                let (next, _) = fit(&m, &params, f, Frozen::default());
                let now = loss(&m, &params, &next).0;
                prop_assert!(now <= previous + 1e-12, "{} > {}", now, previous);
                prop_assert!(now.is_finite());
                previous = now;
                f = next;
            }
        }

        /// The diamond block solve is the minimum: no point near it, nor on the axes, is
        /// lower.
        #[test]
        fn diamond_block_solve_is_the_minimum(
            e in proptest::collection::vec(-1.0f64..1.0, 1..12),
            x in proptest::collection::vec(-1.0f64..1.0, 12),
            w in proptest::collection::vec(0.1f64..2.0, 12),
            a in 0.0f64..2.0,
            b in 0.0f64..2.0,
            d in 0.01f64..3.0,
        ) {
            let mut sums = BlockSums::default();
            for k in 0..e.len() {
                sums.add(e[k], x[k], w[k]);
            }
            let objective = |i: f64, f: f64| {
                (0..e.len())
                    .map(|k| w[k] * (e[k] - i - x[k] * f).powi(2))
                    .sum::<f64>()
                    + a * i * i
                    + b * f * f
                    + d * (i * f).abs()
            };
            let (i, f) = sums.solve(a, b, d, (0.0, 0.0));
            let best = objective(i, f);
            for (di, df) in [(1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3), (1e-3, 1e-3), (-1e-3, 1e-3)] {
                prop_assert!(best <= objective(i + di, f + df) + 1e-12);
            }
            for t in -20..=20 {
                let v = t as f64 / 10.0;
                prop_assert!(best <= objective(v, 0.0) + 1e-12);
                prop_assert!(best <= objective(0.0, v) + 1e-12);
                prop_assert!(best <= objective(v, v) + 1e-12);
                prop_assert!(best <= objective(v, -v) + 1e-12);
            }
        }
    }
}
