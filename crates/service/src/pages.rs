//! Server-rendered HTML pages: timelines, post, note ("why this status" and a viewpoint
//! plot), contributor profiles, and forms to sign in, rate, write and request notes.
//!
//! - Templates are [`maud`]: every interpolated value is HTML-escaped by the template engine;
//!   nothing here builds markup from strings by hand.
//! - No JavaScript and no external assets: one inline stylesheet, allowed by its hash in
//!   the Content-Security-Policy; `frame-ancestors 'none'`, `nosniff`.
//! - Sign-in exchanges an API token for a session cookie (`HttpOnly`, `SameSite=Strict`);
//!   each session has a CSRF token every form carries in a hidden field and every POST
//!   checks.
//! - Forms call the same functions as the JSON API ([`crate::api`]), so the same rules and
//!   limits apply.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing};
use base64::prelude::{BASE64_STANDARD, Engine as _};
use bridgenotes_engine::note::{MISLEADING_REASONS, NOT_MISLEADING_REASONS};
use bridgenotes_engine::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};
use bridgenotes_engine::{HelpfulnessLevel, NoteStatus};
use bridgenotes_storage::{Contributor, NoteView, Post};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::api::{self, ContributorOut, NewNoteIn, NoteOut, NoteRequestIn, RatingIn};
use crate::auth::{random_hex, token_hash};
use crate::error::ApiError;
use crate::needs_help;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bn_session";
/// How many notes a timeline shows.
const TIMELINE_LENGTH: i64 = 50;
/// The core model's thresholds (the guide's "under the hood" page).
const CRH_INTERCEPT: f64 = 0.40;
const CRH_MAX_FACTOR: f64 = 0.50;
const CRNH_INTERCEPT: f64 = -0.05;
const CRNH_FACTOR_SLOPE: f64 = 0.8;
/// A note whose pseudo-rater interval ends below this is not helpful (the guide's
/// "Modeling uncertainty").
const CRNH_UCB_INTERCEPT: f64 = -0.04;

/// How long a browser session lasts after sign-in.
const SESSION_DAYS: i64 = 30;
const DAY_MILLIS: i64 = 86_400_000;

const CSS: &str = "\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#f6f6f4}\
header{background:#1d3557;color:#fff;padding:.6rem 1rem}header a{color:#fff}\
nav ul{list-style:none;margin:.3rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1rem}\
main{max-width:52rem;margin:0 auto;padding:1rem}\
article,section.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem}\
.post{border-left:4px solid #999;padding-left:.7rem;color:#333}\
.status{display:inline-block;padding:0 .5rem;border-radius:4px;font-size:.85rem;font-weight:600}\
.CURRENTLY_RATED_HELPFUL{background:#d8f3dc;color:#1b4332}.CURRENTLY_RATED_NOT_HELPFUL{background:#fde2e4;color:#7f1d1d}\
.NEEDS_MORE_RATINGS{background:#eee;color:#333}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e3e3;padding:.3rem;text-align:left;vertical-align:top}\
svg{width:100%;height:auto;background:#fff}fieldset{border:1px solid #ccc;margin:0 0 .7rem}\
label{display:block}textarea,input[type=text],input[type=url],input[type=password]{width:100%;font:inherit;padding:.3rem}\
button{font:inherit;padding:.4rem 1rem}.error{background:#fde2e4;border:1px solid #b00;padding:.6rem}\
.muted{color:#666;font-size:.9rem}@media (max-width:600px){main{padding:.5rem}body{font-size:15px}}";

fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = BASE64_STANDARD.encode(Sha256::digest(CSS.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

/// Adds the security headers to every page.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(csp()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

// ----- requests: cookies, sessions, form bodies -----

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Who is signed in (if anyone), with their session. Sessions live in the database (only
/// the hash of the cookie value), so a restart signs nobody out.
struct Viewer {
    /// The hash of the session cookie's value.
    session_hash: String,
    /// The CSRF token the session's forms carry.
    csrf: String,
    contributor: Contributor,
}

async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Option<Viewer>, ApiError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let session_hash = token_hash(id);
    let now = state.clock.now_millis();
    Ok(state
        .store
        .session(&session_hash, now)
        .await?
        .map(|s| Viewer {
            session_hash,
            csrf: s.csrf,
            contributor: s.contributor,
        }))
}

/// An `application/x-www-form-urlencoded` body (repeated names kept, in order).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &str) -> Form {
        Form(
            form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }
}

/// The signed-in viewer of a form POST whose CSRF token matches their session.
async fn form_viewer(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Viewer, Response> {
    let viewer = match viewer(state, headers).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return Err(error_page(
                None,
                StatusCode::UNAUTHORIZED,
                "Please sign in first.",
            ));
        }
        Err(e) => return Err(api_error_page(None, e)),
    };
    let sent = form.get("csrf").unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), viewer.csrf.as_bytes()) {
        return Err(error_page(
            Some(&viewer),
            StatusCode::FORBIDDEN,
            "The form's security token is missing or out of date. Reload the page and try again.",
        ));
    }
    Ok(viewer)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ----- rendering helpers -----

fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · bridgenotes" }
                style { (maud::PreEscaped(CSS)) }
            }
            body {
                header {
                    a href="/" { strong { "bridgenotes" } }
                    nav aria-label="Timelines and account" {
                        ul {
                            li { a href="/" { "Needs your help" } }
                            li { a href="/timeline/new" { "New" } }
                            li { a href="/timeline/helpful" { "Rated helpful" } }
                            li { a href="/timeline/not-helpful" { "Rated not helpful" } }
                            @if let Some(v) = viewer {
                                li { a href={ "/contributors/" (v.contributor.participant_id) } {
                                    "Signed in as " (v.contributor.alias) } }
                                li {
                                    form method="post" action="/signout" {
                                        input type="hidden" name="csrf" value=(v.csrf);
                                        button type="submit" { "Sign out" }
                                    }
                                }
                            } @else {
                                li { a href="/signin" { "Sign in" } }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

fn error_page(viewer: Option<&Viewer>, status: StatusCode, message: &str) -> Response {
    html_response(
        status,
        page(
            status.canonical_reason().unwrap_or("Error"),
            viewer,
            html! { p.error role="alert" { (message) } p { a href="/" { "Back to the notes" } } },
        ),
    )
}

fn api_error_page(viewer: Option<&Viewer>, e: ApiError) -> Response {
    error_page(viewer, e.status, &format!("{} ({})", e.message, e.code))
}

/// `helpfulGoodSources` → "Good sources"; `misleadingMissingImportantContext` → "Missing
/// important context".
pub fn humanize(name: &str) -> String {
    let rest = ["notHelpful", "helpful", "notMisleading", "misleading"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .filter(|r| !r.is_empty())
        .unwrap_or(name);
    let mut out = String::new();
    for (i, c) in rest.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn status_label(status: &str) -> &'static str {
    match status {
        "CURRENTLY_RATED_HELPFUL" => "Rated helpful",
        "CURRENTLY_RATED_NOT_HELPFUL" => "Rated not helpful",
        "NEEDS_MORE_RATINGS" => "Needs more ratings",
        _ => "Other",
    }
}

fn status_badge(status: &str) -> Markup {
    let class = match status {
        "CURRENTLY_RATED_HELPFUL" | "CURRENTLY_RATED_NOT_HELPFUL" => status,
        _ => "NEEDS_MORE_RATINGS",
    };
    html! { span class={ "status " (class) } { (status_label(status)) } }
}

fn tags_of(note: &NoteOut) -> Vec<String> {
    note.score
        .iter()
        .flat_map(|s| [s.first_tag.clone(), s.second_tag.clone()])
        .flatten()
        .filter(|t| !t.is_empty())
        .map(|t| humanize(&t))
        .collect()
}

fn millis_text(millis: Option<f64>) -> String {
    match millis {
        Some(m) if m > 0.0 => {
            let secs = (m / 1000.0) as i64;
            let days = secs.div_euclid(86_400);
            let (y, mo, d) = civil_from_days(days);
            let rem = secs.rem_euclid(86_400);
            format!(
                "{y:04}-{mo:02}-{d:02} {:02}:{:02} UTC",
                rem / 3600,
                (rem % 3600) / 60
            )
        }
        _ => "—".to_string(),
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn post_text(post: Option<&Post>) -> String {
    match post {
        Some(p) if !p.text.is_empty() => p.text.clone(),
        Some(p) => format!("Post {} (text not stored)", p.external_id),
        None => "(post not found)".to_string(),
    }
}

fn note_card(note: &NoteOut, post: Option<&Post>, show_post: bool) -> Markup {
    timeline_card(note, post, show_post, &[])
}

/// A note card; `why` says why a timeline shows it (empty: nothing said).
fn timeline_card(note: &NoteOut, post: Option<&Post>, show_post: bool, why: &[&str]) -> Markup {
    let tags = tags_of(note);
    html! {
        article aria-label="Note" {
            @if show_post {
                p.post {
                    @if let Some(p) = post { span.muted { "@" (p.author_handle) ": " } }
                    (post_text(post))
                }
            }
            p { (status_badge(&note.status)) " "
                span.muted { (note.ratings) " ratings · by "
                    a href={ "/contributors/" (note.author) } { (note.author_alias) } } }
            p.summary { (note.summary) }
            @if !tags.is_empty() {
                p.muted { "Top tags: " (tags.join(", ")) }
            }
            p {
                a href={ "/notes/" (note.id) } { "Why this status" }
                " · "
                a href={ "/posts/" (note.post_id) } { "Post and all its notes" }
            }
            @if !why.is_empty() {
                p.muted { "Here because: " (why.join("; ")) }
            }
        }
    }
}

async fn alias_of(state: &AppState, participant_id: &str) -> Result<String, ApiError> {
    Ok(state
        .store
        .contributor(participant_id)
        .await?
        .map_or_else(String::new, |c| c.alias))
}

async fn outs(state: &AppState, views: &[NoteView]) -> Result<Vec<NoteOut>, ApiError> {
    let mut out = Vec::with_capacity(views.len());
    for v in views {
        let alias = alias_of(state, &v.note.author).await?;
        out.push(api::note_out(v, &alias));
    }
    Ok(out)
}

// ----- pages -----

#[derive(Clone, Copy)]
enum Timeline {
    NeedsHelp,
    New,
    Helpful,
    NotHelpful,
}

impl Timeline {
    fn title(self) -> &'static str {
        match self {
            Timeline::NeedsHelp => "Needs your help",
            Timeline::New => "New",
            Timeline::Helpful => "Rated helpful",
            Timeline::NotHelpful => "Rated not helpful",
        }
    }
    fn status(self) -> Option<&'static str> {
        match self {
            Timeline::NeedsHelp => Some(NoteStatus::NeedsMoreRatings.as_str()),
            Timeline::New => None,
            Timeline::Helpful => Some(NoteStatus::CurrentlyRatedHelpful.as_str()),
            Timeline::NotHelpful => Some(NoteStatus::CurrentlyRatedNotHelpful.as_str()),
        }
    }
    fn blurb(self) -> &'static str {
        match self {
            Timeline::NeedsHelp => {
                "Up to 15 posts whose notes most need ratings: recent posts, notes whose raters so far \
                 lean to one side, notes nearing the helpful threshold, authors with a positive \
                 writing impact. Your own notes and notes you rated are left out."
            }
            Timeline::New => "The newest notes.",
            Timeline::Helpful => {
                "Notes rated helpful by raters who usually disagree with each other: these are shown on their posts."
            }
            Timeline::NotHelpful => "Notes raters found not helpful.",
        }
    }
}

async fn timeline(state: &AppState, headers: &HeaderMap, which: Timeline) -> Response {
    let result = async {
        let viewer = viewer(state, headers).await?;
        let (views, reasons): (Vec<NoteView>, Vec<Vec<&str>>) = match which {
            Timeline::NeedsHelp => {
                let who = viewer
                    .as_ref()
                    .map(|v| v.contributor.participant_id.as_str());
                let candidates = state
                    .store
                    .needs_help_candidates(who, needs_help::CANDIDATES)
                    .await?;
                needs_help::rank(candidates, state.clock.now_millis())
                    .into_iter()
                    .map(|(c, k)| (c.view, help_reasons(k)))
                    .unzip()
            }
            _ => {
                let views = state
                    .store
                    .notes_by_status(which.status(), TIMELINE_LENGTH)
                    .await?;
                let reasons = vec![Vec::new(); views.len()];
                (views, reasons)
            }
        };
        let notes = outs(state, &views).await?;
        let mut posts = Vec::with_capacity(views.len());
        for v in &views {
            posts.push(state.store.post(v.note.tweet_id).await?);
        }
        let body = html! {
            p.muted { (which.blurb()) }
            @if notes.is_empty() { p { "No notes here yet." } }
            @for ((note, post), why) in notes.iter().zip(&posts).zip(&reasons) {
                (timeline_card(note, post.as_ref(), true, why))
            }
        };
        Ok::<_, ApiError>(html_response(
            StatusCode::OK,
            page(which.title(), viewer.as_ref(), body),
        ))
    }
    .await;
    result.unwrap_or_else(|e| api_error_page(None, e))
}

/// The criteria a note on the "Needs your help" timeline meets, in words.
fn help_reasons(k: needs_help::Criteria) -> Vec<&'static str> {
    let mut out = Vec::new();
    if k.lopsided {
        out.push("its raters so far lean to one side");
    }
    if k.post_within_6h {
        out.push("the post is under 6 hours old");
    } else if k.post_within_24h {
        out.push("the post is under a day old");
    }
    if k.nearing_helpful {
        out.push("it is nearing the helpful threshold");
    }
    if k.author_positive {
        out.push("its author writes helpful notes");
    }
    out
}

async fn needs_help(State(state): State<AppState>, headers: HeaderMap) -> Response {
    timeline(&state, &headers, Timeline::NeedsHelp).await
}
async fn newest(State(state): State<AppState>, headers: HeaderMap) -> Response {
    timeline(&state, &headers, Timeline::New).await
}
async fn helpful(State(state): State<AppState>, headers: HeaderMap) -> Response {
    timeline(&state, &headers, Timeline::Helpful).await
}
async fn not_helpful(State(state): State<AppState>, headers: HeaderMap) -> Response {
    timeline(&state, &headers, Timeline::NotHelpful).await
}

fn rank(status: &str) -> u8 {
    match status {
        "CURRENTLY_RATED_HELPFUL" => 0,
        "NEEDS_MORE_RATINGS" => 1,
        _ => 2,
    }
}

fn write_form(post_id: i64, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="write-heading" {
            h2 #write-heading { "Write a note" }
            form method="post" action={ "/posts/" (post_id) "/notes" } {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { "Is this post misleading?" }
                    label { input type="radio" name="classification"
                        value="MISINFORMED_OR_POTENTIALLY_MISLEADING" checked;
                        " Misinformed or potentially misleading" }
                    label { input type="radio" name="classification" value="NOT_MISLEADING";
                        " Not misleading" }
                }
                fieldset {
                    legend { "Why? (reasons for a misleading post)" }
                    @for r in MISLEADING_REASONS {
                        label { input type="checkbox" name="reason" value=(r); " " (humanize(r)) }
                    }
                }
                fieldset {
                    legend { "Why? (reasons for a post that is not misleading)" }
                    @for r in NOT_MISLEADING_REASONS {
                        label { input type="checkbox" name="reason" value=(r); " " (humanize(r)) }
                    }
                }
                label for="summary" { "Your note (at most 280 characters, not counting links)" }
                textarea #summary name="summary" rows="4" required {}
                label for="sources" { "Sources (links, one a line; needed for a misleading post)" }
                textarea #sources name="sources" rows="2" {}
                label { input type="checkbox" name="trustworthy_sources" value="1" checked;
                    " My sources are trustworthy" }
                button type="submit" { "Publish note" }
            }
        }
    }
}

fn request_form(post_id: i64, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="request-heading" {
            h2 #request-heading { "Request a note" }
            form method="post" action={ "/posts/" (post_id) "/requests" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="request-source" { "A source that may help (optional)" }
                input #request-source type="url" name="source_link";
                label for="request-reason" { "Why does this post need a note? (optional)" }
                input #request-reason type="text" name="reason";
                button type="submit" { "Request a note" }
            }
        }
    }
}

async fn post_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let viewer = viewer(&state, &headers).await?;
        let id = api::parse_id(&id, "post")?;
        let post = state
            .store
            .post(id)
            .await?
            .ok_or_else(|| ApiError::not_found("post"))?;
        let views = state.store.notes_on_post(id).await?;
        let mut notes = outs(&state, &views).await?;
        // The shown note first: helpful before needs-more-ratings before not helpful, then
        // the highest intercept.
        notes.sort_by(|a, b| {
            let ia = a.score.as_ref().and_then(|s| s.core_note_intercept);
            let ib = b.score.as_ref().and_then(|s| s.core_note_intercept);
            rank(&a.status).cmp(&rank(&b.status)).then(
                ib.unwrap_or(f64::MIN)
                    .partial_cmp(&ia.unwrap_or(f64::MIN))
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        });
        let body = html! {
            article aria-label="Post" {
                p.muted { "@" (post.author_handle) " · " (millis_text(Some(post.created_at_millis as f64))) }
                p.post { (post_text(Some(&post))) }
                @if let Some(url) = &post.url { p.muted { "Link: " (url) } }
            }
            h2 { "Notes (" (notes.len()) ")" }
            @if notes.is_empty() { p { "No notes on this post yet." } }
            @for note in &notes { (note_card(note, Some(&post), false)) }
            @if let Some(v) = &viewer {
                (write_form(post.id, &v.csrf))
                (request_form(post.id, &v.csrf))
            } @else {
                p { a href="/signin" { "Sign in" } " to write or request a note." }
            }
        };
        Ok::<_, ApiError>(html_response(
            StatusCode::OK,
            page("Post", viewer.as_ref(), body),
        ))
    }
    .await;
    result.unwrap_or_else(|e| api_error_page(None, e))
}

/// One rater of a note, for the viewpoint plot.
struct PlotPoint {
    factor: f64,
    level: Option<HelpfulnessLevel>,
}

/// Helpful, somewhat and not-helpful counts of one side.
#[derive(Default)]
struct Side {
    helpful: usize,
    somewhat: usize,
    not_helpful: usize,
}

impl Side {
    fn add(&mut self, level: Option<HelpfulnessLevel>) {
        match level {
            Some(HelpfulnessLevel::Helpful) => self.helpful += 1,
            Some(HelpfulnessLevel::SomewhatHelpful) => self.somewhat += 1,
            Some(HelpfulnessLevel::NotHelpful) => self.not_helpful += 1,
            None => {}
        }
    }
    fn total(&self) -> usize {
        self.helpful + self.somewhat + self.not_helpful
    }
    fn share(&self) -> String {
        match self.total() {
            0 => "no ratings".to_string(),
            n => format!(
                "{:.0}% helpful ({} of {n})",
                100.0 * self.helpful as f64 / n as f64,
                self.helpful
            ),
        }
    }
    fn net(&self) -> i64 {
        self.helpful as i64 - self.not_helpful as i64
    }
}

fn level_colour(level: Option<HelpfulnessLevel>) -> (&'static str, &'static str) {
    match level {
        Some(HelpfulnessLevel::Helpful) => ("#2d6a4f", "helpful"),
        Some(HelpfulnessLevel::SomewhatHelpful) => ("#e9a100", "somewhat helpful"),
        Some(HelpfulnessLevel::NotHelpful) => ("#c1121f", "not helpful"),
        None => ("#888", "no level"),
    }
}

fn viewpoint_plot(points: &[PlotPoint], left: &Side, right: &Side, unplaced: usize) -> Markup {
    const W: f64 = 600.0;
    const H: f64 = 220.0;
    let x_of = |f: f64| W / 2.0 + f.clamp(-1.5, 1.5) / 1.5 * (W / 2.0 - 20.0);
    let description = format!(
        "Each dot is a rater of this note, placed left or right by their viewpoint factor. \
         Left side: {}. Right side: {}.",
        left.share(),
        right.share()
    );
    html! {
        figure {
            svg #viewpoint-plot role="img" aria-labelledby="plot-title plot-desc"
                viewBox={ "0 0 " (W) " " (H) } xmlns="http://www.w3.org/2000/svg" {
                title #plot-title { "Viewpoint plot" }
                desc #plot-desc { (description) }
                rect x="0" y="0" width=(W) height=(H) fill="#fafafa" {}
                line x1=(W / 2.0) y1="10" x2=(W / 2.0) y2=(H - 30.0) stroke="#999" stroke-dasharray="4 4" {}
                @for (i, p) in points.iter().enumerate() {
                    @let (colour, label) = level_colour(p.level);
                    @let y = 20.0 + ((i * 37 + 11) % 150) as f64;
                    circle cx=(format!("{:.1}", x_of(p.factor))) cy=(y) r="5" fill=(colour)
                        fill-opacity="0.8" {
                        title { (format!("factor {:+.2}, rated {label}", p.factor)) }
                    }
                }
                text x="10" y=(H - 12.0) font-size="13" fill="#333" { "◀ factor < 0: " (left.share()) }
                text x=(W - 10.0) y=(H - 12.0) font-size="13" fill="#333" text-anchor="end" {
                    "factor > 0: " (right.share()) " ▶" }
            }
            figcaption.muted {
                "Green: helpful · amber: somewhat helpful · red: not helpful. "
                @if unplaced > 0 { (unplaced) " rater(s) have no factor yet (scored in the next run)." }
            }
        }
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:+.3}"))
}

fn why_this_status(note: &NoteOut, left: &Side, right: &Side) -> Markup {
    let score = note.score.as_ref();
    let intercept = score.and_then(|s| s.core_note_intercept);
    let factor = score.and_then(|s| s.core_note_factor);
    let crnh_bar = factor.map(|f| CRNH_INTERCEPT - CRNH_FACTOR_SLOPE * f.abs());
    let interval = score.and_then(|s| s.core_note_intercept_min.zip(s.core_note_intercept_max));
    let explain = match (intercept, factor) {
        (Some(i), Some(f)) if i >= CRH_INTERCEPT && f.abs() < CRH_MAX_FACTOR => format!(
            "The intercept {i:+.3} is at or above {CRH_INTERCEPT:.2} and the factor {f:+.3} is within ±{CRH_MAX_FACTOR:.2}: raters found it helpful whatever their viewpoint."
        ),
        (Some(i), Some(f)) if i >= CRH_INTERCEPT => format!(
            "The intercept {i:+.3} passes {CRH_INTERCEPT:.2}, but the factor {f:+.3} is beyond ±{CRH_MAX_FACTOR:.2}: its support comes from one side."
        ),
        (Some(i), Some(f)) if i <= CRNH_INTERCEPT - CRNH_FACTOR_SLOPE * f.abs() => format!(
            "The intercept {i:+.3} is at or below {:+.3} (−0.05 − 0.8 × |factor|): raters found it not helpful.",
            CRNH_INTERCEPT - CRNH_FACTOR_SLOPE * f.abs()
        ),
        (Some(i), Some(_)) => format!(
            "The intercept {i:+.3} is between the two thresholds: not enough agreement across viewpoints yet."
        ),
        _ => "Not scored yet: a note needs ratings and a scoring run.".to_string(),
    };
    let decided_by = score.and_then(|s| s.decided_by.clone()).or_else(|| {
        note.history
            .as_ref()
            .and_then(|h| h.current_decided_by.clone())
    });
    let tags = tags_of(note);
    let held = decided_by
        .as_deref()
        .is_some_and(|d| d.starts_with("NmrDueToMinStableCrhTime"));
    html! {
        section.card aria-labelledby="why-heading" {
            h2 #why-heading { "Why this status" }
            p { (status_badge(&note.status)) " " (explain) }
            @if held {
                p { "The core model rates it helpful; the note is held in stabilization \
                    (rule NmrDueToMinStableCrhTime) until that rating has lasted the minimum \
                    time, then a scoring run shows it." }
            }
            table {
                tr { th scope="row" { "Note intercept (helpfulness beyond viewpoint)" }
                    td { (fmt_opt(intercept)) " — helpful at ≥ " (format!("{CRH_INTERCEPT:.2}"))
                        ", not helpful at ≤ " (fmt_opt(crnh_bar)) } }
                tr { th scope="row" { "Note factor (viewpoint lean)" }
                    td { (fmt_opt(factor)) " — helpful needs |factor| < " (format!("{CRH_MAX_FACTOR:.2}")) } }
                tr { th scope="row" { "Decided by (model and rule)" }
                    td { (decided_by.as_deref().unwrap_or("—")) } }
                tr { th scope="row" { "Core model's status" }
                    td { (score.and_then(|s| s.core_rating_status.as_deref()).unwrap_or("—")) } }
                tr { th scope="row" { "Ratings scored" }
                    td { (score.map_or(0, |s| s.num_ratings)) " of " (note.ratings) " now" } }
                tr { th scope="row" { "Net helpful (helpful − not helpful), factor < 0" }
                    td { (left.net()) " (" (left.share()) ")" } }
                tr { th scope="row" { "Net helpful (helpful − not helpful), factor > 0" }
                    td { (right.net()) " (" (right.share()) ")" } }
                tr { th scope="row" { "Top tags" }
                    td { @if tags.is_empty() { "—" } @else { (tags.join(", ")) } } }
                tr { th scope="row" { "Pseudo-rater interval of the intercept" }
                    td {
                        @if let Some((lo, hi)) = interval {
                            (format!("{lo:+.3} to {hi:+.3}"))
                            " — the lowest and highest intercept when extreme pseudo-ratings are \
                            added; not helpful when the highest is below "
                            (format!("{CRNH_UCB_INTERCEPT:+.2}"))
                            @if hi < CRNH_UCB_INTERCEPT { " (it is)" }
                        } @else { "— (computed for notes the core model scores with enough ratings)" }
                    }
                }
            }
        }
    }
}

fn history_table(note: &NoteOut) -> Markup {
    html! {
        section.card aria-labelledby="history-heading" {
            h2 #history-heading { "Status history" }
            @if let Some(h) = &note.history {
                table {
                    tr { th scope="row" { "First decided status" }
                        td { (h.first_non_nmr_status.as_deref().unwrap_or("—")) " · "
                            (millis_text(h.timestamp_millis_of_first_non_nmr_status)) } }
                    tr { th scope="row" { "Current status" }
                        td { (h.current_status.as_deref().unwrap_or("—")) " · "
                            (millis_text(h.timestamp_millis_of_current_status)) } }
                    tr { th scope="row" { "Most recent decided status" }
                        td { (h.most_recent_non_nmr_status.as_deref().unwrap_or("—")) } }
                    tr { th scope="row" { "Locked status (after 14 days)" }
                        td { (h.locked_status.as_deref().unwrap_or("not locked")) " · "
                            (millis_text(h.timestamp_millis_of_status_lock)) } }
                }
            } @else {
                p { "No scoring run has seen this note yet." }
            }
        }
    }
}

fn rate_form(note_id: &str, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="rate-heading" {
            h2 #rate-heading { "Rate this note" }
            form method="post" action={ "/notes/" (note_id) "/rating" } {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { "Is this note helpful?" }
                    label { input type="radio" name="level" value="HELPFUL" required; " Yes" }
                    label { input type="radio" name="level" value="SOMEWHAT_HELPFUL"; " Somewhat" }
                    label { input type="radio" name="level" value="NOT_HELPFUL"; " No" }
                }
                fieldset {
                    legend { "What is helpful about it?" }
                    @for t in HELPFUL_TAGS {
                        label { input type="checkbox" name="tag" value=(t); " " (humanize(t)) }
                    }
                }
                fieldset {
                    legend { "What is not helpful about it?" }
                    @for t in NOT_HELPFUL_TAGS {
                        label { input type="checkbox" name="tag" value=(t); " " (humanize(t)) }
                    }
                }
                button type="submit" { "Rate" }
            }
        }
    }
}

async fn note_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let viewer = viewer(&state, &headers).await?;
        let id = api::parse_id(&id, "note")?;
        let view = state
            .store
            .note(id)
            .await?
            .ok_or_else(|| ApiError::not_found("note"))?;
        let note = outs(&state, std::slice::from_ref(&view)).await?.remove(0);
        let post = state.store.post(view.note.tweet_id).await?;
        let factors: HashMap<String, f64> = state
            .store
            .rater_scores()
            .await?
            .into_iter()
            .filter_map(|r| r.core_rater_factor.map(|f| (r.participant_id, f)))
            .collect();
        let ratings = state.store.ratings_of_note(id).await?;
        let (mut left, mut right) = (Side::default(), Side::default());
        let mut points = Vec::new();
        let mut unplaced = 0;
        for r in &ratings {
            match factors.get(&r.rater) {
                Some(&factor) => {
                    if factor < 0.0 {
                        left.add(r.level);
                    } else {
                        right.add(r.level);
                    }
                    points.push(PlotPoint {
                        factor,
                        level: r.level,
                    });
                }
                None => unplaced += 1,
            }
        }
        let body = html! {
            (note_card(&note, post.as_ref(), true))
            p.muted { "Classification: " (note.classification)
                @if !note.reasons.is_empty() { " · reasons: "
                    (note.reasons.iter().map(|r| humanize(r)).collect::<Vec<_>>().join(", ")) } }
            (why_this_status(&note, &left, &right))
            section.card aria-labelledby="plot-heading" {
                h2 #plot-heading { "Who rated it" }
                (viewpoint_plot(&points, &left, &right, unplaced))
            }
            (history_table(&note))
            @if let Some(v) = &viewer {
                @if v.contributor.participant_id != note.author {
                    (rate_form(&note.id, &v.csrf))
                }
            } @else {
                p { a href="/signin" { "Sign in" } " to rate this note." }
            }
        };
        Ok::<_, ApiError>(html_response(
            StatusCode::OK,
            page("Note", viewer.as_ref(), body),
        ))
    }
    .await;
    result.unwrap_or_else(|e| api_error_page(None, e))
}

async fn contributor_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(participant_id): Path<String>,
) -> Response {
    let result = async {
        let viewer = viewer(&state, &headers).await?;
        let c = state
            .store
            .contributor(&participant_id)
            .await?
            .ok_or_else(|| ApiError::not_found("contributor"))?;
        let info = ContributorOut::from(&c);
        let views = state
            .store
            .notes_by_author(&participant_id, TIMELINE_LENGTH)
            .await?;
        let notes = outs(&state, &views).await?;
        let state_name = info.enrollment_state.as_deref().unwrap_or("newUser");
        let body = html! {
            section.card aria-labelledby="impact-heading" {
                h2 #impact-heading { (info.alias) }
                table {
                    tr { th scope="row" { "Rating impact" } td { (info.rating_impact) } }
                    tr { th scope="row" { "Writing impact" } td { (info.writing_impact) } }
                    tr { th scope="row" { "Writing ability" } td { (state_name) } }
                    tr { th scope="row" { "Can write notes" }
                        td {
                            @if info.can_write { "Yes" }
                            @else if let Some(needed) = info.rating_impact_needed {
                                "Not yet: writing unlocks at a rating impact of " (needed)
                                " (now " (info.rating_impact) "). Rate notes that go on to be decided "
                                "the way most raters decide them to raise it."
                            } @else { "No" }
                        }
                    }
                }
            }
            h2 { "Their notes (" (notes.len()) ")" }
            @if notes.is_empty() { p { "No notes yet." } }
            @for note in &notes { (note_card(note, None, false)) }
        };
        Ok::<_, ApiError>(html_response(
            StatusCode::OK,
            page("Contributor", viewer.as_ref(), body),
        ))
    }
    .await;
    result.unwrap_or_else(|e| api_error_page(None, e))
}

// ----- sign-in and forms -----

async fn signin_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = viewer(&state, &headers).await.ok().flatten();
    html_response(
        StatusCode::OK,
        page(
            "Sign in",
            viewer.as_ref(),
            html! {
                form method="post" action="/signin" {
                    label for="token" { "Your API token" }
                    input #token type="password" name="token" autocomplete="current-password" required;
                    p.muted { "Your token is exchanged for a session cookie; it is not stored in the browser." }
                    button type="submit" { "Sign in" }
                }
            },
        ),
    )
}

async fn signin(State(state): State<AppState>, body: String) -> Response {
    let form = Form::parse(&body);
    let token = form.get("token").unwrap_or("").trim().to_string();
    let hash = token_hash(&token);
    match state.store.contributor_by_token_hash(&hash).await {
        Ok(Some(c)) if !token.is_empty() => {
            let id = random_hex(32);
            let now = state.clock.now_millis();
            let stored = state
                .store
                .create_session(
                    &token_hash(&id),
                    c.id,
                    &random_hex(32),
                    now,
                    now + SESSION_DAYS * DAY_MILLIS,
                )
                .await;
            if let Err(e) = stored {
                return api_error_page(None, e.into());
            }
            let mut response =
                Redirect::to(&format!("/contributors/{}", c.participant_id)).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                SESSION_DAYS * DAY_MILLIS / 1000
            )) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Ok(_) => error_page(
            None,
            StatusCode::UNAUTHORIZED,
            "That token does not belong to any contributor.",
        ),
        Err(e) => api_error_page(None, e.into()),
    }
}

async fn signout(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let form = Form::parse(&body);
    let viewer = match form_viewer(&state, &headers, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(e) = state.store.delete_session(&viewer.session_hash).await {
        return api_error_page(Some(&viewer), e.into());
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("bn_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

async fn rate_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let form = Form::parse(&body);
    let viewer = match form_viewer(&state, &headers, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = async {
        let note_id = api::parse_id(&id, "note")?;
        let input = RatingIn {
            helpfulness_level: form.get("level").unwrap_or("").to_string(),
            tags: form.all("tag"),
        };
        api::rate(&state, &viewer.contributor, note_id, input).await?;
        Ok::<_, ApiError>(note_id)
    }
    .await;
    match result {
        Ok(note_id) => Redirect::to(&format!("/notes/{note_id}")).into_response(),
        Err(e) => api_error_page(Some(&viewer), e),
    }
}

async fn write_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let form = Form::parse(&body);
    let viewer = match form_viewer(&state, &headers, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut summary = form.get("summary").unwrap_or("").trim().to_string();
    let sources: Vec<&str> = form
        .get("sources")
        .unwrap_or("")
        .split_whitespace()
        .filter(|s| !summary.contains(*s))
        .collect();
    for source in sources {
        summary.push(' ');
        summary.push_str(source);
    }
    let input = NewNoteIn {
        post_id: id.clone(),
        classification: form.get("classification").unwrap_or("").to_string(),
        reasons: form.all("reason"),
        summary,
        trustworthy_sources: Some(form.get("trustworthy_sources").is_some()),
        is_media_note: false,
    };
    match api::write_note(&state, &viewer.contributor, input).await {
        Ok(note) => Redirect::to(&format!("/posts/{}", note.post_id)).into_response(),
        Err(e) => api_error_page(Some(&viewer), e),
    }
}

async fn request_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let form = Form::parse(&body);
    let viewer = match form_viewer(&state, &headers, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = async {
        let post_id = api::parse_id(&id, "post")?;
        let input = NoteRequestIn {
            source_link: form.text("source_link"),
            reason: form.text("reason"),
        };
        api::request(&state, &viewer.contributor, post_id, input).await?;
        Ok::<_, ApiError>(post_id)
    }
    .await;
    match result {
        Ok(post_id) => Redirect::to(&format!("/posts/{post_id}")).into_response(),
        Err(e) => api_error_page(Some(&viewer), e),
    }
}

/// The page routes (with their security headers).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", routing::get(needs_help))
        .route("/timeline/needs-help", routing::get(needs_help))
        .route("/timeline/new", routing::get(newest))
        .route("/timeline/helpful", routing::get(helpful))
        .route("/timeline/not-helpful", routing::get(not_helpful))
        .route("/posts/{id}", routing::get(post_page))
        .route("/posts/{id}/notes", routing::post(write_submit))
        .route("/posts/{id}/requests", routing::post(request_submit))
        .route("/notes/{id}", routing::get(note_page))
        .route("/notes/{id}/rating", routing::post(rate_submit))
        .route(
            "/contributors/{participant_id}",
            routing::get(contributor_page),
        )
        .route("/signin", routing::get(signin_page).post(signin))
        .route("/signout", routing::post(signout))
        .layer(middleware::from_fn(security_headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let f = Form::parse("a=1+2&tag=x%26y&tag=z&bad=%zz&empty=");
        assert_eq!(f.get("a"), Some("1 2"));
        assert_eq!(f.all("tag"), vec!["x&y", "z"]);
        assert_eq!(f.get("bad"), Some("%zz"));
        assert_eq!(f.text("empty"), None);
    }

    #[test]
    fn the_csp_allows_exactly_the_inline_stylesheet() {
        // sha256 of the stylesheet, base64: 44 characters ending in '='.
        let policy = csp();
        let hash = policy
            .split("'sha256-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap();
        assert_eq!(hash.len(), 44);
        assert_eq!(
            BASE64_STANDARD.decode(hash).unwrap(),
            Sha256::digest(CSS.as_bytes()).to_vec()
        );
    }

    #[test]
    fn names_read_as_words() {
        assert_eq!(humanize("helpfulGoodSources"), "Good sources");
        assert_eq!(
            humanize("misleadingMissingImportantContext"),
            "Missing important context"
        );
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_778), (2026, 11, 21));
    }
}
