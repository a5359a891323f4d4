//! `bridgenotes demo`: the README's first command. Synthesizes a small polarized community,
//! scores it with the full pipeline and prints what the bridging model decided.

use anyhow::Context;
use bridgenotes_engine::NoteStatus;
use bridgenotes_format::ReadOptions;
use bridgenotes_synth::SynthParams;

use crate::cli::DemoArgs;
use crate::load::InputPaths;
use crate::progress;
use crate::score::{RunSettings, score_to_dir};

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let input = args.out.join("input");
    let output = args.out.join("output");
    std::fs::create_dir_all(&input).with_context(|| format!("creating {}", input.display()))?;
    let params = SynthParams {
        notes: 2_000,
        raters: 600,
        ratings: 50_000,
        seed: 1,
        ..SynthParams::default()
    };
    let epoch_millis = params.epoch_millis;
    let bar = progress::counter(args.common.quiet, "synth", "ratings");
    let summary =
        bridgenotes_synth::write_community(&params.validate()?, &input, &|n| bar.set_position(n))?;
    bar.finish_and_clear();

    let file = |name: &str| input.join(format!("{name}-00000.tsv"));
    let (notes, ratings, status, enrollment) = (
        file("notes"),
        file("ratings"),
        file("noteStatusHistory"),
        file("userEnrollment"),
    );
    let paths = InputPaths {
        notes: &notes,
        ratings: &ratings,
        status: &status,
        enrollment: &enrollment,
    };
    let settings = RunSettings {
        epoch_millis: Some(epoch_millis),
        pseudo_raters: true,
        cache_dir: None,
        quiet: args.common.quiet,
        scorers: None,
        timings: None,
    };
    let (community, outputs) = score_to_dir(&paths, &ReadOptions::default(), &output, &settings)?;

    let [crh, crnh, nmr] = outputs.status_counts;
    println!(
        "bridgenotes demo: a synthetic community of {} raters, {} notes and {} ratings",
        summary.raters, summary.notes, summary.ratings
    );
    println!("  input files:  {}", input.display());
    println!("  scored files: {}", output.display());
    println!("  statuses:     {crh} helpful, {crnh} not helpful, {nmr} need more ratings");
    let ids = outputs.scored_notes.column("noteId");
    let intercepts = outputs.scored_notes.column("coreNoteIntercept");
    let statuses = outputs.scored_notes.column("finalRatingStatus");
    if let (
        Some(bridgenotes_engine::ColumnValues::Int(ids)),
        Some(bridgenotes_engine::ColumnValues::F32(intercepts)),
        Some(bridgenotes_engine::ColumnValues::Str(statuses)),
    ) = (ids, intercepts, statuses)
    {
        let helpful = NoteStatus::CurrentlyRatedHelpful.as_str();
        let mut shown: Vec<usize> = (0..ids.len())
            .filter(|&i| statuses[i].as_deref() == Some(helpful))
            .collect();
        shown.sort_by(|&a, &b| {
            intercepts[b]
                .partial_cmp(&intercepts[a])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        println!("  notes rated helpful by raters who usually disagree (highest intercepts):");
        for &i in shown.iter().take(3) {
            let note = community
                .note_index(ids[i].unwrap_or_default())
                .map(|n| &community.notes[n as usize]);
            let text: String = note
                .map_or("", |n| n.summary.as_str())
                .chars()
                .take(90)
                .collect();
            println!("    {:+.3}  {text}", intercepts[i].unwrap_or(f32::NAN));
        }
    }
    Ok(())
}
