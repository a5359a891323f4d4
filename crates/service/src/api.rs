//! The JSON API under `/api`: request and response types (with their OpenAPI schemas) and
//! the handlers. Handlers check input, ask [`crate::rules`] and storage, and answer; ids of
//! notes and posts are strings in JSON (they exceed what a JSON number holds exactly).

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::{Json, Router, routing};
use bridgenotes_engine::note::{MISLEADING_REASONS, NOT_MISLEADING_REASONS};
use bridgenotes_engine::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};
use bridgenotes_engine::{
    Classification, Enrollment, EnrollmentState, HelpfulnessLevel, Note, RatingRow, RatingSource,
};
use bridgenotes_storage::{
    Contributor, NewContributor, NoteRequestRecord, NoteView, Post, ScoringRun,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::auth::{Admin, Caller, new_token, random_hex, token_hash};
use crate::error::{ApiError, ErrorBody};
use crate::rules;
use crate::scoring::run_scoring;

const DAY_MILLIS: i64 = 86_400_000;

/// JSON body extractor whose rejections are JSON errors too.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let status = rejection.status();
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "body_too_large"
                } else {
                    "invalid_body"
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

pub(crate) fn parse_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request("invalid_id", format!("{what} id must be an integer")))
}

// ----- types -----

/// A contributor as others see them.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ContributorOut {
    pub participant_id: String,
    pub alias: String,
    pub ai_writer: bool,
    /// Enrollment state (`newUser`, `earnedIn`, `atRisk`, `earnedOutNoAcknowledge`, …).
    pub enrollment_state: Option<String>,
    pub rating_impact: i64,
    pub writing_impact: i64,
    /// Whether they may write notes now.
    pub can_write: bool,
    /// Rating impact at which writing unlocks (while it is locked).
    pub rating_impact_needed: Option<i64>,
}

impl From<&Contributor> for ContributorOut {
    fn from(c: &Contributor) -> Self {
        let state = c.enrollment.as_ref().map(|e| e.state);
        let can_write = if c.is_ai_writer {
            state == Some(EnrollmentState::ApiEarnedIn)
        } else {
            matches!(
                state,
                Some(EnrollmentState::EarnedIn | EnrollmentState::AtRisk)
            )
        };
        ContributorOut {
            participant_id: c.participant_id.clone(),
            alias: c.alias.clone(),
            ai_writer: c.is_ai_writer,
            enrollment_state: state.map(|s| s.name().to_string()),
            rating_impact: c.rating_impact,
            writing_impact: c.writing_impact,
            can_write,
            rating_impact_needed: (!can_write && !c.is_ai_writer).then(|| {
                c.enrollment
                    .as_ref()
                    .map_or(rules::RATING_IMPACT_TO_EARN_IN, |e| {
                        e.successful_rating_needed_to_earn_in
                    })
            }),
        }
    }
}

/// A new contributor (administrator only).
#[derive(Deserialize, ToSchema, Default)]
pub struct NewContributorIn {
    /// Start in this enrollment state (default `newUser`; `earnedIn` bootstraps the first
    /// writers of a community).
    #[serde(default)]
    pub enrollment_state: Option<String>,
    /// An AI note writer (writes through the AI writer API, never rates; starts admitted).
    #[serde(default)]
    pub ai_writer: bool,
}

/// A created contributor with their API token: shown this once, stored only hashed.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct CreatedContributor {
    pub contributor: ContributorOut,
    pub token: String,
}

/// A post to annotate.
#[derive(Deserialize, ToSchema)]
pub struct NewPostIn {
    /// The platform's id of the post (unique).
    pub external_id: String,
    pub author_handle: String,
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct PostOut {
    pub id: String,
    pub external_id: String,
    pub author_handle: String,
    pub text: String,
    pub url: Option<String>,
    pub created_at_millis: i64,
}

impl From<&Post> for PostOut {
    fn from(p: &Post) -> Self {
        PostOut {
            id: p.id.to_string(),
            external_id: p.external_id.clone(),
            author_handle: p.author_handle.clone(),
            text: p.text.clone(),
            url: p.url.clone(),
            created_at_millis: p.created_at_millis,
        }
    }
}

/// A post with its notes (not deleted), oldest first.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct PostWithNotes {
    pub post: PostOut,
    pub notes: Vec<NoteOut>,
}

/// A note to write.
#[derive(Deserialize, ToSchema)]
pub struct NewNoteIn {
    pub post_id: String,
    /// `MISINFORMED_OR_POTENTIALLY_MISLEADING` or `NOT_MISLEADING`.
    pub classification: String,
    /// Reason checkboxes by their public column names (`misleadingFactualError`, …,
    /// `notMisleadingFactuallyCorrect`, …), matching the classification.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The note text with its source URLs: at most 280 characters not counting URLs.
    pub summary: String,
    #[serde(default)]
    pub trustworthy_sources: Option<bool>,
    #[serde(default)]
    pub is_media_note: bool,
}

/// A note with its current status.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct NoteOut {
    pub id: String,
    pub post_id: String,
    pub author: String,
    pub author_alias: String,
    pub created_at_millis: i64,
    pub classification: String,
    pub reasons: Vec<String>,
    pub summary: String,
    pub trustworthy_sources: bool,
    pub is_media_note: bool,
    pub deleted: bool,
    pub ratings: i64,
    /// `NEEDS_MORE_RATINGS` until a scoring run decides otherwise.
    pub status: String,
    pub score: Option<ScoreOut>,
    pub history: Option<HistoryOut>,
}

/// What the latest scoring run said about a note.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ScoreOut {
    pub core_note_intercept: Option<f64>,
    pub core_note_factor: Option<f64>,
    /// The core intercept's pseudo-rater interval (lowest and highest value when extreme
    /// pseudo-ratings are added); a highest value below −0.04 makes a note not helpful.
    pub core_note_intercept_min: Option<f64>,
    pub core_note_intercept_max: Option<f64>,
    pub core_rating_status: Option<String>,
    pub first_tag: Option<String>,
    pub second_tag: Option<String>,
    pub decided_by: Option<String>,
    pub num_ratings: i64,
}

/// The note's status history (the public noteStatusHistory row, in brief).
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct HistoryOut {
    pub first_non_nmr_status: Option<String>,
    pub timestamp_millis_of_first_non_nmr_status: Option<f64>,
    pub current_status: Option<String>,
    pub timestamp_millis_of_current_status: Option<f64>,
    pub most_recent_non_nmr_status: Option<String>,
    pub locked_status: Option<String>,
    pub timestamp_millis_of_status_lock: Option<f64>,
    pub current_decided_by: Option<String>,
}

pub(crate) fn note_out(view: &NoteView, alias: &str) -> NoteOut {
    let n = &view.note;
    let names = |flags: &[bool], names: &[&str]| -> Vec<String> {
        flags
            .iter()
            .zip(names)
            .filter(|(on, _)| **on)
            .map(|(_, name)| name.to_string())
            .collect()
    };
    let mut reasons = names(&n.misleading, &MISLEADING_REASONS);
    reasons.extend(names(&n.not_misleading, &NOT_MISLEADING_REASONS));
    let status_name = |s: Option<bridgenotes_engine::NoteStatus>| s.map(|s| s.as_str().to_string());
    NoteOut {
        id: n.note_id.to_string(),
        post_id: n.tweet_id.to_string(),
        author: n.author.clone(),
        author_alias: alias.to_string(),
        created_at_millis: n.created_at_millis,
        classification: n.classification.name().to_string(),
        reasons,
        summary: n.summary.clone(),
        trustworthy_sources: n.trustworthy_sources,
        is_media_note: n.is_media_note,
        deleted: view.deleted_at_millis.is_some(),
        ratings: view.ratings,
        status: view
            .score
            .as_ref()
            .and_then(|s| s.final_rating_status.clone())
            .unwrap_or_else(|| "NEEDS_MORE_RATINGS".to_string()),
        score: view.score.as_ref().map(|s| ScoreOut {
            core_note_intercept: s.core_note_intercept,
            core_note_factor: s.core_note_factor,
            core_note_intercept_min: s.core_note_intercept_min,
            core_note_intercept_max: s.core_note_intercept_max,
            core_rating_status: s.core_rating_status.clone(),
            first_tag: s.first_tag.clone(),
            second_tag: s.second_tag.clone(),
            decided_by: s.decided_by.clone(),
            num_ratings: s.num_ratings,
        }),
        history: view.history.as_ref().map(|h| HistoryOut {
            first_non_nmr_status: status_name(h.first_non_nmr_status),
            timestamp_millis_of_first_non_nmr_status: h.timestamp_millis_of_first_non_nmr_status,
            current_status: status_name(h.current_status),
            timestamp_millis_of_current_status: h.timestamp_millis_of_current_status,
            most_recent_non_nmr_status: status_name(h.most_recent_non_nmr_status),
            locked_status: status_name(h.locked_status),
            timestamp_millis_of_status_lock: h.timestamp_millis_of_status_lock,
            current_decided_by: h.current_decided_by.clone(),
        }),
    }
}

async fn note_outs(state: &AppState, views: &[NoteView]) -> Result<Vec<NoteOut>, ApiError> {
    let mut out = Vec::with_capacity(views.len());
    for view in views {
        let alias = state
            .store
            .contributor(&view.note.author)
            .await?
            .map_or_else(String::new, |c| c.alias);
        out.push(note_out(view, &alias));
    }
    Ok(out)
}

/// A rating.
#[derive(Deserialize, ToSchema)]
pub struct RatingIn {
    /// `HELPFUL`, `SOMEWHAT_HELPFUL` or `NOT_HELPFUL`.
    pub helpfulness_level: String,
    /// Tags by their public column names (`helpfulClear`, `notHelpfulIncorrect`, …).
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RatingOut {
    /// Whether this replaced the contributor's earlier rating of the note.
    pub replaced: bool,
}

/// A request for a note on a post.
#[derive(Deserialize, ToSchema, Default)]
pub struct NoteRequestIn {
    #[serde(default)]
    pub source_link: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A post whose note requests are enough to show it to writers.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct EligiblePost {
    pub post: PostOut,
    /// Requests in the last 24 hours.
    pub requests: usize,
    /// Source links requesters suggested, with how many suggested each.
    pub suggested_sources: Vec<(String, usize)>,
}

/// A scoring run's summary.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RunOut {
    pub id: i64,
    pub now_millis: i64,
    pub seconds: f64,
    pub notes: i64,
    pub ratings: i64,
    pub currently_rated_helpful: i64,
    pub currently_rated_not_helpful: i64,
    pub needs_more_ratings: i64,
}

impl From<&ScoringRun> for RunOut {
    fn from(r: &ScoringRun) -> Self {
        RunOut {
            id: r.id,
            now_millis: r.now_millis,
            seconds: (r.finished_at_millis - r.started_at_millis) as f64 / 1000.0,
            notes: r.notes,
            ratings: r.ratings,
            currently_rated_helpful: r.currently_rated_helpful,
            currently_rated_not_helpful: r.currently_rated_not_helpful,
            needs_more_ratings: r.needs_more_ratings,
        }
    }
}

// ----- handlers -----

#[utoipa::path(post, path = "/api/admin/contributors", request_body = NewContributorIn,
    responses((status = 201, body = CreatedContributor), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_contributor(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(input): ApiJson<NewContributorIn>,
) -> Result<(StatusCode, Json<CreatedContributor>), ApiError> {
    let state_name = input
        .enrollment_state
        .as_deref()
        .unwrap_or(if input.ai_writer {
            "apiEarnedIn"
        } else {
            "newUser"
        });
    let enrollment_state: EnrollmentState =
        state_name
            .parse()
            .map_err(|e: bridgenotes_engine::status::UnknownValue| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_enrollment_state",
                    e.to_string(),
                )
            })?;
    let created = new_contributor(&state, enrollment_state, input.ai_writer).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates a contributor in `enrollment_state` with a new API token (shown this once).
pub async fn new_contributor(
    state: &AppState,
    enrollment_state: EnrollmentState,
    ai_writer: bool,
) -> Result<CreatedContributor, ApiError> {
    let now = state.clock.now_millis();
    let participant_id = random_hex(32);
    let token = new_token();
    let contributor = state
        .store
        .create_contributor(&NewContributor {
            alias: bridgenotes_storage::alias::alias_for(&participant_id),
            token_hash: Some(token_hash(&token)),
            is_ai_writer: ai_writer,
            enrollment: Some(Enrollment {
                participant_id: participant_id.clone(),
                state: enrollment_state,
                successful_rating_needed_to_earn_in: rules::RATING_IMPACT_TO_EARN_IN,
                timestamp_of_last_state_change: now,
                timestamp_of_last_earn_out: None,
                modeling_population: Some("CORE".to_string()),
                // The core model scores only raters in its modeling groups; a new community
                // has one population, so everyone starts in the first core group.
                modeling_group: Some(f64::from(bridgenotes_engine::scorer::CORE_GROUPS[0])),
                number_of_times_earned_out: 0,
            }),
            participant_id,
            created_at_millis: now,
        })
        .await?;
    Ok(CreatedContributor {
        contributor: ContributorOut::from(&contributor),
        token,
    })
}

#[utoipa::path(post, path = "/api/admin/score",
    responses((status = 200, body = RunOut), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn score_now(State(state): State<AppState>, _: Admin) -> Result<Json<RunOut>, ApiError> {
    let run = run_scoring(&state).await.map_err(|e| {
        tracing::error!("scoring run failed: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "scoring_failed",
            format!("the scoring run failed and changed nothing: {e}"),
        )
    })?;
    Ok(Json(RunOut::from(&run)))
}

#[utoipa::path(get, path = "/api/me", responses((status = 200, body = ContributorOut),
    (status = 401, body = ErrorBody)), security(("bearer" = [])))]
async fn me(Caller(me): Caller) -> Json<ContributorOut> {
    Json(ContributorOut::from(&me))
}

#[utoipa::path(get, path = "/api/contributors/{participant_id}",
    responses((status = 200, body = ContributorOut), (status = 404, body = ErrorBody)))]
async fn contributor(
    State(state): State<AppState>,
    Path(participant_id): Path<String>,
) -> Result<Json<ContributorOut>, ApiError> {
    let c = state
        .store
        .contributor(&participant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("contributor"))?;
    Ok(Json(ContributorOut::from(&c)))
}

#[utoipa::path(post, path = "/api/posts", request_body = NewPostIn,
    responses((status = 201, body = PostOut), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_post(
    State(state): State<AppState>,
    Caller(_): Caller,
    ApiJson(input): ApiJson<NewPostIn>,
) -> Result<(StatusCode, Json<PostOut>), ApiError> {
    if input.external_id.trim().is_empty() || input.author_handle.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_post",
            "a post needs an external id and an author handle",
        ));
    }
    let now = state.clock.now_millis();
    let post = Post {
        id: state.ids.next(now),
        external_id: input.external_id,
        author_handle: input.author_handle,
        text: input.text,
        url: input.url,
        created_at_millis: now,
    };
    state.store.create_post(&post).await?;
    Ok((StatusCode::CREATED, Json(PostOut::from(&post))))
}

#[utoipa::path(get, path = "/api/posts/{id}",
    responses((status = 200, body = PostWithNotes), (status = 404, body = ErrorBody)))]
async fn get_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PostWithNotes>, ApiError> {
    let id = parse_id(&id, "post")?;
    let post = state
        .store
        .post(id)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))?;
    let notes = state.store.notes_on_post(id).await?;
    Ok(Json(PostWithNotes {
        post: PostOut::from(&post),
        notes: note_outs(&state, &notes).await?,
    }))
}

fn flags_from_names<const N: usize>(
    wanted: &[String],
    names: &[&str; N],
) -> ([bool; N], Vec<String>) {
    let mut flags = [false; N];
    let mut unknown = Vec::new();
    for w in wanted {
        match names.iter().position(|n| n == w) {
            Some(i) => flags[i] = true,
            None => unknown.push(w.clone()),
        }
    }
    (flags, unknown)
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Writes a note from `input` for `writer` (shared by contributors and AI writers).
pub async fn write_note(
    state: &AppState,
    writer: &Contributor,
    input: NewNoteIn,
) -> Result<NoteOut, ApiError> {
    let classification: Classification =
        input
            .classification
            .parse()
            .map_err(|e: bridgenotes_engine::status::UnknownValue| {
                invalid("invalid_classification", e.to_string())
            })?;
    let misleading = classification == Classification::MisinformedOrPotentiallyMisleading;
    let (m, unknown_m) = flags_from_names(&input.reasons, &MISLEADING_REASONS);
    let (nm, unknown_nm) = flags_from_names(&input.reasons, &NOT_MISLEADING_REASONS);
    let wrong: Vec<&String> = input
        .reasons
        .iter()
        .filter(|r| unknown_m.contains(r) && unknown_nm.contains(r))
        .collect();
    if !wrong.is_empty() {
        return Err(invalid(
            "invalid_reason",
            format!("unknown reasons: {wrong:?}"),
        ));
    }
    if (misleading && nm.iter().any(|&x| x)) || (!misleading && m.iter().any(|&x| x)) {
        return Err(invalid(
            "invalid_reason",
            "reasons must match the classification",
        ));
    }
    rules::check_note_text(&input.summary, misleading)?;
    let post_id = parse_id(&input.post_id, "post")?;
    let now = state.clock.now_millis();
    let note = Note {
        note_id: state.ids.next(now),
        author: writer.participant_id.clone(),
        created_at_millis: now,
        tweet_id: post_id,
        classification,
        believable: None,
        harmful: None,
        validation_difficulty: None,
        misleading: if misleading { m } else { [false; 7] },
        not_misleading: if misleading { [false; 5] } else { nm },
        trustworthy_sources: input
            .trustworthy_sources
            .unwrap_or(!rules::source_urls(&input.summary).is_empty()),
        summary: input.summary,
        is_media_note: input.is_media_note,
        is_collaborative_note: false,
    };
    state
        .store
        .create_note(&note, now, &rules::check_writer)
        .await?;
    let view = state
        .store
        .note(note.note_id)
        .await?
        .ok_or_else(|| ApiError::not_found("note"))?;
    Ok(note_out(&view, &writer.alias))
}

#[utoipa::path(post, path = "/api/notes", request_body = NewNoteIn,
    responses((status = 201, body = NoteOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_note(
    State(state): State<AppState>,
    Caller(writer): Caller,
    ApiJson(input): ApiJson<NewNoteIn>,
) -> Result<(StatusCode, Json<NoteOut>), ApiError> {
    let note = write_note(&state, &writer, input).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[utoipa::path(get, path = "/api/notes/{id}",
    responses((status = 200, body = NoteOut), (status = 404, body = ErrorBody)))]
async fn get_note(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<NoteOut>, ApiError> {
    let id = parse_id(&id, "note")?;
    let view = state
        .store
        .note(id)
        .await?
        .ok_or_else(|| ApiError::not_found("note"))?;
    Ok(Json(note_outs(&state, &[view]).await?.remove(0)))
}

#[utoipa::path(delete, path = "/api/notes/{id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
async fn delete_note(
    State(state): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "note")?;
    state
        .store
        .delete_note(id, &me.participant_id, state.clock.now_millis())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/notes/{id}/rating", request_body = RatingIn,
    responses((status = 200, body = RatingOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn rate_note(
    State(state): State<AppState>,
    Caller(rater): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RatingIn>,
) -> Result<Json<RatingOut>, ApiError> {
    let note_id = parse_id(&id, "note")?;
    let replaced = rate(&state, &rater, note_id, input).await?;
    Ok(Json(RatingOut { replaced }))
}

/// Rates note `note_id` for `rater` (shared by the API and the pages). Returns whether an
/// earlier rating was replaced.
pub async fn rate(
    state: &AppState,
    rater: &Contributor,
    note_id: i64,
    input: RatingIn,
) -> Result<bool, ApiError> {
    let level: HelpfulnessLevel = input.helpfulness_level.parse().map_err(
        |e: bridgenotes_engine::status::UnknownValue| {
            invalid("invalid_helpfulness_level", e.to_string())
        },
    )?;
    let (helpful, unknown_h) = flags_from_names(&input.tags, &HELPFUL_TAGS);
    let (not_helpful, unknown_nh) = flags_from_names(&input.tags, &NOT_HELPFUL_TAGS);
    if let Some(bad) = unknown_h.iter().find(|t| unknown_nh.contains(t)) {
        return Err(invalid("invalid_tag", format!("unknown tag {bad:?}")));
    }
    let has_helpful = helpful.iter().any(|&x| x);
    let has_not_helpful = not_helpful.iter().any(|&x| x);
    let tags_fit = match level {
        HelpfulnessLevel::Helpful => !has_not_helpful,
        HelpfulnessLevel::NotHelpful => !has_helpful,
        HelpfulnessLevel::SomewhatHelpful => true,
    };
    if !tags_fit {
        return Err(invalid(
            "invalid_tag",
            "helpful tags go with helpful ratings, not-helpful tags with not-helpful ones",
        ));
    }
    let tags = helpful
        .iter()
        .chain(not_helpful.iter())
        .enumerate()
        .fold(0u32, |acc, (i, &on)| acc | (u32::from(on) << i));
    let rating = RatingRow {
        note_id,
        rater: rater.participant_id.clone(),
        created_at_millis: state.clock.now_millis(),
        version: None,
        flags: 0,
        level: Some(level),
        tags,
        rated_on_tweet_id: None,
        source: Some(RatingSource::Default),
        suggestion: None,
        suggestion_id: None,
    };
    Ok(state.store.rate(&rating, &rules::check_rater).await?)
}

#[utoipa::path(post, path = "/api/posts/{id}/requests", request_body = NoteRequestIn,
    responses((status = 201), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
async fn request_note(
    State(state): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoteRequestIn>,
) -> Result<StatusCode, ApiError> {
    let post_id = parse_id(&id, "post")?;
    request(&state, &me, post_id, input).await?;
    Ok(StatusCode::CREATED)
}

/// Records `me`'s request for a note on `post_id` (shared by the API and the pages).
pub(crate) async fn request(
    state: &AppState,
    me: &Contributor,
    post_id: i64,
    input: NoteRequestIn,
) -> Result<(), ApiError> {
    let request = NoteRequestRecord {
        post_id,
        requester: me.participant_id.clone(),
        created_at_millis: state.clock.now_millis(),
        source_link: input.source_link,
        reason: input.reason,
    };
    state
        .store
        .request_note(&request, &rules::check_requester)
        .await?;
    Ok(())
}

/// Posts whose requests in the last 24 hours pass the thresholds, most requested first.
async fn eligible_posts(state: &AppState) -> Result<Vec<EligiblePost>, ApiError> {
    use std::collections::{BTreeMap, HashMap};
    let now = state.clock.now_millis();
    let facts = state.store.request_facts(0).await?;
    let first_note: HashMap<i64, (i64, bool)> = facts
        .noted_posts
        .iter()
        .map(|&(post, first, helpful)| (post, (first, helpful)))
        .collect();
    let mut per_requester: HashMap<&str, (usize, usize)> = HashMap::new();
    for r in &facts.requests {
        let noted = first_note.get(&r.post_id);
        let eligible = noted.is_none_or(|&(first, _)| r.created_at_millis < first);
        if eligible {
            let entry = per_requester.entry(&r.requester).or_default();
            entry.0 += 1;
            entry.1 += usize::from(noted.is_some_and(|&(_, helpful)| helpful));
        }
    }
    let mut recent: BTreeMap<i64, Vec<&NoteRequestRecord>> = BTreeMap::new();
    for r in facts
        .requests
        .iter()
        .filter(|r| r.created_at_millis > now - DAY_MILLIS)
    {
        recent.entry(r.post_id).or_default().push(r);
    }
    let mut out = Vec::new();
    for (post_id, requests) in recent {
        let levels: Vec<rules::RequesterLevel> = requests
            .iter()
            .map(|r| {
                let (eligible, hits) = per_requester
                    .get(r.requester.as_str())
                    .copied()
                    .unwrap_or_default();
                rules::requester_level(eligible, hits)
            })
            .collect();
        if !rules::requests_show_post(&levels) {
            continue;
        }
        let Some(post) = state.store.post(post_id).await? else {
            continue;
        };
        let mut sources: BTreeMap<String, usize> = BTreeMap::new();
        for r in &requests {
            if let Some(link) = &r.source_link {
                *sources.entry(link.clone()).or_default() += 1;
            }
        }
        out.push(EligiblePost {
            post: PostOut::from(&post),
            requests: requests.len(),
            suggested_sources: sources.into_iter().collect(),
        });
    }
    out.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.post.id.cmp(&b.post.id)));
    Ok(out)
}

#[utoipa::path(get, path = "/api/ai/posts_eligible_for_notes",
    responses((status = 200, body = Vec<EligiblePost>)), security(("bearer" = [])))]
async fn ai_eligible_posts(
    State(state): State<AppState>,
    Caller(_): Caller,
) -> Result<Json<Vec<EligiblePost>>, ApiError> {
    Ok(Json(eligible_posts(&state).await?))
}

#[utoipa::path(post, path = "/api/ai/notes", request_body = NewNoteIn,
    responses((status = 201, body = NoteOut), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
async fn ai_write_note(
    State(state): State<AppState>,
    Caller(writer): Caller,
    ApiJson(input): ApiJson<NewNoteIn>,
) -> Result<(StatusCode, Json<NoteOut>), ApiError> {
    if !writer.is_ai_writer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_ai_writer",
            "this endpoint is for AI note writers; contributors use POST /api/notes",
        ));
    }
    let note = write_note(&state, &writer, input).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[utoipa::path(get, path = "/api/ai/notes_written",
    responses((status = 200, body = Vec<NoteOut>)), security(("bearer" = [])))]
async fn notes_written(
    State(state): State<AppState>,
    Caller(me): Caller,
) -> Result<Json<Vec<NoteOut>>, ApiError> {
    let views = state.store.notes_by_author(&me.participant_id, 100).await?;
    Ok(Json(views.iter().map(|v| note_out(v, &me.alias)).collect()))
}

#[utoipa::path(get, path = "/api/scoring/latest",
    responses((status = 200, body = RunOut), (status = 404, body = ErrorBody)))]
async fn latest_run(State(state): State<AppState>) -> Result<Json<RunOut>, ApiError> {
    let run = state
        .store
        .latest_run()
        .await?
        .ok_or_else(|| ApiError::not_found("scoring run"))?;
    Ok(Json(RunOut::from(&run)))
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// The OpenAPI description of the API.
#[derive(OpenApi)]
#[openapi(
    info(title = "bridgenotes", description = "Community Notes: write, rate and score notes."),
    paths(create_contributor, score_now, me, contributor, create_post, get_post, create_note,
        get_note, delete_note, rate_note, request_note, ai_eligible_posts, ai_write_note,
        notes_written, latest_run),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The `/api` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", routing::get(openapi))
        .route("/api/health", routing::get(|| async { "ok" }))
        .route("/api/admin/contributors", routing::post(create_contributor))
        .route("/api/admin/score", routing::post(score_now))
        .route("/api/me", routing::get(me))
        .route(
            "/api/contributors/{participant_id}",
            routing::get(contributor),
        )
        .route("/api/posts", routing::post(create_post))
        .route("/api/posts/{id}", routing::get(get_post))
        .route("/api/posts/{id}/requests", routing::post(request_note))
        .route("/api/notes", routing::post(create_note))
        .route(
            "/api/notes/{id}",
            routing::get(get_note).delete(delete_note),
        )
        .route("/api/notes/{id}/rating", routing::put(rate_note))
        .route(
            "/api/ai/posts_eligible_for_notes",
            routing::get(ai_eligible_posts),
        )
        .route("/api/ai/notes", routing::post(ai_write_note))
        .route("/api/ai/notes_written", routing::get(notes_written))
        .route("/api/scoring/latest", routing::get(latest_run))
        .fallback(not_found)
}
