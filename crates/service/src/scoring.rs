//! Scoring runs: read a consistent snapshot, score it with the engine on a blocking thread
//! (the async runtime never waits on the engine), and store everything the run decided —
//! note scores, status history, rater scores, contributor impact and enrollment — in one
//! transaction, so a failed run changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use bridgenotes_engine::contributor_state;
use bridgenotes_engine::pipeline::{ScoreOptions, ScoreOutputs, score};
use bridgenotes_engine::preprocess::prepare;
use bridgenotes_engine::pss_detection::{PssParams, detect_cliques};
use bridgenotes_engine::topic_model::assign_topics;
use bridgenotes_engine::{ColumnValues, Enrollment, NoteStatus, StatusHistoryRow, Table};
use bridgenotes_storage::{
    ContributorUpdate, NoteScore, PublicData, RaterScore, ScoringResult, ScoringRun,
};

use crate::AppState;
use crate::rules::{Standing, is_decided, next_enrollment};

/// Why a scoring run failed (nothing was stored).
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(transparent)]
    Store(#[from] bridgenotes_storage::StoreError),
    #[error("the engine could not prepare the data: {0}")]
    Prepare(#[from] bridgenotes_engine::preprocess::PrepareError),
    #[error("the engine failed: {0}")]
    Engine(String),
}

/// Runs one scoring run now (one at a time: a second caller waits for the first).
pub async fn run_scoring(state: &AppState) -> Result<ScoringRun, ScoringError> {
    let _one_at_a_time = state.scoring.lock().await;
    let started = state.clock.now_millis();
    let phase = std::time::Instant::now();
    let snapshot = state.store.snapshot().await?;
    let snapshot_seconds = phase.elapsed().as_secs_f64();
    let now = state.clock.now_millis();
    let pseudo_raters = state.config.pseudo_raters;
    let phase = std::time::Instant::now();
    let mut result = tokio::task::spawn_blocking(move || compute(snapshot, now, pseudo_raters))
        .await
        .map_err(|e| ScoringError::Engine(format!("scoring thread: {e}")))??;
    let engine_seconds = phase.elapsed().as_secs_f64();
    let run = result.run.as_mut().expect("compute sets the run");
    run.started_at_millis = started;
    run.finished_at_millis = state.clock.now_millis();
    let mut run = run.clone();
    let phase = std::time::Instant::now();
    run.id = state.store.store_scoring(&result).await?;
    tracing::info!(
        run = run.id,
        snapshot_seconds,
        engine_seconds,
        store_seconds = phase.elapsed().as_secs_f64(),
        notes = run.notes,
        ratings = run.ratings,
        helpful = run.currently_rated_helpful,
        not_helpful = run.currently_rated_not_helpful,
        "scoring run stored"
    );
    Ok(run)
}

/// Runs scoring every `every`, until the runtime shuts down. Failed runs are logged.
pub fn spawn_scheduler(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(e) = run_scoring(&state).await {
                tracing::error!("scheduled scoring run failed: {e}");
            }
        }
    })
}

/// Scores a snapshot (blocking: runs the engine).
pub fn compute(
    snapshot: PublicData,
    now_millis: i64,
    pseudo_raters: bool,
) -> Result<ScoringResult, ScoringError> {
    let rating_count = snapshot.ratings.len() as i64;
    let previous: HashMap<i64, Option<NoteStatus>> = snapshot
        .status_history
        .iter()
        .map(|h| (h.note_id, h.current_status))
        .collect();
    let enrollment: HashMap<String, Enrollment> = snapshot
        .enrollment
        .iter()
        .map(|e| (e.participant_id.clone(), e.clone()))
        .collect();
    let mut result = ScoringResult {
        run: Some(ScoringRun {
            id: 0,
            started_at_millis: now_millis,
            finished_at_millis: now_millis,
            now_millis,
            notes: 0,
            ratings: rating_count,
            currently_rated_helpful: 0,
            currently_rated_not_helpful: 0,
            needs_more_ratings: 0,
        }),
        ..ScoringResult::default()
    };
    if snapshot.notes.is_empty() || snapshot.ratings.is_empty() {
        return Ok(result);
    }
    let (community, _report) = prepare(
        snapshot.notes,
        snapshot.ratings,
        snapshot.status_history,
        snapshot.enrollment,
    )?;
    let topics = match assign_topics(&community.notes) {
        Ok(assignment) => assignment.note_topics,
        Err(_) => vec![None; community.notes.len()],
    };
    let cliques = detect_cliques(&community, &PssParams::default());
    let options = ScoreOptions {
        now_millis,
        wall_millis: now_millis,
        pseudo_raters,
        scorers: None,
        memory_budget: None,
    };
    // A panic in the engine is a bug; it fails this run (which changes nothing) instead of
    // taking the service down.
    let outputs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        score(&community, &topics, Some(&cliques), &options)
    }))
    .map_err(|_| ScoringError::Engine("the engine panicked".into()))?
    .map_err(|e| ScoringError::Engine(e.to_string()))?;
    let run = result.run.as_mut().expect("set above");
    run.notes = community.notes.len() as i64;
    let [crh, crnh, nmr] = outputs.status_counts;
    (
        run.currently_rated_helpful,
        run.currently_rated_not_helpful,
        run.needs_more_ratings,
    ) = (crh as i64, crnh as i64, nmr as i64);
    result.note_scores = note_scores(&outputs.scored_notes);
    result.rater_scores = rater_scores(&outputs.helpfulness_scores);
    result.contributors = contributor_updates(
        &outputs,
        &result.rater_scores,
        &previous,
        &enrollment,
        now_millis,
    );
    result.history = outputs.note_status_history;
    Ok(result)
}

/// A numeric column as `f64`s.
fn floats(table: &Table, name: &str) -> Vec<Option<f64>> {
    match table.column(name) {
        Some(ColumnValues::F32(v)) => v.iter().map(|x| x.map(f64::from)).collect(),
        Some(ColumnValues::F64(v)) => v.iter().collect(),
        Some(ColumnValues::Int(v)) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
        Some(ColumnValues::Bool(v)) => v
            .iter()
            .map(|x| x.map(|b| f64::from(u8::from(b))))
            .collect(),
        Some(ColumnValues::Str(v)) => v
            .iter()
            .map(|x| x.as_ref().and_then(|s| s.parse().ok()))
            .collect(),
        Some(ColumnValues::Missing(rows)) => vec![None; *rows],
        None => vec![None; table.rows()],
    }
}

/// An integer column (ids exceed what an `f64` holds exactly: never through floats).
fn ints(table: &Table, name: &str) -> Vec<Option<i64>> {
    if let Some(ColumnValues::Int(v)) = table.column(name) {
        return v.iter().collect();
    }
    floats(table, name)
        .into_iter()
        .map(|v| v.map(|v| v as i64))
        .collect()
}

fn texts(table: &Table, name: &str) -> Vec<Option<String>> {
    match table.column(name) {
        Some(ColumnValues::Str(v)) => v.clone(),
        Some(_) => ints(table, name)
            .into_iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        None => vec![None; table.rows()],
    }
}

fn note_scores(table: &Table) -> Vec<NoteScore> {
    let ids = ints(table, "noteId");
    let intercept = floats(table, "coreNoteIntercept");
    let factor = floats(table, "coreNoteFactor1");
    let intercept_min = floats(table, "coreNoteInterceptMin");
    let intercept_max = floats(table, "coreNoteInterceptMax");
    let status = texts(table, "finalRatingStatus");
    let core_status = texts(table, "coreRatingStatus");
    let first = texts(table, "firstTag");
    let second = texts(table, "secondTag");
    let decided = texts(table, "decidedBy");
    let num = ints(table, "numRatings");
    (0..table.rows())
        .filter_map(|i| {
            Some(NoteScore {
                note_id: ids[i]?,
                core_note_intercept: intercept[i],
                core_note_factor: factor[i],
                core_note_intercept_min: intercept_min[i],
                core_note_intercept_max: intercept_max[i],
                final_rating_status: status[i].clone(),
                core_rating_status: core_status[i].clone(),
                first_tag: first[i].clone(),
                second_tag: second[i].clone(),
                decided_by: decided[i].clone(),
                num_ratings: num[i].unwrap_or(0),
            })
        })
        .collect()
}

fn rater_scores(table: &Table) -> Vec<RaterScore> {
    let ids = texts(table, "raterParticipantId");
    let col = |name| ints(table, name);
    let (ok, not_ok, not_ok_nh) = (
        col("successfulRatingTotal"),
        col("unsuccessfulRatingTotal"),
        col("unsuccessfulRatingNotHelpfulCount"),
    );
    let (crh, crnh, nmr) = (
        col("notesCurrentlyRatedHelpful"),
        col("notesCurrentlyRatedNotHelpful"),
        col("notesAwaitingMoreRatings"),
    );
    let intercept = floats(table, "coreRaterIntercept");
    let factor = floats(table, "coreRaterFactor1");
    (0..table.rows())
        .filter_map(|i| {
            Some(RaterScore {
                participant_id: ids[i].clone()?,
                core_rater_intercept: intercept[i],
                core_rater_factor: factor[i],
                successful_rating_total: ok[i].unwrap_or(0),
                unsuccessful_rating_total: not_ok[i].unwrap_or(0),
                unsuccessful_rating_not_helpful_count: not_ok_nh[i].unwrap_or(0),
                notes_currently_rated_helpful: crh[i].unwrap_or(0),
                notes_currently_rated_not_helpful: crnh[i].unwrap_or(0),
                notes_awaiting_more_ratings: nmr[i].unwrap_or(0),
            })
        })
        .collect()
}

/// Rating impact (successful − unsuccessful ratings, unsuccessful helpful ratings of notes
/// found not helpful counting twice), writing impact (helpful − not-helpful notes, deleted
/// notes included) and the enrollment that follows, for every enrolled contributor whose
/// values changed.
fn contributor_updates(
    outputs: &ScoreOutputs,
    raters: &[RaterScore],
    previous: &HashMap<i64, Option<NoteStatus>>,
    enrollment: &HashMap<String, Enrollment>,
    now_millis: i64,
) -> Vec<ContributorUpdate> {
    let mut standing: HashMap<&str, Standing> = HashMap::new();
    for r in raters {
        standing.entry(&r.participant_id).or_default().rating_impact = r.successful_rating_total
            - r.unsuccessful_rating_total
            - r.unsuccessful_rating_not_helpful_count;
    }
    let mut by_author: HashMap<&str, Vec<&StatusHistoryRow>> = HashMap::new();
    for h in &outputs.note_status_history {
        by_author.entry(&h.author).or_default().push(h);
    }
    for (author, mut notes) in by_author {
        let s = standing.entry(author).or_default();
        for h in &notes {
            match h.current_status {
                Some(NoteStatus::CurrentlyRatedHelpful) => s.writing_impact += 1,
                Some(NoteStatus::CurrentlyRatedNotHelpful) => {
                    s.writing_impact -= 1;
                    if previous.get(&h.note_id).copied().flatten()
                        != Some(NoteStatus::CurrentlyRatedNotHelpful)
                    {
                        s.newly_not_helpful = true;
                    }
                }
                _ => {}
            }
        }
        notes.sort_by_key(|h| std::cmp::Reverse((h.created_at_millis, h.note_id)));
        s.crnh_in_last_five = notes
            .iter()
            .filter(|h| is_decided(h.current_status))
            .take(contributor_state::RECENT_NOTES)
            .filter(|h| h.current_status == Some(NoteStatus::CurrentlyRatedNotHelpful))
            .count();
    }
    let mut updates: Vec<ContributorUpdate> = enrollment
        .iter()
        .map(|(id, current)| {
            let s = standing.get(id.as_str()).copied().unwrap_or_default();
            ContributorUpdate {
                participant_id: id.clone(),
                rating_impact: s.rating_impact,
                writing_impact: s.writing_impact,
                enrollment: next_enrollment(current, &s, now_millis),
            }
        })
        .collect();
    updates.sort_by(|a, b| a.participant_id.cmp(&b.participant_id));
    updates
}

/// How long to wait between scheduled runs, from minutes.
pub fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}
