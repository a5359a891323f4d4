//! Hostile input to `bridgenotes score`, end to end: damaged, duplicated, oddly encoded and
//! oversized files. Each case either stops with an error that names the file (and the line
//! and column where there is one) and writes no output file, or scores with a counted
//! warning for what it skipped. None may panic. The behaviour of each case, and how it
//! compares with the reference scorer, is listed in the format crate's documentation
//! (`bridgenotes_format`, "Hostile input").

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const OUTPUTS: [&str; 4] = [
    "scored_notes.tsv",
    "helpfulness_scores.tsv",
    "note_status_history.tsv",
    "aux_note_info.tsv",
];
const EPOCH_MILLIS: i64 = 1_795_132_800_000;

/// The four inputs by their names in the `synth` output.
const NOTES: &str = "notes-00000.tsv";
const RATINGS: &str = "ratings-00000.tsv";
const HISTORY: &str = "noteStatusHistory-00000.tsv";
const ENROLLMENT: &str = "userEnrollment-00000.tsv";

/// A small synthetic community, written once per test run.
fn community() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-input-community");
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
            .args(["synth", "--quiet", "--notes", "150", "--raters", "120"])
            .args(["--ratings", "3000", "--seed", "8", "--out"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        dir
    })
}

/// A copy of the community to damage, and an output folder.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        for name in [NOTES, RATINGS, HISTORY, ENROLLMENT] {
            std::fs::copy(community().join(name), dir.path().join(name)).unwrap();
        }
        Case { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).unwrap();
    }

    fn text(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).unwrap()
    }

    /// Appends `line` (without its line end) to input `name`.
    fn append_line(&self, name: &str, line: &str) {
        let mut text = self.text(name);
        text.push_str(line);
        text.push('\n');
        self.write(name, text.as_bytes());
    }

    /// The data line `n` (1-based, after the header) of input `name`, without its line end.
    fn line(&self, name: &str, n: usize) -> String {
        self.text(name).lines().nth(n).unwrap().to_string()
    }

    fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// Runs `bridgenotes score` over the inputs, with `ratings` in place of the ratings file.
    fn score_with(&self, ratings: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_bridgenotes"))
            // The error text is under test: no backtrace however the caller's shell is set.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .args(["score", "--quiet", "--threads", "2", "--nopseudoraters"])
            .args(["--epoch-millis", &EPOCH_MILLIS.to_string()])
            .arg("-n")
            .arg(self.path(NOTES))
            .arg("-r")
            .arg(self.path(ratings))
            .arg("-s")
            .arg(self.path(HISTORY))
            .arg("-e")
            .arg(self.path(ENROLLMENT))
            .arg("-o")
            .arg(self.out())
            .output()
            .unwrap()
    }

    fn score(&self) -> Output {
        self.score_with(RATINGS)
    }

    /// Scores, expecting an error that contains each of `expected`, and no output file.
    fn fails(&self, expected: &[&str]) -> String {
        let output = self.score();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(1),
            "not a clean failure:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        for e in expected {
            assert!(stderr.contains(e), "expected {e:?} in:\n{stderr}");
        }
        self.no_outputs();
        stderr
    }

    /// Scores, expecting success with all four outputs; returns the warnings.
    fn scores(&self) -> String {
        let output = self.score();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        for name in OUTPUTS {
            let text = std::fs::read_to_string(self.out().join(name)).unwrap();
            assert!(text.ends_with('\n') && text.lines().count() > 1, "{name}");
        }
        stderr
    }

    fn no_outputs(&self) {
        for name in OUTPUTS {
            assert!(
                !self.out().join(name).exists(),
                "{name} was written by a failed run"
            );
        }
    }

    /// The output files that do not read the wall clock, as bytes.
    fn stable_outputs(&self) -> Vec<Vec<u8>> {
        ["scored_notes.tsv", "helpfulness_scores.tsv"]
            .iter()
            .map(|name| std::fs::read(self.out().join(name)).unwrap())
            .collect()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Sets cell `column` (0-based) of a tab-separated line.
fn with_cell(line: &str, column: usize, value: &str) -> String {
    let mut cells: Vec<&str> = line.split('\t').collect();
    cells[column] = value;
    cells.join("\t")
}

#[test]
fn a_truncated_gzip_file_is_an_error() {
    let case = Case::new();
    let gz = gzip(&case.read(RATINGS));
    case.write("ratings.tsv.gz", &gz[..gz.len() / 2]);
    let output = case.score_with("ratings.tsv.gz");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ratings.tsv.gz"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    case.no_outputs();

    // Cut inside the 8-byte trailer (checksum and length): still an error, never a short file.
    case.write("ratings.tsv.gz", &gz[..gz.len() - 3]);
    let output = case.score_with("ratings.tsv.gz");
    assert_eq!(output.status.code(), Some(1));
    case.no_outputs();
}

#[test]
fn a_plain_file_cut_mid_row_names_the_line() {
    let case = Case::new();
    let ratings = case.text(RATINGS);
    let lines = ratings.lines().count();
    let cut = ratings.trim_end().len() - 40; // inside the last row, before its tag columns
    case.write(RATINGS, &ratings.as_bytes()[..cut]);
    case.fails(&[&format!(
        "{RATINGS}:{lines}: expected 35 tab-separated fields"
    )]);

    let case = Case::new();
    let notes = case.text(NOTES);
    let lines = notes.lines().count();
    let last = notes.lines().last().unwrap();
    let cut = notes.len() - 1 - last.len() + last.find('\t').unwrap() + 3;
    case.write(NOTES, &notes.as_bytes()[..cut]);
    case.fails(&[&format!(
        "{NOTES}:{lines}: expected 24 tab-separated fields"
    )]);
}

#[test]
fn duplicated_note_ids() {
    // An exact copy of a row is dropped, counted in a warning (as the reference does).
    let case = Case::new();
    case.append_line(NOTES, &case.line(NOTES, 3));
    let warnings = case.scores();
    assert!(
        warnings.contains("dropped 1 exact duplicate note row(s)"),
        "{warnings}"
    );

    // The same id with different values is an error naming the file and the id.
    let case = Case::new();
    let copy = case.line(NOTES, 3);
    let note_id = copy.split('\t').next().unwrap().to_string();
    case.append_line(NOTES, &with_cell(&copy, 21, "a different summary"));
    case.fails(&[NOTES, &format!("note {note_id} appears twice")]);
}

#[test]
fn duplicated_ratings() {
    // An exact copy of a rating is dropped, counted in a warning (as the reference does).
    let case = Case::new();
    case.append_line(RATINGS, &case.line(RATINGS, 5));
    let warnings = case.scores();
    assert!(
        warnings.contains("dropped 1 exact duplicate rating(s)"),
        "{warnings}"
    );

    // The same rater and note with different values is an error naming both and the file.
    let case = Case::new();
    let copy = case.line(RATINGS, 5);
    let cells: Vec<&str> = copy.split('\t').collect();
    let (note_id, rater) = (cells[0].to_string(), cells[1].to_string());
    let later = (cells[2].parse::<i64>().unwrap() + 1).to_string();
    case.append_line(RATINGS, &with_cell(&copy, 2, &later));
    case.fails(&[
        RATINGS,
        &format!("rater {rater} rated note {note_id} twice"),
    ]);
}

#[test]
fn ratings_of_unknown_notes_are_dropped_and_counted() {
    let case = Case::new();
    let known = case.line(RATINGS, 1);
    for (i, note_id) in ["4242", "4243", "4242"].iter().enumerate() {
        let line = with_cell(&known, 0, note_id);
        case.append_line(RATINGS, &with_cell(&line, 1, &format!("stranger{i}")));
    }
    let warnings = case.scores();
    assert!(
        warnings.contains(
            "dropped 3 rating(s) of 2 note(s) in neither the notes file nor the note status history"
        ),
        "{warnings}"
    );
    let scored = std::fs::read_to_string(case.out().join("scored_notes.tsv")).unwrap();
    assert!(!scored.lines().any(|l| l.starts_with("4242\t")));
}

#[test]
fn timestamps_in_the_future_are_scored_and_counted() {
    let case = Case::new();
    let future = (EPOCH_MILLIS + 86_400_000).to_string();
    let mut text = case.text(RATINGS);
    let last = case.line(RATINGS, 7);
    text = text.replace(&last, &with_cell(&last, 2, &future));
    case.write(RATINGS, text.as_bytes());
    let note = case.line(NOTES, 2);
    let mut notes = case.text(NOTES);
    notes = notes.replace(&note, &with_cell(&note, 2, &future));
    case.write(NOTES, notes.as_bytes());
    // The history repeats the note's creation time; keep them consistent.
    let note_id = note.split('\t').next().unwrap();
    let history = case.text(HISTORY);
    let fixed: String = history
        .lines()
        .map(|l| {
            if l.split('\t').next() == Some(note_id) {
                with_cell(l, 2, &future)
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    case.write(HISTORY, fixed.as_bytes());
    let warnings = case.scores();
    assert!(
        warnings.contains("1 note(s) and 1 rating(s) were created after the scoring time"),
        "{warnings}"
    );
}

#[test]
fn a_ten_megabyte_line_is_an_error_with_a_short_message() {
    // A line of 10 MB without a tab: the row's field count is wrong.
    let case = Case::new();
    let lines = case.text(RATINGS).lines().count();
    case.append_line(RATINGS, &"x".repeat(10 << 20));
    let stderr = case.fails(&[&format!(
        "{RATINGS}:{}: expected 35 tab-separated fields as in the header, found 1",
        lines + 1
    )]);
    assert!(stderr.len() < 2000, "{} bytes of errors", stderr.len());

    // A 10 MB cell where a number belongs: the message shows only its start.
    let case = Case::new();
    let lines = case.text(NOTES).lines().count();
    let line = case.line(NOTES, 1);
    case.append_line(NOTES, &with_cell(&line, 0, &"9".repeat(10 << 20)));
    let stderr = case.fails(&[&format!(
        "{NOTES}:{}: column 1 (noteId): not an integer",
        lines + 1
    )]);
    assert!(stderr.contains("(10485760 bytes in all)"), "{stderr}");
    assert!(stderr.len() < 2000, "{} bytes of errors", stderr.len());
}

#[test]
fn a_ten_megabyte_text_cell_is_read() {
    // A valid row whose free text (a rating's suggestion) is 10 MB long.
    let case = Case::new();
    let line = case.line(RATINGS, 4);
    let line = with_cell(&line, 33, &"s".repeat(10 << 20));
    let mut text = case.text(RATINGS);
    text = text.replace(&case.line(RATINGS, 4), &line);
    case.write(RATINGS, text.as_bytes());
    let reference = Case::new();
    assert!(reference.score().status.success());
    case.scores();
    assert_eq!(case.stable_outputs(), reference.stable_outputs());
}

#[test]
fn crlf_line_ends_and_a_byte_order_mark_read_like_plain_lines() {
    let plain = Case::new();
    assert!(plain.score().status.success());

    let crlf = Case::new();
    for name in [NOTES, RATINGS, HISTORY, ENROLLMENT] {
        let text = crlf.text(name).replace('\n', "\r\n");
        crlf.write(name, text.as_bytes());
    }
    crlf.scores();
    assert_eq!(crlf.stable_outputs(), plain.stable_outputs());

    let bom = Case::new();
    for name in [NOTES, RATINGS, HISTORY, ENROLLMENT] {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(bom.read(name));
        bom.write(name, &bytes);
    }
    bom.scores();
    assert_eq!(bom.stable_outputs(), plain.stable_outputs());
}

#[test]
fn latin1_bytes_in_a_text_field_name_line_and_column() {
    let case = Case::new();
    let mut bytes = case.read(NOTES);
    // The summary (column 22) of the first note: "café" in Latin-1.
    let header_end = bytes.iter().position(|&b| b == b'\n').unwrap();
    let line_end = header_end
        + 1
        + bytes[header_end + 1..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap();
    let last_tabs: Vec<usize> = (header_end..line_end)
        .filter(|&i| bytes[i] == b'\t')
        .collect();
    let summary_end = last_tabs[last_tabs.len() - 2];
    bytes.splice(summary_end..summary_end, *b" caf\xE9");
    case.write(NOTES, &bytes);
    case.fails(&[&format!("{NOTES}:2: column 22 (summary): invalid UTF-8")]);

    let case = Case::new();
    let mut bytes = case.read(RATINGS);
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let tab = at + bytes[at..].iter().position(|&b| b == b'\t').unwrap() + 1;
    bytes.insert(tab, 0xE9);
    case.write(RATINGS, &bytes);
    case.fails(&[&format!(
        "{RATINGS}:2: column 2 (raterParticipantId): invalid UTF-8"
    )]);
}

#[test]
fn empty_files_are_errors_naming_them() {
    for name in [NOTES, RATINGS, HISTORY, ENROLLMENT] {
        let case = Case::new();
        case.write(name, b"");
        case.fails(&[&format!(
            "{name}: the file is empty (expected a header line)"
        )]);
    }
}

#[test]
fn header_only_files() {
    // No ratings at all: nothing to score, an error (the reference fails too).
    let case = Case::new();
    let header = case.text(RATINGS).lines().next().unwrap().to_string() + "\n";
    case.write(RATINGS, header.as_bytes());
    case.fails(&["no ratings"]);

    // No enrollment rows: every contributor is new; scored.
    let case = Case::new();
    let header = case.text(ENROLLMENT).lines().next().unwrap().to_string() + "\n";
    case.write(ENROLLMENT, header.as_bytes());
    case.scores();

    // No status history rows: every note is scored for the first time.
    let case = Case::new();
    let header = case.text(HISTORY).lines().next().unwrap().to_string() + "\n";
    case.write(HISTORY, header.as_bytes());
    case.scores();

    // No notes (but a history): ratings of notes with no notes row are scored as the
    // history's (deleted) notes.
    let case = Case::new();
    let header = case.text(NOTES).lines().next().unwrap().to_string() + "\n";
    case.write(NOTES, header.as_bytes());
    case.scores();
}
