//! The rule chain that turns a scorer's note parameters into note statuses
//! (`compute_scored_notes` and `scoring_rules.py` in the reference).
//!
//! Rules run in order; each may set a new label for the notes it matches, and every rule that
//! matches a note is recorded in the note's active rules, whether or not the label changed.

use crate::{Classification, NoteStatus};

/// One rule of a scorer's chain, with the reference's name and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    InitialNmr,
    GeneralCrh,
    GeneralCrnh,
    UcbCrnh,
    RatioCrnh,
    NmCrnh,
    GeneralCrhInertia,
    TagFilter,
    FilterIncorrect,
    FilterLowDiligence,
    FilterLargeFactor,
    RejectLowIntercept,
    MinMinorityRaters,
    RaterBalance,
    NoHighVolIntercept,
    NoCorrelatedIntercept,
}

impl Rule {
    /// `Name (vX)` as the reference writes it in `*ActiveRules` columns.
    pub fn label(self) -> &'static str {
        match self {
            Rule::InitialNmr => "InitialNMR (v1.0)",
            Rule::GeneralCrh => "GeneralCRH (v1.0)",
            Rule::GeneralCrnh => "GeneralCRNH (v1.0)",
            Rule::UcbCrnh => "UcbCRNH (v1.0)",
            Rule::RatioCrnh => "RatioCRNH (v1.0)",
            Rule::NmCrnh => "NmCRNH (v1.0)",
            Rule::GeneralCrhInertia => "GeneralCRHInertia (v1.0)",
            Rule::TagFilter => "TagFilter (v1.0)",
            Rule::FilterIncorrect => "FilterIncorrect (v1.0)",
            Rule::FilterLowDiligence => "FilterLowDiligence (v1.0)",
            Rule::FilterLargeFactor => "FilterLargeFactor (v1.0)",
            Rule::RejectLowIntercept => "RejectLowIntercept (v1.0)",
            Rule::MinMinorityRaters => "MinMinorityRaters (v1.0)",
            Rule::RaterBalance => "RaterBalance (v1.0)",
            Rule::NoHighVolIntercept => "NoHighVolIntercept (v1.0)",
            Rule::NoCorrelatedIntercept => "NoCorrelatedIntercept (v1.0)",
        }
    }
}

/// Thresholds of a scorer's rules (`_get_scorers` and `MFBaseScorer.__init__`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RuleParams {
    pub min_ratings: u32,
    pub crh_intercept: f64,
    pub crnh_intercept: f64,
    pub crnh_factor_multiplier: f64,
    pub crnh_not_misleading_intercept: f64,
    pub crnh_ucb_intercept: f64,
    pub inertia_delta: f64,
    pub low_diligence_intercept: f64,
    pub factor_threshold: f64,
    /// Notes below this intercept become FIRM_REJECT; it also makes the filters reject firmly.
    pub firm_reject_intercept: Option<f64>,
    pub min_minority_net_helpful: Option<i64>,
    pub min_minority_net_helpful_ratio: Option<f64>,
    pub crh_no_high_volume: Option<f64>,
    pub crh_no_correlated: Option<f64>,
}

impl RuleParams {
    /// The core model's thresholds.
    pub fn core() -> Self {
        RuleParams {
            min_ratings: 5,
            crh_intercept: 0.40,
            crnh_intercept: -0.05,
            crnh_factor_multiplier: -0.8,
            crnh_not_misleading_intercept: -0.15,
            crnh_ucb_intercept: -0.04,
            inertia_delta: 0.01,
            low_diligence_intercept: 0.263,
            factor_threshold: 0.5,
            firm_reject_intercept: Some(0.3),
            min_minority_net_helpful: Some(4),
            min_minority_net_helpful_ratio: Some(0.05),
            crh_no_high_volume: Some(0.37),
            crh_no_correlated: Some(0.37),
        }
    }

    fn filtered_status(&self) -> NoteStatus {
        if self.firm_reject_intercept.is_some() {
            NoteStatus::FirmReject
        } else {
            NoteStatus::NeedsMoreRatings
        }
    }
}

/// Ratings of a note split by the sign of the rater's factor (`get_note_counts_by_rater_sign`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SignCounts {
    pub negative: u32,
    pub positive: u32,
    pub negative_mean_helpful: Option<f64>,
    pub positive_mean_helpful: Option<f64>,
    /// max(0, min(net helpful on each side)), net = #helpful − #not helpful.
    pub net_min_helpful: i64,
    /// `net_min_helpful` / ratings on both sides (0 without ratings).
    pub net_min_helpful_ratio: f64,
}

impl SignCounts {
    /// `minSignCount`.
    pub fn min_sign_count(&self) -> u32 {
        self.negative.min(self.positive)
    }
}

/// Computes [`SignCounts`] per note over the ratings whose rater has a factor.
pub fn sign_counts(
    notes: usize,
    note: &[u32],
    value: &[f32],
    rater_factor: &[f64],
) -> Vec<SignCounts> {
    #[derive(Default, Clone, Copy)]
    struct Side {
        count: u32,
        sum: f64,
        helpful: i64,
        not_helpful: i64,
    }
    let mut sides = vec![[Side::default(); 2]; notes];
    for ((&n, &v), &f) in note.iter().zip(value).zip(rater_factor) {
        if f.is_nan() {
            continue;
        }
        let side = &mut sides[n as usize][(f >= 0.0) as usize];
        side.count += 1;
        side.sum += v as f64;
        side.helpful += (v == 1.0) as i64;
        side.not_helpful += (v == 0.0) as i64;
    }
    sides
        .iter()
        .map(|[neg, pos]| {
            let mean = |s: &Side| (s.count > 0).then(|| s.sum / s.count as f64);
            let net_min = (neg.helpful - neg.not_helpful)
                .min(pos.helpful - pos.not_helpful)
                .max(0);
            let total = neg.count + pos.count;
            SignCounts {
                negative: neg.count,
                positive: pos.count,
                negative_mean_helpful: mean(neg),
                positive_mean_helpful: mean(pos),
                net_min_helpful: net_min,
                net_min_helpful_ratio: if total > 0 {
                    net_min as f64 / total as f64
                } else {
                    0.0
                },
            }
        })
        .collect()
}

/// What the rules know about one note.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NoteFacts {
    pub num_ratings: u32,
    pub classification: Option<Classification>,
    /// Status in the input status history.
    pub current_status: Option<NoteStatus>,
    pub intercept: Option<f64>,
    pub factor: Option<f64>,
    /// Pseudo-rater upper bound of the intercept.
    pub intercept_max: Option<f64>,
    pub signs: SignCounts,
    pub low_diligence_intercept: Option<f64>,
    /// The tag filter fired (see `tags::tag_filter`).
    pub tag_filter: bool,
    /// The incorrect filter fired (see `tags::filter_incorrect`).
    pub incorrect_filter: bool,
    pub intercept_no_high_volume: Option<f64>,
    pub intercept_no_correlated: Option<f64>,
}

/// A note's status and the rules that acted on it, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleOutcome {
    pub status: NoteStatus,
    pub active_rules: Vec<Rule>,
}

impl RuleOutcome {
    /// The active rules as the reference writes them (comma-separated, no spaces between).
    pub fn active_rules_text(&self) -> String {
        self.active_rules
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Runs the rule chain on one note. `final_round` adds the rules that only run in final
/// scoring (RatioCRNH acts only there, the filters and the rater-balance rules follow).
pub fn apply_rules(facts: &NoteFacts, params: &RuleParams, final_round: bool) -> RuleOutcome {
    use NoteStatus::*;
    let mut status = NeedsMoreRatings;
    let mut active = vec![Rule::InitialNmr];
    let mut set = |rule: Rule, to: NoteStatus, status: &mut NoteStatus| {
        active.push(rule);
        *status = to;
    };
    let lt = |a: Option<f64>, b: f64| a.is_some_and(|a| a < b);
    let enough = facts.num_ratings >= params.min_ratings;
    let not_nm = facts.classification != Some(Classification::NotMisleading);
    let (intercept, factor) = (facts.intercept, facts.factor);

    // Rules 2–6: intercept thresholds.
    if enough && not_nm && intercept.is_some_and(|i| i >= params.crh_intercept) {
        set(Rule::GeneralCrh, CurrentlyRatedHelpful, &mut status);
    }
    if enough
        && let (Some(i), Some(f)) = (intercept, factor)
        && i <= params.crnh_intercept + params.crnh_factor_multiplier * f.abs()
    {
        set(Rule::GeneralCrnh, CurrentlyRatedNotHelpful, &mut status);
    }
    if enough && lt(facts.intercept_max, params.crnh_ucb_intercept) {
        set(Rule::UcbCrnh, CurrentlyRatedNotHelpful, &mut status);
    }
    if final_round && enough {
        // The reference's helpfulness values and their means are 32-bit floats, and numpy
        // compares them with these constants in 32 bits: (0.4 + 0.2) / 2 <= 0.3 holds there.
        let s = &facts.signs;
        if let (Some(neg), Some(pos)) = (s.negative_mean_helpful, s.positive_mean_helpful)
            && s.min_sign_count() >= 3
            && (neg as f32) <= 0.4f32
            && (pos as f32) <= 0.4f32
            && (neg as f32 + pos as f32) / 2.0f32 <= 0.3f32
        {
            set(Rule::RatioCrnh, CurrentlyRatedNotHelpful, &mut status);
        }
    }
    if facts.classification == Some(Classification::NotMisleading)
        && lt(intercept, params.crnh_not_misleading_intercept)
    {
        set(Rule::NmCrnh, CurrentlyRatedNotHelpful, &mut status);
    }
    if !final_round {
        return RuleOutcome {
            status,
            active_rules: active,
        };
    }

    // Rules 7–18.
    if status != CurrentlyRatedHelpful
        && enough
        && intercept.is_some_and(|i| i >= params.crh_intercept - params.inertia_delta)
        && facts.current_status == Some(CurrentlyRatedHelpful)
        && not_nm
    {
        set(Rule::GeneralCrhInertia, CurrentlyRatedHelpful, &mut status);
    }
    let filtered = params.filtered_status();
    if status != CurrentlyRatedNotHelpful && facts.tag_filter {
        set(Rule::TagFilter, filtered, &mut status);
    }
    if status != CurrentlyRatedNotHelpful && facts.incorrect_filter {
        set(Rule::FilterIncorrect, filtered, &mut status);
    }
    if status != CurrentlyRatedNotHelpful
        && facts
            .low_diligence_intercept
            .is_some_and(|d| d > params.low_diligence_intercept)
    {
        set(Rule::FilterLowDiligence, filtered, &mut status);
    }
    if status == CurrentlyRatedHelpful && factor.is_some_and(|f| f.abs() > params.factor_threshold)
    {
        set(Rule::FilterLargeFactor, filtered, &mut status);
    }
    if let Some(firm) = params.firm_reject_intercept
        && status != CurrentlyRatedNotHelpful
        && lt(intercept, firm)
    {
        set(Rule::RejectLowIntercept, FirmReject, &mut status);
    }
    if let Some(min) = params.min_minority_net_helpful
        && status == CurrentlyRatedHelpful
        && facts.signs.net_min_helpful < min
    {
        set(Rule::MinMinorityRaters, NeedsYourHelp, &mut status);
    }
    if let (Some(min), Some(ratio)) = (
        params.min_minority_net_helpful,
        params.min_minority_net_helpful_ratio,
    ) && status == CurrentlyRatedHelpful
        && facts.signs.net_min_helpful >= min
        && facts.signs.net_min_helpful < 10
        && facts.signs.net_min_helpful_ratio < ratio
    {
        set(Rule::RaterBalance, NeedsYourHelp, &mut status);
    }
    if let Some(threshold) = params.crh_no_high_volume
        && status == CurrentlyRatedHelpful
        && lt(facts.intercept_no_high_volume, threshold)
    {
        set(Rule::NoHighVolIntercept, NeedsYourHelp, &mut status);
    }
    if let Some(threshold) = params.crh_no_correlated
        && status == CurrentlyRatedHelpful
        && lt(facts.intercept_no_correlated, threshold)
    {
        set(Rule::NoCorrelatedIntercept, NeedsYourHelp, &mut status);
    }
    RuleOutcome {
        status,
        active_rules: active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NoteStatus::*;

    /// Status from the intercept rules alone (the first-round provisional status).
    fn provisional_status(
        intercept: f64,
        factor: f64,
        ratings: usize,
        params: &RuleParams,
    ) -> NoteStatus {
        let facts = NoteFacts {
            num_ratings: ratings as u32,
            intercept: Some(intercept),
            factor: Some(factor),
            ..NoteFacts::default()
        };
        apply_rules(&facts, params, false).status
    }

    fn facts(intercept: f64, factor: f64, ratings: u32) -> NoteFacts {
        NoteFacts {
            num_ratings: ratings,
            classification: Some(Classification::MisinformedOrPotentiallyMisleading),
            intercept: Some(intercept),
            factor: Some(factor),
            signs: SignCounts {
                net_min_helpful: 20,
                net_min_helpful_ratio: 0.5,
                ..SignCounts::default()
            },
            ..NoteFacts::default()
        }
    }

    #[test]
    fn thresholds_follow_the_reference() {
        let p = RuleParams::core();
        assert_eq!(provisional_status(0.40, 0.0, 5, &p), CurrentlyRatedHelpful);
        assert_eq!(provisional_status(0.40, 0.0, 4, &p), NeedsMoreRatings);
        assert_eq!(provisional_status(0.39, 0.0, 9, &p), NeedsMoreRatings);
        assert_eq!(
            provisional_status(-0.05, 0.0, 9, &p),
            CurrentlyRatedNotHelpful
        );
        // A polarizing note needs a lower intercept to be rated not helpful.
        assert_eq!(provisional_status(-0.3, 0.5, 9, &p), NeedsMoreRatings);
        assert_eq!(
            provisional_status(-0.5, 0.5, 9, &p),
            CurrentlyRatedNotHelpful
        );
    }

    #[test]
    fn final_rules_record_every_match() {
        let p = RuleParams::core();
        let o = apply_rules(&facts(0.45, 0.1, 10), &p, true);
        assert_eq!(o.status, CurrentlyRatedHelpful);
        assert_eq!(o.active_rules_text(), "InitialNMR (v1.0),GeneralCRH (v1.0)");
        // Low intercepts are firmly rejected, large factors filtered.
        let o = apply_rules(&facts(0.1, 0.1, 10), &p, true);
        assert_eq!(o.status, FirmReject);
        assert_eq!(o.active_rules.last(), Some(&Rule::RejectLowIntercept));
        let o = apply_rules(&facts(0.45, 0.6, 10), &p, true);
        assert_eq!(o.status, FirmReject);
        assert!(o.active_rules.contains(&Rule::FilterLargeFactor));
        // Too few helpful raters on one side: needs your help.
        let mut f = facts(0.45, 0.1, 10);
        f.signs.net_min_helpful = 2;
        assert_eq!(apply_rules(&f, &p, true).status, NeedsYourHelp);
        // Inertia keeps a helpful note just under the threshold.
        let mut f = facts(0.395, 0.1, 10);
        f.current_status = Some(CurrentlyRatedHelpful);
        let o = apply_rules(&f, &p, true);
        assert_eq!(o.status, CurrentlyRatedHelpful);
        assert!(o.active_rules.contains(&Rule::GeneralCrhInertia));
        // Not-misleading notes never become helpful, and low ones are not helpful.
        let mut f = facts(0.5, 0.0, 10);
        f.classification = Some(Classification::NotMisleading);
        assert_eq!(apply_rules(&f, &p, true).status, NeedsMoreRatings);
        f.intercept = Some(-0.2);
        assert_eq!(apply_rules(&f, &p, true).status, CurrentlyRatedNotHelpful);
        // The upper confidence bound alone can make a note not helpful.
        let mut f = facts(0.0, 0.0, 10);
        f.intercept_max = Some(-0.05);
        assert_eq!(apply_rules(&f, &p, false).status, CurrentlyRatedNotHelpful);
    }

    #[test]
    fn sign_counts_split_by_rater_factor() {
        let note = [0, 0, 0, 0, 1];
        let value = [1.0, 0.0, 1.0, 0.5, 1.0];
        let factor = [-0.5, -0.2, 0.3, 0.0, f64::NAN];
        let s = sign_counts(2, &note, &value, &factor);
        assert_eq!((s[0].negative, s[0].positive), (2, 2));
        assert_eq!(s[0].negative_mean_helpful, Some(0.5));
        assert_eq!(s[0].positive_mean_helpful, Some(0.75));
        assert_eq!(s[0].net_min_helpful, 0);
        assert_eq!(s[1], SignCounts::default());
    }
}
