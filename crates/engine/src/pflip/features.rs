//! The flip model's raw description of one note as of one moment (the reference's
//! `_prepare_note_info`): who wrote it and how long after the post, how its ratings arrived
//! (early, in bursts, recently), what happened to the other notes on the same post, and, for
//! its own ratings and for those of the post's other misleading and not-misleading notes,
//! which rater rated what, with which tags, and how the raters spread along the factor axis.
//!
//! Missing values are NaN where the reference leaves them missing (factor statistics of a note
//! without placed helpful raters, tag shares of a note without ratings); counts are 0.

use rustc_hash::FxHashMap;

use crate::HelpfulnessLevel;
use crate::NoteStatus;
use crate::community::{CommunityNote, ViewRatings};
use crate::note::Classification;
use crate::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};

/// Helpful and not-helpful tags.
pub(super) const TAGS: usize = HELPFUL_TAGS.len() + NOT_HELPFUL_TAGS.len();
/// The note's own ratings, the other misleading notes', the other not-misleading notes'.
pub(super) const SOURCES: usize = 3;
/// Minutes of the early, burst and recent rating windows.
const WINDOWS_MINUTES: [i64; 4] = [1, 5, 15, 60];
/// Timing features: for early, burst and recent ratings, 4 totals then 4 shares.
pub(super) const TIMING: usize = 24;
/// Counts of the post's other notes: all, misleading, not misleading, CRH, in stabilization.
pub(super) const PEERS: usize = 5;
/// Helpful raters' factor statistics: largest positive, largest negative (absolute), mean
/// positive, mean negative (absolute), standard deviation, the two sums.
pub(super) const STATS: usize = 7;
/// Ratings by factor side (negative, centre, positive) and level (helpful, somewhat, not).
pub(super) const BUCKETS: usize = 9;
/// A rater's factor counts as negative below this and positive above its opposite.
const SIDE: f64 = 0.3;
const MINUTE: i64 = 60_000;

/// The first millisecond of Twitter's snowflake ids.
const SNOWFLAKE_EPOCH_MILLIS: i64 = 1_288_834_974_657;

/// The creation time encoded in a post id.
pub(super) fn snowflake_millis(id: i64) -> i64 {
    (id >> 22) + SNOWFLAKE_EPOCH_MILLIS
}

/// What one set of ratings says about a note.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RatingSummary {
    /// Distinct (rater, level) pairs: `rater << 2 | level` (see [`level_code`]).
    pub helpfulness: Vec<u64>,
    /// Distinct (rater, helpful tag) pairs: `rater << 5 | tag`.
    pub helpful_tags: Vec<u64>,
    /// Distinct (rater, not-helpful tag) pairs: `rater << 5 | tag`.
    pub not_helpful_tags: Vec<u64>,
    pub buckets: [f64; BUCKETS],
    pub stats: [f64; STATS],
    /// Share of the ratings with each tag (helpful tags, then not-helpful); NaN without ratings.
    pub tag_shares: [f64; TAGS],
}

/// One note as of one moment.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct NoteRow {
    pub note: u32,
    pub author: u32,
    /// Milliseconds from the post to the note.
    pub latency: f64,
    pub timing: [f64; TIMING],
    pub peers: [f64; PEERS],
    pub sources: [RatingSummary; SOURCES],
}

/// A helpfulness level as a token code (3: none given).
pub(super) fn level_code(level: Option<HelpfulnessLevel>) -> u64 {
    match level {
        Some(HelpfulnessLevel::NotHelpful) => 0,
        Some(HelpfulnessLevel::SomewhatHelpful) => 1,
        Some(HelpfulnessLevel::Helpful) => 2,
        None => 3,
    }
}

/// The level name of a token code, as the reference writes it into its tokens.
pub(super) fn level_name(code: u64) -> &'static str {
    match code {
        0 => "NOT_HELPFUL",
        1 => "SOMEWHAT_HELPFUL",
        2 => "HELPFUL",
        _ => "nan",
    }
}

/// Notes, their ratings and the raters' factors, indexed for describing notes.
pub(super) struct FeatureSource<'a> {
    notes: &'a [CommunityNote],
    ratings: &'a ViewRatings<'a>,
    /// Per participant: the factor the buckets and statistics use.
    factor: &'a [Option<f64>],
    /// Per described note and peer: its rating positions.
    by_note: FxHashMap<u32, Vec<u32>>,
    /// Per post: its notes (with a classification), in note order.
    by_post: FxHashMap<i64, Vec<u32>>,
}

/// Whether a note can be described or be a peer: it has a post and a classification.
pub(super) fn on_a_post(note: &CommunityNote) -> Option<i64> {
    note.tweet_id
        .filter(|&t| t > 0 && note.classification.is_some())
}

impl<'a> FeatureSource<'a> {
    /// Indexes the ratings of `wanted` notes and of every note on their posts.
    pub fn new(
        notes: &'a [CommunityNote],
        ratings: &'a ViewRatings<'a>,
        factor: &'a [Option<f64>],
        wanted: &[u32],
    ) -> Self {
        let mut by_post: FxHashMap<i64, Vec<u32>> = FxHashMap::default();
        for &n in wanted {
            if let Some(post) = on_a_post(&notes[n as usize]) {
                by_post.entry(post).or_default();
            }
        }
        for (n, note) in notes.iter().enumerate() {
            if let Some(post) = on_a_post(note)
                && let Some(list) = by_post.get_mut(&post)
            {
                list.push(n as u32);
            }
        }
        let mut by_note: FxHashMap<u32, Vec<u32>> = by_post
            .values()
            .flatten()
            .map(|&n| (n, Vec::new()))
            .collect();
        for k in 0..ratings.len() {
            if let Some(list) = by_note.get_mut(&ratings.note(k)) {
                list.push(k as u32);
            }
        }
        FeatureSource {
            notes,
            ratings,
            factor,
            by_note,
            by_post,
        }
    }

    /// The rating positions of note `n` (indexed notes only).
    pub fn ratings_of(&self, n: u32) -> &[u32] {
        self.by_note.get(&n).map_or(&[], Vec::as_slice)
    }

    /// Rating times of note `n`.
    pub fn rating_times(&self, n: u32) -> impl Iterator<Item = i64> + '_ {
        self.ratings_of(n)
            .iter()
            .map(|&k| self.ratings.created_at_millis(k as usize))
    }

    /// Describes note `n` from the ratings made at or before `cutoff` (all without one),
    /// counting recent ratings back from `present`. With a cutoff, the other notes on the
    /// post are seen as they were then.
    pub fn describe(&self, n: u32, cutoff: Option<i64>, present: i64) -> NoteRow {
        let note = &self.notes[n as usize];
        let post = on_a_post(note).expect("described notes are on a post");
        let before = |t: i64| cutoff.is_none_or(|c| t <= c);
        let mut local: Vec<u32> = self
            .ratings_of(n)
            .iter()
            .copied()
            .filter(|&k| before(self.ratings.created_at_millis(k as usize)))
            .collect();
        local.sort_unstable();
        let mut misleading = Vec::new();
        let mut not_misleading = Vec::new();
        let mut peers = [0.0; PEERS];
        for &p in &self.by_post[&post] {
            if p == n {
                continue;
            }
            let peer = &self.notes[p as usize];
            let is_misleading =
                peer.classification == Some(Classification::MisinformedOrPotentiallyMisleading);
            let into = if is_misleading {
                &mut misleading
            } else {
                &mut not_misleading
            };
            into.extend(
                self.ratings_of(p)
                    .iter()
                    .copied()
                    .filter(|&k| before(self.ratings.created_at_millis(k as usize))),
            );
            if !before(peer.history.created_at_millis) {
                continue;
            }
            let h = &peer.history;
            let seen = |t: Option<f64>| t.is_none_or(|t| cutoff.is_none_or(|c| t <= c as f64));
            let stabilized = h
                .timestamp_millis_of_first_nmr_due_to_min_stable_crh_time
                .is_some()
                && seen(h.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time);
            let crh = h.first_non_nmr_status == Some(NoteStatus::CurrentlyRatedHelpful)
                && seen(h.timestamp_millis_of_first_non_nmr_status);
            peers[0] += 1.0;
            if is_misleading {
                peers[1] += 1.0;
                peers[3] += f64::from(u8::from(crh));
                peers[4] += f64::from(u8::from(stabilized));
            } else {
                peers[2] += 1.0;
            }
        }
        let created = note.history.created_at_millis;
        NoteRow {
            note: n,
            author: note.author,
            latency: (created - snowflake_millis(post)) as f64,
            timing: self.timing(&local, created, present),
            peers,
            sources: [
                self.summarize(&local),
                self.summarize(&misleading),
                self.summarize(&not_misleading),
            ],
        }
    }

    /// Early, burst and recent rating counts and shares.
    fn timing(&self, local: &[u32], created: i64, present: i64) -> [f64; TIMING] {
        let mut times: Vec<i64> = local
            .iter()
            .map(|&k| self.ratings.created_at_millis(k as usize))
            .collect();
        times.sort_unstable();
        let total = times.len() as f64;
        let share = |count: f64| count / total.max(1.0);
        let mut out = [0.0; TIMING];
        for (w, &minutes) in WINDOWS_MINUTES.iter().enumerate() {
            let span = minutes * MINUTE;
            let early = times.iter().filter(|&&t| t < created + span).count() as f64;
            let burst = busiest_window(&times, minutes) as f64;
            let recent = times.iter().filter(|&&t| t > present - span).count() as f64;
            out[w] = early;
            out[4 + w] = share(early);
            out[8 + w] = burst;
            out[12 + w] = share(burst);
            out[16 + w] = recent;
            out[20 + w] = share(recent);
        }
        out
    }

    /// Tokens, buckets, factor statistics and tag shares of a set of ratings.
    fn summarize(&self, ratings: &[u32]) -> RatingSummary {
        let r = self.ratings;
        let mut helpfulness = Vec::with_capacity(ratings.len());
        let mut helpful_tags = Vec::new();
        let mut not_helpful_tags = Vec::new();
        let mut buckets = [0.0; BUCKETS];
        let mut tag_counts = [0.0; TAGS];
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        for &k in ratings {
            let k = k as usize;
            let rater = u64::from(r.rater(k));
            let level = r.level(k);
            helpfulness.push(rater << 2 | level_code(level));
            let tags = r.tags(k);
            for (t, count) in tag_counts.iter_mut().enumerate() {
                if tags & (1 << t) != 0 {
                    *count += 1.0;
                    if t < HELPFUL_TAGS.len() {
                        helpful_tags.push(rater << 5 | t as u64);
                    } else {
                        not_helpful_tags.push(rater << 5 | (t - HELPFUL_TAGS.len()) as u64);
                    }
                }
            }
            let Some(factor) = self.factor[r.rater(k) as usize].filter(|f| !f.is_nan()) else {
                continue;
            };
            let side = if factor < -SIDE {
                0
            } else if factor <= SIDE {
                1
            } else {
                2
            };
            let column = match level {
                Some(HelpfulnessLevel::Helpful) => Some(0),
                Some(HelpfulnessLevel::SomewhatHelpful) => Some(1),
                Some(HelpfulnessLevel::NotHelpful) => Some(2),
                None => None,
            };
            if let Some(column) = column {
                buckets[side * 3 + column] += 1.0;
            }
            if level == Some(HelpfulnessLevel::Helpful) {
                if factor > 0.0 {
                    positive.push(factor);
                } else {
                    negative.push(factor);
                }
            }
        }
        for tokens in [&mut helpfulness, &mut helpful_tags, &mut not_helpful_tags] {
            tokens.sort_unstable();
            tokens.dedup();
        }
        let total = ratings.len() as f64;
        let tag_shares = tag_counts.map(|c| if total > 0.0 { c / total } else { f64::NAN });
        RatingSummary {
            helpfulness,
            helpful_tags,
            not_helpful_tags,
            buckets,
            stats: factor_stats(&positive, &negative),
            tag_shares,
        }
    }
}

/// The most ratings in any `minutes` consecutive whole minutes of sorted `times` (the
/// reference's windows, shifted by every whole minute, cover exactly these).
fn busiest_window(times: &[i64], minutes: i64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        let last = times[end].div_euclid(MINUTE);
        while times[start].div_euclid(MINUTE) <= last - minutes {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

/// Factor statistics of helpful raters with a positive and a non-positive factor.
fn factor_stats(positive: &[f64], negative: &[f64]) -> [f64; STATS] {
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let max_pos = positive.iter().copied().fold(f64::NAN, f64::max);
    let max_neg = negative.iter().copied().fold(f64::NAN, f64::min).abs();
    let mean_pos = mean(positive);
    let mean_neg = mean(negative).abs();
    let all: Vec<f64> = positive.iter().chain(negative).copied().collect();
    let std = if all.len() < 2 {
        f64::NAN
    } else {
        let m = mean(&all);
        (all.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (all.len() - 1) as f64).sqrt()
    };
    [
        max_pos,
        max_neg,
        mean_pos,
        mean_neg,
        std,
        max_pos + max_neg,
        mean_pos + mean_neg,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busiest_window_counts_whole_minutes() {
        let m = MINUTE;
        // Minutes 0, 0, 1, 3, 4, 4, 4.
        let times = [10, m - 1, m + 5, 3 * m, 4 * m, 4 * m + 1, 5 * m - 1];
        assert_eq!(busiest_window(&times, 1), 3);
        assert_eq!(busiest_window(&times, 2), 4);
        assert_eq!(busiest_window(&times, 5), 7);
        assert_eq!(busiest_window(&[], 5), 0);
        // Negative times floor like Python's //.
        assert_eq!(busiest_window(&[-1, 0], 1), 1);
    }

    #[test]
    fn factor_stats_follow_pandas() {
        let s = factor_stats(&[0.5, 0.3], &[-0.2, 0.0]);
        assert_eq!(s[0], 0.5);
        assert_eq!(s[1], 0.2);
        assert!((s[2] - 0.4).abs() < 1e-12);
        assert!((s[3] - 0.1).abs() < 1e-12);
        let m = 0.15;
        let var = [0.5f64, 0.3, -0.2, 0.0]
            .iter()
            .map(|x| (x - m) * (x - m))
            .sum::<f64>()
            / 3.0;
        assert!((s[4] - var.sqrt()).abs() < 1e-12);
        assert!((s[5] - 0.7).abs() < 1e-12);
        let none = factor_stats(&[0.4], &[]);
        assert!(none[1].is_nan() && none[4].is_nan() && none[5].is_nan());
        assert_eq!(none[0], 0.4);
    }

    #[test]
    fn snowflake_times() {
        // An id whose timestamp bits are 1000 ms past the epoch.
        assert_eq!(
            snowflake_millis(1000 << 22 | 12345),
            SNOWFLAKE_EPOCH_MILLIS + 1000
        );
    }
}
