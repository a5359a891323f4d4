//! Hyperparameters of a matrix-factorization fit, checked before use.

/// Regularization and stopping settings of one fit (unchecked).
///
/// The defaults are the reference's core-model values (`MatrixFactorization.__init__`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MfParams {
    /// λ for rater factors (divided by the number of raters).
    pub rater_factor_lambda: f64,
    /// λ for note factors.
    pub note_factor_lambda: f64,
    /// λ for rater intercepts.
    pub rater_intercept_lambda: f64,
    /// λ for note intercepts.
    pub note_intercept_lambda: f64,
    /// λ for the global intercept.
    pub global_intercept_lambda: f64,
    /// λ of the "diamond" penalty `Σ |i_n · f_n|` on notes (scaled like the other note
    /// penalties); it pulls a note's intercept or factor to zero rather than both. 0: off.
    pub diamond_lambda: f64,
    /// Whether the model has a global intercept μ.
    pub use_global_intercept: bool,
    /// When set, note penalties are divided by `ratings / ratio` instead of the number of
    /// notes (the reference's `ratingPerNoteLossRatio`, used in final scoring).
    pub rating_per_note_loss_ratio: Option<f64>,
    /// When set, every fit is followed by a refit under per-rating weights derived from the
    /// first fit's rater factors (the reference's `NormalizedLoss`, see
    /// [`normalized_weights`](super::normalized_weights)).
    pub normalized_loss: Option<NormalizedLoss>,
    /// Stop when the loss changes by less than this between passes.
    pub tolerance: f64,
    /// Upper bound on alternating passes.
    pub max_passes: usize,
}

impl Default for MfParams {
    fn default() -> Self {
        MfParams {
            rater_factor_lambda: 0.03,
            note_factor_lambda: 0.03,
            rater_intercept_lambda: 0.15,
            note_intercept_lambda: 0.15,
            global_intercept_lambda: 0.15,
            diamond_lambda: 0.0,
            use_global_intercept: true,
            rating_per_note_loss_ratio: None,
            normalized_loss: None,
            tolerance: 1e-12,
            max_passes: 2000,
        }
    }
}

/// How the reference's normalized loss reweights ratings (`NormalizedLossHyperparameters`).
/// Every weight starts at 1; the steps apply in field order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormalizedLoss {
    /// Per note with ratings from both sides of the rater factor, scale the positive side by
    /// `(α + negative weight) / (α + positive weight)`, then restore the note's total.
    pub note_sign_alpha: Option<f64>,
    /// Give the ratings by raters with a positive factor and the rest equal total weight,
    /// keeping the overall total.
    pub global_sign_norm: bool,
    /// Multiply each weight by its note's total weight to this power (0: skip).
    pub note_norm_exp: f64,
    /// Multiply each weight by its rater's total weight to this power (0: skip).
    pub rater_norm_exp: f64,
}

/// Why hyperparameters were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MfParamsError {
    #[error("{name} must be finite and >= 0, got {value}")]
    NegativeLambda { name: &'static str, value: f64 },
    #[error("rating_per_note_loss_ratio must be finite and > 0, got {0}")]
    BadRatio(f64),
    #[error("tolerance must be finite and > 0, got {0}")]
    BadTolerance(f64),
    #[error("max_passes must be at least 1")]
    NoPasses,
    #[error("normalized loss: {name} must be finite (and alpha >= 0), got {value}")]
    BadNormalization { name: &'static str, value: f64 },
}

/// Hyperparameters that passed [`MfParams::validate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidMfParams(MfParams);

impl ValidMfParams {
    /// The checked values.
    pub fn get(&self) -> &MfParams {
        &self.0
    }
}

impl MfParams {
    /// Checks the values: penalties finite and non-negative, ratio and tolerance positive.
    pub fn validate(self) -> Result<ValidMfParams, MfParamsError> {
        for (name, value) in [
            ("rater_factor_lambda", self.rater_factor_lambda),
            ("note_factor_lambda", self.note_factor_lambda),
            ("rater_intercept_lambda", self.rater_intercept_lambda),
            ("note_intercept_lambda", self.note_intercept_lambda),
            ("global_intercept_lambda", self.global_intercept_lambda),
            ("diamond_lambda", self.diamond_lambda),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(MfParamsError::NegativeLambda { name, value });
            }
        }
        if let Some(ratio) = self.rating_per_note_loss_ratio
            && !(ratio.is_finite() && ratio > 0.0)
        {
            return Err(MfParamsError::BadRatio(ratio));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(MfParamsError::BadTolerance(self.tolerance));
        }
        if self.max_passes == 0 {
            return Err(MfParamsError::NoPasses);
        }
        if let Some(h) = self.normalized_loss {
            let alpha = h.note_sign_alpha.unwrap_or(0.0);
            for (name, value, ok) in [
                ("note_sign_alpha", alpha, alpha.is_finite() && alpha >= 0.0),
                (
                    "note_norm_exp",
                    h.note_norm_exp,
                    h.note_norm_exp.is_finite(),
                ),
                (
                    "rater_norm_exp",
                    h.rater_norm_exp,
                    h.rater_norm_exp.is_finite(),
                ),
            ] {
                if !ok {
                    return Err(MfParamsError::BadNormalization { name, value });
                }
            }
        }
        Ok(ValidMfParams(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_values() {
        assert!(MfParams::default().validate().is_ok());
        let bad = MfParams {
            note_intercept_lambda: -1.0,
            ..MfParams::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MfParamsError::NegativeLambda { .. })
        ));
        let bad = MfParams {
            rating_per_note_loss_ratio: Some(0.0),
            ..MfParams::default()
        };
        assert_eq!(bad.validate(), Err(MfParamsError::BadRatio(0.0)));
        let bad = MfParams {
            max_passes: 0,
            ..MfParams::default()
        };
        assert_eq!(bad.validate(), Err(MfParamsError::NoPasses));
        let bad = MfParams {
            diamond_lambda: f64::NAN,
            ..MfParams::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MfParamsError::NegativeLambda {
                name: "diamond_lambda",
                ..
            })
        ));
        let bad = MfParams {
            normalized_loss: Some(NormalizedLoss {
                note_sign_alpha: Some(-1.0),
                global_sign_norm: true,
                note_norm_exp: 0.0,
                rater_norm_exp: -0.25,
            }),
            ..MfParams::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MfParamsError::BadNormalization {
                name: "note_sign_alpha",
                ..
            })
        ));
    }
}
