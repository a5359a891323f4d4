//! The ratings reader on arbitrary bytes (plain or gzipped), with and without a header line.
//! Its result must not depend on the block and chunk sizes it reads and parses in (tiny
//! sizes cross every boundary), and whatever it accepts must survive a write and a second
//! read unchanged.
#![no_main]

use std::path::Path;

use bridgenotes_format::{FormatError, ReadOptions};
use bridgenotes_format::ratings::{
    header, push_rating_line, read_ratings_from, read_ratings_from_in_blocks,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("ratings.tsv");
    for (headers, keep_unused_columns) in [(true, true), (false, false)] {
        let options = ReadOptions {
            headers,
            keep_unused_columns,
        };
        let whole = read_ratings_from(data, path, &options);
        for (block, chunk) in [(1, 1), (7, 3), (64, 16)] {
            let small = read_ratings_from_in_blocks(data, path, &options, block, chunk);
            match (&whole, &small) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "blocks of {block}, chunks of {chunk}"),
                // A damaged gzip stream fails where the reader reaches the damage, which
                // may be before or after the first bad line, depending on the block size.
                (Err(FormatError::Io { .. }), Err(_)) | (Err(_), Err(FormatError::Io { .. })) => {}
                (Err(a), Err(b)) => assert_eq!(
                    a.to_string(),
                    b.to_string(),
                    "blocks of {block}, chunks of {chunk}"
                ),
                _ => panic!("blocks of {block}, chunks of {chunk}: {whole:?} but {small:?}"),
            }
        }
        if let Ok(ratings) = whole {
            let mut text = header();
            for i in 0..ratings.len() {
                push_rating_line(&mut text, &ratings.row(i));
            }
            let again = read_ratings_from(text.as_bytes(), path, &options_with_header(&options))
                .unwrap_or_else(|e| panic!("written ratings do not read back: {e}\n{text:?}"));
            assert_eq!(again, ratings, "ratings changed in a write and read\n{text:?}");
        }
    }
});

fn options_with_header(options: &ReadOptions) -> ReadOptions {
    ReadOptions {
        headers: true,
        ..options.clone()
    }
}
