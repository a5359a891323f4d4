//! Every sub-model's prescoring against the reference's prescoring tables: rater and note
//! parameters of the final prescoring round and the helpfulness filter, per scorer.
//!
//! Factor signs are compared as they are: the reference makes the larger side of the raters
//! negative, and where the two sides are nearly equal (ExpansionPlus, one topic model) the
//! two fits can pick opposite sides, so factor correlations are checked in magnitude.

mod common;

use bridgenotes_engine::prescoring::PrescoringMeta;
use bridgenotes_engine::pss::{self, Variant};
use bridgenotes_engine::scorer::catalog::ScorerConfig;
use bridgenotes_engine::scorer::prescore::prescore;
use bridgenotes_engine::scorer::select;
use bridgenotes_format::prescoring;
use common::{agreement, flag_agreement, golden, load, truth_topics};

#[test]
fn sub_model_prescoring_matches_the_reference_tables() {
    for dataset in ["tiny-s1"] {
        let dir = golden(dataset);
        let community = load(&dir);
        let topics = truth_topics(&dir, &community);
        let pre_dir = dir.join("reference-output/prescoring");
        let cliques =
            prescoring::read_cliques(&pre_dir.join("pss_output.tsv.gz"), &community).unwrap();
        let view = pss::view(&community, &cliques, Variant::Prescoring);
        for config in ScorerConfig::all() {
            let selection = select(&view, &config.spec, &topics);
            let Some(ours) = prescore(&view, &selection, &config.prescore).unwrap() else {
                println!("{dataset} {}: nothing to score", config.spec.name);
                continue;
            };
            let theirs = prescoring::read_scorer_prescoring(
                &pre_dir,
                &community,
                config.spec.name,
                PrescoringMeta::default(),
            )
            .unwrap();
            let t = &ours.tables;
            let checks = [
                (
                    "rater intercept",
                    &t.rater_intercept,
                    &theirs.rater_intercept,
                ),
                ("rater factor", &t.rater_factor, &theirs.rater_factor),
                ("note intercept", &t.note_intercept, &theirs.note_intercept),
                ("note factor", &t.note_factor, &theirs.note_factor),
            ];
            let mut line = format!("{dataset} {:<32}", config.spec.name);
            for (name, ours, theirs) in checks {
                let a = agreement(ours, theirs);
                line += &format!(
                    " | {name}: n={} r={:.4} +{} -{}",
                    a.compared,
                    a.r,
                    a.only_ours.len(),
                    a.only_theirs.len()
                );
            }
            let (same, both) = flag_agreement(
                &t.above_helpfulness_threshold,
                &theirs.above_helpfulness_threshold,
            );
            line += &format!(" | helpful {same}/{both}");
            let frac = |v: &[Option<f64>]| {
                let f: Vec<f64> = v.iter().flatten().copied().collect();
                f.iter().filter(|x| **x < 0.0).count() as f64 / f.len().max(1) as f64
            };
            line += &format!(
                " | negative share {:.3} vs {:.3}",
                frac(&t.rater_factor),
                frac(&theirs.rater_factor)
            );
            println!("{line}");
            let notes = agreement(&t.note_intercept, &theirs.note_intercept);
            let raters = agreement(&t.rater_intercept, &theirs.rater_intercept);
            let factors = agreement(&t.note_factor, &theirs.note_factor);
            // Group 14 (normalized loss, diamond penalty) included: its reference fit is a
            // short Adam run from a random draw, which bridgenotes replays from its own
            // draw; on tiny-s1 the two land in the same place.
            assert!(
                notes.r >= 0.93,
                "{dataset} {}: {}",
                config.spec.name,
                notes.r
            );
            assert!(
                raters.r >= 0.93,
                "{dataset} {}: {}",
                config.spec.name,
                raters.r
            );
            assert!(
                factors.r.abs() >= 0.75,
                "{dataset} {}: {}",
                config.spec.name,
                factors.r
            );
            assert!(
                same as f64 >= 0.9 * both as f64,
                "{dataset} {}: helpfulness {same}/{both}",
                config.spec.name
            );
        }
    }
}
