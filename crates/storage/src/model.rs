//! What the store holds, as values. Notes, ratings, status history and enrollment are the
//! engine's own types (the public download's rows), so importing, exporting and scoring need
//! no translation; the rest (contributors, posts, requests, scores) is the service's.

use bridgenotes_engine::{Enrollment, Note, Ratings, StatusHistoryRow};

/// A contributor: someone who rates and (once earned in) writes notes.
#[derive(Clone, Debug, PartialEq)]
pub struct Contributor {
    /// Row id (internal).
    pub id: i64,
    /// The public participant id (64 hex digits for contributors created here).
    pub participant_id: String,
    /// The pseudonymous alias shown instead of any account name.
    pub alias: String,
    /// An AI note writer: writes through the AI writer API, never rates.
    pub is_ai_writer: bool,
    /// The enrollment row; `None` for an imported rater the download did not enroll.
    pub enrollment: Option<Enrollment>,
    /// Rating impact after the latest scoring run.
    pub rating_impact: i64,
    /// Writing impact after the latest scoring run.
    pub writing_impact: i64,
    pub created_at_millis: i64,
}

/// A contributor to create.
#[derive(Clone, Debug, PartialEq)]
pub struct NewContributor {
    pub participant_id: String,
    pub alias: String,
    /// SHA-256 of the API token, hex; `None` for a contributor who cannot sign in.
    pub token_hash: Option<String>,
    pub is_ai_writer: bool,
    pub enrollment: Option<Enrollment>,
    pub created_at_millis: i64,
}

/// A post (on whatever platform the community annotates) that notes are written about.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// The id notes refer to (`tweetId` in the public files).
    pub id: i64,
    /// The platform's id of the post; unique.
    pub external_id: String,
    pub author_handle: String,
    pub text: String,
    pub url: Option<String>,
    pub created_at_millis: i64,
}

/// A note with what the latest scoring run said about it.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteView {
    pub note: Note,
    pub deleted_at_millis: Option<i64>,
    pub score: Option<NoteScore>,
    pub history: Option<StatusHistoryRow>,
    /// Ratings the note has now (including those after the latest run).
    pub ratings: i64,
}

/// What one scoring run decided about one note.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteScore {
    pub note_id: i64,
    pub core_note_intercept: Option<f64>,
    pub core_note_factor: Option<f64>,
    /// The core intercept's pseudo-rater interval: its lowest and highest value when extreme
    /// pseudo-ratings are added (the upper end below −0.04 makes a note not helpful).
    pub core_note_intercept_min: Option<f64>,
    pub core_note_intercept_max: Option<f64>,
    pub final_rating_status: Option<String>,
    pub core_rating_status: Option<String>,
    pub first_tag: Option<String>,
    pub second_tag: Option<String>,
    pub decided_by: Option<String>,
    pub num_ratings: i64,
}

/// What one scoring run computed about one rater.
#[derive(Clone, Debug, PartialEq)]
pub struct RaterScore {
    pub participant_id: String,
    pub core_rater_intercept: Option<f64>,
    pub core_rater_factor: Option<f64>,
    pub successful_rating_total: i64,
    pub unsuccessful_rating_total: i64,
    pub unsuccessful_rating_not_helpful_count: i64,
    pub notes_currently_rated_helpful: i64,
    pub notes_currently_rated_not_helpful: i64,
    pub notes_awaiting_more_ratings: i64,
}

/// A contributor's standing after a scoring run.
#[derive(Clone, Debug, PartialEq)]
pub struct ContributorUpdate {
    pub participant_id: String,
    pub rating_impact: i64,
    pub writing_impact: i64,
    pub enrollment: Enrollment,
}

/// One scoring run's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoringRun {
    /// Row id; ignored when storing a run.
    pub id: i64,
    pub started_at_millis: i64,
    pub finished_at_millis: i64,
    /// The run's "now".
    pub now_millis: i64,
    pub notes: i64,
    pub ratings: i64,
    pub currently_rated_helpful: i64,
    pub currently_rated_not_helpful: i64,
    pub needs_more_ratings: i64,
}

/// Everything a scoring run stores, in one transaction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoringResult {
    pub run: Option<ScoringRun>,
    /// Replaces all note scores.
    pub note_scores: Vec<NoteScore>,
    /// Replaces the status history rows of these notes.
    pub history: Vec<StatusHistoryRow>,
    /// Replaces all rater scores.
    pub rater_scores: Vec<RaterScore>,
    /// Contributors whose impact or enrollment changed.
    pub contributors: Vec<ContributorUpdate>,
}

/// A consistent view of the community for scoring, exporting or checking rules: the four
/// public tables, read in one transaction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublicData {
    /// Notes that are not deleted.
    pub notes: Vec<Note>,
    pub ratings: Ratings,
    pub status_history: Vec<StatusHistoryRow>,
    /// Contributors with an enrollment row.
    pub enrollment: Vec<Enrollment>,
}

/// Counts of what an import added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub contributors: usize,
    pub posts: usize,
    pub notes: usize,
    pub ratings: usize,
    pub status_history: usize,
}

/// A request for a note on a post.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteRequestRecord {
    pub post_id: i64,
    pub requester: String,
    pub created_at_millis: i64,
    pub source_link: Option<String>,
    pub reason: Option<String>,
}

/// What deciding which requested posts writers see needs: every request since a time, and
/// for each post with a note the time of its first note and whether a note on it is rated
/// helpful now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestFacts {
    pub requests: Vec<NoteRequestRecord>,
    /// (post id, first note's creation time, has a currently-rated-helpful note)
    pub noted_posts: Vec<(i64, i64, bool)>,
}

/// What the writing rules look at, read inside the transaction that writes the note (so two
/// notes written at once cannot both slip under a limit).
#[derive(Clone, Debug, PartialEq)]
pub struct WriterFacts {
    pub writer: Contributor,
    pub post: Post,
    /// The writer already has a (not deleted) note on this post.
    pub already_noted_post: bool,
    /// Notes the writer wrote in the 24 hours before now.
    pub notes_last_day: i64,
    /// Notes the writer wrote in the 30 days before now.
    pub notes_last_30_days: i64,
    /// All notes the writer ever wrote.
    pub notes_total: i64,
    /// The writer's notes that the latest scoring run rated helpful or not helpful.
    pub notes_decided: i64,
    /// The writer's notes on posts by this post's author: in the last 24 hours, the last 7
    /// days, ever, and ever with a currently-rated-helpful status.
    pub author_notes_last_day: i64,
    pub author_notes_last_week: i64,
    pub author_notes_total: i64,
    pub author_notes_helpful: i64,
    /// Final statuses of the writer's latest notes, newest first (at most 100).
    pub recent_statuses: Vec<Option<String>>,
}

/// What the rating rules look at, read inside the transaction that writes the rating.
#[derive(Clone, Debug, PartialEq)]
pub struct RaterFacts {
    pub rater: Contributor,
    pub note_author: String,
    pub note_deleted: bool,
}

/// What the request rules look at: requests the requester made in the 24 hours before now.
#[derive(Clone, Debug, PartialEq)]
pub struct RequesterFacts {
    pub requests_last_day: i64,
    pub already_requested: bool,
}

/// A signed-in browser session, found by the SHA-256 of its cookie value.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    pub contributor: Contributor,
    /// The CSRF token the session's forms carry.
    pub csrf: String,
    pub expires_at_millis: i64,
}

/// A note that may go on the "Needs your help" timeline, with what ranking it needs.
#[derive(Clone, Debug, PartialEq)]
pub struct HelpCandidate {
    pub view: NoteView,
    /// When the post the note is on was created.
    pub post_created_at_millis: i64,
    /// Ratings from raters whose latest core factor is below zero / above zero.
    pub raters_negative: i64,
    pub raters_positive: i64,
    /// The note author's writing impact after the latest scoring run.
    pub author_writing_impact: i64,
}
