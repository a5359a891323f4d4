//! The note requests reader on arbitrary bytes (plain or gzipped), with and without a header
//! line. Whatever it accepts must survive a write and a second read unchanged.
#![no_main]

use std::path::Path;

use bridgenotes_format::ReadOptions;
use bridgenotes_format::requests::{header, push_note_request_line, read_note_requests_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("note_requests.tsv");
    for headers in [true, false] {
        let options = ReadOptions {
            headers,
            ..ReadOptions::default()
        };
        if let Ok(rows) = read_note_requests_from(data, path, &options) {
            let mut text = header();
            for row in &rows {
                push_note_request_line(&mut text, row);
            }
            let again = read_note_requests_from(text.as_bytes(), path, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("written note requests do not read back: {e}\n{text:?}"));
            assert_eq!(again, rows, "note requests changed in a write and read\n{text:?}");
        }
    }
});
