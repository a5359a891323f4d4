//! A replay of the reference's full-batch Adam loop (`MatrixFactorization._fit_model`), for
//! fits whose result depends on where that loop stops rather than on the optimum.
//!
//! The reference trains its factorizations with Adam and stops when the loss moves by at
//! most a convergence threshold between epochs, or when it rises after the 100th epoch.
//! Where a fit starts from given values (no random draw), its path is repeatable, and
//! replaying it reproduces what the reference computes in places where the optimum does
//! not (see [`crate::harassment`]).
//!
//! The reputation models (`reputation_matrix_factorization.py: _train_one_round`) run a
//! variant: no gradient clipping, the loss compared only every fifth epoch with the loss
//! five epochs earlier (stop when it moved by less than 1e-5), and at most 301 steps
//! ([`AdamSettings::reputation`]).
//!
//! Each epoch: the gradient of the loss, scaled to a total 2-norm of at most `max_norm`
//! (`clip_grad_norm_`), then one Adam step with torch's defaults (β = (0.9, 0.999),
//! ε = 1e-8, bias-corrected). Parameters, gradients and Adam's moments are rounded to single
//! precision, as torch holds them; the callers' sums are taken in double precision in a
//! fixed order, so results do not depend on the thread count.

use rayon::prelude::*;

/// Settings of the replayed loop; [`AdamSettings::with_learning_rate`] gives torch's Adam
/// defaults with the reference's stopping rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamSettings {
    pub learning_rate: f64,
    /// Stop when the loss moves by at most this between checks (`convergence`, 1e-7).
    /// (The reputation models stop when it moves by less; the losses compared are single
    /// precision, whose differences never equal this bound, so the two rules agree.)
    pub convergence: f64,
    /// The loss is checked every this many epochs, against the loss of the previous check
    /// (1; the reputation models' `stablePeriod` is 5).
    pub check_every: usize,
    /// Gradients are scaled to a total 2-norm of at most this (`clip_grad_norm_`, 1.0;
    /// infinite where the reference does not clip).
    pub max_norm: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// After this many epochs, a rise of the loss stops the loop (100; never for the
    /// reputation models).
    pub rise_after_epochs: usize,
    /// The most steps taken: for the matrix factorization a bound the reference does not
    /// have, against a loop that never stops; the reputation models' epochs 0 to 300 step.
    pub max_epochs: usize,
}

impl AdamSettings {
    /// The reference's loop at learning rate `learning_rate`.
    pub fn with_learning_rate(learning_rate: f64) -> Self {
        AdamSettings {
            learning_rate,
            convergence: 1e-7,
            check_every: 1,
            max_norm: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            rise_after_epochs: 100,
            max_epochs: 20_000,
        }
    }

    /// The reputation models' loop (`_train_one_round` with the low-diligence model's
    /// `learningRate` 0.2, `convergence` 1e-5, `stablePeriod` 5, `numEpochs` 300).
    pub fn reputation() -> Self {
        AdamSettings {
            learning_rate: 0.2,
            convergence: 1e-5,
            check_every: 5,
            max_norm: f64::INFINITY,
            rise_after_epochs: usize::MAX,
            max_epochs: 301,
            ..AdamSettings::with_learning_rate(0.2)
        }
    }
}

/// How a replayed fit went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamReport {
    /// Adam steps taken.
    pub epochs: usize,
    /// The loss at the end (single precision, as the reference compares it).
    pub loss: f64,
    /// Whether the loop hit [`AdamSettings::max_epochs`].
    pub hit_epoch_limit: bool,
}

/// Rounds to single precision, as torch stores parameters.
pub(crate) fn single(x: f64) -> f64 {
    x as f32 as f64
}

/// Runs the loop on the flat parameter vector `x` (rounded to single precision first):
/// `evaluate(x, with_loss)` gives the gradient at a point (one entry per parameter) and,
/// when `with_loss`, the objective there (else anything; it is not read). Both come from one
/// call because one pass over the data can often give both; the loss is asked for only at
/// the epochs the stopping rule looks at it (every [`AdamSettings::check_every`]th) and at
/// the end.
pub fn replay_adam(
    x: &mut [f64],
    settings: &AdamSettings,
    evaluate: impl Fn(&[f64], bool) -> (f64, Vec<f64>),
) -> AdamReport {
    x.iter_mut().for_each(|v| *v = single(*v));
    let mut m = vec![0.0; x.len()];
    let mut v = vec![0.0; x.len()];
    // The loss at the last check; none before the first.
    let mut prior: Option<f64> = None;
    let (loss, mut g) = evaluate(x, true);
    // The loss at `x`, where it was computed.
    let mut current = Some(single(loss));
    let mut epoch = 0usize;
    let mut hit_epoch_limit = false;
    let every = settings.check_every.max(1);
    loop {
        if epoch.is_multiple_of(every) {
            let current = current.expect("computed at every check");
            if let Some(p) = prior {
                let settled = (current - p).abs() <= settings.convergence;
                let rising = epoch > settings.rise_after_epochs && current > p;
                if settled || rising {
                    break;
                }
            }
            prior = Some(current);
        }
        if epoch >= settings.max_epochs {
            hit_epoch_limit = true;
            break;
        }
        assert_eq!(g.len(), x.len(), "one gradient entry per parameter");
        g.iter_mut().for_each(|v| *v = single(*v));
        let coef = if settings.max_norm.is_finite() {
            let total = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            (settings.max_norm / (total + 1e-6)).min(1.0)
        } else {
            1.0
        };
        let step = i32::try_from(epoch + 1).unwrap_or(i32::MAX);
        let bias1 = 1.0 - settings.beta1.powi(step);
        let bias2_sqrt = (1.0 - settings.beta2.powi(step)).sqrt();
        let step_size = settings.learning_rate / bias1;
        let s = settings;
        x.par_iter_mut()
            .zip(m.par_iter_mut())
            .zip(v.par_iter_mut())
            .zip(g.par_iter())
            .with_min_len(4096)
            .for_each(|(((p, m), v), &g)| {
                let g = single(g * coef);
                *m = single(*m + (1.0 - s.beta1) * (g - *m));
                *v = single(single(*v * s.beta2) + (1.0 - s.beta2) * g * g);
                let denom = single(single(v.sqrt() / bias2_sqrt) + s.eps);
                *p = single(*p - step_size * (*m / denom));
            });
        epoch += 1;
        let with_loss = epoch.is_multiple_of(every);
        let (loss, next) = evaluate(x, with_loss);
        current = with_loss.then(|| single(loss));
        g = next;
    }
    let loss = current.unwrap_or_else(|| single(evaluate(x, true).0));
    AdamReport {
        epochs: epoch,
        loss,
        hit_epoch_limit,
    }
}

/// The trainable blocks of a rank-1 factorization laid end to end for the optimizer: note
/// intercepts, note factors, rater intercepts, rater factors, then μ.
pub(crate) fn pack_rank1(blocks: [&[f64]; 4], global_intercept: f64) -> Vec<f64> {
    let mut x = Vec::with_capacity(blocks.iter().map(|b| b.len()).sum::<usize>() + 1);
    for block in blocks {
        x.extend_from_slice(block);
    }
    x.push(global_intercept);
    x
}

/// Writes `x` (as [`pack_rank1`] lays it out) back into the blocks and μ.
pub(crate) fn unpack_rank1(x: &[f64], blocks: [&mut [f64]; 4], global_intercept: &mut f64) {
    let mut rest = x;
    for block in blocks {
        let (head, tail) = rest.split_at(block.len());
        block.copy_from_slice(head);
        rest = tail;
    }
    *global_intercept = rest[0];
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// The reputation models' rule: the loss is looked at every fifth epoch and the loop
    /// stops at the first check within 1e-5 of the previous one, without clipping.
    #[test]
    fn reputation_loop_checks_every_fifth_epoch() {
        let target = [3.0, -2.0, 0.5];
        let seen = RefCell::new(Vec::new());
        let mut x = vec![0.0; 3];
        let settings = AdamSettings::reputation();
        let report = replay_adam(&mut x, &settings, |x, with_loss| {
            let l: f64 = x.iter().zip(&target).map(|(a, b)| (a - b) * (a - b)).sum();
            if with_loss {
                seen.borrow_mut().push(single(l));
            }
            let g = x.iter().zip(&target).map(|(a, b)| 2.0 * (a - b)).collect();
            (l, g)
        });
        let seen = seen.into_inner();
        let e = report.epochs;
        assert!(!report.hit_epoch_limit);
        assert!(e.is_multiple_of(5), "{report:?}");
        assert_eq!(seen.len(), e / 5 + 1, "a loss at each check");
        let last = seen.len() - 1;
        assert!((seen[last] - seen[last - 1]).abs() <= 1e-5);
        for k in 1..last {
            assert!(
                (seen[k] - seen[k - 1]).abs() > 1e-5,
                "would have stopped at {}",
                5 * k
            );
        }
        // Unclipped: the first step moves each coordinate by the learning rate.
        let mut y = vec![0.0; 3];
        let one = AdamSettings {
            max_epochs: 1,
            ..settings
        };
        let report = replay_adam(&mut y, &one, |_, _| (1.0, vec![-50.0, 40.0, -1.0]));
        assert!(report.hit_epoch_limit);
        assert!(
            (y[0] - 0.2).abs() < 1e-6 && (y[1] + 0.2).abs() < 1e-6,
            "{y:?}"
        );
    }

    /// At most 301 steps (epochs 0 to 300), as `while epoch <= numEpochs` runs.
    #[test]
    fn reputation_loop_takes_at_most_301_steps() {
        let mut x = vec![0.0];
        // A loss that keeps moving: never settles.
        let steps = RefCell::new(0.0);
        let report = replay_adam(&mut x, &AdamSettings::reputation(), |_, _| {
            *steps.borrow_mut() += 1.0;
            (*steps.borrow(), vec![1.0])
        });
        assert_eq!(report.epochs, 301);
        assert!(report.hit_epoch_limit);
    }
}
