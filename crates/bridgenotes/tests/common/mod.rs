//! Helpers shared by the golden-data fidelity tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bridgenotes_engine::community::Community;
use bridgenotes_engine::preprocess::prepare;
use bridgenotes_engine::topic::Topic;
use bridgenotes_format::table::TextTable;
use bridgenotes_format::{ReadOptions, enrollment, history, notes, ratings};

/// A golden dataset's folder (shared/ sits beside the checkout).
pub fn golden(dataset: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden")
        .join(dataset)
}

/// The prepared community of a golden dataset.
pub fn load(dir: &Path) -> Community {
    let o = ReadOptions::default();
    let file = |name: &str| dir.join(format!("input/{name}-00000.tsv.gz"));
    prepare(
        notes::read_notes(&file("notes"), &o).unwrap(),
        ratings::read_ratings(&file("ratings"), &o).unwrap(),
        history::read_status_history(&file("noteStatusHistory"), &o).unwrap(),
        enrollment::read_enrollment(&file("userEnrollment"), &o).unwrap(),
    )
    .unwrap()
    .0
}

/// Pearson correlation of pairs.
pub fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

/// Topics as the generator planted them (truth.json). The reference's topic model recovers
/// these on the golden data; the topic model has tests of its own.
pub fn truth_topics(dir: &Path, community: &Community) -> Vec<Option<Topic>> {
    // Topics as the generator planted them (truth.json): the reference's topic model
    // recovers these on the golden data; the topic model has tests of its own.
    let truth: serde_json::Value =
        serde_json::from_reader(std::fs::File::open(dir.join("input/truth.json")).unwrap())
            .unwrap();
    let mut topics: Vec<Option<Topic>> = vec![None; community.notes.len()];
    let ids = truth["notes"]["noteId"].as_array().unwrap();
    for (id, topic) in ids.iter().zip(truth["notes"]["topic"].as_array().unwrap()) {
        let id: i64 = id.as_str().unwrap().parse().unwrap();
        if let Some(n) = community.note_index(id) {
            topics[n as usize] = topic.as_str().and_then(|t| t.parse().ok());
        }
    }
    topics
}

/// Reference values of `column` per community note.
pub fn reference(scored: &TextTable, community: &Community, column: &str) -> Vec<Option<f64>> {
    let mut out = vec![None; community.notes.len()];
    let ids = scored.ints("noteId").unwrap();
    for (id, value) in ids.iter().zip(scored.floats(column).unwrap()) {
        out[community.note_index(id.unwrap()).unwrap() as usize] = value;
    }
    out
}

pub struct Agreement {
    pub compared: usize,
    pub only_ours: Vec<usize>,
    pub only_theirs: Vec<usize>,
    pub r: f64,
    pub max_diff: f64,
}

pub fn agreement(ours: &[Option<f64>], theirs: &[Option<f64>]) -> Agreement {
    let (mut pairs, mut only_ours, mut only_theirs) = (vec![], vec![], vec![]);
    for (n, (a, b)) in ours.iter().zip(theirs).enumerate() {
        match (a, b) {
            (Some(a), Some(b)) => pairs.push((*a, *b)),
            (Some(_), None) => only_ours.push(n),
            (None, Some(_)) => only_theirs.push(n),
            (None, None) => {}
        }
    }
    let max_diff = pairs.iter().map(|p| (p.0 - p.1).abs()).fold(0.0, f64::max);
    let bias = pairs.iter().map(|p| p.0 - p.1).sum::<f64>() / pairs.len() as f64;
    println!("    mean(ours - reference) = {bias:+.6}");
    Agreement {
        compared: pairs.len(),
        only_ours,
        only_theirs,
        r: pearson(&pairs),
        max_diff,
    }
}

/// Flags set on both sides, and how many of them agree (e.g. `aboveHelpfulnessThreshold`).
pub fn flag_agreement(ours: &[Option<bool>], theirs: &[Option<bool>]) -> (usize, usize) {
    let (mut both, mut same) = (0, 0);
    for (a, b) in ours.iter().zip(theirs) {
        if let (Some(a), Some(b)) = (a, b) {
            both += 1;
            same += (a == b) as usize;
        }
    }
    (same, both)
}
