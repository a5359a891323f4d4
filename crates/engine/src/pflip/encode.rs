//! From [`NoteRow`]s to 0/1 feature rows: the reference's scikit-learn feature pipeline
//! (`_get_feature_pipeline` and `_transform_note_info`), fitted on the training rows.
//!
//! Every feature the reference builds is 0/1: one-hot authors, rater tokens (each appears at
//! most once per note), k-means bins of numbers as one-hot columns, and products of those. So
//! a row is the list of its columns that are 1. Blocks, in the reference's order:
//!
//! * the author;
//! * per rating source: (rater, level) tokens; (rater, tag) tokens seen in at least 5 notes,
//!   the 10 % (helpful) or 50 % (not helpful) with the highest χ² against the label;
//! * per source and tag with varying values: its share of ratings (missing → −0.25, capped at
//!   the 99th percentile), in 10 k-means bins;
//! * the 27 rating-bucket counts (log₂(1 + x)) in 7 bins each; all pairs and all triples of
//!   those bins across the 27, and per source all pairs of pairs of its 9, each after
//!   dropping bins and products present in at most about 0.1 % of rows;
//! * per source the 7 factor statistics (missing → −1) in 10 bins, with all their pairs;
//! * the 24 timing counts and shares (capped at the 99.9th percentile, counts log₂(1 + x)) in
//!   5 bins; the writing latency (log₂ of the capped milliseconds) in 10 bins; the 5 peer
//!   counts (capped at the 99.99th percentile, log₂(1 + x)) in 4 bins, and the pairs of their
//!   log₂(1 + x) in 4 bins.
//!
//! Columns constant over the training rows are then dropped, as the reference's last
//! `VarianceThreshold` does.

use rustc_hash::FxHashMap;

use super::features::{BUCKETS, NoteRow, PEERS, SOURCES, STATS, TAGS, TIMING};
use super::l1::BinaryRows;
use crate::numeric::nan_percentile;

/// Bins of the tag shares, bucket counts, factor statistics, timings, latency, peer counts.
const TAG_BINS: usize = 10;
const COUNT_BINS: usize = 7;
const STATS_BINS: usize = 10;
const TIMING_BINS: usize = 5;
const LATENCY_BINS: usize = 10;
const PEER_BINS: usize = 4;
/// Tag tokens must appear in this many training notes.
const TAG_MIN_NOTES: u32 = 5;
/// Percent of tag tokens kept by χ²: helpful, not helpful.
const HELPFUL_TAG_PERCENT: f64 = 10.0;
const NOT_HELPFUL_TAG_PERCENT: f64 = 50.0;
/// Bins and products whose variance is at most this are dropped (`drop_rare`).
const RARE: f64 = 0.001;
/// A missing tag share reads as this.
const MISSING_SHARE: f64 = -0.25;

// ---------------------------------------------------------------------------------------------
// k-means bins

/// scikit-learn's `KBinsDiscretizer(strategy="kmeans")` for one column: bin edges halfway
/// between 1-D k-means centres started from the centres of equal-width bins.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct KBins {
    /// Edges from the column's minimum to its maximum (`[-inf, inf]` for a constant column).
    edges: Vec<f64>,
}

impl KBins {
    pub fn fit(values: &[f64], bins: usize) -> KBins {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if values.is_empty() || min == max {
            return KBins {
                edges: vec![f64::NEG_INFINITY, f64::INFINITY],
            };
        }
        let width = (max - min) / bins as f64;
        let init: Vec<f64> = (0..bins)
            .map(|i| {
                let lo = min + width * i as f64;
                let hi = if i + 1 == bins {
                    max
                } else {
                    min + width * (i + 1) as f64
                };
                (lo + hi) * 0.5
            })
            .collect();
        let mut centres = kmeans_1d(values, init);
        centres.sort_by(f64::total_cmp);
        let mut edges = vec![min];
        edges.extend(centres.windows(2).map(|w| (w[0] + w[1]) * 0.5));
        edges.push(max);
        // Bins narrower than 1e-8 are merged into the one before.
        let mut kept = vec![edges[0]];
        for w in edges.windows(2) {
            if w[1] - w[0] > 1e-8 {
                kept.push(w[1]);
            }
        }
        KBins { edges: kept }
    }

    pub fn bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// The bin of `x` (values beyond the training range fall in the first or last bin).
    pub fn bin(&self, x: f64) -> usize {
        let x = x + 1e-8 + 1e-5 * x.abs();
        let inner = &self.edges[1..];
        let i = inner.partition_point(|&e| e <= x);
        i.min(self.bins() - 1)
    }
}

/// Lloyd's k-means in one dimension from `centres`, as scikit-learn runs it (at most 300
/// iterations; stop when no label changes or the squared centre shift is within 1e-4 of the
/// variance; an empty cluster takes the point farthest from its centre).
fn kmeans_1d(values: &[f64], mut centres: Vec<f64>) -> Vec<f64> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let tolerance = 1e-4 * variance;
    let k = centres.len();
    let nearest = |centres: &[f64], v: f64| {
        let mut best = 0;
        for c in 1..k {
            if (v - centres[c]).abs() < (v - centres[best]).abs() {
                best = c;
            }
        }
        best
    };
    let mut labels: Vec<usize> = values.iter().map(|&v| nearest(&centres, v)).collect();
    for iteration in 0..300 {
        if iteration > 0 {
            let relabelled: Vec<usize> = values.iter().map(|&v| nearest(&centres, v)).collect();
            if relabelled == labels {
                break;
            }
            labels = relabelled;
        }
        let mut sums = vec![0.0; k];
        let mut counts = vec![0.0; k];
        for (&v, &l) in values.iter().zip(&labels) {
            sums[l] += v;
            counts[l] += 1.0;
        }
        let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0.0).collect();
        if !empty.is_empty() {
            let mut far: Vec<usize> = (0..values.len()).collect();
            far.sort_by(|&a, &b| {
                let da = (values[a] - centres[labels[a]]).abs();
                let db = (values[b] - centres[labels[b]]).abs();
                db.total_cmp(&da).then(a.cmp(&b))
            });
            for (&c, &p) in empty.iter().zip(&far) {
                let old = labels[p];
                sums[old] -= values[p];
                counts[old] -= 1.0;
                sums[c] = values[p];
                counts[c] = 1.0;
            }
        }
        let updated: Vec<f64> = (0..k)
            .map(|c| {
                if counts[c] > 0.0 {
                    sums[c] / counts[c]
                } else {
                    centres[c]
                }
            })
            .collect();
        let shift: f64 = updated
            .iter()
            .zip(&centres)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        centres = updated;
        if shift <= tolerance {
            break;
        }
    }
    centres
}

/// Fits one [`KBins`] per column of `rows` (`column(row, j)` reads column `j`).
fn fit_bins<R>(
    rows: &[R],
    columns: usize,
    bins: usize,
    column: impl Fn(&R, usize) -> f64,
) -> Vec<KBins> {
    (0..columns)
        .map(|j| {
            let values: Vec<f64> = rows.iter().map(|r| column(r, j)).collect();
            KBins::fit(&values, bins)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Column selection

/// Whether a 0/1 column present in `count` of `rows` rows has variance above `threshold`.
fn varies(count: u32, rows: usize, threshold: f64) -> bool {
    let p = f64::from(count) / rows as f64;
    p * (1.0 - p) > threshold
}

/// χ² of each 0/1 column against a binary label (scikit-learn's `chi2`; NaN where a column
/// or a class is empty).
fn chi2(columns: &[(u32, u32)], positives: usize, rows: usize) -> Vec<f64> {
    let p1 = positives as f64 / rows as f64;
    columns
        .iter()
        .map(|&(count, positive)| {
            let total = f64::from(count);
            let observed = [total - f64::from(positive), f64::from(positive)];
            let expected = [(1.0 - p1) * total, p1 * total];
            observed
                .iter()
                .zip(expected)
                .map(|(o, e)| (o - e) * (o - e) / e)
                .sum()
        })
        .collect()
}

/// scikit-learn's `SelectPercentile` mask: scores above the (100 − percent)th percentile,
/// then ties at it in column order up to `percent` of the columns (NaN scores count as the
/// lowest).
fn select_percentile(scores: &[f64], percent: f64) -> Vec<bool> {
    if scores.is_empty() {
        return Vec::new();
    }
    let clean: Vec<f64> = scores
        .iter()
        .map(|&s| if s.is_nan() { f64::MIN } else { s })
        .collect();
    let mut sorted = clean.clone();
    let threshold = nan_percentile(&mut sorted, 100.0 - percent);
    let mut mask: Vec<bool> = clean.iter().map(|&s| s > threshold).collect();
    let ties: Vec<usize> = (0..clean.len())
        .filter(|&i| clean[i] == threshold)
        .collect();
    if !ties.is_empty() {
        let max_features = (clean.len() as f64 * percent / 100.0) as i64;
        let room = max_features - mask.iter().filter(|&&m| m).count() as i64;
        // Python's ties[:room], a negative stop counting from the end.
        let stop = if room >= 0 {
            (room as usize).min(ties.len())
        } else {
            ties.len().saturating_sub(room.unsigned_abs() as usize)
        };
        for &t in &ties[..stop] {
            mask[t] = true;
        }
    }
    mask
}

/// Columns named by `u64` keys, kept where their 0/1 variance over the training rows is
/// above a threshold; numbered in key order.
#[derive(Clone, Debug, Default)]
struct KeyedColumns {
    ids: FxHashMap<u64, u32>,
}

impl KeyedColumns {
    /// From the number of training rows with each key.
    fn fit(counts: FxHashMap<u64, u32>, rows: usize, threshold: f64) -> Self {
        let mut kept: Vec<u64> = counts
            .into_iter()
            .filter(|&(_, c)| varies(c, rows, threshold))
            .map(|(k, _)| k)
            .collect();
        kept.sort_unstable();
        KeyedColumns {
            ids: kept.into_iter().zip(0..).collect(),
        }
    }

    fn width(&self) -> u32 {
        self.ids.len() as u32
    }

    fn encode(&self, keys: &[u64], offset: u32, out: &mut Vec<u32>) {
        out.extend(
            keys.iter()
                .filter_map(|k| self.ids.get(k))
                .map(|&i| offset + i),
        );
    }
}

/// Products of `degree` distinct active columns (sorted ascending), as keys of 16 bits each.
fn products(active: &[u32], degree: usize, out: &mut Vec<u64>) {
    let n = active.len();
    match degree {
        1 => out.extend(active.iter().map(|&a| u64::from(a))),
        2 => {
            for i in 0..n {
                for j in i + 1..n {
                    out.push(u64::from(active[i]) << 16 | u64::from(active[j]));
                }
            }
        }
        3 => {
            for i in 0..n {
                for j in i + 1..n {
                    for l in j + 1..n {
                        out.push(
                            u64::from(active[i]) << 32
                                | u64::from(active[j]) << 16
                                | u64::from(active[l]),
                        );
                    }
                }
            }
        }
        _ => unreachable!("degrees 1 to 3"),
    }
}

// ---------------------------------------------------------------------------------------------
// Transformed rows

/// The caps the reference applies before binning, from the raw training rows.
#[derive(Clone, Debug)]
struct Caps {
    tag_shares: [[f64; TAGS]; SOURCES],
    timing: [f64; TIMING],
    latency: f64,
    peers: [f64; PEERS],
}

impl Caps {
    fn fit(rows: &[NoteRow]) -> Caps {
        let quantile = |value: &dyn Fn(&NoteRow) -> f64, q: f64| {
            let mut v: Vec<f64> = rows.iter().map(value).collect();
            nan_percentile(&mut v, q * 100.0)
        };
        Caps {
            tag_shares: std::array::from_fn(|s| {
                std::array::from_fn(|t| quantile(&|r| r.sources[s].tag_shares[t], 0.99))
            }),
            timing: std::array::from_fn(|j| quantile(&|r| r.timing[j], 0.999)),
            latency: quantile(&|r| r.latency, 0.999),
            peers: std::array::from_fn(|j| quantile(&|r| r.peers[j], 0.9999)),
        }
    }
}

fn log2_1p(x: f64) -> f64 {
    (1.0 + x).ln() / std::f64::consts::LN_2
}

/// A row's numbers as the bins read them.
struct Numbers {
    tag_shares: [[f64; TAGS]; SOURCES],
    /// log₂(1 + count), sources in order, 9 each.
    buckets: [f64; SOURCES * BUCKETS],
    /// Missing as −1.
    stats: [[f64; STATS]; SOURCES],
    timing: [f64; TIMING],
    latency: f64,
    peers: [f64; PEERS],
    /// log₂(1 + transformed peer count).
    peers_again: [f64; PEERS],
}

impl Numbers {
    fn of(row: &NoteRow, caps: &Caps) -> Numbers {
        let clip = |x: f64, hi: f64| x.max(0.0).min(hi);
        let timing: [f64; TIMING] = std::array::from_fn(|j| {
            let x = clip(row.timing[j], caps.timing[j]);
            // Shares (the second four of each eight) stay; counts are logged.
            if j % 8 >= 4 { x } else { log2_1p(x) }
        });
        let peers: [f64; PEERS] =
            std::array::from_fn(|j| log2_1p(clip(row.peers[j], caps.peers[j])));
        Numbers {
            tag_shares: std::array::from_fn(|s| {
                std::array::from_fn(|t| {
                    let x = row.sources[s].tag_shares[t];
                    let x = if x.is_nan() { MISSING_SHARE } else { x };
                    x.max(MISSING_SHARE).min(caps.tag_shares[s][t])
                })
            }),
            buckets: std::array::from_fn(|j| {
                log2_1p(row.sources[j / BUCKETS].buckets[j % BUCKETS])
            }),
            stats: std::array::from_fn(|s| {
                row.sources[s]
                    .stats
                    .map(|x| if x.is_nan() { -1.0 } else { x })
            }),
            timing,
            // A note written before its post (never in real data) counts as written with it.
            latency: clip(row.latency, caps.latency).max(1.0).log2(),
            peers,
            peers_again: peers.map(log2_1p),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fitted encoder

/// Token columns of one kind per source.
#[derive(Clone, Debug, Default)]
struct Vocabulary {
    ids: FxHashMap<u64, u32>,
}

impl Vocabulary {
    fn width(&self) -> u32 {
        self.ids.len() as u32
    }

    fn encode(&self, tokens: &[u64], offset: u32, out: &mut Vec<u32>) {
        out.extend(
            tokens
                .iter()
                .filter_map(|t| self.ids.get(t))
                .map(|&i| offset + i),
        );
    }
}

/// Counts of each token over the training rows, and of rows labelled positive.
fn token_counts<'r>(rows: impl Iterator<Item = (&'r [u64], bool)>) -> FxHashMap<u64, (u32, u32)> {
    let mut counts: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
    for (tokens, positive) in rows {
        for &t in tokens {
            let c = counts.entry(t).or_default();
            c.0 += 1;
            c.1 += u32::from(positive);
        }
    }
    counts
}

/// The fitted feature pipeline.
#[derive(Clone, Debug)]
pub(super) struct Encoder {
    caps: Caps,
    authors: FxHashMap<u32, u32>,
    helpfulness: [Vocabulary; SOURCES],
    helpful_tags: [Vocabulary; SOURCES],
    not_helpful_tags: [Vocabulary; SOURCES],
    /// Per source and tag: the bins of its share, where the share varies.
    tag_bins: [[Option<KBins>; TAGS]; SOURCES],
    bucket_bins: Vec<KBins>,
    /// Each source's bucket bins, numbered across the 27 columns.
    source_bins: [std::ops::Range<u32>; SOURCES],
    /// Bucket bins (numbered across the 27 columns) kept before crossing.
    common_bucket_bin: Vec<bool>,
    cross2: KeyedColumns,
    /// Pairs of bucket bins in enough training rows that a product containing them can be
    /// (a product is never in more rows than any pair inside it): the triples and pairs of
    /// pairs are built from these only.
    frequent_pairs: rustc_hash::FxHashSet<u64>,
    cross3: KeyedColumns,
    cross4: [KeyedColumns; SOURCES],
    stats_bins: [Vec<KBins>; SOURCES],
    stats_cross: [KeyedColumns; SOURCES],
    timing_bins: Vec<KBins>,
    latency_bins: KBins,
    peer_bins: Vec<KBins>,
    peer_cross_bins: Vec<KBins>,
    peer_cross: KeyedColumns,
    /// Columns before the last constant-column filter, and their final numbers.
    kept: Vec<Option<u32>>,
    width: u32,
}

/// Orders tokens as the reference's vocabulary does (by their text, `rater:name`).
fn token_text(
    token: u64,
    rater_ids: &dyn Fn(u32) -> String,
    name: &dyn Fn(u64) -> &'static str,
    shift: u32,
) -> String {
    format!(
        "{}:{}",
        rater_ids((token >> shift) as u32),
        name(token & ((1 << shift) - 1))
    )
}

impl Encoder {
    /// Fits the pipeline to the training rows and their labels (true: flip); returns it with
    /// the encoded training rows.
    pub fn fit(
        rows: &[NoteRow],
        labels: &[bool],
        rater_id: &dyn Fn(u32) -> String,
    ) -> (Encoder, BinaryRows) {
        let n = rows.len();
        let positives = labels.iter().filter(|&&l| l).count();
        let caps = Caps::fit(rows);
        let numbers: Vec<Numbers> = rows.iter().map(|r| Numbers::of(r, &caps)).collect();

        let mut authors: Vec<u32> = rows.iter().map(|r| r.author).collect();
        authors.sort_unstable();
        authors.dedup();
        let authors = authors.into_iter().zip(0..).collect();

        let helpfulness = std::array::from_fn(|s| {
            let counts = token_counts(
                rows.iter()
                    .map(|r| (r.sources[s].helpfulness.as_slice(), false)),
            );
            let mut tokens: Vec<u64> = counts.into_keys().collect();
            tokens.sort_by_cached_key(|&t| {
                token_text(t, rater_id, &|c| super::features::level_name(c), 2)
            });
            Vocabulary {
                ids: tokens.into_iter().zip(0..).collect(),
            }
        });
        let tag_vocabulary = |s: usize, helpful: bool| {
            let counts = token_counts(rows.iter().zip(labels).map(|(r, &l)| {
                let tokens = if helpful {
                    r.sources[s].helpful_tags.as_slice()
                } else {
                    r.sources[s].not_helpful_tags.as_slice()
                };
                (tokens, l)
            }));
            let names: &dyn Fn(u64) -> &'static str = if helpful {
                &|t| crate::rating::HELPFUL_TAGS[t as usize]
            } else {
                &|t| crate::rating::NOT_HELPFUL_TAGS[t as usize]
            };
            let mut tokens: Vec<(u64, (u32, u32))> = counts
                .into_iter()
                .filter(|&(_, (c, _))| c >= TAG_MIN_NOTES)
                .collect();
            tokens.sort_by_cached_key(|&(t, _)| token_text(t, rater_id, names, 5));
            let scores = chi2(
                &tokens.iter().map(|&(_, c)| c).collect::<Vec<_>>(),
                positives,
                n,
            );
            let percent = if helpful {
                HELPFUL_TAG_PERCENT
            } else {
                NOT_HELPFUL_TAG_PERCENT
            };
            let mask = select_percentile(&scores, percent);
            Vocabulary {
                ids: tokens
                    .iter()
                    .zip(&mask)
                    .filter(|&(_, &m)| m)
                    .map(|(&(t, _), _)| t)
                    .zip(0..)
                    .collect(),
            }
        };
        let helpful_tags = std::array::from_fn(|s| tag_vocabulary(s, true));
        let not_helpful_tags = std::array::from_fn(|s| tag_vocabulary(s, false));

        let tag_bins = std::array::from_fn(|s| {
            std::array::from_fn(|t| {
                let raw: Vec<f64> = rows
                    .iter()
                    .map(|r| r.sources[s].tag_shares[t])
                    .filter(|x| !x.is_nan())
                    .collect();
                let lo = raw.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if raw.is_empty() || lo == hi {
                    return None;
                }
                let values: Vec<f64> = numbers.iter().map(|x| x.tag_shares[s][t]).collect();
                let first = values[0];
                // A column the caps made constant carries nothing.
                if values.iter().all(|&v| v == first) {
                    return None;
                }
                Some(KBins::fit(&values, TAG_BINS))
            })
        });

        let bucket_bins = fit_bins(&numbers, SOURCES * BUCKETS, COUNT_BINS, |x, j| x.buckets[j]);
        let mut bin_counts = vec![0u32; bins_width(&bucket_bins) as usize];
        for x in &numbers {
            for b in binned(&bucket_bins, |j| x.buckets[j]) {
                bin_counts[b as usize] += 1;
            }
        }
        // Each source's bucket bins, as numbered across the 27 columns.
        let source_bins = std::array::from_fn(|s| {
            let start = bins_width(&bucket_bins[..s * BUCKETS]);
            start..start + bins_width(&bucket_bins[s * BUCKETS..(s + 1) * BUCKETS])
        });
        let common_bucket_bin: Vec<bool> = bin_counts.iter().map(|&c| varies(c, n, RARE)).collect();

        let mut encoder = Encoder {
            caps,
            authors,
            helpfulness,
            helpful_tags,
            not_helpful_tags,
            tag_bins,
            bucket_bins,
            source_bins,
            common_bucket_bin,
            cross2: KeyedColumns::default(),
            frequent_pairs: Default::default(),
            cross3: KeyedColumns::default(),
            cross4: Default::default(),
            stats_bins: std::array::from_fn(|s| {
                fit_bins(&numbers, STATS, STATS_BINS, |x, j| x.stats[s][j])
            }),
            stats_cross: Default::default(),
            timing_bins: fit_bins(&numbers, TIMING, TIMING_BINS, |x, j| x.timing[j]),
            latency_bins: KBins::fit(
                &numbers.iter().map(|x| x.latency).collect::<Vec<_>>(),
                LATENCY_BINS,
            ),
            peer_bins: fit_bins(&numbers, PEERS, PEER_BINS, |x, j| x.peers[j]),
            peer_cross_bins: fit_bins(&numbers, PEERS, PEER_BINS, |x, j| x.peers_again[j]),
            peer_cross: KeyedColumns::default(),
            kept: Vec::new(),
            width: 0,
        };
        // Count each product over the training rows, one row's products at a time: first
        // the pairs of bucket bins, then (from the frequent pairs) everything else.
        let mut pair_counts: FxHashMap<u64, u32> = FxHashMap::default();
        for x in &numbers {
            let mut pairs = Vec::new();
            products(&encoder.active_bucket_bins(x), 2, &mut pairs);
            for key in pairs {
                *pair_counts.entry(key).or_default() += 1;
            }
        }
        let least = (1..=n as u32)
            .find(|&c| varies(c, n, RARE))
            .unwrap_or(u32::MAX);
        encoder.frequent_pairs = pair_counts
            .iter()
            .filter(|&(_, &c)| c >= least)
            .map(|(&k, _)| k)
            .collect();
        encoder.cross2 = KeyedColumns::fit(pair_counts, n, RARE);
        let mut counts: [FxHashMap<u64, u32>; 8] = Default::default();
        for x in &numbers {
            let keys = encoder.cross_keys(x);
            let lists = [
                &keys.cross3,
                &keys.cross4[0],
                &keys.cross4[1],
                &keys.cross4[2],
                &keys.stats[0],
                &keys.stats[1],
                &keys.stats[2],
                &keys.peers,
            ];
            for (count, list) in counts.iter_mut().zip(lists) {
                for &key in list {
                    *count.entry(key).or_default() += 1;
                }
            }
        }
        let [c3, c40, c41, c42, s0, s1, s2, peers] = counts;
        encoder.cross3 = KeyedColumns::fit(c3, n, RARE);
        encoder.cross4 = [c40, c41, c42].map(|c| KeyedColumns::fit(c, n, RARE));
        encoder.stats_cross = [s0, s1, s2].map(|c| KeyedColumns::fit(c, n, RARE));
        encoder.peer_cross = KeyedColumns::fit(peers, n, RARE);

        // The last filter: drop columns constant over the training rows.
        let mut counts = vec![0u32; encoder.raw_width() as usize];
        for (r, x) in rows.iter().zip(&numbers) {
            for c in encoder.columns(r, x) {
                counts[c as usize] += 1;
            }
        }
        let mut next = 0;
        encoder.kept = counts
            .iter()
            .map(|&c| {
                (c > 0 && (c as usize) < n).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        encoder.width = next;
        let mut encoded = BinaryRows::new(encoder.width());
        for (r, x) in rows.iter().zip(&numbers) {
            encoded.push(&encoder.keep(encoder.columns(r, x)));
        }
        (encoder, encoded)
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.width as usize
    }

    /// A row's columns (sorted).
    pub fn encode(&self, row: &NoteRow) -> Vec<u32> {
        let numbers = Numbers::of(row, &self.caps);
        self.keep(self.columns(row, &numbers))
    }

    fn keep(&self, raw: Vec<u32>) -> Vec<u32> {
        let mut out: Vec<u32> = raw
            .into_iter()
            .filter_map(|c| self.kept[c as usize])
            .collect();
        out.sort_unstable();
        out
    }

    fn raw_width(&self) -> u32 {
        let mut w = self.authors.len() as u32;
        for s in 0..SOURCES {
            w += self.helpfulness[s].width()
                + self.helpful_tags[s].width()
                + self.not_helpful_tags[s].width();
            w += self.tag_bins[s]
                .iter()
                .flatten()
                .map(|b| b.bins() as u32)
                .sum::<u32>();
        }
        w += bins_width(&self.bucket_bins);
        w += self.cross2.width() + self.cross3.width();
        for s in 0..SOURCES {
            w += self.cross4[s].width() + self.stats_cross[s].width();
        }
        w += bins_width(&self.timing_bins) + self.latency_bins.bins() as u32;
        w += bins_width(&self.peer_bins) + self.peer_cross.width();
        w
    }

    /// A row's columns before the last filter.
    fn columns(&self, row: &NoteRow, x: &Numbers) -> Vec<u32> {
        let mut out = Vec::new();
        let mut offset = 0u32;
        if let Some(&a) = self.authors.get(&row.author) {
            out.push(a);
        }
        offset += self.authors.len() as u32;
        for s in 0..SOURCES {
            self.helpfulness[s].encode(&row.sources[s].helpfulness, offset, &mut out);
            offset += self.helpfulness[s].width();
        }
        for s in 0..SOURCES {
            self.helpful_tags[s].encode(&row.sources[s].helpful_tags, offset, &mut out);
            offset += self.helpful_tags[s].width();
        }
        for s in 0..SOURCES {
            self.not_helpful_tags[s].encode(&row.sources[s].not_helpful_tags, offset, &mut out);
            offset += self.not_helpful_tags[s].width();
        }
        for s in 0..SOURCES {
            for t in 0..TAGS {
                if let Some(bins) = &self.tag_bins[s][t] {
                    out.push(offset + bins.bin(x.tag_shares[s][t]) as u32);
                    offset += bins.bins() as u32;
                }
            }
        }
        push_binned(&self.bucket_bins, |j| x.buckets[j], &mut offset, &mut out);
        let keys = self.cross_keys(x);
        self.cross2.encode(&keys.cross2, offset, &mut out);
        offset += self.cross2.width();
        self.cross3.encode(&keys.cross3, offset, &mut out);
        offset += self.cross3.width();
        for s in 0..SOURCES {
            self.cross4[s].encode(&keys.cross4[s], offset, &mut out);
            offset += self.cross4[s].width();
        }
        for s in 0..SOURCES {
            self.stats_cross[s].encode(&keys.stats[s], offset, &mut out);
            offset += self.stats_cross[s].width();
        }
        push_binned(&self.timing_bins, |j| x.timing[j], &mut offset, &mut out);
        out.push(offset + self.latency_bins.bin(x.latency) as u32);
        offset += self.latency_bins.bins() as u32;
        push_binned(&self.peer_bins, |j| x.peers[j], &mut offset, &mut out);
        self.peer_cross.encode(&keys.peers, offset, &mut out);
        out
    }

    /// The active bucket bins of a row (numbered across the 27 columns) that are not rare.
    fn active_bucket_bins(&self, x: &Numbers) -> Vec<u32> {
        binned(&self.bucket_bins, |j| x.buckets[j])
            .into_iter()
            .filter(|&b| self.common_bucket_bin[b as usize])
            .collect()
    }

    /// The product keys of a row (before the fitted columns select among them).
    fn cross_keys(&self, x: &Numbers) -> CrossKeys {
        let active = self.active_bucket_bins(x);
        let frequent = |a: u32, b: u32| {
            self.frequent_pairs
                .contains(&(u64::from(a) << 16 | u64::from(b)))
        };
        let mut cross2 = Vec::new();
        products(&active, 2, &mut cross2);
        let mut cross3 = Vec::new();
        for (i, &a) in active.iter().enumerate() {
            for (j, &b) in active.iter().enumerate().skip(i + 1) {
                if !frequent(a, b) {
                    continue;
                }
                for &c in &active[j + 1..] {
                    if frequent(a, c) && frequent(b, c) {
                        cross3.push(u64::from(a) << 32 | u64::from(b) << 16 | u64::from(c));
                    }
                }
            }
        }
        let cross4 = std::array::from_fn(|s| {
            let mine: Vec<u32> = active
                .iter()
                .copied()
                .filter(|b| self.source_bins[s].contains(b))
                .collect();
            let mut pairs = Vec::new();
            products(&mine, 2, &mut pairs);
            pairs.retain(|p| self.frequent_pairs.contains(p));
            let mut out = Vec::with_capacity(pairs.len() * pairs.len() / 2);
            for i in 0..pairs.len() {
                for j in i + 1..pairs.len() {
                    out.push(pairs[i] << 32 | pairs[j]);
                }
            }
            out
        });
        let stats = std::array::from_fn(|s| {
            let bins = &self.stats_bins[s];
            let active = binned(bins, |j| x.stats[s][j]);
            let mut keys = Vec::new();
            products(&active, 1, &mut keys);
            // Singles and pairs share a key space: pairs have the high half set.
            let mut pairs = Vec::new();
            products(&active, 2, &mut pairs);
            keys.extend(pairs.into_iter().map(|p| p | 1 << 40));
            keys
        });
        let peer_bins = &self.peer_cross_bins;
        let mut peers = Vec::new();
        products(&binned(peer_bins, |j| x.peers_again[j]), 2, &mut peers);
        CrossKeys {
            cross2,
            cross3,
            cross4,
            stats,
            peers,
        }
    }
}

struct CrossKeys {
    cross2: Vec<u64>,
    cross3: Vec<u64>,
    cross4: [Vec<u64>; SOURCES],
    stats: [Vec<u64>; SOURCES],
    peers: Vec<u64>,
}

fn bins_width(bins: &[KBins]) -> u32 {
    bins.iter().map(|b| b.bins() as u32).sum()
}

/// The active one-hot bin of every column (`value(j)` reads column `j`), numbered across the
/// columns' bins, ascending.
fn binned(bins: &[KBins], value: impl Fn(usize) -> f64) -> Vec<u32> {
    let mut start = 0;
    bins.iter()
        .enumerate()
        .map(|(j, b)| {
            let bin = start + b.bin(value(j)) as u32;
            start += b.bins() as u32;
            bin
        })
        .collect()
}

/// Appends the active one-hot bins of `bins` to `out`, numbered from `offset`, and moves
/// `offset` past them.
fn push_binned(bins: &[KBins], value: impl Fn(usize) -> f64, offset: &mut u32, out: &mut Vec<u32>) {
    out.extend(binned(bins, value).into_iter().map(|b| *offset + b));
    *offset += bins_width(bins);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kbins_split_clusters_at_midpoints() {
        let values = [0.0, 0.1, 0.2, 5.0, 5.1, 9.9, 10.0];
        let bins = KBins::fit(&values, 3);
        assert_eq!(bins.bins(), 3);
        assert_eq!(bins.bin(0.15), 0);
        assert_eq!(bins.bin(5.05), 1);
        assert_eq!(bins.bin(10.0), 2);
        // Beyond the training range: first and last bins.
        assert_eq!(bins.bin(-3.0), 0);
        assert_eq!(bins.bin(30.0), 2);
        // Edges sit halfway between the centres 0.1, 5.05 and 9.95.
        assert!((bins.edges[1] - 2.575).abs() < 1e-12, "{:?}", bins.edges);
        assert!((bins.edges[2] - 7.5).abs() < 1e-12, "{:?}", bins.edges);
    }

    #[test]
    fn kbins_of_few_values_merge_empty_bins() {
        // Two distinct values in 7 bins: the extra clusters collapse onto the data.
        let values = [0.0, 0.0, 0.0, 1.0, 1.0];
        let bins = KBins::fit(&values, 7);
        assert!(bins.bins() >= 1 && bins.bins() <= 7);
        assert_ne!(bins.bin(0.0), bins.bin(1.0));
        let constant = KBins::fit(&[2.0, 2.0], 5);
        assert_eq!(constant.bins(), 1);
        assert_eq!(constant.bin(7.0), 0);
    }

    #[test]
    fn chi2_matches_scikit_learn() {
        // 10 rows, 4 positive. Column A in rows 0..5 with 3 positives; column B in all rows.
        let scores = chi2(&[(5, 3), (10, 4)], 4, 10);
        // A: observed (2, 3), expected (3, 2): 1/3 + 1/2.
        assert!((scores[0] - (1.0 / 3.0 + 0.5)).abs() < 1e-12);
        assert!(scores[1].abs() < 1e-12);
        assert!(chi2(&[(0, 0)], 4, 10)[0].is_nan());
    }

    #[test]
    fn select_percentile_breaks_ties_in_column_order() {
        // 10 % of 10 columns: the single best.
        let mask = select_percentile(&[1.0, 5.0, 3.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 10.0);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 1);
        assert!(mask[1]);
        // 50 % of 4 equal scores: the first two.
        assert_eq!(
            select_percentile(&[1.0; 4], 50.0),
            [true, true, false, false]
        );
        // NaN scores lose.
        assert_eq!(select_percentile(&[f64::NAN, 2.0], 50.0), [false, true]);
    }

    #[test]
    fn products_enumerate_combinations() {
        let mut out = Vec::new();
        products(&[1, 2, 3, 4], 3, &mut out);
        assert_eq!(out.len(), 4);
        out.clear();
        products(&[1, 2, 3], 2, &mut out);
        assert_eq!(out, [1 << 16 | 2, 1 << 16 | 3, 2 << 16 | 3]);
    }

    #[test]
    fn keyed_columns_drop_rare_and_constant_products() {
        // 2000 rows: key 1 in every row (no variance), key 2 in one row (variance 0.0005),
        // key 3 in half.
        let rows: Vec<Vec<u64>> = (0..2000)
            .map(|i| {
                let mut r = vec![1];
                if i == 0 {
                    r.push(2);
                }
                if i % 2 == 0 {
                    r.push(3);
                }
                r
            })
            .collect();
        let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
        for row in &rows {
            for &key in row {
                *counts.entry(key).or_default() += 1;
            }
        }
        let k = KeyedColumns::fit(counts, rows.len(), RARE);
        assert_eq!(k.width(), 1);
        let mut out = Vec::new();
        k.encode(&[1, 2, 3], 10, &mut out);
        assert_eq!(out, [10]);
    }
}
