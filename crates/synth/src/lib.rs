//! Synthetic, polarized Community Notes communities in the public data-download format.
//!
//! [`write_community`] draws a community — raters with a latent 1-D viewpoint (two camps
//! and some centrists), a leniency and a heavy-tailed activity; posts; notes with a latent
//! quality and slant; and ratings whose helpfulness follows [`MODEL`] — and writes it as the
//! five public files (`notes`, `ratings`, `noteStatusHistory`, `userEnrollment`,
//! `noteRequests`, each `-00000.tsv`) plus `truth.json` with the latent variables.
//!
//! Output is a pure function of the parameters: every entity draws from its own generator,
//! seeded from (seed, kind of entity, index), so files are byte-identical whatever the
//! thread count. Ratings are drawn, formatted and written in chunks of notes, so memory
//! stays bounded by the notes and raters tables, not the ratings.
//!
//! ```no_run
//! use bridgenotes_synth::{SynthParams, write_community};
//!
//! let params = SynthParams { notes: 1_000, raters: 300, ratings: 20_000, seed: 1, ..Default::default() };
//! let summary = write_community(&params.validate()?, "out".as_ref(), &|_| {})?;
//! println!("{} ratings", summary.ratings);
//! # Ok::<(), bridgenotes_synth::SynthError>(())
//! ```

mod community;
mod ratings;
mod rng;
mod tables;
mod truth;

use std::ops::Range;
use std::path::Path;
use std::sync::{Mutex, mpsc};

use bridgenotes_engine::NoteStatus;
use bridgenotes_format::write::AtomicFile;
use bridgenotes_format::{FormatError, enrollment, history, notes, requests};
use rayon::prelude::*;
use serde::Serialize;

use community::{DAY, POST_LEAD, TWEPOCH, World, note_flag};

/// The helpfulness model of a rating, as written to `truth.json`.
pub const MODEL: &str = "y = 1.5*quality + leniency - 2.0*viewpoint*slant + Logistic(0,1); \
HELPFUL if y > 0.2, SOMEWHAT_HELPFUL if -0.2 <= y <= 0.2, else NOT_HELPFUL \
(so P(helpful-ish) is about sigmoid(1.5*quality + leniency - 2.0*viewpoint*slant))";

/// Parameters of a synthetic community. Check them with [`SynthParams::validate`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynthParams {
    /// Notes to write (about 1% of them are deleted: in ratings and status history only).
    pub notes: usize,
    /// Raters (every rater gets an enrollment row; note authors are raters).
    pub raters: usize,
    /// Ratings to write (exactly; per note heavy-tailed, at least one each).
    pub ratings: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// "Now" of the dataset in Unix milliseconds: everything happens before it.
    pub epoch_millis: i64,
    /// Length of the window, in weeks before `epoch_millis`, in which notes are written.
    pub weeks: f64,
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            notes: 1_000,
            raters: 300,
            ratings: 20_000,
            seed: 0,
            epoch_millis: 1_795_132_800_000,
            weeks: 12.0,
        }
    }
}

/// Parameters that passed [`SynthParams::validate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidSynthParams(SynthParams);

impl ValidSynthParams {
    /// The checked parameters.
    pub fn params(&self) -> &SynthParams {
        &self.0
    }

    fn window_millis(&self) -> i64 {
        (self.0.weeks * 7.0 * DAY as f64).round() as i64
    }
}

/// The largest number of notes or raters (indices are 32-bit).
const MAX_ENTITIES: usize = 1 << 31;

impl SynthParams {
    /// Checks the parameters: at least one note, two raters (no one rates their own note),
    /// a rating per note and no more ratings than distinct (rater, note) pairs allow, a
    /// window of 1 day to 10 years that fits the snowflake id range.
    pub fn validate(self) -> Result<ValidSynthParams, SynthError> {
        let invalid = |field: &'static str, problem: String| {
            Err(SynthError::InvalidParams { field, problem })
        };
        if self.notes == 0 {
            return invalid("notes", "must be at least 1".into());
        }
        if self.notes > MAX_ENTITIES {
            return invalid("notes", format!("must be at most {MAX_ENTITIES}"));
        }
        if self.raters < 2 {
            return invalid(
                "raters",
                format!(
                    "must be at least 2 (a note is never rated by its author), got {}",
                    self.raters
                ),
            );
        }
        if self.raters > MAX_ENTITIES {
            return invalid("raters", format!("must be at most {MAX_ENTITIES}"));
        }
        if self.ratings < self.notes {
            return invalid(
                "ratings",
                format!(
                    "every note gets at least one rating, so ratings ({}) must be at least notes ({})",
                    self.ratings, self.notes
                ),
            );
        }
        let pairs = (self.notes as u128) * (self.raters as u128 - 1);
        if self.ratings as u128 > pairs {
            return invalid(
                "ratings",
                format!(
                    "{} ratings do not fit: each of {} notes can be rated by at most {} raters \
                     other than its author ({pairs} in all)",
                    self.ratings,
                    self.notes,
                    self.raters - 1
                ),
            );
        }
        if !(self.weeks.is_finite() && self.weeks >= 1.0 / 7.0 && self.weeks <= 520.0) {
            return invalid(
                "weeks",
                format!("must be between 1/7 (a day) and 520, got {}", self.weeks),
            );
        }
        let valid = ValidSynthParams(self);
        let earliest = self.epoch_millis - valid.window_millis() - POST_LEAD;
        let latest_id_millis = TWEPOCH + (1 << 41) - 1;
        if earliest < TWEPOCH || self.epoch_millis > latest_id_millis {
            return invalid(
                "epoch_millis",
                format!(
                    "the window must lie between {TWEPOCH} (plus the window and a day) and \
                     {latest_id_millis} so that snowflake ids fit, got {}",
                    self.epoch_millis
                ),
            );
        }
        Ok(valid)
    }
}

/// Why a community could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid synthetic community parameter `{field}`: {problem}")]
    InvalidParams {
        field: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("writing truth.json: {0}")]
    Truth(String),
    #[error("the writer thread panicked")]
    WriterPanicked,
}

/// What [`write_community`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynthSummary {
    /// Rows of the notes file (deleted notes excluded).
    pub notes: usize,
    /// Notes that are deleted: rated and in the status history, not in the notes file.
    pub deleted_notes: usize,
    /// Raters, all with an enrollment row.
    pub raters: usize,
    /// Rows of the ratings file.
    pub ratings: usize,
    /// Posts that notes could be written on.
    pub posts: usize,
    /// Rows of the note requests file.
    pub note_requests: usize,
    /// Rows of the status history file: one per note (deleted ones included) written before
    /// the previous hourly scoring run, an hour before `epoch_millis`.
    pub status_history_rows: usize,
    /// Ratings by helpfulness level.
    pub helpful_ratings: usize,
    pub somewhat_helpful_ratings: usize,
    pub not_helpful_ratings: usize,
    /// Ratings with source POPULATION_SAMPLED.
    pub population_sampled_ratings: usize,
    /// Ratings carrying a written suggestion.
    pub ratings_with_suggestion: usize,
    /// Current statuses in the status history (they sum to `status_history_rows`).
    pub currently_rated_helpful: usize,
    pub currently_rated_not_helpful: usize,
    pub needs_more_ratings: usize,
}

/// Generates a community and writes its files into `out_dir` (created if missing), each
/// atomically. `progress` is called with the number of ratings written so far, after every
/// batch of chunks.
pub fn write_community(
    params: &ValidSynthParams,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SynthSummary, SynthError> {
    std::fs::create_dir_all(out_dir).map_err(|source| FormatError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let world = World::build(params);
    let mut summary = SynthSummary {
        raters: world.raters.len(),
        posts: world.posts.len(),
        ..SynthSummary::default()
    };

    // Users.
    write_chunked(
        &out_dir.join("userEnrollment-00000.tsv"),
        &enrollment::header(),
        &even_chunks(world.raters.len(), 8192),
        |range, out| {
            let mut text = String::new();
            for i in range {
                enrollment::push_enrollment_line(&mut text, &tables::enrollment(&world, i));
            }
            out.extend_from_slice(text.as_bytes());
        },
        |_| {},
    )?;

    // Notes (deleted ones left out).
    let note_chunks = even_chunks(world.notes.len(), 4096);
    write_chunked(
        &out_dir.join("notes-00000.tsv"),
        &notes::header(),
        &note_chunks,
        |range, out| {
            let mut text = String::new();
            let mut written = 0usize;
            for i in range {
                if world.notes[i].has(note_flag::DELETED) {
                    continue;
                }
                notes::push_note_line(&mut text, &tables::note(&world, i));
                written += 1;
            }
            out.extend_from_slice(text.as_bytes());
            written
        },
        |n| summary.notes += n,
    )?;
    summary.deleted_notes = world.notes.len() - summary.notes;

    // Status history: every note scored by the previous run (deleted ones too; notes
    // written since have no row yet, as in the public data).
    let mut statuses: Vec<Option<NoteStatus>> = Vec::with_capacity(world.notes.len());
    write_chunked(
        &out_dir.join("noteStatusHistory-00000.tsv"),
        &history::header(),
        &note_chunks,
        |range, out| {
            let mut text = String::new();
            let mut chunk_statuses = Vec::with_capacity(range.len());
            for i in range {
                let row = tables::history(&world, i);
                chunk_statuses.push(row.as_ref().and_then(|r| r.current_status));
                if let Some(row) = row {
                    history::push_status_history_line(&mut text, &row);
                }
            }
            out.extend_from_slice(text.as_bytes());
            chunk_statuses
        },
        |chunk| statuses.extend(chunk),
    )?;
    for status in statuses.iter().flatten() {
        summary.status_history_rows += 1;
        match status {
            NoteStatus::CurrentlyRatedHelpful => summary.currently_rated_helpful += 1,
            NoteStatus::CurrentlyRatedNotHelpful => summary.currently_rated_not_helpful += 1,
            _ => summary.needs_more_ratings += 1,
        }
    }

    // Note requests.
    write_chunked(
        &out_dir.join("noteRequests-00000.tsv"),
        &requests::header(),
        &even_chunks(world.posts.len(), 8192),
        |range, out| {
            let mut text = String::new();
            let mut written = 0usize;
            for i in range {
                if let Some(request) = tables::note_request(&world, i) {
                    requests::push_note_request_line(&mut text, &request);
                    written += 1;
                }
            }
            out.extend_from_slice(text.as_bytes());
            written
        },
        |n| summary.note_requests += n,
    )?;

    // Ratings, streamed.
    let mut stats = ratings::RatingStats::default();
    let tag_tables = ratings::TagTables::new();
    progress(0);
    write_chunked(
        &out_dir.join("ratings-00000.tsv"),
        &bridgenotes_format::ratings::header(),
        &ratings::chunks(&world.notes),
        |range, out| ratings::format_chunk(&world, &tag_tables, range, out),
        |chunk| {
            stats.add(&chunk);
            progress(stats.ratings);
        },
    )?;
    summary.ratings = stats.ratings as usize;
    summary.not_helpful_ratings = stats.levels[0] as usize;
    summary.somewhat_helpful_ratings = stats.levels[1] as usize;
    summary.helpful_ratings = stats.levels[2] as usize;
    summary.population_sampled_ratings = stats.population_sampled as usize;
    summary.ratings_with_suggestion = stats.suggestions as usize;

    truth::write_truth(
        &out_dir.join("truth.json"),
        params,
        &world,
        &statuses,
        &summary,
    )?;
    Ok(summary)
}

/// `0..n` in ranges of `size`.
fn even_chunks(n: usize, size: usize) -> Vec<Range<usize>> {
    (0..n.div_ceil(size))
        .map(|k| k * size..((k + 1) * size).min(n))
        .collect()
}

/// Formats `chunks` in parallel (a batch at a time, so memory stays bounded) and writes them
/// in order to `path` atomically, from a writer thread so that formatting continues while a
/// batch is written. `done` sees each chunk's value once the chunk is written, in order.
fn write_chunked<S: Send>(
    path: &Path,
    header: &str,
    chunks: &[Range<usize>],
    format: impl Fn(Range<usize>, &mut Vec<u8>) -> S + Sync,
    mut done: impl FnMut(S),
) -> Result<(), SynthError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(header.as_bytes())?;
    let batch = (2 * rayon::current_num_threads()).clamp(4, 64);
    // Text buffers go round: formatters take one, the writer empties it and puts it back.
    let buffers: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let take = || buffers.lock().map(|mut b| b.pop()).ok().flatten();
    // A rendezvous channel: a send returns once the writer has finished the previous batch,
    // so at most two batches are held at a time.
    let (sender, receiver) = mpsc::sync_channel::<Vec<Vec<u8>>>(0);
    let file = std::thread::scope(|scope| -> Result<AtomicFile, SynthError> {
        let buffers = &buffers;
        let writer = scope.spawn(move || -> Result<AtomicFile, FormatError> {
            for texts in receiver {
                for mut text in texts {
                    file.write_all(&text)?;
                    text.clear();
                    if let Ok(mut b) = buffers.lock() {
                        b.push(text);
                    }
                }
            }
            Ok(file)
        });
        let mut written: Vec<S> = Vec::new();
        for group in chunks.chunks(batch) {
            let formatted: Vec<(Vec<u8>, S)> = group
                .par_iter()
                .map(|range| {
                    let mut text = take().unwrap_or_default();
                    let value = format(range.clone(), &mut text);
                    (text, value)
                })
                .collect();
            let (texts, values): (Vec<Vec<u8>>, Vec<S>) = formatted.into_iter().unzip();
            if sender.send(texts).is_err() {
                break; // the writer failed; its error is reported below
            }
            written.drain(..).for_each(&mut done);
            written = values;
        }
        drop(sender);
        let file = writer.join().map_err(|_| SynthError::WriterPanicked)??;
        written.into_iter().for_each(&mut done);
        Ok(file)
    })?;
    file.commit()?;
    Ok(())
}
