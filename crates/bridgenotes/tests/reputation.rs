//! The reputation ("coverage") scorer against the reference on the golden datasets: its
//! prescoring against the reference's `ReputationScorer` prescoring rows, and its final
//! `coverageNoteIntercept`, `coverageRatingStatus` and `raterHelpfulnessReputation`, both
//! from its own prescoring and from the reference's (isolating final scoring).
//!
//! The reference fits every round with Adam and stops early, so values agree closely but not
//! exactly; the bounds sit a little under what is measured. Factor signs are not compared:
//! the reference's orientation depends on its random starting intercepts.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use bridgenotes_engine::NoteStatus;
use bridgenotes_engine::community::Community;
use bridgenotes_engine::diligence::{DiligenceGlobalIntercept, DiligencePrescoring};
use bridgenotes_engine::pss::{self, Variant};
use bridgenotes_engine::reputation::{
    ReputationOptions, ReputationScores, prescore_reputation, recover_global_intercepts,
    score_reputation,
};
use bridgenotes_engine::scorer::select;
use bridgenotes_format::prescoring;
use bridgenotes_format::table::{TextTable, read_text_table};
use common::{agreement, golden, load, reference};

const SCORER: &str = "ReputationScorer";

/// The reference's prescoring rows of the scorer, as the model's prescoring.
fn reference_prescoring(dir: &std::path::Path, community: &Community) -> DiligencePrescoring {
    let pre = dir.join("reference-output/prescoring");
    let notes = read_text_table(&pre.join("prescoring_note_model_output.tsv.gz")).unwrap();
    let raters = read_text_table(&pre.join("prescoring_rater_model_output.tsv.gz")).unwrap();
    let mut out = DiligencePrescoring {
        notes: vec![],
        note_intercept: vec![],
        note_factor: vec![],
        note_intercept_round2: vec![],
        raters: vec![],
        rater_intercept: vec![],
        rater_factor: vec![],
        rater_reputation: vec![],
        rater_intercept_round2: vec![],
        global_intercept: DiligenceGlobalIntercept {
            first_round: f64::NAN,
            second_round: f64::NAN,
            final_round: f64::NAN,
        },
        reports: None,
    };
    let names: Vec<&str> = notes.column("scorerName").unwrap().collect();
    let ids = notes.ints("noteId").unwrap();
    let (i, f, i2) = (
        notes.floats("internalNoteIntercept").unwrap(),
        notes.floats("internalNoteFactor1").unwrap(),
        notes.floats("lowDiligenceNoteInterceptRound2").unwrap(),
    );
    for k in 0..ids.len() {
        if names[k] != SCORER || i[k].is_none() {
            continue;
        }
        out.notes
            .push(community.note_index(ids[k].unwrap()).unwrap());
        out.note_intercept.push(i[k].unwrap());
        out.note_factor.push(f[k].unwrap());
        out.note_intercept_round2.push(i2[k].unwrap());
    }
    let index: HashMap<&str, u32> = community
        .participants
        .iter()
        .enumerate()
        .map(|(u, p)| (p.id.as_str(), u as u32))
        .collect();
    let names: Vec<&str> = raters.column("scorerName").unwrap().collect();
    let ids: Vec<&str> = raters.column("raterParticipantId").unwrap().collect();
    let (i, f, r, i2) = (
        raters.floats("internalRaterIntercept").unwrap(),
        raters.floats("internalRaterFactor1").unwrap(),
        raters.floats("internalRaterReputation").unwrap(),
        raters.floats("lowDiligenceRaterInterceptRound2").unwrap(),
    );
    for k in 0..ids.len() {
        if names[k] != SCORER {
            continue;
        }
        out.raters.push(index[ids[k]]);
        out.rater_intercept.push(i[k].unwrap());
        out.rater_factor.push(f[k].unwrap());
        out.rater_reputation.push(r[k].unwrap());
        out.rater_intercept_round2.push(i2[k].unwrap());
    }
    out
}

/// Per-note (or per-participant) values of a prescoring's rows.
fn spread(ids: &[u32], values: &[f64], size: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; size];
    for (&k, &v) in ids.iter().zip(values) {
        out[k as usize] = Some(v);
    }
    out
}

/// Share of notes where either side has a status on which both agree, and the count.
fn status_agreement(ours: &[Option<NoteStatus>], theirs: &[Option<String>]) -> (usize, usize) {
    let (mut compared, mut same) = (0, 0);
    for (a, b) in ours.iter().zip(theirs) {
        if a.is_none() && b.is_none() {
            continue;
        }
        compared += 1;
        same += (a.map(|s| s.to_string()) == *b) as usize;
    }
    (compared, same)
}

struct Final {
    r: f64,
    max_diff: f64,
    status_share: f64,
}

fn compare_final(
    label: &str,
    community: &Community,
    scores: &ReputationScores,
    scored: &TextTable,
    helpfulness: &TextTable,
) -> Final {
    let theirs = reference(scored, community, "coverageNoteIntercept");
    let a = agreement(&scores.note_intercept, &theirs);
    let factor = agreement(
        &scores.note_factor,
        &reference(scored, community, "coverageNoteFactor1"),
    );
    let ids = scored.ints("noteId").unwrap();
    let mut their_status = vec![None; community.notes.len()];
    for (id, s) in ids
        .iter()
        .zip(scored.column("coverageRatingStatus").unwrap())
    {
        let n = community.note_index(id.unwrap()).unwrap() as usize;
        their_status[n] = (!s.is_empty()).then(|| s.to_string());
    }
    let (compared, same) = status_agreement(&scores.status, &their_status);
    let status_share = 100.0 * same as f64 / compared.max(1) as f64;
    // Rater reputations.
    let index: HashMap<&str, usize> = community
        .participants
        .iter()
        .enumerate()
        .map(|(u, p)| (p.id.as_str(), u))
        .collect();
    let mut their_reputation = vec![None; community.participants.len()];
    for (id, v) in helpfulness
        .column("raterParticipantId")
        .unwrap()
        .zip(helpfulness.floats("raterHelpfulnessReputation").unwrap())
    {
        their_reputation[index[id]] = v;
    }
    let rep = agreement(&scores.rater_reputation, &their_reputation);
    println!(
        "  {label}: coverageNoteIntercept n={} r={:.5} max|Δ|={:.4} +{} -{} | factor r={:.4} | \
         coverageRatingStatus {same}/{compared} ({status_share:.2} %) | reputation n={} r={:.5} +{} -{} | passes {:?}",
        a.compared,
        a.r,
        a.max_diff,
        a.only_ours.len(),
        a.only_theirs.len(),
        factor.r,
        rep.compared,
        rep.r,
        rep.only_ours.len(),
        rep.only_theirs.len(),
        scores.fit.reports.map(|r| r.passes),
    );
    assert!(
        a.only_ours.is_empty() && a.only_theirs.is_empty(),
        "{label}: same notes"
    );
    Final {
        r: a.r,
        max_diff: a.max_diff,
        status_share,
    }
}

#[test]
fn reputation_scorer_matches_the_reference() {
    // dataset, prescoring note-intercept r, final r and status share (own prescoring),
    // final r and status share (reference prescoring).
    for (dataset, min_pre_r, min_r, min_status, min_ref_r, min_ref_status) in [
        ("tiny-s1", 0.9999, 0.9999, 99.5, 0.9999, 99.5),
        ("small-s2", 0.9999, 0.9999, 99.7, 0.9999, 99.8),
    ] {
        println!("{dataset}:");
        let dir = golden(dataset);
        let community = load(&dir);
        let cliques = prescoring::read_cliques(
            &dir.join("reference-output/prescoring/pss_output.tsv.gz"),
            &community,
        )
        .unwrap();
        let prescoring_view = pss::view(&community, &cliques, Variant::Prescoring);
        let final_view = pss::view(&community, &cliques, Variant::Final);
        let topics = vec![None; community.notes.len()];
        let options = ReputationOptions::reference();
        let scored = read_text_table(&dir.join("reference-output/scored_notes.tsv.gz")).unwrap();
        let helpfulness =
            read_text_table(&dir.join("reference-output/helpfulness_scores.tsv.gz")).unwrap();

        // Prescoring.
        let selection = select(&prescoring_view, &options.spec, &topics);
        let started = Instant::now();
        let ours = prescore_reputation(&prescoring_view, &selection, &options)
            .unwrap()
            .unwrap();
        let prescoring_seconds = started.elapsed().as_secs_f64();
        let mut theirs = reference_prescoring(&dir, &community);
        let (notes, people) = (community.notes.len(), community.participants.len());
        let mut pre_r = 0.0;
        for (name, a, b, size) in [
            (
                "note intercept",
                (&ours.notes, &ours.note_intercept),
                (&theirs.notes, &theirs.note_intercept),
                notes,
            ),
            (
                "note factor",
                (&ours.notes, &ours.note_factor),
                (&theirs.notes, &theirs.note_factor),
                notes,
            ),
            (
                "note intercept round 2",
                (&ours.notes, &ours.note_intercept_round2),
                (&theirs.notes, &theirs.note_intercept_round2),
                notes,
            ),
            (
                "rater intercept",
                (&ours.raters, &ours.rater_intercept),
                (&theirs.raters, &theirs.rater_intercept),
                people,
            ),
            (
                "rater factor",
                (&ours.raters, &ours.rater_factor),
                (&theirs.raters, &theirs.rater_factor),
                people,
            ),
            (
                "rater reputation",
                (&ours.raters, &ours.rater_reputation),
                (&theirs.raters, &theirs.rater_reputation),
                people,
            ),
            (
                "rater intercept round 2",
                (&ours.raters, &ours.rater_intercept_round2),
                (&theirs.raters, &theirs.rater_intercept_round2),
                people,
            ),
        ] {
            let g = agreement(&spread(a.0, a.1, size), &spread(b.0, b.1, size));
            println!(
                "  prescoring {name}: n={} r={:.5} max|Δ|={:.4} +{} -{}",
                g.compared,
                g.r,
                g.max_diff,
                g.only_ours.len(),
                g.only_theirs.len()
            );
            assert!(
                g.only_ours.is_empty() && g.only_theirs.is_empty(),
                "{name}: same rows"
            );
            if name == "note intercept" {
                pre_r = g.r;
            }
        }
        println!(
            "  prescoring μ {:?}, passes {:?}, {prescoring_seconds:.2} s",
            ours.global_intercept,
            ours.reports.map(|r| r.map(|r| r.passes))
        );
        theirs.global_intercept =
            recover_global_intercepts(&prescoring_view, &selection, &theirs, &options).unwrap();
        println!("  reference μ (recovered) {:?}", theirs.global_intercept);
        assert!(pre_r >= min_pre_r, "{dataset}: prescoring r {pre_r:.5}");

        // Final scoring, from our prescoring and from the reference's.
        let selection = select(&final_view, &options.spec, &topics);
        for (label, pre, min_r, min_status) in [
            ("final (own prescoring)", &ours, min_r, min_status),
            (
                "final (reference prescoring)",
                &theirs,
                min_ref_r,
                min_ref_status,
            ),
        ] {
            let started = Instant::now();
            let scores = score_reputation(&final_view, &selection, pre, &options)
                .unwrap()
                .unwrap();
            println!("  {label}: {:.2} s", started.elapsed().as_secs_f64());
            let f = compare_final(label, &community, &scores, &scored, &helpfulness);
            assert!(f.r >= min_r, "{dataset} {label}: r {:.5}", f.r);
            assert!(
                f.status_share >= min_status,
                "{dataset} {label}: status {:.2} %",
                f.status_share
            );
            assert!(
                f.max_diff < 0.01,
                "{dataset} {label}: max |Δ| {:.4}",
                f.max_diff
            );
        }
    }
}
