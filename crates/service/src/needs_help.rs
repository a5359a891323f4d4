//! The "Needs your help" timeline: which notes most need a contributor's rating, and in what
//! order.
//!
//! The guide (documentation/under-the-hood/timeline-tabs.md) lists the criteria but no
//! weights: up to 15 posts; notes still needing ratings; recent posts first; authors with a
//! positive writing impact; notes not already low-scored; notes without so many ratings
//! that more would not change their status; notes whose raters lean to one side of the
//! viewpoint axis (fewer than 5 from one factor sign, or one sign under 20 % of the other);
//! notes with terms that tend to flood the tab ("spam", "scam", …) less often. Here those
//! criteria become a deterministic score: one point or two per criterion met, the
//! flooding terms a demotion instead of a lower probability. The viewer's own notes and notes
//! they already rated are left out before ranking (by storage).

use bridgenotes_storage::HelpCandidate;

/// Posts the tab shows at most (the guide's number).
pub const MAX_POSTS: usize = 15;
/// Notes read from storage to rank (the newest needing ratings).
pub const CANDIDATES: i64 = 500;

/// Fewer ratings than this from one factor sign makes a note lopsided (the guide's "< 5").
const FEW_FROM_ONE_SIDE: i64 = 5;
/// One sign's ratings under this share of the other's makes a note lopsided (the guide's
/// "< 20 %").
const LOPSIDED_SHARE: f64 = 0.2;
/// A note whose core intercept is below this is low-scored: it is heading for not helpful,
/// not for helpful (the core model's not-helpful threshold).
const LOW_INTERCEPT: f64 = -0.05;
/// Intercepts from here up to the helpful threshold (0.40) are "nearing the threshold".
const NEAR_HELPFUL: f64 = 0.25;
/// With this many ratings a few more rarely change a status; such notes are left out.
const MANY_RATINGS: i64 = 100;
const HOUR_MILLIS: i64 = 3_600_000;
/// Terms contributors reported as flooding the tab (the guide's list).
const FLOODING_TERMS: [&str; 6] = [
    "spam",
    "scam",
    "gambling",
    "dropship",
    "drop ship",
    "promotion",
];

/// Why a note ranks where it does: each criterion the guide names, as met or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Criteria {
    /// Raters so far lean to one side (or there are few from one side).
    pub lopsided: bool,
    /// The post is under 6 hours old.
    pub post_within_6h: bool,
    /// The post is under 24 hours old.
    pub post_within_24h: bool,
    /// The author's writing impact is positive.
    pub author_positive: bool,
    /// The core intercept is nearing the helpful threshold.
    pub nearing_helpful: bool,
    /// The note's text has a term that tends to flood the tab.
    pub flooding_term: bool,
}

impl Criteria {
    /// The ranking score: higher first.
    pub fn score(self) -> i32 {
        2 * i32::from(self.lopsided)
            + i32::from(self.post_within_6h)
            + i32::from(self.post_within_24h)
            + i32::from(self.author_positive)
            + i32::from(self.nearing_helpful)
            - 3 * i32::from(self.flooding_term)
    }
}

/// Whether a candidate belongs on the tab at all.
pub fn eligible(c: &HelpCandidate) -> bool {
    let intercept = c.view.score.as_ref().and_then(|s| s.core_note_intercept);
    c.view.ratings < MANY_RATINGS && intercept.is_none_or(|i| i >= LOW_INTERCEPT)
}

/// The criteria a candidate meets at `now_millis`.
pub fn criteria(c: &HelpCandidate, now_millis: i64) -> Criteria {
    let (few, many) = if c.raters_negative <= c.raters_positive {
        (c.raters_negative, c.raters_positive)
    } else {
        (c.raters_positive, c.raters_negative)
    };
    let age = now_millis.saturating_sub(c.post_created_at_millis);
    let intercept = c.view.score.as_ref().and_then(|s| s.core_note_intercept);
    let summary = c.view.note.summary.to_lowercase();
    Criteria {
        lopsided: few < FEW_FROM_ONE_SIDE || (few as f64) < LOPSIDED_SHARE * many as f64,
        post_within_6h: age < 6 * HOUR_MILLIS,
        post_within_24h: age < 24 * HOUR_MILLIS,
        author_positive: c.author_writing_impact > 0,
        nearing_helpful: intercept.is_some_and(|i| (NEAR_HELPFUL..0.40).contains(&i)),
        flooding_term: FLOODING_TERMS.iter().any(|t| summary.contains(t)),
    }
}

/// Ranks candidates for the tab: eligible notes by score, then fewer ratings, then newer
/// note, then note id; one note per post (its best), at most [`MAX_POSTS`] posts.
/// Deterministic: the same candidates and time give the same order.
pub fn rank(candidates: Vec<HelpCandidate>, now_millis: i64) -> Vec<(HelpCandidate, Criteria)> {
    let mut ranked: Vec<(HelpCandidate, Criteria)> = candidates
        .into_iter()
        .filter(eligible)
        .map(|c| {
            let k = criteria(&c, now_millis);
            (c, k)
        })
        .collect();
    ranked.sort_by(|(a, ka), (b, kb)| {
        kb.score()
            .cmp(&ka.score())
            .then(a.view.ratings.cmp(&b.view.ratings))
            .then(
                b.view
                    .note
                    .created_at_millis
                    .cmp(&a.view.note.created_at_millis),
            )
            .then(b.view.note.note_id.cmp(&a.view.note.note_id))
    });
    let mut posts = std::collections::HashSet::new();
    ranked.retain(|(c, _)| posts.insert(c.view.note.tweet_id));
    ranked.truncate(MAX_POSTS);
    ranked
}

#[cfg(test)]
mod tests {
    use bridgenotes_engine::{Classification, Note};
    use bridgenotes_storage::{NoteScore, NoteView};

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn candidate(id: i64, post: i64) -> HelpCandidate {
        HelpCandidate {
            view: NoteView {
                note: Note {
                    note_id: id,
                    author: "a".repeat(64),
                    created_at_millis: NOW - 10 * HOUR_MILLIS,
                    tweet_id: post,
                    classification: Classification::MisinformedOrPotentiallyMisleading,
                    believable: None,
                    harmful: None,
                    validation_difficulty: None,
                    misleading: Default::default(),
                    not_misleading: Default::default(),
                    trustworthy_sources: true,
                    summary: "Context with a source.".into(),
                    is_media_note: false,
                    is_collaborative_note: false,
                },
                deleted_at_millis: None,
                score: None,
                history: None,
                ratings: 20,
            },
            post_created_at_millis: NOW - 48 * HOUR_MILLIS,
            raters_negative: 10,
            raters_positive: 10,
            author_writing_impact: 0,
        }
    }

    fn with_intercept(mut c: HelpCandidate, intercept: f64) -> HelpCandidate {
        c.view.score = Some(NoteScore {
            note_id: c.view.note.note_id,
            core_note_intercept: Some(intercept),
            core_note_factor: Some(0.0),
            core_note_intercept_min: None,
            core_note_intercept_max: None,
            final_rating_status: Some("NEEDS_MORE_RATINGS".into()),
            core_rating_status: Some("NEEDS_MORE_RATINGS".into()),
            first_tag: None,
            second_tag: None,
            decided_by: None,
            num_ratings: c.view.ratings,
        });
        c
    }

    fn order(ranked: &[(HelpCandidate, Criteria)]) -> Vec<i64> {
        ranked.iter().map(|(c, _)| c.view.note.note_id).collect()
    }

    #[test]
    fn lopsided_notes_come_before_balanced_ones() {
        let balanced = candidate(1, 1);
        let mut one_sided = candidate(2, 2);
        one_sided.raters_negative = 12;
        one_sided.raters_positive = 2;
        let mut under_a_fifth = candidate(3, 3);
        under_a_fifth.raters_negative = 30;
        under_a_fifth.raters_positive = 5;
        let ranked = rank(vec![balanced, one_sided, under_a_fifth], NOW);
        assert_eq!(order(&ranked), vec![3, 2, 1]);
        assert!(ranked[0].1.lopsided && ranked[1].1.lopsided && !ranked[2].1.lopsided);
    }

    #[test]
    fn recent_posts_and_positive_authors_rank_higher() {
        let old = candidate(1, 1);
        let mut fresh = candidate(2, 2);
        fresh.post_created_at_millis = NOW - HOUR_MILLIS;
        let mut day = candidate(3, 3);
        day.post_created_at_millis = NOW - 12 * HOUR_MILLIS;
        let mut good_author = candidate(4, 4);
        good_author.author_writing_impact = 3;
        let ranked = rank(vec![old, fresh, day, good_author], NOW);
        // fresh: two points (6 h and 24 h); the day-old post and the good author one point
        // each, tied on ratings and note time, so the higher note id first; old: none.
        assert_eq!(order(&ranked), vec![2, 4, 3, 1]);
    }

    #[test]
    fn low_scored_and_heavily_rated_notes_are_left_out() {
        let low = with_intercept(candidate(1, 1), -0.2);
        let mut many = candidate(2, 2);
        many.view.ratings = MANY_RATINGS;
        let near = with_intercept(candidate(3, 3), 0.3);
        let ranked = rank(vec![low, many, near], NOW);
        assert_eq!(order(&ranked), vec![3]);
        assert!(ranked[0].1.nearing_helpful);
    }

    #[test]
    fn flooding_terms_demote_a_note() {
        let mut spammy = candidate(1, 1);
        spammy.view.note.summary = "This is a SCAM site, see the source.".into();
        spammy.raters_positive = 0; // lopsided, yet still below a plain note
        let plain = candidate(2, 2);
        let ranked = rank(vec![spammy, plain], NOW);
        assert_eq!(order(&ranked), vec![2, 1]);
        assert!(ranked[1].1.flooding_term);
    }

    #[test]
    fn one_note_per_post_and_at_most_fifteen_posts() {
        let mut all = Vec::new();
        for id in 0..40 {
            let mut c = candidate(id, id / 2);
            c.view.ratings = id; // fewer ratings rank first
            all.push(c);
        }
        let ranked = rank(all, NOW);
        assert_eq!(ranked.len(), MAX_POSTS);
        let posts: std::collections::HashSet<i64> =
            ranked.iter().map(|(c, _)| c.view.note.tweet_id).collect();
        assert_eq!(posts.len(), MAX_POSTS);
        // Within post 0 (notes 0 and 1), note 0 has fewer ratings and wins.
        assert_eq!(ranked[0].0.view.note.note_id, 0);
    }

    #[test]
    fn ties_break_the_same_way_every_time() {
        let make = || (0..10).map(|i| candidate(i, i)).collect::<Vec<_>>();
        let mut reversed = make();
        reversed.reverse();
        assert_eq!(order(&rank(make(), NOW)), order(&rank(reversed, NOW)));
    }
}
