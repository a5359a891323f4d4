//! Ratings, held column by column (struct of arrays) so that hundreds of millions fit in
//! memory: about 30 bytes a rating, no heap object per rating.

use crate::status::named_enum;

/// How helpful a rater found a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HelpfulnessLevel {
    NotHelpful,
    SomewhatHelpful,
    Helpful,
}

named_enum!(HelpfulnessLevel, "helpfulnessLevel", [
    HelpfulnessLevel::NotHelpful => "NOT_HELPFUL",
    HelpfulnessLevel::SomewhatHelpful => "SOMEWHAT_HELPFUL",
    HelpfulnessLevel::Helpful => "HELPFUL",
]);

impl HelpfulnessLevel {
    /// The numeric value the scorer fits: 0, 0.5 or 1.
    pub fn value(self) -> f32 {
        match self {
            HelpfulnessLevel::NotHelpful => 0.0,
            HelpfulnessLevel::SomewhatHelpful => 0.5,
            HelpfulnessLevel::Helpful => 1.0,
        }
    }
}

/// How the rating was solicited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatingSource {
    Default,
    PopulationSampled,
}

named_enum!(RatingSource, "ratingSourceBucketed", [
    RatingSource::Default => "DEFAULT",
    RatingSource::PopulationSampled => "POPULATION_SAMPLED",
]);

/// Helpful tags in public-file order; bit `i` of [`Ratings::tags`] is `HELPFUL_TAGS[i]`.
pub const HELPFUL_TAGS: [&str; 9] = [
    "helpfulOther",
    "helpfulInformative",
    "helpfulClear",
    "helpfulEmpathetic",
    "helpfulGoodSources",
    "helpfulUniqueContext",
    "helpfulAddressesClaim",
    "helpfulImportantContext",
    "helpfulUnbiasedLanguage",
];

/// Not-helpful tags in public-file order; bit `9 + i` of [`Ratings::tags`] is `NOT_HELPFUL_TAGS[i]`.
pub const NOT_HELPFUL_TAGS: [&str; 13] = [
    "notHelpfulOther",
    "notHelpfulIncorrect",
    "notHelpfulSourcesMissingOrUnreliable",
    "notHelpfulOpinionSpeculationOrBias",
    "notHelpfulMissingKeyPoints",
    "notHelpfulOutdated",
    "notHelpfulHardToUnderstand",
    "notHelpfulArgumentativeOrBiased",
    "notHelpfulOffTopic",
    "notHelpfulSpamHarassmentOrAbuse",
    "notHelpfulIrrelevantSources",
    "notHelpfulOpinionSpeculation",
    "notHelpfulNoteNotNeeded",
];

/// Bit of a not-helpful tag in [`Ratings::tags`].
pub const fn not_helpful_bit(index: usize) -> u32 {
    1 << (HELPFUL_TAGS.len() + index)
}

/// Bits of [`Ratings::flags`].
pub mod flag {
    /// Legacy (v1) `helpful` column was 1.
    pub const HELPFUL_V1: u8 = 1;
    /// Legacy (v1) `notHelpful` column was 1.
    pub const NOT_HELPFUL_V1: u8 = 2;
    /// Legacy `agree` column was 1.
    pub const AGREE: u8 = 4;
    /// Legacy `disagree` column was 1.
    pub const DISAGREE: u8 = 8;
}

/// One rating as a plain value: for building, streaming and tests. Bulk data lives in [`Ratings`].
#[derive(Clone, Debug, PartialEq)]
pub struct RatingRow {
    pub note_id: i64,
    pub rater: String,
    pub created_at_millis: i64,
    pub version: Option<i8>,
    pub flags: u8,
    pub level: Option<HelpfulnessLevel>,
    pub tags: u32,
    pub rated_on_tweet_id: Option<i64>,
    pub source: Option<RatingSource>,
    pub suggestion: Option<String>,
    pub suggestion_id: Option<i64>,
}

/// A written suggestion attached to one rating (rare; kept out of the dense columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub row: u32,
    pub text: Option<String>,
    pub id: Option<i64>,
}

/// All ratings, one entry per rating in every column.
///
/// Notes and raters are interned: `note[i]` indexes [`Ratings::note_ids`], `rater[i]` indexes
/// [`Ratings::rater_ids`], both in order of first appearance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ratings {
    pub note_ids: Vec<i64>,
    pub rater_ids: Vec<String>,
    pub note: Vec<u32>,
    pub rater: Vec<u32>,
    pub created_at_millis: Vec<i64>,
    pub level: Vec<Option<HelpfulnessLevel>>,
    /// [`flag`] bits.
    pub flags: Vec<u8>,
    /// Tag bits: helpful tags then not-helpful tags (see [`HELPFUL_TAGS`], [`not_helpful_bit`]).
    pub tags: Vec<u32>,
    pub source: Vec<Option<RatingSource>>,
    /// Columns the scorer never reads; `None` when the reader was asked to skip them.
    pub unused: Option<UnusedRatingColumns>,
}

/// Rating columns kept only to write a file back as it was read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnusedRatingColumns {
    pub version: Vec<Option<i8>>,
    pub rated_on_tweet_id: Vec<Option<i64>>,
    /// Sparse: only ratings that carry a suggestion, in row order.
    pub suggestions: Vec<Suggestion>,
}

impl Ratings {
    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.note.len()
    }

    /// Whether there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.note.is_empty()
    }

    /// The note id of rating `i`.
    pub fn note_id(&self, i: usize) -> i64 {
        self.note_ids[self.note[i] as usize]
    }

    /// The rater id of rating `i`.
    pub fn rater_id(&self, i: usize) -> &str {
        &self.rater_ids[self.rater[i] as usize]
    }

    /// The reference's `helpfulNum`: `helpfulnessLevel` when present, else the legacy
    /// `helpful`/`notHelpful` flags; `None` for a rating that carries neither (the reference
    /// drops those).
    pub fn helpful_num(&self, i: usize) -> Option<f32> {
        if let Some(level) = self.level[i] {
            return Some(level.value());
        }
        let flags = self.flags[i];
        if flags & flag::NOT_HELPFUL_V1 != 0 {
            Some(0.0)
        } else if flags & flag::HELPFUL_V1 != 0 {
            Some(1.0)
        } else {
            None
        }
    }

    /// Rating `i` as a plain row.
    pub fn row(&self, i: usize) -> RatingRow {
        let (version, rated_on_tweet_id, suggestion) = match &self.unused {
            Some(unused) => {
                let found = unused
                    .suggestions
                    .binary_search_by_key(&(i as u32), |s| s.row)
                    .ok()
                    .map(|at| &unused.suggestions[at]);
                (unused.version[i], unused.rated_on_tweet_id[i], found)
            }
            None => (None, None, None),
        };
        RatingRow {
            note_id: self.note_id(i),
            rater: self.rater_id(i).to_string(),
            created_at_millis: self.created_at_millis[i],
            version,
            flags: self.flags[i],
            level: self.level[i],
            tags: self.tags[i],
            rated_on_tweet_id,
            source: self.source[i],
            suggestion: suggestion.and_then(|s| s.text.clone()),
            suggestion_id: suggestion.and_then(|s| s.id),
        }
    }

    /// Appends all ratings of `other`, re-interning its note and rater ids.
    pub fn append(&mut self, other: Ratings) {
        let mut builder = RatingsBuilder::from(std::mem::take(self));
        builder.append(other);
        *self = builder.finish();
    }
}

/// Marks a chunk-local index in [`RatingsBuilder::append_partially_interned`].
pub const LOCAL: u32 = 1 << 31;

/// Builds [`Ratings`] row by row, interning note and rater ids.
#[derive(Debug, Default)]
pub struct RatingsBuilder {
    ratings: Ratings,
    note_index: rustc_hash::FxHashMap<i64, u32>,
    rater_index: RaterIndex,
}

/// A rater id prepared for lookups. Every public participant id is 64 uppercase hex digits:
/// those are packed into 32 bytes ([`RaterKey::Hex`]), which halves the tables, compares as
/// four words and needs no pointer chase. Any other id (another length, lowercase, any other
/// byte) is looked up by its text. An id takes the packed form exactly when it is 64
/// uppercase hex digits, and packing is one to one, so two different ids never share a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RaterKey<'a> {
    Hex(HexId),
    Text(&'a str),
}

/// A rater id of exactly 64 uppercase hex digits, packed: digit `16 * i + j` is nibble `j`
/// (bits `4 * j ..`) of word `i` (see [`RaterKey`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HexId([u64; 4]);

impl std::hash::Hash for HexId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Public ids are uniformly random: their first 32 digits are plenty.
        state.write_u64(self.0[0] ^ self.0[1].rotate_left(29));
    }
}

/// `b` in every byte of a word.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// Eight uppercase hex digits (`0-9`, `A-F`) as nibbles, the first digit in bits 0..4;
/// `None` if any byte is something else. All eight bytes are checked at once: for a byte
/// below 0x80, adding `0x80 - lo` sets its high bit exactly when it is at least `lo`, and
/// adding `0x7F - hi` exactly when it is above `hi`, without a carry into the next byte.
#[inline]
fn hex8(bytes: [u8; 8]) -> Option<u32> {
    const HIGH: u64 = splat(0x80);
    let w = u64::from_le_bytes(bytes);
    let at_least = |lo: u8| w.wrapping_add(splat(0x80 - lo));
    let above = |hi: u8| w.wrapping_add(splat(0x7F - hi));
    let digit = at_least(b'0') & !above(b'9');
    let letter = at_least(b'A') & !above(b'F');
    if w & HIGH != 0 || (digit | letter) & HIGH != HIGH {
        return None;
    }
    // A digit's value is its low nibble; a letter's is its low nibble plus 9.
    let mut x = (w & splat(0x0F)) + ((letter & HIGH) >> 7) * 9;
    // Gather the eight nibbles (one per byte) into the low 32 bits.
    x = (x | x >> 4) & 0x00FF_00FF_00FF_00FF;
    x = (x | x >> 8) & 0x0000_FFFF_0000_FFFF;
    x = (x | x >> 16) & 0xFFFF_FFFF;
    Some(x as u32)
}

impl HexId {
    /// The packed form of `text` if it is exactly 64 uppercase hex digits.
    #[inline]
    pub fn decode(text: &[u8]) -> Option<HexId> {
        let text: &[u8; 64] = text.try_into().ok()?;
        let mut words = [0u64; 4];
        for (word, digits) in words.iter_mut().zip(text.chunks_exact(16)) {
            let half = |at: usize| {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&digits[at..at + 8]);
                hex8(bytes)
            };
            *word = u64::from(half(0)?) | u64::from(half(8)?) << 32;
        }
        Some(HexId(words))
    }

    /// The 64 digits back (the text [`HexId::decode`] took).
    pub fn encode(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut text = String::with_capacity(64);
        for word in self.0 {
            for j in 0..16 {
                text.push(char::from(DIGITS[(word >> (4 * j) & 0xF) as usize]));
            }
        }
        text
    }
}

impl<'a> RaterKey<'a> {
    pub fn new(id: &'a str) -> RaterKey<'a> {
        match HexId::decode(id.as_bytes()) {
            Some(hex) => RaterKey::Hex(hex),
            None => RaterKey::Text(id),
        }
    }

    /// The key of an id given as bytes; `None` if they are not UTF-8. A packed id is ASCII,
    /// so packing it checks it: only other ids go through the UTF-8 check.
    #[inline]
    pub fn from_bytes(id: &'a [u8]) -> Option<RaterKey<'a>> {
        match HexId::decode(id) {
            Some(hex) => Some(RaterKey::Hex(hex)),
            None => std::str::from_utf8(id).ok().map(RaterKey::Text),
        }
    }

    /// The id's text.
    pub fn to_text(&self) -> String {
        match self {
            RaterKey::Hex(hex) => hex.encode(),
            RaterKey::Text(text) => text.to_string(),
        }
    }
}

/// Rater id → index, by [`RaterKey`]: this lookup runs once per rating.
#[derive(Debug, Default)]
struct RaterIndex {
    hex: rustc_hash::FxHashMap<HexId, u32>,
    text: rustc_hash::FxHashMap<String, u32>,
}

impl RaterIndex {
    #[inline]
    fn get(&self, key: RaterKey<'_>) -> Option<u32> {
        match key {
            RaterKey::Hex(id) => self.hex.get(&id).copied(),
            RaterKey::Text(text) => self.text.get(text).copied(),
        }
    }

    fn insert(&mut self, key: RaterKey<'_>, index: u32) {
        match key {
            RaterKey::Hex(id) => self.hex.insert(id, index),
            RaterKey::Text(text) => self.text.insert(text.to_string(), index),
        };
    }
}

impl From<Ratings> for RatingsBuilder {
    fn from(ratings: Ratings) -> Self {
        let note_index = ratings
            .note_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
        let mut rater_index = RaterIndex::default();
        for (i, id) in ratings.rater_ids.iter().enumerate() {
            rater_index.insert(RaterKey::new(id), i as u32);
        }
        RatingsBuilder {
            ratings,
            note_index,
            rater_index,
        }
    }
}

impl RatingsBuilder {
    /// A builder that keeps the columns the scorer does not read (see [`UnusedRatingColumns`]).
    pub fn keeping_unused_columns() -> Self {
        let mut builder = RatingsBuilder::default();
        builder.ratings.unused = Some(UnusedRatingColumns::default());
        builder
    }

    /// Index of `note_id` in the note table, interning it if new.
    pub fn intern_note(&mut self, note_id: i64) -> u32 {
        let ratings = &mut self.ratings;
        *self.note_index.entry(note_id).or_insert_with(|| {
            ratings.note_ids.push(note_id);
            (ratings.note_ids.len() - 1) as u32
        })
    }

    /// Index of `rater` in the rater table, interning it if new.
    pub fn intern_rater(&mut self, rater: &str) -> u32 {
        let key = RaterKey::new(rater);
        if let Some(index) = self.rater_index.get(key) {
            return index;
        }
        let index = self.ratings.rater_ids.len() as u32;
        self.ratings.rater_ids.push(rater.to_string());
        self.rater_index.insert(key, index);
        index
    }

    /// Appends one rating.
    pub fn push(&mut self, row: &RatingRow) {
        let note = self.intern_note(row.note_id);
        let rater = self.intern_rater(&row.rater);
        let r = &mut self.ratings;
        let row_index = r.note.len() as u32;
        r.note.push(note);
        r.rater.push(rater);
        r.created_at_millis.push(row.created_at_millis);
        r.level.push(row.level);
        r.flags.push(row.flags);
        r.tags.push(row.tags);
        r.source.push(row.source);
        if let Some(unused) = &mut r.unused {
            unused.version.push(row.version);
            unused.rated_on_tweet_id.push(row.rated_on_tweet_id);
            if row.suggestion.is_some() || row.suggestion_id.is_some() {
                unused.suggestions.push(Suggestion {
                    row: row_index,
                    text: row.suggestion.clone(),
                    id: row.suggestion_id,
                });
            }
        }
    }

    /// Index of `note_id` if already interned.
    pub fn find_note(&self, note_id: i64) -> Option<u32> {
        self.note_index.get(&note_id).copied()
    }

    /// Index of `rater` if already interned.
    pub fn find_rater(&self, rater: &str) -> Option<u32> {
        self.rater_index.get(RaterKey::new(rater))
    }

    /// Index of the rater id of `key` if already interned.
    #[inline]
    pub fn find_rater_key(&self, key: RaterKey<'_>) -> Option<u32> {
        self.rater_index.get(key)
    }

    /// Appends a chunk whose note and rater indices are already this builder's, except those
    /// with the [`LOCAL`] bit set: these index the chunk's own `note_ids` / `rater_ids`, which
    /// are interned here in order. Lets parallel readers resolve known ids without a lock and
    /// leave only new ids to this sequential step.
    pub fn append_partially_interned(&mut self, chunk: Ratings) {
        let note_map: Vec<u32> = chunk
            .note_ids
            .iter()
            .map(|&id| self.intern_note(id))
            .collect();
        let rater_map: Vec<u32> = chunk
            .rater_ids
            .iter()
            .map(|id| self.intern_rater(id))
            .collect();
        let resolve = |index: u32, map: &[u32]| {
            if index & LOCAL != 0 {
                map[(index & !LOCAL) as usize]
            } else {
                index
            }
        };
        let note: Vec<u32> = chunk.note.iter().map(|&n| resolve(n, &note_map)).collect();
        let rater: Vec<u32> = chunk
            .rater
            .iter()
            .map(|&u| resolve(u, &rater_map))
            .collect();
        let resolved = Ratings {
            note_ids: Vec::new(),
            rater_ids: Vec::new(),
            note,
            rater,
            ..chunk
        };
        self.extend_columns(resolved);
    }

    /// Appends every rating of `other` (bulk, column by column).
    pub fn append(&mut self, other: Ratings) {
        let note_map: Vec<u32> = other
            .note_ids
            .iter()
            .map(|&id| self.intern_note(id))
            .collect();
        let rater_map: Vec<u32> = other
            .rater_ids
            .iter()
            .map(|id| self.intern_rater(id))
            .collect();
        let note = other.note.iter().map(|&n| note_map[n as usize]).collect();
        let rater = other.rater.iter().map(|&n| rater_map[n as usize]).collect();
        self.extend_columns(Ratings {
            note_ids: Vec::new(),
            rater_ids: Vec::new(),
            note,
            rater,
            ..other
        });
    }

    /// Appends columns whose indices are already this builder's.
    fn extend_columns(&mut self, other: Ratings) {
        let offset = self.ratings.note.len() as u32;
        let r = &mut self.ratings;
        r.note.extend_from_slice(&other.note);
        r.rater.extend_from_slice(&other.rater);
        r.created_at_millis
            .extend_from_slice(&other.created_at_millis);
        r.level.extend_from_slice(&other.level);
        r.flags.extend_from_slice(&other.flags);
        r.tags.extend_from_slice(&other.tags);
        r.source.extend_from_slice(&other.source);
        let count = other.note.len();
        match (&mut r.unused, other.unused) {
            (Some(mine), Some(theirs)) => {
                mine.version.extend(theirs.version);
                mine.rated_on_tweet_id.extend(theirs.rated_on_tweet_id);
                mine.suggestions
                    .extend(theirs.suggestions.into_iter().map(|s| Suggestion {
                        row: s.row + offset,
                        ..s
                    }));
            }
            (Some(mine), None) => {
                mine.version.extend(std::iter::repeat_n(None, count));
                mine.rated_on_tweet_id
                    .extend(std::iter::repeat_n(None, count));
            }
            (None, _) => {}
        }
    }

    /// Number of ratings so far.
    pub fn len(&self) -> usize {
        self.ratings.note.len()
    }

    /// Whether no rating was added yet.
    pub fn is_empty(&self) -> bool {
        self.ratings.note.is_empty()
    }

    /// The finished table.
    pub fn finish(self) -> Ratings {
        self.ratings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(note_id: i64, rater: &str, level: Option<HelpfulnessLevel>, flags: u8) -> RatingRow {
        RatingRow {
            note_id,
            rater: rater.into(),
            created_at_millis: 1,
            version: Some(2),
            flags,
            level,
            tags: 0,
            rated_on_tweet_id: None,
            source: Some(RatingSource::Default),
            suggestion: None,
            suggestion_id: None,
        }
    }

    #[test]
    fn public_ids_are_hex_keys_and_other_ids_stay_text() {
        let public = "B8A2325F24558D5F3CB877B57B21CFA15839F980169AE684692E4ED12FE2A86E";
        let RaterKey::Hex(hex) = RaterKey::new(public) else {
            panic!("a public id is packed");
        };
        assert_eq!(hex.encode(), public);
        assert_eq!(
            RaterKey::from_bytes(public.as_bytes()),
            Some(RaterKey::Hex(hex))
        );
        let lower = public.to_lowercase();
        let not_hex = public.replace('B', "G");
        let with_e_acute = format!("{}\u{e9}", &public[..62]);
        for other in [
            "",
            "rater-1",
            &public[..63],
            &format!("{public}0"),
            &lower,
            &not_hex,
            &public.replace('8', ":"),
            &public.replace('A', "@"),
            &with_e_acute,
        ] {
            assert_eq!(RaterKey::new(other), RaterKey::Text(other), "{other:?}");
            assert_eq!(
                RaterKey::from_bytes(other.as_bytes()),
                Some(RaterKey::Text(other))
            );
            assert_eq!(RaterKey::new(other).to_text(), other);
        }
        let mut bytes = public.as_bytes().to_vec();
        bytes[10] = 0xC0;
        assert_eq!(RaterKey::from_bytes(&bytes), None);
        bytes[10] = b'A' | 0x80;
        assert_eq!(RaterKey::from_bytes(&bytes), None);
    }

    /// Byte by byte: the value of one uppercase hex digit.
    fn digit_value(b: u8) -> Option<u64> {
        match b {
            b'0'..=b'9' => Some(u64::from(b - b'0')),
            b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
            _ => None,
        }
    }

    /// Bytes near the edges of the hex ranges, and any byte.
    fn near_hex_byte() -> impl proptest::strategy::Strategy<Value = u8> {
        use proptest::prelude::*;
        prop_oneof![
            4 => proptest::sample::select(b"0123456789ABCDEF".to_vec()),
            2 => proptest::sample::select(b"/:@Gaf`g \x00\x7F\x80\xB0\xC1\xFF".to_vec()),
            1 => any::<u8>(),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The word-at-a-time check and packing of eight digits agree with a byte-by-byte
        /// reading of them, for any bytes.
        #[test]
        fn hex8_agrees_with_byte_by_byte(bytes in proptest::array::uniform8(near_hex_byte())) {
            let expected = bytes.iter().enumerate().try_fold(0u64, |acc, (j, &b)| {
                Some(acc | digit_value(b)? << (4 * j))
            });
            proptest::prop_assert_eq!(hex8(bytes).map(u64::from), expected);
        }

        /// Exactly the ids of 64 uppercase hex digits pack, and they encode back to the same
        /// text; two ids share a packed key only when they are equal.
        #[test]
        fn hex_ids_round_trip_and_only_they_pack(
            a in proptest::collection::vec(near_hex_byte(), 62..=66),
            b in proptest::collection::vec(near_hex_byte(), 64..=64),
        ) {
            for id in [&a, &b] {
                let hex = id.len() == 64 && id.iter().all(|&c| digit_value(c).is_some());
                let decoded = HexId::decode(id);
                proptest::prop_assert_eq!(decoded.is_some(), hex);
                if let Some(decoded) = decoded {
                    proptest::prop_assert_eq!(decoded.encode().into_bytes(), id.clone());
                }
            }
            if let (Some(x), Some(y)) = (HexId::decode(&a), HexId::decode(&b)) {
                proptest::prop_assert_eq!(x == y, a == b);
            }
        }

        #[test]
        fn hex_ids_decode_and_encode_back(id in "[0-9A-F]{64}") {
            let decoded = HexId::decode(id.as_bytes());
            proptest::prop_assert_eq!(decoded.map(|d| d.encode()), Some(id));
        }
    }

    proptest::proptest! {
        /// Interning gives two ids the same index exactly when they are the same text,
        /// whatever mix of packed and text keys they take.
        #[test]
        fn interning_tells_every_id_apart(
            ids in proptest::collection::vec(
                proptest::prop_oneof![
                    "[0-9A-F]{64}",
                    "[0-9A-Fa-f]{64}",
                    "[0-9A-F]{1,3}",
                    "[0-9A-Z]{63,65}",
                    proptest::string::string_regex(".{0,70}").unwrap(),
                ],
                1..60,
            )
        ) {
            let mut builder = RatingsBuilder::default();
            let indices: Vec<u32> = ids.iter().map(|id| builder.intern_rater(id)).collect();
            for (i, a) in ids.iter().enumerate() {
                proptest::prop_assert_eq!(builder.find_rater(a), Some(indices[i]));
                for (j, b) in ids.iter().enumerate() {
                    proptest::prop_assert_eq!(a == b, indices[i] == indices[j]);
                }
            }
            let ratings = builder.finish();
            for (i, id) in ids.iter().enumerate() {
                proptest::prop_assert_eq!(&ratings.rater_ids[indices[i] as usize], id);
            }
        }
    }

    #[test]
    fn helpful_num_prefers_the_level_over_legacy_flags() {
        let mut b = RatingsBuilder::default();
        b.push(&row(
            1,
            "a",
            Some(HelpfulnessLevel::SomewhatHelpful),
            flag::NOT_HELPFUL_V1,
        ));
        b.push(&row(1, "b", None, flag::HELPFUL_V1));
        b.push(&row(2, "a", None, flag::NOT_HELPFUL_V1 | flag::HELPFUL_V1));
        b.push(&row(2, "c", None, 0));
        let r = b.finish();
        assert_eq!(r.helpful_num(0), Some(0.5));
        assert_eq!(r.helpful_num(1), Some(1.0));
        assert_eq!(r.helpful_num(2), Some(0.0));
        assert_eq!(r.helpful_num(3), None);
        assert_eq!(r.note_ids, vec![1, 2]);
        assert_eq!(r.rater_ids, vec!["a", "b", "c"]);
    }

    #[test]
    fn append_reinterns_ids_and_shifts_suggestions() {
        let mut a = RatingsBuilder::keeping_unused_columns();
        a.push(&row(1, "x", Some(HelpfulnessLevel::Helpful), 0));
        let mut b = RatingsBuilder::keeping_unused_columns();
        let mut with_suggestion = row(2, "x", Some(HelpfulnessLevel::Helpful), 0);
        with_suggestion.suggestion = Some("shorter".into());
        b.push(&row(1, "y", None, flag::HELPFUL_V1));
        b.push(&with_suggestion);
        let mut merged = a.finish();
        merged.append(b.finish());
        assert_eq!(merged.len(), 3);
        assert_eq!(merged.rater_ids, vec!["x", "y"]);
        assert_eq!(merged.row(2), with_suggestion);
        assert_eq!(merged.row(1).suggestion, None);
    }
}
