//! Loading the four scorer inputs, with a progress display.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use bridgenotes_engine::{Enrollment, Note, Ratings, StatusHistoryRow};
use bridgenotes_format::{ReadOptions, cache, enrollment, history, notes, ratings};

use crate::progress;

/// The scorer's inputs as read from disk.
pub struct Inputs {
    pub notes: Vec<Note>,
    pub ratings: Ratings,
    pub status_history: Vec<StatusHistoryRow>,
    pub enrollment: Vec<Enrollment>,
}

/// Paths of the four inputs.
pub struct InputPaths<'a> {
    pub notes: &'a Path,
    pub ratings: &'a Path,
    pub status: &'a Path,
    pub enrollment: &'a Path,
}

pub fn load(
    paths: &InputPaths<'_>,
    options: &ReadOptions,
    cache_dir: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<Inputs> {
    let started = Instant::now();
    let notes = notes::read_notes(paths.notes, options).context("reading notes")?;
    let status_history = history::read_status_history(paths.status, options)
        .context("reading note status history")?;
    let enrollment = enrollment::read_enrollment(paths.enrollment, options)
        .context("reading user enrollment")?;
    let bar = progress::counter(quiet, "ratings", "ratings");
    let progress = |n| bar.set_position(n);
    let ratings = match cache_dir {
        Some(dir) => cache::read_ratings_cached(paths.ratings, options, dir, &progress),
        None => ratings::read_ratings_with_progress(paths.ratings, options, &progress),
    }
    .context("reading ratings")?;
    bar.finish_and_clear();
    tracing::info!(
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        "inputs read"
    );
    Ok(Inputs {
        notes,
        ratings,
        status_history,
        enrollment,
    })
}
