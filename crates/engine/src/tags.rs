//! Rating tags in scoring: the distance-weighted not-helpful tag aggregates and their
//! per-scorer thresholds (the TagFilter rule), the "incorrect" tag aggregates (the
//! FilterIncorrect rule), and the explanation tags that a rated note shows
//! (`firstTag`/`secondTag` and the InsufficientExplanation rule).
//!
//! Everything here is a pure function of its arguments. Notes and raters are dense indices
//! (as in [`crate::community::Community`]); per-note and per-rater inputs and outputs are
//! slices indexed by them, and `None` marks a value the reference leaves missing.
//!
//! Reference: `tag_filter.py`, `incorrect_filter.py`, `explanation_tags.py`, the TagFilter,
//! FilterIncorrect and InsufficientExplanation rules of `scoring_rules.py`, and
//! `mf_base_scorer.py` (thresholds, per-rater incorrect counts). Where the specification and
//! the reference code disagree, the code is followed; each such place says so.
//!
//! Floating-point sums follow the reference's methods (numpy pairwise summation for the
//! factor mean and deviation, compensated summation for the per-note totals like pandas'
//! grouped sums), but not its row order, so values can differ from the reference in the last
//! bits; decisions can only differ for values that sit on a threshold to within that.

use crate::NoteStatus;
use crate::community::{ScoringRatings, ViewRatings};
use crate::numeric::{KahanSum, nan_mean_std, nan_percentile, numpy_quantile};
use crate::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS, Ratings, not_helpful_bit};

/// Number of helpful tags.
pub const NUM_HELPFUL_TAGS: usize = HELPFUL_TAGS.len();
/// Number of not-helpful tags.
pub const NUM_NOT_HELPFUL_TAGS: usize = NOT_HELPFUL_TAGS.len();
/// Index of `notHelpfulIncorrect` in [`NOT_HELPFUL_TAGS`].
pub const NOT_HELPFUL_INCORRECT: usize = 1;
/// Index of `notHelpfulHardToUnderstand` in [`NOT_HELPFUL_TAGS`]; the tag filter ignores it.
pub const NOT_HELPFUL_HARD_TO_UNDERSTAND: usize = 6;

/// Tie-break rank of each helpful tag, in [`HELPFUL_TAGS`] order: on equal counts the higher
/// rank wins (`constants.py: helpfulTagsAndTieBreakOrder`). So Informative (8) beats Clear
/// (7), …, and Other (0) loses every tie. The published documentation lists this order
/// reversed; the code's numbers are what decide.
pub const HELPFUL_TIE_BREAK: [u8; NUM_HELPFUL_TAGS] = [0, 8, 7, 3, 4, 2, 5, 6, 1];

/// Tie-break rank of each not-helpful tag, in [`NOT_HELPFUL_TAGS`] order: on equal counts the
/// higher rank wins (`constants.py: notHelpfulTagsAndTieBreakOrder`): Outdated (12) wins every
/// tie, Other (0) loses every tie.
pub const NOT_HELPFUL_TIE_BREAK: [u8; NUM_NOT_HELPFUL_TAGS] =
    [0, 8, 2, 4, 5, 12, 10, 7, 9, 11, 1, 3, 6];

/// All not-helpful tag bits of [`Ratings::tags`].
const NOT_HELPFUL_MASK: u32 = ((1 << NUM_NOT_HELPFUL_TAGS) - 1) << NUM_HELPFUL_TAGS;

// ---------------------------------------------------------------------------------------------
// Inputs

/// The rating columns the tag computations read, optionally restricted to a subset.
///
/// `note[i]` and `rater[i]` are the note and rater index of rating `i`, `tags[i]` its tag bits
/// (see [`Ratings::tags`]); [`masked`](Self::masked) and [`at`](Self::at) restrict which
/// ratings take part.
#[derive(Clone, Copy, Debug)]
pub struct TaggedRatings<'a> {
    pub note: &'a [u32],
    pub rater: &'a [u32],
    pub tags: &'a [u32],
    subset: Subset<'a>,
}

/// Which ratings of the columns take part.
#[derive(Clone, Copy, Debug)]
enum Subset<'a> {
    All,
    /// Those with `mask[i]` true, in order.
    Mask(&'a [bool]),
    /// Those at these indices, in this order.
    At(&'a [u32]),
}

impl<'a> TaggedRatings<'a> {
    /// All ratings of three parallel columns.
    ///
    /// # Panics
    /// If the columns differ in length.
    pub fn new(note: &'a [u32], rater: &'a [u32], tags: &'a [u32]) -> Self {
        assert!(
            note.len() == rater.len() && note.len() == tags.len(),
            "one note, rater and tag entry per rating"
        );
        TaggedRatings {
            note,
            rater,
            tags,
            subset: Subset::All,
        }
    }

    /// The same ratings restricted to those with `mask[i]` true.
    ///
    /// # Panics
    /// If `mask` does not have one entry per rating.
    pub fn masked(self, mask: &'a [bool]) -> Self {
        assert_eq!(mask.len(), self.note.len(), "one mask entry per rating");
        TaggedRatings {
            subset: Subset::Mask(mask),
            ..self
        }
    }

    /// The ratings at `indices`, in that order (for a [`ViewRatings`]: its
    /// [`order`](ViewRatings::order) or the base indices of a selection).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn at(self, indices: &'a [u32]) -> Self {
        assert!(
            indices.iter().all(|&i| (i as usize) < self.note.len()),
            "indices within the ratings"
        );
        TaggedRatings {
            subset: Subset::At(indices),
            ..self
        }
    }

    /// `(note, rater, tags)` of every selected rating, in rating order.
    fn iter(&self) -> Box<dyn Iterator<Item = (usize, usize, u32)> + '_> {
        let row = move |i: usize| (self.note[i] as usize, self.rater[i] as usize, self.tags[i]);
        match self.subset {
            Subset::All => Box::new((0..self.note.len()).map(row)),
            Subset::Mask(mask) => Box::new((0..self.note.len()).filter(|&i| mask[i]).map(row)),
            Subset::At(indices) => Box::new(indices.iter().map(move |&i| row(i as usize))),
        }
    }
}

impl<'a> From<&'a ViewRatings<'a>> for TaggedRatings<'a> {
    /// Every rating of a view, in the view's order.
    fn from(r: &'a ViewRatings<'a>) -> Self {
        let base = r.base();
        let all = TaggedRatings::new(&base.note, &base.rater, &base.tags);
        match r.order() {
            Some(order) => all.at(order),
            None => all,
        }
    }
}

impl<'a> From<&'a ScoringRatings> for TaggedRatings<'a> {
    /// Prepared ratings: note index and participant index of the rater.
    fn from(r: &'a ScoringRatings) -> Self {
        TaggedRatings::new(&r.note, &r.rater, &r.tags)
    }
}

impl<'a> From<&'a Ratings> for TaggedRatings<'a> {
    /// Raw ratings: indices into [`Ratings::note_ids`] and [`Ratings::rater_ids`].
    fn from(r: &'a Ratings) -> Self {
        TaggedRatings::new(&r.note, &r.rater, &r.tags)
    }
}

/// Z-normalized factors: `(f − mean) / std` over the entries that are present, with mean and
/// population deviation ignoring NaN factors (which stay NaN).
fn z_normalize(factors: &[Option<f64>]) -> Vec<Option<f64>> {
    let present: Vec<f64> = factors.iter().flatten().copied().collect();
    let (mean, std) = nan_mean_std(&present);
    factors
        .iter()
        .map(|f| f.map(|f| (f - mean) / std))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Tag aggregates

/// Parameters of the tag aggregates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TagAggregateParams {
    /// Percentile of rater–note distances that normalizes them
    /// (`c.tagPercentileForNormalization`).
    pub normalization_percentile: f64,
}

impl Default for TagAggregateParams {
    fn default() -> Self {
        TagAggregateParams {
            normalization_percentile: 40.0,
        }
    }
}

/// Distance-weighted not-helpful tag totals of one note (`tag_filter.py:
/// get_note_tag_aggregates`). Arrays are in [`NOT_HELPFUL_TAGS`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteTagAggregate {
    /// `ratingWeight`: the sum of the weights of the note's ratings.
    pub rating_weight: f64,
    /// `<tag>Adjusted`: the sum of the weights of the note's ratings that carry the tag.
    pub adjusted: [f64; NUM_NOT_HELPFUL_TAGS],
    /// `<tag>AdjustedRatio`: `adjusted / rating_weight`; `None` where that is 0/0 (a note
    /// whose every weight is undefined, e.g. because a factor is NaN).
    pub adjusted_ratio: [Option<f64>; NUM_NOT_HELPFUL_TAGS],
}

/// The weight of a rating whose (z-normalized) rater and note factors are `distance` apart,
/// given the normalizing distance `eta`: `1 / (1 + (distance/eta)^5)`, in (0, 1] for finite
/// positive inputs.
pub fn rating_weight(distance: f64, eta: f64) -> f64 {
    1.0 / (1.0 + (distance / eta).powf(5.0))
}

/// Tag aggregates per note (rules.md §2.2).
///
/// `note_factor[n]` is note `n`'s factor in the fit (`None`: the note is not in the fit) and
/// `rater_factor[u]` rater `u`'s (`None`: not in the fit). Both factor sets are z-normalized
/// over the fit's notes and raters (mean and population deviation; the published
/// documentation describes raw factors, the code normalizes). Each selected rating whose note
/// and rater are both in the fit gets the distance `d = |z_u − z_n|` and the weight
/// [`rating_weight`]`(d, η)`, η being the NaN-ignoring linear percentile
/// (`normalization_percentile`) of all those distances.
///
/// `note_factor` must hold every note of the fit, including notes that the scorer's
/// post-processing later drops from its output (the capture threshold): they count in the
/// normalization and in η.
///
/// The result has one entry per note: `None` for notes without such a rating (missing in the
/// reference, which aggregates only joined ratings). A NaN factor (`Some(NaN)`) is kept as
/// the reference keeps it: ignored in the mean and deviation, its distances ignored by the
/// percentile, its weights skipped by the sums; a note left with no weight has
/// `rating_weight` 0, `adjusted` 0 and undefined ratios.
///
/// # Panics
/// If a selected rating's note or rater index is out of range of the factor slices.
pub fn note_tag_aggregates(
    ratings: TaggedRatings<'_>,
    note_factor: &[Option<f64>],
    rater_factor: &[Option<f64>],
    params: &TagAggregateParams,
) -> Vec<Option<NoteTagAggregate>> {
    let note_z = z_normalize(note_factor);
    let rater_z = z_normalize(rater_factor);
    // Distance of a rating whose note and rater are both in the fit. Computed twice (for η,
    // then for the weights) rather than stored with the rating, to hold 8 bytes a rating.
    let distance = |n: usize, u: usize| Some((rater_z[u]? - note_z[n]?).abs());
    let mut distances: Vec<f64> = ratings
        .iter()
        .filter_map(|(n, u, _)| distance(n, u))
        .collect();
    let eta = nan_percentile(&mut distances, params.normalization_percentile);
    drop(distances);

    #[derive(Clone, Copy, Default)]
    struct Totals {
        present: bool,
        weight: KahanSum,
        adjusted: [KahanSum; NUM_NOT_HELPFUL_TAGS],
    }
    let mut totals = vec![Totals::default(); note_factor.len()];
    for (n, u, tags) in ratings.iter() {
        let Some(d) = distance(n, u) else { continue };
        let w = rating_weight(d, eta);
        let t = &mut totals[n];
        t.present = true;
        t.weight.add(w);
        // Ratings without the tag add 0 to the tag's total (or NaN, which is skipped).
        for (k, adjusted) in t.adjusted.iter_mut().enumerate() {
            if tags & not_helpful_bit(k) != 0 {
                adjusted.add(w);
            }
        }
    }
    totals
        .into_iter()
        .map(|t| {
            t.present.then(|| {
                let rating_weight = t.weight.sum;
                let adjusted = t.adjusted.map(|a| a.sum);
                let adjusted_ratio = adjusted.map(|a| {
                    let ratio = a / rating_weight;
                    (!ratio.is_nan()).then_some(ratio)
                });
                NoteTagAggregate {
                    rating_weight,
                    adjusted,
                    adjusted_ratio,
                }
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 2. Tag thresholds and 3. the TagFilter condition

/// Parameters of the tag filter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TagFilterParams {
    /// Percentile of CRH notes' adjusted ratios that a tag's ratio must exceed
    /// (`tagFilterPercentile`: 95; group model 14 uses 90). Used in prescoring, where the
    /// thresholds are computed. Must be below 100.
    pub percentile: u32,
    /// A tag's adjusted total must exceed this (`minAdjustedTotal`).
    pub min_adjusted_total: f64,
}

impl Default for TagFilterParams {
    fn default() -> Self {
        TagFilterParams {
            percentile: 95,
            min_adjusted_total: 2.5,
        }
    }
}

/// The quantile the reference uses for a percentile: element `percentile` of
/// `np.arange(0, 1, 0.01)`, i.e. `percentile × 0.01` in floating point (so 95 gives
/// 0.9500000000000001 and 90 gives 0.9).
pub fn percentile_quantile(percentile: u32) -> f64 {
    percentile as f64 * 0.01
}

/// Per not-helpful tag, the adjusted-ratio threshold of the tag filter, in
/// [`NOT_HELPFUL_TAGS`] order. `None` means undefined (NaN in the reference): the tag never
/// fires.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TagThresholds {
    pub adjusted_ratio: [Option<f64>; NUM_NOT_HELPFUL_TAGS],
}

/// Tag thresholds (matrix-factorization.md §6.2 step 8): per not-helpful tag, the linear
/// quantile at [`percentile_quantile`]`(params.percentile)` of `<tag>AdjustedRatio` over the
/// notes `crh_notes` (the notes CRH under the provisional statuses). With no CRH note every
/// threshold is 0.0. A CRH note without an aggregate or with an undefined ratio makes that
/// tag's threshold undefined (numpy's quantile propagates NaN).
///
/// # Panics
/// If `params.percentile` is 100 or more (the reference indexes a 100-element grid), or a
/// note index is out of range of `aggregates`.
pub fn tag_thresholds(
    aggregates: &[Option<NoteTagAggregate>],
    crh_notes: &[u32],
    params: &TagFilterParams,
) -> TagThresholds {
    assert!(
        params.percentile < 100,
        "tag filter percentile must be < 100"
    );
    let q = percentile_quantile(params.percentile);
    let adjusted_ratio = std::array::from_fn(|k| {
        if crh_notes.is_empty() {
            return Some(0.0);
        }
        let mut ratios = crh_notes
            .iter()
            .map(|&n| aggregates[n as usize].as_ref()?.adjusted_ratio[k])
            .collect::<Option<Vec<f64>>>()?;
        numpy_quantile(&mut ratios, q)
    });
    TagThresholds { adjusted_ratio }
}

/// A set of not-helpful tags: bit `k` is [`NOT_HELPFUL_TAGS`]`[k]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagSet(pub u16);

impl TagSet {
    /// Whether no tag is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether tag `k` (index into [`NOT_HELPFUL_TAGS`]) is in the set.
    pub fn contains(self, k: usize) -> bool {
        self.0 & (1 << k) != 0
    }

    /// The tag names, in TSV order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        (0..NUM_NOT_HELPFUL_TAGS)
            .filter(move |&k| self.contains(k))
            .map(|k| NOT_HELPFUL_TAGS[k])
    }

    /// The `activeFilterTags` text: the names joined by `,` (no space) in TSV order; `None`
    /// (missing) for an empty set.
    pub fn active_filter_tags(self) -> Option<String> {
        (!self.is_empty()).then(|| self.names().collect::<Vec<_>>().join(","))
    }
}

/// The TagFilter condition for one note (rules.md §2.4 rule 8): the not-helpful tags other
/// than `notHelpfulHardToUnderstand` whose adjusted total exceeds `min_adjusted_total` and
/// whose adjusted ratio exceeds the tag's threshold (both strictly). A note without an
/// aggregate fires nothing, nor does a tag whose ratio or threshold is undefined. The rule
/// applies only to notes not currently CRNH; the caller checks that.
pub fn tag_filter(
    aggregate: Option<&NoteTagAggregate>,
    thresholds: &TagThresholds,
    params: &TagFilterParams,
) -> TagSet {
    let Some(a) = aggregate else {
        return TagSet::default();
    };
    let mut fired = 0u16;
    for k in (0..NUM_NOT_HELPFUL_TAGS).filter(|&k| k != NOT_HELPFUL_HARD_TO_UNDERSTAND) {
        let ratio_exceeds = matches!(
            (a.adjusted_ratio[k], thresholds.adjusted_ratio[k]),
            (Some(r), Some(t)) if r > t
        );
        if a.adjusted[k] > params.min_adjusted_total && ratio_exceeds {
            fired |= 1 << k;
        }
    }
    TagSet(fired)
}

// ---------------------------------------------------------------------------------------------
// 4. Incorrect aggregates and FilterIncorrect

/// Parameters of the incorrect filter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IncorrectFilterParams {
    /// Factors are clipped to ±this before comparing them.
    pub factor_clip: f64,
    /// A rating counts when its clipped rater and note factors are less than this apart
    /// (`c.intervalHalfWidth`).
    pub interval_half_width: f64,
    /// Minimum `notHelpfulIncorrect_interval` (`tagThreshold`).
    pub min_incorrect: u32,
    /// Minimum `num_voters_interval` (`voteThreshold`).
    pub min_voters: u32,
    /// Minimum `tf_idf_incorrect_interval` (`incorrectFilterThreshold`: 2.5; group model 14
    /// uses 1.5).
    pub min_tf_idf: f64,
}

impl Default for IncorrectFilterParams {
    fn default() -> Self {
        IncorrectFilterParams {
            factor_clip: 0.4,
            interval_half_width: 0.3,
            min_incorrect: 2,
            min_voters: 3,
            min_tf_idf: 2.5,
        }
    }
}

/// How often a rater uses the "incorrect" tag (`incorrect_filter.py:
/// get_user_incorrect_ratio`), over the rater's ratings that carry at least one not-helpful
/// tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RaterIncorrectCounts {
    /// `incorrectTagRatingsMadeByRater`: of those ratings, the ones tagged
    /// `notHelpfulIncorrect`.
    pub incorrect_tag_ratings: u32,
    /// `totalRatingsMadeByRater`: the number of those ratings.
    pub total_ratings: u32,
}

/// Per rater (`0..raters`), the incorrect-tag counts over the selected ratings (in prescoring:
/// the scorer's ratings; matrix-factorization.md §6.2 step 9). `None` (missing in the
/// reference) for raters without a rating that carries a not-helpful tag.
///
/// # Panics
/// If a selected rating's rater index is `raters` or more.
pub fn rater_incorrect_counts(
    ratings: TaggedRatings<'_>,
    raters: usize,
) -> Vec<Option<RaterIncorrectCounts>> {
    let mut counts: Vec<Option<RaterIncorrectCounts>> = vec![None; raters];
    for (_, u, tags) in ratings.iter() {
        if tags & NOT_HELPFUL_MASK == 0 {
            continue;
        }
        let c = counts[u].get_or_insert_with(RaterIncorrectCounts::default);
        c.total_ratings += 1;
        c.incorrect_tag_ratings += u32::from(tags & not_helpful_bit(NOT_HELPFUL_INCORRECT) != 0);
    }
    counts
}

/// Incorrect-tag totals of one note (`incorrect_filter.py`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteIncorrectAggregate {
    /// `notHelpfulIncorrect_interval`: counted ratings tagged `notHelpfulIncorrect`.
    pub incorrect: u32,
    /// `p_incorrect_user_interval`: the sum over counted ratings of the rater's
    /// incorrect-tag rate (0 for a rater without counts).
    pub p_incorrect_user: f64,
    /// `num_voters_interval`: the number of counted ratings.
    pub voters: u32,
    /// `tf_idf_incorrect_interval`: `incorrect / ln(1 + p_incorrect_user)`. `+∞` when the
    /// rate sum is 0 and `incorrect` is not; `None` for 0/0 (NaN in the reference, which
    /// writes it as `nan`, unlike a missing aggregate, which it leaves empty).
    pub tf_idf: Option<f64>,
}

/// Incorrect aggregates per note (rules.md §2.3).
///
/// Counted ratings: selected ratings that carry at least one not-helpful tag, whose note is in
/// the fit (`note_factor[n]` is `Some`) and whose rater is in the rater table
/// (`rater_factor[u]` is `Some`; in the reference the final-fit raters that also have a
/// prescoring row), and whose factors clipped to ±`factor_clip` are less than
/// `interval_half_width` apart (a NaN factor never is). `rater_counts[u]` are the rater's
/// prescoring counts ([`rater_incorrect_counts`]); a rater without them contributes rate 0.
///
/// One entry per note, `None` for notes without a counted rating (missing in the reference).
///
/// # Panics
/// If a selected rating's note or rater index is out of range of the slices.
pub fn incorrect_aggregates(
    ratings: TaggedRatings<'_>,
    note_factor: &[Option<f64>],
    rater_factor: &[Option<f64>],
    rater_counts: &[Option<RaterIncorrectCounts>],
    params: &IncorrectFilterParams,
) -> Vec<Option<NoteIncorrectAggregate>> {
    let clip = |f: f64| f.clamp(-params.factor_clip, params.factor_clip);
    let mut totals: Vec<Option<(u32, KahanSum, u32)>> = vec![None; note_factor.len()];
    for (n, u, tags) in ratings.iter() {
        if tags & NOT_HELPFUL_MASK == 0 {
            continue;
        }
        let (Some(fu), Some(f_n)) = (rater_factor[u], note_factor[n]) else {
            continue;
        };
        // A NaN factor is never within the interval.
        let within = (clip(fu) - clip(f_n)).abs() < params.interval_half_width;
        if !within {
            continue;
        }
        let rate = match rater_counts[u] {
            Some(c) => c.incorrect_tag_ratings as f64 / c.total_ratings as f64,
            None => f64::NAN,
        };
        let (incorrect, p, voters) = totals[n].get_or_insert_with(Default::default);
        *incorrect += u32::from(tags & not_helpful_bit(NOT_HELPFUL_INCORRECT) != 0);
        // A missing (or 0/0) rate counts as 0.
        p.add(if rate.is_nan() { 0.0 } else { rate });
        *voters += 1;
    }
    totals
        .into_iter()
        .map(|t| {
            t.map(|(incorrect, p, voters)| {
                let tf_idf = incorrect as f64 / (1.0 + p.sum).ln();
                NoteIncorrectAggregate {
                    incorrect,
                    p_incorrect_user: p.sum,
                    voters,
                    tf_idf: (!tf_idf.is_nan()).then_some(tf_idf),
                }
            })
        })
        .collect()
}

/// The FilterIncorrect condition for one note (rules.md §2.4 rule 11):
/// `incorrect ≥ min_incorrect`, `voters ≥ min_voters` and `tf_idf ≥ min_tf_idf`. A note
/// without an aggregate or with an undefined tf-idf does not fire. The rule applies only to
/// notes not currently CRNH; the caller checks that.
pub fn filter_incorrect(
    aggregate: Option<&NoteIncorrectAggregate>,
    params: &IncorrectFilterParams,
) -> bool {
    aggregate.is_some_and(|a| {
        a.incorrect >= params.min_incorrect
            && a.voters >= params.min_voters
            && a.tf_idf.is_some_and(|t| t >= params.min_tf_idf)
    })
}

// ---------------------------------------------------------------------------------------------
// 5. Explanation tags and InsufficientExplanation

/// Parameters of the explanation tags.
///
/// The reference only runs with both at 2: it asserts it (and passes the two swapped for CRH
/// notes, which is unobservable at 2). Other values get the natural meaning here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExplanationParams {
    /// A tag needs at least this many ratings to be shown (`c.minRatingsToGetTag`).
    pub min_ratings_to_get_tag: u32,
    /// A CRH/CRNH note needs at least this many tags to keep its status
    /// (`c.minTagsNeededForStatus`).
    pub min_tags_needed_for_status: usize,
}

impl Default for ExplanationParams {
    fn default() -> Self {
        ExplanationParams {
            min_ratings_to_get_tag: 2,
            min_tags_needed_for_status: 2,
        }
    }
}

/// Tag counts of one note, in [`HELPFUL_TAGS`] and [`NOT_HELPFUL_TAGS`] order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TagCounts {
    pub helpful: [u32; NUM_HELPFUL_TAGS],
    pub not_helpful: [u32; NUM_NOT_HELPFUL_TAGS],
}

/// Tag counts per note (`0..notes`) over the selected ratings (the reference's note stats;
/// for explanation tags: all ratings after post-selection-similarity removal).
///
/// # Panics
/// If a selected rating's note index is `notes` or more.
pub fn note_tag_counts(ratings: TaggedRatings<'_>, notes: usize) -> Vec<TagCounts> {
    let mut counts = vec![TagCounts::default(); notes];
    for (n, _, tags) in ratings.iter() {
        let c = &mut counts[n];
        for (k, count) in c.helpful.iter_mut().enumerate() {
            *count += (tags >> k) & 1;
        }
        for (k, count) in c.not_helpful.iter_mut().enumerate() {
            *count += (tags >> (NUM_HELPFUL_TAGS + k)) & 1;
        }
    }
    counts
}

/// A note's explanation tags and whether InsufficientExplanation applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// `firstTag`: the tag column name, e.g. `helpfulClear` or `notHelpfulIncorrect`.
    pub first_tag: Option<&'static str>,
    /// `secondTag`.
    pub second_tag: Option<&'static str>,
    /// The note is CRH/CRNH with fewer than `min_tags_needed_for_status` tags: the
    /// InsufficientExplanation rule sets it to NMR.
    pub insufficient: bool,
}

/// The two tags of a tag family: the counts that reach `min_count`, largest first, ties won
/// by the higher rank; none when fewer than `min_tags` reach it.
fn top_two(
    counts: &[u32],
    ranks: &[u8],
    names: &'static [&'static str],
    params: &ExplanationParams,
) -> (Option<&'static str>, Option<&'static str>) {
    let mut eligible: Vec<usize> = (0..counts.len())
        .filter(|&k| counts[k] >= params.min_ratings_to_get_tag)
        .collect();
    if eligible.len() < params.min_tags_needed_for_status {
        return (None, None);
    }
    eligible.sort_unstable_by(|&a, &b| {
        counts[b]
            .cmp(&counts[a])
            .then_with(|| ranks[b].cmp(&ranks[a]))
    });
    let mut top = eligible.into_iter().map(|k| names[k]);
    (top.next(), top.next())
}

/// Explanation tags of a note whose status (before InsufficientExplanation) is `status`
/// (rules.md §7): CRH notes take their two top helpful tags, CRNH notes their two top
/// not-helpful tags (see [`HELPFUL_TIE_BREAK`], [`NOT_HELPFUL_TIE_BREAK`]); a tag needs
/// `min_ratings_to_get_tag` ratings, and a note with fewer than `min_tags_needed_for_status`
/// such tags gets none and is [`Explanation::insufficient`]. Other notes get no tags and are
/// not affected.
pub fn explanation_tags(
    status: NoteStatus,
    counts: &TagCounts,
    params: &ExplanationParams,
) -> Explanation {
    let (first_tag, second_tag) = match status {
        NoteStatus::CurrentlyRatedHelpful => {
            top_two(&counts.helpful, &HELPFUL_TIE_BREAK, &HELPFUL_TAGS, params)
        }
        NoteStatus::CurrentlyRatedNotHelpful => top_two(
            &counts.not_helpful,
            &NOT_HELPFUL_TIE_BREAK,
            &NOT_HELPFUL_TAGS,
            params,
        ),
        _ => return Explanation::default(),
    };
    let tags = usize::from(first_tag.is_some()) + usize::from(second_tag.is_some());
    Explanation {
        first_tag,
        second_tag,
        insufficient: tags < params.min_tags_needed_for_status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::{numpy_lerp, pairwise_sum};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    /// Tag bits of a not-helpful tag by name.
    fn nh(name: &str) -> u32 {
        not_helpful_bit(NOT_HELPFUL_TAGS.iter().position(|t| *t == name).unwrap())
    }

    fn nh_index(name: &str) -> usize {
        NOT_HELPFUL_TAGS.iter().position(|t| *t == name).unwrap()
    }

    /// Tag bits of a helpful tag by name.
    fn h(name: &str) -> u32 {
        1 << HELPFUL_TAGS.iter().position(|t| *t == name).unwrap()
    }

    #[test]
    fn tag_tables_match_the_rating_layout() {
        assert_eq!(
            NOT_HELPFUL_TAGS[NOT_HELPFUL_INCORRECT],
            "notHelpfulIncorrect"
        );
        assert_eq!(
            NOT_HELPFUL_TAGS[NOT_HELPFUL_HARD_TO_UNDERSTAND],
            "notHelpfulHardToUnderstand"
        );
        assert_eq!(NOT_HELPFUL_MASK, (0..13).map(not_helpful_bit).sum::<u32>());
        // Ranks are permutations.
        let mut ranks = HELPFUL_TIE_BREAK.to_vec();
        ranks.sort();
        assert_eq!(ranks, (0..9).collect::<Vec<u8>>());
        let mut ranks = NOT_HELPFUL_TIE_BREAK.to_vec();
        ranks.sort();
        assert_eq!(ranks, (0..13).collect::<Vec<u8>>());
    }

    #[test]
    fn tags_weight_formula() {
        assert_eq!(rating_weight(0.0, 0.4), 1.0);
        assert!(close(rating_weight(0.4, 0.4), 0.5));
        assert!(close(rating_weight(0.8, 0.4), 1.0 / 33.0));
        assert!(close(rating_weight(2.0, 0.4), 1.0 / 3126.0));
        // Undefined normalizer: 0/0 is NaN, d/0 is infinite (weight 0).
        assert!(rating_weight(0.0, 0.0).is_nan());
        assert_eq!(rating_weight(1.0, 0.0), 0.0);
    }

    #[test]
    fn tags_eta_is_the_nan_ignoring_linear_40th_percentile() {
        // 5 values: virtual index 4·0.4 = 1.6 → 1 + (2 − 1)·0.6.
        let mut d = vec![3.0, f64::NAN, 0.0, 4.0, 1.0, 2.0];
        assert!(close(nan_percentile(&mut d, 40.0), 1.6));
        // 4 values: virtual index 3·0.4 = 1.2 → 0 + (2 − 0)·0.2.
        let mut d = vec![2.0, 0.0, 2.0, 0.0];
        assert!(close(nan_percentile(&mut d, 40.0), 0.4));
        assert!(nan_percentile(&mut vec![f64::NAN], 40.0).is_nan());
        assert!(nan_percentile(&mut vec![], 40.0).is_nan());
        assert_eq!(nan_percentile(&mut vec![7.0], 40.0), 7.0);
    }

    #[test]
    fn tags_numpy_quantile_details() {
        // numpy interpolates from the upper end when the fraction is at least one half.
        assert_eq!(numpy_lerp(1.0, 3.0, 0.75), 3.0 - 2.0 * 0.25);
        assert_eq!(numpy_quantile(&mut [4.0, 2.0, 1.0, 3.0], 0.5), Some(2.5));
        assert_eq!(numpy_quantile(&mut [5.0], 0.95), Some(5.0));
        assert_eq!(numpy_quantile(&mut [], 0.5), None);
        // At the last index the last value comes through the interpolation: ∞ − ∞ is NaN.
        assert!(
            numpy_quantile(&mut [f64::INFINITY, 1.0], 1.0)
                .unwrap()
                .is_nan()
        );
    }

    #[test]
    fn tags_quantile_by_selection_equals_quantile_of_sorted_values() {
        // A deterministic scramble of values with ties, for many sizes and quantiles.
        for n in 1..40usize {
            let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 / 4.0).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.1, 0.4, 0.5, 0.9, 0.9500000000000001, 0.99] {
                let position = (n - 1) as f64 * q;
                let lower = position.floor() as usize;
                let upper = (lower + 1).min(n - 1);
                let want = numpy_lerp(sorted[lower], sorted[upper], position - lower as f64);
                assert_eq!(
                    numpy_quantile(&mut values.clone(), q),
                    Some(want),
                    "{n} {q}"
                );
            }
        }
    }

    #[test]
    fn tags_z_normalization_uses_population_std_and_ignores_nan() {
        let z = z_normalize(&[
            Some(1.0),
            None,
            Some(2.0),
            Some(f64::NAN),
            Some(3.0),
            Some(4.0),
        ]);
        // mean 2.5, population std sqrt(1.25) (the sample std would be sqrt(5/3)).
        let s = 1.25f64.sqrt();
        assert!(close(z[0].unwrap(), -1.5 / s));
        assert_eq!(z[1], None);
        assert!(z[3].unwrap().is_nan());
        assert!(close(z[5].unwrap(), 1.5 / s));
        assert!(close(z[5].unwrap(), 1.3416407864998738));
        // A single value has deviation 0: its z-score is 0/0.
        assert!(z_normalize(&[Some(3.0)])[0].unwrap().is_nan());
    }

    #[test]
    fn tags_pairwise_sum_matches_plain_sum_on_exact_values() {
        for n in [0usize, 1, 7, 8, 9, 100, 128, 129, 300, 1000] {
            let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
            assert_eq!(pairwise_sum(&v), (n * n.saturating_sub(1) / 2) as f64);
        }
    }

    /// Notes: 0 (f −1), 1 (f 1), 2 (not in the fit), 3 (NaN factor).
    /// Raters: 0 (f −1), 1 (f 1), 2 (not in the fit), 3 (NaN factor).
    /// Both sets have z-scores −1 and 1.
    fn aggregate_example() -> (Vec<u32>, Vec<u32>, Vec<u32>, Vec<bool>) {
        let incorrect = nh("notHelpfulIncorrect");
        let other = nh("notHelpfulOther");
        let hard = nh("notHelpfulHardToUnderstand");
        let rows = [
            (0, 0, incorrect | other | h("helpfulClear"), true), // d = 0
            (0, 1, incorrect, true),                             // d = 2
            (1, 1, 0, true),                                     // d = 0
            (1, 0, hard, true),                                  // d = 2
            (2, 0, incorrect, true),                             // note not in the fit
            (0, 2, incorrect, true),                             // rater not in the fit
            (3, 0, incorrect, true),                             // NaN note factor
            (0, 3, other, true),                                 // NaN rater factor
            (1, 1, incorrect, false),                            // masked out
        ];
        (
            rows.iter().map(|r| r.0).collect(),
            rows.iter().map(|r| r.1).collect(),
            rows.iter().map(|r| r.2).collect(),
            rows.iter().map(|r| r.3).collect(),
        )
    }

    #[test]
    fn tags_aggregates_by_hand() {
        let (note, rater, tags, mask) = aggregate_example();
        let ratings = TaggedRatings::new(&note, &rater, &tags).masked(&mask);
        let notes = [Some(-1.0), Some(1.0), None, Some(f64::NAN)];
        let raters = [Some(-1.0), Some(1.0), None, Some(f64::NAN)];
        let agg = note_tag_aggregates(ratings, &notes, &raters, &TagAggregateParams::default());
        assert_eq!(agg.len(), 4);
        // Distances 0, 2, 0, 2 (NaN ones ignored) → η = 0.4 → weights 1 and 1/3126.
        let far = 1.0 / 3126.0;
        let (i, o, hd) = (
            nh_index("notHelpfulIncorrect"),
            nh_index("notHelpfulOther"),
            nh_index("notHelpfulHardToUnderstand"),
        );

        let a0 = agg[0].as_ref().unwrap();
        assert!(close(a0.rating_weight, 1.0 + far));
        assert!(close(a0.adjusted[i], 1.0 + far));
        assert!(close(a0.adjusted_ratio[i].unwrap(), 1.0));
        assert!(close(a0.adjusted[o], 1.0));
        assert!(close(a0.adjusted_ratio[o].unwrap(), 3126.0 / 3127.0));
        assert_eq!(a0.adjusted[hd], 0.0);
        assert_eq!(a0.adjusted_ratio[hd], Some(0.0));

        let a1 = agg[1].as_ref().unwrap();
        assert!(close(a1.rating_weight, 1.0 + far));
        assert_eq!(a1.adjusted[i], 0.0, "the masked rating does not count");
        assert!(close(a1.adjusted_ratio[hd].unwrap(), 1.0 / 3127.0));

        assert_eq!(agg[2], None, "a note outside the fit has no aggregate");
        // A NaN factor keeps the note in the aggregation with no usable weight.
        let a3 = agg[3].as_ref().unwrap();
        assert_eq!(a3.rating_weight, 0.0);
        assert_eq!(a3.adjusted[i], 0.0);
        assert_eq!(a3.adjusted_ratio, [None; NUM_NOT_HELPFUL_TAGS]);
    }

    #[test]
    fn tags_aggregates_weigh_by_normalized_distance() {
        // Notes z = ±1; raters 0, 2, 4 → z = −√1.5, 0, √1.5 (population std √(8/3)).
        let note = [0, 0, 0, 1, 1, 1];
        let rater = [0, 1, 2, 0, 1, 2];
        let tags = [nh("notHelpfulOutdated"), 0, 0, 0, 0, 0];
        let notes = [Some(-3.0), Some(5.0)];
        let raters = [Some(0.0), Some(2.0), Some(4.0)];
        let agg = note_tag_aggregates(
            TaggedRatings::new(&note, &rater, &tags),
            &notes,
            &raters,
            &TagAggregateParams::default(),
        );
        let zu = [-(1.5f64.sqrt()), 0.0, 1.5f64.sqrt()];
        let zn = [-1.0, 1.0];
        let mut d: Vec<f64> = note
            .iter()
            .zip(&rater)
            .map(|(&n, &u)| (zu[u as usize] - zn[n as usize]).abs())
            .collect();
        let weights: Vec<f64> = d.clone();
        let eta = nan_percentile(&mut d, 40.0);
        let w: Vec<f64> = weights.iter().map(|&x| rating_weight(x, eta)).collect();
        let a0 = agg[0].as_ref().unwrap();
        assert!(close(a0.rating_weight, w[0] + w[1] + w[2]));
        let k = nh_index("notHelpfulOutdated");
        assert!(close(a0.adjusted[k], w[0]));
        assert!(close(
            a0.adjusted_ratio[k].unwrap(),
            w[0] / (w[0] + w[1] + w[2])
        ));
        assert!(close(
            agg[1].as_ref().unwrap().rating_weight,
            w[3] + w[4] + w[5]
        ));
        // The raw factors would give different weights: the z-scores matter.
        assert!(a0.rating_weight > 1.0 && a0.rating_weight < 3.0);
    }

    fn aggregate_with_ratio(k: usize, ratio: Option<f64>) -> Option<NoteTagAggregate> {
        let mut adjusted_ratio = [Some(0.0); NUM_NOT_HELPFUL_TAGS];
        adjusted_ratio[k] = ratio;
        Some(NoteTagAggregate {
            rating_weight: 1.0,
            adjusted: [0.0; NUM_NOT_HELPFUL_TAGS],
            adjusted_ratio,
        })
    }

    #[test]
    fn tags_percentile_quantiles_are_built_like_numpy_arange() {
        assert_eq!(percentile_quantile(95), 0.9500000000000001);
        assert_eq!(percentile_quantile(90), 0.9);
        assert_eq!(percentile_quantile(0), 0.0);
    }

    #[test]
    fn tags_thresholds_at_95_and_90() {
        let k = nh_index("notHelpfulMissingKeyPoints");
        // Two CRH notes with ratios 1 and 0: the threshold is the quantile itself, so it
        // shows the reference's q = 0.9500000000000001 (q = 0.95 would give 0.95).
        let aggregates = vec![
            aggregate_with_ratio(k, Some(1.0)),
            aggregate_with_ratio(k, Some(0.0)),
        ];
        let t95 = tag_thresholds(&aggregates, &[0, 1], &TagFilterParams::default());
        assert_eq!(t95.adjusted_ratio[k], Some(0.9500000000000001));
        assert_eq!(t95.adjusted_ratio[0], Some(0.0));
        let p90 = TagFilterParams {
            percentile: 90,
            ..TagFilterParams::default()
        };
        let t90 = tag_thresholds(&aggregates, &[0, 1], &p90);
        assert_eq!(t90.adjusted_ratio[k], Some(0.9));
        // 4 notes 0.1, 0.2, 0.3, 0.4: virtual index 3 · 0.95 = 2.85 → 0.3 + 0.1 · 0.85.
        let small: Vec<_> = [0.1, 0.4, 0.2, 0.3]
            .iter()
            .map(|&r| aggregate_with_ratio(k, Some(r)))
            .collect();
        let t = tag_thresholds(&small, &[0, 1, 2, 3], &TagFilterParams::default());
        assert!(close(t.adjusted_ratio[k].unwrap(), 0.385));
        let t = tag_thresholds(&small, &[0, 1, 2, 3], &p90);
        assert!(close(t.adjusted_ratio[k].unwrap(), 0.37));
        // Only the CRH notes count.
        let t = tag_thresholds(&small, &[0, 2], &TagFilterParams::default());
        assert!(close(
            t.adjusted_ratio[k].unwrap(),
            0.1 + 0.1 * 0.9500000000000001
        ));
    }

    #[test]
    fn tags_thresholds_without_crh_notes_are_zero_and_nan_propagates() {
        let k = nh_index("notHelpfulOffTopic");
        let aggregates = vec![
            aggregate_with_ratio(k, Some(0.5)),
            aggregate_with_ratio(k, None),
            None,
        ];
        let params = TagFilterParams::default();
        let t = tag_thresholds(&aggregates, &[], &params);
        assert_eq!(t.adjusted_ratio, [Some(0.0); NUM_NOT_HELPFUL_TAGS]);
        // An undefined ratio makes that tag's threshold undefined, only that one.
        let t = tag_thresholds(&aggregates, &[0, 1], &params);
        assert_eq!(t.adjusted_ratio[k], None);
        assert_eq!(t.adjusted_ratio[0], Some(0.0));
        // A CRH note without an aggregate makes every threshold undefined.
        let t = tag_thresholds(&aggregates, &[0, 2], &params);
        assert_eq!(t.adjusted_ratio, [None; NUM_NOT_HELPFUL_TAGS]);
    }

    #[test]
    #[should_panic(expected = "percentile")]
    fn tags_threshold_percentile_must_be_below_100() {
        let params = TagFilterParams {
            percentile: 100,
            ..TagFilterParams::default()
        };
        tag_thresholds(&[], &[], &params);
    }

    #[test]
    fn tags_filter_fires_on_strictly_exceeding_tags_in_tsv_order() {
        let idx = nh_index;
        let mut adjusted = [0.0; NUM_NOT_HELPFUL_TAGS];
        let mut adjusted_ratio = [Some(0.5); NUM_NOT_HELPFUL_TAGS];
        let mut thresholds = [Some(0.2); NUM_NOT_HELPFUL_TAGS];
        adjusted[idx("notHelpfulNoteNotNeeded")] = 3.0; // fires
        adjusted[idx("notHelpfulIncorrect")] = 2.6; // fires
        adjusted[idx("notHelpfulOther")] = 2.5; // total not above 2.5
        adjusted[idx("notHelpfulHardToUnderstand")] = 9.0; // never filtered
        adjusted[idx("notHelpfulOutdated")] = 3.0; // ratio equal to threshold
        thresholds[idx("notHelpfulOutdated")] = Some(0.5);
        adjusted[idx("notHelpfulOffTopic")] = 3.0; // undefined threshold
        thresholds[idx("notHelpfulOffTopic")] = None;
        adjusted[idx("notHelpfulIrrelevantSources")] = 3.0; // undefined ratio
        adjusted_ratio[idx("notHelpfulIrrelevantSources")] = None;
        let a = NoteTagAggregate {
            rating_weight: 6.0,
            adjusted,
            adjusted_ratio,
        };
        let thresholds = TagThresholds {
            adjusted_ratio: thresholds,
        };
        let params = TagFilterParams::default();
        let fired = tag_filter(Some(&a), &thresholds, &params);
        assert_eq!(
            fired.names().collect::<Vec<_>>(),
            ["notHelpfulIncorrect", "notHelpfulNoteNotNeeded"]
        );
        assert!(fired.contains(idx("notHelpfulIncorrect")));
        assert_eq!(
            fired.active_filter_tags().as_deref(),
            Some("notHelpfulIncorrect,notHelpfulNoteNotNeeded")
        );
        let none = tag_filter(None, &thresholds, &params);
        assert!(none.is_empty());
        assert_eq!(none.active_filter_tags(), None);
        // A zero threshold (no CRH notes in prescoring) lets any positive ratio through.
        let zero = TagThresholds {
            adjusted_ratio: [Some(0.0); NUM_NOT_HELPFUL_TAGS],
        };
        let fired = tag_filter(Some(&a), &zero, &params);
        assert_eq!(fired.names().count(), 4);
    }

    #[test]
    fn tags_rater_incorrect_counts() {
        let incorrect = nh("notHelpfulIncorrect");
        let note = [0, 1, 2, 3, 0, 1, 0];
        let rater = [0, 0, 0, 0, 1, 2, 3];
        let tags = [
            incorrect | nh("notHelpfulOther"),
            nh("notHelpfulOther"),
            h("helpfulClear"),
            0,
            h("helpfulInformative"),
            incorrect,
            incorrect,
        ];
        let mask = [true, true, true, true, true, false, true];
        let counts =
            rater_incorrect_counts(TaggedRatings::new(&note, &rater, &tags).masked(&mask), 5);
        assert_eq!(
            counts,
            vec![
                Some(RaterIncorrectCounts {
                    incorrect_tag_ratings: 1,
                    total_ratings: 2
                }),
                None, // helpful tags only
                None, // masked out
                Some(RaterIncorrectCounts {
                    incorrect_tag_ratings: 1,
                    total_ratings: 1
                }),
                None, // no ratings
            ]
        );
    }

    #[test]
    fn tags_incorrect_aggregates_by_hand() {
        let incorrect = nh("notHelpfulIncorrect");
        let other = nh("notHelpfulOther");
        let counts = |i, t| {
            Some(RaterIncorrectCounts {
                incorrect_tag_ratings: i,
                total_ratings: t,
            })
        };
        // Raters: 0 (f 0, rate 1/2), 1 (f 0.5 → 0.4, rate 1), 2 (f −0.5, no counts),
        // 3 (not in the table), 4 (f 0.3, no counts), 5 (f 0.25, rate 0).
        let raters = [
            Some(0.0),
            Some(0.5),
            Some(-0.5),
            None,
            Some(0.3),
            Some(0.25),
        ];
        let rater_counts = [
            counts(1, 2),
            counts(2, 2),
            None,
            counts(5, 5),
            None,
            counts(0, 3),
        ];
        // Notes: 0 (f 0.2), 1 (f 0.9 → 0.4), 2 (not in the fit), 3 (f −0.05).
        let notes = [Some(0.2), Some(0.9), None, Some(-0.05)];
        let rows = [
            (0, 0, incorrect),                // |0 − 0.2| < 0.3
            (0, 1, incorrect | other),        // |0.4 − 0.2| < 0.3
            (0, 2, other),                    // |−0.4 − 0.2| too far
            (0, 3, incorrect),                // rater not in the table
            (0, 4, h("helpfulClear")),        // no not-helpful tag
            (1, 1, incorrect),                // |0.4 − 0.4| < 0.3
            (1, 0, incorrect),                // |0 − 0.4| too far
            (1, 4, nh("notHelpfulOutdated")), // counted, rate 0 (no counts)
            (2, 0, incorrect),                // note not in the fit
            (3, 5, incorrect),                // |0.25 − (−0.05)| = 0.3 exactly: not < 0.3
        ];
        let note: Vec<u32> = rows.iter().map(|r| r.0).collect();
        let rater: Vec<u32> = rows.iter().map(|r| r.1).collect();
        let tags: Vec<u32> = rows.iter().map(|r| r.2).collect();
        let agg = incorrect_aggregates(
            TaggedRatings::new(&note, &rater, &tags),
            &notes,
            &raters,
            &rater_counts,
            &IncorrectFilterParams::default(),
        );
        let a0 = agg[0].unwrap();
        assert_eq!((a0.incorrect, a0.voters), (2, 2));
        assert!(close(a0.p_incorrect_user, 1.5));
        assert!(close(a0.tf_idf.unwrap(), 2.0 / 2.5f64.ln()));
        let a1 = agg[1].unwrap();
        assert_eq!((a1.incorrect, a1.voters), (1, 2));
        assert!(close(a1.p_incorrect_user, 1.0));
        assert!(close(a1.tf_idf.unwrap(), 1.0 / 2f64.ln()));
        assert_eq!(agg[2], None);
        assert_eq!(agg[3], None);
    }

    #[test]
    fn tags_incorrect_tf_idf_edge_values() {
        // Raters without counts contribute rate 0: x / ln(1) is +∞ for x > 0 and undefined
        // for x = 0.
        let note = [0, 0, 0, 1];
        let rater = [0, 1, 2, 0];
        let i = nh("notHelpfulIncorrect");
        let tags = [i, i, nh("notHelpfulOther"), nh("notHelpfulOther")];
        let agg = incorrect_aggregates(
            TaggedRatings::new(&note, &rater, &tags),
            &[Some(0.0), Some(0.0)],
            &[Some(0.0), Some(0.1), Some(-0.1)],
            &[None, None, None],
            &IncorrectFilterParams::default(),
        );
        let a0 = agg[0].unwrap();
        assert_eq!((a0.incorrect, a0.voters, a0.p_incorrect_user), (2, 3, 0.0));
        assert_eq!(a0.tf_idf, Some(f64::INFINITY));
        assert!(filter_incorrect(
            Some(&a0),
            &IncorrectFilterParams::default()
        ));
        let a1 = agg[1].unwrap();
        assert_eq!((a1.incorrect, a1.voters), (0, 1));
        assert_eq!(a1.tf_idf, None);
        assert!(!filter_incorrect(
            Some(&a1),
            &IncorrectFilterParams::default()
        ));
    }

    #[test]
    fn tags_filter_incorrect_thresholds_are_inclusive() {
        let p = IncorrectFilterParams::default();
        let at = NoteIncorrectAggregate {
            incorrect: 2,
            p_incorrect_user: 1.0,
            voters: 3,
            tf_idf: Some(2.5),
        };
        assert!(filter_incorrect(Some(&at), &p));
        for below in [
            NoteIncorrectAggregate { incorrect: 1, ..at },
            NoteIncorrectAggregate { voters: 2, ..at },
            NoteIncorrectAggregate {
                tf_idf: Some(2.4999),
                ..at
            },
            NoteIncorrectAggregate { tf_idf: None, ..at },
        ] {
            assert!(!filter_incorrect(Some(&below), &p), "{below:?}");
        }
        assert!(!filter_incorrect(None, &p));
        // Group model 14's threshold.
        let g14 = IncorrectFilterParams {
            min_tf_idf: 1.5,
            ..p
        };
        let low = NoteIncorrectAggregate {
            tf_idf: Some(1.5),
            ..at
        };
        assert!(filter_incorrect(Some(&low), &g14));
        assert!(!filter_incorrect(Some(&low), &p));
    }

    fn counts(helpful: &[(&str, u32)], not_helpful: &[(&str, u32)]) -> TagCounts {
        let mut c = TagCounts::default();
        for &(name, n) in helpful {
            c.helpful[HELPFUL_TAGS.iter().position(|t| *t == name).unwrap()] = n;
        }
        for &(name, n) in not_helpful {
            c.not_helpful[nh_index(name)] = n;
        }
        c
    }

    fn tags_of(status: NoteStatus, c: &TagCounts) -> (Option<&str>, Option<&str>, bool) {
        let e = explanation_tags(status, c, &ExplanationParams::default());
        (e.first_tag, e.second_tag, e.insufficient)
    }

    #[test]
    fn tags_helpful_explanations_follow_counts_then_code_tie_break() {
        let crh = NoteStatus::CurrentlyRatedHelpful;
        let c = counts(
            &[
                ("helpfulOther", 5),
                ("helpfulClear", 3),
                ("helpfulInformative", 3),
            ],
            &[("notHelpfulIncorrect", 9)],
        );
        assert_eq!(
            tags_of(crh, &c),
            (Some("helpfulOther"), Some("helpfulInformative"), false)
        );
        // All tied: Informative (8) and Clear (7) win.
        let all: Vec<(&str, u32)> = HELPFUL_TAGS.iter().map(|&t| (t, 4)).collect();
        assert_eq!(
            tags_of(crh, &counts(&all, &[])),
            (Some("helpfulInformative"), Some("helpfulClear"), false)
        );
        // The published documentation's (reversed) order would pick Other first here; the
        // code's numbers make UnbiasedLanguage (1) beat Other (0).
        let c = counts(&[("helpfulOther", 2), ("helpfulUnbiasedLanguage", 2)], &[]);
        assert_eq!(
            tags_of(crh, &c),
            (Some("helpfulUnbiasedLanguage"), Some("helpfulOther"), false)
        );
        let c = counts(
            &[("helpfulImportantContext", 2), ("helpfulAddressesClaim", 2)],
            &[],
        );
        assert_eq!(
            tags_of(crh, &c),
            (
                Some("helpfulImportantContext"),
                Some("helpfulAddressesClaim"),
                false
            )
        );
    }

    #[test]
    fn tags_not_helpful_explanations_follow_counts_then_code_tie_break() {
        let crnh = NoteStatus::CurrentlyRatedNotHelpful;
        let c = counts(
            &[("helpfulClear", 9), ("helpfulInformative", 9)],
            &[
                ("notHelpfulOutdated", 2),
                ("notHelpfulSpamHarassmentOrAbuse", 2),
                ("notHelpfulIncorrect", 4),
            ],
        );
        assert_eq!(
            tags_of(crnh, &c),
            (
                Some("notHelpfulIncorrect"),
                Some("notHelpfulOutdated"),
                false
            )
        );
        let all: Vec<(&str, u32)> = NOT_HELPFUL_TAGS.iter().map(|&t| (t, 3)).collect();
        assert_eq!(
            tags_of(crnh, &counts(&[], &all)),
            (
                Some("notHelpfulOutdated"),
                Some("notHelpfulSpamHarassmentOrAbuse"),
                false
            )
        );
        let c = counts(
            &[],
            &[("notHelpfulOther", 2), ("notHelpfulIrrelevantSources", 2)],
        );
        assert_eq!(
            tags_of(crnh, &c),
            (
                Some("notHelpfulIrrelevantSources"),
                Some("notHelpfulOther"),
                false
            )
        );
        // Incorrect (8) beats ArgumentativeOrBiased (7) and OffTopic (9) beats Incorrect.
        let c = counts(
            &[],
            &[
                ("notHelpfulArgumentativeOrBiased", 5),
                ("notHelpfulIncorrect", 5),
            ],
        );
        assert_eq!(tags_of(crnh, &c).0, Some("notHelpfulIncorrect"));
        let c = counts(
            &[],
            &[("notHelpfulOffTopic", 5), ("notHelpfulIncorrect", 5)],
        );
        assert_eq!(tags_of(crnh, &c).0, Some("notHelpfulOffTopic"));
    }

    #[test]
    fn tags_fewer_than_two_eligible_tags_give_no_tags() {
        let crh = NoteStatus::CurrentlyRatedHelpful;
        let crnh = NoteStatus::CurrentlyRatedNotHelpful;
        // One tag with many ratings, the rest below 2.
        let c = counts(
            &[("helpfulClear", 10), ("helpfulInformative", 1)],
            &[("notHelpfulIncorrect", 10), ("notHelpfulOther", 1)],
        );
        assert_eq!(tags_of(crh, &c), (None, None, true));
        assert_eq!(tags_of(crnh, &c), (None, None, true));
        // Exactly 2 ratings make a tag eligible.
        let c = counts(&[("helpfulClear", 2), ("helpfulInformative", 2)], &[]);
        assert_eq!(
            tags_of(crh, &c),
            (Some("helpfulInformative"), Some("helpfulClear"), false)
        );
        // Helpful tags do not explain a CRNH note.
        assert_eq!(tags_of(crnh, &c), (None, None, true));
        // Other statuses get no tags and are not affected.
        for status in [
            NoteStatus::NeedsMoreRatings,
            NoteStatus::FirmReject,
            NoteStatus::NeedsYourHelp,
        ] {
            assert_eq!(tags_of(status, &c), (None, None, false));
        }
    }

    #[test]
    fn tags_counted_per_note_from_bits() {
        let note = [0, 0, 1, 0];
        let rater = [0, 1, 0, 2];
        let tags = [
            h("helpfulClear") | nh("notHelpfulNoteNotNeeded"),
            h("helpfulClear") | h("helpfulOther"),
            nh("notHelpfulOther"),
            h("helpfulClear"),
        ];
        let mask = [true, true, true, false];
        let c = note_tag_counts(TaggedRatings::new(&note, &rater, &tags).masked(&mask), 3);
        assert_eq!(
            c[0],
            counts(
                &[("helpfulClear", 2), ("helpfulOther", 1)],
                &[("notHelpfulNoteNotNeeded", 1)]
            )
        );
        assert_eq!(c[1], counts(&[], &[("notHelpfulOther", 1)]));
        assert_eq!(c[2], TagCounts::default());
    }
}
