//! A replay of the reference's full-batch Adam loop (`MatrixFactorization._fit_model`) for
//! a logistic factorization, for fits whose result depends on where that loop stops rather
//! than on the optimum.
//!
//! The reference's tag-consensus (harassment) model runs Adam with learning rate 2.0 from
//! the helpfulness fit's factors. At that rate the loop does not settle: it ends at the first
//! epoch after the 100th whose loss rises (or when the loss moves by at most the
//! convergence threshold), far from the stationary point along the weakly determined
//! intercept–factor trade-off of notes with few labelled ratings. The fit starts from given
//! values with no random draw, so its path is repeatable, and replaying it reproduces what
//! the reference computes where the optimum does not.
//!
//! Each epoch: gradient of the regularized loss (mean weighted cross-entropy plus the
//! penalties), scaled to a total 2-norm of at most `max_norm` (`clip_grad_norm_`), then one
//! Adam step with torch's defaults (β = (0.9, 0.999), ε = 1e-8, bias-corrected), on every
//! trainable block (ρ_u stays fixed). Parameters and Adam's moments are held in single
//! precision, as torch holds them; sums are taken in double precision in a fixed order, so
//! results do not depend on the thread count.

use rayon::prelude::*;

use super::fit::{LogitFactors, logit_gradient, logit_loss};
use super::{LogitData, ValidLogitParams};

/// Settings of the replayed loop; the defaults are torch's Adam defaults with the
/// reference's stopping rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamSettings {
    pub learning_rate: f64,
    /// Stop when the loss moves by at most this between epochs (`convergence`, 1e-7).
    pub convergence: f64,
    /// Gradients are scaled to a total 2-norm of at most this (`clip_grad_norm_`, 1.0).
    pub max_norm: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// After this many epochs, a rise of the loss stops the loop (100).
    pub rise_after_epochs: usize,
    /// A bound the reference does not have, against a loop that never stops.
    pub max_epochs: usize,
}

impl AdamSettings {
    /// The reference's loop at learning rate `learning_rate`.
    pub fn with_learning_rate(learning_rate: f64) -> Self {
        AdamSettings {
            learning_rate,
            convergence: 1e-7,
            max_norm: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            rise_after_epochs: 100,
            max_epochs: 20_000,
        }
    }
}

/// How a replayed fit went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamReport {
    /// Adam steps taken.
    pub epochs: usize,
    /// The regularized loss at the end.
    pub loss: f64,
    /// Whether the loop hit [`AdamSettings::max_epochs`].
    pub hit_epoch_limit: bool,
}

/// Rounds to single precision, as torch stores parameters.
fn single(x: f64) -> f64 {
    x as f32 as f64
}

/// One parameter block's values and Adam moments.
struct Block<'a> {
    values: &'a mut [f64],
    grad: &'a [f64],
    m: &'a mut [f64],
    v: &'a mut [f64],
}

/// Fits `data` from `init` with the replayed Adam loop; ρ_u stays at its initial values.
pub fn fit_logit_adam(
    data: &LogitData,
    params: &ValidLogitParams,
    init: LogitFactors,
    settings: &AdamSettings,
) -> (LogitFactors, AdamReport) {
    let mut f = init;
    round_all(&mut f);
    let notes = data.notes();
    let raters = data.raters();
    let mut m = LogitFactors::new(notes, raters);
    let mut v = LogitFactors::new(notes, raters);
    for x in [&mut m, &mut v] {
        x.rater_reputation.iter_mut().for_each(|r| *r = 0.0);
    }
    let mut prev_loss = 1e10;
    let mut loss = single(logit_loss(data, params, &f).total);
    let mut epoch = 0usize;
    let mut hit_epoch_limit = false;
    while (loss - prev_loss).abs() > settings.convergence
        && !(epoch > settings.rise_after_epochs && loss > prev_loss)
    {
        if epoch >= settings.max_epochs {
            hit_epoch_limit = true;
            break;
        }
        prev_loss = loss;
        let mut g = logit_gradient(data, params, &f);
        g.rater_reputation.iter_mut().for_each(|x| *x = 0.0);
        round_all(&mut g);
        clip(&mut g, settings.max_norm);
        let step = (epoch + 1) as i32;
        let bias1 = 1.0 - settings.beta1.powi(step);
        let bias2 = 1.0 - settings.beta2.powi(step);
        let blocks = [
            Block {
                values: &mut f.note_intercept,
                grad: &g.note_intercept,
                m: &mut m.note_intercept,
                v: &mut v.note_intercept,
            },
            Block {
                values: &mut f.note_factor,
                grad: &g.note_factor,
                m: &mut m.note_factor,
                v: &mut v.note_factor,
            },
            Block {
                values: &mut f.rater_intercept,
                grad: &g.rater_intercept,
                m: &mut m.rater_intercept,
                v: &mut v.rater_intercept,
            },
            Block {
                values: &mut f.rater_factor,
                grad: &g.rater_factor,
                m: &mut m.rater_factor,
                v: &mut v.rater_factor,
            },
            Block {
                values: std::slice::from_mut(&mut f.global_intercept),
                grad: std::slice::from_ref(&g.global_intercept),
                m: std::slice::from_mut(&mut m.global_intercept),
                v: std::slice::from_mut(&mut v.global_intercept),
            },
        ];
        for block in blocks {
            adam_step(block, settings, bias1, bias2);
        }
        loss = single(logit_loss(data, params, &f).total);
        epoch += 1;
    }
    (
        f,
        AdamReport {
            epochs: epoch,
            loss,
            hit_epoch_limit,
        },
    )
}

/// torch's single-tensor Adam update of one block.
fn adam_step(block: Block<'_>, s: &AdamSettings, bias1: f64, bias2: f64) {
    let step_size = s.learning_rate / bias1;
    let bias2_sqrt = bias2.sqrt();
    block
        .values
        .par_iter_mut()
        .zip(block.m.par_iter_mut())
        .zip(block.v.par_iter_mut())
        .zip(block.grad.par_iter())
        .with_min_len(1024)
        .for_each(|(((p, m), v), &g)| {
            *m = single(*m + (1.0 - s.beta1) * (g - *m));
            *v = single(single(*v * s.beta2) + (1.0 - s.beta2) * g * g);
            let denom = single(single(v.sqrt() / bias2_sqrt) + s.eps);
            *p = single(*p - step_size * (*m / denom));
        });
}

/// Scales `g` to a total 2-norm of at most `max_norm` (torch's `clip_grad_norm_`).
fn clip(g: &mut LogitFactors, max_norm: f64) {
    let squares = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>();
    let total = (squares(&g.note_intercept)
        + squares(&g.note_factor)
        + squares(&g.rater_intercept)
        + squares(&g.rater_factor)
        + g.global_intercept * g.global_intercept)
        .sqrt();
    let coef = (max_norm / (total + 1e-6)).min(1.0);
    let scale = |x: &mut [f64]| x.iter_mut().for_each(|v| *v = single(*v * coef));
    scale(&mut g.note_intercept);
    scale(&mut g.note_factor);
    scale(&mut g.rater_intercept);
    scale(&mut g.rater_factor);
    g.global_intercept = single(g.global_intercept * coef);
}

fn round_all(f: &mut LogitFactors) {
    for x in [
        &mut f.note_intercept,
        &mut f.note_factor,
        &mut f.rater_intercept,
        &mut f.rater_factor,
        &mut f.rater_reputation,
    ] {
        x.iter_mut().for_each(|v| *v = single(*v));
    }
    f.global_intercept = single(f.global_intercept);
}
