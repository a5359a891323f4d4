//! Contributor state after a run (contributor-scores.md §5.3–§5.4; `contributor_state.py` in
//! the reference): enrollment transitions (earn in, at risk, earn out) from rating impact and
//! the author's recent notes, the rating impact needed to earn back in, emerging writers, each
//! author's most common not-helpful tags, and recent status totals.

use crate::NoteStatus;
use crate::enrollment::{Enrollment, EnrollmentState};
use crate::tags::{NOT_HELPFUL_TIE_BREAK, NUM_NOT_HELPFUL_TAGS, TagCounts};

/// Rating impact a new contributor needs to earn in (`c.ratingImpactForEarnIn`).
pub const RATING_IMPACT_FOR_EARN_IN: i64 = 5;
/// Recent notes that decide at-risk and earned-out (`c.maxHistoryEarnOut`).
pub const RECENT_NOTES: usize = 5;
/// CRNH notes among the recent ones that make an author at risk (`c.isAtRiskCRNHCount`);
/// more earn them out.
pub const AT_RISK_CRNH: u32 = 2;
/// Emerging writers: mean core intercept above this … (`c.emergingMeanNoteScore`)
pub const EMERGING_MEAN_NOTE_SCORE: f64 = 0.3;
/// … and at least this many ratings in 28 days on their notes (`c.emergingRatingCount`).
pub const EMERGING_RATING_COUNT: i64 = 10;
/// Top writers: writing impact at least this … (`c.topWriterWritingImpact`)
pub const TOP_WRITER_WRITING_IMPACT: i64 = 10;
/// … and a hit rate at least this (`c.topWriterHitRate`).
pub const TOP_WRITER_HIT_RATE: f64 = 0.04;
/// A tag needs this many ratings to count as one of a note's top tags.
const MIN_RATINGS_TO_GET_TAG: u32 = 2;

const DAY_MILLIS: f64 = 86_400_000.0;

/// One note as contributor scoring reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteSummary {
    pub note_id: i64,
    /// Participant index of the author.
    pub author: u32,
    pub created_at_millis: i64,
    /// `finalRatingStatus` of this run.
    pub status: NoteStatus,
    /// `coreNoteIntercept` (missing for notes the core model did not output).
    pub core_intercept: Option<f64>,
    /// `numRatingsLast28`.
    pub ratings_last_28_days: i64,
    /// Ratings of the note before post-selection-similarity filtering.
    pub num_ratings: u32,
    /// Not-helpful tag counts over those ratings.
    pub tags: TagCounts,
}

/// A participant's rating impact inputs (the valid-rating counts of §5.2; all 0 without).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatingTotals {
    pub successful_total: u32,
    pub unsuccessful_total: u32,
    pub unsuccessful_not_helpful: u32,
}

impl RatingTotals {
    /// Rating impact: successful minus unsuccessful ratings, where a helpful rating on a
    /// CRNH note costs twice.
    pub fn rating_impact(&self) -> i64 {
        i64::from(self.successful_total)
            - i64::from(self.unsuccessful_total)
            - i64::from(self.unsuccessful_not_helpful)
    }
}

/// What contributor scoring writes for one participant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContributorState {
    /// `enrollmentState` code; `None` for a participant without enrollment row and without
    /// contributions.
    pub enrollment_state: Option<i64>,
    pub successful_rating_needed_to_earn_in: Option<i64>,
    pub timestamp_of_last_state_change: Option<i64>,
    /// `timestampOfLastEarnOut` (missing → 1).
    pub timestamp_of_last_earn_out: f64,
    pub number_of_times_earned_out: Option<i64>,
    pub is_emerging_writer: bool,
    /// `authorTopNotHelpfulTagValues`: TSV indices of the author's two most common top
    /// not-helpful tags, comma-joined.
    pub author_top_not_helpful_tags: Option<String>,
    /// `crhTotal14d`, `crnhTotal14d`, `nmrTotal14d`, then the 90-day totals.
    pub recent_totals: [i64; 6],
}

/// The state value as the reference holds it while transitions run: a state read from the
/// enrollment file is a name, a state set by a transition an integer code, and the
/// transitions' exclusions compare names only — so a state set by an earlier transition
/// escapes a later transition's exclusions (contributor-scores.md §5.3, the step-order quirk).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Held {
    Name(EnrollmentState),
    Code(EnrollmentState),
}

impl Held {
    fn state(self) -> EnrollmentState {
        match self {
            Held::Name(s) | Held::Code(s) => s,
        }
    }

    /// Whether a name-based comparison sees one of `states`.
    fn is_named(self, states: &[EnrollmentState]) -> bool {
        matches!(self, Held::Name(s) if states.contains(&s))
    }
}

use EnrollmentState::*;

const API: [EnrollmentState; 3] = [ApiTestUser, ApiEarnedIn, ApiEarnedOut];

/// CRNH notes among the author's recent ones: the first [`RECENT_NOTES`] of their notes
/// created after their last earn-out, CRH/CRNH notes first, newest first.
fn recent_crnh(notes: &[&NoteSummary], last_earn_out: f64) -> u32 {
    let mut recent: Vec<&NoteSummary> = notes
        .iter()
        .copied()
        .filter(|n| n.created_at_millis as f64 > last_earn_out)
        .collect();
    let decided = |s: NoteStatus| {
        matches!(
            s,
            NoteStatus::CurrentlyRatedHelpful | NoteStatus::CurrentlyRatedNotHelpful
        )
    };
    recent.sort_by(|a, b| {
        decided(b.status)
            .cmp(&decided(a.status))
            .then(b.note_id.cmp(&a.note_id))
    });
    recent
        .iter()
        .take(RECENT_NOTES)
        .filter(|n| n.status == NoteStatus::CurrentlyRatedNotHelpful)
        .count() as u32
}

/// A note's two top not-helpful tags (indices in TSV order), when at least two tags reach
/// [`MIN_RATINGS_TO_GET_TAG`].
fn note_top_tags(counts: &[u32; NUM_NOT_HELPFUL_TAGS]) -> Option<[usize; 2]> {
    let mut eligible: Vec<usize> = (0..NUM_NOT_HELPFUL_TAGS)
        .filter(|&k| counts[k] >= MIN_RATINGS_TO_GET_TAG)
        .collect();
    if eligible.len() < 2 {
        return None;
    }
    eligible.sort_by(|&a, &b| {
        counts[b]
            .cmp(&counts[a])
            .then(NOT_HELPFUL_TIE_BREAK[b].cmp(&NOT_HELPFUL_TIE_BREAK[a]))
    });
    Some([eligible[0], eligible[1]])
}

/// The author's two most frequent top tags: by (times a top tag, tie-break rank, TSV index),
/// largest first.
fn author_top_tags(notes: &[&NoteSummary]) -> String {
    let mut times = [0u32; NUM_NOT_HELPFUL_TAGS];
    for note in notes {
        if let Some(top) = note_top_tags(&note.tags.not_helpful) {
            top.iter().for_each(|&k| times[k] += 1);
        }
    }
    let mut tags: Vec<usize> = (0..NUM_NOT_HELPFUL_TAGS)
        .filter(|&k| times[k] > 0)
        .collect();
    tags.sort_by(|&a, &b| {
        (times[b], NOT_HELPFUL_TIE_BREAK[b], b).cmp(&(times[a], NOT_HELPFUL_TIE_BREAK[a], a))
    });
    tags.iter()
        .take(2)
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Contributor state of every participant.
///
/// * `enrollment`: per participant, the enrollment row (if any).
/// * `ratings`: per participant, the valid-rating totals; `None` for participants without a
///   rating-side entry.
/// * `author_counts`: per participant, (CRH, CRNH, NMR) counts over all authored notes;
///   `None` for participants who wrote no note.
/// * `notes`: every scored note; `history`: per note, the updated `currentStatus` and
///   creation time (for the recent totals).
/// * `now_millis`: the run's time (`c.epochMillis`).
pub fn contributor_states(
    enrollment: &[Option<&Enrollment>],
    ratings: &[Option<RatingTotals>],
    author_counts: &[Option<[u32; 3]>],
    notes: &[NoteSummary],
    now_millis: i64,
) -> Vec<ContributorState> {
    let participants = enrollment.len();
    let now = now_millis as f64;
    let mut by_author: Vec<Vec<&NoteSummary>> = vec![Vec::new(); participants];
    for note in notes {
        by_author[note.author as usize].push(note);
    }
    let newest = notes.iter().map(|n| n.created_at_millis).max().unwrap_or(0) as f64;

    (0..participants)
        .map(|u| {
            let row = enrollment[u];
            // Earned-out-acknowledged users start a new count from now.
            let last_earn_out = match row {
                Some(e) if e.state == EarnedOutAcknowledged => now,
                Some(e) => e.timestamp_of_last_earn_out.unwrap_or(1.0),
                None => 1.0,
            };
            let authored = &by_author[u];
            let contributes = ratings[u].is_some() || author_counts[u].is_some();
            let mut out = ContributorState {
                timestamp_of_last_earn_out: last_earn_out,
                is_emerging_writer: is_emerging_writer(authored),
                author_top_not_helpful_tags: (!authored.is_empty())
                    .then(|| author_top_tags(authored))
                    .filter(|t| !t.is_empty()),
                recent_totals: recent_totals(authored, newest),
                ..ContributorState::default()
            };
            if !contributes {
                // Enrollment rows without contributions keep their state.
                out.enrollment_state = row.map(|e| e.state.code());
                out.successful_rating_needed_to_earn_in =
                    row.map(|e| e.successful_rating_needed_to_earn_in);
                out.timestamp_of_last_state_change = row.map(|e| e.timestamp_of_last_state_change);
                out.number_of_times_earned_out = row.map(|e| e.number_of_times_earned_out);
                return out;
            }
            let totals = ratings[u].unwrap_or_default();
            let impact = totals.rating_impact();
            let recent_crnh = recent_crnh(authored, last_earn_out);
            let mut held = Held::Name(row.map_or(NewUser, |e| e.state));
            let mut target = row.map_or(RATING_IMPACT_FOR_EARN_IN, |e| {
                e.successful_rating_needed_to_earn_in
            });
            let mut changed = row.map(|e| e.timestamp_of_last_state_change);
            let mut earned_out = row.map(|e| e.number_of_times_earned_out);
            let not_api = |h: Held| !h.is_named(&API);
            // 1. Earn in on enough rating impact.
            if !held.is_named(&[Removed, EarnedIn, AtRisk]) && not_api(held) && impact >= target {
                held = Held::Code(EarnedIn);
                changed = Some(now_millis);
            }
            // 2. At risk with two CRNH among the recent notes.
            if !held.is_named(&[
                Removed,
                NewUser,
                EarnedOutNoAcknowledge,
                EarnedOutAcknowledged,
                AtRisk,
            ]) && not_api(held)
                && recent_crnh == AT_RISK_CRNH
            {
                held = Held::Code(AtRisk);
                changed = Some(now_millis);
            }
            // 3. Earned out with more.
            if !held.is_named(&[Removed, NewUser, EarnedOutAcknowledged])
                && not_api(held)
                && recent_crnh > AT_RISK_CRNH
            {
                earned_out = earned_out.map(|n| n + 1);
                held = Held::Code(EarnedOutNoAcknowledge);
                changed = Some(now_millis);
            }
            // 4. Back to earned in with fewer.
            if !held.is_named(&[
                Removed,
                NewUser,
                EarnedOutAcknowledged,
                EarnedOutNoAcknowledge,
                EarnedIn,
            ]) && not_api(held)
                && recent_crnh < AT_RISK_CRNH
            {
                held = Held::Code(EarnedIn);
                changed = Some(now_millis);
            }
            let mut state = held.state();
            // Single-trigger earn-out: more CRNH than CRH notes overall, one of them recent.
            let [crh, crnh, nmr] = author_counts[u].unwrap_or_default();
            if crnh > crh
                && recent_crnh > 0
                && !matches!(
                    state,
                    EarnedOutNoAcknowledge | EarnedOutAcknowledged | NewUser | Removed
                )
            {
                earned_out = earned_out.map(|n| n + 1);
                state = EarnedOutNoAcknowledge;
                changed = Some(now_millis);
            }
            // Earned-out users learn what it takes to earn back in, and acknowledge.
            if state == EarnedOutNoAcknowledge {
                let writing_impact = i64::from(crh) - i64::from(crnh);
                let total = i64::from(crh + crnh + nmr).max(1);
                let top_writer = writing_impact >= TOP_WRITER_WRITING_IMPACT
                    && writing_impact as f64 / total as f64 >= TOP_WRITER_HIT_RATE;
                let repeat = RATING_IMPACT_FOR_EARN_IN * (earned_out.unwrap_or(0) - 1).max(0);
                target =
                    RATING_IMPACT_FOR_EARN_IN + impact.max(0) + if top_writer { 0 } else { repeat };
                state = EarnedOutAcknowledged;
            }
            out.enrollment_state = Some(state.code());
            out.successful_rating_needed_to_earn_in = Some(target);
            out.timestamp_of_last_state_change = changed;
            out.number_of_times_earned_out = earned_out;
            out
        })
        .collect()
}

/// Emerging writer: the author's notes average a core intercept above
/// [`EMERGING_MEAN_NOTE_SCORE`] (missing intercepts count 0) and drew at least
/// [`EMERGING_RATING_COUNT`] ratings in 28 days.
fn is_emerging_writer(notes: &[&NoteSummary]) -> bool {
    if notes.is_empty() {
        return false;
    }
    let sum: f64 = notes.iter().filter_map(|n| n.core_intercept).sum();
    let recent: i64 = notes.iter().map(|n| n.ratings_last_28_days).sum();
    sum / notes.len() as f64 > EMERGING_MEAN_NOTE_SCORE && recent >= EMERGING_RATING_COUNT
}

/// CRH, CRNH and NMR counts of the author's notes created in the 14 days (notes with a status
/// or at least 10 ratings, and at least one rating) and 90 days (all) before the newest note.
fn recent_totals(notes: &[&NoteSummary], newest: f64) -> [i64; 6] {
    let mut out = [0i64; 6];
    for note in notes {
        let created = note.created_at_millis as f64;
        let index = match note.status {
            NoteStatus::CurrentlyRatedHelpful => 0,
            NoteStatus::CurrentlyRatedNotHelpful => 1,
            NoteStatus::NeedsMoreRatings => 2,
            _ => continue,
        };
        let decided = index < 2;
        if created > newest - 14.0 * DAY_MILLIS
            && note.num_ratings > 0
            && (note.num_ratings >= 10 || decided)
        {
            out[index] += 1;
        }
        if created > newest - 90.0 * DAY_MILLIS {
            out[3 + index] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enrollment(state: EnrollmentState) -> Enrollment {
        Enrollment {
            participant_id: "A".into(),
            state,
            successful_rating_needed_to_earn_in: 5,
            timestamp_of_last_state_change: 7,
            timestamp_of_last_earn_out: None,
            modeling_population: None,
            modeling_group: None,
            number_of_times_earned_out: 0,
        }
    }

    fn note(id: i64, status: NoteStatus) -> NoteSummary {
        NoteSummary {
            note_id: id,
            author: 0,
            created_at_millis: 100 + id,
            status,
            core_intercept: None,
            ratings_last_28_days: 0,
            num_ratings: 3,
            tags: TagCounts::default(),
        }
    }

    fn run(
        state: EnrollmentState,
        totals: RatingTotals,
        notes: &[NoteSummary],
    ) -> ContributorState {
        let e = enrollment(state);
        let mut counts = [0u32; 3];
        for n in notes {
            match n.status {
                NoteStatus::CurrentlyRatedHelpful => counts[0] += 1,
                NoteStatus::CurrentlyRatedNotHelpful => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        let authored = (!notes.is_empty()).then_some(counts);
        contributor_states(&[Some(&e)], &[Some(totals)], &[authored], notes, 1_000)
            .pop()
            .unwrap()
    }

    #[test]
    fn new_users_earn_in_on_rating_impact() {
        let totals = RatingTotals {
            successful_total: 6,
            unsuccessful_total: 0,
            unsuccessful_not_helpful: 0,
        };
        let s = run(NewUser, totals, &[]);
        assert_eq!(s.enrollment_state, Some(EarnedIn.code()));
        assert_eq!(s.timestamp_of_last_state_change, Some(1_000));
        let short = RatingTotals {
            successful_total: 6,
            unsuccessful_total: 1,
            unsuccessful_not_helpful: 1,
        };
        let s = run(NewUser, short, &[]);
        assert_eq!(s.enrollment_state, Some(NewUser.code()));
        assert_eq!(s.timestamp_of_last_state_change, Some(7));
    }

    #[test]
    fn recent_crnh_notes_put_writers_at_risk_then_earn_them_out() {
        use NoteStatus::*;
        let two = [
            note(1, CurrentlyRatedNotHelpful),
            note(2, CurrentlyRatedNotHelpful),
            note(3, CurrentlyRatedHelpful),
            note(4, CurrentlyRatedHelpful),
            note(5, CurrentlyRatedHelpful),
        ];
        let s = run(EarnedIn, RatingTotals::default(), &two);
        assert_eq!(s.enrollment_state, Some(AtRisk.code()));
        let three = [
            note(1, CurrentlyRatedNotHelpful),
            note(2, CurrentlyRatedNotHelpful),
            note(3, CurrentlyRatedNotHelpful),
            note(4, CurrentlyRatedHelpful),
        ];
        let s = run(EarnedIn, RatingTotals::default(), &three);
        // Earned out, then told what it takes to earn back in (acknowledged).
        assert_eq!(s.enrollment_state, Some(EarnedOutAcknowledged.code()));
        assert_eq!(s.number_of_times_earned_out, Some(1));
        assert_eq!(s.successful_rating_needed_to_earn_in, Some(5));
    }

    #[test]
    fn a_state_set_by_one_step_escapes_the_next_steps_exclusions() {
        use NoteStatus::*;
        // Earned in by rating impact (step 1), then at risk (step 2), although step 2
        // excludes earned-in users by name.
        let totals = RatingTotals {
            successful_total: 10,
            ..RatingTotals::default()
        };
        let notes = [
            note(1, CurrentlyRatedNotHelpful),
            note(2, CurrentlyRatedNotHelpful),
            note(3, CurrentlyRatedHelpful),
            note(4, CurrentlyRatedHelpful),
            note(5, CurrentlyRatedHelpful),
        ];
        let s = run(EarnedOutAcknowledged, totals, &notes);
        // Acknowledged earn-outs restart their count now, so these notes are not recent.
        assert_eq!(s.enrollment_state, Some(EarnedIn.code()));
        let s = run(NewUser, totals, &notes);
        assert_eq!(s.enrollment_state, Some(AtRisk.code()));
    }

    #[test]
    fn recent_notes_put_decided_notes_first_then_newest() {
        use NoteStatus::*;
        let notes = [
            note(1, CurrentlyRatedNotHelpful),
            note(2, CurrentlyRatedNotHelpful),
            note(3, NeedsMoreRatings),
            note(4, NeedsMoreRatings),
            note(5, NeedsMoreRatings),
            note(6, NeedsMoreRatings),
            note(7, NeedsMoreRatings),
        ];
        let refs: Vec<&NoteSummary> = notes.iter().collect();
        assert_eq!(recent_crnh(&refs, 0.0), 2);
        assert_eq!(recent_crnh(&refs, 102.0), 0);
    }

    #[test]
    fn author_tags_count_top_tags_across_notes() {
        let mut a = note(1, NoteStatus::NeedsMoreRatings);
        a.tags.not_helpful[1] = 3; // notHelpfulIncorrect
        a.tags.not_helpful[2] = 2; // notHelpfulSourcesMissingOrUnreliable
        let mut b = note(2, NoteStatus::NeedsMoreRatings);
        b.tags.not_helpful[1] = 2;
        b.tags.not_helpful[5] = 2; // notHelpfulOutdated wins ties
        let c = note(3, NoteStatus::NeedsMoreRatings);
        assert_eq!(note_top_tags(&b.tags.not_helpful), Some([5, 1]));
        assert_eq!(author_top_tags(&[&a, &b, &c]), "1,5");
        assert_eq!(author_top_tags(&[&c]), "");
    }

    #[test]
    fn emerging_writers_need_score_and_recent_ratings() {
        let mut a = note(1, NoteStatus::NeedsMoreRatings);
        a.core_intercept = Some(0.8);
        a.ratings_last_28_days = 10;
        let b = note(2, NoteStatus::NeedsMoreRatings);
        assert!(is_emerging_writer(&[&a, &b]));
        a.core_intercept = Some(0.5);
        assert!(!is_emerging_writer(&[&a, &b]));
    }
}
