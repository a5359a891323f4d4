//! The Community Notes rules the service enforces, as pure functions of facts: who may
//! write, how many notes a day, what a note must contain, who may rate, which requested
//! posts writers see, and how a scoring run moves a contributor's enrollment.
//!
//! The numbers follow the Community Notes guide (writing ability, writing limits, note
//! requests, the AI note writer API); where the guide leaves a case open the choice is
//! stated in the function's documentation.

use std::sync::LazyLock;

use bridgenotes_engine::contributor_state::{self, AT_RISK_CRNH};
use bridgenotes_engine::{Enrollment, EnrollmentState, NoteStatus};
use bridgenotes_storage::{RaterFacts, Refusal, RefusalKind, RequesterFacts, WriterFacts};
use regex::Regex;

/// Rating impact a new contributor needs to write notes (the engine's constant).
pub const RATING_IMPACT_TO_EARN_IN: i64 = contributor_state::RATING_IMPACT_FOR_EARN_IN;
/// Summary length limit, not counting URLs.
pub const MAX_SUMMARY_CHARS: usize = 280;
/// Note requests a contributor may make in 24 hours.
pub const REQUESTS_PER_DAY: i64 = 5;
/// Notes on posts by one author a contributor may write in 24 hours, at first.
pub const POST_AUTHOR_DAILY_LIMIT: i64 = 3;

const CRH: &str = "CURRENTLY_RATED_HELPFUL";
const CRNH: &str = "CURRENTLY_RATED_NOT_HELPFUL";

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://[^\s<>]+").expect("valid URL pattern"));

/// The source URLs in a note's text.
pub fn source_urls(summary: &str) -> Vec<&str> {
    URL.find_iter(summary).map(|m| m.as_str()).collect()
}

/// Length of a summary in characters, URLs not counted.
pub fn summary_length(summary: &str) -> usize {
    URL.replace_all(summary, "").chars().count()
}

/// Checks a note's content: a non-empty summary of at most 280 characters (URLs not
/// counted) and, for a misleading note, at least one source URL.
pub fn check_note_text(summary: &str, misleading: bool) -> Result<(), Refusal> {
    if summary.trim().is_empty() {
        return Err(Refusal::new(
            RefusalKind::Invalid,
            "empty_summary",
            "a note needs a summary",
        ));
    }
    let length = summary_length(summary);
    if length > MAX_SUMMARY_CHARS {
        return Err(Refusal::new(
            RefusalKind::Invalid,
            "summary_too_long",
            format!(
                "the summary has {length} characters without its URLs; at most {MAX_SUMMARY_CHARS} are allowed"
            ),
        ));
    }
    if misleading && source_urls(summary).is_empty() {
        return Err(Refusal::new(
            RefusalKind::Invalid,
            "missing_source",
            "a note that calls a post misleading needs at least one source URL",
        ));
    }
    Ok(())
}

/// The guide's overall 24-hour note limit: 1 when writing impact is negative, else the
/// smaller of writing impact + 5 and hit rate × 200 (hit rate = writing impact / notes).
/// Like writing impact, the hit rate counts only notes that reached a status (helpful or
/// not helpful): before any has, the hit rate is undefined and the limit is impact + 5. The
/// limit is never below 1.
pub fn daily_note_limit(writing_impact: i64, notes_decided: i64) -> i64 {
    if writing_impact < 0 {
        return 1;
    }
    let by_impact = writing_impact + 5;
    if notes_decided == 0 {
        return by_impact;
    }
    let by_hit_rate = (200.0 * writing_impact as f64 / notes_decided as f64).floor() as i64;
    by_impact.min(by_hit_rate).max(1)
}

/// The per-post-author limit: how many notes on posts by one author may be written in the
/// window (24 hours, or 7 days for the weekly case). Returns (limit, window in days).
pub fn post_author_limit(author_notes_total: i64, author_notes_helpful: i64) -> (i64, i64) {
    if author_notes_total < 6 {
        return (POST_AUTHOR_DAILY_LIMIT, 1);
    }
    let rate = author_notes_helpful as f64 / author_notes_total as f64;
    if rate >= 0.05 {
        ((rate * 100.0).floor() as i64, 1)
    } else if rate >= 0.01 || author_notes_total < 15 {
        (1, 1)
    } else {
        (1, 7)
    }
}

/// The AI note writer's daily limit from its recent statuses (newest first), its notes in the
/// last 30 days and in total: 2 after 8 not-helpful notes among the last 10 decided, 5
/// after 3 among the last 5, 10 while it has written fewer than 20; else from its hit rates.
/// (The 14-day hit rate is approximated by the 100-note one.)
pub fn ai_daily_limit(recent: &[Option<String>], notes_last_30_days: i64, total: i64) -> i64 {
    let decided: Vec<&str> = recent
        .iter()
        .filter_map(|s| s.as_deref())
        .filter(|s| *s == CRH || *s == CRNH)
        .collect();
    let crnh_in = |n: usize| decided.iter().take(n).filter(|s| **s == CRNH).count();
    if crnh_in(10) >= 8 {
        return 2;
    }
    if crnh_in(5) >= 3 {
        return 5;
    }
    if total < 20 {
        return 10;
    }
    let hit_rate = |n: usize| {
        let window: Vec<Option<&str>> = recent.iter().take(n).map(|s| s.as_deref()).collect();
        let crh = window.iter().filter(|s| **s == Some(CRH)).count() as f64;
        let crnh = window.iter().filter(|s| **s == Some(CRNH)).count() as f64;
        (crh - crnh) / window.len().max(1) as f64
    };
    let (recent_rate, long_rate) = (hit_rate(20), hit_rate(100));
    let internal = if long_rate < 0.05 {
        300.0 * recent_rate.max(long_rate)
    } else if long_rate < 0.1 {
        15.0 + 700.0 * (long_rate - 0.05)
    } else if long_rate < 0.15 {
        50.0 + 3000.0 * (long_rate - 0.1)
    } else if long_rate < 0.2 {
        200.0 + 6000.0 * (long_rate - 0.15)
    } else {
        500.0
    };
    let daily_notes = notes_last_30_days as f64 / 30.0;
    ((daily_notes * 5.0).min(internal).floor() as i64).max(5)
}

/// Whether (and why not) a contributor may write the note described by `facts`.
pub fn check_writer(facts: &WriterFacts) -> Result<(), Refusal> {
    let writer = &facts.writer;
    let state = writer.enrollment.as_ref().map(|e| e.state);
    if writer.is_ai_writer {
        if state != Some(EnrollmentState::ApiEarnedIn) {
            return Err(Refusal::new(
                RefusalKind::Forbidden,
                "not_admitted",
                "this AI note writer has not been admitted to write notes",
            ));
        }
    } else {
        match writer.enrollment.as_ref() {
            Some(e) if matches!(e.state, EnrollmentState::EarnedIn | EnrollmentState::AtRisk) => {}
            Some(e)
                if matches!(
                    e.state,
                    EnrollmentState::EarnedOutNoAcknowledge
                        | EnrollmentState::EarnedOutAcknowledged
                ) =>
            {
                return Err(Refusal::new(
                    RefusalKind::Forbidden,
                    "writing_locked",
                    format!(
                        "writing ability is locked after too many notes rated not helpful; it \
                         unlocks at rating impact {} (now {})",
                        e.successful_rating_needed_to_earn_in, writer.rating_impact
                    ),
                ));
            }
            Some(e) if e.state == EnrollmentState::Removed => {
                return Err(Refusal::new(
                    RefusalKind::Forbidden,
                    "removed",
                    "this contributor has been removed",
                ));
            }
            other => {
                let needed = other.map_or(RATING_IMPACT_TO_EARN_IN, |e| {
                    e.successful_rating_needed_to_earn_in
                });
                return Err(Refusal::new(
                    RefusalKind::Forbidden,
                    "not_earned_in",
                    format!(
                        "writing unlocks at rating impact {needed} (now {}): rate notes that need ratings",
                        writer.rating_impact
                    ),
                ));
            }
        }
    }
    if facts.already_noted_post {
        return Err(Refusal::new(
            RefusalKind::Conflict,
            "duplicate_note",
            "you already have a note on this post",
        ));
    }
    let daily = if writer.is_ai_writer {
        ai_daily_limit(
            &facts.recent_statuses,
            facts.notes_last_30_days,
            facts.notes_total,
        )
    } else {
        daily_note_limit(writer.writing_impact, facts.notes_decided)
    };
    if facts.notes_last_day >= daily {
        return Err(Refusal::new(
            RefusalKind::Limit,
            "daily_note_limit",
            format!("at most {daily} notes in 24 hours at your writing impact"),
        ));
    }
    let (limit, days) = post_author_limit(facts.author_notes_total, facts.author_notes_helpful);
    let written = if days == 1 {
        facts.author_notes_last_day
    } else {
        facts.author_notes_last_week
    };
    if written >= limit {
        return Err(Refusal::new(
            RefusalKind::Limit,
            "post_author_limit",
            format!(
                "at most {limit} notes per {} on posts by {}",
                if days == 1 { "24 hours" } else { "week" },
                facts.post.author_handle
            ),
        ));
    }
    Ok(())
}

/// Whether a contributor may rate the note described by `facts`.
pub fn check_rater(facts: &RaterFacts) -> Result<(), Refusal> {
    if facts.rater.is_ai_writer {
        return Err(Refusal::new(
            RefusalKind::Forbidden,
            "ai_writer_cannot_rate",
            "AI note writers do not rate notes",
        ));
    }
    if facts.rater.enrollment.as_ref().map(|e| e.state) == Some(EnrollmentState::Removed) {
        return Err(Refusal::new(
            RefusalKind::Forbidden,
            "removed",
            "this contributor has been removed",
        ));
    }
    if facts.rater.participant_id == facts.note_author {
        return Err(Refusal::new(
            RefusalKind::Forbidden,
            "own_note",
            "contributors do not rate their own notes",
        ));
    }
    if facts.note_deleted {
        return Err(Refusal::new(
            RefusalKind::Conflict,
            "note_deleted",
            "the note was deleted by its author",
        ));
    }
    Ok(())
}

/// Whether a contributor may request a note now.
pub fn check_requester(facts: &RequesterFacts) -> Result<(), Refusal> {
    if facts.already_requested {
        return Err(Refusal::new(
            RefusalKind::Conflict,
            "duplicate_request",
            "you already requested a note on this post",
        ));
    }
    if facts.requests_last_day >= REQUESTS_PER_DAY {
        return Err(Refusal::new(
            RefusalKind::Limit,
            "request_limit",
            format!("at most {REQUESTS_PER_DAY} note requests in 24 hours"),
        ));
    }
    Ok(())
}

/// A requester's helpfulness, from how often their requests led to helpful notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequesterLevel {
    Low,
    Medium,
    High,
}

/// High: hit rate ≥ 8 % and ≥ 5 hits; medium: ≥ 3 % and ≥ 1 hit. A request is eligible when
/// it came before the post's first note; a hit is an eligible request on a post that now has
/// a note rated helpful.
pub fn requester_level(eligible_requests: usize, hits: usize) -> RequesterLevel {
    let rate = hits as f64 / eligible_requests.max(1) as f64;
    if rate >= 0.08 && hits >= 5 {
        RequesterLevel::High
    } else if rate >= 0.03 && hits >= 1 {
        RequesterLevel::Medium
    } else {
        RequesterLevel::Low
    }
}

/// Whether a post's recent requests are enough to show it to writers: at least 4 requests,
/// or 2 from medium-or-better requesters, or 1 from a high one.
pub fn requests_show_post(levels: &[RequesterLevel]) -> bool {
    let medium = levels
        .iter()
        .filter(|l| **l >= RequesterLevel::Medium)
        .count();
    levels.len() >= 4 || medium >= 2 || levels.contains(&RequesterLevel::High)
}

/// What a scoring run found about one contributor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    pub rating_impact: i64,
    pub writing_impact: i64,
    /// Not-helpful notes among the contributor's 5 latest notes that have a status.
    pub crnh_in_last_five: usize,
    /// One of their notes became not helpful in this run.
    pub newly_not_helpful: bool,
}

/// A contributor's enrollment after a scoring run.
///
/// - New users and earned-out contributors earn in when their rating impact reaches the
///   required level (5 for new users).
/// - Writers lose writing ability when 3 of their 5 latest decided notes are not helpful, or
///   when a note becomes not helpful while their writing impact is 0 or less. Unlocking then
///   needs 5 more rating impact than they have, plus 5 for each earlier lock-out.
/// - Writers with 2 such notes are at risk.
/// - AI writers and removed contributors are left as they are.
pub fn next_enrollment(current: &Enrollment, standing: &Standing, now_millis: i64) -> Enrollment {
    use EnrollmentState::*;
    let mut next = current.clone();
    let mut set = |state: EnrollmentState| {
        if next.state != state {
            next.state = state;
            next.timestamp_of_last_state_change = now_millis;
        }
    };
    match current.state {
        NewUser | EarnedOutNoAcknowledge | EarnedOutAcknowledged => {
            if standing.rating_impact >= current.successful_rating_needed_to_earn_in {
                set(EarnedIn);
            }
        }
        EarnedIn | AtRisk => {
            let locked = standing.crnh_in_last_five > AT_RISK_CRNH as usize
                || (standing.writing_impact <= 0 && standing.newly_not_helpful);
            if locked {
                set(EarnedOutNoAcknowledge);
                next.number_of_times_earned_out += 1;
                next.timestamp_of_last_earn_out = Some(now_millis as f64);
                next.successful_rating_needed_to_earn_in = standing.rating_impact.max(0)
                    + RATING_IMPACT_TO_EARN_IN * next.number_of_times_earned_out;
            } else if standing.crnh_in_last_five == AT_RISK_CRNH as usize {
                set(AtRisk);
            } else {
                set(EarnedIn);
            }
        }
        Removed | ApiTestUser | ApiEarnedIn | ApiEarnedOut => {}
    }
    next
}

/// Whether a status counts as decided (helpful or not helpful).
pub fn is_decided(status: Option<NoteStatus>) -> bool {
    matches!(
        status,
        Some(NoteStatus::CurrentlyRatedHelpful | NoteStatus::CurrentlyRatedNotHelpful)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_length_ignores_urls_and_misleading_notes_need_one() {
        let url = "https://example.org/a-very-long-path-that-does-not-count";
        let text = format!("{} {url}", "x".repeat(279));
        assert_eq!(summary_length(&text), 280);
        assert!(check_note_text(&text, true).is_ok());
        let long = format!("{} {url}", "x".repeat(280));
        assert_eq!(
            check_note_text(&long, true).unwrap_err().code,
            "summary_too_long"
        );
        assert_eq!(
            check_note_text("no link", true).unwrap_err().code,
            "missing_source"
        );
        assert!(check_note_text("no link needed", false).is_ok());
    }

    #[test]
    fn daily_limits_follow_the_guide_examples() {
        // Hit rate 20 %: -1 → 1, 0 → 5 (no notes yet), 3 → 8, 12 → 17.
        assert_eq!(daily_note_limit(-1, 5), 1);
        assert_eq!(daily_note_limit(0, 0), 5);
        assert_eq!(daily_note_limit(3, 15), 8);
        assert_eq!(daily_note_limit(12, 60), 17);
        // Hit rate 5 %: 10 whatever the impact.
        assert_eq!(daily_note_limit(12, 240), 10);
        assert_eq!(daily_note_limit(100, 2000), 10);
    }

    #[test]
    fn post_author_limits_follow_the_guide() {
        assert_eq!(post_author_limit(5, 0), (3, 1));
        assert_eq!(post_author_limit(20, 4), (20, 1));
        assert_eq!(post_author_limit(50, 1), (1, 1));
        assert_eq!(post_author_limit(14, 0), (1, 1));
        assert_eq!(post_author_limit(200, 1), (1, 7));
    }

    #[test]
    fn ai_limits() {
        let s = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(ai_daily_limit(&s(&[CRNH; 8]), 30, 30), 2);
        assert_eq!(ai_daily_limit(&s(&[CRNH, CRNH, CRNH, CRH, CRH]), 30, 30), 5);
        assert_eq!(ai_daily_limit(&[], 0, 0), 10);
        let good = s(&[CRH; 100]);
        assert_eq!(ai_daily_limit(&good, 3000, 300), 500);
    }

    #[test]
    fn request_thresholds() {
        use RequesterLevel::*;
        assert_eq!(requester_level(10, 1), Medium);
        assert_eq!(requester_level(50, 5), High);
        assert_eq!(requester_level(100, 1), Low);
        assert!(!requests_show_post(&[Low, Low, Low]));
        assert!(requests_show_post(&[Low, Low, Low, Low]));
        assert!(requests_show_post(&[Medium, Medium]));
        assert!(requests_show_post(&[High]));
    }

    fn enrollment(state: EnrollmentState) -> Enrollment {
        Enrollment {
            participant_id: "p".into(),
            state,
            successful_rating_needed_to_earn_in: 5,
            timestamp_of_last_state_change: 0,
            timestamp_of_last_earn_out: None,
            modeling_population: None,
            modeling_group: None,
            number_of_times_earned_out: 0,
        }
    }

    #[test]
    fn earn_in_lock_out_and_re_earn() {
        let standing = |rating_impact, crnh, newly| Standing {
            rating_impact,
            writing_impact: 1,
            crnh_in_last_five: crnh,
            newly_not_helpful: newly,
        };
        let new = enrollment(EnrollmentState::NewUser);
        assert_eq!(
            next_enrollment(&new, &standing(4, 0, false), 9).state,
            EnrollmentState::NewUser
        );
        let earned = next_enrollment(&new, &standing(5, 0, false), 9);
        assert_eq!(
            (earned.state, earned.timestamp_of_last_state_change),
            (EnrollmentState::EarnedIn, 9)
        );
        assert_eq!(
            next_enrollment(&earned, &standing(5, 2, false), 10).state,
            EnrollmentState::AtRisk
        );
        let out = next_enrollment(&earned, &standing(22, 3, true), 11);
        assert_eq!(out.state, EnrollmentState::EarnedOutNoAcknowledge);
        assert_eq!(out.successful_rating_needed_to_earn_in, 27);
        assert_eq!(
            next_enrollment(&out, &standing(26, 3, false), 12).state,
            EnrollmentState::EarnedOutNoAcknowledge
        );
        let back = next_enrollment(&out, &standing(27, 3, false), 12);
        assert_eq!(back.state, EnrollmentState::EarnedIn);
        // A second lock-out needs 10 more.
        let again = next_enrollment(&back, &standing(30, 3, true), 13);
        assert_eq!(again.successful_rating_needed_to_earn_in, 40);
        // Zero writing impact and a new not-helpful note locks at once.
        let zero = Standing {
            writing_impact: 0,
            ..standing(8, 1, true)
        };
        assert_eq!(
            next_enrollment(&earned, &zero, 14).state,
            EnrollmentState::EarnedOutNoAcknowledge
        );
    }
}
