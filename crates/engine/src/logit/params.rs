//! Hyperparameters of a logistic fit and the parameter blocks it may change.

/// Regularization and stopping settings of one logistic fit (unchecked).
///
/// Each block's penalty is `λ · Σθ² / D`, where `D` is the number of rows of that side
/// ("mean" form) or, when a loss ratio ρ is set, `N / ρ` (the reference's simulated number
/// of notes or raters, used in final scoring). The global intercept's penalty is `λ_μ · μ²`.
///
/// The defaults are the reference's matrix-factorization defaults, which the harassment
/// tag-consensus model uses; the reputation multiplier is unused there (ρ_u ≡ 1, frozen).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogitParams {
    pub note_intercept_lambda: f64,
    pub note_factor_lambda: f64,
    pub rater_intercept_lambda: f64,
    pub rater_factor_lambda: f64,
    /// λ for the per-rater multiplier ρ_u of the note intercept.
    pub rater_reputation_lambda: f64,
    pub global_intercept_lambda: f64,
    /// When set, note penalties are divided by `N / ratio` instead of the number of notes.
    pub note_loss_ratio: Option<f64>,
    /// When set, rater penalties are divided by `N / ratio` instead of the number of raters.
    pub rater_loss_ratio: Option<f64>,
    /// Stop when no parameter moves by more than this in a pass. (A loss-change test is
    /// too lax for alternating updates, which converge linearly: the loss flattens long
    /// before the gradient vanishes.) The default, 1e-8, leaves the parameters within about
    /// 1e-6 of the stationary point, far closer than the reference's Adam gets (its note
    /// intercepts stop about 0.01 away), and the statuses on the golden datasets the same
    /// as at 1e-10, in about a fifth fewer passes.
    pub tolerance: f64,
    /// Upper bound on alternating passes.
    pub max_passes: usize,
}

impl Default for LogitParams {
    fn default() -> Self {
        LogitParams {
            note_intercept_lambda: 0.15,
            note_factor_lambda: 0.03,
            rater_intercept_lambda: 0.15,
            rater_factor_lambda: 0.03,
            rater_reputation_lambda: 0.0,
            global_intercept_lambda: 0.15,
            note_loss_ratio: None,
            rater_loss_ratio: None,
            tolerance: 1e-8,
            max_passes: 5000,
        }
    }
}

/// Why hyperparameters were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogitParamsError {
    #[error("{name} must be finite and >= 0, got {value}")]
    NegativeLambda { name: &'static str, value: f64 },
    #[error("{name} must be finite and > 0, got {value}")]
    BadRatio { name: &'static str, value: f64 },
    #[error("tolerance must be finite and > 0, got {0}")]
    BadTolerance(f64),
    #[error("max_passes must be at least 1")]
    NoPasses,
}

/// Hyperparameters that passed [`LogitParams::validate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidLogitParams(LogitParams);

impl ValidLogitParams {
    /// The checked values.
    pub fn get(&self) -> &LogitParams {
        &self.0
    }
}

impl LogitParams {
    /// Checks the values: penalties finite and non-negative, ratios and tolerance positive.
    pub fn validate(self) -> Result<ValidLogitParams, LogitParamsError> {
        for (name, value) in [
            ("note_intercept_lambda", self.note_intercept_lambda),
            ("note_factor_lambda", self.note_factor_lambda),
            ("rater_intercept_lambda", self.rater_intercept_lambda),
            ("rater_factor_lambda", self.rater_factor_lambda),
            ("rater_reputation_lambda", self.rater_reputation_lambda),
            ("global_intercept_lambda", self.global_intercept_lambda),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(LogitParamsError::NegativeLambda { name, value });
            }
        }
        for (name, ratio) in [
            ("note_loss_ratio", self.note_loss_ratio),
            ("rater_loss_ratio", self.rater_loss_ratio),
        ] {
            if let Some(value) = ratio
                && !(value.is_finite() && value > 0.0)
            {
                return Err(LogitParamsError::BadRatio { name, value });
            }
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(LogitParamsError::BadTolerance(self.tolerance));
        }
        if self.max_passes == 0 {
            return Err(LogitParamsError::NoPasses);
        }
        Ok(ValidLogitParams(self))
    }
}

/// Which parameter blocks a fit may change; the others keep their initial values (the
/// reference's `requires_grad_(False)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trainable {
    pub note_intercept: bool,
    pub note_factor: bool,
    pub rater_intercept: bool,
    pub rater_factor: bool,
    pub rater_reputation: bool,
    pub global_intercept: bool,
}

impl Trainable {
    /// Every block.
    pub const ALL: Trainable = Trainable {
        note_intercept: true,
        note_factor: true,
        rater_intercept: true,
        rater_factor: true,
        rater_reputation: true,
        global_intercept: true,
    };

    /// No block.
    pub const NONE: Trainable = Trainable {
        note_intercept: false,
        note_factor: false,
        rater_intercept: false,
        rater_factor: false,
        rater_reputation: false,
        global_intercept: false,
    };

    /// Everything but the reputation multipliers: a plain biased factorization.
    pub const PLAIN: Trainable = Trainable {
        rater_reputation: false,
        ..Trainable::ALL
    };

    /// Whether any note parameter is trainable.
    pub fn notes(&self) -> bool {
        self.note_intercept || self.note_factor
    }

    /// Whether any rater parameter is trainable.
    pub fn raters(&self) -> bool {
        self.rater_intercept || self.rater_factor || self.rater_reputation
    }

    /// How many of the three groups (notes, raters, global) are trainable.
    pub fn groups(&self) -> usize {
        self.notes() as usize + self.raters() as usize + self.global_intercept as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_values() {
        assert!(LogitParams::default().validate().is_ok());
        let bad = LogitParams {
            rater_reputation_lambda: f64::NAN,
            ..LogitParams::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(LogitParamsError::NegativeLambda { .. })
        ));
        let bad = LogitParams {
            rater_loss_ratio: Some(-1.0),
            ..LogitParams::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(LogitParamsError::BadRatio { .. })
        ));
        let bad = LogitParams {
            tolerance: 0.0,
            ..LogitParams::default()
        };
        assert_eq!(bad.validate(), Err(LogitParamsError::BadTolerance(0.0)));
        let bad = LogitParams {
            max_passes: 0,
            ..LogitParams::default()
        };
        assert_eq!(bad.validate(), Err(LogitParamsError::NoPasses));
    }

    #[test]
    fn group_counts() {
        assert_eq!(Trainable::ALL.groups(), 3);
        assert_eq!(Trainable::NONE.groups(), 0);
        let notes_only = Trainable {
            note_factor: true,
            ..Trainable::NONE
        };
        assert_eq!(notes_only.groups(), 1);
        assert!(Trainable::PLAIN.raters());
    }
}
