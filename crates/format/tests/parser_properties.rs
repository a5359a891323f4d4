//! Property tests: any rating table written and read back is the same table, arbitrary
//! bytes never make a reader panic, and a ratings file reads the same mapped or streamed.

use bridgenotes_engine::rating::{RatingRow, RatingsBuilder};
use bridgenotes_engine::{HelpfulnessLevel, RatingSource};
use bridgenotes_format::{ReadOptions, notes, ratings};
use proptest::prelude::*;

fn rating_row() -> impl Strategy<Value = RatingRow> {
    (
        any::<i64>(),
        "[A-F0-9]{1,16}",
        any::<i64>(),
        proptest::option::of(any::<i8>()),
        0u8..16,
        proptest::option::of(prop_oneof![
            Just(HelpfulnessLevel::Helpful),
            Just(HelpfulnessLevel::SomewhatHelpful),
            Just(HelpfulnessLevel::NotHelpful)
        ]),
        0u32..(1 << 22),
        proptest::option::of(any::<i64>()),
        proptest::option::of(prop_oneof![
            Just(RatingSource::Default),
            Just(RatingSource::PopulationSampled)
        ]),
        proptest::option::of("[a-z \"\t]{1,12}"),
    )
        .prop_map(
            |(note_id, rater, created, version, flags, level, tags, tweet, source, suggestion)| {
                RatingRow {
                    note_id,
                    rater,
                    created_at_millis: created,
                    version,
                    flags,
                    level,
                    tags,
                    rated_on_tweet_id: tweet,
                    source,
                    suggestion_id: suggestion.as_ref().map(|s| s.len() as i64),
                    suggestion,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ratings_round_trip(rows in proptest::collection::vec(rating_row(), 0..40)) {
        let mut builder = RatingsBuilder::keeping_unused_columns();
        rows.iter().for_each(|r| builder.push(r));
        let table = builder.finish();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ratings.tsv");
        ratings::write_ratings(&path, &table).unwrap();
        let options = ReadOptions { keep_unused_columns: true, ..ReadOptions::default() };
        let back = ratings::read_ratings(&path, &options).unwrap();
        prop_assert_eq!(back, table);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = ratings::header().into_bytes();
        text.extend_from_slice(&bytes);
        let path = dir.path().join("ratings.tsv");
        std::fs::write(&path, &text).unwrap();
        // A plain file is read mapped into memory; the same bytes streamed read the same.
        let mapped = ratings::read_ratings(&path, &ReadOptions::default());
        let streamed = ratings::read_ratings_from(&text[..], &path, &ReadOptions::default());
        prop_assert_eq!(
            mapped.map_err(|e| e.to_string()),
            streamed.map_err(|e| e.to_string())
        );
        let mut text = notes::header().into_bytes();
        text.extend_from_slice(&bytes);
        std::fs::write(&path, &text).unwrap();
        let _ = notes::read_notes(&path, &ReadOptions::default());
    }
}
