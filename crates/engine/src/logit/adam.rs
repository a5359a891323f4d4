//! The logistic factorization under the replayed Adam loop of [`crate::adam`].

pub use crate::adam::{AdamReport, AdamSettings};
use crate::adam::{replay_adam, single};

use super::accel::{pack, unpack};
use super::fit::{LogitFactors, logit_loss_and_gradient_of};
use super::{LogitData, Trainable, ValidLogitParams};

/// Fits `data` from `init` with the replayed Adam loop, training every block but ρ_u (which
/// keeps its initial values, rounded to single precision).
pub fn fit_logit_adam(
    data: &LogitData,
    params: &ValidLogitParams,
    init: LogitFactors,
    settings: &AdamSettings,
) -> (LogitFactors, AdamReport) {
    let trainable = Trainable {
        rater_reputation: false,
        ..Trainable::ALL
    };
    fit_logit_adam_blocks(data, params, init, trainable, settings)
}

/// Fits the `trainable` blocks of `init` to `data` with the replayed Adam loop (the others
/// keep their initial values, rounded to single precision as torch holds them). The
/// optimizer sees the trainable values laid end to end: note intercepts, note factors,
/// rater intercepts, rater factors, reputations, μ.
pub fn fit_logit_adam_blocks(
    data: &LogitData,
    params: &ValidLogitParams,
    init: LogitFactors,
    trainable: Trainable,
    settings: &AdamSettings,
) -> (LogitFactors, AdamReport) {
    let mut f = init;
    f.check_shape(data);
    for block in [
        &mut f.note_intercept,
        &mut f.note_factor,
        &mut f.rater_intercept,
        &mut f.rater_factor,
        &mut f.rater_reputation,
    ] {
        block.iter_mut().for_each(|v| *v = single(*v));
    }
    f.global_intercept = single(f.global_intercept);
    let mut x = pack(&f, &trainable);
    let at = |x: &[f64]| {
        let mut g = f.clone();
        unpack(x, &mut g, &trainable);
        g
    };
    let report = replay_adam(&mut x, settings, |x, with_loss| {
        let (loss, g) = logit_loss_and_gradient_of(data, params, &at(x), &trainable, with_loss);
        (loss, pack(&g, &trainable))
    });
    unpack(&x, &mut f, &trainable);
    (f, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logit::{LogitParams, logit_gradient};

    /// Two notes, three raters, mixed labels.
    fn data() -> LogitData {
        let note = [0, 0, 0, 1, 1, 1];
        let rater = [0, 1, 2, 0, 1, 2];
        let label = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        LogitData::new(2, 3, &note, &rater, &label)
    }

    fn start() -> LogitFactors {
        let mut f = LogitFactors::new(2, 3);
        f.note_factor = vec![0.3, -0.2];
        f.rater_factor = vec![0.5, -0.4, 0.1];
        f
    }

    /// Adam's first step moves every parameter with a non-zero gradient by the learning
    /// rate against its gradient's sign (m / √v = g / |g| after bias correction), whatever
    /// the clipping did to the gradient's size.
    #[test]
    fn the_first_step_moves_each_parameter_by_the_learning_rate() {
        let d = data();
        let params = LogitParams::default().validate().unwrap();
        let settings = AdamSettings {
            max_epochs: 1,
            ..AdamSettings::with_learning_rate(0.1)
        };
        let g = logit_gradient(&d, &params, &start());
        let (f, report) = fit_logit_adam(&d, &params, start(), &settings);
        assert_eq!(report.epochs, 1);
        assert!(report.hit_epoch_limit);
        let check = |before: &[f64], after: &[f64], grad: &[f64]| {
            for ((b, a), g) in before.iter().zip(after).zip(grad) {
                let expected = b - 0.1 * g.signum();
                assert!((a - expected).abs() < 1e-6, "{a} vs {expected}");
            }
        };
        let s = start();
        check(&s.note_intercept, &f.note_intercept, &g.note_intercept);
        check(&s.note_factor, &f.note_factor, &g.note_factor);
        check(&s.rater_intercept, &f.rater_intercept, &g.rater_intercept);
        check(&s.rater_factor, &f.rater_factor, &g.rater_factor);
        assert_eq!(f.rater_reputation, vec![1.0; 3]);
    }

    /// The loop stops when the loss rises after the 100th epoch, or when it moves by no more
    /// than the convergence threshold; with a small learning rate it approaches the
    /// optimum's loss.
    #[test]
    fn the_loop_follows_the_reference_stopping_rule() {
        let d = data();
        let params = LogitParams::default().validate().unwrap();
        let (_, fast) =
            fit_logit_adam(&d, &params, start(), &AdamSettings::with_learning_rate(2.0));
        assert!(!fast.hit_epoch_limit);
        let (_, slow) = fit_logit_adam(
            &d,
            &params,
            start(),
            &AdamSettings::with_learning_rate(0.01),
        );
        assert!(!slow.hit_epoch_limit);
        let (_, optimum) =
            crate::logit::fit_logit(&d, &params, start(), crate::logit::Trainable::PLAIN);
        assert!(slow.loss >= optimum.loss.total - 1e-6);
        assert!(
            slow.loss - optimum.loss.total < 1e-3,
            "{slow:?} {optimum:?}"
        );
        // Replaying is deterministic.
        let again = fit_logit_adam(&d, &params, start(), &AdamSettings::with_learning_rate(2.0));
        assert_eq!(again.1, fast);
    }
}
