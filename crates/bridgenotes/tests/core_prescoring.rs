//! Our prescoring of the core model against the reference's prescoring tables, stage by
//! stage: first-round rater parameters, the harassment (tag-consensus) model, the
//! helpfulness filter, final-round rater and note parameters, the low-diligence model.
//! The reference's free fits start from random draws, so agreement is measured, not
//! demanded bit for bit. Topics come from our topic model, as in `bridgenotes score`.

mod common;

use bridgenotes_engine::prescoring::PrescoringMeta;
use bridgenotes_engine::pss::{self, Variant};
use bridgenotes_engine::scorer::prescore::{PrescoreOptions, prescore};
use bridgenotes_engine::scorer::{ScorerSpec, select};
use bridgenotes_engine::topic_model::assign_topics;
use bridgenotes_format::prescoring;
use common::{agreement, flag_agreement, golden, load};

#[test]
fn core_prescoring_matches_the_reference_tables() {
    for dataset in ["tiny-s1", "small-s2"] {
        let dir = golden(dataset);
        let community = load(&dir);
        let topics = assign_topics(&community.notes).unwrap().note_topics;
        let pre_dir = dir.join("reference-output/prescoring");
        let cliques =
            prescoring::read_cliques(&pre_dir.join("pss_output.tsv.gz"), &community).unwrap();
        let view = pss::view(&community, &cliques, Variant::Prescoring);
        let spec = ScorerSpec::core();
        let selection = select(&view, &spec, &topics);
        let ours = prescore(&view, &selection, &PrescoreOptions::core())
            .unwrap()
            .expect("the core model has ratings");
        let empty_meta = PrescoringMeta {
            global_intercept: 0.0,
            low_diligence_global_intercepts: None,
            tag_filter_thresholds: None,
            final_round_num_ratings: 0,
            final_round_num_notes: 0,
            final_round_num_users: 0,
        };
        let theirs =
            prescoring::read_scorer_prescoring(&pre_dir, &community, spec.name, empty_meta)
                .unwrap();
        let t = &ours.tables;
        println!(
            "{dataset}: first round {:?}; final round {:?}; mu {:.4}",
            ours.first_round.report, ours.final_round.report, t.meta.global_intercept
        );
        let checks = [
            (
                "first-round rater intercept",
                &t.first_round_rater_intercept,
                &theirs.first_round_rater_intercept,
                0.9995,
            ),
            (
                "first-round rater factor",
                &t.first_round_rater_factor,
                &theirs.first_round_rater_factor,
                0.9995,
            ),
            (
                "final rater intercept",
                &t.rater_intercept,
                &theirs.rater_intercept,
                0.9995,
            ),
            (
                "final rater factor",
                &t.rater_factor,
                &theirs.rater_factor,
                0.9995,
            ),
            (
                "final note intercept",
                &t.note_intercept,
                &theirs.note_intercept,
                0.999,
            ),
            (
                "final note factor",
                &t.note_factor,
                &theirs.note_factor,
                0.997,
            ),
            (
                "harassment note intercept",
                &t.harassment_note_intercept,
                &theirs.harassment_note_intercept,
                0.98,
            ),
            (
                "low-diligence note intercept",
                &t.low_diligence_note_intercept,
                &theirs.low_diligence_note_intercept,
                0.95,
            ),
            (
                "mean note score",
                &t.mean_note_score,
                &theirs.mean_note_score,
                0.9995,
            ),
            (
                "rater agree ratio",
                &t.rater_agree_ratio,
                &theirs.rater_agree_ratio,
                0.995,
            ),
        ];
        for (name, ours, theirs, min_r) in checks {
            let a = agreement(ours, theirs);
            println!(
                "  {name}: {} compared, r = {:.5}, max |diff| = {:.4}, only ours {}, only reference {}",
                a.compared,
                a.r,
                a.max_diff,
                a.only_ours.len(),
                a.only_theirs.len()
            );
            assert!(a.r >= min_r, "{dataset} {name}: r = {}", a.r);
        }
        let (same, both) = flag_agreement(
            &t.above_helpfulness_threshold,
            &theirs.above_helpfulness_threshold,
        );
        let share = 100.0 * same as f64 / both as f64;
        println!("  aboveHelpfulnessThreshold agrees for {same}/{both} raters ({share:.2} %)");
        assert!(share >= 98.5, "{dataset}: {share:.2} %");
    }
}
