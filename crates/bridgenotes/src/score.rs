//! `bridgenotes score`: the reference scorer's job, as a drop-in replacement.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bridgenotes_engine::community::Community;
use bridgenotes_engine::output::status_history_table;
use bridgenotes_engine::pipeline::{ScoreOptions, ScoreOutputs, score_observed};
use bridgenotes_engine::preprocess::{PrepareError, prepare};
use bridgenotes_engine::pss_detection::{PssParams, detect_cliques};
use bridgenotes_engine::topic_model::assign_topics;
use bridgenotes_format::{ReadOptions, write};

use crate::cli::{MemoryBudget, ScoreArgs};
use crate::load::{InputPaths, load};
use crate::progress::{StageProgress, Timings, available_memory_bytes, peak_rss_bytes};

/// How a run is configured.
pub struct RunSettings {
    pub epoch_millis: Option<i64>,
    pub pseudo_raters: bool,
    pub cache_dir: Option<std::path::PathBuf>,
    pub quiet: bool,
    /// Run only these scorers (reference names); `None`: all.
    pub scorers: Option<Vec<String>>,
    /// Write the run's stage timings and peak memory here as JSON.
    pub timings: Option<std::path::PathBuf>,
    /// Memory the scorers running side by side may hold together.
    pub memory_budget: MemoryBudget,
}

/// Warns, with counts, about input rows that are read but skipped or unusual: ratings of
/// notes in neither the notes file nor the status history (dropped, as the reference drops
/// them), and notes and ratings created after the scoring time (scored as they are).
fn warn_about_inputs(inputs: &crate::load::Inputs, now_millis: i64) {
    let known: std::collections::HashSet<i64> = inputs
        .notes
        .iter()
        .map(|n| n.note_id)
        .chain(inputs.status_history.iter().map(|h| h.note_id))
        .collect();
    let ratings = &inputs.ratings;
    let unknown: Vec<bool> = ratings
        .note_ids
        .iter()
        .map(|id| !known.contains(id))
        .collect();
    let unknown_ratings = ratings
        .note
        .iter()
        .filter(|&&k| unknown[k as usize])
        .count();
    if unknown_ratings > 0 {
        let unknown_notes = ratings
            .note
            .iter()
            .filter(|&&k| unknown[k as usize])
            .collect::<std::collections::HashSet<_>>()
            .len();
        tracing::warn!(
            "dropped {unknown_ratings} rating(s) of {unknown_notes} note(s) in neither the notes file nor the note status history"
        );
    }
    let future_notes = inputs
        .notes
        .iter()
        .filter(|n| n.created_at_millis > now_millis)
        .count();
    let future_ratings = ratings
        .created_at_millis
        .iter()
        .filter(|&&t| t > now_millis)
        .count();
    if future_notes + future_ratings > 0 {
        tracing::warn!(
            "{future_notes} note(s) and {future_ratings} rating(s) were created after the scoring time ({now_millis}); scored as they are"
        );
    }
}

/// Reads the inputs, scores them and writes the four output files into `outdir`.
pub fn score_to_dir(
    paths: &InputPaths<'_>,
    options: &ReadOptions,
    outdir: &Path,
    settings: &RunSettings,
) -> anyhow::Result<(Community, ScoreOutputs)> {
    let started = Instant::now();
    let timer = Timings::default();
    let inputs = load(
        paths,
        options,
        settings.cache_dir.as_deref(),
        settings.quiet,
    )?;
    // The reference reads the wall clock for its rescoring labels even when it is given
    // `--epoch-millis`; bridgenotes takes the run's time there too, so that a run with
    // `--epoch-millis` is exactly repeatable (its labels then differ from the reference's,
    // which depend on when the reference ran).
    let now_millis = match settings.epoch_millis {
        Some(millis) => millis,
        None => SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64,
    };
    let wall_millis = now_millis;
    if inputs.ratings.is_empty() {
        anyhow::bail!(
            "{}: no ratings to score (the file has no rows after its header)",
            paths.ratings.display()
        );
    }
    warn_about_inputs(&inputs, now_millis);
    let (community, report) = prepare(
        inputs.notes,
        inputs.ratings,
        inputs.status_history,
        inputs.enrollment,
    )
    .map_err(|e| {
        // Name the file the offending rows are in.
        let file = match &e {
            PrepareError::DuplicateRating { .. } => paths.ratings,
            PrepareError::DuplicateNote { .. } => paths.notes,
            PrepareError::DuplicateHistory { .. } | PrepareError::HistoryMismatch { .. } => {
                paths.status
            }
            PrepareError::DuplicateEnrollment { .. } => paths.enrollment,
        };
        anyhow::anyhow!("{}: {e}", file.display())
    })
    .context("preparing the inputs")?;
    if report.duplicate_notes > 0 {
        tracing::warn!(
            "{}: dropped {} exact duplicate note row(s)",
            paths.notes.display(),
            report.duplicate_notes
        );
    }
    if report.duplicate_ratings > 0 {
        tracing::warn!(
            "{}: dropped {} exact duplicate rating(s)",
            paths.ratings.display(),
            report.duplicate_ratings
        );
    }
    timer.record("load and prepare", started.elapsed().as_secs_f64());
    tracing::info!(
        notes = community.notes.len(),
        ratings = community.ratings.len(),
        participants = community.participants.len(),
        ?report,
        "inputs prepared"
    );
    let phase = Instant::now();
    // Topic assignment and clique detection are independent: they run side by side.
    let (topics, cliques) = rayon::join(
        || match assign_topics(&community.notes) {
            Ok(assignment) => assignment.note_topics,
            Err(e) => {
                // The reference stops here; scoring every note with the core model is more
                // useful.
                tracing::warn!("{e}; scoring without topics");
                vec![None; community.notes.len()]
            }
        },
        || detect_cliques(&community, &PssParams::default()),
    );
    timer.record("topics and rater cliques", phase.elapsed().as_secs_f64());
    tracing::info!(
        seconds = format!("{:.2}", phase.elapsed().as_secs_f64()),
        "topics and rater cliques"
    );
    let phase = Instant::now();
    let memory_budget = match settings.memory_budget {
        MemoryBudget::Bytes(bytes) => Some(bytes),
        MemoryBudget::Unlimited => None,
        MemoryBudget::Auto => available_memory_bytes().map(|b| b / 4 * 3),
    };
    tracing::info!(
        budget_mib = memory_budget.map(|b| b >> 20),
        "memory budget of the scorers side by side"
    );
    let options = ScoreOptions {
        now_millis,
        wall_millis,
        pseudo_raters: settings.pseudo_raters,
        scorers: settings.scorers.clone(),
        memory_budget,
    };
    let observer = StageProgress::new(settings.quiet, &timer);
    let outputs = score_observed(&community, &topics, Some(&cliques), &options, &observer)?;
    observer.finish();
    tracing::info!(
        seconds = format!("{:.2}", phase.elapsed().as_secs_f64()),
        "scored"
    );

    let phase = Instant::now();
    std::fs::create_dir_all(outdir).with_context(|| format!("creating {}", outdir.display()))?;
    // The four files are written in full before any replaces its previous version.
    let history = status_history_table(&outputs.note_status_history);
    let targets = [
        (outdir.join("scored_notes.tsv"), &outputs.scored_notes),
        (
            outdir.join("helpfulness_scores.tsv"),
            &outputs.helpfulness_scores,
        ),
        (outdir.join("note_status_history.tsv"), &history),
        (outdir.join("aux_note_info.tsv"), &outputs.aux_note_info),
    ];
    let paths: Vec<&Path> = targets.iter().map(|(p, _)| p.as_path()).collect();
    let stale = write::remove_stale_partials(&paths)?;
    if stale > 0 {
        tracing::info!("removed {stale} partial files an interrupted run left");
    }
    let tables: Vec<(&Path, &bridgenotes_engine::Table)> =
        targets.iter().map(|(p, t)| (p.as_path(), *t)).collect();
    write::write_tables(&tables)?;
    timer.record("write", phase.elapsed().as_secs_f64());
    if let Some(path) = &settings.timings {
        let report = serde_json::json!({
            "notes": community.notes.len(),
            "ratings": community.ratings.len(),
            "participants": community.participants.len(),
            "threads": rayon::current_num_threads(),
            "seconds": started.elapsed().as_secs_f64(),
            "peak_rss_bytes": peak_rss_bytes(),
            "stages": timer.stages(),
        });
        let mut file = write::AtomicFile::create(path)?;
        file.write_all(serde_json::to_string_pretty(&report)?.as_bytes())?;
        file.commit()?;
    }
    let [crh, crnh, nmr] = outputs.status_counts;
    tracing::info!(
        helpful = crh,
        not_helpful = crnh,
        needs_more_ratings = nmr,
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        "wrote {}",
        outdir.display()
    );
    Ok((community, outputs))
}

pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let options = ReadOptions {
        headers: !args.noheaders,
        keep_unused_columns: false,
    };
    let paths = InputPaths {
        notes: &args.notes,
        ratings: &args.ratings,
        status: &args.status,
        enrollment: &args.enrollment,
    };
    let settings = RunSettings {
        epoch_millis: args.epoch_millis.map(|e| e as i64),
        pseudo_raters: !args.nopseudoraters,
        cache_dir: args.cache_dir.clone(),
        quiet: args.common.quiet,
        scorers: (!args.scorers.is_empty()).then(|| args.scorers.clone()),
        timings: args.timings.clone(),
        memory_budget: args.memory_budget,
    };
    score_to_dir(&paths, &options, &args.outdir, &settings)?;
    Ok(())
}
