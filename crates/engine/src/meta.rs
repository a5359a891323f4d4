//! Meta-scoring: the final status of a note from the statuses its models gave it
//! (rules.md §4–§7; `run_scoring.py: meta_score` and the meta rules of `scoring_rules.py`).
//!
//! [`meta_score`] takes, per note, the results of the models that scored it
//! ([`ModelResults`], every field optional: a model that did not run or did not score the
//! note simply never acts), the note's row of the input status history, its tag counts, the
//! flip model's label if there is one, and "now". It runs the meta rules in the reference's
//! order ([`MetaRule::CHAIN`]) and returns the final status, the rules that acted, the
//! explanation tags and the new stabilization timestamp ([`MetaOutcome`]). The status history
//! is updated from that outcome by [`crate::history_update`].
//!
//! As in the per-scorer chain ([`crate::rules`]), a rule that matches a note is recorded in
//! its active rules whether or not it changes the label; `decidedBy` is the last of them.
//!
//! Where rules.md and the reference code differ, the code is followed and the place says so.

use crate::NoteStatus::{self, *};
use crate::StatusHistoryRow;
use crate::tags::{ExplanationParams, TagCounts, explanation_tags};
use crate::topic::Topic;

/// Upper bound on the core intercept for groups 1–13 (the core scorer's CRH threshold,
/// `get_crh_threshold()`).
pub const CORE_CRH_THRESHOLD: f64 = 0.40;
/// Upper bound on the expansion intercept for groups 1–13 (the expansion scorer's CRH
/// threshold).
pub const EXPANSION_CRH_THRESHOLD: f64 = 0.40;
/// Lower bound on the core (or expansion) intercept for groups 1–13 (exclusive).
pub const GROUP_MIN_SAFEGUARD: f64 = 0.3;
/// Lower bound for the trial group (14) and group 33, which have no upper bound (exclusive).
pub const TRIAL_GROUP_MIN_SAFEGUARD: f64 = 0.25;
/// The consecutive group models are 1 to this number (`groupScorerCount`).
pub const GROUP_SCORER_COUNT: u8 = 14;
/// The group scored with the lower safeguard and no upper bound (`trialScoringGroup`).
pub const TRIAL_SCORING_GROUP: u8 = 14;
/// The strict-inclusion group; it has both a CRH and an NMR rule (`nmrScoringGroup`).
pub const NMR_SCORING_GROUP: u8 = 33;
/// The group with only an NMR rule (`nmrTrialScoringGroup`).
pub const NMR_TRIAL_SCORING_GROUP: u8 = 18;
/// The Gaussian group, with only an NMR rule (`nmrGaussGroupScoringGroup`).
pub const NMR_GAUSS_GROUP_SCORING_GROUP: u8 = 15;

/// NmrDueToMinStableCrhTime: a note stays in stabilization at least this long (minutes).
pub const REQUIRED_STABLE_CRH_MINUTES: i64 = 30;
/// NmrDueToMinStableCrhTime: a CRH note leaves stabilization after this long (minutes).
pub const MAX_STABLE_CRH_MINUTES: i64 = 60;
/// NmrDueToMinStableCrhTime: an NYH note leaves stabilization (to NMR) after this long.
pub const MAX_NYH_MINUTES: i64 = 360;

/// PopulationSampledIntercept: population-sampled ratings needed on both sides together.
pub const MIN_POPULATION_SAMPLED_RATINGS: u32 = 8;
/// PopulationSampledIntercept: population-sampled ratings needed on each side.
pub const MIN_PER_SIGN_POPULATION_SAMPLED_RATINGS: u32 = 2;
/// PopulationSampledIntercept: acts below this population-sampled intercept.
pub const MAX_POPULATION_SAMPLED_INTERCEPT: f64 = 0.30;
/// PopulationSampledIntercept: acts when the core intercept exceeds the population-sampled
/// one by at least this much.
pub const POPULATION_SAMPLED_DIVERGENCE: f64 = 0.15;

/// Topic rules: (intercept threshold, factor threshold); InDimensionTwo has its own.
const TOPIC_THRESHOLDS: (f64, f64) = (0.24, 0.51);
const IN_DIMENSION_TWO_THRESHOLDS: (f64, f64) = (0.51, 1.0);

/// Group numbers with a `GroupModelNN` rule id, and their labels.
const GROUP_MODEL_LABELS: [(u8, &str); 17] = [
    (1, "GroupModel01 (v1.1)"),
    (2, "GroupModel02 (v1.1)"),
    (3, "GroupModel03 (v1.1)"),
    (4, "GroupModel04 (v1.1)"),
    (5, "GroupModel05 (v1.1)"),
    (6, "GroupModel06 (v1.1)"),
    (7, "GroupModel07 (v1.1)"),
    (8, "GroupModel08 (v1.1)"),
    (9, "GroupModel09 (v1.1)"),
    (10, "GroupModel10 (v1.1)"),
    (11, "GroupModel11 (v1.1)"),
    (12, "GroupModel12 (v1.1)"),
    (13, "GroupModel13 (v1.1)"),
    (14, "GroupModel14 (v1.1)"),
    (15, "GroupModel15 (v1.1)"),
    (18, "GroupModel18 (v1.1)"),
    (33, "GroupModel33 (v1.1)"),
];
/// Group numbers with a `GroupModelNNNMR` rule id, and their labels.
const GROUP_MODEL_NMR_LABELS: [(u8, &str); 3] = [
    (15, "GroupModel15NMR (v1.1)"),
    (18, "GroupModel18NMR (v1.1)"),
    (33, "GroupModel33NMR (v1.1)"),
];

/// The topics of the topic rules, in the reference's order (`TopicModel01` … `05`).
const TOPICS: [Topic; 5] = [
    Topic::UkraineConflict,
    Topic::GazaConflict,
    Topic::MessiRonaldo,
    Topic::Scams,
    Topic::InDimensionTwo,
];

/// A meta-scoring rule id (`RuleID` in the reference), with its name and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetaRule {
    MetaInitialNmr,
    ExpansionPlusModel,
    ExpansionModel,
    CoreWithTopicsModel,
    CoreModel,
    MultiGroupModel01,
    /// `GroupModelNN` for group 1–15, 18 or 33 (15 and 18 have an id but no rule in the
    /// chain; they matter only as locking-enabled names).
    GroupModel(u8),
    /// `GroupModelNNNMR` for group 15, 18 or 33.
    GroupModelNmr(u8),
    GaussianModel,
    GaussianCoreWithTopicsModel,
    /// `TopicModel0N`, N = the topic's id.
    TopicModel(Topic),
    PopulationSampledIntercept,
    NmrDueToMinStableCrhTime,
    ScoringDriftGuard,
    InsufficientExplanation,
}

impl MetaRule {
    /// The rules of [`meta_score`], in the order they run (with every model enabled).
    pub const CHAIN: [MetaRule; 35] = [
        MetaRule::MetaInitialNmr,
        MetaRule::ExpansionPlusModel,
        MetaRule::ExpansionModel,
        MetaRule::CoreWithTopicsModel,
        MetaRule::CoreModel,
        MetaRule::MultiGroupModel01,
        MetaRule::GroupModel(1),
        MetaRule::GroupModel(2),
        MetaRule::GroupModel(3),
        MetaRule::GroupModel(4),
        MetaRule::GroupModel(5),
        MetaRule::GroupModel(6),
        MetaRule::GroupModel(7),
        MetaRule::GroupModel(8),
        MetaRule::GroupModel(9),
        MetaRule::GroupModel(10),
        MetaRule::GroupModel(11),
        MetaRule::GroupModel(12),
        MetaRule::GroupModel(13),
        MetaRule::GroupModel(TRIAL_SCORING_GROUP),
        MetaRule::GroupModel(NMR_SCORING_GROUP),
        MetaRule::GroupModelNmr(NMR_SCORING_GROUP),
        MetaRule::GroupModelNmr(NMR_TRIAL_SCORING_GROUP),
        MetaRule::GroupModelNmr(NMR_GAUSS_GROUP_SCORING_GROUP),
        MetaRule::GaussianModel,
        MetaRule::GaussianCoreWithTopicsModel,
        MetaRule::TopicModel(TOPICS[0]),
        MetaRule::TopicModel(TOPICS[1]),
        MetaRule::TopicModel(TOPICS[2]),
        MetaRule::TopicModel(TOPICS[3]),
        MetaRule::TopicModel(TOPICS[4]),
        MetaRule::PopulationSampledIntercept,
        MetaRule::NmrDueToMinStableCrhTime,
        MetaRule::ScoringDriftGuard,
        MetaRule::InsufficientExplanation,
    ];

    /// `Name (vX)` as the reference writes it in `metaScorerActiveRules` and `decidedBy`.
    ///
    /// # Panics
    /// For a `GroupModel`/`GroupModelNmr` group that has no rule id in the reference.
    pub fn label(self) -> &'static str {
        let group = |table: &[(u8, &'static str)], g: u8| {
            table
                .iter()
                .find(|(id, _)| *id == g)
                .map(|(_, label)| *label)
                .unwrap_or_else(|| panic!("no meta rule id for group {g}"))
        };
        match self {
            MetaRule::MetaInitialNmr => "MetaInitialNMR (v1.0)",
            MetaRule::ExpansionPlusModel => "ExpansionPlusModel (v1.1)",
            MetaRule::ExpansionModel => "ExpansionModel (v1.1)",
            MetaRule::CoreWithTopicsModel => "CoreWithTopicsModel (v1.1)",
            MetaRule::CoreModel => "CoreModel (v1.1)",
            MetaRule::MultiGroupModel01 => "MultiGroupModel01 (v1.0)",
            MetaRule::GroupModel(g) => group(&GROUP_MODEL_LABELS, g),
            MetaRule::GroupModelNmr(g) => group(&GROUP_MODEL_NMR_LABELS, g),
            MetaRule::GaussianModel => "GaussianModel (v1.0)",
            MetaRule::GaussianCoreWithTopicsModel => "GaussianCoreWithTopicsModel (v1.0)",
            MetaRule::TopicModel(t) => match t {
                Topic::UkraineConflict => "TopicModel01 (v1.0)",
                Topic::GazaConflict => "TopicModel02 (v1.0)",
                Topic::MessiRonaldo => "TopicModel03 (v1.0)",
                Topic::Scams => "TopicModel04 (v1.0)",
                Topic::InDimensionTwo => "TopicModel05 (v1.0)",
            },
            MetaRule::PopulationSampledIntercept => "PopulationSampledIntercept (v1.0)",
            MetaRule::NmrDueToMinStableCrhTime => "NmrDueToMinStableCrhTime (v1.0)",
            MetaRule::ScoringDriftGuard => "ScoringDriftGuard (v1.0)",
            MetaRule::InsufficientExplanation => "InsufficientExplanation (v1.0)",
        }
    }

    /// Whether a note decided by this rule gets locked once it is old enough (`lockingEnabled`
    /// in the reference's `RuleID`): the model rules with global display impact and
    /// InsufficientExplanation, not the initial rule, ExpansionPlus, the topic rules or the
    /// stabilization, drift-guard and population-sampled rules.
    pub fn locking_enabled(self) -> bool {
        match self {
            MetaRule::ExpansionModel
            | MetaRule::CoreModel
            | MetaRule::CoreWithTopicsModel
            | MetaRule::MultiGroupModel01
            | MetaRule::GroupModel(_)
            | MetaRule::GroupModelNmr(_)
            | MetaRule::GaussianModel
            | MetaRule::GaussianCoreWithTopicsModel
            | MetaRule::InsufficientExplanation => true,
            MetaRule::MetaInitialNmr
            | MetaRule::ExpansionPlusModel
            | MetaRule::TopicModel(_)
            | MetaRule::PopulationSampledIntercept
            | MetaRule::NmrDueToMinStableCrhTime
            | MetaRule::ScoringDriftGuard => false,
        }
    }

    /// Every meta rule id: the chain plus `GroupModel15` and `GroupModel18`, which have ids
    /// (and lock) but no rule in the chain.
    pub fn all() -> impl Iterator<Item = MetaRule> {
        MetaRule::CHAIN
            .into_iter()
            .chain([MetaRule::GroupModel(15), MetaRule::GroupModel(18)])
    }

    /// The rule whose [`label`](Self::label) is `label` (e.g. a history row's
    /// `currentDecidedBy`); `None` for other text (including per-scorer rule names and the
    /// unused `CoverageModel (v1.1)`).
    pub fn from_label(label: &str) -> Option<MetaRule> {
        MetaRule::all().find(|r| r.label() == label)
    }
}

/// A model's result for a note: its status (the model's raw `*RatingStatus`, which may be
/// FIRM_REJECT or NEEDS_YOUR_HELP) and intercept; `None` where the model did not run or did
/// not score the note.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelResult {
    pub status: Option<NoteStatus>,
    pub intercept: Option<f64>,
}

impl ModelResult {
    /// A result with a status and an intercept.
    pub fn new(status: NoteStatus, intercept: f64) -> Self {
        ModelResult {
            status: Some(status),
            intercept: Some(intercept),
        }
    }
}

/// The topic model's result for a note (the coalesced topic columns).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TopicResult {
    pub status: Option<NoteStatus>,
    pub intercept: Option<f64>,
    pub factor: Option<f64>,
    /// `noteTopic`.
    pub topic: Option<Topic>,
    /// `topicNoteConfident`.
    pub confident: Option<bool>,
}

/// The core model's population-sampled fit of a note.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PopulationSampled {
    /// `coreNoteInterceptPopulationSampled`.
    pub intercept: Option<f64>,
    /// Population-sampled ratings from raters with a negative core factor (missing → 0).
    pub negative: u32,
    /// … with a non-negative core factor (missing → 0).
    pub positive: u32,
}

/// Everything the models said about one note. Fill what was computed; the rest stays
/// `None` and the rules that read it never act.
///
/// Only the core and expansion intercepts are read by the meta rules (the group safeguards
/// and PopulationSampledIntercept); the other intercepts are carried for completeness.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelResults {
    pub core: ModelResult,
    pub core_with_topics: ModelResult,
    pub expansion: ModelResult,
    pub expansion_plus: ModelResult,
    /// The multi-group model (`multiGroupRatingStatus`).
    pub multi_group: ModelResult,
    /// `modelingMultiGroup`: the multi-group scorer that scored the note.
    pub modeling_multi_group: Option<u32>,
    /// The coalesced group models (`groupRatingStatus`, from MF groups 1–14, 18, 33 and the
    /// Gaussian group 15).
    pub group: ModelResult,
    /// `modelingGroup`: the group scorer that scored the note.
    pub modeling_group: Option<u32>,
    pub gaussian: ModelResult,
    pub gaussian_core_with_topics: ModelResult,
    pub topic: TopicResult,
    pub core_population_sampled: PopulationSampled,
}

impl ModelResults {
    /// "Blocked": core says FIRM_REJECT or CRNH, or there is no core status and expansion
    /// says FIRM_REJECT or CRNH. Blocked notes cannot be promoted to CRH/NYH by the
    /// multi-group, group or Gaussian rules.
    pub fn blocked(&self) -> bool {
        let rejects =
            |s: Option<NoteStatus>| matches!(s, Some(FirmReject | CurrentlyRatedNotHelpful));
        rejects(self.core.status) || (self.core.status.is_none() && rejects(self.expansion.status))
    }
}

/// The flip model's prediction for a note in stabilization (`LABEL` of `pflip_plus_model`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PflipLabel {
    /// Predicted to stay helpful.
    Crh,
    /// Predicted to flip.
    Flip,
}

/// What meta-scoring decided for a note.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaOutcome {
    /// `finalRatingStatus`.
    pub status: NoteStatus,
    /// The rules that acted, in order (never empty: MetaInitialNMR acts on every note).
    pub active_rules: Vec<MetaRule>,
    /// `firstTag`, `secondTag`: explanation tags (CRH/CRNH notes with enough tags).
    pub first_tag: Option<&'static str>,
    pub second_tag: Option<&'static str>,
    /// `unlockedRatingStatus`: the status ScoringDriftGuard replaced by the locked one.
    pub unlocked_status: Option<NoteStatus>,
    /// `preStabilizationRatingStatus`: the status before NmrDueToMinStableCrhTime.
    pub pre_stabilization_status: NoteStatus,
    /// `updatedTimestampMillisOfNmrDueToMinStableCrhTime` (t'): the new stabilization
    /// timestamp, `None` where NmrDueToMinStableCrhTime leaves it alone.
    pub stabilization_timestamp: Option<f64>,
}

impl MetaOutcome {
    /// `decidedBy`: the last rule that acted.
    pub fn decided_by(&self) -> MetaRule {
        *self
            .active_rules
            .last()
            .expect("MetaInitialNMR acts on every note")
    }

    /// `metaScorerActiveRules`: the labels joined by `,`.
    pub fn active_rules_text(&self) -> String {
        self.active_rules
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `crhBool`.
    pub fn crh_bool(&self) -> bool {
        self.status == CurrentlyRatedHelpful
    }

    /// `crnhBool`.
    pub fn crnh_bool(&self) -> bool {
        self.status == CurrentlyRatedNotHelpful
    }

    /// `awaitingBool` (NEEDS_MORE_RATINGS only; NYH counts as none of the three).
    pub fn awaiting_bool(&self) -> bool {
        self.status == NeedsMoreRatings
    }
}

/// The running label and the rules that acted.
struct Chain {
    status: NoteStatus,
    rules: Vec<MetaRule>,
}

impl Chain {
    fn set(&mut self, rule: MetaRule, status: NoteStatus) {
        self.rules.push(rule);
        self.status = status;
    }

    fn is(&self, statuses: &[NoteStatus]) -> bool {
        statuses.contains(&self.status)
    }
}

/// Statuses copied from a sub-model: FIRM_REJECT is exported as NEEDS_MORE_RATINGS.
fn exported(status: NoteStatus) -> NoteStatus {
    if status == FirmReject {
        NeedsMoreRatings
    } else {
        status
    }
}

/// Meta-scores one note (rules.md §4): runs [`MetaRule::CHAIN`] on its model results.
///
/// * `history`: the note's row of the input status history (for a new note, a row with only
///   id, author and creation time). Read: `currentStatus`,
///   `timestampMillisOfNmrDueToMinStableCrhTime` and `firstNonNMRStatus`
///   (NmrDueToMinStableCrhTime), `lockedStatus` (ScoringDriftGuard).
/// * `tags`: the note's tag counts over all ratings after post-selection-similarity
///   filtering (explanation tags, InsufficientExplanation).
/// * `pflip`: the flip model's label; `None` (no prediction) counts as "not CRH", which keeps
///   a note in stabilization.
/// * `now_millis`: the scoring time (`c.epochMillis`).
pub fn meta_score(
    models: &ModelResults,
    history: &StatusHistoryRow,
    tags: &TagCounts,
    pflip: Option<PflipLabel>,
    now_millis: i64,
) -> MetaOutcome {
    let blocked = models.blocked();
    let mut chain = Chain {
        status: NeedsMoreRatings,
        rules: vec![MetaRule::MetaInitialNmr],
    };

    // Rules 2–5: the broad models, lowest priority first.
    for (rule, result) in [
        (MetaRule::ExpansionPlusModel, &models.expansion_plus),
        (MetaRule::ExpansionModel, &models.expansion),
        (MetaRule::CoreWithTopicsModel, &models.core_with_topics),
        (MetaRule::CoreModel, &models.core),
    ] {
        if let Some(s) = result.status {
            chain.set(rule, exported(s));
        }
    }

    // Rule 6: the multi-group model may overwrite any label (rules.md §9.3), but cannot
    // promote a blocked note.
    if models.modeling_multi_group == Some(1)
        && let Some(s) = models.multi_group.status
        && !(blocked && matches!(s, CurrentlyRatedHelpful | NeedsYourHelp))
    {
        chain.set(MetaRule::MultiGroupModel01, exported(s));
    }

    // Rules 7–9: group models promote NMR/NYH notes within intercept safeguards. The
    // bounds are open (rules.md §9.2: the docs say [0.3, 0.4]; the code uses > and <).
    for g in 1..=GROUP_SCORER_COUNT {
        let (min, max) = if g == TRIAL_SCORING_GROUP {
            (TRIAL_GROUP_MIN_SAFEGUARD, None)
        } else {
            (
                GROUP_MIN_SAFEGUARD,
                Some((CORE_CRH_THRESHOLD, EXPANSION_CRH_THRESHOLD)),
            )
        };
        group_rule(&mut chain, models, blocked, g, min, max);
    }
    group_rule(
        &mut chain,
        models,
        blocked,
        NMR_SCORING_GROUP,
        TRIAL_GROUP_MIN_SAFEGUARD,
        None,
    );

    // Rule 10: groups that can only demote.
    for g in [
        NMR_SCORING_GROUP,
        NMR_TRIAL_SCORING_GROUP,
        NMR_GAUSS_GROUP_SCORING_GROUP,
    ] {
        if models.modeling_group == Some(g as u32)
            && matches!(
                models.group.status,
                Some(NeedsMoreRatings | CurrentlyRatedNotHelpful)
            )
            && chain.is(&[CurrentlyRatedHelpful, NeedsYourHelp])
        {
            chain.set(MetaRule::GroupModelNmr(g), NeedsMoreRatings);
        }
    }

    // Rules 11–12: Gaussian models expand coverage (CRH/NYH unless blocked, and CRNH).
    for (rule, result) in [
        (MetaRule::GaussianModel, &models.gaussian),
        (
            MetaRule::GaussianCoreWithTopicsModel,
            &models.gaussian_core_with_topics,
        ),
    ] {
        let Some(s) = result.status else { continue };
        let candidate = match s {
            CurrentlyRatedHelpful | NeedsYourHelp => !blocked,
            CurrentlyRatedNotHelpful => true,
            _ => false,
        };
        if candidate
            && chain.is(&[NeedsMoreRatings, NeedsYourHelp])
            && !(s == NeedsYourHelp && chain.status == NeedsYourHelp)
        {
            chain.set(rule, s);
        }
    }

    // Rule 13: topic models demote CRH/NYH notes they are confident are weak.
    let topic = &models.topic;
    for t in TOPICS {
        let (intercept_max, factor_max) = if t == Topic::InDimensionTwo {
            IN_DIMENSION_TWO_THRESHOLDS
        } else {
            TOPIC_THRESHOLDS
        };
        let weak = topic.intercept.is_some_and(|i| i < intercept_max)
            || topic.factor.is_some_and(|f| f.abs() > factor_max);
        if chain.is(&[CurrentlyRatedHelpful, NeedsYourHelp])
            && topic.confident == Some(true)
            && topic.topic == Some(t)
            && weak
        {
            chain.set(MetaRule::TopicModel(t), NeedsMoreRatings);
        }
    }

    // Rule 14: the population-sampled fit disagrees with the core fit.
    let pop = &models.core_population_sampled;
    if chain.status == CurrentlyRatedHelpful
        && let (Some(core), Some(sampled)) = (models.core.intercept, pop.intercept)
        && pop.negative + pop.positive >= MIN_POPULATION_SAMPLED_RATINGS
        && pop.negative >= MIN_PER_SIGN_POPULATION_SAMPLED_RATINGS
        && pop.positive >= MIN_PER_SIGN_POPULATION_SAMPLED_RATINGS
        && sampled < MAX_POPULATION_SAMPLED_INTERCEPT
        && core - sampled >= POPULATION_SAMPLED_DIVERGENCE
    {
        chain.set(MetaRule::PopulationSampledIntercept, NeedsMoreRatings);
    }

    // Rule 15.
    let pre_stabilization_status = chain.status;
    let stabilization = stabilize(chain.status, models, history, pflip, now_millis);
    if let Some(status) = stabilization.status {
        chain.set(MetaRule::NmrDueToMinStableCrhTime, status);
    }

    // Rule 16: a locked status wins, unless it is already the label.
    let mut unlocked_status = None;
    if let Some(locked) = history.locked_status
        && locked != chain.status
    {
        unlocked_status = Some(chain.status);
        chain.set(MetaRule::ScoringDriftGuard, locked);
    }

    // Rule 17: explanation tags; CRH/CRNH without two tags become NMR, locked or not
    // (rules.md §9.1).
    let explanation = explanation_tags(chain.status, tags, &ExplanationParams::default());
    if explanation.insufficient {
        chain.set(MetaRule::InsufficientExplanation, NeedsMoreRatings);
    }

    MetaOutcome {
        status: chain.status,
        active_rules: chain.rules,
        first_tag: explanation.first_tag,
        second_tag: explanation.second_tag,
        unlocked_status,
        pre_stabilization_status,
        stabilization_timestamp: stabilization.timestamp,
    }
}

/// `GroupModelNN` (rules 7–9): a group model's CRH/NYH becomes the label of an NMR/NYH note
/// (not NYH → NYH) that is not blocked, when the core intercept — or, without one, the
/// expansion intercept — lies in (min, max) (no upper bound when `max` is `None`; `max`
/// holds the core and the expansion bound).
fn group_rule(
    chain: &mut Chain,
    models: &ModelResults,
    blocked: bool,
    g: u8,
    min: f64,
    max: Option<(f64, f64)>,
) {
    let Some(s) = models.group.status else { return };
    let within = |intercept: Option<f64>, upper: Option<f64>| {
        intercept.map(|i| i > min && upper.is_none_or(|u| i < u))
    };
    let actionable = within(models.core.intercept, max.map(|m| m.0))
        .or_else(|| within(models.expansion.intercept, max.map(|m| m.1)))
        .unwrap_or(false);
    if !blocked
        && models.modeling_group == Some(g as u32)
        && matches!(s, CurrentlyRatedHelpful | NeedsYourHelp)
        && chain.is(&[NeedsMoreRatings, NeedsYourHelp])
        && !(s == NeedsYourHelp && chain.status == NeedsYourHelp)
        && actionable
    {
        chain.set(MetaRule::GroupModel(g), s);
    }
}

/// What NmrDueToMinStableCrhTime decided for a note.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stabilization {
    /// The new label, where the rule acts (changes it, or turns NYH back to CRH).
    status: Option<NoteStatus>,
    /// t', where the rule sets it.
    timestamp: Option<f64>,
}

/// NmrDueToMinStableCrhTime (rules.md §5): a note that was not CRH before and is going CRH
/// (or NYH) first spends a stabilization period as NMR.
fn stabilize(
    current: NoteStatus,
    models: &ModelResults,
    history: &StatusHistoryRow,
    pflip: Option<PflipLabel>,
    now_millis: i64,
) -> Stabilization {
    const MINUTE: f64 = 60.0 * 1000.0;
    // Notes that were CRH stay CRH: only NYH is turned back, and t is left alone.
    if history.current_status == Some(CurrentlyRatedHelpful) {
        return Stabilization {
            status: (current == NeedsYourHelp).then_some(CurrentlyRatedHelpful),
            timestamp: None,
        };
    }
    let t = history.timestamp_millis_of_nmr_due_to_min_stable_crh_time;
    let going = matches!(current, CurrentlyRatedHelpful | NeedsYourHelp);
    let in_stabilization = t.is_some_and(|t| t > 0.0);
    if !going && !in_stabilization {
        return Stabilization::default();
    }
    let now = now_millis as f64;
    let (new, timestamp): (Option<NoteStatus>, Option<f64>) = match t {
        // Not going CRH/NYH but in stabilization: leave it, status unchanged.
        Some(_) if !going => (None, Some(-1.0)),
        // Never in stabilization: enter.
        None => (Some(NeedsMoreRatings), Some(now)),
        // Left a stabilization period before: CRH re-enters, NYH stays NMR without one.
        Some(t) if t < 0.0 => match current {
            CurrentlyRatedHelpful => (Some(NeedsMoreRatings), Some(now)),
            _ => (Some(NeedsMoreRatings), Some(t)),
        },
        Some(t) if t > 0.0 => {
            let age = now - t;
            if current == CurrentlyRatedHelpful && age > MAX_STABLE_CRH_MINUTES as f64 * MINUTE {
                (Some(CurrentlyRatedHelpful), Some(-1.0))
            } else if current == NeedsYourHelp && age > MAX_NYH_MINUTES as f64 * MINUTE {
                (Some(NeedsMoreRatings), Some(-1.0))
            } else {
                // Stays in stabilization (as NMR) while any of these holds; else a CRH note
                // leaves as CRH.
                let too_young = age < REQUIRED_STABLE_CRH_MINUTES as f64 * MINUTE;
                let topic_unconfident =
                    models.topic.topic.is_some() && models.topic.confident == Some(false);
                let may_flip = history.first_non_nmr_status == Some(CurrentlyRatedHelpful)
                    || pflip != Some(PflipLabel::Crh);
                if too_young || topic_unconfident || may_flip || current == NeedsYourHelp {
                    (Some(NeedsMoreRatings), Some(t))
                } else {
                    (Some(CurrentlyRatedHelpful), Some(-1.0))
                }
            }
        }
        // t = 0 (never written by the reference): no case applies; t' = t and the label,
        // NYH included, stays (rules.md §4 "NYH survives only if the timestamp is 0").
        Some(t) => (None, Some(t)),
    };
    Stabilization {
        status: new.filter(|&s| s != current),
        timestamp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_132_800_000;
    const MIN: f64 = 60_000.0;

    fn tags_for_two() -> TagCounts {
        let mut t = TagCounts::default();
        t.helpful[1] = 3; // helpfulInformative
        t.helpful[2] = 2; // helpfulClear
        t.not_helpful[1] = 4; // notHelpfulIncorrect
        t.not_helpful[5] = 2; // notHelpfulOutdated
        t
    }

    /// A note that was CRH before, so stabilization leaves CRH alone.
    fn crh_history() -> StatusHistoryRow {
        StatusHistoryRow {
            current_status: Some(CurrentlyRatedHelpful),
            ..StatusHistoryRow::default()
        }
    }

    fn score(models: &ModelResults, history: &StatusHistoryRow) -> MetaOutcome {
        meta_score(models, history, &tags_for_two(), None, NOW)
    }

    fn core(status: NoteStatus, intercept: f64) -> ModelResults {
        ModelResults {
            core: ModelResult::new(status, intercept),
            ..ModelResults::default()
        }
    }

    #[test]
    fn meta_rule_labels_and_locking() {
        assert_eq!(MetaRule::GroupModel(1).label(), "GroupModel01 (v1.1)");
        assert_eq!(
            MetaRule::GroupModelNmr(33).label(),
            "GroupModel33NMR (v1.1)"
        );
        assert_eq!(
            MetaRule::TopicModel(Topic::InDimensionTwo).label(),
            "TopicModel05 (v1.0)"
        );
        assert_eq!(MetaRule::MetaInitialNmr.label(), "MetaInitialNMR (v1.0)");
        assert_eq!(MetaRule::CHAIN.len(), 35);
        for r in MetaRule::all() {
            assert_eq!(MetaRule::from_label(r.label()), Some(r));
        }
        assert_eq!(MetaRule::from_label("CoverageModel (v1.1)"), None);
        let locking: Vec<&str> = MetaRule::all()
            .filter(|r| r.locking_enabled())
            .map(MetaRule::label)
            .collect();
        assert!(locking.contains(&"GroupModel15 (v1.1)"));
        assert!(locking.contains(&"GroupModel18NMR (v1.1)"));
        assert!(locking.contains(&"InsufficientExplanation (v1.0)"));
        assert!(!MetaRule::ExpansionPlusModel.locking_enabled());
        assert!(!MetaRule::TopicModel(Topic::Scams).locking_enabled());
        assert!(!MetaRule::ScoringDriftGuard.locking_enabled());
    }

    #[test]
    fn meta_no_models_is_initial_nmr() {
        let o = score(&ModelResults::default(), &StatusHistoryRow::default());
        assert_eq!(o.status, NeedsMoreRatings);
        assert_eq!(o.active_rules_text(), "MetaInitialNMR (v1.0)");
        assert_eq!(o.decided_by(), MetaRule::MetaInitialNmr);
        assert!(o.awaiting_bool() && !o.crh_bool() && !o.crnh_bool());
        assert_eq!(o.stabilization_timestamp, None);
        assert_eq!(o.pre_stabilization_status, NeedsMoreRatings);
    }

    #[test]
    fn meta_model_priority_and_firm_reject_mapping() {
        let m = ModelResults {
            expansion_plus: ModelResult::new(CurrentlyRatedNotHelpful, -0.2),
            expansion: ModelResult::new(FirmReject, 0.1),
            ..ModelResults::default()
        };
        let o = score(&m, &crh_history());
        // FIRM_REJECT is exported as NMR; the later model wins and both are recorded.
        assert_eq!(o.status, NeedsMoreRatings);
        assert_eq!(
            o.active_rules_text(),
            "MetaInitialNMR (v1.0),ExpansionPlusModel (v1.1),ExpansionModel (v1.1)"
        );
        let mut m = core(CurrentlyRatedNotHelpful, -0.2);
        m.core_with_topics = ModelResult::new(CurrentlyRatedHelpful, 0.5);
        let o = score(&m, &crh_history());
        assert_eq!(o.status, CurrentlyRatedNotHelpful);
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
        assert_eq!(o.first_tag, Some("notHelpfulIncorrect"));
        assert_eq!(o.second_tag, Some("notHelpfulOutdated"));
        assert!(o.crnh_bool());
    }

    #[test]
    fn meta_multi_group_blocked_and_overwriting() {
        let mut m = core(FirmReject, 0.1);
        m.multi_group = ModelResult::new(CurrentlyRatedHelpful, 0.5);
        m.modeling_multi_group = Some(1);
        // Blocked: the multi-group CRH does not apply.
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        // Not the multi-group scorer 1: no effect.
        m.core = ModelResult::new(NeedsMoreRatings, 0.35);
        m.modeling_multi_group = Some(2);
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        m.modeling_multi_group = Some(1);
        let o = score(&m, &crh_history());
        assert_eq!(o.status, CurrentlyRatedHelpful);
        assert_eq!(o.decided_by(), MetaRule::MultiGroupModel01);
        // It can also take a core CRH down to NMR (rules.md §9.3), and CRNH passes a block.
        let mut m = core(CurrentlyRatedHelpful, 0.45);
        m.multi_group = ModelResult::new(NeedsMoreRatings, 0.1);
        m.modeling_multi_group = Some(1);
        assert_eq!(score(&m, &crh_history()).status, NeedsMoreRatings);
        let mut m = core(FirmReject, 0.1);
        m.multi_group = ModelResult::new(CurrentlyRatedNotHelpful, -0.1);
        m.modeling_multi_group = Some(1);
        assert_eq!(score(&m, &crh_history()).status, CurrentlyRatedNotHelpful);
    }

    fn group(core_status: NoteStatus, core_intercept: f64, g: u32, s: NoteStatus) -> ModelResults {
        let mut m = core(core_status, core_intercept);
        m.group = ModelResult::new(s, 0.5);
        m.modeling_group = Some(g);
        m
    }

    #[test]
    fn meta_group_rules_safeguards() {
        // Within (0.3, 0.4): group 5 promotes.
        let o = score(
            &group(NeedsMoreRatings, 0.35, 5, CurrentlyRatedHelpful),
            &crh_history(),
        );
        assert_eq!(o.status, CurrentlyRatedHelpful);
        assert_eq!(o.decided_by(), MetaRule::GroupModel(5));
        // Bounds are open.
        for i in [0.3, 0.4, 0.29, 0.45] {
            let o = score(
                &group(NeedsMoreRatings, i, 5, CurrentlyRatedHelpful),
                &crh_history(),
            );
            assert_eq!(o.decided_by(), MetaRule::CoreModel, "core intercept {i}");
        }
        // Groups 14 and 33: above 0.25, no cap.
        for g in [14, 33] {
            let o = score(
                &group(NeedsMoreRatings, 0.9, g, CurrentlyRatedHelpful),
                &crh_history(),
            );
            assert_eq!(o.decided_by(), MetaRule::GroupModel(g as u8));
            let o = score(
                &group(NeedsMoreRatings, 0.25, g, CurrentlyRatedHelpful),
                &crh_history(),
            );
            assert_eq!(o.decided_by(), MetaRule::CoreModel);
        }
        // Blocked notes are never promoted, even inside the bounds.
        let o = score(
            &group(FirmReject, 0.35, 5, CurrentlyRatedHelpful),
            &crh_history(),
        );
        assert_eq!(o.status, NeedsMoreRatings);
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
        // Without core, expansion blocks and expansion's intercept decides.
        let mut m = group(NeedsMoreRatings, 0.35, 5, CurrentlyRatedHelpful);
        m.core = ModelResult::default();
        m.expansion = ModelResult::new(CurrentlyRatedNotHelpful, 0.35);
        assert_eq!(
            score(&m, &crh_history()).decided_by(),
            MetaRule::ExpansionModel
        );
        m.expansion = ModelResult::new(NeedsMoreRatings, 0.35);
        assert_eq!(
            score(&m, &crh_history()).decided_by(),
            MetaRule::GroupModel(5)
        );
        m.expansion.intercept = Some(0.5);
        assert_eq!(
            score(&m, &crh_history()).decided_by(),
            MetaRule::ExpansionModel
        );
        // Neither intercept: not actionable.
        m.expansion.intercept = None;
        assert_eq!(
            score(&m, &crh_history()).decided_by(),
            MetaRule::ExpansionModel
        );
        // NYH → NYH is not a transition; NYH → CRH is.
        let o = score(
            &group(NeedsYourHelp, 0.35, 5, NeedsYourHelp),
            &crh_history(),
        );
        assert!(!o.active_rules.contains(&MetaRule::GroupModel(5)));
        let o = score(
            &group(NeedsYourHelp, 0.35, 5, CurrentlyRatedHelpful),
            &crh_history(),
        );
        assert_eq!(o.decided_by(), MetaRule::GroupModel(5));
        // A CRH label is not touched by the promoting rules.
        let o = score(
            &group(CurrentlyRatedHelpful, 0.45, 14, NeedsYourHelp),
            &crh_history(),
        );
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
        // Group 18 has no promoting rule.
        let o = score(
            &group(NeedsMoreRatings, 0.35, 18, CurrentlyRatedHelpful),
            &crh_history(),
        );
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
    }

    #[test]
    fn meta_nmr_group_rules_demote() {
        for g in [15, 18, 33] {
            let o = score(
                &group(CurrentlyRatedHelpful, 0.45, g, NeedsMoreRatings),
                &crh_history(),
            );
            assert_eq!(o.status, NeedsMoreRatings);
            assert_eq!(o.decided_by(), MetaRule::GroupModelNmr(g as u8));
            let o = score(
                &group(NeedsYourHelp, 0.45, g, CurrentlyRatedNotHelpful),
                &crh_history(),
            );
            // NYH demoted to NMR, then stabilization does nothing for NMR.
            assert_eq!(o.decided_by(), MetaRule::GroupModelNmr(g as u8));
        }
        // Other groups and NMR labels are left alone.
        let o = score(
            &group(CurrentlyRatedHelpful, 0.45, 5, NeedsMoreRatings),
            &crh_history(),
        );
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
        let o = score(
            &group(NeedsMoreRatings, 0.2, 33, NeedsMoreRatings),
            &crh_history(),
        );
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
    }

    #[test]
    fn meta_gaussian_rules() {
        let mut m = core(NeedsMoreRatings, 0.2);
        m.gaussian = ModelResult::new(CurrentlyRatedHelpful, 0.6);
        let o = score(&m, &crh_history());
        assert_eq!(o.decided_by(), MetaRule::GaussianModel);
        assert_eq!(o.status, CurrentlyRatedHelpful);
        // No intercept safeguard, but the block applies to CRH ...
        m.core = ModelResult::new(FirmReject, 0.1);
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        // ... and not to CRNH.
        m.gaussian = ModelResult::new(CurrentlyRatedNotHelpful, -0.6);
        let o = score(&m, &crh_history());
        assert_eq!(o.decided_by(), MetaRule::GaussianModel);
        assert_eq!(o.status, CurrentlyRatedNotHelpful);
        // Only NMR/NYH labels change; CWT follows when Gaussian did not act.
        let mut m = core(CurrentlyRatedHelpful, 0.45);
        m.gaussian_core_with_topics = ModelResult::new(CurrentlyRatedNotHelpful, -0.6);
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        let mut m = core(NeedsYourHelp, 0.45);
        m.gaussian = ModelResult::new(NeedsYourHelp, 0.5);
        m.gaussian_core_with_topics = ModelResult::new(CurrentlyRatedHelpful, 0.6);
        let o = score(&m, &crh_history());
        assert_eq!(o.decided_by(), MetaRule::GaussianCoreWithTopicsModel);
    }

    #[test]
    fn meta_topic_rules() {
        let mut m = core(CurrentlyRatedHelpful, 0.45);
        m.topic = TopicResult {
            status: Some(NeedsMoreRatings),
            intercept: Some(0.2),
            factor: Some(0.1),
            topic: Some(Topic::Scams),
            confident: Some(true),
        };
        let o = score(&m, &crh_history());
        assert_eq!(o.status, NeedsMoreRatings);
        assert_eq!(o.decided_by(), MetaRule::TopicModel(Topic::Scams));
        // Not confident, or intercept high and factor small: no effect.
        m.topic.confident = Some(false);
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        m.topic.confident = Some(true);
        m.topic.intercept = Some(0.3);
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        m.topic.factor = Some(-0.6);
        assert_eq!(
            score(&m, &crh_history()).decided_by(),
            MetaRule::TopicModel(Topic::Scams)
        );
        // InDimensionTwo has its own thresholds: 0.51 and 1.0.
        m.topic.topic = Some(Topic::InDimensionTwo);
        m.topic.intercept = Some(0.6);
        assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        m.topic.intercept = Some(0.5);
        assert_eq!(
            score(&m, &crh_history()).decided_by(),
            MetaRule::TopicModel(Topic::InDimensionTwo)
        );
    }

    #[test]
    fn meta_population_sampled_intercept() {
        let mut m = core(CurrentlyRatedHelpful, 0.45);
        m.core_population_sampled = PopulationSampled {
            intercept: Some(0.29),
            negative: 4,
            positive: 4,
        };
        let o = score(&m, &crh_history());
        assert_eq!(o.decided_by(), MetaRule::PopulationSampledIntercept);
        assert_eq!(o.status, NeedsMoreRatings);
        // Divergence below 0.15, too few ratings, one side short, intercept too high.
        for (i, neg, pos, core_i) in [
            (0.29, 4, 4, 0.43),
            (0.29, 3, 4, 0.45),
            (0.29, 1, 9, 0.45),
            (0.30, 4, 4, 0.50),
        ] {
            m.core.intercept = Some(core_i);
            m.core_population_sampled = PopulationSampled {
                intercept: Some(i),
                negative: neg,
                positive: pos,
            };
            assert_eq!(score(&m, &crh_history()).decided_by(), MetaRule::CoreModel);
        }
    }

    fn stabilizing(t: Option<f64>, first: Option<NoteStatus>) -> StatusHistoryRow {
        StatusHistoryRow {
            current_status: Some(NeedsMoreRatings),
            timestamp_millis_of_nmr_due_to_min_stable_crh_time: t,
            first_non_nmr_status: first,
            ..StatusHistoryRow::default()
        }
    }

    fn stab(
        status: NoteStatus,
        history: &StatusHistoryRow,
        pflip: Option<PflipLabel>,
    ) -> (NoteStatus, Option<f64>, bool) {
        let o = meta_score(&core(status, 0.45), history, &tags_for_two(), pflip, NOW);
        assert_eq!(o.pre_stabilization_status, status);
        let acted = o.active_rules.contains(&MetaRule::NmrDueToMinStableCrhTime);
        (o.status, o.stabilization_timestamp, acted)
    }

    #[test]
    fn meta_stabilization_previously_crh_nyh_back_to_crh() {
        let (s, t, acted) = stab(NeedsYourHelp, &crh_history(), None);
        assert_eq!((s, t, acted), (CurrentlyRatedHelpful, None, true));
        let (s, t, acted) = stab(CurrentlyRatedHelpful, &crh_history(), None);
        assert_eq!((s, t, acted), (CurrentlyRatedHelpful, None, false));
        // Even with a timestamp, a previously-CRH note keeps it.
        let mut h = crh_history();
        h.timestamp_millis_of_nmr_due_to_min_stable_crh_time = Some(NOW as f64 - MIN);
        assert_eq!(stab(CurrentlyRatedHelpful, &h, None).1, None);
    }

    #[test]
    fn meta_stabilization_entering_and_reentering() {
        let now = NOW as f64;
        // Never in stabilization.
        assert_eq!(
            stab(CurrentlyRatedHelpful, &stabilizing(None, None), None),
            (NeedsMoreRatings, Some(now), true)
        );
        assert_eq!(
            stab(NeedsYourHelp, &stabilizing(None, None), None),
            (NeedsMoreRatings, Some(now), true)
        );
        // Left before: CRH re-enters, NYH is NMR and keeps -1.
        assert_eq!(
            stab(CurrentlyRatedHelpful, &stabilizing(Some(-1.0), None), None),
            (NeedsMoreRatings, Some(now), true)
        );
        assert_eq!(
            stab(NeedsYourHelp, &stabilizing(Some(-1.0), None), None),
            (NeedsMoreRatings, Some(-1.0), true)
        );
        // NMR/CRNH notes outside stabilization: untouched.
        assert_eq!(
            stab(NeedsMoreRatings, &stabilizing(Some(-1.0), None), None),
            (NeedsMoreRatings, None, false)
        );
        assert_eq!(
            stab(CurrentlyRatedNotHelpful, &stabilizing(None, None), None),
            (CurrentlyRatedNotHelpful, None, false)
        );
        // t = 0: nothing applies and NYH survives.
        assert_eq!(
            stab(NeedsYourHelp, &stabilizing(Some(0.0), None), None),
            (NeedsYourHelp, Some(0.0), false)
        );
    }

    #[test]
    fn meta_stabilization_in_progress() {
        let now = NOW as f64;
        let crh = Some(PflipLabel::Crh);
        let at = |minutes: f64| Some(now - minutes * MIN);
        // Too long: CRH leaves as CRH, NYH leaves as NMR.
        assert_eq!(
            stab(CurrentlyRatedHelpful, &stabilizing(at(61.0), None), None),
            (CurrentlyRatedHelpful, Some(-1.0), false)
        );
        assert_eq!(
            stab(NeedsYourHelp, &stabilizing(at(361.0), None), crh),
            (NeedsMoreRatings, Some(-1.0), true)
        );
        // NYH between 60 and 360 minutes stays.
        assert_eq!(
            stab(NeedsYourHelp, &stabilizing(at(100.0), None), crh),
            (NeedsMoreRatings, at(100.0), true)
        );
        // Too short.
        assert_eq!(
            stab(CurrentlyRatedHelpful, &stabilizing(at(29.0), None), crh),
            (NeedsMoreRatings, at(29.0), true)
        );
        // Between 30 and 60 minutes: the flip label and history decide.
        assert_eq!(
            stab(CurrentlyRatedHelpful, &stabilizing(at(45.0), None), crh),
            (CurrentlyRatedHelpful, Some(-1.0), false)
        );
        assert_eq!(
            stab(CurrentlyRatedHelpful, &stabilizing(at(45.0), None), None),
            (NeedsMoreRatings, at(45.0), true)
        );
        assert_eq!(
            stab(
                CurrentlyRatedHelpful,
                &stabilizing(at(45.0), None),
                Some(PflipLabel::Flip)
            ),
            (NeedsMoreRatings, at(45.0), true)
        );
        assert_eq!(
            stab(
                CurrentlyRatedHelpful,
                &stabilizing(at(45.0), Some(CurrentlyRatedHelpful)),
                crh
            ),
            (NeedsMoreRatings, at(45.0), true)
        );
        // A past CRNH is no flip.
        assert_eq!(
            stab(
                CurrentlyRatedHelpful,
                &stabilizing(at(45.0), Some(CurrentlyRatedNotHelpful)),
                crh
            ),
            (CurrentlyRatedHelpful, Some(-1.0), false)
        );
        // Leaving by becoming NMR/CRNH clears t.
        assert_eq!(
            stab(CurrentlyRatedNotHelpful, &stabilizing(at(45.0), None), crh),
            (CurrentlyRatedNotHelpful, Some(-1.0), false)
        );
        // An unconfident topic model keeps the note in stabilization.
        let mut m = core(CurrentlyRatedHelpful, 0.45);
        m.topic.topic = Some(Topic::GazaConflict);
        m.topic.confident = Some(false);
        let o = meta_score(&m, &stabilizing(at(45.0), None), &tags_for_two(), crh, NOW);
        assert_eq!(
            (o.status, o.stabilization_timestamp),
            (NeedsMoreRatings, at(45.0))
        );
        m.topic.confident = None;
        let o = meta_score(&m, &stabilizing(at(45.0), None), &tags_for_two(), crh, NOW);
        assert_eq!(o.status, CurrentlyRatedHelpful);
    }

    #[test]
    fn meta_drift_guard_only_when_locked_status_differs() {
        let mut h = crh_history();
        h.locked_status = Some(CurrentlyRatedHelpful);
        let o = score(&core(CurrentlyRatedHelpful, 0.45), &h);
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
        assert_eq!(o.unlocked_status, None);
        let o = score(&core(FirmReject, 0.1), &h);
        assert_eq!(o.status, CurrentlyRatedHelpful);
        assert_eq!(o.decided_by(), MetaRule::ScoringDriftGuard);
        assert_eq!(o.unlocked_status, Some(NeedsMoreRatings));
        assert_eq!(o.first_tag, Some("helpfulInformative"));
    }

    #[test]
    fn meta_insufficient_explanation_overrides_a_lock() {
        let mut h = crh_history();
        h.locked_status = Some(CurrentlyRatedHelpful);
        let mut tags = TagCounts::default();
        tags.helpful[1] = 5; // one tag only
        let o = meta_score(&core(NeedsMoreRatings, 0.2), &h, &tags, None, NOW);
        assert_eq!(o.status, NeedsMoreRatings);
        assert_eq!(
            o.active_rules_text(),
            "MetaInitialNMR (v1.0),CoreModel (v1.1),ScoringDriftGuard (v1.0),\
             InsufficientExplanation (v1.0)"
        );
        assert_eq!((o.first_tag, o.second_tag), (None, None));
        assert_eq!(o.unlocked_status, Some(NeedsMoreRatings));
        // NMR notes get no tags and are not affected.
        let o = meta_score(
            &core(NeedsMoreRatings, 0.2),
            &StatusHistoryRow::default(),
            &tags_for_two(),
            None,
            NOW,
        );
        assert_eq!(o.decided_by(), MetaRule::CoreModel);
        assert_eq!(o.first_tag, None);
    }
}
