//! Note status history: what each note's status was, when it changed and whether it is locked.

use crate::status::NoteStatus;

/// One row of the note status history file (24 columns in the current format).
///
/// Timestamps are milliseconds since the Unix epoch; the reference holds them as floats
/// (they may be missing), so they are `Option<f64>` here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusHistoryRow {
    pub note_id: i64,
    pub author: String,
    pub created_at_millis: i64,
    pub timestamp_millis_of_first_non_nmr_status: Option<f64>,
    pub first_non_nmr_status: Option<NoteStatus>,
    pub timestamp_millis_of_current_status: Option<f64>,
    pub current_status: Option<NoteStatus>,
    pub timestamp_millis_of_latest_non_nmr_status: Option<f64>,
    pub most_recent_non_nmr_status: Option<NoteStatus>,
    pub timestamp_millis_of_status_lock: Option<f64>,
    pub locked_status: Option<NoteStatus>,
    pub timestamp_millis_of_retro_lock: Option<f64>,
    pub current_core_status: Option<NoteStatus>,
    pub current_expansion_status: Option<NoteStatus>,
    pub current_group_status: Option<NoteStatus>,
    /// The rule that decided the current status, e.g. `CoreModel (v1.1)`.
    pub current_decided_by: Option<String>,
    pub current_modeling_group: Option<f64>,
    pub timestamp_millis_of_most_recent_status_change: Option<f64>,
    pub timestamp_millis_of_nmr_due_to_min_stable_crh_time: Option<f64>,
    pub current_multi_group_status: Option<NoteStatus>,
    pub current_modeling_multi_group: Option<f64>,
    pub timestamp_minute_of_final_scoring_output: Option<f64>,
    pub timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: Option<f64>,
    pub above_pcrh_threshold_time: Option<f64>,
}

/// Column names of the status history file, in order.
pub const STATUS_HISTORY_COLUMNS: [&str; 24] = [
    "noteId",
    "noteAuthorParticipantId",
    "createdAtMillis",
    "timestampMillisOfFirstNonNMRStatus",
    "firstNonNMRStatus",
    "timestampMillisOfCurrentStatus",
    "currentStatus",
    "timestampMillisOfLatestNonNMRStatus",
    "mostRecentNonNMRStatus",
    "timestampMillisOfStatusLock",
    "lockedStatus",
    "timestampMillisOfRetroLock",
    "currentCoreStatus",
    "currentExpansionStatus",
    "currentGroupStatus",
    "currentDecidedBy",
    "currentModelingGroup",
    "timestampMillisOfMostRecentStatusChange",
    "timestampMillisOfNmrDueToMinStableCrhTime",
    "currentMultiGroupStatus",
    "currentModelingMultiGroup",
    "timestampMinuteOfFinalScoringOutput",
    "timestampMillisOfFirstNmrDueToMinStableCrhTime",
    "abovePcrhThresholdTime",
];
