//! Notes: what a contributor wrote about a post.

use crate::status::named_enum;

/// The writer's answer to "is this post misleading?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Classification {
    MisinformedOrPotentiallyMisleading,
    NotMisleading,
}

named_enum!(Classification, "classification", [
    Classification::MisinformedOrPotentiallyMisleading => "MISINFORMED_OR_POTENTIALLY_MISLEADING",
    Classification::NotMisleading => "NOT_MISLEADING",
]);

/// Names of the reason checkboxes of a misleading note, in public-file order.
pub const MISLEADING_REASONS: [&str; 7] = [
    "misleadingOther",
    "misleadingFactualError",
    "misleadingManipulatedMedia",
    "misleadingOutdatedInformation",
    "misleadingMissingImportantContext",
    "misleadingUnverifiedClaimAsFact",
    "misleadingSatire",
];

/// Names of the reason checkboxes of a not-misleading note, in public-file order.
pub const NOT_MISLEADING_REASONS: [&str; 5] = [
    "notMisleadingOther",
    "notMisleadingFactuallyCorrect",
    "notMisleadingOutdatedButNotWhenWritten",
    "notMisleadingClearlySatire",
    "notMisleadingPersonalOpinion",
];

/// One row of the public notes file.
///
/// Checkbox columns are 0/1 flags in the public data; an empty cell reads as `false`.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub note_id: i64,
    pub author: String,
    pub created_at_millis: i64,
    pub tweet_id: i64,
    pub classification: Classification,
    /// Deprecated survey columns; empty in current downloads.
    pub believable: Option<String>,
    pub harmful: Option<String>,
    pub validation_difficulty: Option<String>,
    /// Reasons, indexed like [`MISLEADING_REASONS`].
    pub misleading: [bool; 7],
    /// Reasons, indexed like [`NOT_MISLEADING_REASONS`].
    pub not_misleading: [bool; 5],
    pub trustworthy_sources: bool,
    pub summary: String,
    pub is_media_note: bool,
    pub is_collaborative_note: bool,
}
