//! The PCRH model's features of one note: how the raters of each helpfulness level spread
//! along the core factor axis, tag totals, the same spread along the axis of the note's
//! topic model, the author's recent record, and the number of ratings.
//!
//! Missing values read as 0, as the reference fills them: a level without rated factors has
//! all its statistics 0, one factor has standard deviation 0, fewer than three skewness 0.

use crate::community::ViewRatings;
use crate::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};
use crate::{HelpfulnessLevel, NoteStatus};

/// Quantiles of each level's factors.
const QUANTILES: [f64; 7] = [0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95];
/// Levels in feature order.
const LEVELS: [HelpfulnessLevel; 3] = [
    HelpfulnessLevel::Helpful,
    HelpfulnessLevel::NotHelpful,
    HelpfulnessLevel::SomewhatHelpful,
];
const TAGS: usize = HELPFUL_TAGS.len() + NOT_HELPFUL_TAGS.len();
/// Mean, standard deviation, count, the quantiles, interquartile range, skewness.
const PER_LEVEL: usize = 3 + QUANTILES.len() + 2;
/// Features of one set of ratings along the core axis.
const RATING_FEATURES: usize = LEVELS.len() * PER_LEVEL + TAGS;
/// Mean, standard deviation and count per level along a topic axis.
const TOPIC_FEATURES: usize = LEVELS.len() * 3;
/// Author counts: CRH, CRNH, NMR in 14 and in 90 days.
const AUTHOR_FEATURES: usize = 6;
/// Length of a feature row.
pub(crate) const FEATURES: usize = 2 * RATING_FEATURES + 2 * TOPIC_FEATURES + AUTHOR_FEATURES + 1;

const DAY_MILLIS: f64 = 86_400_000.0;

/// A rater's position on an axis (`None`: not placed on it).
pub(crate) type Axis<'a> = &'a [Option<f64>];

/// The ratings of one note to describe, as indices into `ratings`.
pub(crate) struct NoteRatings<'a> {
    /// Every rating considered.
    pub all: &'a [u32],
    /// The ratings by raters the core model scored.
    pub scored: &'a [u32],
}

/// Appends the feature row of one note to `out` ([`FEATURES`] values).
pub(crate) fn note_features(
    ratings: &ViewRatings,
    note: &NoteRatings<'_>,
    core: Axis<'_>,
    topic: Option<Axis<'_>>,
    author: [f64; AUTHOR_FEATURES],
    count: f64,
    out: &mut Vec<f64>,
) {
    let start = out.len();
    let mut scratch = Vec::new();
    for set in [note.all, note.scored] {
        for level in LEVELS {
            level_factors(ratings, set, level, core, &mut scratch);
            spread(&mut scratch, true, out);
        }
        let mut tags = [0u32; TAGS];
        for &k in set {
            let bits = ratings.tags(k as usize);
            for (t, total) in tags.iter_mut().enumerate() {
                *total += (bits >> t) & 1;
            }
        }
        out.extend(tags.iter().map(|&t| f64::from(t)));
    }
    for set in [note.all, note.scored] {
        for level in LEVELS {
            match topic {
                Some(axis) => {
                    level_factors(ratings, set, level, axis, &mut scratch);
                    spread(&mut scratch, false, out);
                }
                None => out.extend([0.0; 3]),
            }
        }
    }
    out.extend(author);
    out.push(count);
    debug_assert_eq!(out.len() - start, FEATURES);
}

/// The factors of the raters of `set` who rated at `level` and sit on `axis`.
fn level_factors(
    ratings: &ViewRatings,
    set: &[u32],
    level: HelpfulnessLevel,
    axis: Axis<'_>,
    into: &mut Vec<f64>,
) {
    into.clear();
    into.extend(set.iter().filter_map(|&k| {
        let k = k as usize;
        (ratings.level(k) == Some(level))
            .then(|| axis[ratings.rater(k) as usize])
            .flatten()
    }));
}

/// Mean, sample standard deviation and count of `values`, then (when `distribution`) the
/// quantiles, interquartile range and skewness. Sorts `values`.
fn spread(values: &mut [f64], distribution: bool, out: &mut Vec<f64>) {
    let n = values.len();
    if n == 0 {
        out.extend(std::iter::repeat_n(
            0.0,
            if distribution { PER_LEVEL } else { 3 },
        ));
        return;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let std = if n > 1 {
        (squares / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    out.extend([mean, std, n as f64]);
    if !distribution {
        return;
    }
    values.sort_by(f64::total_cmp);
    for q in QUANTILES {
        out.push(quantile(values, q));
    }
    out.push(quantile(values, 0.75) - quantile(values, 0.25));
    out.push(skewness(values, mean));
}

/// The `q` quantile of sorted `values`, interpolating linearly between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let low = at.floor() as usize;
    let high = (low + 1).min(sorted.len() - 1);
    sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
}

/// The adjusted Fisher–Pearson skewness of `values` (0 for fewer than three values or no
/// spread; sums below 1e-14 in magnitude count as 0, as in pandas).
fn skewness(values: &[f64], mean: f64) -> f64 {
    let n = values.len() as f64;
    if values.len() < 3 {
        return 0.0;
    }
    let zero_small = |x: f64| if x.abs() < 1e-14 { 0.0 } else { x };
    let m2 = zero_small(values.iter().map(|v| (v - mean).powi(2)).sum());
    let m3 = zero_small(values.iter().map(|v| (v - mean).powi(3)).sum());
    if m2 == 0.0 {
        return 0.0;
    }
    n * (n - 1.0).sqrt() / (n - 2.0) * (m3 / m2.powf(1.5))
}

/// Each author's labelled notes, to count their recent outcomes.
pub(crate) struct AuthorRecords {
    /// Per participant: (note index, time of the current label, the label).
    by_author: Vec<Vec<(u32, f64, NoteStatus)>>,
}

impl AuthorRecords {
    /// From each note's author and status history.
    pub(crate) fn new(notes: &[crate::community::CommunityNote], participants: usize) -> Self {
        let mut by_author = vec![Vec::new(); participants];
        for (n, note) in notes.iter().enumerate() {
            let h = &note.history;
            if let (Some(time), Some(status)) =
                (h.timestamp_millis_of_current_status, h.current_status)
            {
                by_author[note.author as usize].push((n as u32, time, status));
            }
        }
        AuthorRecords { by_author }
    }

    /// How many of the author's other notes got each label (CRH, CRNH, NMR) before
    /// `reference` and at most 14 days, then 90 days, before it.
    pub(crate) fn counts(
        &self,
        note: usize,
        author: u32,
        reference: f64,
    ) -> [f64; AUTHOR_FEATURES] {
        let mut counts = [0.0; AUTHOR_FEATURES];
        for &(other, time, status) in &self.by_author[author as usize] {
            if other as usize == note || time >= reference {
                continue;
            }
            let slot = match status {
                NoteStatus::CurrentlyRatedHelpful => 0,
                NoteStatus::CurrentlyRatedNotHelpful => 1,
                NoteStatus::NeedsMoreRatings => 2,
                _ => continue,
            };
            for (window, base) in [(14.0, 0), (90.0, 3)] {
                if reference - time <= window * DAY_MILLIS {
                    counts[base + slot] += 1.0;
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::ScoringRatings;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 8.0);
        // Position 0.5 * 3 = 1.5: halfway between 2 and 4.
        assert_eq!(quantile(&v, 0.5), 3.0);
        // Position 0.05 * 3 = 0.15.
        assert!((quantile(&v, 0.05) - 1.15).abs() < 1e-12);
        assert_eq!(quantile(&[5.0], 0.9), 5.0);
    }

    #[test]
    fn skewness_is_the_adjusted_sample_skewness() {
        // pandas: pd.Series([1, 2, 3, 10]).skew() == 1.763632614803888
        let v = [1.0, 2.0, 3.0, 10.0];
        assert!((skewness(&v, 4.0) - 1.763_632_614_803_888).abs() < 1e-12);
        assert_eq!(skewness(&[1.0, 2.0], 1.5), 0.0);
        assert_eq!(skewness(&[3.0, 3.0, 3.0], 3.0), 0.0);
        let symmetric = [-1.0, 0.0, 1.0];
        assert_eq!(skewness(&symmetric, 0.0), 0.0);
    }

    #[test]
    fn spread_of_nothing_is_zeros_and_of_one_value_has_no_deviation() {
        let mut out = Vec::new();
        spread(&mut [], true, &mut out);
        assert_eq!(out, vec![0.0; PER_LEVEL]);
        out.clear();
        spread(&mut [0.5], true, &mut out);
        assert_eq!(&out[..3], &[0.5, 0.0, 1.0]);
        assert!(out[3..3 + QUANTILES.len()].iter().all(|&q| q == 0.5));
        out.clear();
        spread(&mut [3.0, 1.0], false, &mut out);
        assert_eq!(out, vec![2.0, 2f64.sqrt(), 2.0]);
    }

    #[test]
    fn a_note_row_has_every_feature_in_place() {
        let ratings = ScoringRatings {
            note: vec![0, 0, 0],
            rater: vec![0, 1, 2],
            created_at_millis: vec![1, 2, 3],
            helpful_num: vec![1.0, 0.0, 1.0],
            level: vec![
                Some(HelpfulnessLevel::Helpful),
                Some(HelpfulnessLevel::NotHelpful),
                Some(HelpfulnessLevel::Helpful),
            ],
            tags: vec![0b1, 0b11, 0],
            population_sampled: vec![false; 3],
            high_volume: vec![false; 3],
            correlated: vec![false; 3],
        };
        let core = [Some(0.5), Some(-1.0), None];
        let mut out = Vec::new();
        let note = NoteRatings {
            all: &[0, 1, 2],
            scored: &[0],
        };
        note_features(&ratings.view(), &note, &core, None, [1.0; 6], 3.0, &mut out);
        assert_eq!(out.len(), FEATURES);
        // Helpful: one placed rater (the third has no factor).
        assert_eq!(&out[..3], &[0.5, 0.0, 1.0]);
        // Not helpful starts after the helpful block.
        assert_eq!(&out[PER_LEVEL..PER_LEVEL + 3], &[-1.0, 0.0, 1.0]);
        // Tag totals count every rating, placed or not.
        let tags = &out[3 * PER_LEVEL..3 * PER_LEVEL + 2];
        assert_eq!(tags, &[2.0, 1.0]);
        // Scored set: only the first rating.
        let scored = &out[RATING_FEATURES..];
        assert_eq!(&scored[..3], &[0.5, 0.0, 1.0]);
        assert_eq!(&scored[PER_LEVEL..PER_LEVEL + 3], &[0.0, 0.0, 0.0]);
        // No topic axis: zeros; then the author counts and the rating count.
        assert!(
            out[2 * RATING_FEATURES..2 * RATING_FEATURES + 2 * TOPIC_FEATURES]
                .iter()
                .all(|&v| v == 0.0)
        );
        assert_eq!(&out[FEATURES - 7..], &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0]);
    }
}
