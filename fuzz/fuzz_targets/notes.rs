//! The notes reader on arbitrary bytes (plain or gzipped), with and without a header line.
//! Whatever it accepts must survive a write and a second read unchanged.
#![no_main]

use std::path::Path;

use bridgenotes_format::ReadOptions;
use bridgenotes_format::notes::{header, push_note_line, read_notes_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("notes.tsv");
    for headers in [true, false] {
        let options = ReadOptions {
            headers,
            ..ReadOptions::default()
        };
        if let Ok(notes) = read_notes_from(data, path, &options) {
            let mut text = header();
            for note in &notes {
                push_note_line(&mut text, note);
            }
            let again = read_notes_from(text.as_bytes(), path, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("written notes do not read back: {e}\n{text:?}"));
            assert_eq!(again, notes, "notes changed in a write and read\n{text:?}");
        }
    }
});
