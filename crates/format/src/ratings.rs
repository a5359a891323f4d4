//! The ratings file (`ratings-00000.tsv`, or a directory of part files).
//!
//! Ratings are most of the download (206 M rows), so this reader is built for speed: it
//! takes blocks of whole lines — of a plain file mapped into memory, parsed where they lie
//! and handed back to the kernel once parsed; of a gzipped one, filled by a reader thread
//! from the decompressor while the current block is parsed — splits each block into
//! chunks at line ends, parses the chunks in parallel (each resolving its note and rater
//! ids against those already read, and numbering new ones locally) and merges them in
//! chunk order, so the result does not depend on the thread count. Ratings carry no free
//! text except the rare `suggestion`; a block holding a quote character falls back to the
//! quoting-aware `csv` reader for the rest of the file. Both read a carriage return before a
//! line feed as part of the line end and one elsewhere as part of its field.

use std::io::Read;
use std::path::Path;

use bridgenotes_engine::rating::{
    HELPFUL_TAGS, HexId, LOCAL, NOT_HELPFUL_TAGS, RaterKey, RatingRow, RatingsBuilder, Suggestion,
    UnusedRatingColumns, flag,
};
use bridgenotes_engine::{HelpfulnessLevel, RatingSource, Ratings};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::schema::{
    ColumnSpec, Layout, Row, optional, parse_i64, required, strip_carriage_return,
};
use crate::write::{push_int, push_public_text, write_lines};
use crate::{FormatError, ReadOptions, Result};

const NOTE_ID: usize = 0;
const RATER: usize = 1;
const CREATED_AT: usize = 2;
const VERSION: usize = 3;
const AGREE: usize = 4;
const DISAGREE: usize = 5;
const HELPFUL: usize = 6;
const NOT_HELPFUL: usize = 7;
const LEVEL: usize = 8;
const FIRST_TAG: usize = 9;
const TAG_COUNT: usize = HELPFUL_TAGS.len() + NOT_HELPFUL_TAGS.len();
const RATED_ON_TWEET_ID: usize = 31;
const SOURCE: usize = 32;
const SUGGESTION: usize = 33;
const SUGGESTION_ID: usize = 34;

/// Columns of the ratings file, in public order.
pub(crate) const SPECS: [ColumnSpec; 35] = {
    let mut specs = [
        required("noteId"),
        required("raterParticipantId"),
        required("createdAtMillis"),
        optional("version"),
        optional("agree"),
        optional("disagree"),
        optional("helpful"),
        optional("notHelpful"),
        optional("helpfulnessLevel"),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional(""),
        optional("ratedOnTweetId"),
        optional("ratingSourceBucketed"),
        optional("suggestion"),
        optional("suggestionId"),
    ];
    let mut i = 0;
    while i < HELPFUL_TAGS.len() {
        specs[FIRST_TAG + i] = optional(HELPFUL_TAGS[i]);
        i += 1;
    }
    let mut j = 0;
    while j < NOT_HELPFUL_TAGS.len() {
        specs[FIRST_TAG + HELPFUL_TAGS.len() + j] = optional(NOT_HELPFUL_TAGS[j]);
        j += 1;
    }
    specs
};

/// Bytes read per block; each block is parsed in parallel chunks of about [`CHUNK`] bytes.
const BLOCK: usize = 32 << 20;
const CHUNK: usize = 8 << 20;

/// One parsed rating, borrowing its text from the input.
#[derive(Debug, PartialEq)]
struct Parsed<'a> {
    note_id: i64,
    rater: RaterKey<'a>,
    created_at_millis: i64,
    version: Option<i8>,
    flags: u8,
    level: Option<HelpfulnessLevel>,
    tags: u32,
    rated_on_tweet_id: Option<i64>,
    source: Option<RatingSource>,
    suggestion: Option<&'a str>,
    suggestion_id: Option<i64>,
}

fn parse<'a>(row: &Row<'_, 'a>) -> Result<Parsed<'a>> {
    let rater = row.text(RATER)?;
    if rater.is_empty() {
        return Err(row.error(RATER, "missing required participant id"));
    }
    let version = match row.opt_int(VERSION)? {
        None => None,
        Some(v) => Some(i8::try_from(v).map_err(|_| row.error(VERSION, "version out of range"))?),
    };
    let mut flags = 0;
    for (column, bit) in [
        (HELPFUL, flag::HELPFUL_V1),
        (NOT_HELPFUL, flag::NOT_HELPFUL_V1),
        (AGREE, flag::AGREE),
        (DISAGREE, flag::DISAGREE),
    ] {
        if row.flag(column)? {
            flags |= bit;
        }
    }
    let mut tags = 0u32;
    for i in 0..TAG_COUNT {
        if row.flag(FIRST_TAG + i)? {
            tags |= 1 << i;
        }
    }
    Ok(Parsed {
        note_id: row.int(NOTE_ID)?,
        rater: RaterKey::new(rater),
        created_at_millis: row.int(CREATED_AT)?,
        version,
        flags,
        level: row.opt_enum(LEVEL)?,
        tags,
        rated_on_tweet_id: row.opt_int(RATED_ON_TWEET_ID)?,
        source: row.opt_enum(SOURCE)?,
        suggestion: row.opt_text(SUGGESTION)?,
        suggestion_id: row.opt_int(SUGGESTION_ID)?,
    })
}

/// Ratings of one chunk. Ids the builder already knows get their global index; new ones a
/// chunk-local index marked with [`LOCAL`] (see `RatingsBuilder::append_partially_interned`).
struct Chunk<'a, 'b> {
    known: &'b RatingsBuilder,
    ratings: Ratings,
    /// Each row's rater id, in row order. They are looked up in the builder's large table
    /// together at the end of the chunk, in one tight loop whose cache misses overlap. (A
    /// chunk sees most of its raters once, so a per-chunk table to share lookups among rows
    /// of one rater cost more, one cache miss per row, than the lookups it saved.)
    raters: Vec<RaterKey<'a>>,
    new_notes: FxHashMap<i64, u32>,
    last_note: Option<(i64, u32)>,
}

impl<'a, 'b> Chunk<'a, 'b> {
    /// A chunk expecting about `rows` ratings (a hint: its columns are sized for them up
    /// front instead of growing by doubling).
    fn new(known: &'b RatingsBuilder, keep_unused: bool, rows: usize) -> Self {
        let ratings = Ratings {
            note: Vec::with_capacity(rows),
            created_at_millis: Vec::with_capacity(rows),
            level: Vec::with_capacity(rows),
            flags: Vec::with_capacity(rows),
            tags: Vec::with_capacity(rows),
            source: Vec::with_capacity(rows),
            unused: keep_unused.then(UnusedRatingColumns::default),
            ..Ratings::default()
        };
        Chunk {
            known,
            ratings,
            raters: Vec::with_capacity(rows),
            new_notes: FxHashMap::default(),
            last_note: None,
        }
    }

    fn note_index(&mut self, note_id: i64) -> u32 {
        if let Some((id, index)) = self.last_note
            && id == note_id
        {
            return index;
        }
        let index = match self.known.find_note(note_id) {
            Some(index) => index,
            None => {
                let ids = &mut self.ratings.note_ids;
                *self.new_notes.entry(note_id).or_insert_with(|| {
                    ids.push(note_id);
                    (ids.len() - 1) as u32 | LOCAL
                })
            }
        };
        self.last_note = Some((note_id, index));
        index
    }

    /// Resolves the rows' rater ids: known ones to their global index, new ones to a local
    /// one (in order of first sight, so the result does not depend on the chunking).
    fn finish(mut self) -> Ratings {
        let known = self.known;
        let ids = &mut self.ratings.rater_ids;
        let mut new: FxHashMap<RaterKey<'a>, u32> = FxHashMap::default();
        self.ratings.rater = self
            .raters
            .iter()
            .map(|&rater| {
                known.find_rater_key(rater).unwrap_or_else(|| {
                    *new.entry(rater).or_insert_with(|| {
                        ids.push(rater.to_text());
                        (ids.len() - 1) as u32 | LOCAL
                    })
                })
            })
            .collect();
        self.ratings
    }

    fn push(&mut self, p: Parsed<'a>) {
        let note = self.note_index(p.note_id);
        self.raters.push(p.rater);
        let r = &mut self.ratings;
        let row = r.note.len() as u32;
        r.note.push(note);
        r.created_at_millis.push(p.created_at_millis);
        r.level.push(p.level);
        r.flags.push(p.flags);
        r.tags.push(p.tags);
        r.source.push(p.source);
        if let Some(unused) = &mut r.unused {
            unused.version.push(p.version);
            unused.rated_on_tweet_id.push(p.rated_on_tweet_id);
            if p.suggestion.is_some() || p.suggestion_id.is_some() {
                unused.suggestions.push(Suggestion {
                    row,
                    text: p.suggestion.map(str::to_string),
                    id: p.suggestion_id,
                });
            }
        }
    }
}

/// A cursor over the lines of a chunk of a ratings file in the public column order: the fast
/// path. It reads one line field by field, finding the line's end as it goes: every field
/// but the last must end in a tab, the last in a line feed (a carriage return before it is
/// part of the line end) or the end of the chunk.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The line's last field has been read.
    ended: bool,
}

impl<'a> Cursor<'a> {
    /// What is left of the line's bytes (and beyond), unless the line has ended.
    fn rest(&self) -> Option<&'a [u8]> {
        if self.ended {
            return None;
        }
        self.bytes.get(self.at..)
    }

    /// Steps over a field of `len` bytes and the tab or line end after it; false (and no
    /// step) if something else follows. A carriage return counts as part of the line end
    /// when a line feed or the end of the chunk follows it.
    fn end_field(&mut self, len: usize) -> bool {
        let after = self.at + len;
        match self.bytes.get(after..).unwrap_or_default() {
            [b'\t', ..] => self.at = after + 1,
            [b'\n', ..] | [b'\r', b'\n', ..] => {
                self.at = after + 1 + (self.bytes[after] == b'\r') as usize;
                self.ended = true;
            }
            [] | [b'\r'] => {
                self.at = self.bytes.len();
                self.ended = true;
            }
            _ => return false,
        }
        true
    }

    /// The next field (up to a tab or the line end).
    fn field(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest()?;
        let mut len = find_tab_or_line_feed(rest);
        if rest.get(len) != Some(&b'\t') && rest[..len].ends_with(b"\r") {
            len -= 1;
        }
        let field = &rest[..len];
        self.end_field(len).then_some(field)
    }

    /// The rater id field. An id of 64 uppercase hex digits followed by a tab (every public
    /// id) is packed where it stands; anything else is read as a field and keyed by
    /// [`RaterKey::from_bytes`].
    fn rater(&mut self) -> Option<RaterKey<'a>> {
        let rest = self.rest()?;
        if rest.get(64) == Some(&b'\t')
            && let Some(id) = HexId::decode(&rest[..64])
        {
            self.at += 65;
            return Some(RaterKey::Hex(id));
        }
        RaterKey::from_bytes(self.field()?)
    }

    /// A 0/1 flag (empty reads as 0), as the fast path accepts it: one byte and a tab.
    fn flag(&mut self) -> Option<bool> {
        match self.rest()? {
            [b'0', b'\t', ..] => {
                self.at += 2;
                Some(false)
            }
            [b'1', b'\t', ..] => {
                self.at += 2;
                Some(true)
            }
            _ => match self.field()? {
                b"" | b"0" => Some(false),
                b"1" => Some(true),
                _ => None,
            },
        }
    }

    /// An integer field. Plain digits (up to 19) followed by a tab or the line end are
    /// scanned and parsed in one pass; anything else (a sign, more digits, a bad byte) goes
    /// the general way.
    fn int(&mut self) -> Option<i64> {
        let rest = self.rest()?;
        let (value, digits) = leading_digits(rest);
        if digits > 0
            && let Ok(value) = i64::try_from(value)
            && self.end_field(digits)
        {
            return Some(value);
        }
        parse_i64(self.field()?)
    }

    fn opt_int(&mut self) -> Option<Option<i64>> {
        let rest = self.rest()?;
        match rest {
            [] | [b'\t' | b'\n', ..] | [b'\r'] | [b'\r', b'\n', ..] => {
                self.end_field(0);
                Some(None)
            }
            _ => self.int().map(Some),
        }
    }

    /// `n` (at most 32) flag columns in a row, as bits (the first column is bit 0). All
    /// written `0\t` / `1\t` (the usual case) are checked four to a word; otherwise one by
    /// one as [`Cursor::flag`] reads them.
    fn flags(&mut self, n: usize) -> Option<u32> {
        let rest = self.rest()?;
        if let Some(bits) = rest.get(..2 * n).and_then(flag_pairs) {
            self.at += 2 * n;
            return Some(bits);
        }
        let mut bits = 0;
        for i in 0..n {
            if self.flag()? {
                bits |= 1 << i;
            }
        }
        Some(bits)
    }
}

/// The value of the leading ASCII digits of `bytes` (at most 19 of them) and how many there
/// are. Eight digits are checked and combined at a time where eight bytes are left (note
/// ids have 19 digits, times 13), the rest one by one.
#[inline]
fn leading_digits(bytes: &[u8]) -> (u64, usize) {
    const MAX: usize = 19;
    let mut value = 0u64;
    let mut digits = 0;
    while digits + 8 <= MAX {
        let Some(w) = word_at(bytes, digits) else {
            break;
        };
        // A byte is a digit when its high half is 3 and adding 6 keeps it so. Carries only
        // run toward later bytes, so the lowest flagged byte is exactly the first non-digit.
        let not_digit = ((w & splat(0xF0)) ^ splat(0x30))
            | ((w.wrapping_add(splat(0x06)) & splat(0xF0)) ^ splat(0x30));
        if not_digit != 0 {
            break;
        }
        value = value * 100_000_000 + eight_digits(w - splat(b'0'));
        digits += 8;
    }
    for &b in bytes.iter().take(MAX).skip(digits) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        value = value * 10 + u64::from(d);
        digits += 1;
    }
    (value, digits)
}

/// The number written by eight digit values (0–9), the first in the lowest byte.
#[inline]
fn eight_digits(x: u64) -> u64 {
    // Pairs, then fours, then all eight: each step multiplies the earlier digits up.
    let x = (x.wrapping_mul(10) + (x >> 8)) & 0x00FF_00FF_00FF_00FF;
    let x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_FFFF_0000_FFFF;
    (x.wrapping_mul(10_000) + (x >> 32)) & 0xFFFF_FFFF
}

/// Flags written as `0\t` / `1\t` pairs filling `pairs` (at most 32 of them), as bits (the
/// first pair is bit 0); `None` if any pair is something else. Four pairs are checked per
/// 64-bit word: the odd bytes must be tabs and the even ones `0` or `1`, whose low bits are
/// the flags.
fn flag_pairs(pairs: &[u8]) -> Option<u32> {
    const TABS: u64 = 0xFF00_FF00_FF00_FF00;
    const DIGITS: u64 = 0x00FE_00FE_00FE_00FE;
    const LOW_BITS: u64 = 0x0001_0001_0001_0001;
    let mut bits = 0u32;
    let mut at = 0;
    let mut words = pairs.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        if w & TABS != 0x0900_0900_0900_0900 || w & DIGITS != 0x0030_0030_0030_0030 {
            return None;
        }
        // The flags sit at bits 0, 16, 32 and 48: gather them into bits 0..4.
        let b = w & LOW_BITS;
        bits |= (((b | b >> 15 | b >> 30 | b >> 45) & 0xF) as u32) << at;
        at += 4;
    }
    for pair in words.remainder().chunks_exact(2) {
        match pair {
            [b'0', b'\t'] => {}
            [b'1', b'\t'] => bits |= 1 << at,
            _ => return None,
        }
        at += 1;
    }
    Some(bits)
}

/// `b` in every byte of a word.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

const HIGH_BITS: u64 = splat(0x80);

/// Eight bytes of `bytes` from `at` as a little-endian word (the first byte lowest), if
/// there are eight.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let eight: &[u8; 8] = bytes.get(at..)?.first_chunk()?;
    Some(u64::from_le_bytes(*eight))
}

/// Where the first tab or line feed of `rest` is (its length if it has neither). Short
/// fields, the usual case here, are searched a word at a time: a byte equal to the one
/// sought becomes zero after the xor, and the borrow trick marks the first zero byte exactly
/// (a borrow only runs towards later bytes). Long ones go to `memchr2`.
#[inline]
fn find_tab_or_line_feed(rest: &[u8]) -> usize {
    let mut at = 0;
    while at < 32 {
        let Some(w) = word_at(rest, at) else {
            return at
                + rest[at..]
                    .iter()
                    .position(|&b| b == b'\t' || b == b'\n')
                    .unwrap_or(rest.len() - at);
        };
        let (t, n) = (w ^ splat(b'\t'), w ^ splat(b'\n'));
        let zero = (t.wrapping_sub(splat(1)) & !t | n.wrapping_sub(splat(1)) & !n) & HIGH_BITS;
        if zero != 0 {
            return at + (zero.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + memchr::memchr2(b'\t', b'\n', &rest[at..]).unwrap_or(rest.len() - at)
}

/// Parses the line starting at `at` of a chunk whose columns are exactly the public ones,
/// in order, and says where the next line starts. `None` for anything unusual; the caller
/// then parses the line the careful way, which names the error.
fn parse_standard(bytes: &[u8], at: usize) -> Option<(Parsed<'_>, usize)> {
    let mut c = Cursor {
        bytes,
        at,
        ended: false,
    };
    let note_id = c.int()?;
    let rater = c.rater().filter(|r| *r != RaterKey::Text(""))?;
    let created_at_millis = c.int()?;
    let version = match c.opt_int()? {
        None => None,
        Some(v) => Some(i8::try_from(v).ok()?),
    };
    let flag_bits = c.flags(4)?;
    let mut flags = 0;
    for (i, bit) in [
        flag::AGREE,
        flag::DISAGREE,
        flag::HELPFUL_V1,
        flag::NOT_HELPFUL_V1,
    ]
    .into_iter()
    .enumerate()
    {
        if flag_bits & (1 << i) != 0 {
            flags |= bit;
        }
    }
    let level = match c.field()? {
        b"HELPFUL" => Some(HelpfulnessLevel::Helpful),
        b"NOT_HELPFUL" => Some(HelpfulnessLevel::NotHelpful),
        b"SOMEWHAT_HELPFUL" => Some(HelpfulnessLevel::SomewhatHelpful),
        b"" => None,
        _ => return None,
    };
    let tags = c.flags(TAG_COUNT)?;
    let rated_on_tweet_id = c.opt_int()?;
    let source = match c.field()? {
        b"DEFAULT" => Some(RatingSource::Default),
        b"POPULATION_SAMPLED" => Some(RatingSource::PopulationSampled),
        b"" => None,
        _ => return None,
    };
    let suggestion = match c.field()? {
        b"" => None,
        raw => Some(std::str::from_utf8(raw).ok()?),
    };
    let suggestion_id = c.opt_int()?;
    let parsed = Parsed {
        note_id,
        rater,
        created_at_millis,
        version,
        flags,
        level,
        tags,
        rated_on_tweet_id,
        source,
        suggestion,
        suggestion_id,
    };
    c.ended.then_some((parsed, c.at))
}

/// Parses whole lines. Returns the ratings and the number of line ends in `bytes`; line
/// numbers in errors count from 1 at the chunk's first line (the caller, which knows where
/// the chunk starts, shifts them: counting lines ahead of time would cost a pass).
fn parse_chunk(
    layout: &Layout,
    bytes: &[u8],
    known: &RatingsBuilder,
    keep_unused: bool,
) -> Result<(Ratings, u64)> {
    // Public rows are about 190 bytes; the hint errs high (a shorter row fits in 35 bytes).
    let mut chunk = Chunk::new(known, keep_unused, bytes.len() / 160 + 1);
    let standard = layout.width() == SPECS.len()
        && layout
            .positions
            .iter()
            .enumerate()
            .all(|(i, p)| *p == Some(i));
    let mut fields: Vec<&[u8]> = Vec::with_capacity(layout.width() + 1);
    let mut line_ends = 0u64;
    let mut at = 0;
    let mut line = 1u64;
    while at < bytes.len() {
        // The fast path finds the line's end as it reads it.
        if standard && let Some((parsed, next)) = parse_standard(bytes, at) {
            chunk.push(parsed);
            line_ends += (bytes[next - 1] == b'\n') as u64;
            at = next;
            line += 1;
            continue;
        }
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let mut text = &bytes[at..end];
        if let Some(stripped) = text.strip_suffix(b"\r") {
            text = stripped;
        }
        if !text.is_empty() {
            split_fields(text, &mut fields);
            if fields.len() != layout.width() {
                return Err(FormatError::Ragged {
                    path: layout.path.clone(),
                    line,
                    expected: layout.width(),
                    found: fields.len(),
                });
            }
            chunk.push(parse(&Row {
                layout,
                fields: &fields,
                line,
            })?);
        }
        line_ends += (end < bytes.len()) as u64;
        at = end + 1;
        line += 1;
    }
    Ok((chunk.finish(), line_ends))
}

/// Splits a line at tabs into `fields` (cleared first).
fn split_fields<'a>(line: &'a [u8], fields: &mut Vec<&'a [u8]>) {
    fields.clear();
    let mut start = 0;
    for tab in memchr::memchr_iter(b'\t', line) {
        fields.push(&line[start..tab]);
        start = tab + 1;
    }
    fields.push(&line[start..]);
}

/// Splits `block` (whole lines) at line ends into pieces of about `size` bytes.
fn split_chunks(block: &[u8], size: usize) -> Vec<&[u8]> {
    let mut chunks = Vec::with_capacity(block.len() / size + 1);
    let mut rest = block;
    while rest.len() > size {
        let end = match memchr::memchr(b'\n', &rest[size..]) {
            Some(at) => size + at + 1,
            None => rest.len(),
        };
        chunks.push(&rest[..end]);
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        chunks.push(rest);
    }
    chunks
}

/// A read buffer whose bytes stay initialized from one refill to the next: reading into it
/// never zero-fills (`Read::read_to_end` on a generic reader zeroes every byte it reads
/// into, a memset as large as the file).
struct Buffer {
    bytes: Vec<u8>,
    len: usize,
}

/// The first allocation of a [`Buffer`]: it grows by doubling from here as bytes arrive, so
/// that a small input never allocates (or zero-fills) a whole block.
const FIRST_ALLOCATION: usize = 64 << 10;

impl Buffer {
    fn new() -> Buffer {
        Buffer {
            bytes: Vec::new(),
            len: 0,
        }
    }

    /// The bytes read and not yet consumed.
    fn filled(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Reads until at least `target` bytes are held or the input ends; true at the end.
    /// Never reads past `target`, so small blocks stay small.
    fn fill(&mut self, input: &mut dyn Read, target: usize) -> std::io::Result<bool> {
        while self.len < target {
            if self.len == self.bytes.len() {
                // `len < target`, so this grows by at least one byte.
                let grown = (self.bytes.len() * 2).max(FIRST_ALLOCATION).min(target);
                self.bytes.resize(grown, 0);
            }
            let end = target.min(self.bytes.len());
            match input.read(&mut self.bytes[self.len..end]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Holds a copy of `bytes` (and nothing else).
    fn set_to(&mut self, bytes: &[u8]) {
        if self.bytes.len() < bytes.len() {
            self.bytes.resize(bytes.len(), 0);
        }
        self.bytes[..bytes.len()].copy_from_slice(bytes);
        self.len = bytes.len();
    }

    /// Drops the first `n` bytes.
    fn consume(&mut self, n: usize) {
        self.bytes.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// An empty builder, keeping the unused columns when `options` asks for them.
fn new_builder(options: &ReadOptions) -> RatingsBuilder {
    if options.keep_unused_columns {
        RatingsBuilder::keeping_unused_columns()
    } else {
        RatingsBuilder::default()
    }
}

/// Reads ratings from a file or a directory of part files (sorted by name). `progress` is
/// called with the number of ratings read so far.
pub fn read_ratings_with_progress(
    path: &Path,
    options: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Ratings> {
    let mut builder = new_builder(options);
    for file in crate::source::input_files(path)? {
        match crate::source::open_mapped(&file)? {
            crate::source::Input::Mapped(map) => {
                // Parsed pages are handed back as the reading goes, so the process never
                // holds more than a block or two of the file.
                read_in_memory(
                    map.bytes(),
                    &file,
                    options,
                    progress,
                    &mut builder,
                    (BLOCK, CHUNK),
                    &map,
                )?;
            }
            crate::source::Input::Stream(mut input) => read_file(
                &mut input,
                &file,
                options,
                progress,
                &mut builder,
                BLOCK,
                CHUNK,
            )?,
        }
    }
    Ok(builder.finish())
}

/// Reads ratings from a file or a directory of part files (sorted by name).
pub fn read_ratings(path: &Path, options: &ReadOptions) -> Result<Ratings> {
    read_ratings_with_progress(path, options, &|_| {})
}

/// Reads one ratings file from `input` (plain or gzipped bytes); `path` names it in errors.
pub fn read_ratings_from(
    input: impl Read + Send,
    path: &Path,
    options: &ReadOptions,
) -> Result<Ratings> {
    read_ratings_from_in_blocks(input, path, options, BLOCK, CHUNK)
}

/// [`read_ratings_from`] with blocks of `block` bytes parsed in chunks of `chunk` bytes (both
/// at least 1), so that tests and fuzzing can cross block and chunk boundaries with small
/// inputs. The result never depends on the sizes.
#[doc(hidden)]
pub fn read_ratings_from_in_blocks(
    input: impl Read + Send,
    path: &Path,
    options: &ReadOptions,
    block: usize,
    chunk: usize,
) -> Result<Ratings> {
    let mut builder = new_builder(options);
    let mut input = crate::source::decompressing(input).map_err(|e| FormatError::io(path, e))?;
    read_file(
        &mut input,
        path,
        options,
        &|_| {},
        &mut builder,
        block.max(1),
        chunk.max(1),
    )?;
    Ok(builder.finish())
}

fn read_file(
    input: &mut (dyn Read + Send),
    path: &Path,
    options: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    builder: &mut RatingsBuilder,
    block: usize,
    chunk: usize,
) -> Result<()> {
    let io = |e| FormatError::io(path, e);
    let mut buf = Buffer::new();
    let mut eof = buf.fill(input, block).map_err(io)?;
    if buf.len == 0 {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
        });
    }
    // The header: the first line.
    let mut target = block;
    let header_end = loop {
        if let Some(at) = memchr::memchr(b'\n', buf.filled()) {
            break at;
        }
        if eof {
            break buf.len;
        }
        target *= 2;
        eof = buf.fill(input, target).map_err(io)?;
    };
    let (layout, mut start, mut line) = read_header(path, options, buf.filled(), header_end)?;
    // Double buffering (for inputs of more than one block read in large blocks): while the
    // blocks of `buf` are parsed, a reader thread fills the other buffer (the unfinished last
    // line of `buf`, then up to a block more) straight from `input`. Only that last line is
    // copied; the bytes are read once, into their place.
    let read_ahead = !eof && block >= READ_AHEAD_MIN_BLOCK;
    std::thread::scope(|scope| {
        let mut refill = if read_ahead {
            Refill::thread(scope, input)
        } else {
            Refill::Here { input, next: None }
        };
        let mut spare = Buffer::new();
        loop {
            if start == buf.len && eof {
                return Ok(());
            }
            let end = match memchr::memrchr(b'\n', &buf.filled()[start..]) {
                Some(at) => start + at + 1,
                None if eof => buf.len,
                None => {
                    // A line longer than the buffer: read more into it.
                    let target = (buf.len * 2).max(block);
                    refill.start(buf, target, path)?;
                    (buf, eof) = refill.finish(path)?;
                    continue;
                }
            };
            let bytes = &buf.filled()[start..end];
            if memchr::memchr(b'"', bytes).is_some() {
                let rest =
                    std::io::Cursor::new(buf.filled()[start..].to_vec()).chain(refill.into_input());
                return read_quoted(path, &layout, rest, line, options, progress, builder);
            }
            // Start filling the next block before parsing this one.
            if !eof {
                spare.set_to(&buf.filled()[end..]);
                let target = block.max(spare.len + chunk);
                refill.start(std::mem::replace(&mut spare, Buffer::new()), target, path)?;
            }
            line = parse_block(&layout, bytes, builder, options, chunk, line)?;
            progress(builder.len() as u64);
            start = 0;
            if eof {
                buf.consume(end);
            } else {
                let next;
                (next, eof) = refill.finish(path)?;
                spare = std::mem::replace(&mut buf, next);
            }
        }
    })
}

/// The layout named by a file's first line (`bytes[..header_end]`), where the data starts in
/// `bytes`, and the number of the first data line. Without headers the first line is data.
fn read_header(
    path: &Path,
    options: &ReadOptions,
    bytes: &[u8],
    header_end: usize,
) -> Result<(Layout, usize, u64)> {
    let first_line = &bytes[..header_end];
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    let header: Vec<&[u8]> = first_line.split(|&b| b == b'\t').collect();
    if options.headers {
        Ok((
            Layout::from_header(path, &SPECS, &header)?,
            (header_end + 1).min(bytes.len()),
            2,
        ))
    } else {
        Ok((Layout::positional(path, &SPECS, header.len())?, 0, 1))
    }
}

/// Parses `bytes` (whole lines, the first of them line `line` of the file) in chunks of about
/// `chunk` bytes, side by side, into `builder`; returns the number of the line after them.
fn parse_block(
    layout: &Layout,
    bytes: &[u8],
    builder: &mut RatingsBuilder,
    options: &ReadOptions,
    chunk: usize,
    mut line: u64,
) -> Result<u64> {
    let chunks = split_chunks(bytes, chunk);
    let parse_one =
        |chunk: &&[u8]| parse_chunk(layout, chunk, builder, options.keep_unused_columns);
    // One chunk (a small file, or its end) needs no trip through the thread pool.
    let parsed: Vec<Result<(Ratings, u64)>> = if chunks.len() == 1 {
        chunks.iter().map(parse_one).collect()
    } else {
        chunks.par_iter().map(parse_one).collect()
    };
    for result in parsed {
        // A chunk's line 1 is line `line` of the file.
        let (ratings, line_ends) = result.map_err(|e| e.shifted(line - 1))?;
        builder.append_partially_interned(ratings);
        line += line_ends;
    }
    Ok(line)
}

/// Reads one ratings file held whole in memory (a memory-mapped file): the same blocks and
/// chunks (sizes `(block, chunk)`) as the streaming reader, parsed where the bytes lie,
/// without copying them.
/// `pages` is told of each block once it has been parsed.
fn read_in_memory(
    bytes: &[u8],
    path: &Path,
    options: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    builder: &mut RatingsBuilder,
    (block, chunk): (usize, usize),
    pages: &dyn crate::source::Pages,
) -> Result<()> {
    if bytes.is_empty() {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
        });
    }
    let header_end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    let (layout, mut start, mut line) = read_header(path, options, bytes, header_end)?;
    while start < bytes.len() {
        let window_end = bytes.len().min(start.saturating_add(block));
        let end = if window_end == bytes.len() {
            bytes.len()
        } else {
            match memchr::memrchr(b'\n', &bytes[start..window_end]) {
                Some(at) => start + at + 1,
                // A line longer than the block: up to its end.
                None => memchr::memchr(b'\n', &bytes[window_end..])
                    .map_or(bytes.len(), |at| window_end + at + 1),
            }
        };
        let block_bytes = &bytes[start..end];
        if memchr::memchr(b'"', block_bytes).is_some() {
            let rest = std::io::Cursor::new(&bytes[start..]);
            return read_quoted(path, &layout, rest, line, options, progress, builder);
        }
        line = parse_block(&layout, block_bytes, builder, options, chunk, line)?;
        progress(builder.len() as u64);
        pages.done(start..end);
        start = end;
    }
    Ok(())
}

/// [`read_in_memory`] over `bytes` with blocks of `block` bytes parsed in chunks of `chunk`
/// bytes, so that tests can check it against the streaming reader on the same bytes.
#[doc(hidden)]
pub fn read_ratings_in_memory_in_blocks(
    bytes: &[u8],
    path: &Path,
    options: &ReadOptions,
    block: usize,
    chunk: usize,
) -> Result<Ratings> {
    let mut builder = new_builder(options);
    read_in_memory(
        bytes,
        path,
        options,
        &|_| {},
        &mut builder,
        (block.max(1), chunk.max(1)),
        &(),
    )?;
    Ok(builder.finish())
}

/// The smallest block size read ahead on a thread: smaller ones (tests and fuzzing cross
/// block boundaries with blocks of a few bytes) are read on the calling thread, where a
/// round trip per block costs nothing.
const READ_AHEAD_MIN_BLOCK: usize = 1 << 20;

/// Where the ratings reader's next buffer is filled from `input`: on the calling thread
/// when it is needed, or on a reader thread while the current buffer is parsed. Either
/// way a buffer is handed over with [`Refill::start`] and comes back filled from
/// [`Refill::finish`].
enum Refill<'scope, 'input> {
    Here {
        input: &'input mut (dyn Read + Send),
        next: Option<(Buffer, usize)>,
    },
    Thread {
        to_reader: std::sync::mpsc::SyncSender<(Buffer, usize)>,
        filled: std::sync::mpsc::Receiver<(Buffer, std::io::Result<bool>)>,
        reader: std::thread::ScopedJoinHandle<'scope, &'input mut (dyn Read + Send)>,
    },
}

impl<'scope, 'input: 'scope> Refill<'scope, 'input> {
    fn thread<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        input: &'input mut (dyn Read + Send),
    ) -> Self
    where
        'input: 'env,
    {
        let (to_reader, jobs) = std::sync::mpsc::sync_channel::<(Buffer, usize)>(1);
        let (filled_tx, filled) = std::sync::mpsc::sync_channel(1);
        let reader = scope.spawn(move || {
            for (mut next, target) in jobs {
                let result = next.fill(input, target);
                if filled_tx.send((next, result)).is_err() {
                    break;
                }
            }
            // Handed back for the slow path, which reads the rest itself.
            input
        });
        Refill::Thread {
            to_reader,
            filled,
            reader,
        }
    }

    /// Hands over `buf` to be filled up to `target` bytes (see [`Buffer::fill`]).
    fn start(&mut self, buf: Buffer, target: usize, path: &Path) -> Result<()> {
        match self {
            Refill::Here { next, .. } => *next = Some((buf, target)),
            Refill::Thread { to_reader, .. } => to_reader
                .send((buf, target))
                .map_err(|_| reader_stopped(path))?,
        }
        Ok(())
    }

    /// The buffer handed over last, filled, and whether the input has ended.
    fn finish(&mut self, path: &Path) -> Result<(Buffer, bool)> {
        let (buf, result) = match self {
            Refill::Here { input, next } => {
                let (mut buf, target) = next.take().expect("a buffer was handed over");
                let result = buf.fill(*input, target);
                (buf, result)
            }
            Refill::Thread { filled, .. } => filled.recv().map_err(|_| reader_stopped(path))?,
        };
        Ok((buf, result.map_err(|e| FormatError::io(path, e))?))
    }

    /// The input, for the slow path. Nothing may be handed over and not finished.
    fn into_input(self) -> &'input mut (dyn Read + Send) {
        match self {
            Refill::Here { input, .. } => input,
            Refill::Thread {
                to_reader, reader, ..
            } => {
                drop(to_reader);
                reader.join().expect("the reader thread does not panic")
            }
        }
    }
}

/// The reader thread only stops early if the parsing side has gone: an I/O error.
fn reader_stopped(path: &Path) -> FormatError {
    FormatError::io(path, std::io::Error::other("the reader thread stopped"))
}

/// The slow path for files with quoted fields: the `csv` reader, one row at a time.
fn read_quoted(
    path: &Path,
    layout: &Layout,
    rest: impl Read,
    first_line: u64,
    options: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    builder: &mut RatingsBuilder,
) -> Result<()> {
    let mut reader = crate::schema::tsv_reader(rest);
    let mut record = csv::ByteRecord::new();
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line()) + first_line - 1;
            FormatError::Malformed {
                path: path.to_path_buf(),
                line,
                message: e.to_string(),
            }
        })?;
        if !more {
            break;
        }
        let line = crate::schema::record_line(&reader, &record) + first_line - 1;
        let mut fields: Vec<&[u8]> = record.iter().collect();
        strip_carriage_return(&mut fields);
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        if fields.len() != layout.width() {
            return Err(FormatError::Ragged {
                path: path.to_path_buf(),
                line,
                expected: layout.width(),
                found: fields.len(),
            });
        }
        let p = parse(&Row {
            layout,
            fields: &fields,
            line,
        })?;
        builder.push(&RatingRow {
            note_id: p.note_id,
            rater: p.rater.to_text(),
            created_at_millis: p.created_at_millis,
            version: p.version,
            flags: p.flags,
            level: p.level,
            tags: p.tags,
            rated_on_tweet_id: p.rated_on_tweet_id,
            source: p.source,
            suggestion: if options.keep_unused_columns {
                p.suggestion.map(str::to_string)
            } else {
                None
            },
            suggestion_id: p.suggestion_id,
        });
        if builder.len().is_multiple_of(1 << 20) {
            progress(builder.len() as u64);
        }
    }
    progress(builder.len() as u64);
    Ok(())
}

/// The header line of the ratings file.
pub fn header() -> String {
    let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
    names.join("\t") + "\n"
}

fn push_opt_int(out: &mut String, value: Option<i64>) {
    if let Some(v) = value {
        push_int(out, v);
    }
}

/// Appends one rating as a line of the ratings file.
pub fn push_rating_line(out: &mut String, r: &RatingRow) {
    push_int(out, r.note_id);
    out.push('\t');
    push_public_text(out, &r.rater);
    out.push('\t');
    push_int(out, r.created_at_millis);
    out.push('\t');
    push_opt_int(out, r.version.map(i64::from));
    for bit in [
        flag::AGREE,
        flag::DISAGREE,
        flag::HELPFUL_V1,
        flag::NOT_HELPFUL_V1,
    ] {
        out.push_str(if r.flags & bit != 0 { "\t1" } else { "\t0" });
    }
    out.push('\t');
    if let Some(level) = r.level {
        out.push_str(level.name());
    }
    for i in 0..TAG_COUNT {
        out.push_str(if r.tags & (1 << i) != 0 { "\t1" } else { "\t0" });
    }
    out.push('\t');
    push_opt_int(out, r.rated_on_tweet_id);
    out.push('\t');
    if let Some(source) = r.source {
        out.push_str(source.name());
    }
    out.push('\t');
    if let Some(s) = &r.suggestion {
        push_public_text(out, s);
    }
    out.push('\t');
    push_opt_int(out, r.suggestion_id);
    out.push('\n');
}

/// Writes ratings atomically in the public format.
pub fn write_ratings(path: &Path, ratings: &Ratings) -> Result<()> {
    write_lines(path, &header(), 0..ratings.len(), |out, i| {
        push_rating_line(out, &ratings.row(i))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::BoxedStrategy;

    /// A rating line in the public column order (32 empty cells after the first three).
    fn line(note: &str, rater: &str) -> String {
        format!("{note}\t{rater}\t1000{}\n", "\t".repeat(32))
    }

    /// Reads `text` streamed in blocks, and checks that reading it in memory (as a mapped
    /// file is read) gives the same ratings or the same error.
    fn read_in_blocks(text: &[u8], block: usize, chunk: usize) -> Result<Ratings> {
        let path = Path::new("ratings.tsv");
        let options = ReadOptions::default();
        let streamed = read_ratings_from_in_blocks(text, path, &options, block, chunk);
        let in_memory = read_ratings_in_memory_in_blocks(text, path, &options, block, chunk);
        assert_eq!(
            in_memory.as_ref().map_err(ToString::to_string),
            streamed.as_ref().map_err(ToString::to_string),
            "blocks of {block}, chunks of {chunk}"
        );
        streamed
    }

    /// One digit at a time, as [`leading_digits`] must agree.
    fn leading_digits_one_by_one(bytes: &[u8]) -> (u64, usize) {
        let mut value = 0u64;
        let mut digits = 0;
        for &b in bytes.iter().take(19) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value * 10 + u64::from(b - b'0');
            digits += 1;
        }
        (value, digits)
    }

    #[test]
    fn leading_digits_eight_at_a_time_agree_with_one_at_a_time() {
        for text in [
            "",
            "7",
            "12345678",
            "123456789",
            "1733097600000\t",
            "2093409492078458153\tx",
            "99999999999999999999",
            "1234567/",
            "12345678:",
            "0000000000000000001",
            "12\u{ff}45678901",
            "123456789012345\x00",
        ] {
            let bytes = text.as_bytes();
            assert_eq!(
                leading_digits(bytes),
                leading_digits_one_by_one(bytes),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn leading_digits_agree_on_any_bytes(bytes in proptest::collection::vec(
            proptest::prop_oneof![b'0'..=b'9', proptest::prelude::any::<u8>()], 0..30)) {
            proptest::prop_assert_eq!(leading_digits(&bytes), leading_digits_one_by_one(&bytes));
        }
    }

    #[test]
    fn block_and_chunk_sizes_never_change_the_result() {
        let mut text = header();
        for i in 0..40 {
            text += &line(&(i % 7).to_string(), &format!("r{}", i % 5));
        }
        text += "\r\n";
        text += &line("3", "quote\"d");
        text += &line("8", "r1");
        let whole = read_in_blocks(text.as_bytes(), BLOCK, CHUNK).unwrap();
        assert_eq!(whole.len(), 42);
        for (block, chunk) in [(1, 1), (7, 3), (64, 16), (200, 1)] {
            assert_eq!(
                read_in_blocks(text.as_bytes(), block, chunk).unwrap(),
                whole
            );
        }
    }

    /// Inputs of several blocks read ahead on the reader thread (blocks of at least
    /// [`READ_AHEAD_MIN_BLOCK`]) read as they do on the calling thread, including the switch
    /// to the quoting-aware path in a later block and the line of an error there.
    #[test]
    fn reading_ahead_on_a_thread_reads_as_reading_here() {
        let rater = "B8A2325F24558D5F3CB877B57B21CFA15839F980169AE684692E4ED12FE2A86E";
        let mut text = header();
        let mut i = 0;
        while text.len() < 3 * READ_AHEAD_MIN_BLOCK + 12_345 {
            text += &line(&(i / 3).to_string(), &format!("{:064X}", i % 5003));
            text += &line(&(i / 3).to_string(), &format!("r{}", i % 997));
            i += 1;
        }
        let plain = text.clone();
        text += &line("5", "quote\"d");
        text += &line("6", rater);
        for text in [&plain, &text] {
            let here = read_in_blocks(text.as_bytes(), READ_AHEAD_MIN_BLOCK - 1, 65_536).unwrap();
            let ahead = read_in_blocks(text.as_bytes(), READ_AHEAD_MIN_BLOCK, 65_536).unwrap();
            assert_eq!(ahead, here);
            assert_eq!(
                ahead,
                read_in_blocks(text.as_bytes(), BLOCK, CHUNK).unwrap()
            );
        }
        let rows = text.lines().count() as u64;
        let bad = text.clone() + "7\tr1\tlater\n";
        for block in [READ_AHEAD_MIN_BLOCK - 1, READ_AHEAD_MIN_BLOCK] {
            let err = read_in_blocks(bad.as_bytes(), block, 65_536).unwrap_err();
            assert_eq!(err.line(), Some(rows + 1), "{err}");
        }
    }

    #[test]
    fn blank_lines_before_a_bad_row_do_not_move_its_line() {
        // Found by the ratings fuzz target: the `csv` crate's record position is where it
        // began looking for a record, before the blank lines it skipped, so the quoting-aware
        // path named the first blank line (and the notes reader did the same).
        let text = format!("{}\n\n\nx\ty\n{}", header(), line("3", "q\""));
        for (block, chunk) in [(BLOCK, CHUNK), (1, 1)] {
            assert_eq!(
                read_in_blocks(text.as_bytes(), block, chunk).map_err(|e| e.to_string()),
                Err(
                    "ratings.tsv:5: expected 35 tab-separated fields as in the header, found 2"
                        .into()
                )
            );
        }
        // After two blank lines, a quoted field over two lines: the row is named by its first
        // line; and a last row without a line feed.
        let text = format!("{}{}\n\n1\tq\t\"a\nb\"\n\n2\tr", header(), line("1", "a"));
        let error = read_in_blocks(text.as_bytes(), BLOCK, CHUNK).unwrap_err();
        assert_eq!(error.line(), Some(5), "{error}");
        let text = format!("{}{}\n\n2\tr", header(), line("1", "\"a\""));
        let error = read_in_blocks(text.as_bytes(), BLOCK, CHUNK).unwrap_err();
        assert_eq!(error.line(), Some(5), "{error}");
    }

    #[test]
    fn the_fuzzers_blank_lines_input_names_the_same_line_on_both_paths() {
        // The ratings fuzz target's input of finding 5: a header with an unknown column,
        // blank lines, a bad row on line 5, binary bytes and a quote further on (so a block
        // holding the whole input takes the quoting-aware path, and small blocks the fast
        // path up to the quote).
        let data = include_bytes!(
            "../../../fuzz/seeds/ratings/regression-blank-lines-before-a-bad-row.tsv"
        );
        assert!(memchr::memchr(b'"', data).is_some_and(|at| at > 300));
        for (block, chunk) in [(BLOCK, CHUNK), (1, 1), (7, 3), (64, 16)] {
            assert_eq!(
                read_in_blocks(data, block, chunk).map_err(|e| e.to_string()),
                Err(
                    "ratings.tsv:5: expected 14 tab-separated fields as in the header, found 2"
                        .into()
                ),
                "blocks of {block}, chunks of {chunk}"
            );
        }
    }

    #[test]
    fn a_quote_left_open_to_the_end_names_the_row_it_opens_in() {
        // Found by the ratings fuzz target (finding 6): a row whose quoted field stays open
        // to the end of an input ending in a line feed. That last line feed sits inside the
        // field, but the quoting-aware path also took it for the row's terminator and named
        // the line before the row (here the blank line 3) when a block held the whole input.
        let data =
            include_bytes!("../../../fuzz/seeds/ratings/regression-open-quote-to-the-end.tsv");
        for (block, chunk) in [(BLOCK, CHUNK), (1, 1), (7, 3), (64, 16)] {
            assert_eq!(
                read_in_blocks(data, block, chunk).map_err(|e| e.to_string()),
                Err(
                    "ratings.tsv:4: expected 34 tab-separated fields as in the header, found 31"
                        .into()
                ),
                "blocks of {block}, chunks of {chunk}"
            );
        }
        // The same shape, built by hand: after a good row and a blank line, a row on line 4
        // opens a quote that runs to the end, with and without a last line feed.
        let open = format!("{}{}\n1\tr\t\"x\ny\n", header(), line("1", "a"));
        for text in [open.clone(), open.trim_end_matches('\n').to_string()] {
            for (block, chunk) in [(BLOCK, CHUNK), (1, 1), (7, 3)] {
                let error = read_in_blocks(text.as_bytes(), block, chunk).unwrap_err();
                assert_eq!(
                    error.line(),
                    Some(4),
                    "{text:?}, blocks of {block}: {error}"
                );
            }
        }
        // A quoted field closed right before the last line feed still ends its row there.
        let closed = format!("{}{}\n1\tr\t\"x\ny\"\n", header(), line("1", "a"));
        for (block, chunk) in [(BLOCK, CHUNK), (1, 1), (7, 3)] {
            let error = read_in_blocks(closed.as_bytes(), block, chunk).unwrap_err();
            assert_eq!(error.line(), Some(4), "blocks of {block}: {error}");
        }
    }

    #[test]
    fn crlf_line_ends_and_bare_carriage_returns_read_alike_on_both_paths() {
        // Found by the ratings fuzz target, which checks that block sizes never change a
        // result: with the `csv` crate's default terminator the quoting-aware path (taken
        // for a block with a quote) reported each row after a CRLF line end with the line
        // number before its own, and ended a row at a carriage return that the fast path
        // kept inside its field.
        let ragged = "x\ty\r\n";
        let crlf = format!(
            "{}{}{ragged}",
            header(),
            line("1", "a").replace('\n', "\r\n")
        );
        let quoted = format!("{crlf}{}", line("3", "q\""));
        for text in [&crlf, &quoted] {
            for (block, chunk) in [(BLOCK, CHUNK), (1, 1)] {
                assert_eq!(
                    read_in_blocks(text.as_bytes(), block, chunk).map_err(|e| e.to_string()),
                    Err(
                        "ratings.tsv:3: expected 35 tab-separated fields as in the header, found 2"
                            .into()
                    )
                );
            }
        }
        let bare = format!("{}{}", header(), line("1", "a\rb"));
        let quoted = format!("{bare}{}", line("3", "q\""));
        for text in [&bare, &quoted] {
            for (block, chunk) in [(BLOCK, CHUNK), (1, 1)] {
                let ratings = read_in_blocks(text.as_bytes(), block, chunk).unwrap();
                assert_eq!(ratings.rater_id(0), "a\rb");
            }
        }
    }

    /// A plain, valid cell for each column of the public order.
    fn plain_cell(column: usize) -> BoxedStrategy<Vec<u8>> {
        use proptest::prelude::*;
        let text = |re: &'static str| re.prop_map(String::into_bytes).boxed();
        match column {
            NOTE_ID | CREATED_AT => text("[0-9]{1,18}"),
            RATER => text("[0-9A-F]{63,65}|[0-9A-Fa-f]{64}|[a-z0-9-]{1,10}"),
            VERSION => text("|[0-9]{1,2}"),
            AGREE..=NOT_HELPFUL => text("[01]"),
            LEVEL => text("|HELPFUL|SOMEWHAT_HELPFUL|NOT_HELPFUL"),
            RATED_ON_TWEET_ID | SUGGESTION_ID => text("|[0-9]{1,18}"),
            SOURCE => text("|DEFAULT|POPULATION_SAMPLED"),
            SUGGESTION => text("|[a-z ]{1,8}"),
            _ => text("[01]"),
        }
    }

    /// Cells that are almost plain: what the fast path must either read exactly as the
    /// generic path does or hand over to it.
    fn near_miss_cell() -> BoxedStrategy<Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::sample::select(vec![
                "",
                "0",
                "1",
                "2",
                "00",
                "01",
                "10",
                "11",
                "-1",
                "+1",
                "-0",
                " 1",
                "1 ",
                "\r",
                "1\r",
                "\r1",
                "\"",
                "\"1\"",
                "127",
                "128",
                "-128",
                "-129",
                "9223372036854775807",
                "9223372036854775808",
                "-9223372036854775808",
                "00000000000000000001",
                "18446744073709551616",
                "HELPFUL",
                "helpful",
                "HELPFUL ",
                "DEFAULT",
                "POPULATION_SAMPLED",
                "\u{e9}",
                "0x1",
                "1e3",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
        ]
        .boxed()
    }

    /// A line of `SPECS.len()` plain cells, some replaced by near misses, sometimes with a
    /// cell too many or too few; and whether it was left plain.
    fn line_with_near_misses() -> impl proptest::strategy::Strategy<Value = (Vec<u8>, bool)> {
        use proptest::prelude::*;
        let cells: Vec<_> = (0..SPECS.len()).map(plain_cell).collect();
        (
            cells,
            proptest::collection::vec((0..SPECS.len(), near_miss_cell()), 0..3),
            prop_oneof![8 => Just(0i8), 1 => Just(-1), 1 => Just(1)],
        )
            .prop_map(|(mut cells, misses, extra)| {
                let plain = misses.is_empty() && extra == 0;
                for (column, cell) in misses {
                    cells[column] = cell;
                }
                match extra {
                    -1 => drop(cells.pop()),
                    1 => cells.push(b"0".to_vec()),
                    _ => {}
                }
                (cells.join(&b'\t'), plain)
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The fast path reads a line exactly as the generic path does, or declines it (the
        /// generic path then reads it, or names the error); it never declines a plain line,
        /// and it ends the line where `parse_chunk` would cut it: at the first line feed
        /// (a carriage return before it is part of the line end), or at the chunk's end.
        #[test]
        fn fast_and_generic_paths_agree((text, plain) in line_with_near_misses()) {
            let layout = Layout::positional(Path::new("r.tsv"), &SPECS, SPECS.len()).unwrap();
            let end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
            let line = text[..end].strip_suffix(b"\r").unwrap_or(&text[..end]);
            let mut fields = Vec::new();
            split_fields(line, &mut fields);
            let generic = if fields.len() == SPECS.len() {
                parse(&Row { layout: &layout, fields: &fields, line: 1 }).ok()
            } else {
                None
            };
            // The line in a chunk, followed by another line.
            let mut chunk = text.clone();
            chunk.extend_from_slice(b"\n7\tr\t1");
            let fast = parse_standard(&chunk, 0);
            if plain {
                proptest::prop_assert!(fast.is_some(), "plain line declined: {:?}", String::from_utf8_lossy(&text));
            }
            if let Some((fast, next)) = fast {
                proptest::prop_assert_eq!(next, end + 1);
                proptest::prop_assert_eq!(Some(fast), generic);
            }
            // The line at the end of a chunk.
            if end == text.len() {
                let last = parse_standard(&text, 0);
                proptest::prop_assert_eq!(last.is_some(), parse_standard(&chunk, 0).is_some());
                if let Some((last, next)) = last {
                    proptest::prop_assert_eq!(next, text.len());
                    proptest::prop_assert_eq!(Some(last), parse_standard(&chunk, 0).map(|(p, _)| p));
                }
            }
        }

        /// Runs of flag pairs: the word-at-a-time check agrees with reading pair by pair.
        #[test]
        fn flag_pairs_agree_with_pair_by_pair(
            pairs in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(vec![*b"0\t", *b"1\t"]),
                    1 => proptest::prelude::any::<[u8; 2]>(),
                ],
                0..=32,
            )
        ) {
            let bytes = pairs.concat();
            let expected = pairs.iter().enumerate().try_fold(0u32, |bits, (i, pair)| match pair {
                [b'0', b'\t'] => Some(bits),
                [b'1', b'\t'] => Some(bits | 1 << i),
                _ => None,
            });
            proptest::prop_assert_eq!(flag_pairs(&bytes), expected);
        }

        /// The word-at-a-time search finds the first tab or line feed, at any length and alignment,
        /// bytes from 0x80 up included.
        #[test]
        fn find_tab_or_line_feed_finds_the_first(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    1 => proptest::strategy::Just(b'\t'),
                    1 => proptest::strategy::Just(0x89u8),
                    1 => proptest::strategy::Just(0x08u8),
                    1 => proptest::strategy::Just(0x0Au8),
                    1 => proptest::strategy::Just(0x8Au8),
                    1 => proptest::strategy::Just(0x0Bu8),
                    20 => proptest::prelude::any::<u8>(),
                ],
                0..80,
            )
        ) {
            let expected = bytes
                .iter()
                .position(|&b| b == b'\t' || b == b'\n')
                .unwrap_or(bytes.len());
            proptest::prop_assert_eq!(find_tab_or_line_feed(&bytes), expected);
        }
    }
}
