//! The alternating block solver for the logistic model: the parameter types, the loss and
//! its gradient, and the driver that runs passes of block updates ([`super::block`]) and
//! symmetry moves ([`super::symmetry`]) under Anderson acceleration ([`super::accel`]).

use rayon::prelude::*;

use super::accel::{Anderson, pack, unpack};
use super::block::{Solve, update_global, update_notes, update_raters};
use super::math::ln_1p_unit;
use super::symmetry::rebalance;
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
    pub(super) fn logit_without_global(&self, n: usize, u: usize) -> f64 {
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

    pub(crate) fn check_shape(&self, data: &LogitData) {
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
    /// Alternating passes run (each updates every trainable block once; a pass from a
    /// proposal that turns out no better stops after its first half and counts too).
    pub passes: usize,
    /// Whether the parameters stopped moving (or one pass was exact) before `max_passes`.
    pub converged: bool,
    pub loss: LogitLoss,
}

/// Notes per chunk in reductions: fixed, so sums do not depend on threads.
const CHUNK: usize = 1024;
/// Smallest run of blocks handed to one worker.
const MIN_LEN: usize = 256;
/// Window of the Anderson acceleration.
const DEPTH: usize = 5;
/// Passes over which a stalled loss marks a plateau (see [`fit_logit`]).
const PLATEAU_WINDOW: usize = 8;
/// Relative fall of the loss over [`PLATEAU_WINDOW`] passes below which it has stalled.
const PLATEAU_DROP: f64 = 1e-9;

/// Penalty multipliers after scaling the loss by the number of ratings N.
pub(crate) struct Penalties {
    pub(crate) note_intercept: f64,
    pub(crate) note_factor: f64,
    pub(crate) rater_intercept: f64,
    pub(crate) rater_factor: f64,
    pub(crate) rater_reputation: f64,
    pub(crate) global: f64,
}

pub(crate) fn penalties(data: &LogitData, params: &ValidLogitParams) -> Penalties {
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
#[inline(always)]
pub(super) fn slope_and_curvature(s: f64, y: f64) -> (f64, f64, f64) {
    let e = (-s.abs()).exp();
    let q = 1.0 / (1.0 + e);
    let p = if s >= 0.0 { q } else { e * q };
    (p - y, e * q * q, e)
}

/// The loss `max(s, 0) − s·y + ln(1 + e^−|s|)` given `e = e^−|s|`. (The logarithm is
/// the costliest part of the model, so block updates compute it only when they need a
/// value: at the start of the first half of a pass, and in line searches.)
#[inline(always)]
pub(super) fn bce_value(s: f64, y: f64, e: f64) -> f64 {
    s.max(0.0) - s * y + ln_1p_unit(e)
}

/// Sums `per_note` over note rows in fixed chunks, then the chunks in order.
pub(crate) fn reduce<const K: usize>(
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
    let sum = logit_loss_sum(data, f);
    let pen = penalties(data, params);
    let reg = note_penalty(f, &pen)
        + rater_penalty(f, &pen)
        + pen.global * f.global_intercept * f.global_intercept;
    LogitLoss {
        total: (sum + reg) / n,
        data: sum / n,
    }
}

/// The weighted cross-entropy summed over the ratings (not divided by N).
fn logit_loss_sum(data: &LogitData, f: &LogitFactors) -> f64 {
    let [sum] = reduce(data, |note| {
        let run = data.note_run(note);
        let mut acc = 0.0;
        for k in 0..run.other.len() {
            let s = f.logit(note, run.other[k] as usize);
            acc += run.weight[k] * cross_entropy(s, run.label[k] as f64).0;
        }
        [acc]
    });
    sum
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
    logit_gradient_of(data, params, f, &Trainable::ALL)
}

/// [`logit_gradient`] for the blocks `wanted` asks for (the entries of other blocks are 0):
/// the note blocks and μ from one pass over the ratings, the rater blocks from one more.
pub(crate) fn logit_gradient_of(
    data: &LogitData,
    params: &ValidLogitParams,
    f: &LogitFactors,
    wanted: &Trainable,
) -> LogitFactors {
    logit_loss_and_gradient_of(data, params, f, wanted, false).1
}

/// One note's sums over its ratings: with `LOSS`, the weighted cross-entropy (else 0), and
/// of the weighted slopes `r`: `Σ r` (μ's), `Σ r ρ_u` (i_n's) and `Σ r f_u` (f_n's), each
/// summed in rating order.
#[inline(always)]
fn note_sums<const LOSS: bool>(data: &LogitData, f: &LogitFactors, note: usize) -> (f64, [f64; 3]) {
    let run = data.note_run(note);
    let (mut loss, mut sm, mut si, mut sf) = (0.0, 0.0, 0.0, 0.0);
    for k in 0..run.other.len() {
        let u = run.other[k] as usize;
        let s = f.logit(note, u);
        let y = run.label[k] as f64;
        let (slope, _, e) = slope_and_curvature(s, y);
        if LOSS {
            loss += run.weight[k] * bce_value(s, y, e);
        }
        let r = run.weight[k] * slope;
        sm += r;
        si += r * f.rater_reputation[u];
        sf += r * f.rater_factor[u];
    }
    (loss, [sm, si, sf])
}

/// The rater blocks of the gradient that `wanted` asks for, written into `g` (one pass
/// over the ratings rater by rater).
fn rater_gradient(
    data: &LogitData,
    f: &LogitFactors,
    pen: &Penalties,
    wanted: &Trainable,
    g: &mut LogitFactors,
) {
    if !(wanted.rater_intercept || wanted.rater_factor || wanted.rater_reputation) {
        return;
    }
    let n = data.len() as f64;
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
}

/// [`logit_gradient_of`] and, `with_loss`, [`logit_loss`]'s total (else NaN; the total bit
/// for bit as [`logit_loss`] gives it), for the Adam replay, which needs both at its points:
/// the loss, the note blocks and μ share one pass over the ratings note by note (one
/// exponential per rating instead of three), the rater blocks take one more. Without the
/// loss the logarithms are skipped.
pub(crate) fn logit_loss_and_gradient_of(
    data: &LogitData,
    params: &ValidLogitParams,
    f: &LogitFactors,
    wanted: &Trainable,
    with_loss: bool,
) -> (f64, LogitFactors) {
    f.check_shape(data);
    let mut g = LogitFactors::new(data.notes(), data.raters());
    g.rater_reputation.iter_mut().for_each(|x| *x = 0.0);
    let n = data.len() as f64;
    if n == 0.0 {
        return (0.0, g);
    }
    let pen = penalties(data, params);
    let notes_wanted = wanted.note_intercept || wanted.note_factor;
    // Per chunk of notes (the chunks of `reduce`): the loss and μ's slope summed note by
    // note; each note's own gradient entries written as the chunk goes.
    let partials: Vec<[f64; 2]> = g
        .note_intercept
        .par_chunks_mut(CHUNK)
        .zip(g.note_factor.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, (gis, gfs))| {
            let mut acc = [0.0; 2];
            for (j, (gi, gf)) in gis.iter_mut().zip(gfs.iter_mut()).enumerate() {
                let note = chunk * CHUNK + j;
                let (loss, [sm, si, sf]) = if with_loss {
                    note_sums::<true>(data, f, note)
                } else {
                    note_sums::<false>(data, f, note)
                };
                acc[0] += loss;
                acc[1] += sm;
                if notes_wanted {
                    *gi = (si + 2.0 * pen.note_intercept * f.note_intercept[note]) / n;
                    *gf = (sf + 2.0 * pen.note_factor * f.note_factor[note]) / n;
                }
            }
            acc
        })
        .collect();
    let [sum, mu] = partials.iter().fold([0.0; 2], |mut acc, v| {
        acc[0] += v[0];
        acc[1] += v[1];
        acc
    });
    rater_gradient(data, f, &pen, wanted, &mut g);
    if wanted.global_intercept {
        g.global_intercept = (mu + 2.0 * pen.global * f.global_intercept) / n;
    }
    if !with_loss {
        return (f64::NAN, g);
    }
    let reg = note_penalty(f, &pen)
        + rater_penalty(f, &pen)
        + pen.global * f.global_intercept * f.global_intercept;
    ((sum + reg) / n, g)
}

/// From the pass `before → after`, tries continuing along its move 1, 3, 7, … (2^k − 1 for
/// k up to `doublings`) times further while the loss falls, and returns the longest such
/// continuation, or `None` when even the first does not lower the loss below `after`'s.
pub(super) fn extrapolate(
    data: &LogitData,
    params: &ValidLogitParams,
    tr: &Trainable,
    before: &LogitFactors,
    after: &LogitFactors,
    doublings: u32,
) -> Option<LogitFactors> {
    let x = pack(before, tr);
    let y = pack(after, tr);
    let mut floor = logit_loss(data, params, after).total;
    let mut best = None;
    for k in 1..=doublings {
        let t = f64::from((1u32 << k) - 1);
        let z: Vec<f64> = y.iter().zip(&x).map(|(a, b)| a + t * (a - b)).collect();
        let mut trial = after.clone();
        unpack(&z, &mut trial, tr);
        let loss = logit_loss(data, params, &trial).total;
        if loss.is_nan() || loss >= floor {
            break;
        }
        floor = loss;
        best = Some(trial);
    }
    best
}

/// Largest absolute difference between two parameter sets of the same shape.
pub(crate) fn largest_change(a: &LogitFactors, b: &LogitFactors) -> f64 {
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

/// The penalty part of the loss (not divided by N) over the blocks of one side.
fn note_penalty(f: &LogitFactors, pen: &Penalties) -> f64 {
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    pen.note_intercept * sq(&f.note_intercept) + pen.note_factor * sq(&f.note_factor)
}

fn rater_penalty(f: &LogitFactors, pen: &Penalties) -> f64 {
    let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    pen.rater_intercept * sq(&f.rater_intercept)
        + pen.rater_factor * sq(&f.rater_factor)
        + pen.rater_reputation * sq(&f.rater_reputation)
}

/// One alternating pass from `f`: every note block given the raters, every rater block
/// given the notes, μ when the rater intercepts cannot carry it, then less penalty along
/// the symmetries.
///
/// With `with_value`, the first half of the pass also sums the loss at the start (each
/// rating's cross-entropy is computed once there, with the exponential the Newton step
/// needs anyway), and when that loss is not below `floor` the pass stops there and returns
/// `None`, leaving `f` half updated. Without, it returns `Some(NaN)`.
fn pass(
    data: &LogitData,
    f: &mut LogitFactors,
    pen: &Penalties,
    tr: &Trainable,
    solve: Solve,
    with_value: bool,
    floor: f64,
) -> Option<f64> {
    let n = data.len() as f64;
    let mut loss = f64::NAN;
    let global = pen.global * f.global_intercept * f.global_intercept;
    let mut check = |sum: f64| {
        loss = (sum + global) / n;
        !with_value || loss < floor
    };
    if tr.notes() {
        let other = if with_value {
            rater_penalty(f, pen)
        } else {
            0.0
        };
        let sum = update_notes(data, f, pen, tr, solve, with_value);
        if !check(sum + other) {
            return None;
        }
        if tr.raters() {
            update_raters(data, f, pen, tr, solve, false);
        }
    } else if tr.raters() {
        let other = if with_value {
            note_penalty(f, pen)
        } else {
            0.0
        };
        let sum = update_raters(data, f, pen, tr, solve, with_value);
        if !check(sum + other) {
            return None;
        }
    } else if with_value {
        let frozen = logit_loss_sum(data, f) + note_penalty(f, pen) + rater_penalty(f, pen);
        if !check(frozen) {
            return None;
        }
    }
    // With the rater intercepts trainable, μ needs no update of its own: after the rater
    // blocks each rater's data slope in i_u balances its penalty, so μ's slope is
    // `2 pen_μ μ − Σ 2 pen_u i_u`, which the shift `μ + a, i_u − a` of `rebalance` zeroes
    // without changing any logit.
    if tr.global_intercept && !tr.rater_intercept {
        update_global(data, f, pen);
    }
    rebalance(f, pen, tr);
    Some(loss)
}

/// Fits the model to `data` from `init`, changing only the `trainable` blocks, until no
/// parameter moves by more than the tolerance in a pass.
///
/// Each pass updates every note block given the raters, then every rater block given the
/// notes (and μ when the rater intercepts are frozen), each by damped Newton steps that
/// lower the block's objective, then moves along the model's exact symmetries to less
/// penalty ([`pass`]). Anderson acceleration combines the last few passes into a proposal.
/// The next pass starts from the proposal, and finishes only when the loss there, which the
/// first half of the pass sums anyway, is below the loss where the previous pass started;
/// otherwise the solver goes back to the previous pass's result, continues along that
/// pass's move as long as the loss falls, and forgets the history. So the loss where passes
/// start never rises. Near a saddle of the joint problem (a note and a rater whose factors
/// could both grow from near zero) the passes crawl: the loss stalls for a hundred passes
/// while the same few parameters move a little further each time, and the acceleration,
/// which pulls toward fixed points, the saddle included, does not help. So when the loss
/// has fallen by at most [`PLATEAU_DROP`] (relative) over [`PLATEAU_WINDOW`] passes while
/// the parameters still move, the solver continues along the last pass's move 1, 3, 7, …
/// up to 16 383 times further for as long as the loss falls. When only one of the three
/// groups is trainable the problem is convex, the blocks are solved exactly and one pass is
/// exact. With no ratings the initial values
/// are returned unchanged. The result is a stationary point; with more than one group
/// trainable the problem is not convex, so which one depends on the start.
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
    if data.is_empty() || trainable.groups() == 0 {
        let report = LogitReport {
            passes: 0,
            converged: true,
            loss: logit_loss(data, params, &init),
        };
        return (init, report);
    }
    let convex = trainable.groups() == 1;
    let solve = if convex { Solve::Exact } else { Solve::Descend };
    let mut accel = Anderson::new(DEPTH);
    // Where the next pass starts, and, when that is a proposal, the point and the result
    // of the pass it came from and the loss it has to beat.
    let mut start = init;
    let mut proposed: Option<(LogitFactors, LogitFactors, f64)> = None;
    let mut result = start.clone();
    let (mut passes, mut converged) = (0, false);
    // The loss at the start of each completed pass, and when to look for a plateau next.
    let mut losses: Vec<f64> = Vec::new();
    let mut next_plateau_check = 0;
    while passes < p.max_passes {
        let mut next = start.clone();
        let floor = proposed
            .as_ref()
            .map_or(f64::INFINITY, |(_, _, loss)| *loss);
        let outcome = pass(data, &mut next, &pen, &trainable, solve, !convex, floor);
        passes += 1;
        let Some(loss) = outcome else {
            let (before, after, _) = proposed.take().expect("only proposals are checked");
            start = extrapolate(data, params, &trainable, &before, &after, 4).unwrap_or(after);
            accel.reset();
            continue;
        };
        proposed = None;
        let moved = largest_change(&start, &next);
        result = next;
        if convex || moved <= p.tolerance {
            converged = true;
            break;
        }
        let before = std::mem::replace(&mut start, result.clone());
        // On a plateau (see above) the passes crawl along one direction: jump along it.
        losses.push(loss);
        if passes >= next_plateau_check && losses.len() > PLATEAU_WINDOW {
            let earlier = losses[losses.len() - 1 - PLATEAU_WINDOW];
            let stalled = earlier - loss <= PLATEAU_DROP * loss.abs().max(1.0);
            if stalled && moved > 100.0 * p.tolerance {
                // At most one jump per window, whether or not this one is taken.
                next_plateau_check = passes + PLATEAU_WINDOW;
                let jump = extrapolate(data, params, &trainable, &before, &result, 14);
                if let Some(far) = jump {
                    start = far;
                    accel.reset();
                    continue;
                }
            }
        }
        if let Some(z) = accel.propose(&pack(&before, &trainable), &pack(&result, &trainable)) {
            let mut proposal = result.clone();
            unpack(&z, &mut proposal, &trainable);
            let after = std::mem::replace(&mut start, proposal);
            proposed = Some((before, after, loss));
        }
    }
    let report = LogitReport {
        passes,
        converged,
        loss: logit_loss(data, params, &result),
    };
    (result, report)
}
