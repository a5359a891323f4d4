//! Malformed inputs give errors that name the file, the line and the column — never a panic,
//! never a silent skip.

use std::io::Write;
use std::path::PathBuf;

use bridgenotes_format::{FormatError, ReadOptions, enrollment, notes, ratings};

fn ratings_header() -> String {
    ratings::header()
}

fn rating_line(note: &str, rater: &str, created: &str, level: &str) -> String {
    let mut cells = vec![note, rater, created, "2", "0", "0", "0", "0", level];
    cells.extend(std::iter::repeat_n("0", 22));
    cells.extend(["1", "DEFAULT", "", ""]);
    cells.join("\t") + "\n"
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn read_ratings_text(text: &str) -> Result<bridgenotes_engine::Ratings, FormatError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "ratings.tsv", text.as_bytes());
    ratings::read_ratings(&path, &ReadOptions::default())
}

#[test]
fn bad_number_names_line_column_and_value() {
    let text = ratings_header()
        + &rating_line("1", "a", "1000", "HELPFUL")
        + &rating_line("2", "b", "12x4", "HELPFUL");
    let err = read_ratings_text(&text).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            FormatError::Cell {
                line: 3,
                column: 3,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("ratings.tsv:3"), "{message}");
    assert!(message.contains("createdAtMillis"), "{message}");
    assert!(message.contains("12x4"), "{message}");
}

#[test]
fn errors_deep_in_a_large_file_name_the_right_line() {
    // About 56 MB: several parallel chunks and more than one read block before the bad
    // row, so the line number must be carried across both.
    const ROWS: usize = 300_000;
    let rater = "B8A2325F24558D5F3CB877B57B21CFA15839F980169AE684692E4ED12FE2A86E";
    let mut text = ratings_header();
    for i in 0..ROWS {
        let created = if i == ROWS - 7 {
            "7x".to_string()
        } else {
            i.to_string()
        };
        text += &rating_line(&(i / 10).to_string(), rater, &created, "HELPFUL");
    }
    assert!(text.len() > 40 << 20, "spans blocks: {} bytes", text.len());
    let err = read_ratings_text(&text).unwrap_err();
    // The header is line 1 and row i is line i + 2.
    assert_eq!(err.line(), Some((ROWS - 7 + 2) as u64), "{err}");
    let ragged = text.replacen("\tHELPFUL\t", "\tHELPFUL\t\t", 1);
    let ok_rows = read_ratings_text(&text.replace("\t7x\t", "\t7\t")).unwrap();
    assert_eq!(ok_rows.len(), ROWS);
    assert_eq!(read_ratings_text(&ragged).unwrap_err().line(), Some(2));
}

#[test]
fn unknown_enum_value_is_an_error() {
    let text = ratings_header() + &rating_line("1", "a", "1000", "VERY_HELPFUL");
    let message = read_ratings_text(&text).unwrap_err().to_string();
    assert!(
        message.contains("helpfulnessLevel") && message.contains("VERY_HELPFUL"),
        "{message}"
    );
    assert!(
        message.contains("SOMEWHAT_HELPFUL"),
        "lists the expected values: {message}"
    );
}

#[test]
fn missing_required_value_is_an_error() {
    let text = ratings_header() + &rating_line("", "a", "1000", "HELPFUL");
    let err = read_ratings_text(&text).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Cell {
                line: 2,
                column: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn missing_column_is_named() {
    let header = ratings_header().replace("createdAtMillis\t", "");
    let err = read_ratings_text(&header).unwrap_err();
    assert!(
        matches!(&err, FormatError::MissingColumn { name, .. } if name == "createdAtMillis"),
        "{err}"
    );
}

#[test]
fn ragged_row_names_its_line() {
    let mut bad = rating_line("2", "b", "1000", "HELPFUL");
    bad.insert_str(bad.len() - 1, "\textra");
    let text = ratings_header() + &rating_line("1", "a", "1000", "HELPFUL") + &bad;
    let err = read_ratings_text(&text).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Ragged {
                line: 3,
                expected: 35,
                found: 36,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_utf8_is_an_error() {
    let mut text = (ratings_header() + &rating_line("1", "a", "1000", "HELPFUL")).into_bytes();
    let at = text.len() - 40;
    let bad_line = rating_line("2", "r\u{e9}", "1000", "HELPFUL").replace('\u{e9}', "\u{1}");
    let mut bad = bad_line.into_bytes();
    let pos = bad.iter().position(|&b| b == 1).unwrap();
    bad[pos] = 0xff;
    text.extend_from_slice(&bad);
    assert!(at > 0);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "ratings.tsv", &text);
    let err = ratings::read_ratings(&path, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Cell {
                line: 3,
                column: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "notes.tsv", b"");
    let err = notes::read_notes(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, FormatError::Empty { .. }), "{err}");
    let path = write(&dir, "ratings.tsv", b"");
    let err = ratings::read_ratings(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, FormatError::Empty { .. }), "{err}");
}

#[test]
fn columns_may_be_reordered_extra_ignored_and_deprecated_absent() {
    let text = "raterParticipantId\tsomethingNew\tnoteId\tcreatedAtMillis\thelpfulnessLevel\n\
                a\tx\t7\t1000\tSOMEWHAT_HELPFUL\n\
                b\ty\t7\t1001\tNOT_HELPFUL\r\n";
    let r = read_ratings_text(text).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r.note_id(1), 7);
    assert_eq!(r.rater_id(0), "a");
    assert_eq!(r.helpful_num(0), Some(0.5));
    assert_eq!(r.helpful_num(1), Some(0.0));
}

#[test]
fn quoted_suggestions_use_the_careful_reader() {
    let mut line = rating_line("1", "a", "1000", "HELPFUL");
    line = line.replacen("\tDEFAULT\t\t", "\tDEFAULT\t\"say \"\"when\"\"\ttab\"\t", 1);
    let text = ratings_header() + &rating_line("1", "b", "999", "HELPFUL") + &line;
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "ratings.tsv", text.as_bytes());
    let options = ReadOptions {
        keep_unused_columns: true,
        ..ReadOptions::default()
    };
    let r = ratings::read_ratings(&path, &options).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r.row(1).suggestion.as_deref(), Some("say \"when\"\ttab"));
}

#[test]
fn ratings_directory_reads_part_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "ratings-00001.tsv",
        (ratings_header() + &rating_line("2", "b", "5", "HELPFUL")).as_bytes(),
    );
    write(
        &dir,
        "ratings-00000.tsv",
        (ratings_header() + &rating_line("1", "a", "5", "HELPFUL")).as_bytes(),
    );
    write(&dir, "README.txt", b"not a ratings file");
    let r = ratings::read_ratings(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!((r.note_id(0), r.note_id(1)), (1, 2));
}

#[test]
fn enrollment_state_must_be_known() {
    let dir = tempfile::tempdir().unwrap();
    let text = enrollment::header() + "p1\tsuperUser\t5\t100\t1\tCORE\t3\t0\n";
    let path = write(&dir, "userEnrollment.tsv", text.as_bytes());
    let err = enrollment::read_enrollment(&path, &ReadOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("userEnrollment.tsv:2") && message.contains("superUser"),
        "{message}"
    );
}

#[test]
fn headerless_files_must_have_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "r.tsv",
        rating_line("1", "a", "5", "HELPFUL").as_bytes(),
    );
    let options = ReadOptions {
        headers: false,
        ..ReadOptions::default()
    };
    assert_eq!(ratings::read_ratings(&path, &options).unwrap().len(), 1);
    let path = write(&dir, "short.tsv", b"1\ta\t5\n");
    assert!(ratings::read_ratings(&path, &options).is_err());
}

#[test]
fn rows_after_crlf_line_ends_name_their_own_line() {
    // Found by fuzzing: the `csv` reader behind the notes, history, enrollment and requests
    // readers reported each row after a CRLF line end as the line before.
    let mut text = notes::header();
    let row = |id: &str| {
        let mut cells = vec![id, "a", "1000", "7", "NOT_MISLEADING"];
        cells.extend(std::iter::repeat_n("", 3));
        cells.extend(std::iter::repeat_n("0", 13));
        cells.extend(["a summary", "0", "0"]);
        cells.join("\t") + "\n"
    };
    text += &row("1");
    text += &row("2");
    text += &row("12x4");
    let crlf = text.replace('\n', "\r\n");
    let path = std::path::Path::new("notes.tsv");
    for text in [&text, &crlf] {
        let message = notes::read_notes_from(text.as_bytes(), path, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "notes.tsv:4: column 1 (noteId): not an integer: \"12x4\""
        );
    }
    let good = crlf.replace("12x4", "3");
    let read = notes::read_notes_from(good.as_bytes(), path, &ReadOptions::default()).unwrap();
    assert_eq!(read.len(), 3);
}
