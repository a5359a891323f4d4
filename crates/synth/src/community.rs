//! The latent community: raters, posts and notes with their hidden variables.

use rayon::prelude::*;

use crate::ValidSynthParams;
use crate::rng::{Alias, Rand, key, mix, stream};

/// Twitter's snowflake epoch (2010-11-04), in Unix milliseconds.
pub(crate) const TWEPOCH: i64 = 1_288_834_974_657;
pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;
/// How far before the window posts may start (their notes come later).
pub(crate) const POST_LEAD: i64 = DAY;
/// Posts per note.
const POSTS_PER_NOTE: f64 = 0.55;

/// Coefficients of the helpfulness model (see [`crate::MODEL`]).
pub(crate) const QUALITY_WEIGHT: f64 = 1.5;
pub(crate) const POLARIZATION_WEIGHT: f64 = 2.0;
/// Half-width of the latent band rated SOMEWHAT_HELPFUL.
pub(crate) const SOMEWHAT_BAND: f64 = 0.2;

/// Which side of the 1-D opinion space a rater is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Camp {
    Left,
    Center,
    Right,
}

impl Camp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Camp::Left => "left",
            Camp::Center => "center",
            Camp::Right => "right",
        }
    }
}

/// A rater (and possible note author) with their hidden variables: one cache line, since
/// ratings read raters at random.
#[repr(align(64))]
pub(crate) struct Rater {
    /// The 256-bit participant id (printed as 64 uppercase hex digits).
    pub id: [u64; 4],
    pub viewpoint: f32,
    pub leniency: f32,
    /// Relative rating activity (heavy-tailed).
    pub activity: f32,
    pub modeling_group: u8,
    pub camp: Camp,
}

/// A post (tweet) that notes are written on.
pub(crate) struct Post {
    pub created_at_millis: i64,
    pub tweet_id: i64,
    /// Relative chance of attracting notes.
    pub virality: f32,
    /// Latent truth: whether the post is misleading.
    pub misleading: bool,
}

/// Bits of [`NoteLatent::flags`].
pub(crate) mod note_flag {
    pub const MISLEADING: u8 = 1;
    pub const DELETED: u8 = 2;
    pub const MEDIA: u8 = 4;
    pub const COLLABORATIVE: u8 = 8;
}

/// A note with its hidden variables, in note-id (creation) order.
pub(crate) struct NoteLatent {
    pub created_at_millis: i64,
    pub note_id: i64,
    pub post: u32,
    pub author: u32,
    pub quality: f32,
    pub slant: f32,
    /// Ratings the note gets.
    pub ratings: u32,
    pub topic: u8,
    pub flags: u8,
}

impl NoteLatent {
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The whole latent community.
pub(crate) struct World {
    pub seed: u64,
    pub epoch_millis: i64,
    pub window_start_millis: i64,
    pub raters: Vec<Rater>,
    pub posts: Vec<Post>,
    pub notes: Vec<NoteLatent>,
    /// Draws raters in proportion to their activity.
    pub activity: Alias,
}

/// Modeling groups by position in the opinion space (left to right), after the public
/// data's habit of a large central group 13 and many smaller ones.
const LEFT_GROUPS: [u8; 6] = [1, 2, 3, 4, 5, 6];
const RIGHT_GROUPS: [u8; 6] = [7, 8, 9, 10, 11, 14];

fn modeling_group(rng: &mut Rand, viewpoint: f64) -> u8 {
    if rng.chance(0.06) {
        return 15 + rng.below(19) as u8; // small groups 15..=33
    }
    let distance = viewpoint.abs();
    if distance < 0.45 {
        return if rng.chance(0.85) { 13 } else { 0 };
    }
    let band = (((distance - 0.45) / 0.2) as usize).min(5);
    if viewpoint < 0.0 {
        LEFT_GROUPS[band]
    } else {
        RIGHT_GROUPS[band]
    }
}

/// Whether participants of this modeling group also belong to a multi-group model.
pub(crate) fn multi_group(group: u8) -> u8 {
    u8::from(matches!(group, 4..=7 | 12))
}

fn rater(seed: u64, index: usize) -> Rater {
    let mut rng = Rand::new(seed, stream::RATER, index as u64);
    let u = rng.f64();
    let (camp, viewpoint) = if u < 0.2 {
        (Camp::Center, rng.gauss(0.0, 0.2))
    } else if u < 0.6 {
        (Camp::Left, rng.gauss(-1.0, 0.3))
    } else {
        (Camp::Right, rng.gauss(1.0, 0.3))
    };
    let leniency = rng.gauss(0.0, 0.3);
    let activity = rng.gauss(0.0, 1.3).exp();
    let modeling_group = modeling_group(&mut rng, viewpoint);
    // The first word is a bijection of the index, so ids never collide.
    let k = key(seed, stream::RATER_ID);
    let w0 = mix(index as u64 ^ k);
    let id = [
        w0,
        mix(w0 ^ k.rotate_left(17) ^ 1),
        mix(w0 ^ k.rotate_left(31) ^ 2),
        mix(w0 ^ k.rotate_left(47) ^ 3),
    ];
    Rater {
        id,
        viewpoint: viewpoint as f32,
        leniency: leniency as f32,
        activity: activity as f32,
        modeling_group,
        camp,
    }
}

/// Appends a participant id as 64 uppercase hex digits.
pub(crate) fn push_participant_id(out: &mut String, id: &[u64; 4]) {
    let buf = participant_id_bytes(id);
    out.push_str(std::str::from_utf8(&buf).expect("hex digits are ASCII"));
}

/// Pairs of uppercase hex digits for every byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xF]];
        i += 1;
    }
    table
};

/// A participant id as 64 uppercase hex digits (ASCII bytes).
#[inline]
pub(crate) fn participant_id_bytes(id: &[u64; 4]) -> [u8; 64] {
    let mut buf = [0u8; 64];
    for (w, word) in id.iter().enumerate() {
        for (b, byte) in word.to_be_bytes().iter().enumerate() {
            let at = w * 16 + b * 2;
            buf[at..at + 2].copy_from_slice(&HEX_PAIRS[*byte as usize]);
        }
    }
    buf
}

/// The participant id as a `String`.
pub(crate) fn participant_id(id: &[u64; 4]) -> String {
    let mut s = String::with_capacity(64);
    push_participant_id(&mut s, id);
    s
}

/// A snowflake id for `millis` with the given low 22 bits.
pub(crate) fn snowflake(millis: i64, low: u64) -> i64 {
    ((millis - TWEPOCH) << 22) | (low & 0x3F_FFFF) as i64
}

/// Assigns strictly increasing snowflake ids to (time, draw index, id slot) in ascending
/// time order; the low bits are a hash of the draw index.
fn assign_ids<'a>(items: impl Iterator<Item = (i64, u64, &'a mut i64)>, key: u64) {
    let mut previous = i64::MIN;
    for (millis, index, slot) in items {
        let id = snowflake(millis, mix(index ^ key)).max(previous + 1);
        *slot = id;
        previous = id;
    }
}

/// Topics for note text; the index is the note's `topic`.
pub(crate) const TOPICS: [&str; 24] = [
    "election results",
    "mail-in voting",
    "border crossings",
    "asylum claims",
    "vaccine trial",
    "hospital capacity",
    "wildfire",
    "sea level",
    "heatwave",
    "inflation",
    "unemployment rate",
    "gas prices",
    "crime statistics",
    "police report",
    "tax bill",
    "minimum wage",
    "school funding",
    "housing costs",
    "ceasefire talks",
    "military aid",
    "satellite images",
    "celebrity quote",
    "product recall",
    "investment scam",
];

/// Splits `total` into one count per weight, each between 1 and `cap`, in proportion to the
/// weights beyond the one every item gets. Exact when `total <= cap * weights.len()`.
fn share_out(total: u64, weights: &[f64], cap: u64) -> Vec<u64> {
    let mut counts = vec![1u64; weights.len()];
    let mut left = total - weights.len() as u64;
    // Each pass shares what is left by cumulative weight among items below the cap (exact
    // before capping); capping makes at least one item full, so passes are few. Whatever
    // remains after a few passes goes round-robin.
    for _ in 0..8 {
        if left == 0 {
            break;
        }
        let room: f64 = weights
            .iter()
            .zip(&counts)
            .filter(|(_, c)| **c < cap)
            .map(|(w, _)| w)
            .sum();
        if room <= 0.0 {
            break;
        }
        let mut cumulative = 0.0;
        let mut given = 0u64;
        let mut added = 0u64;
        for (w, c) in weights.iter().zip(counts.iter_mut()) {
            if *c >= cap {
                continue;
            }
            cumulative += w;
            let upto = ((left as f64 * cumulative / room).floor() as u64).min(left);
            let extra = (upto - given).min(cap - *c);
            given = upto;
            *c += extra;
            added += extra;
        }
        left -= added;
    }
    while left > 0 {
        let before = left;
        for c in counts.iter_mut() {
            if left > 0 && *c < cap {
                *c += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    counts
}

impl World {
    /// Draws the community. Deterministic in the parameters, whatever the thread count.
    pub(crate) fn build(params: &ValidSynthParams) -> World {
        let p = params.params();
        let seed = p.seed;
        let epoch = p.epoch_millis;
        let window_start = epoch - params.window_millis();

        let mut raters: Vec<Rater> = (0..p.raters)
            .into_par_iter()
            .map(|i| rater(seed, i))
            .collect();
        // Most active first: ratings read raters at random, and this keeps the ones read
        // most often together in cache. (The first id word is unique: a total order.)
        raters.par_sort_unstable_by(|a, b| {
            b.activity
                .total_cmp(&a.activity)
                .then(a.id[0].cmp(&b.id[0]))
        });
        let activity_weights: Vec<f64> = raters.iter().map(|r| f64::from(r.activity)).collect();
        let activity = Alias::new(&activity_weights);
        drop(activity_weights);

        // Posts, in time order with increasing ids. (Until the ids are set, `tweet_id`
        // holds the draw index: a unique tie-break, so an unstable sort is deterministic.)
        let post_count = ((p.notes as f64 * POSTS_PER_NOTE).round() as usize).max(1);
        let post_latest = epoch - 2 * HOUR;
        let post_span = (post_latest - (window_start - POST_LEAD)) as u64;
        let mut posts: Vec<Post> = (0..post_count)
            .into_par_iter()
            .map(|i| {
                let mut rng = Rand::new(seed, stream::POST, i as u64);
                Post {
                    created_at_millis: window_start - POST_LEAD + rng.below(post_span) as i64,
                    tweet_id: i as i64,
                    virality: rng.gauss(0.0, 1.0).exp() as f32,
                    misleading: rng.chance(0.7),
                }
            })
            .collect();
        posts.par_sort_unstable_by_key(|post| (post.created_at_millis, post.tweet_id));
        let post_key = key(seed, stream::POST_ID);
        assign_ids(
            posts.iter_mut().map(|post| {
                (
                    post.created_at_millis,
                    post.tweet_id as u64,
                    &mut post.tweet_id,
                )
            }),
            post_key,
        );
        let virality: Vec<f64> = posts.iter().map(|p| f64::from(p.virality)).collect();
        let post_alias = Alias::new(&virality);
        drop(virality);

        // Notes, drawn independently, then put in time order. (Until the counts are set,
        // `ratings` holds the draw index, the tie-break of the sort.)
        let latest_note = epoch - MINUTE;
        let previous_run = epoch - HOUR;
        let mut notes: Vec<NoteLatent> = (0..p.notes)
            .into_par_iter()
            .map(|j| {
                let mut rng = Rand::new(seed, stream::NOTE, j as u64);
                let post_index = post_alias.sample(&mut rng);
                let post = &posts[post_index];
                let mut author = activity.sample(&mut rng);
                if rng.chance(0.3) {
                    // Writers are less concentrated than raters.
                    author = rng.below(raters.len() as u64) as usize;
                }
                let delay = MINUTE + rng.exp(8.0 * HOUR as f64) as i64;
                let mut created = post.created_at_millis + delay;
                if created > latest_note {
                    let room = (latest_note - post.created_at_millis).max(1) as u64;
                    created = post.created_at_millis + rng.below(room) as i64;
                }
                if created < window_start {
                    created = window_start + rng.below((6 * HOUR) as u64) as i64;
                }
                let misleading = rng.chance(if post.misleading { 0.85 } else { 0.35 });
                let right_call = misleading == post.misleading;
                let quality = rng.normal() + if right_call { 0.3 } else { -0.6 };
                let viewpoint = f64::from(raters[author].viewpoint);
                let slant = (-0.6 * viewpoint + rng.gauss(0.0, 0.3)).clamp(-1.0, 1.0);
                let mut flags = 0;
                if misleading {
                    flags |= note_flag::MISLEADING;
                }
                // A note written since the last scoring run is too new to be deleted.
                if rng.chance(0.01) && created < previous_run {
                    flags |= note_flag::DELETED;
                }
                if rng.chance(0.05) {
                    flags |= note_flag::MEDIA;
                }
                if rng.chance(0.015) {
                    flags |= note_flag::COLLABORATIVE;
                }
                NoteLatent {
                    created_at_millis: created,
                    note_id: 0,
                    post: post_index as u32,
                    author: author as u32,
                    quality: quality as f32,
                    slant: slant as f32,
                    ratings: j as u32,
                    topic: rng.below(TOPICS.len() as u64) as u8,
                    flags,
                }
            })
            .collect();
        notes.par_sort_unstable_by_key(|note| (note.created_at_millis, note.ratings));
        let note_key = key(seed, stream::NOTE_ID);
        assign_ids(
            notes
                .iter_mut()
                .map(|n| (n.created_at_millis, u64::from(n.ratings), &mut n.note_id)),
            note_key,
        );

        // Rating counts: heavy-tailed weights, fewer for young notes; every note gets one,
        // the rest is shared out exactly by cumulative weight.
        let weights: Vec<f64> = notes
            .par_iter()
            .map(|n| {
                let mut rng = Rand::new(seed, stream::NOTE_WEIGHT, u64::from(n.ratings));
                let age_hours = (epoch - n.created_at_millis) as f64 / HOUR as f64;
                rng.gauss(0.0, 0.9).exp() * (0.15 + 0.85 * (age_hours / 72.0).min(1.0))
            })
            .collect();
        let counts = share_out(p.ratings as u64, &weights, (p.raters - 1) as u64);
        drop(weights);
        for (note, count) in notes.iter_mut().zip(counts) {
            note.ratings = count as u32;
        }

        World {
            seed,
            epoch_millis: epoch,
            window_start_millis: window_start,
            raters,
            posts,
            notes,
            activity,
        }
    }

    /// The time of the previous scoring run (statuses are from then).
    pub(crate) fn previous_run_millis(&self) -> i64 {
        self.epoch_millis - HOUR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_ids_are_64_uppercase_hex_digits() {
        let r = rater(5, 17);
        let id = participant_id(&r.id);
        assert_eq!(id.len(), 64);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn shares_are_exact_and_capped() {
        let weights = [5.0, 0.1, 1.0, 3.0, 0.01];
        for (total, cap) in [(5, 10), (17, 10), (40, 10), (30, 7), (23, 100)] {
            let counts = share_out(total, &weights, cap);
            assert_eq!(counts.iter().sum::<u64>(), total, "{total} {cap}");
            assert!(counts.iter().all(|&c| (1..=cap).contains(&c)), "{counts:?}");
        }
        let counts = share_out(1000, &weights, 1000);
        assert!(counts[0] > counts[3] && counts[3] > counts[2] && counts[2] > counts[1]);
    }

    #[test]
    fn snowflakes_have_19_digits_in_this_era() {
        let id = snowflake(1_795_132_800_000, 123);
        assert_eq!(id.to_string().len(), 19);
        assert!(snowflake(1_795_132_800_001, 0) > id);
    }
}
