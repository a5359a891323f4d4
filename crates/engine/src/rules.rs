//! Scoring rules. So far: the thresholds that decide a note's provisional status from its
//! intercept and factor (the reference's GeneralCRH and GeneralCRNH rules).

use crate::NoteStatus;

/// Status thresholds of the core model (`scoring_rules.py`, `_get_scorers`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoreThresholds {
    /// A note is helpful when its intercept reaches this.
    pub crh_intercept: f64,
    /// A note is not helpful when its intercept is at most
    /// `crnh_intercept + crnh_factor_multiplier * |factor|`.
    pub crnh_intercept: f64,
    pub crnh_factor_multiplier: f64,
    /// Ratings a note needs before any of these rules applies.
    pub min_ratings: usize,
}

impl Default for CoreThresholds {
    fn default() -> Self {
        CoreThresholds {
            crh_intercept: 0.40,
            crnh_intercept: -0.05,
            crnh_factor_multiplier: -0.8,
            min_ratings: 5,
        }
    }
}

/// Status from the intercept rules alone: NMR, then CRH if the intercept is high enough,
/// then CRNH if it is low enough (later rules win, as in the reference).
pub fn provisional_status(
    intercept: f64,
    factor: f64,
    ratings: usize,
    t: &CoreThresholds,
) -> NoteStatus {
    let mut status = NoteStatus::NeedsMoreRatings;
    if ratings >= t.min_ratings {
        if intercept >= t.crh_intercept {
            status = NoteStatus::CurrentlyRatedHelpful;
        }
        if intercept <= t.crnh_intercept + t.crnh_factor_multiplier * factor.abs() {
            status = NoteStatus::CurrentlyRatedNotHelpful;
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_reference() {
        let t = CoreThresholds::default();
        assert_eq!(
            provisional_status(0.40, 0.0, 5, &t),
            NoteStatus::CurrentlyRatedHelpful
        );
        assert_eq!(
            provisional_status(0.40, 0.0, 4, &t),
            NoteStatus::NeedsMoreRatings
        );
        assert_eq!(
            provisional_status(0.39, 0.0, 9, &t),
            NoteStatus::NeedsMoreRatings
        );
        assert_eq!(
            provisional_status(-0.05, 0.0, 9, &t),
            NoteStatus::CurrentlyRatedNotHelpful
        );
        // A polarizing note needs a lower intercept to be rated not helpful.
        assert_eq!(
            provisional_status(-0.3, 0.5, 9, &t),
            NoteStatus::NeedsMoreRatings
        );
        assert_eq!(
            provisional_status(-0.5, 0.5, 9, &t),
            NoteStatus::CurrentlyRatedNotHelpful
        );
    }
}
