//! The small tables: notes, status history, enrollment and note requests.

use bridgenotes_engine::note::{MISLEADING_REASONS, NOT_MISLEADING_REASONS};
use bridgenotes_engine::{
    Classification, Enrollment, EnrollmentState, Note, NoteRequest, NoteStatus, StatusHistoryRow,
};

use crate::community::{
    DAY, HOUR, MINUTE, TOPICS, World, multi_group, note_flag, participant_id, snowflake,
};
use crate::rng::{Rand, stream};

const MISLEADING_OPENERS: [&str; 7] = [
    "This claim is false.",
    "The post leaves out key context.",
    "The numbers are wrong.",
    "This image has been altered.",
    "This video is not recent.",
    "The quote is fabricated.",
    "The post misrepresents the report.",
];

const NOT_MISLEADING_OPENERS: [&str; 4] = [
    "No note needed, the post is satire.",
    "The post is correct and needs no note.",
    "Not misleading, this is a personal opinion.",
    "NNN. This is an opinion, not a factual claim.",
];

const OUTLETS: [&str; 4] = ["Reuters", "AP", "BBC", "AFP"];

const SOURCES: [&str; 10] = [
    "https://www.reuters.com/fact-check/",
    "https://apnews.com/article/",
    "https://www.bbc.com/news/",
    "https://www.afp.com/en/news/",
    "https://www.bls.gov/news.release/",
    "https://www.cdc.gov/media/releases/",
    "https://www.census.gov/newsroom/",
    "https://www.nasa.gov/news-release/",
    "https://en.wikipedia.org/wiki/",
    "https://www.politifact.com/factchecks/",
];

const SLUGS: [&str; 5] = [
    "data-release",
    "report-2026",
    "viral-post",
    "explainer",
    "timeline",
];

/// Relative frequencies of the misleading reasons, indexed like `MISLEADING_REASONS`.
const MISLEADING_REASON_WEIGHTS: [f64; 7] = [0.6, 2.0, 0.5, 0.8, 2.5, 1.2, 0.15];
/// Relative frequencies of the not-misleading reasons.
const NOT_MISLEADING_REASON_WEIGHTS: [f64; 5] = [0.8, 1.6, 0.3, 0.5, 1.2];

fn push_source(rng: &mut Rand, out: &mut String) {
    out.push_str(SOURCES[rng.below(SOURCES.len() as u64) as usize]);
    out.push_str(SLUGS[rng.below(SLUGS.len() as u64) as usize]);
    out.push('-');
    out.push_str(&rng.range(10_000, 99_999).to_string());
}

fn sentence(rng: &mut Rand, topic: &str, out: &mut String) {
    out.push(' ');
    match rng.below(5) {
        0 => {
            out.push_str("Official data on ");
            out.push_str(topic);
            out.push_str(" contradicts this.");
        }
        1 => {
            out.push_str("The original report about ");
            out.push_str(topic);
            out.push_str(" says something different.");
        }
        2 => {
            out.push_str("According to ");
            out.push_str(OUTLETS[rng.below(OUTLETS.len() as u64) as usize]);
            out.push_str(", the ");
            out.push_str(topic);
            out.push_str(" figures show otherwise.");
        }
        3 => {
            out.push_str("Multiple outlets confirm that the ");
            out.push_str(topic);
            out.push_str(" story did not happen as described.");
        }
        _ => {
            out.push_str("This material about ");
            out.push_str(topic);
            out.push_str(" was first published years ago.");
        }
    }
}

fn reasons<const N: usize>(rng: &mut Rand, weights: &[f64; N], max: u64) -> [bool; N] {
    let mut flags = [false; N];
    let count = 1 + rng.below(max) as usize;
    let mut got = 0;
    while got < count {
        let i = rng.pick(weights);
        if !flags[i] {
            flags[i] = true;
            got += 1;
        }
    }
    flags
}

/// The public row of note `index` (deleted notes are skipped by the caller).
pub(crate) fn note(world: &World, index: usize) -> Note {
    let latent = &world.notes[index];
    let mut rng = Rand::new(world.seed, stream::NOTE_TEXT, index as u64);
    let topic = TOPICS[latent.topic as usize];
    let misleading = latent.has(note_flag::MISLEADING);
    let mut summary = String::with_capacity(200);
    let (classification, misleading_reasons, not_misleading_reasons, has_source) = if misleading {
        summary.push_str(MISLEADING_OPENERS[rng.below(MISLEADING_OPENERS.len() as u64) as usize]);
        for _ in 0..1 + rng.below(2) {
            sentence(&mut rng, topic, &mut summary);
        }
        (
            Classification::MisinformedOrPotentiallyMisleading,
            reasons(&mut rng, &MISLEADING_REASON_WEIGHTS, 3),
            [false; 5],
            true,
        )
    } else {
        summary.push_str(
            NOT_MISLEADING_OPENERS[rng.below(NOT_MISLEADING_OPENERS.len() as u64) as usize],
        );
        if rng.chance(0.5) {
            summary.push(' ');
            summary.push_str("The ");
            summary.push_str(topic);
            summary.push_str(" claim is accurate.");
        }
        (
            Classification::NotMisleading,
            [false; 7],
            reasons(&mut rng, &NOT_MISLEADING_REASON_WEIGHTS, 2),
            rng.chance(0.3),
        )
    };
    if has_source {
        summary.push(' ');
        push_source(&mut rng, &mut summary);
    }
    debug_assert_eq!(MISLEADING_REASONS.len(), 7);
    debug_assert_eq!(NOT_MISLEADING_REASONS.len(), 5);
    Note {
        note_id: latent.note_id,
        author: participant_id(&world.raters[latent.author as usize].id),
        created_at_millis: latent.created_at_millis,
        tweet_id: world.posts[latent.post as usize].tweet_id,
        classification,
        believable: None,
        harmful: None,
        validation_difficulty: None,
        misleading: misleading_reasons,
        not_misleading: not_misleading_reasons,
        trustworthy_sources: has_source,
        summary,
        is_media_note: latent.has(note_flag::MEDIA),
        is_collaborative_note: latent.has(note_flag::COLLABORATIVE),
    }
}

/// The status a note ends up with, from its latent quality and polarization.
pub(crate) fn final_status(world: &World, index: usize, rng: &mut Rand) -> NoteStatus {
    let note = &world.notes[index];
    let score = f64::from(note.quality) - 0.8 * f64::from(note.slant).abs() + rng.gauss(0.0, 0.3);
    let young = world.previous_run_millis() - note.created_at_millis < 2 * HOUR;
    if note.ratings < 5 || young {
        NoteStatus::NeedsMoreRatings
    } else if score > 1.3 {
        NoteStatus::CurrentlyRatedHelpful
    } else if score < -1.2 {
        NoteStatus::CurrentlyRatedNotHelpful
    } else {
        NoteStatus::NeedsMoreRatings
    }
}

const CORE_MODEL: &str = "CoreModel (v1.1)";

/// The status history row of note `index`, as a scorer that has run every hour would leave
/// it; `None` for a note written after the previous run.
pub(crate) fn history(world: &World, index: usize) -> Option<StatusHistoryRow> {
    let latent = &world.notes[index];
    let created = latent.created_at_millis;
    let previous_run = world.previous_run_millis();
    if created >= previous_run {
        return None;
    }
    let mut rng = Rand::new(world.seed, stream::HISTORY, index as u64);
    let status = final_status(world, index, &mut rng);
    let author = &world.raters[latent.author as usize];
    // Notes lock 14 days after creation, at the first scoring run after that.
    let lock_time = created + 14 * DAY + rng.below((6 * HOUR) as u64) as i64;
    let locked = lock_time < previous_run;

    // The first time the note left NEEDS_MORE_RATINGS, if it did: its current status, or for
    // some NMR notes a status it lost again.
    let mut first_non_nmr = match status {
        NoteStatus::NeedsMoreRatings if latent.ratings >= 5 && rng.chance(0.04) => {
            Some(if rng.chance(0.6) {
                NoteStatus::CurrentlyRatedHelpful
            } else {
                NoteStatus::CurrentlyRatedNotHelpful
            })
        }
        NoteStatus::NeedsMoreRatings => None,
        other => Some(other),
    };
    let horizon = if locked { lock_time } else { previous_run };
    let first_time = created + 30 * MINUTE + rng.exp((18 * HOUR) as f64) as i64;
    if first_time >= horizon - MINUTE {
        first_non_nmr = None;
    }
    let status = if first_non_nmr.is_none() {
        NoteStatus::NeedsMoreRatings
    } else {
        status
    };
    let lost = status == NoteStatus::NeedsMoreRatings && first_non_nmr.is_some();
    let change_time = if lost {
        first_time + rng.below((horizon - first_time) as u64) as i64
    } else {
        first_time
    };
    let current_time = if locked {
        (lock_time + rng.below(2 * HOUR as u64) as i64).min(previous_run)
    } else {
        previous_run
    };
    let decided_by = match status {
        NoteStatus::CurrentlyRatedHelpful => ["ExpansionModel (v1.1)", "GaussianModel (v1.0)"]
            .get(rng.pick(&[0.06, 0.08, 0.86]))
            .copied()
            .unwrap_or(CORE_MODEL),
        NoteStatus::NeedsMoreRatings if rng.chance(0.2) => "MetaInitialNMR (v1.0)",
        _ => CORE_MODEL,
    };
    let expansion = (!rng.chance(0.15)).then_some(status);
    let group = f64::from(author.modeling_group);
    let stable_crh = first_non_nmr == Some(NoteStatus::CurrentlyRatedHelpful) && rng.chance(0.6);
    Some(StatusHistoryRow {
        note_id: latent.note_id,
        author: participant_id(&author.id),
        created_at_millis: created,
        timestamp_millis_of_first_non_nmr_status: first_non_nmr.map(|_| first_time as f64),
        first_non_nmr_status: first_non_nmr,
        timestamp_millis_of_current_status: Some(current_time as f64),
        current_status: Some(status),
        timestamp_millis_of_latest_non_nmr_status: first_non_nmr.map(|_| first_time as f64),
        most_recent_non_nmr_status: first_non_nmr,
        timestamp_millis_of_status_lock: locked.then_some(lock_time as f64),
        locked_status: locked.then_some(status),
        timestamp_millis_of_retro_lock: None,
        current_core_status: Some(status),
        current_expansion_status: expansion,
        current_group_status: None,
        current_decided_by: Some(decided_by.to_string()),
        current_modeling_group: Some(group),
        timestamp_millis_of_most_recent_status_change: Some(if first_non_nmr.is_some() {
            change_time as f64
        } else {
            -1.0
        }),
        timestamp_millis_of_nmr_due_to_min_stable_crh_time: locked.then_some(-1.0),
        current_multi_group_status: None,
        current_modeling_multi_group: Some(f64::from(multi_group(author.modeling_group))),
        timestamp_minute_of_final_scoring_output: None,
        timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: stable_crh
            .then(|| (first_time - rng.below((20 * MINUTE) as u64) as i64) as f64),
        above_pcrh_threshold_time: locked.then_some(-1.0),
    })
}

/// The enrollment row of rater `index`.
pub(crate) fn enrollment(world: &World, index: usize) -> Enrollment {
    let rater = &world.raters[index];
    let mut rng = Rand::new(world.seed, stream::ENROLLMENT, index as u64);
    let state = match rng.pick(&[0.66, 0.15, 0.05, 0.05, 0.09]) {
        0 => EnrollmentState::EarnedIn,
        1 => EnrollmentState::NewUser,
        2 => EnrollmentState::AtRisk,
        3 => EnrollmentState::EarnedOutNoAcknowledge,
        _ => EnrollmentState::EarnedOutAcknowledged,
    };
    let earned_out_now = matches!(
        state,
        EnrollmentState::EarnedOutNoAcknowledge | EnrollmentState::EarnedOutAcknowledged
    );
    let times_earned_out = if earned_out_now {
        if rng.chance(0.8) { 1 } else { 2 }
    } else if state != EnrollmentState::NewUser && rng.chance(0.05) {
        1
    } else {
        0
    };
    let needed = if earned_out_now {
        5 + 3 * times_earned_out + rng.range(0, 4)
    } else {
        5
    };
    let window = world.epoch_millis - world.window_start_millis;
    let last_change = world.window_start_millis + rng.below(window as u64) as i64;
    let last_earn_out = if times_earned_out == 0 {
        1.0
    } else if state == EnrollmentState::EarnedOutNoAcknowledge {
        last_change as f64
    } else {
        let back = rng.below((last_change - world.window_start_millis) as u64 / 4 + 1) as i64;
        (last_change - back) as f64
    };
    let population = match rng.pick(&[0.78, 0.2, 0.02]) {
        0 => "CORE",
        1 => "EXPANSION",
        _ => "EXPANSION_PLUS",
    };
    Enrollment {
        participant_id: participant_id(&rater.id),
        state,
        successful_rating_needed_to_earn_in: needed,
        timestamp_of_last_state_change: last_change,
        timestamp_of_last_earn_out: Some(last_earn_out),
        modeling_population: Some(population.to_string()),
        modeling_group: Some(f64::from(rater.modeling_group)),
        number_of_times_earned_out: times_earned_out,
    }
}

const REQUEST_SUGGESTIONS: [&str; 4] = [
    "This video is from a different year.",
    "The numbers in this post look wrong.",
    "This image appears to be edited.",
    "This quote needs a source.",
];

/// The note request row of post `index`, if it has one.
pub(crate) fn note_request(world: &World, index: usize) -> Option<NoteRequest> {
    let post = &world.posts[index];
    let mut rng = Rand::new(world.seed, stream::REQUEST, index as u64);
    if !rng.chance(if post.misleading { 0.55 } else { 0.3 }) {
        return None;
    }
    let created = post.created_at_millis;
    let latest = world.epoch_millis - MINUTE;
    let at = |rng: &mut Rand, p: f64| -> i64 {
        if rng.chance(p) {
            let delay = 10 * MINUTE + rng.exp((12 * HOUR) as f64) as i64;
            (created + delay).min(latest)
        } else {
            -1
        }
    };
    let feed = at(&mut rng, 0.75);
    let small = at(&mut rng, 0.25);
    let large = at(&mut rng, 0.45);
    let xl = at(&mut rng, 0.55);
    let link = rng.chance(0.3).then(|| {
        let t = (created + rng.exp((2 * HOUR) as f64) as i64).min(latest);
        format!("https://x.com/i/status/{}", snowflake(t, rng.next_u64()))
    });
    let source_links = match &link {
        Some(l) => format!("[\"{l}\"]"),
        None => "[]".to_string(),
    };
    let suggestions = if rng.chance(0.15) {
        let t = (created + rng.exp((6 * HOUR) as f64) as i64).min(latest);
        let id = snowflake(t, rng.next_u64());
        let text = REQUEST_SUGGESTIONS[rng.below(REQUEST_SUGGESTIONS.len() as u64) as usize];
        let source = if rng.chance(0.3) {
            link.clone().unwrap_or_default()
        } else {
            String::new()
        };
        format!(
            "[{{\"suggestion_id\":\"{id}\",\"suggestion\":\"{text}\",\"source_link\":\"{source}\"}}]"
        )
    } else {
        "[]".to_string()
    };
    Some(NoteRequest {
        tweet_id: post.tweet_id,
        source_links,
        suggestions,
        note_request_feed_eligible_timestamp: feed,
        api_small_feed_eligible_timestamp: small,
        api_large_feed_eligible_timestamp: large,
        api_xl_feed_eligible_timestamp: xl,
    })
}
