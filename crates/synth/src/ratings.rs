//! Ratings: drawn note by note from each note's own generator and formatted in chunks.

use std::ops::Range;

use bridgenotes_engine::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};

const _: () = assert!(NOT_HELPFUL_TAGS.len() == NOT_HELPFUL_TAG_WEIGHTS.len());
use bridgenotes_engine::{HelpfulnessLevel, RatingSource};

use crate::community::{
    DAY, HOUR, NoteLatent, POLARIZATION_WEIGHT, QUALITY_WEIGHT, SOMEWHAT_BAND, World, note_flag,
    participant_id_bytes, snowflake,
};
use crate::rng::{Rand, cumulative, stream};

/// Ratings per formatting chunk (chunks hold whole notes).
pub(crate) const CHUNK_RATINGS: u64 = 8_192;

/// Share of ratings solicited by population sampling.
const POPULATION_SAMPLED: f64 = 0.08;
/// Share of ratings carrying a written suggestion.
const SUGGESTION_RATE: f64 = 0.002;

const SUGGESTIONS: [&str; 5] = [
    "Add a link to the primary source.",
    "Shorten the first sentence.",
    "Mention when the video was first published.",
    "Use more neutral wording.",
    "Explain which figure is wrong.",
];

/// Relative frequencies of helpful tags, indexed like `HELPFUL_TAGS`.
const HELPFUL_TAG_WEIGHTS: [f64; 9] = [0.3, 1.5, 1.2, 0.4, 1.4, 0.8, 1.3, 1.0, 0.9];
/// Relative frequencies of not-helpful tags, indexed like `NOT_HELPFUL_TAGS`.
const NOT_HELPFUL_TAG_WEIGHTS: [f64; 13] = [
    0.4, 1.2, 1.2, 0.2, 1.0, 0.3, 0.5, 0.3, 0.4, 0.1, 0.4, 0.8, 0.9,
];
/// Extra weight on the bias tags when a rater disagrees with a note's slant.
const BIAS_TAGS: [usize; 2] = [3, 7];

/// Counts of one chunk.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RatingStats {
    pub ratings: u64,
    /// Indexed NOT_HELPFUL, SOMEWHAT_HELPFUL, HELPFUL.
    pub levels: [u64; 3],
    pub population_sampled: u64,
    pub suggestions: u64,
}

impl RatingStats {
    pub(crate) fn add(&mut self, other: &RatingStats) {
        self.ratings += other.ratings;
        for (a, b) in self.levels.iter_mut().zip(other.levels) {
            *a += b;
        }
        self.population_sampled += other.population_sampled;
        self.suggestions += other.suggestions;
    }
}

/// Splits the notes into ranges of about [`CHUNK_RATINGS`] ratings.
pub(crate) fn chunks(notes: &[NoteLatent]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut in_chunk = 0u64;
    for (i, note) in notes.iter().enumerate() {
        in_chunk += u64::from(note.ratings);
        if in_chunk >= CHUNK_RATINGS {
            ranges.push(start..i + 1);
            start = i + 1;
            in_chunk = 0;
        }
    }
    if start < notes.len() {
        ranges.push(start..notes.len());
    }
    ranges
}

/// One drawn rating, before formatting.
#[derive(Clone, Copy)]
struct Draw {
    created_at_millis: i64,
    rater: u32,
    level: HelpfulnessLevel,
    tags: u32,
    population_sampled: bool,
    suggestion: Option<(u8, i64)>,
}

/// Picks `count` distinct raters other than `author`, by activity where possible.
fn pick_raters(world: &World, rng: &mut Rand, author: u32, count: usize, scratch: &mut Scratch) {
    let Scratch {
        seen,
        raters: out,
        candidates,
        ..
    } = scratch;
    out.clear();
    let n = world.raters.len();
    let others = n - 1;
    if count * 2 > others {
        // Dense: a partial shuffle of everyone but the author.
        let mut all: Vec<u32> = (0..n as u32).filter(|&r| r != author).collect();
        for i in 0..count {
            let j = i + rng.below((others - i) as u64) as usize;
            all.swap(i, j);
        }
        out.extend_from_slice(&all[..count]);
        return;
    }
    seen.reset(count);
    // By activity, in rounds: a round draws all missing candidates first (independent
    // table reads, which the processor overlaps), then drops repeats. Heavy raters saturate
    // on popular notes, so after enough draws the rest are uniform (at most half of the
    // raters are taken, so that ends quickly).
    let mut budget = 8 * count + 32;
    while out.len() < count {
        let need = count - out.len();
        candidates.clear();
        if budget >= need {
            budget -= need;
            candidates.extend((0..need).map(|_| world.activity.sample(rng) as u32));
        } else {
            candidates.extend((0..need).map(|_| rng.below(n as u64) as u32));
        }
        for &r in candidates.iter() {
            if r != author && seen.insert(r) {
                out.push(r);
            }
        }
    }
}

/// A set of rater indices for one note: open addressing, reused from note to note.
#[derive(Default)]
pub(crate) struct RaterSet {
    slots: Vec<u32>,
    shift: u32,
}

impl RaterSet {
    const EMPTY: u32 = u32::MAX;

    /// Empties the set and sizes it for `count` members.
    fn reset(&mut self, count: usize) {
        let size = (2 * count).next_power_of_two().max(16);
        self.slots.clear();
        self.slots.resize(size, Self::EMPTY);
        self.shift = 64 - size.trailing_zeros();
    }

    /// Adds `r`; false if it was there already.
    #[inline]
    fn insert(&mut self, r: u32) -> bool {
        let mask = self.slots.len() - 1;
        let mut at = (u64::from(r).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            let slot = self.slots[at];
            if slot == r {
                return false;
            }
            if slot == Self::EMPTY {
                self.slots[at] = r;
                return true;
            }
            at = (at + 1) & mask;
        }
    }
}

/// Draws `count` distinct tags from cumulative weights; returns their bits shifted by
/// `offset`.
fn draw_tags(rng: &mut Rand, cumulative: &[f64], count: usize, offset: u32) -> u32 {
    let mut bits = 0u32;
    let mut got = 0;
    while got < count {
        let bit = 1u32 << (offset + rng.pick_cumulative(cumulative) as u32);
        if bits & bit == 0 {
            bits |= bit;
            got += 1;
        }
    }
    bits
}

/// Cumulative tag weights, computed once.
pub(crate) struct TagTables {
    helpful: [f64; 9],
    /// Indexed by [note is misleading][rater disagrees with the slant].
    not_helpful: [[[f64; 13]; 2]; 2],
}

impl TagTables {
    pub(crate) fn new() -> TagTables {
        let variant = |misleading: bool, biased: bool| {
            let mut w = NOT_HELPFUL_TAG_WEIGHTS;
            if !misleading {
                w[12] += 1.0; // notHelpfulNoteNotNeeded
            }
            if biased {
                for t in BIAS_TAGS {
                    w[t] += 1.5;
                }
            }
            cumulative(&w)
        };
        TagTables {
            helpful: cumulative(&HELPFUL_TAG_WEIGHTS),
            not_helpful: [
                [variant(false, false), variant(false, true)],
                [variant(true, false), variant(true, true)],
            ],
        }
    }
}

/// When a note made at `created` is rated: soon after, with a long tail.
fn rating_time(world: &World, rng: &mut Rand, created: i64) -> i64 {
    let latest = world.epoch_millis - 1_000;
    let mean = if rng.chance(0.7) { 12 * HOUR } else { 5 * DAY };
    let t = created + 1_000 + rng.exp(mean as f64) as i64;
    if t <= latest {
        t
    } else {
        let room = (latest - created).max(2) as u64;
        created + 1 + rng.below(room - 1) as i64
    }
}

/// The latent helpfulness score of a rating before noise.
pub(crate) fn helpfulness(quality: f64, leniency: f64, viewpoint: f64, slant: f64) -> f64 {
    QUALITY_WEIGHT * quality + leniency - POLARIZATION_WEIGHT * viewpoint * slant
}

/// Reusable buffers of one chunk.
#[derive(Default)]
pub(crate) struct Scratch {
    seen: RaterSet,
    raters: Vec<u32>,
    candidates: Vec<u32>,
    /// (viewpoint, leniency) of `raters`, read in one pass.
    latent: Vec<(f32, f32)>,
    draws: Vec<Draw>,
}

fn draw_note(world: &World, tables: &TagTables, index: usize, scratch: &mut Scratch) {
    let note = &world.notes[index];
    let mut rng = Rand::new(world.seed, stream::NOTE_RATINGS, index as u64);
    pick_raters(world, &mut rng, note.author, note.ratings as usize, scratch);
    let Scratch {
        raters,
        latent,
        draws,
        ..
    } = scratch;
    // Rater reads are cache misses at scale; a tight loop lets them overlap.
    latent.clear();
    latent.extend(raters.iter().map(|&r| {
        let rater = &world.raters[r as usize];
        (rater.viewpoint, rater.leniency)
    }));
    draws.clear();
    let quality = f64::from(note.quality);
    let slant = f64::from(note.slant);
    let not_helpful_tags = &tables.not_helpful[usize::from(note.has(note_flag::MISLEADING))];
    for (&r, &(viewpoint, leniency)) in raters.iter().zip(latent.iter()) {
        let viewpoint = f64::from(viewpoint);
        let z = helpfulness(quality, f64::from(leniency), viewpoint, slant);
        let y = z + rng.logistic();
        let level = if y > SOMEWHAT_BAND {
            HelpfulnessLevel::Helpful
        } else if y >= -SOMEWHAT_BAND {
            HelpfulnessLevel::SomewhatHelpful
        } else {
            HelpfulnessLevel::NotHelpful
        };
        let tags = match level {
            HelpfulnessLevel::Helpful => {
                let n = 1 + rng.below(3) as usize;
                draw_tags(&mut rng, &tables.helpful, n, 0)
            }
            HelpfulnessLevel::SomewhatHelpful => {
                let n = rng.below(3) as usize;
                draw_tags(&mut rng, &tables.helpful, n, 0)
            }
            HelpfulnessLevel::NotHelpful => {
                let n = 1 + rng.below(3) as usize;
                let biased = usize::from(viewpoint * slant > 0.3);
                draw_tags(
                    &mut rng,
                    &not_helpful_tags[biased],
                    n,
                    HELPFUL_TAGS.len() as u32,
                )
            }
        };
        let created = rating_time(world, &mut rng, note.created_at_millis);
        let population_sampled = rng.chance(POPULATION_SAMPLED);
        let suggestion = if rng.chance(SUGGESTION_RATE) {
            let text = rng.below(SUGGESTIONS.len() as u64) as u8;
            Some((text, snowflake(created, rng.next_u64())))
        } else {
            None
        };
        draws.push(Draw {
            created_at_millis: created,
            rater: r,
            level,
            tags,
            population_sampled,
            suggestion,
        });
    }
    draws.sort_unstable_by_key(|d| (d.created_at_millis, d.rater));
}

/// The rating as the engine's plain row (the reference for [`push_line`]).
#[cfg(test)]
fn row(note_id: i64, tweet_id: i64, rater: &[u64; 4], d: &Draw) -> bridgenotes_engine::RatingRow {
    bridgenotes_engine::RatingRow {
        note_id,
        rater: crate::community::participant_id(rater),
        created_at_millis: d.created_at_millis,
        version: Some(2),
        flags: 0,
        level: Some(d.level),
        tags: d.tags,
        rated_on_tweet_id: Some(tweet_id),
        source: Some(source(d)),
        suggestion: d
            .suggestion
            .map(|(text, _)| SUGGESTIONS[text as usize].to_string()),
        suggestion_id: d.suggestion.map(|(_, id)| id),
    }
}

fn source(d: &Draw) -> RatingSource {
    if d.population_sampled {
        RatingSource::PopulationSampled
    } else {
        RatingSource::Default
    }
}

/// `"\t0"` for each of the 22 tag columns; a set tag turns its `0` into `1`.
const TAG_TEMPLATE: [u8; 44] = {
    let mut t = [0u8; 44];
    let mut i = 0;
    while i < 22 {
        t[2 * i] = b'\t';
        t[2 * i + 1] = b'0';
        i += 1;
    }
    t
};

/// Appends one rating line, byte for byte what
/// `bridgenotes_format::ratings::push_rating_line` writes for [`row`] (a test checks this),
/// without building the row: ratings are most of the output. `note_prefix` is the note id
/// and a tab; `tweet` is the tweet id.
fn push_line(out: &mut Vec<u8>, note_prefix: &[u8], tweet: &[u8], rater: &[u64; 4], d: &Draw) {
    out.extend_from_slice(note_prefix);
    out.extend_from_slice(&participant_id_bytes(rater));
    out.push(b'\t');
    out.extend_from_slice(itoa::Buffer::new().format(d.created_at_millis).as_bytes());
    // version, agree, disagree, helpful, notHelpful
    out.extend_from_slice(b"\t2\t0\t0\t0\t0\t");
    out.extend_from_slice(d.level.name().as_bytes());
    let mut tags = TAG_TEMPLATE;
    let mut bits = d.tags;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        tags[2 * i + 1] = b'1';
        bits &= bits - 1;
    }
    out.extend_from_slice(&tags);
    out.push(b'\t');
    out.extend_from_slice(tweet);
    out.push(b'\t');
    out.extend_from_slice(source(d).name().as_bytes());
    out.push(b'\t');
    if let Some((text, id)) = d.suggestion {
        // Plain sentences: no tab, line break or leading quote, so written as is.
        out.extend_from_slice(SUGGESTIONS[text as usize].as_bytes());
        out.push(b'\t');
        out.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
    } else {
        out.push(b'\t');
    }
    out.push(b'\n');
}

/// Draws and formats the ratings of the notes in `range`.
pub(crate) fn format_chunk(
    world: &World,
    tables: &TagTables,
    range: Range<usize>,
    out: &mut Vec<u8>,
) -> RatingStats {
    let mut stats = RatingStats::default();
    let mut scratch = Scratch::default();
    let mut note_prefix = Vec::with_capacity(24);
    let mut tweet = Vec::with_capacity(24);
    for index in range {
        draw_note(world, tables, index, &mut scratch);
        let note = &world.notes[index];
        note_prefix.clear();
        note_prefix.extend_from_slice(itoa::Buffer::new().format(note.note_id).as_bytes());
        note_prefix.push(b'\t');
        tweet.clear();
        let tweet_id = world.posts[note.post as usize].tweet_id;
        tweet.extend_from_slice(itoa::Buffer::new().format(tweet_id).as_bytes());
        for d in scratch.draws.iter() {
            push_line(
                out,
                &note_prefix,
                &tweet,
                &world.raters[d.rater as usize].id,
                d,
            );
            stats.ratings += 1;
            stats.levels[match d.level {
                HelpfulnessLevel::NotHelpful => 0,
                HelpfulnessLevel::SomewhatHelpful => 1,
                HelpfulnessLevel::Helpful => 2,
            }] += 1;
            stats.population_sampled += u64::from(d.population_sampled);
            stats.suggestions += u64::from(d.suggestion.is_some());
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SynthParams;
    use bridgenotes_format::ratings::push_rating_line;

    #[test]
    fn fast_lines_equal_the_format_crate_lines() {
        let params = SynthParams {
            notes: 400,
            raters: 150,
            ratings: 12_000,
            seed: 4,
            ..SynthParams::default()
        }
        .validate()
        .unwrap();
        let world = World::build(&params);
        let tables = TagTables::new();
        let mut scratch = Scratch::default();
        let (mut lines, mut suggestions, mut tag_bits) = (0, 0, 0u32);
        for index in 0..world.notes.len() {
            draw_note(&world, &tables, index, &mut scratch);
            let note = &world.notes[index];
            let tweet_id = world.posts[note.post as usize].tweet_id;
            let prefix = format!("{}\t", note.note_id);
            for d in &scratch.draws {
                let rater = &world.raters[d.rater as usize].id;
                let mut fast = Vec::new();
                push_line(
                    &mut fast,
                    prefix.as_bytes(),
                    tweet_id.to_string().as_bytes(),
                    rater,
                    d,
                );
                let mut slow = String::new();
                push_rating_line(&mut slow, &row(note.note_id, tweet_id, rater, d));
                assert_eq!(String::from_utf8(fast).unwrap(), slow);
                lines += 1;
                suggestions += usize::from(d.suggestion.is_some());
                tag_bits |= d.tags;
            }
        }
        assert!(lines >= 11_000);
        assert!(suggestions > 0, "suggestions are exercised");
        assert_eq!(tag_bits, (1 << 22) - 1, "every tag is exercised");
    }

    /// Drawing and formatting speed without file output; run with
    /// `cargo test --release -p bridgenotes-synth -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn format_throughput() {
        use rayon::prelude::*;
        let params = SynthParams {
            notes: 50_000,
            raters: 30_000,
            ratings: 1_000_000,
            seed: 42,
            ..SynthParams::default()
        }
        .validate()
        .unwrap();
        let world = World::build(&params);
        let tables = TagTables::new();
        let chunks = chunks(&world.notes);
        let start = std::time::Instant::now();
        let (ratings, bytes) = chunks
            .par_iter()
            .map(|range| {
                let mut out = Vec::new();
                let stats = format_chunk(&world, &tables, range.clone(), &mut out);
                (stats.ratings, out.len())
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "drew and formatted {ratings} ratings ({bytes} bytes) in {seconds:.3} s: {:.2} M ratings/s on {} threads",
            ratings as f64 / seconds / 1e6,
            rayon::current_num_threads()
        );
    }
}
