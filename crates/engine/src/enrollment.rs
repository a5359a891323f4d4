//! Contributor enrollment: whether a contributor may write notes, and their modeling group.

use crate::status::named_enum;

/// Where a contributor stands in the earn-in / earn-out cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnrollmentState {
    EarnedIn,
    AtRisk,
    EarnedOutNoAcknowledge,
    EarnedOutAcknowledged,
    NewUser,
    Removed,
    ApiTestUser,
    ApiEarnedIn,
    ApiEarnedOut,
}

named_enum!(EnrollmentState, "enrollmentState", [
    EnrollmentState::EarnedIn => "earnedIn",
    EnrollmentState::AtRisk => "atRisk",
    EnrollmentState::EarnedOutNoAcknowledge => "earnedOutNoAcknowledge",
    EnrollmentState::EarnedOutAcknowledged => "earnedOutAcknowledged",
    EnrollmentState::NewUser => "newUser",
    EnrollmentState::Removed => "removed",
    EnrollmentState::ApiTestUser => "apiTestUser",
    EnrollmentState::ApiEarnedIn => "apiEarnedIn",
    EnrollmentState::ApiEarnedOut => "apiEarnedOut",
]);

impl EnrollmentState {
    /// The integer code the reference writes in `helpfulness_scores.tsv`.
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// One row of the user enrollment file.
#[derive(Clone, Debug, PartialEq)]
pub struct Enrollment {
    pub participant_id: String,
    pub state: EnrollmentState,
    pub successful_rating_needed_to_earn_in: i64,
    pub timestamp_of_last_state_change: i64,
    pub timestamp_of_last_earn_out: Option<f64>,
    pub modeling_population: Option<String>,
    pub modeling_group: Option<f64>,
    pub number_of_times_earned_out: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_reference_order() {
        assert_eq!(EnrollmentState::EarnedIn.code(), 0);
        assert_eq!(EnrollmentState::NewUser.code(), 4);
        assert_eq!(EnrollmentState::ApiEarnedOut.code(), 8);
        assert_eq!(
            "atRisk".parse::<EnrollmentState>().unwrap(),
            EnrollmentState::AtRisk
        );
    }
}
