//! `bridgenotes demo`: the README's first command. Synthesizes a small polarized community,
//! fits the core matrix-factorization model to it and prints what the bridging model found.

use std::collections::HashMap;

use anyhow::Context;
use bridgenotes_engine::first_round::fit_first_round;
use bridgenotes_engine::mf::MfParams;
use bridgenotes_engine::rules::RuleParams;
use bridgenotes_engine::{ColumnValues, NoteStatus, Table};
use bridgenotes_format::{ReadOptions, notes, ratings, write};
use bridgenotes_synth::SynthParams;

use crate::cli::DemoArgs;
use crate::progress;

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let input = args.out.join("input");
    std::fs::create_dir_all(&input).with_context(|| format!("creating {}", input.display()))?;
    let params = SynthParams {
        notes: 2_000,
        raters: 600,
        ratings: 50_000,
        seed: 1,
        ..SynthParams::default()
    }
    .validate()?;
    let bar = progress::counter(args.common.quiet, "synth", "ratings");
    let summary = bridgenotes_synth::write_community(&params, &input, &|n| bar.set_position(n))?;
    bar.finish_and_clear();

    let options = ReadOptions::default();
    let all_notes = notes::read_notes(&input.join("notes-00000.tsv"), &options)?;
    let all_ratings = ratings::read_ratings(&input.join("ratings-00000.tsv"), &options)?;
    let fit = fit_first_round(&all_ratings, &MfParams::default())?;

    let thresholds = RuleParams::core();
    let statuses: Vec<NoteStatus> = (0..fit.note_ids.len())
        .map(|n| fit.status(n, &thresholds))
        .collect();
    let mut table = Table::default();
    table.push(
        "noteId",
        ColumnValues::Int(fit.note_ids.iter().map(|&id| Some(id)).collect()),
    );
    table.push(
        "coreNoteIntercept",
        ColumnValues::F64(
            fit.factors
                .note_intercept
                .iter()
                .map(|&x| Some(x))
                .collect(),
        ),
    );
    table.push(
        "coreNoteFactor1",
        ColumnValues::F64(fit.factors.note_factor.iter().map(|&x| Some(x)).collect()),
    );
    table.push(
        "numRatings",
        ColumnValues::Int(fit.note_ratings.iter().map(|&c| Some(c as i64)).collect()),
    );
    table.push(
        "provisionalStatus",
        ColumnValues::Str(statuses.iter().map(|s| Some(s.to_string())).collect()),
    );
    let model_path = args.out.join("core_first_round.tsv");
    write::write_table(&model_path, &table)?;

    let count = |status| statuses.iter().filter(|s| **s == status).count();
    let negative = fit
        .factors
        .rater_factor
        .iter()
        .filter(|f| **f < 0.0)
        .count();
    println!(
        "bridgenotes demo: a synthetic community of {} raters, {} notes and {} ratings",
        summary.raters, summary.notes, summary.ratings
    );
    println!("  input files:        {}", input.display());
    println!(
        "  core model fit:     {} notes and {} raters with enough ratings, {} passes, MSE {:.4}, global intercept {:.3}",
        fit.note_ids.len(),
        fit.rater_ids.len(),
        fit.report.passes,
        fit.report.mse,
        fit.factors.global_intercept
    );
    println!(
        "  rater viewpoints:   {} raters on the negative side of the factor, {} on the positive side",
        negative,
        fit.rater_ids.len() - negative
    );
    println!(
        "  provisional status: {} helpful, {} not helpful, {} need more ratings (intercept thresholds only)",
        count(NoteStatus::CurrentlyRatedHelpful),
        count(NoteStatus::CurrentlyRatedNotHelpful),
        count(NoteStatus::NeedsMoreRatings)
    );
    let text: HashMap<i64, &str> = all_notes
        .iter()
        .map(|n| (n.note_id, n.summary.as_str()))
        .collect();
    let mut order: Vec<usize> = (0..fit.note_ids.len()).collect();
    order.sort_by(|&a, &b| {
        fit.factors.note_intercept[b]
            .total_cmp(&fit.factors.note_intercept[a])
            .then(a.cmp(&b))
    });
    println!("  notes found helpful across viewpoints (highest intercepts):");
    for &n in order.iter().take(3) {
        let summary: String = text
            .get(&fit.note_ids[n])
            .copied()
            .unwrap_or("(deleted note)")
            .chars()
            .take(90)
            .collect();
        println!(
            "    {:+.3} (factor {:+.3}, {} ratings): {summary}",
            fit.factors.note_intercept[n], fit.factors.note_factor[n], fit.note_ratings[n]
        );
    }
    println!("  note parameters:    {}", model_path.display());
    println!(
        "The full reference pipeline (`bridgenotes score`) is in progress: see README.md, \"Status\"."
    );
    Ok(())
}
