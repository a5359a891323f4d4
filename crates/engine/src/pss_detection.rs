//! Detecting post-selection-similarity cliques and quasi-cliques (spec §4.1): the reference's
//! `PostSelectionSimilarity` and `QuasiCliqueDetection`, run on the prepared community (the
//! reference runs them on its preprocessed notes and ratings, before any scorer).
//!
//! Both detectors are deterministic: counts are gathered in hash maps, but every output is
//! produced from sorted data, and every place where the reference's order was arbitrary
//! (pandas' unstable sorts, set iteration) is broken by participant index, as documented on
//! the functions below. [`crate::pss::view`] then applies the result.
//!
//! Only notes from the notes file take part (deleted notes, which exist only in the status
//! history, have no tweet and no classification): the reference joins ratings to its notes
//! table, which holds the notes file alone.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::community::Community;
use crate::pss::Cliques;
use crate::{Classification, HelpfulnessLevel};

const MINUTE_MILLIS: i64 = 60_000;

/// The constants of both detectors (the reference's constructor defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct PssParams {
    /// Pseudocounts added to each rater's post total in the smoothed PMI.
    pub pmi_regularization: f64,
    /// A pair whose smoothed NPMI reaches this is suspect.
    pub smoothed_npmi_threshold: f64,
    /// A pair whose co-ratings reach this share of the smaller total (plus pseudocounts) is
    /// suspect.
    pub minimum_rating_proportion_threshold: f64,
    /// Raters with fewer distinct rated posts take no part in NPMI / minSim.
    pub min_unique_posts: usize,
    /// Pseudocounts added to the smaller total in the rating proportion.
    pub min_sim_pseudocounts: f64,
    /// Two ratings of the same note at most this far apart are a co-rating.
    pub window_millis: i64,
    /// Rating latencies (minutes after note creation) for author–rater affinity, each with
    /// its writer-coverage and rater-affinity thresholds (at most 32).
    pub affinity_latencies: Vec<AffinityThreshold>,
    /// Smaller author or rater totals make coverage / affinity undefined.
    pub affinity_min_denominator: usize,
    pub quasi: QuasiCliqueParams,
}

/// Thresholds for one rating latency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AffinityThreshold {
    pub latency_minutes: i64,
    pub writer_coverage: f64,
    pub rater_affinity: f64,
}

/// The constants of quasi-clique detection.
#[derive(Clone, Debug, PartialEq)]
pub struct QuasiCliqueParams {
    /// Only notes created within this long before the newest rated note count.
    pub recency_cutoff_millis: i64,
    pub note_inclusion_threshold: f64,
    pub rater_inclusion_threshold: f64,
    pub min_clique_tweets: usize,
    pub min_clique_raters: usize,
    pub max_clique_size: usize,
    pub min_inclusion_ratings: usize,
    /// Seed pairs need more than this many aligned posts.
    pub min_rater_pair_count: u32,
    /// Pairs need at least this many aligned posts to be candidates at all.
    pub min_aligned_ratings: u32,
}

impl Default for PssParams {
    fn default() -> Self {
        PssParams {
            pmi_regularization: 500.0,
            smoothed_npmi_threshold: 0.55,
            minimum_rating_proportion_threshold: 0.4,
            min_unique_posts: 10,
            min_sim_pseudocounts: 10.0,
            window_millis: 20 * MINUTE_MILLIS,
            affinity_latencies: vec![
                AffinityThreshold {
                    latency_minutes: 1,
                    writer_coverage: 0.2,
                    rater_affinity: 0.2,
                },
                AffinityThreshold {
                    latency_minutes: 5,
                    writer_coverage: 0.3,
                    rater_affinity: 0.45,
                },
                AffinityThreshold {
                    latency_minutes: 20,
                    writer_coverage: 0.4,
                    rater_affinity: 0.7,
                },
            ],
            affinity_min_denominator: 10,
            quasi: QuasiCliqueParams::default(),
        }
    }
}

impl Default for QuasiCliqueParams {
    fn default() -> Self {
        QuasiCliqueParams {
            recency_cutoff_millis: 13 * 7 * 24 * 60 * MINUTE_MILLIS,
            note_inclusion_threshold: 0.25,
            rater_inclusion_threshold: 0.25,
            min_clique_tweets: 25,
            min_clique_raters: 5,
            max_clique_size: 2000,
            min_inclusion_ratings: 4,
            min_rater_pair_count: 50,
            min_aligned_ratings: 5,
        }
    }
}

/// Both clique assignments, one entry per participant.
///
/// A rater in several quasi-cliques (growth does not exclude raters of earlier cliques) gets
/// the largest id, the last row the reference writes for them; downstream only
/// `quasiCliqueValue >= 1` matters.
pub fn detect_cliques(community: &Community, params: &PssParams) -> Cliques {
    let n = community.participants.len();
    let mut quasi_clique = vec![None; n];
    for (i, members) in quasi_cliques(community, &params.quasi).iter().enumerate() {
        for &u in members {
            quasi_clique[u as usize] = Some(i as i64 + 1);
        }
    }
    Cliques {
        post_selection: post_selection_cliques(community, params),
        quasi_clique,
    }
}

/// Post-selection-similarity clique per participant: suspect pairs (author–rater affinity
/// or coverage, co-rating NPMI or rating proportion) merged into connected components.
/// Components are numbered from 1 in order of their smallest participant index (the
/// reference's numbering follows Python set order and is arbitrary).
pub fn post_selection_cliques(community: &Community, params: &PssParams) -> Vec<Option<i64>> {
    let n = community.participants.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    let mut member = vec![false; n];
    for (a, b) in suspect_pairs(community, params) {
        member[a as usize] = true;
        member[b as usize] = true;
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        // The smaller index becomes the root, so a root is its component's smallest member.
        if ra < rb {
            parent[rb as usize] = ra;
        } else if rb < ra {
            parent[ra as usize] = rb;
        }
    }
    let mut ids: Vec<Option<i64>> = vec![None; n];
    let mut next = 1;
    let mut out = vec![None; n];
    for u in 0..n as u32 {
        if !member[u as usize] {
            continue;
        }
        let root = find(&mut parent, u) as usize;
        let id = *ids[root].get_or_insert_with(|| {
            next += 1;
            next - 1
        });
        out[u as usize] = Some(id);
    }
    out
}

/// All suspect pairs `(smaller, larger)` participant index, sorted, without repeats. A
/// pair may be `(u, u)` when an author rated their own note; `u` then forms a clique alone
/// unless joined by other pairs (as in the reference).
pub fn suspect_pairs(community: &Community, params: &PssParams) -> Vec<(u32, u32)> {
    let mut pairs = affinity_pairs(community, params);
    pairs.extend(similarity_pairs(community, params));
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Removes repeats from the sorted `values[from..]`; returns the new length.
fn dedup_tail<T: PartialEq + Copy>(values: &mut [T], from: usize) -> usize {
    let mut kept = from;
    for i in from..values.len() {
        if kept == from || values[kept - 1] != values[i] {
            values[kept] = values[i];
            kept += 1;
        }
    }
    kept
}

fn pack(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

fn unpack(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// Author–rater pairs whose writer coverage or rater affinity over helpful ratings made
/// within 1, 5 or 20 minutes of note creation reaches its threshold.
fn affinity_pairs(community: &Community, params: &PssParams) -> Vec<(u32, u32)> {
    let n = community.participants.len();
    let mut writer_total = vec![0usize; n];
    for note in community.notes.iter().filter(|n| n.tweet_id.is_some()) {
        writer_total[note.author as usize] += 1;
    }
    let r = &community.ratings;
    let latencies = &params.affinity_latencies;
    let Some(longest) = latencies.iter().map(|l| l.latency_minutes).max() else {
        return Vec::new();
    };
    assert!(latencies.len() <= 32, "at most 32 affinity latencies");
    // Per in-window rating: (author, rater) and which latencies it falls within; per rater
    // the in-window rating count per latency.
    let mut windowed: Vec<(u64, u32)> = Vec::new();
    let mut rater_totals = vec![vec![0usize; n]; latencies.len()];
    for k in 0..r.len() {
        if r.level[k] != Some(HelpfulnessLevel::Helpful) {
            continue;
        }
        let note = &community.notes[r.note[k] as usize];
        if note.tweet_id.is_none() {
            continue;
        }
        let latency = r.created_at_millis[k] - note.created_at_millis;
        if latency > longest * MINUTE_MILLIS {
            continue;
        }
        let rater = r.rater[k];
        let mut within = 0u32;
        for (l, threshold) in latencies.iter().enumerate() {
            if latency <= threshold.latency_minutes * MINUTE_MILLIS {
                within |= 1 << l;
                rater_totals[l][rater as usize] += 1;
            }
        }
        windowed.push((pack(note.author, rater), within));
    }
    windowed.sort_unstable();
    let min_denominator = params.affinity_min_denominator;
    let mut out = Vec::new();
    let mut counts = vec![0usize; latencies.len()];
    for group in windowed.chunk_by(|a, b| a.0 == b.0) {
        counts.iter_mut().for_each(|c| *c = 0);
        for &(_, within) in group {
            for (l, count) in counts.iter_mut().enumerate() {
                *count += (within >> l & 1) as usize;
            }
        }
        let key = group[0].0;
        let (author, rater) = unpack(key);
        let writer = writer_total[author as usize];
        let suspect = latencies.iter().enumerate().any(|(l, threshold)| {
            let pair = counts[l];
            // A pair with no rating at this latency has no value there (a missing merge row).
            if pair == 0 {
                return false;
            }
            let rater_total = rater_totals[l][rater as usize];
            let coverage = writer >= min_denominator
                && pair as f64 / writer as f64 >= threshold.writer_coverage;
            let affinity = rater_total >= min_denominator
                && pair as f64 / rater_total as f64 >= threshold.rater_affinity;
            coverage || affinity
        });
        if suspect {
            out.push((author.min(rater), author.max(rater)));
        }
    }
    out.sort_unstable();
    out
}

/// Rater pairs who co-rate notes of the same post within the window often enough: smoothed
/// NPMI or the minimum rating proportion reaches its threshold.
fn similarity_pairs(community: &Community, params: &PssParams) -> Vec<(u32, u32)> {
    let r = &community.ratings;
    // Notes on real posts, grouped by post.
    let mut post_notes: Vec<(i64, u32)> = community
        .notes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.tweet_id.filter(|&t| t != -1).map(|t| (t, i as u32)))
        .collect();
    post_notes.sort_unstable();
    // Each note's ratings, by time (CSR over notes).
    let mut offsets = vec![0usize; community.notes.len() + 1];
    for &note in &r.note {
        offsets[note as usize + 1] += 1;
    }
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    let mut fill = offsets.clone();
    let mut by_note = vec![0u32; r.len()];
    for (k, &note) in r.note.iter().enumerate() {
        by_note[fill[note as usize]] = k as u32;
        fill[note as usize] += 1;
    }
    let by_note: Vec<(i64, u32)> = {
        let mut rows: Vec<(i64, u32)> = by_note
            .iter()
            .map(|&k| (r.created_at_millis[k as usize], r.rater[k as usize]))
            .collect();
        for note in 0..community.notes.len() {
            rows[offsets[note]..offsets[note + 1]].sort_unstable();
        }
        rows
    };
    let posts: Vec<&[(i64, u32)]> = post_notes.chunk_by(|a, b| a.0 == b.0).collect();

    // Per post: the rater pairs who co-rated one of its notes within the window, and its
    // raters. Posts are processed in parallel in fixed chunks; integer counts are merged
    // afterwards, so the result does not depend on the thread count.
    let post_work = |post: &[(i64, u32)], pairs: &mut Vec<u64>, raters: &mut Vec<u32>| {
        let start_pairs = pairs.len();
        let start_raters = raters.len();
        for &(_, note) in post {
            let rows = &by_note[offsets[note as usize]..offsets[note as usize + 1]];
            let mut start = 0;
            for (i, &(time, a)) in rows.iter().enumerate() {
                while time - rows[start].0 > params.window_millis {
                    start += 1;
                }
                for &(_, b) in &rows[start..i] {
                    if a != b {
                        pairs.push(pack(a.min(b), a.max(b)));
                    }
                }
                raters.push(a);
            }
        }
        pairs[start_pairs..].sort_unstable();
        let kept = dedup_tail(pairs, start_pairs);
        pairs.truncate(kept);
        raters[start_raters..].sort_unstable();
        let kept = dedup_tail(raters, start_raters);
        raters.truncate(kept);
    };
    const POSTS_PER_TASK: usize = 256;
    const TASKS_PER_BATCH: usize = 64;
    let mut pair_counts: FxHashMap<u64, u32> = FxHashMap::default();
    let mut posts_per_rater = vec![0usize; community.participants.len()];
    let mut unique_ratings_on_posts = 0usize;
    for batch in posts.chunks(POSTS_PER_TASK * TASKS_PER_BATCH) {
        let results: Vec<(Vec<u64>, Vec<u32>)> = batch
            .par_chunks(POSTS_PER_TASK)
            .map(|task| {
                let (mut pairs, mut raters) = (Vec::new(), Vec::new());
                for post in task {
                    post_work(post, &mut pairs, &mut raters);
                }
                (pairs, raters)
            })
            .collect();
        for (pairs, raters) in results {
            for pair in pairs {
                *pair_counts.entry(pair).or_insert(0) += 1;
            }
            unique_ratings_on_posts += raters.len();
            for u in raters {
                posts_per_rater[u as usize] += 1;
            }
        }
    }
    let total =
        |u: u32| Some(posts_per_rater[u as usize]).filter(|&t| t >= params.min_unique_posts);
    let n_total = unique_ratings_on_posts as f64;
    let mut out: Vec<(u32, u32)> = pair_counts
        .iter()
        .filter_map(|(&key, &co)| {
            let (a, b) = unpack(key);
            let (left, right) = (total(a)? as f64, total(b)? as f64);
            let co = f64::from(co);
            let pmi = (co * n_total
                / ((left + params.pmi_regularization) * (right + params.pmi_regularization)))
                .ln();
            let npmi = pmi / -(co / n_total).ln();
            let proportion = co / (left.min(right) + params.min_sim_pseudocounts);
            (npmi >= params.smoothed_npmi_threshold
                || proportion >= params.minimum_rating_proportion_threshold)
                .then_some((a, b))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Quasi-cliques, in the reference's id order (clique `i` has id `i + 1`): smallest first,
/// ties in order of discovery. Each is a sorted list of participant indices.
///
/// Where the reference's order is arbitrary (pandas' unstable `sort_values`), this picks:
/// seed pairs by aligned-post count, then smaller left rater, then smaller right rater;
/// growth candidates by aligned-post count, then smaller participant index.
///
/// Two reference crashes become ordinary results: with no pair of at least
/// `min_aligned_ratings` aligned posts the reference fails in `_get_pair_counts`; here
/// there are no quasi-cliques. When no outside rater shares a group rating, the reference
/// fails picking a candidate; here growth stops with the raters included so far.
pub fn quasi_cliques(community: &Community, params: &QuasiCliqueParams) -> Vec<Vec<u32>> {
    let r = &community.ratings;
    let in_notes_file = |k: usize| community.notes[r.note[k] as usize].tweet_id.is_some();
    let Some(newest) = (0..r.len())
        .filter(|&k| in_notes_file(k))
        .map(|k| community.notes[r.note[k] as usize].created_at_millis)
        .max()
    else {
        return Vec::new();
    };
    let cutoff = newest - params.recency_cutoff_millis;
    // (tweet, note, helpfulNum code, rater) of recent ratings of misleading notes on posts.
    let mut rows: Vec<(i64, u32, u8, u32)> = (0..r.len())
        .filter_map(|k| {
            let note = &community.notes[r.note[k] as usize];
            let tweet = note.tweet_id?;
            let keep = note.created_at_millis > cutoff
                && tweet != -1
                && note.classification == Some(Classification::MisinformedOrPotentiallyMisleading);
            let helpful = (r.helpful_num[k] * 2.0).round() as u8;
            keep.then_some((tweet, r.note[k], helpful, r.rater[k]))
        })
        .collect();
    rows.sort_unstable();

    // Aligned posts per rater pair: posts on which both gave one note the same rating.
    let mut counts = aligned_pair_counts(
        &rows,
        community.participants.len(),
        params.min_aligned_ratings,
        PAIRS_PER_PASS,
    );
    if counts.is_empty() {
        return Vec::new();
    }
    let mut paired: Vec<u32> = counts.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    paired.sort_unstable();
    paired.dedup();
    let paired: FxHashSet<u32> = paired.into_iter().collect();
    rows.retain(|row| paired.contains(&row.3));
    let index = RatingIndex::new(&rows, community.participants.len());

    counts.retain(|&(_, _, count)| count > params.min_rater_pair_count);
    counts.sort_unstable_by_key(|&(a, b, count)| (std::cmp::Reverse(count), a, b));
    let mut cliques = Vec::new();
    while let Some(&(a, b, _)) = counts.first() {
        let members = grow_clique(vec![a.min(b), a.max(b)], &index, params);
        let set: FxHashSet<u32> = members.iter().copied().collect();
        counts.retain(|&(a, b, _)| !set.contains(&a) && !set.contains(&b));
        if members.len() >= params.min_clique_raters {
            cliques.push(members);
        }
    }
    cliques.sort_by_key(|c| c.len());
    cliques
}

/// Pair occurrences [`aligned_pair_counts`] holds at once: 16 Mi of 8 bytes, 128 MiB. A
/// pass costs one walk over the rows besides its pairs, so smaller passes cost little.
const PAIRS_PER_PASS: usize = 16 << 20;

/// Rater pairs `(a, b)`, `a < b`, that gave one note of a post the same rating, with the
/// number of posts on which they did; only pairs counted on at least `min_posts` posts, in
/// increasing `(a, b)`. `rows` are `(post, note, rating, rater)` sorted, with no rater twice
/// in a `(post, note, rating)` group; raters are below `raters`.
///
/// The number of pairs grows with the square of the ratings a note gets, far beyond the
/// ratings themselves on large data, so they are never all held at once: the raters are cut
/// into ranges whose pairs (as the smaller rater) number at most about `pairs_per_pass`,
/// and each range is one pass over the rows that collects its pairs once per post, then
/// sorts them (in parallel) and counts the runs. Memory is bounded by `pairs_per_pass` plus
/// the rows (a rater with more pairs than that gets a pass of its own).
fn aligned_pair_counts(
    rows: &[(i64, u32, u8, u32)],
    raters: usize,
    min_posts: u32,
    pairs_per_pass: usize,
) -> Vec<(u32, u32, u32)> {
    let groups = || rows.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2));
    // Pairs per smaller rater (before removing repeats within a post).
    let mut pairs_of = vec![0usize; raters];
    for group in groups() {
        for (i, row) in group.iter().enumerate() {
            pairs_of[row.3 as usize] += group.len() - 1 - i;
        }
    }
    let mut counts = Vec::new();
    let mut pairs: Vec<u64> = Vec::new();
    let mut lo = 0usize;
    while lo < raters {
        let mut hi = lo;
        let mut in_pass = 0usize;
        while hi < raters && (hi == lo || in_pass + pairs_of[hi] <= pairs_per_pass) {
            in_pass += pairs_of[hi];
            hi += 1;
        }
        if in_pass > 0 {
            let range = lo as u32..hi as u32;
            pairs.clear();
            // `in_pass` bounds the pass's pairs: room for them at once, rather than the
            // doubling growth that can reach twice the bound and copy on the way.
            pairs.reserve_exact(in_pass);
            for post in rows.chunk_by(|a, b| a.0 == b.0) {
                let start = pairs.len();
                for group in post.chunk_by(|a, b| (a.1, a.2) == (b.1, b.2)) {
                    for (i, row) in group.iter().enumerate() {
                        if range.contains(&row.3) {
                            pairs.extend(group[i + 1..].iter().map(|b| pack(row.3, b.3)));
                        }
                    }
                }
                pairs[start..].sort_unstable();
                let kept = dedup_tail(&mut pairs, start);
                pairs.truncate(kept);
            }
            pairs.par_sort_unstable();
            for run in pairs.chunk_by(|a, b| a == b) {
                let posts = u32::try_from(run.len()).unwrap_or(u32::MAX);
                if posts >= min_posts {
                    let (a, b) = unpack(run[0]);
                    counts.push((a, b, posts));
                }
            }
        }
        lo = hi;
    }
    counts
}

/// The candidate raters' ratings, as group-rating keys (a note and a helpfulNum value).
struct RatingIndex {
    /// Post of each key.
    key_tweet: Vec<i64>,
    /// Raters of each key, ascending.
    key_raters: Vec<Vec<u32>>,
    /// Keys of each participant, ascending.
    rater_keys: Vec<Vec<u32>>,
}

impl RatingIndex {
    fn new(rows: &[(i64, u32, u8, u32)], participants: usize) -> RatingIndex {
        let mut index = RatingIndex {
            key_tweet: Vec::new(),
            key_raters: Vec::new(),
            rater_keys: vec![Vec::new(); participants],
        };
        for group in rows.chunk_by(|a, b| (a.1, a.2) == (b.1, b.2)) {
            let key = index.key_tweet.len() as u32;
            index.key_tweet.push(group[0].0);
            let mut raters: Vec<u32> = group.iter().map(|row| row.3).collect();
            raters.sort_unstable();
            raters.dedup();
            for &u in &raters {
                index.rater_keys[u as usize].push(key);
            }
            index.key_raters.push(raters);
        }
        index
    }

    /// Keys enough of `members` share to count as group actions, ascending.
    fn group_keys(&self, members: &[u32], params: &QuasiCliqueParams) -> Vec<u32> {
        let mut count: FxHashMap<u32, usize> = FxHashMap::default();
        for &u in members {
            for &key in &self.rater_keys[u as usize] {
                *count.entry(key).or_insert(0) += 1;
            }
        }
        let n = members.len();
        let floor = n.min(params.min_inclusion_ratings);
        let mut keys: Vec<u32> = count
            .into_iter()
            .filter(|&(_, c)| c as f64 >= n as f64 * params.note_inclusion_threshold && c >= floor)
            .map(|(key, _)| key)
            .collect();
        keys.sort_unstable();
        keys
    }

    fn distinct_tweets(&self, keys: impl Iterator<Item = u32>) -> usize {
        let mut tweets: Vec<i64> = keys.map(|k| self.key_tweet[k as usize]).collect();
        tweets.sort_unstable();
        tweets.dedup();
        tweets.len()
    }
}

/// Greedily adds the outside rater sharing the most group-action posts while the clique
/// keeps enough posts and every member rating enough of them. `members` stays sorted.
fn grow_clique(mut members: Vec<u32>, index: &RatingIndex, params: &QuasiCliqueParams) -> Vec<u32> {
    for _ in 0..params.max_clique_size {
        let keys = index.group_keys(&members, params);
        // Distinct (rater, post) among outsiders' ratings that match group actions.
        let mut aligned: Vec<(u32, i64)> = Vec::new();
        for &key in &keys {
            let tweet = index.key_tweet[key as usize];
            for &u in &index.key_raters[key as usize] {
                if members.binary_search(&u).is_err() {
                    aligned.push((u, tweet));
                }
            }
        }
        aligned.sort_unstable();
        aligned.dedup();
        let mut candidate: Option<(usize, u32)> = None;
        for group in aligned.chunk_by(|a, b| a.0 == b.0) {
            if candidate.is_none_or(|(best, _)| group.len() > best) {
                candidate = Some((group.len(), group[0].0));
            }
        }
        let Some((_, candidate)) = candidate else {
            return members;
        };
        let mut grown = members.clone();
        let at = grown.binary_search(&candidate).unwrap_err();
        grown.insert(at, candidate);
        let keys = index.group_keys(&grown, params);
        let satisfied = index.distinct_tweets(keys.iter().copied());
        let below = grown
            .iter()
            .filter(|&&u| {
                let own = index.rater_keys[u as usize]
                    .iter()
                    .copied()
                    .filter(|k| keys.binary_search(k).is_ok());
                let posts = index.distinct_tweets(own);
                // Members matching no group action are absent from the reference's counts.
                posts > 0 && (posts as f64) < params.rater_inclusion_threshold * satisfied as f64
            })
            .count();
        if satisfied >= params.min_clique_tweets && below == 0 {
            members = grown;
        } else {
            return members;
        }
    }
    members
}

#[cfg(test)]
mod tests;
