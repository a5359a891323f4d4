//! Every golden input file reads and writes back byte for byte.

use std::io::Read;
use std::path::{Path, PathBuf};

use bridgenotes_format::{ReadOptions, enrollment, history, notes, ratings, requests};

fn golden_inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (shared/ must sit beside the checkout)",
                root.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path().join("input")))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no golden datasets under {}",
        root.display()
    );
    dirs
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    text
}

fn assert_same_text(original: &Path, written: &Path) {
    let want = gunzip(original);
    let got = std::fs::read(written).unwrap();
    if want != got {
        let want = String::from_utf8_lossy(&want);
        let got = String::from_utf8_lossy(&got);
        for (i, (a, b)) in want.lines().zip(got.lines()).enumerate() {
            assert_eq!(
                a,
                b,
                "{}: first difference on line {}",
                original.display(),
                i + 1
            );
        }
        panic!("{}: line counts differ", original.display());
    }
}

#[test]
fn golden_inputs_round_trip_byte_for_byte() {
    let options = ReadOptions {
        keep_unused_columns: true,
        ..ReadOptions::default()
    };
    let out = tempfile::tempdir().unwrap();
    for dir in golden_inputs() {
        let file = |name: &str| dir.join(format!("{name}-00000.tsv.gz"));
        let target = |name: &str| out.path().join(format!("{name}.tsv"));

        let n = notes::read_notes(&file("notes"), &options).unwrap();
        notes::write_notes(&target("notes"), &n).unwrap();
        assert_same_text(&file("notes"), &target("notes"));

        let r = ratings::read_ratings(&file("ratings"), &options).unwrap();
        ratings::write_ratings(&target("ratings"), &r).unwrap();
        assert_same_text(&file("ratings"), &target("ratings"));

        let h = history::read_status_history(&file("noteStatusHistory"), &options).unwrap();
        history::write_status_history(&target("noteStatusHistory"), &h).unwrap();
        assert_same_text(&file("noteStatusHistory"), &target("noteStatusHistory"));

        let e = enrollment::read_enrollment(&file("userEnrollment"), &options).unwrap();
        enrollment::write_enrollment(&target("userEnrollment"), &e).unwrap();
        assert_same_text(&file("userEnrollment"), &target("userEnrollment"));

        let q = requests::read_note_requests(&file("noteRequests"), &options).unwrap();
        requests::write_note_requests(&target("noteRequests"), &q).unwrap();
        assert_same_text(&file("noteRequests"), &target("noteRequests"));

        // Reading what we wrote gives the same tables again.
        assert_eq!(notes::read_notes(&target("notes"), &options).unwrap(), n);
        assert_eq!(
            ratings::read_ratings(&target("ratings"), &options).unwrap(),
            r
        );
        assert_eq!(
            history::read_status_history(&target("noteStatusHistory"), &options).unwrap(),
            h
        );
    }
}
