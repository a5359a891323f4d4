//! The matrix-factorization scorers of a run and what sets each apart: which raters and notes
//! it sees, its hyperparameters and its rule thresholds (`run_scoring.py: _get_scorers` and
//! the scorer constructors in the reference).

use crate::adam::AdamSettings;
use crate::community::CommunityView;
use crate::gaussian::GaussianParams;
use crate::helpfulness::{HarassmentPenaltyParams, HelpfulnessParams};
use crate::mf::{MfParams, NormalizedLoss};
use crate::rules::RuleParams;
use crate::tags::{IncorrectFilterParams, TagFilterParams};
use crate::topic::Topic;

use super::prescore::PrescoreOptions;
use super::{
    CORE_GROUPS, COVERAGE_GROUPS, EXPANSION_GROUPS, EXPANSION_PLUS_GROUPS, ScorerSpec, TopicScope,
};

/// The group-model groups with an ordinary matrix-factorization final model: 1–13 and the
/// trial groups 14 (with the normalized loss and diamond penalty, see [`ScorerConfig::group`]),
/// 18 and 33. Group 15's final model is Gaussian.
pub const MF_GROUPS: &[u32] = &[13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 14, 33, 18];

/// Raters of the multi-group model 1.
pub const MULTI_GROUP_1: &[u32] = &[4, 5, 7, 12, 26];

/// Which output columns a scorer fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScorerKind {
    Core,
    CoreWithTopics,
    Expansion,
    ExpansionPlus,
    /// A group model (`modelingGroup`).
    Group(u32),
    /// A multi-group model (`modelingMultiGroup`).
    MultiGroup(u32),
    /// A topic model (`noteTopic`).
    Topic(Topic),
    /// The Gaussian aggregation scorer on notes without a topic.
    Gaussian,
    /// The Gaussian aggregation scorer on every note.
    GaussianCoreWithTopics,
}

/// What sets a Gaussian scorer apart: the kernel passes and the matrix-factorization scorer
/// whose prescoring (rater factors, helpfulness, thresholds) it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianSettings {
    /// The reference name of the prescoring scorer (`get_prescoring_name`).
    pub prescoring: &'static str,
    pub crh: GaussianParams,
    pub crnh: GaussianParams,
}

/// One matrix-factorization scorer.
#[derive(Clone, Debug, PartialEq)]
pub struct ScorerConfig {
    pub kind: ScorerKind,
    pub spec: ScorerSpec,
    /// Prescoring settings, including the rule thresholds used in both phases.
    pub prescore: PrescoreOptions,
    /// The incorrect-tag filter of final scoring.
    pub incorrect: IncorrectFilterParams,
    /// Pseudo-rater bounds in final scoring (core and core-with-topics).
    pub pseudo_raters: bool,
    /// Topic scorers: a note is "confident" with more than this many ratings from each
    /// side of the rater factor.
    pub topic_confidence_ratings: Option<u32>,
    /// Gaussian scorers: their settings (`None` for matrix-factorization scorers).
    pub gaussian: Option<GaussianSettings>,
}

impl ScorerConfig {
    /// Whether the scorer's user tables (its `helpfulness_scores` rows) keep participant
    /// `u`: group and multi-group models keep only raters enrolled in their groups (their
    /// specs count no unassigned rater as in-group); every other model keeps everyone.
    pub fn keeps_user(&self, community: &CommunityView, u: usize) -> bool {
        let grouped = matches!(self.kind, ScorerKind::Group(_) | ScorerKind::MultiGroup(_));
        !grouped || self.spec.in_group(community, u)
    }

    fn base(kind: ScorerKind, spec: ScorerSpec) -> Self {
        ScorerConfig {
            kind,
            spec,
            prescore: PrescoreOptions::core(),
            incorrect: IncorrectFilterParams::default(),
            pseudo_raters: false,
            topic_confidence_ratings: None,
            gaussian: None,
        }
    }

    fn with_rules(mut self, f: impl FnOnce(&mut RuleParams)) -> Self {
        f(&mut self.prescore.rules);
        self
    }

    /// `MFCoreScorer`.
    pub fn core() -> Self {
        ScorerConfig {
            pseudo_raters: true,
            ..Self::base(ScorerKind::Core, ScorerSpec::core())
        }
    }

    /// `MFCoreWithTopicsScorer`: the core raters on every note, without the firm-reject rule.
    pub fn core_with_topics() -> Self {
        let spec = ScorerSpec {
            name: "MFCoreWithTopicsScorer",
            topics: TopicScope::All,
            ..ScorerSpec::core()
        };
        ScorerConfig {
            pseudo_raters: true,
            ..Self::base(ScorerKind::CoreWithTopics, spec)
        }
        .with_rules(|r| r.firm_reject_intercept = None)
    }

    /// `MFExpansionScorer`: core and expansion raters, every note.
    pub fn expansion() -> Self {
        let spec = ScorerSpec {
            name: "MFExpansionScorer",
            groups: Some([CORE_GROUPS, EXPANSION_GROUPS].concat()),
            topics: TopicScope::All,
            ..ScorerSpec::core()
        };
        Self::base(ScorerKind::Expansion, spec)
    }

    /// `MFExpansionPlusScorer`: core, expansion and expansion-plus raters; every note is
    /// output (no capture threshold); no firm-reject rule.
    pub fn expansion_plus() -> Self {
        let spec = ScorerSpec {
            name: "MFExpansionPlusScorer",
            groups: Some([CORE_GROUPS, EXPANSION_GROUPS, EXPANSION_PLUS_GROUPS].concat()),
            topics: TopicScope::All,
            capture_threshold: None,
            ..ScorerSpec::core()
        };
        Self::base(ScorerKind::ExpansionPlus, spec).with_rules(|r| r.firm_reject_intercept = None)
    }

    fn group_spec(name: &'static str, groups: &[u32], capture: f64) -> ScorerSpec {
        ScorerSpec {
            name,
            groups: Some(groups.to_vec()),
            include_unassigned: false,
            topics: TopicScope::All,
            capture_threshold: Some(capture),
            strict_inclusion: false,
        }
    }

    /// `MFGroupScorer_g`. Group 14 uses its own penalties and thresholds; the reference
    /// also fits it with a normalized (sign-balanced) loss and a diamond penalty, which
    /// bridgenotes does not reproduce yet (its intercepts are those of the plain loss).
    /// Group 33 drops every rating of a note with under 80 % in-group ratings before the fit.
    pub fn group(group: u32) -> Self {
        let name: &'static str = GROUP_NAMES
            .iter()
            .find(|(g, _)| *g == group)
            .map(|(_, n)| *n)
            .unwrap_or("MFGroupScorer");
        let mut config = Self::base(
            ScorerKind::Group(group),
            Self::group_spec(name, &[group], 0.8),
        )
        .with_rules(|r| r.firm_reject_intercept = None);
        config.prescore.stable_init_group = None;
        match group {
            14 => {
                config.spec.capture_threshold = Some(0.51);
                // Group 14 (the trial group) refits every model under the normalized loss
                // (the two sides of the factor weighted equally, prolific raters damped) with
                // the diamond penalty, at a tenth of the learning rate.
                config.prescore.replay_adam = Some(AdamSettings::with_learning_rate(0.02));
                config.prescore.mf = MfParams {
                    note_intercept_lambda: 0.03 * 30.0,
                    rater_intercept_lambda: 0.03 * 5.0,
                    global_intercept_lambda: 0.03 * 5.0,
                    note_factor_lambda: 0.03 / 3.0,
                    rater_factor_lambda: 0.03 / 4.0,
                    diamond_lambda: 0.03 * 25.0,
                    normalized_loss: Some(NormalizedLoss {
                        note_sign_alpha: None,
                        global_sign_norm: true,
                        note_norm_exp: 0.0,
                        rater_norm_exp: -0.25,
                    }),
                    ..MfParams::default()
                };
                config.prescore.helpfulness = HelpfulnessParams {
                    min_mean_note_score: -0.01,
                    ..HelpfulnessParams::default()
                };
                config.prescore.penalty = HarassmentPenaltyParams {
                    min_harassment_score: 2.5,
                    penalty_per_rating: 10.0,
                    multiply_by_harassment_score: false,
                };
                config.prescore.tag_filter = TagFilterParams {
                    percentile: 90,
                    ..TagFilterParams::default()
                };
                config.incorrect.min_tf_idf = 1.5;
                config = config.with_rules(|r| {
                    r.crh_intercept = 0.15;
                    r.crnh_intercept = -0.01;
                    r.crnh_factor_multiplier = 0.0;
                    r.crnh_not_misleading_intercept = -0.02;
                    r.crh_no_high_volume = Some(0.12);
                    r.crh_no_correlated = Some(0.12);
                    r.low_diligence_intercept = 1000.0;
                    r.factor_threshold = 0.4;
                });
            }
            18 => {
                config.spec.capture_threshold = Some(0.51);
                config.prescore.mf = MfParams {
                    note_intercept_lambda: 0.03 * 5.0,
                    rater_intercept_lambda: 0.03,
                    global_intercept_lambda: 0.0,
                    ..MfParams::default()
                };
                config = config.with_rules(|r| {
                    r.crh_intercept = 0.2;
                    r.crh_no_high_volume = Some(0.18);
                    r.crh_no_correlated = Some(0.18);
                });
            }
            33 => config.spec.strict_inclusion = true,
            15 => {
                // Prescoring only: group 15's final model is Gaussian.
                config.prescore.mf = MfParams {
                    note_intercept_lambda: 0.03 * 3.0,
                    rater_intercept_lambda: 0.03,
                    global_intercept_lambda: 0.0,
                    ..MfParams::default()
                };
                config = config.with_rules(|r| r.crh_intercept = 0.25);
            }
            _ => {}
        }
        config
    }

    /// `MFMultiGroupScorer_1`.
    pub fn multi_group() -> Self {
        let mut config = Self::base(
            ScorerKind::MultiGroup(1),
            Self::group_spec("MFMultiGroupScorer_1", MULTI_GROUP_1, 0.8),
        )
        .with_rules(|r| r.firm_reject_intercept = None);
        config.prescore.stable_init_group = None;
        config
    }

    /// `MFTopicScorer_T`: every rater of the topic's notes; no helpfulness filter, no
    /// capture threshold, no minority-rater rules.
    pub fn topic(topic: Topic) -> Self {
        let spec = ScorerSpec {
            name: TOPIC_NAMES
                .iter()
                .find(|(t, _)| *t == topic)
                .map(|(_, n)| *n)
                .unwrap_or("MFTopicScorer"),
            groups: None,
            include_unassigned: true,
            topics: TopicScope::Only(topic),
            capture_threshold: None,
            strict_inclusion: false,
        };
        let mut config = ScorerConfig {
            topic_confidence_ratings: Some(4),
            ..Self::base(ScorerKind::Topic(topic), spec)
        }
        .with_rules(without_reject_or_minority);
        config.prescore.use_reputation = false;
        config.prescore.stable_init_group = None;
        if topic == Topic::InDimensionTwo {
            config.prescore.mf = MfParams {
                use_global_intercept: false,
                rater_intercept_lambda: 5.0,
                ..MfParams::default()
            };
        }
        config
    }

    /// Every matrix-factorization scorer of final scoring, in the reference's order. The
    /// InDimensionTwo topic and group 15, whose final models are Gaussian, are not here.
    pub fn all() -> Vec<ScorerConfig> {
        let mut all = vec![
            Self::core_with_topics(),
            Self::core(),
            Self::expansion(),
            Self::expansion_plus(),
        ];
        all.extend(MF_GROUPS.iter().map(|&g| Self::group(g)));
        all.extend(
            [
                Topic::UkraineConflict,
                Topic::GazaConflict,
                Topic::MessiRonaldo,
                Topic::Scams,
            ]
            .into_iter()
            .map(Self::topic),
        );
        all.push(Self::multi_group());
        all
    }
}

/// The rule thresholds of the Gaussian scorers (`GaussianScorer.__init__`).
fn gaussian_rules(r: &mut RuleParams) {
    r.crh_intercept = 0.51;
    r.crnh_intercept = -0.5;
    r.crnh_factor_multiplier = 0.0;
    r.crnh_not_misleading_intercept = -0.6;
    r.crnh_ucb_intercept = -0.5;
    r.factor_threshold = 1.0;
    r.crh_no_high_volume = Some(0.45);
    r.crh_no_correlated = Some(0.45);
    without_reject_or_minority(r);
}

/// No firm-reject rule and no minority-rater rules (topic and Gaussian scorers).
fn without_reject_or_minority(r: &mut RuleParams) {
    r.firm_reject_intercept = None;
    r.min_minority_net_helpful = None;
    r.min_minority_net_helpful_ratio = None;
}

impl ScorerConfig {
    fn gaussian_base(kind: ScorerKind, spec: ScorerSpec, prescoring: &'static str) -> Self {
        ScorerConfig {
            gaussian: Some(GaussianSettings {
                prescoring,
                crh: GaussianParams::crh(),
                crnh: GaussianParams::crnh(),
            }),
            ..Self::base(kind, spec)
        }
    }

    /// `GaussianScorer`: coverage-group raters on notes without a topic, with
    /// MFCoreScorer's prescoring.
    pub fn gaussian() -> Self {
        let spec = ScorerSpec {
            name: "GaussianScorer",
            groups: Some(COVERAGE_GROUPS.to_vec()),
            ..ScorerSpec::core()
        };
        Self::gaussian_base(ScorerKind::Gaussian, spec, "MFCoreScorer").with_rules(gaussian_rules)
    }

    /// `GaussianCoreWithTopicsScorer`: as [`gaussian`](Self::gaussian) on every note.
    pub fn gaussian_core_with_topics() -> Self {
        let spec = ScorerSpec {
            name: "GaussianCoreWithTopicsScorer",
            groups: Some(COVERAGE_GROUPS.to_vec()),
            topics: TopicScope::All,
            ..ScorerSpec::core()
        };
        Self::gaussian_base(ScorerKind::GaussianCoreWithTopics, spec, "MFCoreScorer")
            .with_rules(gaussian_rules)
    }

    /// `GaussianGroupScorer_15`: group 15's final model, with `MFGroupScorer_15`'s
    /// prescoring.
    pub fn gaussian_group_15() -> Self {
        let spec = Self::group_spec("GaussianGroupScorer_15", &[15], 0.8);
        let mut config = Self::gaussian_base(ScorerKind::Group(15), spec, "MFGroupScorer_15")
            .with_rules(|r| {
                r.crh_intercept = 0.25;
                r.crnh_ucb_intercept = -0.5;
                without_reject_or_minority(r);
            });
        config.prescore.stable_init_group = None;
        config
    }

    /// `GaussianTopicScorer_InDimensionTwo`: the InDimensionTwo topic's final model, with a
    /// narrower kernel, no helpfulness filter and no confidence minimum.
    pub fn gaussian_topic_in_dimension_two() -> Self {
        let topic = ScorerConfig::topic(Topic::InDimensionTwo);
        let spec = ScorerSpec {
            name: "GaussianTopicScorer_InDimensionTwo",
            ..topic.spec
        };
        let mut config = Self::gaussian_base(
            ScorerKind::Topic(Topic::InDimensionTwo),
            spec,
            "MFTopicScorer_InDimensionTwo",
        )
        .with_rules(|r| {
            r.crnh_ucb_intercept = -0.5;
            without_reject_or_minority(r);
        });
        if let Some(g) = config.gaussian.as_mut() {
            g.crh.bandwidth = 0.05;
        }
        config.prescore.use_reputation = false;
        config.prescore.stable_init_group = None;
        config.topic_confidence_ratings = Some(0);
        config
    }

    /// The Gaussian scorers of final scoring.
    pub fn gaussians() -> Vec<ScorerConfig> {
        vec![
            Self::gaussian(),
            Self::gaussian_core_with_topics(),
            Self::gaussian_group_15(),
            Self::gaussian_topic_in_dimension_two(),
        ]
    }

    /// Matrix-factorization scorers that run only for the prescoring a Gaussian scorer reads.
    pub fn prescoring_only() -> Vec<ScorerConfig> {
        vec![Self::group(15), Self::topic(Topic::InDimensionTwo)]
    }
}

const GROUP_NAMES: [(u32, &str); 17] = [
    (1, "MFGroupScorer_1"),
    (2, "MFGroupScorer_2"),
    (3, "MFGroupScorer_3"),
    (4, "MFGroupScorer_4"),
    (5, "MFGroupScorer_5"),
    (6, "MFGroupScorer_6"),
    (7, "MFGroupScorer_7"),
    (8, "MFGroupScorer_8"),
    (9, "MFGroupScorer_9"),
    (10, "MFGroupScorer_10"),
    (11, "MFGroupScorer_11"),
    (12, "MFGroupScorer_12"),
    (13, "MFGroupScorer_13"),
    (14, "MFGroupScorer_14"),
    (15, "MFGroupScorer_15"),
    (18, "MFGroupScorer_18"),
    (33, "MFGroupScorer_33"),
];

const TOPIC_NAMES: [(Topic, &str); 5] = [
    (Topic::UkraineConflict, "MFTopicScorer_UkraineConflict"),
    (Topic::GazaConflict, "MFTopicScorer_GazaConflict"),
    (Topic::MessiRonaldo, "MFTopicScorer_MessiRonaldo"),
    (Topic::Scams, "MFTopicScorer_Scams"),
    (Topic::InDimensionTwo, "MFTopicScorer_InDimensionTwo"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scorer_has_a_distinct_reference_name() {
        let all = ScorerConfig::all();
        let mut names: Vec<&str> = all.iter().map(|s| s.spec.name).collect();
        assert!(!names.contains(&"MFGroupScorer"));
        assert!(!names.contains(&"MFTopicScorer"));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn only_core_models_have_pseudo_raters_and_firm_reject() {
        for s in ScorerConfig::all() {
            let core_like = matches!(s.kind, ScorerKind::Core | ScorerKind::CoreWithTopics);
            assert_eq!(s.pseudo_raters, core_like, "{}", s.spec.name);
            let firm = matches!(s.kind, ScorerKind::Core | ScorerKind::Expansion);
            assert_eq!(
                s.prescore.rules.firm_reject_intercept.is_some(),
                firm,
                "{}",
                s.spec.name
            );
        }
    }

    #[test]
    fn topic_scorers_skip_helpfulness_and_group_capture() {
        let t = ScorerConfig::topic(Topic::Scams);
        assert!(!t.prescore.use_reputation);
        assert_eq!(t.spec.capture_threshold, None);
        assert_eq!(t.spec.groups, None);
        let g = ScorerConfig::group(33);
        assert!(g.spec.strict_inclusion);
        assert!(!g.spec.include_unassigned);
    }
}
