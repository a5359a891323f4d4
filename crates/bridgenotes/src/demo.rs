//! `bridgenotes demo`: the README's first command. Synthesizes a small polarized community,
//! scores it with the full pipeline and prints what the bridging model decided; then (unless
//! `--no-serve`) loads it into an embedded SQLite database with a worked scenario, runs the
//! service's scoring and serves the pages and API.

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
        memory_budget: crate::cli::MemoryBudget::Auto,
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
            intercepts
                .get(b)
                .partial_cmp(&intercepts.get(a))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        println!("  notes rated helpful by raters who usually disagree (highest intercepts):");
        for &i in shown.iter().take(3) {
            let note = community
                .note_index(ids.get(i).unwrap_or_default())
                .map(|n| &community.notes[n as usize]);
            let text: String = note
                .map_or("", |n| n.summary.as_str())
                .chars()
                .take(90)
                .collect();
            println!("    {:+.3}  {text}", intercepts.get(i).unwrap_or(f32::NAN));
        }
    }
    if args.no_serve {
        return Ok(());
    }
    serve(args, &input)
}

/// The scenario that motivated the project (fictional names, neutral text).
const SCENARIO_POST: &str = "Senator Alex Example: \"President Jordan Sample of Northland is a \
    threat to democracy.\"";
const SCENARIO_CONTEXT_NOTE: &str = "Jordan Sample won Northland's 2024 presidential election \
    with 54% of the vote; observers rated the vote competitive. His approval rating in the \
    latest national poll is 48%. https://example.org/northland-election-2024 \
    https://example.org/northland-approval-poll";
const SCENARIO_ONE_SIDED_NOTE: &str = "The senator's statement is accurate and needs no added \
    context.";

fn serve(args: &DemoArgs, input: &std::path::Path) -> anyhow::Result<()> {
    use std::sync::Arc;

    use bridgenotes_service::clock::SystemClock;
    use bridgenotes_service::{AppState, Config, api, scoring};

    let data = crate::exchange::read_public(input)?;
    let db = args.out.join("bridgenotes-demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = bridgenotes_storage::connect(&db.display().to_string()).await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        store.import(&data, now).await?;
        let state = AppState::new(store, Arc::new(SystemClock), Config::default()).await?;
        scoring::run_scoring(&state).await?;

        // Two camps from the first run: the raters with the most negative and the most
        // positive viewpoint factors.
        let mut raters: Vec<(f64, String)> = state
            .store
            .rater_scores()
            .await?
            .into_iter()
            .filter_map(|r| r.core_rater_factor.map(|f| (f, r.participant_id)))
            .collect();
        raters.sort_by(|a, b| a.0.total_cmp(&b.0));
        let camp = 12.min(raters.len() / 2);
        let left: Vec<String> = raters[..camp].iter().map(|r| r.1.clone()).collect();
        let right: Vec<String> = raters[raters.len() - camp..]
            .iter()
            .map(|r| r.1.clone())
            .collect();

        let err = |e: bridgenotes_service::error::ApiError| anyhow::anyhow!("{}: {}", e.code, e.message);
        let writer = api::new_contributor(&state, bridgenotes_engine::EnrollmentState::EarnedIn, false)
            .await
            .map_err(err)?;
        let second = api::new_contributor(&state, bridgenotes_engine::EnrollmentState::EarnedIn, false)
            .await
            .map_err(err)?;
        let visitor = api::new_contributor(&state, bridgenotes_engine::EnrollmentState::EarnedIn, false)
            .await
            .map_err(err)?;
        let post = bridgenotes_storage::Post {
            id: state.ids.next(now),
            external_id: "demo-scenario-1".to_string(),
            author_handle: "senator_example".to_string(),
            text: SCENARIO_POST.to_string(),
            url: None,
            created_at_millis: now,
        };
        state.store.create_post(&post).await?;
        let writer_row = state
            .store
            .contributor(&writer.contributor.participant_id)
            .await?
            .context("demo writer")?;
        let second_row = state
            .store
            .contributor(&second.contributor.participant_id)
            .await?
            .context("demo writer")?;
        let context_note = api::write_note(
            &state,
            &writer_row,
            api::NewNoteIn {
                post_id: post.id.to_string(),
                classification: "MISINFORMED_OR_POTENTIALLY_MISLEADING".to_string(),
                reasons: vec!["misleadingMissingImportantContext".to_string()],
                summary: SCENARIO_CONTEXT_NOTE.to_string(),
                trustworthy_sources: Some(true),
                is_media_note: false,
            },
        )
        .await
        .map_err(err)?;
        let one_sided = api::write_note(
            &state,
            &second_row,
            api::NewNoteIn {
                post_id: post.id.to_string(),
                classification: "NOT_MISLEADING".to_string(),
                reasons: vec!["notMisleadingOther".to_string()],
                summary: SCENARIO_ONE_SIDED_NOTE.to_string(),
                trustworthy_sources: Some(false),
                is_media_note: false,
            },
        )
        .await
        .map_err(err)?;
        // Both camps find the context helpful; the one-sided note splits them.
        for (i, rater) in left.iter().chain(&right).enumerate() {
            let Some(row) = state.store.contributor(rater).await? else {
                continue;
            };
            let in_left = i < left.len();
            let rate = |level: &str, tags: &[&str]| api::RatingIn {
                helpfulness_level: level.to_string(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
            };
            let context_rating = rate("HELPFUL", &["helpfulGoodSources", "helpfulImportantContext"]);
            let one_sided_rating = if in_left {
                rate("HELPFUL", &[])
            } else {
                rate("NOT_HELPFUL", &["notHelpfulOpinionSpeculation"])
            };
            for (note, rating) in [(&context_note.id, context_rating), (&one_sided.id, one_sided_rating)] {
                let id: i64 = note.parse()?;
                api::rate(&state, &row, id, rating).await.map_err(err)?;
            }
        }
        let run = scoring::run_scoring(&state).await?;
        // Scored again every hour, as `serve` does by default.
        scoring::spawn_scheduler(state.clone(), scoring::minutes(60));

        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let url = format!("http://{}", listener.local_addr()?);
        println!("bridgenotes demo is serving {url}/ (Ctrl-C stops it)");
        println!(
            "  database:     {} ({} notes, {} ratings; {} helpful, {} not helpful, {} need more ratings)",
            db.display(),
            run.notes,
            run.ratings,
            run.currently_rated_helpful,
            run.currently_rated_not_helpful,
            run.needs_more_ratings
        );
        println!("  the scenario: {url}/posts/{}", post.id);
        println!("  why this status: {url}/notes/{}", context_note.id);
        println!("  sign in at {url}/signin with the token {}", visitor.token);
        use std::io::Write;
        std::io::stdout().flush().ok();
        bridgenotes_service::serve(listener, state, async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
        anyhow::Ok(())
    })
}
