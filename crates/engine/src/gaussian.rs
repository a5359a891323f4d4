//! The Gaussian aggregation scorer's note scores (the reference's `GaussianScorer`,
//! `_calculate_gaussian_scores`).
//!
//! Instead of fitting a model, the scorer smooths each note's ratings along the rater
//! viewpoint axis: at each of a fixed set of points `x` on that axis, the note's ratings are
//! averaged with Gaussian kernel weights `N(|f_u − x|; bandwidth)` around `x`, blended with a
//! prior, clipped, and the note's score is the geometric mean of those values over the
//! points. A note that is helpful only to one side scores low at the other side's points and
//! so overall. Two passes run:
//!
//! * **CRH** ([`GaussianParams::crh`]) scores helpfulness on the 50 points
//!   [`QUANTILE_RANGE`]. Kernel rows are normalised per rating, and the note's author counts
//!   as one extra helpful rating when the author has a rater factor and did not rate the
//!   note.
//! * **CRNH** ([`GaussianParams::crnh`]) scores unhelpfulness on the 26 points
//!   [`SMOOTHED_RANGE`] with every rating flipped (`h → 1 − h`).
//!
//! The note intercept is the CRH score, or minus the CRNH score when that is larger.
//!
//! Per pass and note (`n` ratings, `h` the rating after the somewhat-helpful value and the
//! flip, `f_u` the rater factor):
//! 1. kernel weights `w_ux`, divided by the rating's row sum when the pass normalises; when
//!    any point's total weight is below `weight_lim`, the pass scores the note 0;
//! 2. ratings with `h = 0` are reweighted by `neg_weight · min(1 + k·s, cap)`, where `s` is
//!    the sum over those ratings of a steep logistic (slope 200) of how far `f_u` lies beyond
//!    0.14 from their mean factor, divided by `n` (all ratings, not only those);
//! 3. the prior at `x` is `clamp(f̂·x/2 + 0.35, min_prior, 0.35)` with `f̂` the mean of
//!    `(2h − 1)·f_u` (somewhat-helpful counts 0), or 0.1 everywhere when fewer than 3 raters
//!    have a negative or fewer than 3 a positive factor; its weight is
//!    `w₀·ln(max(n, 9))/ln 9`;
//! 4. the value at `x` is `clip((Σ w·h + prior·pw) / (Σ w + pw))`.
//!
//! `f̂` of the CRH pass is also the scorer's own note factor, used only when its matrix
//! factorization refit has none for the note.
//!
//! Arithmetic follows the reference's dtypes: kernel weights, values and scores in float32
//! (numpy), per-note sums accumulated in float64 (`np.bincount`) and stored as float32, the
//! prior factor in float64, and the mean factor of the negative ratings and the logistic
//! sums in float32 with pandas' compensated summation. Rater factors are used as float32,
//! as the reference stores them. Each note is computed on its own from its ratings in input
//! order, so results do not depend on the thread count.

use rayon::prelude::*;

use crate::community::ScoringRatings;
use crate::mf::counting_sort;
use crate::numeric::pairwise_sum;

/// The 50 viewpoint points of the CRH pass (`c.quantileRange`).
pub const QUANTILE_RANGE: [f64; 50] = [
    -0.92, -0.65, -0.61, -0.58, -0.55, -0.52, -0.49, -0.46, -0.43, -0.41, -0.38, -0.35, -0.33,
    -0.3, -0.28, -0.25, -0.22, -0.2, -0.17, -0.14, -0.12, -0.09, -0.07, -0.04, -0.01, 0.01, 0.04,
    0.07, 0.09, 0.12, 0.14, 0.17, 0.2, 0.22, 0.25, 0.28, 0.3, 0.33, 0.35, 0.38, 0.41, 0.43, 0.46,
    0.49, 0.52, 0.55, 0.58, 0.61, 0.65, 0.92,
];

/// The 26 viewpoint points of the CRNH pass (`c.smoothedRange`): every other point of the
/// first half of [`QUANTILE_RANGE`] from its first, and of the second half from its first.
pub const SMOOTHED_RANGE: [f64; 26] = [
    -0.92, -0.61, -0.55, -0.49, -0.43, -0.38, -0.33, -0.28, -0.22, -0.17, -0.12, -0.07, -0.01,
    0.01, 0.07, 0.12, 0.17, 0.22, 0.28, 0.33, 0.38, 0.43, 0.49, 0.55, 0.61, 0.92,
];

/// Half-width around the negative raters' mean factor beyond which a negative rating counts
/// as an outlier (half the reference's `stdWindow` of 0.28).
const OUTLIER_HALF_WINDOW: f32 = 0.14;
/// Slope of the logistic that counts outliers.
const OUTLIER_SLOPE: f32 = 200.0;
/// The prior used when a note lacks raters on either side.
const ONE_SIDED_PRIOR: f32 = 0.1;
/// Raters needed on each side of 0 for the factor-based prior.
const MIN_RATERS_PER_SIDE: u32 = 3;

/// One pass's settings (the reference's `GaussianParams`).
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianParams {
    /// The viewpoint points at which the note is evaluated.
    pub points: Vec<f64>,
    /// Standard deviation of the kernel.
    pub bandwidth: f64,
    /// Weight of the prior (`smoothingWeight`), before the rating-count scaling.
    pub smoothing_weight: f64,
    /// The prior's ceiling and centre (`smoothingValue`).
    pub smoothing_value: f64,
    /// The prior weight is scaled by `ln(max(n, base)) / ln(base)` when set.
    pub adaptive_weight_base: Option<u32>,
    /// Whether the prior leans with the note's factor (`priorFactor`); else it is
    /// `smoothing_value` everywhere.
    pub prior_factor: bool,
    /// Extra weight of negative ratings (after the flip).
    pub neg_weight: f64,
    /// The prior's floor.
    pub min_prior: Option<f64>,
    /// Below this total kernel weight at any point, the note is not scored (score 0).
    pub weight_lim: f64,
    /// The value of a somewhat-helpful rating (before the flip).
    pub somewhat_helpful_value: f64,
    /// Bounds of the value at each point.
    pub clip_lower: f64,
    pub clip_upper: f64,
    /// Rate unhelpfulness: ratings become `1 − h`.
    pub flip: bool,
    /// Divide each rating's kernel row by its sum over the points.
    pub normalize: bool,
    /// `k` in the negative-rating weight `min(1 + k·share, cap)` (the reference ties it to
    /// `flip`: 3, or 4 when flipped).
    pub outlier_multiplier: f64,
    /// `cap` in the negative-rating weight (2, or 4 when flipped).
    pub outlier_cap: f64,
    /// Count the note's author as one more helpful rating, when the author has a rater
    /// factor and did not rate the note (the CRH pass).
    pub author_rates_helpful: bool,
}

impl GaussianParams {
    /// The helpfulness pass (`c.gaussianCrhParams` on `c.quantileRange`).
    pub fn crh() -> Self {
        GaussianParams {
            points: QUANTILE_RANGE.to_vec(),
            bandwidth: 0.1,
            smoothing_weight: 0.4,
            smoothing_value: 0.35,
            adaptive_weight_base: Some(9),
            prior_factor: true,
            neg_weight: 1.75,
            min_prior: Some(0.2),
            weight_lim: 1e-9,
            somewhat_helpful_value: 0.7,
            clip_lower: 0.05,
            clip_upper: 0.8,
            flip: false,
            normalize: true,
            outlier_multiplier: 3.0,
            outlier_cap: 2.0,
            author_rates_helpful: true,
        }
    }

    /// The unhelpfulness pass (`c.gaussianCrnhParams` on `c.smoothedRange`).
    pub fn crnh() -> Self {
        GaussianParams {
            points: SMOOTHED_RANGE.to_vec(),
            bandwidth: 0.2,
            smoothing_weight: 5.0,
            smoothing_value: 0.35,
            adaptive_weight_base: Some(9),
            prior_factor: true,
            neg_weight: 1.25,
            min_prior: Some(0.3),
            weight_lim: 5e-4,
            somewhat_helpful_value: 0.7,
            clip_lower: 0.25,
            clip_upper: 0.65,
            flip: true,
            normalize: false,
            outlier_multiplier: 4.0,
            outlier_cap: 4.0,
            author_rates_helpful: false,
        }
    }
}

/// The ratings the Gaussian scorer reads, as parallel arrays (one entry per rating).
#[derive(Clone, Copy, Debug)]
pub struct GaussianRatings<'a> {
    /// Note index.
    pub note: &'a [u32],
    /// Participant index of the rater.
    pub rater: &'a [u32],
    /// 0, 0.5 or 1.
    pub helpful_num: &'a [f32],
}

impl<'a> From<&'a ScoringRatings> for GaussianRatings<'a> {
    fn from(r: &'a ScoringRatings) -> Self {
        GaussianRatings {
            note: &r.note,
            rater: &r.rater,
            helpful_num: &r.helpful_num,
        }
    }
}

/// One note's Gaussian scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianNote {
    /// The note intercept: `helpful_score`, or `−not_helpful_score` when that is larger
    /// (a float32 value).
    pub intercept: f64,
    /// The scorer's own note factor: the mean of `(2h − 1)·f_u` over the CRH pass's ratings
    /// (author's included), rounded to float32 as the reference stores it. The reference
    /// uses it only for notes its matrix-factorization refit leaves without a factor.
    pub factor: f64,
    /// The CRH pass's score in `[0, 0.8]` (0: too little kernel weight somewhere).
    pub helpful_score: f64,
    /// The CRNH pass's score in `[0, 0.65]`.
    pub not_helpful_score: f64,
}

/// Scores every note with both passes' default settings; see [`gaussian_scores_with`].
pub fn gaussian_scores(
    ratings: GaussianRatings<'_>,
    notes: usize,
    rater_factor: &[Option<f64>],
    note_author: &[u32],
) -> Vec<Option<GaussianNote>> {
    gaussian_scores_with(
        &GaussianParams::crh(),
        &GaussianParams::crnh(),
        ratings,
        notes,
        rater_factor,
        note_author,
    )
}

/// Scores every note with the helpfulness pass `crh` and the unhelpfulness pass `crnh`
/// (whose score counts negatively); the note factor comes from `crh`.
///
/// * `ratings`: the scorer's final-round ratings, already filtered (the scorer's raters and
///   notes, notes with at least 5 ratings, raters with prescoring parameters who passed the
///   helpfulness filter). Ratings by a rater without a factor are ignored (the reference
///   has none). The order matters only to the last bit (sums run in input order). The
///   reference scores its subsets (without high-volume raters, without correlated raters,
///   population-sampled ratings) with this same computation.
/// * `notes`: the number of notes; every note index must be below it.
/// * `rater_factor`: per participant, the prescoring rater factor of the scorer's
///   prescoring model (MFCoreScorer), `None` where missing. Besides the raters', this is
///   where the note authors' factors come from, so it must not be narrowed to the
///   final-round raters: any participant with a factor counts.
/// * `note_author`: per note, the author's participant index (from the status history).
///
/// Returns, per note, its scores, or `None` for notes without ratings.
///
/// # Panics
/// If the rating arrays differ in length or a note index is not below `notes`.
pub fn gaussian_scores_with(
    crh: &GaussianParams,
    crnh: &GaussianParams,
    ratings: GaussianRatings<'_>,
    notes: usize,
    rater_factor: &[Option<f64>],
    note_author: &[u32],
) -> Vec<Option<GaussianNote>> {
    assert!(
        ratings.note.len() == ratings.rater.len()
            && ratings.rater.len() == ratings.helpful_num.len(),
        "ragged rating arrays"
    );
    let factor_of = |u: u32| -> Option<f32> {
        rater_factor
            .get(u as usize)
            .copied()
            .flatten()
            .map(|f| f as f32)
    };

    // The ratings with a factor, grouped by note in input order.
    let kept: Vec<u32> = (0..ratings.note.len() as u32)
        .filter(|&k| factor_of(ratings.rater[k as usize]).is_some())
        .collect();
    let kept_notes: Vec<u32> = kept.iter().map(|&k| ratings.note[k as usize]).collect();
    assert!(
        kept_notes.iter().all(|&n| (n as usize) < notes),
        "note index out of range"
    );
    let (start, order) = counting_sort(&kept_notes, notes);

    // Kernel rows, once per distinct rater or author.
    let mut slot = vec![u32::MAX; rater_factor.len()];
    let mut factors: Vec<f32> = Vec::new();
    let mut slot_of = |u: u32, f: f32| -> u32 {
        let s = &mut slot[u as usize];
        if *s == u32::MAX {
            *s = factors.len() as u32;
            factors.push(f);
        }
        *s
    };
    let rating_slot: Vec<u32> = kept
        .iter()
        .map(|&k| {
            let u = ratings.rater[k as usize];
            slot_of(u, factor_of(u).expect("kept ratings have a factor"))
        })
        .collect();
    // The author's helpful rating where the author has a factor and did not rate the note.
    let author_slot: Vec<Option<u32>> = (0..notes)
        .map(|n| {
            let of_note = &order[start[n]..start[n + 1]];
            if of_note.is_empty() {
                return None;
            }
            let author = *note_author.get(n)?;
            let f = factor_of(author)?;
            let rated = of_note
                .iter()
                .any(|&i| ratings.rater[kept[i as usize] as usize] == author);
            (!rated).then(|| slot_of(author, f))
        })
        .collect();
    let crh_kernel = Kernel::new(crh, &factors);
    let crnh_kernel = Kernel::new(crnh, &factors);

    (0..notes)
        .into_par_iter()
        .map(|n| {
            let of_note = &order[start[n]..start[n + 1]];
            if of_note.is_empty() {
                return None;
            }
            let mut entries: Vec<Entry> = of_note
                .iter()
                .map(|&i| {
                    let s = rating_slot[i as usize];
                    Entry {
                        slot: s,
                        factor: factors[s as usize],
                        helpful: ratings.helpful_num[kept[i as usize] as usize],
                    }
                })
                .collect();
            let author = author_slot[n].map(|s| Entry {
                slot: s,
                factor: factors[s as usize],
                helpful: 1.0,
            });
            let mut pass = |params: &GaussianParams, kernel: &Kernel| match author {
                Some(a) if params.author_rates_helpful => {
                    entries.push(a);
                    let score = score_pass(params, kernel, &entries);
                    entries.pop();
                    score
                }
                _ => score_pass(params, kernel, &entries),
            };
            let crh_pass = pass(crh, &crh_kernel);
            let crnh_score = pass(crnh, &crnh_kernel).score;
            let helpful = crh_pass.score;
            let not_helpful = -crnh_score;
            let intercept = if helpful.abs() < not_helpful.abs() {
                not_helpful
            } else {
                helpful
            };
            Some(GaussianNote {
                intercept: intercept as f64,
                factor: crh_pass.note_factor as f32 as f64,
                helpful_score: helpful as f64,
                not_helpful_score: crnh_score as f64,
            })
        })
        .collect()
}

/// One rating of a note in a pass.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Row in the pass's [`Kernel`].
    slot: u32,
    factor: f32,
    /// The rating as given (0, 0.5 or 1).
    helpful: f32,
}

/// Per distinct rater, the pass's kernel weights at each point (normalised if the pass
/// normalises), row-major.
struct Kernel {
    points: usize,
    weights: Vec<f32>,
}

impl Kernel {
    fn new(params: &GaussianParams, factors: &[f32]) -> Self {
        let points: Vec<f32> = params.points.iter().map(|&x| x as f32).collect();
        let bandwidth = params.bandwidth as f32;
        let norm = (1.0 / (params.bandwidth * (2.0 * std::f64::consts::PI).sqrt())) as f32;
        let p = points.len();
        let mut weights = vec![0f32; factors.len() * p];
        if p > 0 {
            weights
                .par_chunks_mut(p)
                .zip(factors.par_iter())
                .for_each(|(row, &f)| {
                    for (w, &x) in row.iter_mut().zip(&points) {
                        let z = (f - x).abs() / bandwidth;
                        *w = norm * (-0.5f32 * (z * z)).exp();
                    }
                    if params.normalize {
                        let sum = pairwise_sum(row);
                        row.iter_mut().for_each(|w| *w /= sum);
                    }
                });
        }
        Kernel { points: p, weights }
    }

    fn row(&self, slot: u32) -> &[f32] {
        let s = slot as usize * self.points;
        &self.weights[s..s + self.points]
    }
}

/// One pass's result for one note.
struct PassScore {
    score: f32,
    /// `f̂`: the mean of `(2h − 1)·f_u` (after the flip).
    note_factor: f64,
}

/// pandas' compensated (Kahan) float32 sum, as its groupby `sum` and `mean` compute it.
#[derive(Clone, Copy, Default)]
struct KahanF32 {
    sum: f32,
    compensation: f32,
}

impl KahanF32 {
    fn add(&mut self, x: f32) {
        let y = x - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        if self.compensation.is_nan() {
            self.compensation = 0.0;
        }
        self.sum = t;
    }
}

/// Scores one note in one pass. `entries` is not empty.
fn score_pass(params: &GaussianParams, kernel: &Kernel, entries: &[Entry]) -> PassScore {
    let p = kernel.points;
    let n = entries.len();
    let flip = |h: f32| if params.flip { 1.0 - h } else { h };
    // The value each rating contributes, and which ratings are negative after the flip.
    let value = |h: f32| {
        flip(if h == 0.5 {
            params.somewhat_helpful_value as f32
        } else {
            h
        })
    };
    // The not-helpful ratings as the reference selects them (on the rating as given).
    let not_helpful = if params.flip { 1.0 } else { 0.0 };

    // Weight multiplier of the negative ratings: outliers from their mean factor count more.
    let mut mean = KahanF32::default();
    let mut negatives = 0u32;
    for e in entries.iter().filter(|e| e.helpful == not_helpful) {
        mean.add(e.factor);
        negatives += 1;
    }
    let negative_weight = if negatives == 0 {
        1.0
    } else {
        let mean = mean.sum / negatives as f32;
        let mut outliers = KahanF32::default();
        for e in entries.iter().filter(|e| e.helpful == not_helpful) {
            let distance = (e.factor - mean).abs();
            let logistic =
                1.0f32 / (1.0f32 + (-OUTLIER_SLOPE * (distance - OUTLIER_HALF_WINDOW)).exp());
            outliers.add(logistic);
        }
        let share = outliers.sum as f64 / n as f64;
        (share * params.outlier_multiplier + 1.0).min(params.outlier_cap)
    };
    let neg_weight = params.neg_weight as f32;

    // Per point: base kernel weight, weight after the negative adjustment, weighted value.
    let mut base = vec![0f64; p];
    let mut total = vec![0f64; p];
    let mut values = vec![0f64; p];
    let mut factor_sum = 0f64;
    let (mut below, mut above) = (0u32, 0u32);
    for e in entries {
        let h = value(e.helpful);
        let negative = h == 0.0;
        let row = kernel.row(e.slot);
        for (((&w, base), total), values) in
            row.iter().zip(&mut base).zip(&mut total).zip(&mut values)
        {
            *base += w as f64;
            let w = if negative {
                ((w as f64) * negative_weight) as f32 * neg_weight
            } else {
                w
            };
            *total += w as f64;
            *values += (w * h) as f64;
        }
        factor_sum += ((flip(e.helpful) - 0.5) * 2.0 * e.factor) as f64;
        below += u32::from(e.factor < 0.0);
        above += u32::from(e.factor > 0.0);
    }
    let count = n as f32;
    let note_factor = factor_sum / count as f64;

    let weight_lim = params.weight_lim as f32;
    if base.iter().any(|&b| (b as f32) < weight_lim) {
        return PassScore {
            score: 0.0,
            note_factor,
        };
    }

    let smoothing_value = params.smoothing_value as f32;
    let prior = |x: f64| -> f32 {
        if below < MIN_RATERS_PER_SIDE || above < MIN_RATERS_PER_SIDE {
            ONE_SIDED_PRIOR
        } else if params.prior_factor {
            let leaning =
                (note_factor * x / 2.0 + params.smoothing_value).min(params.smoothing_value) as f32;
            match params.min_prior {
                Some(floor) => leaning.max(floor as f32),
                None => leaning,
            }
        } else {
            smoothing_value
        }
    };
    let prior_weight = match params.adaptive_weight_base {
        Some(b) => {
            count.max(b as f32).ln() / (b as f64).ln() as f32 * params.smoothing_weight as f32
        }
        None => params.smoothing_weight as f32,
    };
    let (lower, upper) = (params.clip_lower as f32, params.clip_upper as f32);
    // numpy's clip keeps NaN.
    let clip = |v: f32| {
        if v.is_nan() {
            v
        } else {
            v.max(lower).min(upper)
        }
    };
    let logs: Vec<f32> = params
        .points
        .iter()
        .zip(total.iter().zip(&values))
        .map(|(&x, (&total, &values))| {
            let weight = total as f32 + prior_weight;
            let sum = values as f32 + prior(x as f32 as f64) * prior_weight;
            let mean = if weight != 0.0 { sum / weight } else { lower };
            clip(mean).ln()
        })
        .collect();
    // The mean of no points, or of a NaN, scores 0 (the reference maps a NaN mean log to −∞).
    let mean_log = pairwise_sum(&logs) / p as f32;
    let score = if mean_log.is_nan() {
        0.0
    } else {
        mean_log.exp()
    };
    PassScore { score, note_factor }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Factors of participants 0..=13; participant 14 has none.
    const FACTORS: [f64; 14] = [
        -0.8, -0.6, -0.5, -0.4, -0.3, -0.1, 0.1, 0.3, 0.45, 0.5, 0.7, 0.85, 0.2, -0.05,
    ];

    fn rater_factor() -> Vec<Option<f64>> {
        FACTORS.iter().map(|&f| Some(f)).chain([None]).collect()
    }

    /// Five notes (index 0 unused): 1 and 2 rated alike by raters 0..12, 2 also by its
    /// author 12; 3 helpful to one side only; 4 mostly not helpful; 5 split by side.
    /// Authors: 13 (has a factor) for 1 and 5, 12 for 2, 14 (no factor) for 3 and 4.
    struct Case {
        note: Vec<u32>,
        rater: Vec<u32>,
        helpful_num: Vec<f32>,
        author: Vec<u32>,
    }

    fn case() -> Case {
        let mixed = [1.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        let mostly_not = [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0];
        let split = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let mut c = Case {
            note: vec![],
            rater: vec![],
            helpful_num: vec![],
            author: vec![0, 13, 12, 14, 14, 13],
        };
        let mut add = |n: u32, u: u32, h: f32| {
            c.note.push(n);
            c.rater.push(u);
            c.helpful_num.push(h);
        };
        for (u, &h) in mixed.iter().enumerate() {
            add(1, u as u32, h);
        }
        for (u, &h) in mixed.iter().enumerate() {
            add(2, u as u32, h);
        }
        add(2, 12, 1.0);
        for u in 6..=10 {
            add(3, u, 1.0);
        }
        for (u, &h) in mostly_not.iter().enumerate() {
            add(4, u as u32, h);
        }
        for (u, &h) in split.iter().enumerate() {
            add(5, u as u32, h);
        }
        c
    }

    fn run(c: &Case, factors: &[Option<f64>]) -> Vec<Option<GaussianNote>> {
        let ratings = GaussianRatings {
            note: &c.note,
            rater: &c.rater,
            helpful_num: &c.helpful_num,
        };
        gaussian_scores(ratings, c.author.len(), factors, &c.author)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 2e-7 * b.abs().max(1e-3)
    }

    #[test]
    fn matches_the_reference_on_a_small_case() {
        // The reference's `_calculate_gaussian_scores` on the same ratings, factors and
        // authors (note: intercept, factor as float32, CRH score, CRNH score).
        let expected: [(f64, f64, f64, f64); 5] = [
            (
                0.35897180438041687,
                -0.10384616255760193,
                0.35897180438041687,
                0.26240596175193787,
            ),
            (
                0.36016255617141724,
                -0.08461538702249527,
                0.36016255617141724,
                0.25248652696609497,
            ),
            (0.0, 0.4099999964237213, 0.0, 0.0),
            (
                -0.5702582597732544,
                0.05000000447034836,
                0.18254759907722473,
                0.5702582597732544,
            ),
            (
                -0.37366411089897156,
                0.42692309617996216,
                0.25950732827186584,
                0.37366411089897156,
            ),
        ];
        let ours = run(&case(), &rater_factor());
        assert_eq!(ours.len(), 6);
        assert!(ours[0].is_none(), "a note without ratings has no scores");
        for (n, &(intercept, factor, crh, crnh)) in expected.iter().enumerate() {
            let g = ours[n + 1].expect("scored");
            assert!(close(g.intercept, intercept), "note {}: {g:?}", n + 1);
            assert!(close(g.factor, factor), "note {}: {g:?}", n + 1);
            assert!(close(g.helpful_score, crh), "note {}: {g:?}", n + 1);
            assert!(close(g.not_helpful_score, crnh), "note {}: {g:?}", n + 1);
        }
    }

    #[test]
    fn the_author_counts_as_a_helpful_rating_only_with_a_factor_and_without_a_rating() {
        let c = case();
        let with = run(&c, &rater_factor());
        let mut no_author_factor = rater_factor();
        no_author_factor[13] = None;
        let without = run(&c, &no_author_factor);
        // Note 1: author 13 did not rate it; removing the author's factor changes the CRH
        // pass (and the factor) but not the CRNH pass.
        let (a, b) = (with[1].unwrap(), without[1].unwrap());
        assert_ne!(a.helpful_score, b.helpful_score);
        assert_ne!(a.factor, b.factor);
        assert_eq!(a.not_helpful_score, b.not_helpful_score);
        // f̂ without the author: mean of (2h − 1)·f over the twelve ratings.
        let mixed = [1.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        let expected: f64 = mixed
            .iter()
            .zip(FACTORS)
            .map(|(h, f)| (2.0 * h - 1.0) * f)
            .sum::<f64>()
            / 12.0;
        assert!(
            (b.factor - expected).abs() < 1e-7,
            "{} vs {expected}",
            b.factor
        );
        // With the author: one more rating, (2·1 − 1)·(−0.05).
        let expected = (expected * 12.0 - 0.05) / 13.0;
        assert!(
            (a.factor - expected).abs() < 1e-7,
            "{} vs {expected}",
            a.factor
        );
        // Note 2: the author rated it, so nothing is added.
        let mut c2 = case();
        c2.author[2] = 14;
        assert_eq!(run(&c2, &rater_factor())[2], with[2]);
    }

    #[test]
    fn ratings_by_raters_without_a_factor_are_ignored() {
        let mut c = case();
        let before = run(&c, &rater_factor());
        c.note.push(1);
        c.rater.push(14);
        c.helpful_num.push(0.0);
        c.note.push(1);
        c.rater.push(99);
        c.helpful_num.push(0.0);
        assert_eq!(run(&c, &rater_factor()), before);
    }

    #[test]
    fn empty_input_scores_nothing() {
        let none = GaussianRatings {
            note: &[],
            rater: &[],
            helpful_num: &[],
        };
        assert!(gaussian_scores(none, 0, &[], &[]).is_empty());
        assert_eq!(gaussian_scores(none, 3, &[], &[]), vec![None; 3]);
    }

    /// One point at 0 with normalised rows: every rating weighs exactly 1 before the
    /// negative adjustment, so the value is a plain weighted mean, checkable by hand.
    fn one_point() -> GaussianParams {
        GaussianParams {
            points: vec![0.0],
            prior_factor: false,
            adaptive_weight_base: None,
            author_rates_helpful: false,
            ..GaussianParams::crh()
        }
    }

    fn score_one(params: &GaussianParams, factors: &[f64], helpful: &[f32]) -> PassScore {
        let factors: Vec<f32> = factors.iter().map(|&f| f as f32).collect();
        let kernel = Kernel::new(params, &factors);
        let entries: Vec<Entry> = factors
            .iter()
            .zip(helpful)
            .enumerate()
            .map(|(slot, (&factor, &helpful))| Entry {
                slot: slot as u32,
                factor,
                helpful,
            })
            .collect();
        score_pass(params, &kernel, &entries)
    }

    #[test]
    fn value_is_the_weighted_mean_with_the_prior() {
        let params = one_point();
        let factors = [-0.5, -0.4, -0.3, 0.3, 0.4, 0.5];
        // Two negative ratings close together (0.05 from their mean, far inside 0.14): the
        // outlier term is ~1e-8, so each weighs 1.75. Prior 0.35 with weight 0.4.
        let s = score_one(&params, &factors, &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        let expected = (4.0 + 0.35 * 0.4) / (4.0 + 2.0 * 1.75 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // Somewhat helpful counts 0.7.
        let s = score_one(&params, &factors, &[1.0, 0.5, 1.0, 1.0, 0.0, 0.0]);
        let expected = (3.7 + 0.35 * 0.4) / (4.0 + 2.0 * 1.75 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // Negative ratings far from their mean (0.8 apart) weigh min(1 + 3·(2/6), 2) · 1.75.
        let s = score_one(&params, &factors, &[0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
        let expected = (4.0 + 0.35 * 0.4) / (4.0 + 2.0 * 2.0 * 1.75 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // The same with a single negative share of 1/6: 1 + 3/6 = 1.5.
        let s = score_one(
            &params,
            &[-0.5, -0.4, -0.3, 0.3, 0.4, 0.5, -0.45],
            &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        );
        // One negative is its own mean: logistic(−0.14·200) ≈ 7e-13, so weight 1.75.
        let expected = (6.0 + 0.35 * 0.4) / (6.0 + 1.75 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
    }

    #[test]
    fn flipping_scores_unhelpfulness() {
        let params = GaussianParams {
            flip: true,
            ..one_point()
        };
        let factors = [-0.5, -0.4, -0.3, 0.3, 0.4, 0.5];
        // Flipped: the three helpful ratings (−0.5, −0.4, 0.3) are the negatives (value 0);
        // their mean is −0.2 and all lie beyond 0.14 from it, so the share is ~3/6 and the
        // weight min(1 + 3·3/6, 2) · 1.75 (this pass keeps the CRH k = 3 and cap 2). The two
        // not-helpful ratings count 1, the somewhat-helpful one 1 − 0.7.
        let s = score_one(&params, &factors, &[1.0, 1.0, 0.5, 1.0, 0.0, 0.0]);
        let somewhat = (1.0 - 0.7f32) as f64;
        let expected = (2.0 + somewhat + 0.35 * 0.4) / (3.0 + 3.0 * 2.0 * 1.75 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // The note factor flips too: mean of (2(1 − h) − 1)·f.
        let expected = (0.5 + 0.4 - 0.3 + 0.4 + 0.5) / 6.0;
        assert!((s.note_factor - expected).abs() < 1e-7, "{}", s.note_factor);
    }

    #[test]
    fn prior_leans_with_the_note_factor_and_falls_back_when_one_sided() {
        let params = GaussianParams {
            points: vec![-0.92],
            prior_factor: true,
            ..one_point()
        };
        let factors = [-0.5, -0.4, -0.3, 0.3, 0.4, 0.5];
        // All somewhat helpful (value 0.7): f̂ = 0, prior = clamp(0.35, 0.2, 0.35).
        let s = score_one(&params, &factors, &[0.5; 6]);
        assert_eq!(s.note_factor, 0.0);
        let expected = (6.0 * 0.7 + 0.35 * 0.4) / (6.0 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // Left side not helpful: f̂ = (1.2 + 1.2) / 6 = 0.4; at x = −0.92 the prior is
        // 0.4 · −0.92 / 2 + 0.35 = 0.166, raised to the floor 0.2.
        let left_negative = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let s = score_one(&params, &factors, &left_negative);
        assert!((s.note_factor - 0.4).abs() < 1e-7, "{}", s.note_factor);
        // The three negatives: mean −0.4, distances 0.1, 0, 0.1: logistic(−8)·2 + ~0 ≈
        // 6.7e-4, share /6, weight (1 + 3·share)·1.75.
        let logistic = |d: f64| 1.0 / (1.0 + (-200.0 * (d - 0.14)).exp());
        let share = (2.0 * logistic(0.1) + logistic(0.0)) / 6.0;
        let w = (1.0 + 3.0 * share) * 1.75;
        let expected = (3.0 + 0.2 * 0.4) / (3.0 + 3.0 * w + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // Fewer than 3 raters with a negative factor: prior 0.1.
        let s = score_one(&params, &[-0.5, -0.4, 0.3, 0.4, 0.5], &[0.5; 5]);
        let expected = (5.0 * 0.7 + 0.1 * 0.4) / (5.0 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
    }

    #[test]
    fn prior_weight_grows_with_the_log_of_the_rating_count() {
        let params = GaussianParams {
            adaptive_weight_base: Some(9),
            ..one_point()
        };
        // 27 somewhat-helpful ratings (value 0.7): prior weight 0.4 · ln 27 / ln 9 = 0.6.
        let factors: Vec<f64> = (0..27).map(|i| -0.65 + 0.05 * i as f64).collect();
        let s = score_one(&params, &factors, &[0.5; 27]);
        let expected = (27.0 * 0.7 + 0.35 * 0.6) / (27.0 + 0.6);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
        // 3 ratings: the count is raised to 9, weight 0.4 (and one-sided, prior 0.1).
        let s = score_one(&params, &[-0.5, 0.1, 0.5], &[0.5; 3]);
        let expected = (3.0 * 0.7 + 0.1 * 0.4) / (3.0 + 0.4);
        assert!((s.score as f64 - expected).abs() < 1e-6, "{}", s.score);
    }

    #[test]
    fn too_little_kernel_weight_at_any_point_scores_zero() {
        // CRH: no rater within reach of −0.92.
        let s = score_one(&GaussianParams::crh(), &[0.3, 0.5, 0.7, 0.9], &[1.0; 4]);
        assert_eq!(s.score, 0.0);
        let s = score_one(&GaussianParams::crh(), &[-0.7, -0.3, 0.3, 0.7], &[1.0; 4]);
        assert!(s.score > 0.0);
    }

    #[test]
    fn values_are_clipped_and_the_score_is_their_geometric_mean() {
        let params = GaussianParams {
            points: vec![-0.5, 0.5],
            normalize: false,
            bandwidth: 0.2,
            weight_lim: 0.0,
            ..one_point()
        };
        // Left raters all helpful, right raters all not: near 0.8 on the left (clipped),
        // low on the right.
        let factors = [-0.5, -0.5, -0.5, 0.5, 0.5, 0.5];
        let s = score_one(&params, &factors, &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        let kernel = Kernel::new(&params, &[-0.5, 0.5]);
        let (near, far) = (kernel.row(0)[0] as f64, kernel.row(0)[1] as f64);
        // At −0.5: 3 helpful at `near`, 3 negatives at `far` (weight 1.75, no outliers).
        let left = (3.0 * near + 0.14) / (3.0 * near + 3.0 * 1.75 * far + 0.4);
        let right = (3.0 * far + 0.14) / (3.0 * far + 3.0 * 1.75 * near + 0.4);
        let (left, right) = (left.clamp(0.05, 0.8), right.clamp(0.05, 0.8));
        assert_eq!(left, 0.8);
        let expected = (left * right).sqrt();
        assert!(
            (s.score as f64 - expected).abs() < 1e-6,
            "{} vs {expected}",
            s.score
        );
    }

    #[test]
    fn sums_round_like_numpy_and_pandas() {
        // numpy's pairwise float32 sum differs from a sequential one here.
        let a: Vec<f32> = (0..50)
            .map(|i| if i % 7 == 0 { 1e7 } else { i as f32 * 0.37 })
            .collect();
        assert_eq!(pairwise_sum(&a), 80000384.0);
        // pandas' compensated groupby sum keeps the small terms.
        let mut k = KahanF32::default();
        [16777216.0, 1.0, 1.0, 1.0, 1.0]
            .into_iter()
            .for_each(|x| k.add(x));
        assert_eq!(k.sum, 16777220.0);
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // A larger deterministic community.
        let (notes, raters) = (40u32, 60u32);
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let factors: Vec<Option<f64>> = (0..raters)
            .map(|u| (u % 11 != 0).then(|| (u as f64 / raters as f64) * 1.8 - 0.9))
            .collect();
        let (mut note, mut rater, mut helpful_num) = (vec![], vec![], vec![]);
        for n in 0..notes {
            for u in 0..raters {
                if next() % 3 == 0 {
                    note.push(n);
                    rater.push(u);
                    helpful_num.push([0.0, 0.5, 1.0][(next() % 3) as usize]);
                }
            }
        }
        let author: Vec<u32> = (0..notes).map(|n| (n * 7) % raters).collect();
        let ratings = GaussianRatings {
            note: &note,
            rater: &rater,
            helpful_num: &helpful_num,
        };
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool")
                .install(|| gaussian_scores(ratings, notes as usize, &factors, &author))
        };
        let one = on(1);
        assert!(one.iter().filter(|g| g.is_some()).count() == notes as usize);
        assert_eq!(one, on(4));
    }
}
