//! The reference's output files as column lists, and a builder that fills them.
//!
//! Column names and order are those of the reference scorer's `scored_notes.tsv`,
//! `aux_note_info.tsv`, `helpfulness_scores.tsv` and `note_status_history.tsv`. Columns a
//! run does not compute stay empty, so every file has the reference's exact shape.

use crate::{ColumnValues, Table};

/// Columns of `scored_notes.tsv`, in order.
pub const SCORED_NOTES_COLUMNS: [&str; 99] = [
    "noteId",
    "coreNoteIntercept",
    "coreNoteFactor1",
    "finalRatingStatus",
    "firstTag",
    "secondTag",
    "coreActiveRules",
    "activeFilterTags",
    "classification",
    "createdAtMillis",
    "coreRatingStatus",
    "metaScorerActiveRules",
    "decidedBy",
    "expansionNoteIntercept",
    "expansionNoteFactor1",
    "expansionRatingStatus",
    "coverageNoteIntercept",
    "coverageNoteFactor1",
    "coverageRatingStatus",
    "coreNoteInterceptMin",
    "coreNoteInterceptMax",
    "expansionNoteInterceptMin",
    "expansionNoteInterceptMax",
    "coverageNoteInterceptMin",
    "coverageNoteInterceptMax",
    "groupNoteIntercept",
    "groupNoteFactor1",
    "groupRatingStatus",
    "groupNoteInterceptMax",
    "groupNoteInterceptMin",
    "modelingGroup",
    "numRatings",
    "timestampMillisOfCurrentStatus",
    "expansionPlusNoteIntercept",
    "expansionPlusNoteFactor1",
    "expansionPlusRatingStatus",
    "topicNoteIntercept",
    "topicNoteFactor1",
    "topicRatingStatus",
    "noteTopic",
    "topicNoteConfident",
    "expansionActiveRules",
    "expansionPlusActiveRules",
    "groupActiveRules",
    "topicActiveRules",
    "coreNumFinalRoundRatings",
    "expansionNumFinalRoundRatings",
    "expansionPlusNumFinalRoundRatings",
    "groupNumFinalRoundRatings",
    "topicNumFinalRoundRatings",
    "rescoringActiveRules",
    "multiGroupNoteIntercept",
    "multiGroupNoteFactor1",
    "multiGroupRatingStatus",
    "modelingMultiGroup",
    "multiGroupActiveRules",
    "multiGroupNumFinalRoundRatings",
    "coreWithTopicsNoteFactor1",
    "coreWithTopicsNoteIntercept",
    "coreWithTopicsRatingStatus",
    "coreWithTopicsActiveRules",
    "coreWithTopicsNumFinalRoundRatings",
    "coreWithTopicsNoteInterceptMin",
    "coreWithTopicsNoteInterceptMax",
    "timestampMillisOfNmrDueToMinStableCrhTime",
    "coreNoteInterceptNoHighVol",
    "coreWithTopicsNoteInterceptNoHighVol",
    "expansionNoteInterceptNoHighVol",
    "expansionPlusNoteInterceptNoHighVol",
    "groupNoteInterceptNoHighVol",
    "multiGroupNoteInterceptNoHighVol",
    "topicNoteInterceptNoHighVol",
    "coreNoteInterceptNoCorrelated",
    "coreNoteInterceptPopulationSampled",
    "coreWithTopicsNoteInterceptNoCorrelated",
    "expansionNoteInterceptNoCorrelated",
    "expansionPlusNoteInterceptNoCorrelated",
    "groupNoteInterceptNoCorrelated",
    "multiGroupNoteInterceptNoCorrelated",
    "topicNoteInterceptNoCorrelated",
    "gaussianNoteIntercept",
    "gaussianNoteFactor1",
    "gaussianRatingStatus",
    "gaussianActiveRules",
    "gaussianNoteInterceptNoCorrelated",
    "gaussianNoteInterceptNoHighVol",
    "gaussianNoteInterceptPopulationSampled",
    "gaussianNumFinalRoundRatings",
    "timestampMinuteOfFinalScoringOutput",
    "gaussianCoreWithTopicsNoteIntercept",
    "gaussianCoreWithTopicsNoteFactor1",
    "gaussianCoreWithTopicsRatingStatus",
    "gaussianCoreWithTopicsActiveRules",
    "gaussianCoreWithTopicsNoteInterceptNoHighVol",
    "gaussianCoreWithTopicsNoteInterceptNoCorrelated",
    "gaussianCoreWithTopicsNoteInterceptPopulationSampled",
    "gaussianCoreWithTopicsNumFinalRoundRatings",
    "abovePcrhThresholdTime",
    "pflipProba",
];

/// Columns of `aux_note_info.tsv`, in order.
pub const AUX_NOTE_INFO_COLUMNS: [&str; 72] = [
    "noteId",
    "ratingWeight",
    "createdAtMillis",
    "noteAuthorParticipantId",
    "awaitingBool",
    "numRatingsLast28",
    "numPopulationSampledRatings",
    "currentStatus",
    "crhBool",
    "crnhBool",
    "unlockedRatingStatus",
    "preStabilizationRatingStatus",
    "helpfulOther",
    "helpfulInformative",
    "helpfulClear",
    "helpfulEmpathetic",
    "helpfulGoodSources",
    "helpfulUniqueContext",
    "helpfulAddressesClaim",
    "helpfulImportantContext",
    "helpfulUnbiasedLanguage",
    "notHelpfulOther",
    "notHelpfulIncorrect",
    "notHelpfulSourcesMissingOrUnreliable",
    "notHelpfulOpinionSpeculationOrBias",
    "notHelpfulMissingKeyPoints",
    "notHelpfulOutdated",
    "notHelpfulHardToUnderstand",
    "notHelpfulArgumentativeOrBiased",
    "notHelpfulOffTopic",
    "notHelpfulSpamHarassmentOrAbuse",
    "notHelpfulIrrelevantSources",
    "notHelpfulOpinionSpeculation",
    "notHelpfulNoteNotNeeded",
    "notHelpfulOtherAdjusted",
    "notHelpfulIncorrectAdjusted",
    "notHelpfulSourcesMissingOrUnreliableAdjusted",
    "notHelpfulOpinionSpeculationOrBiasAdjusted",
    "notHelpfulMissingKeyPointsAdjusted",
    "notHelpfulOutdatedAdjusted",
    "notHelpfulHardToUnderstandAdjusted",
    "notHelpfulArgumentativeOrBiasedAdjusted",
    "notHelpfulOffTopicAdjusted",
    "notHelpfulSpamHarassmentOrAbuseAdjusted",
    "notHelpfulIrrelevantSourcesAdjusted",
    "notHelpfulOpinionSpeculationAdjusted",
    "notHelpfulNoteNotNeededAdjusted",
    "notHelpfulOtherAdjustedRatio",
    "notHelpfulIncorrectAdjustedRatio",
    "notHelpfulSourcesMissingOrUnreliableAdjustedRatio",
    "notHelpfulOpinionSpeculationOrBiasAdjustedRatio",
    "notHelpfulMissingKeyPointsAdjustedRatio",
    "notHelpfulOutdatedAdjustedRatio",
    "notHelpfulHardToUnderstandAdjustedRatio",
    "notHelpfulArgumentativeOrBiasedAdjustedRatio",
    "notHelpfulOffTopicAdjustedRatio",
    "notHelpfulSpamHarassmentOrAbuseAdjustedRatio",
    "notHelpfulIrrelevantSourcesAdjustedRatio",
    "notHelpfulOpinionSpeculationAdjustedRatio",
    "notHelpfulNoteNotNeededAdjustedRatio",
    "notHelpfulIncorrect_interval",
    "p_incorrect_user_interval",
    "num_voters_interval",
    "tf_idf_incorrect_interval",
    "lowDiligenceIntercept",
    "coreNegFactor_populationSampledRatingCount",
    "corePosFactor_populationSampledRatingCount",
    "pcrhExitN",
    "pcrhExitProba",
    "pcrhRevoked",
    "pcrhRevokeN",
    "pcrhFinalPred",
];

/// Columns of `helpfulness_scores.tsv`, in order.
pub const HELPFULNESS_SCORES_COLUMNS: [&str; 47] = [
    "raterParticipantId",
    "coreRaterIntercept",
    "coreRaterFactor1",
    "crhCrnhRatioDifference",
    "meanNoteScore",
    "raterAgreeRatio",
    "successfulRatingHelpfulCount",
    "successfulRatingNotHelpfulCount",
    "successfulRatingTotal",
    "unsuccessfulRatingHelpfulCount",
    "unsuccessfulRatingNotHelpfulCount",
    "unsuccessfulRatingTotal",
    "ratingsAwaitingMoreRatings",
    "ratedAfterDecision",
    "notesCurrentlyRatedHelpful",
    "notesCurrentlyRatedNotHelpful",
    "notesAwaitingMoreRatings",
    "enrollmentState",
    "successfulRatingNeededToEarnIn",
    "authorTopNotHelpfulTagValues",
    "timestampOfLastStateChange",
    "aboveHelpfulnessThreshold",
    "isEmergingWriter",
    "aggregateRatingReceivedTotal",
    "timestampOfLastEarnOut",
    "groupRaterIntercept",
    "groupRaterFactor1",
    "modelingGroup",
    "raterHelpfulnessReputation",
    "numberOfTimesEarnedOut",
    "expansionRaterIntercept",
    "expansionRaterFactor1",
    "expansionPlusRaterIntercept",
    "expansionPlusRaterFactor1",
    "multiGroupRaterIntercept",
    "multiGroupRaterFactor1",
    "modelingMultiGroup",
    "coreWithTopicsRaterIntercept",
    "coreWithTopicsRaterFactor1",
    "coreFirstRoundRaterIntercept",
    "coreFirstRoundRaterFactor1",
    "crhTotal14d",
    "crnhTotal14d",
    "nmrTotal14d",
    "crhTotal90d",
    "crnhTotal90d",
    "nmrTotal90d",
];

/// A table with a fixed column list whose columns are filled one at a time.
#[derive(Clone, Debug)]
pub struct OutputTable {
    names: &'static [&'static str],
    columns: Vec<Option<ColumnValues>>,
    rows: usize,
}

impl OutputTable {
    /// A table of `rows` rows with every column missing.
    pub fn new(names: &'static [&'static str], rows: usize) -> Self {
        OutputTable {
            names,
            columns: vec![None; names.len()],
            rows,
        }
    }

    /// Whether the table has a column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// Fills column `name`.
    ///
    /// # Panics
    /// If the table has no such column or the length differs: both are bugs in the caller.
    pub fn set(&mut self, name: &str, values: ColumnValues) {
        let at = self
            .names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("no output column {name}"));
        assert_eq!(
            values.len(),
            self.rows,
            "column {name} has the wrong length"
        );
        self.columns[at] = Some(values);
    }

    /// The finished table; unfilled columns are empty.
    pub fn finish(self) -> Table {
        let mut table = Table::default();
        for (name, values) in self.names.iter().zip(self.columns) {
            table.push(
                *name,
                values.unwrap_or_else(|| ColumnValues::missing(self.rows)),
            );
        }
        table
    }
}

/// The status history as the reference writes it in its output: timestamps as floats.
pub fn status_history_table(rows: &[crate::StatusHistoryRow]) -> Table {
    use crate::history::STATUS_HISTORY_COLUMNS as NAMES;
    let f = |pick: &dyn Fn(&crate::StatusHistoryRow) -> Option<f64>| {
        ColumnValues::F64(rows.iter().map(pick).collect())
    };
    let s = |pick: &dyn Fn(&crate::StatusHistoryRow) -> Option<crate::NoteStatus>| {
        ColumnValues::Str(
            rows.iter()
                .map(|r| pick(r).map(|v| v.to_string()))
                .collect(),
        )
    };
    let columns = vec![
        ColumnValues::Int(rows.iter().map(|r| Some(r.note_id)).collect()),
        ColumnValues::Str(rows.iter().map(|r| Some(r.author.clone())).collect()),
        f(&|r| Some(r.created_at_millis as f64)),
        f(&|r| r.timestamp_millis_of_first_non_nmr_status),
        s(&|r| r.first_non_nmr_status),
        f(&|r| r.timestamp_millis_of_current_status),
        s(&|r| r.current_status),
        f(&|r| r.timestamp_millis_of_latest_non_nmr_status),
        s(&|r| r.most_recent_non_nmr_status),
        f(&|r| r.timestamp_millis_of_status_lock),
        s(&|r| r.locked_status),
        f(&|r| r.timestamp_millis_of_retro_lock),
        s(&|r| r.current_core_status),
        s(&|r| r.current_expansion_status),
        s(&|r| r.current_group_status),
        ColumnValues::Str(rows.iter().map(|r| r.current_decided_by.clone()).collect()),
        f(&|r| r.current_modeling_group),
        f(&|r| r.timestamp_millis_of_most_recent_status_change),
        f(&|r| r.timestamp_millis_of_nmr_due_to_min_stable_crh_time),
        s(&|r| r.current_multi_group_status),
        f(&|r| r.current_modeling_multi_group),
        f(&|r| r.timestamp_minute_of_final_scoring_output),
        f(&|r| r.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time),
        f(&|r| r.above_pcrh_threshold_time),
    ];
    let mut table = Table::default();
    for (name, values) in NAMES.iter().zip(columns) {
        table.push(*name, values);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfilled_columns_are_empty() {
        let mut t = OutputTable::new(&SCORED_NOTES_COLUMNS, 2);
        t.set("noteId", ColumnValues::Int(vec![Some(1), Some(2)].into()));
        let table = t.finish();
        assert_eq!(table.columns.len(), 99);
        assert_eq!(table.columns[0].name, "noteId");
        assert_eq!(
            table.column("coreNoteIntercept"),
            Some(&ColumnValues::missing(2))
        );
    }
}
