//! The status history after a scoring run (rules.md §8; `note_status_history.py` and the
//! end of `run_scoring.py: post_note_scoring`), and the `rescoringActiveRules` column.
//!
//! [`update_status_history`] turns a note's input history row and its [`MetaOutcome`] into
//! the output row: current status and sub-model statuses, locking after 14 days for notes
//! decided by a locking-enabled rule, the stabilization timestamps and the first / most
//! recent non-NMR status. [`rescoring_active_rules`] names the note subsets of a run without
//! previous outputs. Both take the time as an argument: the engine reads no clock.

use crate::NoteStatus::NeedsMoreRatings;
use crate::StatusHistoryRow;
use crate::meta::{MetaOutcome, MetaRule, ModelResults};
use crate::note::Classification;

/// A note is locked once it is older than this (`c.noteLockMillis`, 14 days).
pub const NOTE_LOCK_MILLIS: i64 = 14 * 24 * 60 * 60 * 1000;
/// Notes created before this keep their first / most recent non-NMR fields
/// (`c.deletedNoteTombstonesLaunchTime`, 2022-05-19 UTC).
pub const DELETED_NOTE_TOMBSTONES_LAUNCH_TIME: i64 = 1_652_918_400_000;

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// The note's status history row after this run (rules.md §8.1).
///
/// * `previous`: the input row (for a note new to the history: id, author and creation time,
///   everything else missing).
/// * `outcome`: the note's meta-scoring outcome (final status, decidedBy, t').
/// * `models`: the raw sub-model statuses and modeling groups copied into the `current*`
///   columns (core, expansion, group, multi-group; FIRM_REJECT and NYH kept as they are).
/// * `pcrh_above_threshold_time`: this run's `abovePcrhThresholdTime` for the note, if any.
///   It is written only while the note is unlocked (locked notes get −1). The reference's
///   final scoring afterwards overwrites the whole column with the scored notes' suppressed
///   value (`suppress_pcrh_ineligible`); that step belongs to the caller.
/// * `now_millis`: the run's time (`--epoch-millis`, else the wall clock at the update).
pub fn update_status_history(
    previous: &StatusHistoryRow,
    outcome: &MetaOutcome,
    models: &ModelResults,
    pcrh_above_threshold_time: Option<f64>,
    now_millis: i64,
) -> StatusHistoryRow {
    let now = now_millis as f64;
    let status = outcome.status;
    let decided_by = outcome.decided_by();
    let mut row = previous.clone();

    // Set later by the combining job.
    row.timestamp_minute_of_final_scoring_output = None;
    // A missing previous status counts as a change.
    if previous.current_status != Some(status) {
        row.timestamp_millis_of_most_recent_status_change = Some(now);
    } else if row.timestamp_millis_of_most_recent_status_change.is_none() {
        row.timestamp_millis_of_most_recent_status_change = Some(-1.0);
    }

    row.current_status = Some(status);
    row.timestamp_millis_of_current_status = Some(now);
    row.current_core_status = models.core.status;
    row.current_expansion_status = models.expansion.status;
    row.current_group_status = models.group.status;
    row.current_multi_group_status = models.multi_group.status;
    row.current_decided_by = Some(decided_by.label().to_string());
    row.current_modeling_group = models.modeling_group.map(f64::from);
    row.current_modeling_multi_group = models.modeling_multi_group.map(f64::from);

    // Lock notes old enough whose status comes from a rule with global display impact.
    if row.locked_status.is_none()
        && now_millis - row.created_at_millis > NOTE_LOCK_MILLIS
        && decided_by.locking_enabled()
    {
        row.locked_status = Some(status);
        row.timestamp_millis_of_status_lock = Some(now);
    }

    if row.locked_status.is_some() {
        row.timestamp_millis_of_nmr_due_to_min_stable_crh_time = Some(-1.0);
        row.above_pcrh_threshold_time = Some(-1.0);
    } else {
        if let Some(t) = outcome.stabilization_timestamp {
            row.timestamp_millis_of_nmr_due_to_min_stable_crh_time = Some(t);
            if row
                .timestamp_millis_of_first_nmr_due_to_min_stable_crh_time
                .is_none()
            {
                row.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time = Some(t);
            }
        }
        if let Some(t) = pcrh_above_threshold_time {
            row.above_pcrh_threshold_time = Some(t);
        }
    }

    if row.created_at_millis < DELETED_NOTE_TOMBSTONES_LAUNCH_TIME {
        return row;
    }
    if status != NeedsMoreRatings {
        if row.first_non_nmr_status.is_none() {
            row.first_non_nmr_status = Some(status);
            row.timestamp_millis_of_first_non_nmr_status = Some(now);
            row.most_recent_non_nmr_status = Some(status);
            row.timestamp_millis_of_latest_non_nmr_status = Some(now);
        }
        // Flips between CRH and CRNH; NMR in between does not count.
        if row.most_recent_non_nmr_status != Some(status) {
            row.most_recent_non_nmr_status = Some(status);
            row.timestamp_millis_of_latest_non_nmr_status = Some(now);
        }
    }
    row
}

/// How long a note may stay above the PCRH threshold after it first got there.
const PCRH_SHOW_WINDOW_MILLIS: f64 = 12.0 * 60.0 * 60.0 * 1000.0;
/// The `abovePcrhThresholdTime` of a clear without a known first time.
const PCRH_CLEARED: f64 = -1.0;

/// This run's `abovePcrhThresholdTime` of a note. The value is the time T the note first
/// went above the PCRH threshold: +T while it is above (for at most 12 hours after T), −T once
/// it is no longer, none if it never was; −1 is a clear without a known T.
///
/// * `above`: the PCRH model's verdict this run (`None`: it made no prediction).
/// * `previous`: the note's input value.
///
/// A note that was or is above and is not eligible — not decided by the core model, core
/// status FIRM_REJECT or CRNH, or classified NOT_MISLEADING — or whose window has passed
/// loses the positive value. (The reference writes this value over the history column after
/// the update, so it also replaces the −1 of locked notes.)
pub fn pcrh_time(
    above: Option<bool>,
    previous: Option<f64>,
    decided_by: MetaRule,
    core_status: Option<crate::NoteStatus>,
    classification: Option<Classification>,
    now_millis: i64,
) -> Option<f64> {
    use crate::NoteStatus::{CurrentlyRatedNotHelpful, FirmReject};
    let now = now_millis as f64;
    let first_of = |t: Option<f64>| t.filter(|t| *t != PCRH_CLEARED).map(f64::abs);
    let previous_first = first_of(previous);
    // The model's verdict as a time.
    let time = match (above, previous_first) {
        (Some(true), Some(first)) if now - first <= PCRH_SHOW_WINDOW_MILLIS => Some(first),
        (Some(true), Some(first)) | (Some(false), Some(first)) => Some(-first),
        (Some(true), None) => Some(now),
        (Some(false), None) | (None, _) => None,
    };
    // Suppression of what is not eligible, or is past its window.
    let positive = time.is_some_and(|t| t > 0.0);
    let ineligible = decided_by != MetaRule::CoreModel
        || matches!(core_status, Some(FirmReject | CurrentlyRatedNotHelpful))
        || classification == Some(Classification::NotMisleading);
    let was_positive = positive || previous.is_some_and(|t| t > 0.0);
    let first = first_of(time).or(previous_first);
    let stale = positive && first.is_some_and(|f| now - f > PCRH_SHOW_WINDOW_MILLIS);
    if !(ineligible && was_positive || stale) {
        return time;
    }
    match first {
        Some(first) => Some(-first),
        None if time.is_none() || positive => Some(PCRH_CLEARED),
        None => time,
    }
}

/// A new note's history row before its first scoring (`merge_note_info`).
pub fn new_note_history(note_id: i64, author: &str, created_at_millis: i64) -> StatusHistoryRow {
    StatusHistoryRow {
        note_id,
        author: author.to_string(),
        created_at_millis,
        ..StatusHistoryRow::default()
    }
}

/// A note subset of `rescoringActiveRules` (the reference's `RescoringRuleID`, the ones a run
/// without previous outputs can name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RescoringRule {
    AllNotes,
    NotesCreatedSomewhatRecently,
    NewNotesNotRescoredRecentlyEnough,
}

impl RescoringRule {
    /// The name written in the column.
    pub fn name(self) -> &'static str {
        match self {
            RescoringRule::AllNotes => "ALL_NOTES",
            RescoringRule::NotesCreatedSomewhatRecently => "NOTES_CREATED_SOMEWHAT_RECENTLY",
            RescoringRule::NewNotesNotRescoredRecentlyEnough => {
                "NEW_NOTES_NOT_RESCORED_RECENTLY_ENOUGH"
            }
        }
    }
}

/// The subsets a note belongs to in a run without previous scored notes (rules.md §8.3), in
/// column order:
/// * every note: `ALL_NOTES`;
/// * created in [wall − 13 d, wall − 3 d): `NOTES_CREATED_SOMEWHAT_RECENTLY`;
/// * created after wall − 14 d and input `timestampMillisOfCurrentStatus` before
///   wall − 1 d (missing → no): `NEW_NOTES_NOT_RESCORED_RECENTLY_ENOUGH`.
///
/// `wall_millis` is the clock of these labels: the reference reads the wall clock
/// (`time.time()`) even when `--epoch-millis` is given, which makes its labels depend on when
/// it ran; `bridgenotes score` passes the run's `--epoch-millis` instead, so its runs repeat
/// exactly. (With `--previous-rating-cutoff-millis` the reference would
/// also drop notes with newer ratings from the last subset; runs here never pass it.)
pub fn rescoring_rules(
    created_at_millis: i64,
    timestamp_millis_of_current_status: Option<f64>,
    wall_millis: i64,
) -> Vec<RescoringRule> {
    let mut rules = vec![RescoringRule::AllNotes];
    if created_at_millis >= wall_millis - 13 * DAY_MILLIS
        && created_at_millis < wall_millis - 3 * DAY_MILLIS
    {
        rules.push(RescoringRule::NotesCreatedSomewhatRecently);
    }
    if created_at_millis > wall_millis - 14 * DAY_MILLIS
        && timestamp_millis_of_current_status.is_some_and(|t| t < (wall_millis - DAY_MILLIS) as f64)
    {
        rules.push(RescoringRule::NewNotesNotRescoredRecentlyEnough);
    }
    rules
}

/// `rescoringActiveRules`: [`rescoring_rules`] joined by `,`.
pub fn rescoring_active_rules(
    created_at_millis: i64,
    timestamp_millis_of_current_status: Option<f64>,
    wall_millis: i64,
) -> String {
    rescoring_rules(
        created_at_millis,
        timestamp_millis_of_current_status,
        wall_millis,
    )
    .iter()
    .map(|r| r.name())
    .collect::<Vec<_>>()
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoteStatus::{self, *};
    use crate::meta::{MetaRule, ModelResult};

    const NOW: i64 = 1_795_132_800_000;
    const DAY: i64 = DAY_MILLIS;

    fn outcome(status: NoteStatus, rules: &[MetaRule], t: Option<f64>) -> MetaOutcome {
        MetaOutcome {
            status,
            active_rules: rules.to_vec(),
            first_tag: None,
            second_tag: None,
            unlocked_status: None,
            pre_stabilization_status: status,
            stabilization_timestamp: t,
        }
    }

    fn row(age_days: i64) -> StatusHistoryRow {
        StatusHistoryRow {
            note_id: 7,
            author: "A".into(),
            created_at_millis: NOW - age_days * DAY,
            current_status: Some(NeedsMoreRatings),
            timestamp_millis_of_current_status: Some((NOW - DAY) as f64),
            ..StatusHistoryRow::default()
        }
    }

    fn models() -> ModelResults {
        ModelResults {
            core: ModelResult::new(FirmReject, 0.1),
            expansion: ModelResult::new(NeedsYourHelp, 0.38),
            group: ModelResult::new(CurrentlyRatedHelpful, 0.45),
            modeling_group: Some(13),
            ..ModelResults::default()
        }
    }

    const CORE: &[MetaRule] = &[MetaRule::MetaInitialNmr, MetaRule::CoreModel];
    const STAB: &[MetaRule] = &[
        MetaRule::MetaInitialNmr,
        MetaRule::CoreModel,
        MetaRule::NmrDueToMinStableCrhTime,
    ];

    #[test]
    fn meta_history_copies_current_fields() {
        let o = outcome(NeedsMoreRatings, CORE, None);
        let r = update_status_history(&row(3), &o, &models(), None, NOW);
        assert_eq!(r.current_status, Some(NeedsMoreRatings));
        assert_eq!(r.timestamp_millis_of_current_status, Some(NOW as f64));
        assert_eq!(r.current_core_status, Some(FirmReject));
        assert_eq!(r.current_expansion_status, Some(NeedsYourHelp));
        assert_eq!(r.current_group_status, Some(CurrentlyRatedHelpful));
        assert_eq!(r.current_multi_group_status, None);
        assert_eq!(r.current_modeling_group, Some(13.0));
        assert_eq!(r.current_modeling_multi_group, None);
        assert_eq!(r.current_decided_by.as_deref(), Some("CoreModel (v1.1)"));
        assert_eq!(r.timestamp_minute_of_final_scoring_output, None);
        // Unchanged status, no previous change time: −1; with one, kept.
        assert_eq!(r.timestamp_millis_of_most_recent_status_change, Some(-1.0));
        let mut prev = row(3);
        prev.timestamp_millis_of_most_recent_status_change = Some(5.0);
        let r = update_status_history(&prev, &o, &models(), None, NOW);
        assert_eq!(r.timestamp_millis_of_most_recent_status_change, Some(5.0));
        // A change (or a new note) sets it to now.
        let o = outcome(CurrentlyRatedNotHelpful, CORE, None);
        let r = update_status_history(&prev, &o, &models(), None, NOW);
        assert_eq!(
            r.timestamp_millis_of_most_recent_status_change,
            Some(NOW as f64)
        );
        let new = new_note_history(7, "A", NOW - DAY);
        let r = update_status_history(
            &new,
            &outcome(NeedsMoreRatings, CORE, None),
            &models(),
            None,
            NOW,
        );
        assert_eq!(
            r.timestamp_millis_of_most_recent_status_change,
            Some(NOW as f64)
        );
    }

    #[test]
    fn meta_history_locks_after_14_days_for_locking_rules_only() {
        let o = outcome(CurrentlyRatedHelpful, CORE, None);
        // 14 days exactly is not older than 14 days.
        let mut young = row(14);
        let r = update_status_history(&young, &o, &models(), Some(3.0), NOW);
        assert_eq!(r.locked_status, None);
        assert_eq!(r.above_pcrh_threshold_time, Some(3.0));
        young.created_at_millis -= 1;
        let r = update_status_history(&young, &o, &models(), Some(3.0), NOW);
        assert_eq!(r.locked_status, Some(CurrentlyRatedHelpful));
        assert_eq!(r.timestamp_millis_of_status_lock, Some(NOW as f64));
        assert_eq!(
            r.timestamp_millis_of_nmr_due_to_min_stable_crh_time,
            Some(-1.0)
        );
        assert_eq!(r.above_pcrh_threshold_time, Some(-1.0));
        // Not locking-enabled deciders.
        for rules in [
            STAB,
            &[MetaRule::MetaInitialNmr][..],
            &[MetaRule::MetaInitialNmr, MetaRule::ExpansionPlusModel],
            &[
                MetaRule::MetaInitialNmr,
                MetaRule::CoreModel,
                MetaRule::ScoringDriftGuard,
            ],
            &[
                MetaRule::MetaInitialNmr,
                MetaRule::CoreModel,
                MetaRule::TopicModel(crate::topic::Topic::Scams),
            ],
        ] {
            let o = outcome(NeedsMoreRatings, rules, None);
            let r = update_status_history(&row(20), &o, &models(), None, NOW);
            assert_eq!(r.locked_status, None, "{rules:?}");
        }
        // InsufficientExplanation and the group rules lock.
        for last in [
            MetaRule::InsufficientExplanation,
            MetaRule::GroupModel(14),
            MetaRule::GroupModelNmr(18),
            MetaRule::GaussianModel,
        ] {
            let o = outcome(NeedsMoreRatings, &[MetaRule::MetaInitialNmr, last], None);
            let r = update_status_history(&row(20), &o, &models(), None, NOW);
            assert_eq!(r.locked_status, Some(NeedsMoreRatings), "{last:?}");
        }
        // An existing lock is kept, with its time.
        let mut locked = row(30);
        locked.locked_status = Some(CurrentlyRatedNotHelpful);
        locked.timestamp_millis_of_status_lock = Some(1.0);
        let r = update_status_history(&locked, &o, &models(), None, NOW);
        assert_eq!(r.locked_status, Some(CurrentlyRatedNotHelpful));
        assert_eq!(r.timestamp_millis_of_status_lock, Some(1.0));
        assert_eq!(r.current_status, Some(CurrentlyRatedHelpful));
    }

    #[test]
    fn meta_history_stabilization_timestamps() {
        let t = (NOW - 10 * 60_000) as f64;
        let o = outcome(NeedsMoreRatings, STAB, Some(t));
        let r = update_status_history(&row(2), &o, &models(), None, NOW);
        assert_eq!(
            r.timestamp_millis_of_nmr_due_to_min_stable_crh_time,
            Some(t)
        );
        assert_eq!(
            r.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time,
            Some(t)
        );
        // Leaving: −1, the first time is kept.
        let o = outcome(CurrentlyRatedHelpful, CORE, Some(-1.0));
        let r2 = update_status_history(&r, &o, &models(), None, NOW + 3_600_000);
        assert_eq!(
            r2.timestamp_millis_of_nmr_due_to_min_stable_crh_time,
            Some(-1.0)
        );
        assert_eq!(
            r2.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time,
            Some(t)
        );
        // No t': left alone.
        let o = outcome(CurrentlyRatedHelpful, CORE, None);
        let r3 = update_status_history(&r, &o, &models(), None, NOW);
        assert_eq!(
            r3.timestamp_millis_of_nmr_due_to_min_stable_crh_time,
            Some(t)
        );
    }

    #[test]
    fn meta_history_first_and_most_recent_non_nmr() {
        let crh = outcome(CurrentlyRatedHelpful, CORE, None);
        let r = update_status_history(&row(2), &crh, &models(), None, NOW);
        assert_eq!(r.first_non_nmr_status, Some(CurrentlyRatedHelpful));
        assert_eq!(r.most_recent_non_nmr_status, Some(CurrentlyRatedHelpful));
        assert_eq!(r.timestamp_millis_of_first_non_nmr_status, Some(NOW as f64));
        assert_eq!(
            r.timestamp_millis_of_latest_non_nmr_status,
            Some(NOW as f64)
        );
        // NMR changes neither; CRNH later changes the most recent one only.
        let nmr = outcome(NeedsMoreRatings, CORE, None);
        let r2 = update_status_history(&r, &nmr, &models(), None, NOW + 1);
        assert_eq!(r2.most_recent_non_nmr_status, Some(CurrentlyRatedHelpful));
        let crnh = outcome(CurrentlyRatedNotHelpful, CORE, None);
        let r3 = update_status_history(&r2, &crnh, &models(), None, NOW + 2);
        assert_eq!(r3.first_non_nmr_status, Some(CurrentlyRatedHelpful));
        assert_eq!(
            r3.timestamp_millis_of_first_non_nmr_status,
            Some(NOW as f64)
        );
        assert_eq!(
            r3.most_recent_non_nmr_status,
            Some(CurrentlyRatedNotHelpful)
        );
        assert_eq!(
            r3.timestamp_millis_of_latest_non_nmr_status,
            Some((NOW + 2) as f64)
        );
        // Notes from before the tombstone launch keep these fields.
        let mut old = row(0);
        old.created_at_millis = DELETED_NOTE_TOMBSTONES_LAUNCH_TIME - 1;
        let r = update_status_history(&old, &crh, &models(), None, NOW);
        assert_eq!(r.first_non_nmr_status, None);
        assert_eq!(r.current_status, Some(CurrentlyRatedHelpful));
        assert_eq!(r.locked_status, Some(CurrentlyRatedHelpful));
    }

    #[test]
    fn meta_rescoring_subsets() {
        let wall = NOW;
        let ts = Some((wall - 2 * DAY) as f64);
        assert_eq!(
            rescoring_active_rules(wall - 20 * DAY, ts, wall),
            "ALL_NOTES"
        );
        assert_eq!(
            rescoring_active_rules(wall - 13 * DAY, ts, wall),
            "ALL_NOTES,NOTES_CREATED_SOMEWHAT_RECENTLY,NEW_NOTES_NOT_RESCORED_RECENTLY_ENOUGH"
        );
        assert_eq!(
            rescoring_active_rules(wall - 3 * DAY, ts, wall),
            "ALL_NOTES,NEW_NOTES_NOT_RESCORED_RECENTLY_ENOUGH"
        );
        assert_eq!(
            rescoring_active_rules(wall - 5 * DAY, Some((wall - DAY) as f64), wall),
            "ALL_NOTES,NOTES_CREATED_SOMEWHAT_RECENTLY"
        );
        assert_eq!(
            rescoring_active_rules(wall - 5 * DAY, None, wall),
            "ALL_NOTES,NOTES_CREATED_SOMEWHAT_RECENTLY"
        );
        assert_eq!(
            rescoring_active_rules(wall - 14 * DAY, ts, wall),
            "ALL_NOTES"
        );
    }

    #[test]
    fn an_earlier_pcrh_time_is_negated_only_when_the_note_lost_eligibility() {
        use crate::NoteStatus::{CurrentlyRatedHelpful, FirmReject};
        let core = MetaRule::CoreModel;
        let misleading = Some(Classification::MisinformedOrPotentiallyMisleading);
        let without_model = |previous, decided_by, status, class| {
            pcrh_time(None, previous, decided_by, status, class, 6)
        };
        assert_eq!(without_model(None, core, None, misleading), None);
        assert_eq!(
            without_model(Some(-1.0), MetaRule::ExpansionModel, None, misleading),
            None
        );
        assert_eq!(
            without_model(Some(5.0), core, Some(CurrentlyRatedHelpful), misleading),
            None
        );
        assert_eq!(
            without_model(Some(5.0), core, Some(FirmReject), misleading),
            Some(-5.0)
        );
        assert_eq!(
            without_model(Some(5.0), MetaRule::ScoringDriftGuard, None, misleading),
            Some(-5.0)
        );
        assert_eq!(
            without_model(
                Some(5.0),
                core,
                Some(CurrentlyRatedHelpful),
                Some(Classification::NotMisleading)
            ),
            Some(-5.0)
        );
    }

    #[test]
    fn a_pcrh_verdict_becomes_a_first_time_within_one_window() {
        use crate::NoteStatus::{CurrentlyRatedHelpful, FirmReject};
        const HOUR: i64 = 3_600_000;
        let now = 100 * HOUR;
        let core = MetaRule::CoreModel;
        let crh = Some(CurrentlyRatedHelpful);
        let misleading = Some(Classification::MisinformedOrPotentiallyMisleading);
        let time = |above, previous| pcrh_time(above, previous, core, crh, misleading, now);
        let at = |hours: i64| Some((hours * HOUR) as f64);
        let before = |hours: i64| Some(-(hours * HOUR) as f64);
        // First time above: now.
        assert_eq!(time(Some(true), None), at(100));
        // Above again within 12 hours of the first time: that first time.
        assert_eq!(time(Some(true), at(90)), at(90));
        assert_eq!(time(Some(true), before(90)), at(90));
        // Past the window, or not above: the negated first time.
        assert_eq!(time(Some(true), at(80)), before(80));
        assert_eq!(time(Some(false), at(95)), before(95));
        // Never above: nothing; a clear (-1) is no first time.
        assert_eq!(time(Some(false), None), None);
        assert_eq!(time(Some(true), Some(-1.0)), at(100));
        // Above but firm-rejected by the core model: negated.
        assert_eq!(
            pcrh_time(Some(true), None, core, Some(FirmReject), misleading, now),
            before(100)
        );
        // Above but decided by another model.
        assert_eq!(
            pcrh_time(
                Some(true),
                None,
                MetaRule::ExpansionModel,
                crh,
                misleading,
                now
            ),
            before(100)
        );
    }
}
