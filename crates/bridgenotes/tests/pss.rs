//! Our clique detection against the reference's `pss_output` on the golden datasets. Clique
//! numbers are arbitrary on both sides, so memberships and partitions are compared: who is
//! in any clique, and which pairs of raters share a clique.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use bridgenotes_engine::pss_detection::{PssParams, detect_cliques, quasi_cliques};
use bridgenotes_format::table::read_text_table;
use common::{golden, load};

/// Clique memberships: rater → the cliques they are in (a rater may be in several
/// quasi-cliques).
type Memberships = BTreeMap<usize, BTreeSet<i64>>;

#[derive(Debug, PartialEq)]
struct Comparison {
    ours: usize,
    theirs: usize,
    both: usize,
    /// Pairs of raters in `both` sharing a clique on both sides / only ours / only theirs.
    pairs_same_both: usize,
    pairs_same_ours_only: usize,
    pairs_same_theirs_only: usize,
}

fn compare(ours: &Memberships, theirs: &Memberships) -> Comparison {
    let common: Vec<usize> = ours
        .keys()
        .filter(|u| theirs.contains_key(u))
        .copied()
        .collect();
    let shares = |m: &Memberships, a: usize, b: usize| !m[&a].is_disjoint(&m[&b]);
    let mut c = Comparison {
        ours: ours.len(),
        theirs: theirs.len(),
        both: common.len(),
        pairs_same_both: 0,
        pairs_same_ours_only: 0,
        pairs_same_theirs_only: 0,
    };
    for (i, &a) in common.iter().enumerate() {
        for &b in &common[i + 1..] {
            match (shares(ours, a, b), shares(theirs, a, b)) {
                (true, true) => c.pairs_same_both += 1,
                (true, false) => c.pairs_same_ours_only += 1,
                (false, true) => c.pairs_same_theirs_only += 1,
                (false, false) => {}
            }
        }
    }
    c
}

/// The reference's memberships from `pss_output` (one row per rater and quasi-clique).
fn reference(dataset: &str, column: &str) -> Memberships {
    let path = golden(dataset).join("reference-output/prescoring/pss_output.tsv.gz");
    let table = read_text_table(&path).unwrap();
    let ids = table.ints("raterParticipantId").unwrap();
    let values = table.floats(column).unwrap();
    let mut out = Memberships::new();
    for (id, value) in ids.into_iter().zip(values) {
        if let (Some(id), Some(value)) = (id, value) {
            out.entry(id as usize).or_default().insert(value as i64);
        }
    }
    out
}

fn compare_dataset(dataset: &str) -> (Comparison, Comparison) {
    let community = load(&golden(dataset));
    let params = PssParams::default();
    let cliques = detect_cliques(&community, &params);
    let mut pss = Memberships::new();
    for (u, id) in cliques.post_selection.iter().enumerate() {
        if let Some(id) = id {
            pss.entry(u).or_default().insert(*id);
        }
    }
    let mut quasi = Memberships::new();
    for (i, members) in quasi_cliques(&community, &params.quasi).iter().enumerate() {
        for &u in members {
            quasi.entry(u as usize).or_default().insert(i as i64 + 1);
        }
    }
    // The per-participant summary marks exactly the quasi-clique members.
    for (u, q) in cliques.quasi_clique.iter().enumerate() {
        assert_eq!(q.is_some(), quasi.contains_key(&u), "participant {u}");
    }
    let pss = compare(&pss, &reference(dataset, "postSelectionValue"));
    let quasi = compare(&quasi, &reference(dataset, "quasiCliqueValue"));
    println!("{dataset} postSelectionValue: {pss:?}");
    println!("{dataset} quasiCliqueValue:   {quasi:?}");
    (pss, quasi)
}

#[test]
fn cliques_match_the_reference_on_tiny_s1() {
    let (pss, quasi) = compare_dataset("tiny-s1");
    assert_eq!((pss.ours, pss.theirs), (0, 0));
    exact(&quasi);
    assert_eq!(quasi.theirs, 71);
}

/// Post-selection cliques match exactly. Of the three quasi-cliques, the two smaller match
/// exactly; the largest (69 raters in the reference) grows to 78 here: growth meets ties in
/// the candidate count (e.g. at 61 members, raters 1157 and 2640 share 32 aligned posts),
/// which the reference breaks by pandas' unstable sort order and we by smallest index, and
/// the paths part. Every reference member is found and no pair of common raters is split
/// or joined differently.
#[test]
fn cliques_match_the_reference_on_small_s2() {
    let (pss, quasi) = compare_dataset("small-s2");
    exact(&pss);
    assert_eq!(pss.theirs, 28);
    assert_eq!(
        (quasi.ours, quasi.theirs, quasi.both),
        (104, 95, 95),
        "{quasi:?}"
    );
    assert_eq!(
        (quasi.pairs_same_ours_only, quasi.pairs_same_theirs_only),
        (0, 0),
        "{quasi:?}"
    );
}

/// Same members, same partition.
fn exact(c: &Comparison) {
    assert_eq!(c.ours, c.theirs, "{c:?}");
    assert_eq!(c.both, c.theirs, "{c:?}");
    assert_eq!(
        (c.pairs_same_ours_only, c.pairs_same_theirs_only),
        (0, 0),
        "{c:?}"
    );
}
