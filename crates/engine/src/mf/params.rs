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
    /// Whether the model has a global intercept μ.
    pub use_global_intercept: bool,
    /// When set, note penalties are divided by `ratings / ratio` instead of the number of
    /// notes (the reference's `ratingPerNoteLossRatio`, used in final scoring).
    pub rating_per_note_loss_ratio: Option<f64>,
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
            use_global_intercept: true,
            rating_per_note_loss_ratio: None,
            tolerance: 1e-12,
            max_passes: 2000,
        }
    }
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
    }
}
