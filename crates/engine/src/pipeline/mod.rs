//! One scoring run over a community, from prepared data to the four output files: the core
//! model's prescoring and final scoring, meta-scoring, the status history update and the
//! contributor scores.

use crate::community::{Community, CommunityView};
use crate::contributor_state::{NoteSummary, RatingTotals, contributor_states};
use crate::enrollment::Enrollment;
use crate::helpfulness::{
    AuthorContributions, NoteTimes, RatingContributions, contribution_counts,
};
use crate::history_update::{pcrh_time, rescoring_active_rules, update_status_history};
use crate::meta::{MetaOutcome, ModelResults, PopulationSampled, meta_score};
use crate::output::{
    AUX_NOTE_INFO_COLUMNS, HELPFULNESS_SCORES_COLUMNS, OutputTable, SCORED_NOTES_COLUMNS,
};
use crate::pcrh::{PcrhInputs, PcrhPrediction, run_pcrh};
use crate::pflip::{PflipInputs, PflipPrediction, run_pflip};
use crate::prescoring::{PrescoringMeta, ScorerPrescoring};
use crate::pss::{self, Cliques, Variant};
use crate::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};
use crate::reputation::{ReputationOptions, ReputationScores, run_reputation};
use crate::scorer::catalog::{ScorerConfig, ScorerKind};
use crate::scorer::finished::FinishedScorer;
use crate::scorer::gaussian_run::run_gaussian;
use crate::scorer::prescore::{PrescoreError, prescore};
use crate::scorer::run::run_scorer;
use crate::scorer::{rating_bound, select};
use crate::tags::{TaggedRatings, note_tag_counts};
use crate::topic::Topic;
use crate::{ColumnValues, NoteStatus, StatusHistoryRow, Table};

mod models;
mod observer;
mod side_by_side;

pub use crate::scorer::run::FitPasses;
use models::ModelColumns;
pub use observer::{Observer, Silent, Stage};
use side_by_side::{run_side_by_side, run_within_budget};

const DAY_MILLIS: f64 = 86_400_000.0;

/// One job of the side-by-side batch of scorers.
enum BatchResult {
    Scorer(Option<Box<FinishedScorer>>),
    Reputation(Option<Box<ReputationScores>>),
}

/// Settings of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreOptions {
    /// "Now" of the run (the reference's `--epoch-millis`), in milliseconds.
    pub now_millis: i64,
    /// The clock of the rescoring labels. The reference reads the wall clock there; the
    /// `score` command passes `now_millis` when `--epoch-millis` is given, so runs repeat.
    pub wall_millis: i64,
    /// Run the pseudo-rater refits (uncertainty bounds of core intercepts).
    pub pseudo_raters: bool,
    /// Run only the scorers with these reference names (`None`: every scorer). A Gaussian
    /// scorer also needs the scorer whose prescoring it reads.
    pub scorers: Option<Vec<String>>,
    /// Bytes the matrix-factorization scorers running side by side may hold together,
    /// estimated from their ratings ([`SCORER_BYTES_PER_RATING`]); `None`: one scorer per
    /// pool thread, whatever they hold. Only the schedule depends on it, not the results.
    pub memory_budget: Option<u64>,
}

/// What a matrix-factorization scorer holds per rating it scores while it runs: the index
/// lists of its ratings (selection and view, 8 B), the logistic data (40 B), the
/// factorization matrix (16 B), masks and build temporaries, rounded up (heaptrack measured
/// about 80 B at 1 M ratings when the scorer still held a 28 B copy of its ratings instead
/// of a 4 B index list). [`ScoreOptions::memory_budget`] plans with it.
pub const SCORER_BYTES_PER_RATING: u64 = 72;

/// Everything a run writes.
#[derive(Clone, Debug)]
pub struct ScoreOutputs {
    pub scored_notes: Table,
    pub aux_note_info: Table,
    pub note_status_history: Vec<StatusHistoryRow>,
    pub helpfulness_scores: Table,
    /// Final status counts (CRH, CRNH, NMR).
    pub status_counts: [usize; 3],
}

fn f32s(values: impl IntoIterator<Item = Option<f64>>) -> ColumnValues {
    ColumnValues::F32(values.into_iter().map(|v| v.map(|v| v as f32)).collect())
}

fn f64s(values: impl IntoIterator<Item = Option<f64>>) -> ColumnValues {
    ColumnValues::F64(values.into_iter().collect())
}

fn ints(values: impl IntoIterator<Item = Option<i64>>) -> ColumnValues {
    ColumnValues::Int(values.into_iter().collect())
}

fn strs<S: ToString>(values: impl IntoIterator<Item = Option<S>>) -> ColumnValues {
    ColumnValues::Str(
        values
            .into_iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
    )
}

fn bools(values: impl IntoIterator<Item = Option<bool>>) -> ColumnValues {
    ColumnValues::Bool(values.into_iter().collect())
}

/// Scores a prepared community. `topics` gives each note's topic (notes with a topic are
/// left to topic models); `cliques` the post-selection-similarity assignment, if computed.
pub fn score(
    community: &Community,
    topics: &[Option<Topic>],
    cliques: Option<&Cliques>,
    options: &ScoreOptions,
) -> Result<ScoreOutputs, PrescoreError> {
    score_observed(community, topics, cliques, options, &Silent)
}

/// [`score`], reporting each stage to `observer`.
pub fn score_observed(
    community: &Community,
    topics: &[Option<Topic>],
    cliques: Option<&Cliques>,
    options: &ScoreOptions,
    observer: &dyn Observer,
) -> Result<ScoreOutputs, PrescoreError> {
    // The two views hold only the order of their ratings, not copies.
    let (prescoring_view, final_view) = match cliques {
        Some(cliques) => (
            pss::view(community, cliques, Variant::Prescoring),
            pss::view(community, cliques, Variant::Final),
        ),
        None => (community.view(), community.view()),
    };
    let notes = community.notes.len();
    let participants = community.participants.len();

    // Every matrix-factorization scorer; each is deterministic and independent of the
    // others, so their order does not matter.
    let wanted = |name: &str| {
        options
            .scorers
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    };
    let mf_configs: Vec<ScorerConfig> = ScorerConfig::all()
        .into_iter()
        .filter(|c| wanted(c.spec.name))
        .collect();
    let gaussian_configs: Vec<ScorerConfig> = ScorerConfig::gaussians()
        .into_iter()
        .filter(|c| wanted(c.spec.name))
        .collect();
    // The prescorings the Gaussian scorers start from, kept whole until they have run.
    let gaussian_sources: Vec<&str> = gaussian_configs
        .iter()
        .filter_map(|c| c.gaussian.as_ref().map(|g| g.prescoring))
        .collect();
    let reputation_options = ReputationOptions::reference();
    let run_coverage = wanted(reputation_options.spec.name);
    let total = mf_configs.len() + gaussian_configs.len() + run_coverage as usize + 4;
    // The scorers only read the two views and the topics, and each is deterministic by
    // itself, so they run side by side (as many at once as the pool has threads); their
    // results are kept in catalog order. The reputation (coverage) model joins the batch
    // as its last job.
    let mf_count = mf_configs.len();
    let mut reputation_result = None;
    let mut runs = Vec::new();
    let jobs = mf_count + run_coverage as usize;
    let weights: Vec<u64> = match options.memory_budget {
        None => Vec::new(),
        Some(_) => (0..jobs)
            .map(|i| {
                let spec = mf_configs
                    .get(i)
                    .map_or(&reputation_options.spec, |c| &c.spec);
                rating_bound(&prescoring_view, spec, topics) as u64 * SCORER_BYTES_PER_RATING
            })
            .collect(),
    };
    let batch = run_within_budget(
        jobs,
        &weights,
        options.memory_budget,
        |i| -> Result<_, PrescoreError> {
            if i < mf_count {
                let config = &mf_configs[i];
                observer.started(Stage::Scorer(config.spec.name), i, total);
                let run = run_scorer(
                    &prescoring_view,
                    &final_view,
                    config,
                    topics,
                    options.pseudo_raters,
                );
                if let Ok(Some(run)) = &run {
                    let ratings = run.selection.ratings.len();
                    observer.fitted(Stage::Scorer(config.spec.name), ratings, &run.fit_passes());
                }
                observer.finished(Stage::Scorer(config.spec.name));
                let run = run?.map(|run| {
                    let core = config.kind == ScorerKind::Core;
                    let mut finished = FinishedScorer::new(run, core);
                    if !core && !gaussian_sources.contains(&config.spec.name) {
                        finished.shed_prescoring();
                    }
                    Box::new(finished)
                });
                Ok(BatchResult::Scorer(run))
            } else {
                let name = reputation_options.spec.name;
                observer.started(Stage::Scorer(name), i, total);
                let rep =
                    run_reputation(&prescoring_view, &final_view, topics, &reputation_options);
                observer.finished(Stage::Scorer(name));
                Ok(BatchResult::Reputation(
                    rep?.map(|(_, scores)| Box::new(scores)),
                ))
            }
        },
    );
    for result in batch {
        match result? {
            BatchResult::Scorer(run) => runs.extend(run.map(|r| *r)),
            BatchResult::Reputation(scores) => reputation_result = Some(scores.map(|s| *s)),
        }
    }
    let reputation = reputation_result.flatten();
    let mut stage = mf_count + run_coverage as usize;
    // The Gaussian scorers read the prescoring of a matrix-factorization scorer: the core
    // model's, or one run for them alone.
    let needed: Vec<&str> = gaussian_configs
        .iter()
        .filter_map(|c| c.gaussian.as_ref().map(|g| g.prescoring))
        .collect();
    let extra_configs: Vec<ScorerConfig> = ScorerConfig::prescoring_only()
        .into_iter()
        .filter(|c| needed.contains(&c.spec.name))
        .collect();
    let mut extra_prescoring = Vec::new();
    for (config, p) in extra_configs
        .iter()
        .zip(run_side_by_side(extra_configs.len(), |i| {
            let config = &extra_configs[i];
            let selection = select(&prescoring_view, &config.spec, topics);
            prescore(&prescoring_view, &selection, &config.prescore)
        }))
    {
        if let Some(p) = p? {
            extra_prescoring.push((config.spec.name, p));
        }
    }
    let gaussian_results = run_side_by_side(gaussian_configs.len(), |i| {
        let config = &gaussian_configs[i];
        observer.started(Stage::Scorer(config.spec.name), stage + i, total);
        let source = config.gaussian.as_ref().map(|g| g.prescoring);
        let prescored = runs
            .iter()
            .find(|r| Some(r.config.spec.name) == source)
            .map(|r| &r.prescored)
            .or_else(|| {
                extra_prescoring
                    .iter()
                    .find(|(name, _)| Some(*name) == source)
                    .map(|(_, p)| p)
            });
        let run = match prescored {
            Some(prescored) => run_gaussian(&final_view, config, prescored, topics),
            None => Ok(None),
        }
        .map(|run| {
            run.map(|run| {
                let mut finished = FinishedScorer::new(run, false);
                finished.shed_prescoring();
                finished
            })
        });
        observer.finished(Stage::Scorer(config.spec.name));
        run
    });
    stage += gaussian_configs.len();
    let mut gaussian_runs = Vec::new();
    for run in gaussian_results {
        gaussian_runs.extend(run?);
    }
    runs.extend(gaussian_runs);
    let model = |kind: ScorerKind| ModelColumns::coalesce(&runs, notes, |k| k == kind);
    let core_columns = model(ScorerKind::Core);
    let core_with_topics = model(ScorerKind::CoreWithTopics);
    let expansion = model(ScorerKind::Expansion);
    let expansion_plus = model(ScorerKind::ExpansionPlus);
    let groups = ModelColumns::coalesce(&runs, notes, |k| matches!(k, ScorerKind::Group(_)));
    let multi_group =
        ModelColumns::coalesce(&runs, notes, |k| matches!(k, ScorerKind::MultiGroup(_)));
    let topic_models = ModelColumns::coalesce(&runs, notes, |k| matches!(k, ScorerKind::Topic(_)));
    let gaussian = model(ScorerKind::Gaussian);
    let gaussian_core_with_topics = model(ScorerKind::GaussianCoreWithTopics);

    let core = runs.iter().find(|r| r.config.kind == ScorerKind::Core);
    let empty_tables = ScorerPrescoring::empty(notes, participants, PrescoringMeta::default());
    let tables = core.map_or(&empty_tables, |c| &c.prescored.tables);
    let core_results = core.map_or(vec![None; notes], |c| c.by_note(notes));
    let core_aggregates = core.map_or(vec![None; notes], |c| c.aggregates_by_note(notes));

    observer.started(Stage::Pcrh, stage, total);
    stage += 1;
    let pcrh = core.map_or(vec![None; notes], |core| {
        pcrh_predictions(community, &prescoring_view, core, &runs, topics)
    });
    observer.finished(Stage::Pcrh);
    observer.started(Stage::Pflip, stage, total);
    stage += 1;
    let pflip = pflip_predictions(community, &prescoring_view, &final_view, &runs, options);
    observer.finished(Stage::Pflip);
    // Nothing reads the prescoring view after the PCRH and flip models; the output tables
    // that follow are the run's last large allocations.
    drop(prescoring_view);

    observer.started(Stage::MetaScoring, stage, total);
    stage += 1;
    // Population-sampled ratings by the sign of the core rater factor (missing counts 0).
    let population_sampled_signs: Vec<[u32; 2]> = (0..notes)
        .map(|n| core_results[n].map_or([0, 0], |r| r.population_sampled_signs))
        .collect();

    // Meta-scoring and the history update.
    let r = &final_view.ratings;
    let tag_counts = note_tag_counts(TaggedRatings::from(r), notes);
    let mut outcomes: Vec<MetaOutcome> = Vec::with_capacity(notes);
    let mut history: Vec<StatusHistoryRow> = Vec::with_capacity(notes);
    for (n, note_tags) in tag_counts.iter().enumerate() {
        let models = ModelResults {
            core: core_columns.result(n),
            core_with_topics: core_with_topics.result(n),
            expansion: expansion.result(n),
            expansion_plus: expansion_plus.result(n),
            multi_group: multi_group.result(n),
            modeling_multi_group: multi_group.modeling_group(n),
            group: groups.result(n),
            modeling_group: groups.modeling_group(n),
            topic: topic_models.topic_result(n),
            gaussian: gaussian.result(n),
            gaussian_core_with_topics: gaussian_core_with_topics.result(n),
            core_population_sampled: PopulationSampled {
                intercept: core_columns.population_sampled[n],
                negative: population_sampled_signs[n][0],
                positive: population_sampled_signs[n][1],
            },
        };
        let note = &community.notes[n];
        let label = pflip[n].map(|p| p.label);
        let outcome = meta_score(&models, &note.history, note_tags, label, options.now_millis);
        history.push(update_status_history(
            &note.history,
            &outcome,
            &models,
            None,
            options.now_millis,
        ));
        outcomes.push(outcome);
    }
    let pcrh_times: Vec<Option<f64>> = (0..notes)
        .map(|n| {
            let note = &community.notes[n];
            pcrh_time(
                pcrh[n].map(|p| p.above),
                note.history.above_pcrh_threshold_time,
                outcomes[n].decided_by(),
                core_columns.status[n],
                note.classification,
                options.now_millis,
            )
        })
        .collect();
    for (row, t) in history.iter_mut().zip(&pcrh_times) {
        row.above_pcrh_threshold_time = *t;
    }

    // Note statistics over all (post-PSS) ratings.
    let mut num_ratings = vec![0i64; notes];
    let mut last_28 = vec![0i64; notes];
    let mut sampled = vec![0i64; notes];
    let cutoff = options.now_millis as f64 - 28.0 * DAY_MILLIS;
    for k in 0..r.len() {
        let n = r.note(k) as usize;
        num_ratings[n] += 1;
        last_28[n] += (r.created_at_millis(k) as f64 > cutoff) as i64;
        sampled[n] += r.population_sampled(k) as i64;
    }
    // Nor the final view after these counts (its participants are the community's).
    drop(final_view);

    let mut sn = OutputTable::new(&SCORED_NOTES_COLUMNS, notes);
    sn.set(
        "noteId",
        ints(community.notes.iter().map(|n| Some(n.note_id))),
    );
    core_columns.write(&mut sn, "core");
    core_with_topics.write(&mut sn, "coreWithTopics");
    expansion.write(&mut sn, "expansion");
    expansion_plus.write(&mut sn, "expansionPlus");
    groups.write(&mut sn, "group");
    multi_group.write(&mut sn, "multiGroup");
    topic_models.write(&mut sn, "topic");
    gaussian.write(&mut sn, "gaussian");
    gaussian_core_with_topics.write(&mut sn, "gaussianCoreWithTopics");
    if let Some(rep) = &reputation {
        sn.set(
            "coverageNoteIntercept",
            f32s(rep.note_intercept.iter().copied()),
        );
        sn.set("coverageNoteFactor1", f32s(rep.note_factor.iter().copied()));
        sn.set("coverageRatingStatus", strs(rep.status.iter().copied()));
    }
    sn.set(
        "modelingGroup",
        f64s((0..notes).map(|n| groups.modeling_group(n).map(f64::from))),
    );
    sn.set(
        "modelingMultiGroup",
        f64s((0..notes).map(|n| multi_group.modeling_group(n).map(f64::from))),
    );
    sn.set(
        "noteTopic",
        strs((0..notes).map(|n| topic_models.topic_result(n).topic)),
    );
    sn.set(
        "topicNoteConfident",
        bools((0..notes).map(|n| topic_models.topic_result(n).confident)),
    );
    sn.set(
        "finalRatingStatus",
        strs(outcomes.iter().map(|o| Some(o.status))),
    );
    sn.set("firstTag", strs(outcomes.iter().map(|o| o.first_tag)));
    sn.set("secondTag", strs(outcomes.iter().map(|o| o.second_tag)));
    // The core model's result on notes it outputs with a rule outcome.
    let core_outcome = |n: usize| core_results[n].filter(|r| r.outcome.is_some());
    sn.set(
        "activeFilterTags",
        strs(
            (0..notes)
                .map(|n| core_outcome(n).and_then(|r| r.active_filter_tags.active_filter_tags())),
        ),
    );
    sn.set(
        "classification",
        strs(community.notes.iter().map(|n| n.classification)),
    );
    sn.set(
        "createdAtMillis",
        f64s(
            community
                .notes
                .iter()
                .map(|n| Some(n.created_at_millis as f64)),
        ),
    );
    sn.set(
        "metaScorerActiveRules",
        strs(outcomes.iter().map(|o| Some(o.active_rules_text()))),
    );
    sn.set(
        "decidedBy",
        strs(outcomes.iter().map(|o| Some(o.decided_by().label()))),
    );
    sn.set("numRatings", ints(num_ratings.iter().map(|&c| Some(c))));
    sn.set("abovePcrhThresholdTime", f64s(pcrh_times.iter().copied()));
    sn.set(
        "pflipProba",
        f64s(pflip.iter().map(|p| p.map(|p| p.probability))),
    );
    sn.set(
        "timestampMillisOfCurrentStatus",
        f64s((0..notes).map(|_| Some(options.now_millis as f64))),
    );
    sn.set(
        "rescoringActiveRules",
        strs(community.notes.iter().map(|n| {
            Some(rescoring_active_rules(
                n.created_at_millis,
                n.history.timestamp_millis_of_current_status,
                options.wall_millis,
            ))
        })),
    );
    sn.set(
        "timestampMillisOfNmrDueToMinStableCrhTime",
        f64s(
            history
                .iter()
                .map(|h| h.timestamp_millis_of_nmr_due_to_min_stable_crh_time),
        ),
    );

    let mut aux = OutputTable::new(&AUX_NOTE_INFO_COLUMNS, notes);
    aux.set(
        "noteId",
        ints(community.notes.iter().map(|n| Some(n.note_id))),
    );
    aux.set(
        "pcrhExitN",
        f64s(pcrh.iter().map(|p| p.map(|p| f64::from(p.ratings)))),
    );
    aux.set(
        "pcrhExitProba",
        f64s(pcrh.iter().map(|p| p.map(|p| p.probability))),
    );
    aux.set(
        "pcrhRevoked",
        bools(pcrh.iter().map(|p| p.map(|p| p.revoked))),
    );
    aux.set(
        "pcrhRevokeN",
        f64s(pcrh.iter().map(|p| p.and_then(|p| p.revoke_n()))),
    );
    aux.set(
        "pcrhFinalPred",
        bools(pcrh.iter().map(|p| p.map(|p| p.above))),
    );
    let tag_aggregate = |n: usize| {
        core_outcome(n)
            .and(core_aggregates[n])
            .and_then(|(t, _)| t.as_ref())
    };
    aux.set(
        "ratingWeight",
        f64s((0..notes).map(|n| tag_aggregate(n).map(|a| a.rating_weight))),
    );
    aux.set(
        "createdAtMillis",
        f64s(
            community
                .notes
                .iter()
                .map(|n| Some(n.created_at_millis as f64)),
        ),
    );
    aux.set(
        "noteAuthorParticipantId",
        strs(
            community
                .notes
                .iter()
                .map(|n| Some(community.participants[n.author as usize].id.clone())),
        ),
    );
    aux.set(
        "awaitingBool",
        bools(outcomes.iter().map(|o| Some(o.awaiting_bool()))),
    );
    aux.set("numRatingsLast28", ints(last_28.iter().map(|&c| Some(c))));
    aux.set(
        "coreNegFactor_populationSampledRatingCount",
        ints(
            population_sampled_signs
                .iter()
                .map(|s| Some(i64::from(s[0]))),
        ),
    );
    aux.set(
        "corePosFactor_populationSampledRatingCount",
        ints(
            population_sampled_signs
                .iter()
                .map(|s| Some(i64::from(s[1]))),
        ),
    );
    aux.set(
        "numPopulationSampledRatings",
        ints(sampled.iter().map(|&c| Some(c))),
    );
    aux.set(
        "currentStatus",
        strs(community.notes.iter().map(|n| n.history.current_status)),
    );
    aux.set(
        "crhBool",
        bools(outcomes.iter().map(|o| Some(o.crh_bool()))),
    );
    aux.set(
        "crnhBool",
        bools(outcomes.iter().map(|o| Some(o.crnh_bool()))),
    );
    aux.set(
        "unlockedRatingStatus",
        strs(outcomes.iter().map(|o| o.unlocked_status)),
    );
    aux.set(
        "preStabilizationRatingStatus",
        strs(outcomes.iter().map(|o| Some(o.pre_stabilization_status))),
    );
    for (k, name) in HELPFUL_TAGS.iter().enumerate() {
        aux.set(
            name,
            ints(tag_counts.iter().map(|c| Some(c.helpful[k] as i64))),
        );
    }
    for (k, name) in NOT_HELPFUL_TAGS.iter().enumerate() {
        aux.set(
            name,
            ints(tag_counts.iter().map(|c| Some(c.not_helpful[k] as i64))),
        );
        aux.set(
            &format!("{name}Adjusted"),
            f64s((0..notes).map(|n| tag_aggregate(n).map(|a| a.adjusted[k]))),
        );
        aux.set(
            &format!("{name}AdjustedRatio"),
            f64s((0..notes).map(|n| tag_aggregate(n).and_then(|a| a.adjusted_ratio[k]))),
        );
    }
    let incorrect = |n: usize| {
        core_outcome(n)
            .and(core_aggregates[n])
            .and_then(|(_, i)| i.as_ref())
    };
    aux.set(
        "notHelpfulIncorrect_interval",
        f64s((0..notes).map(|n| incorrect(n).map(|a| a.incorrect as f64))),
    );
    aux.set(
        "p_incorrect_user_interval",
        f64s((0..notes).map(|n| incorrect(n).map(|a| a.p_incorrect_user))),
    );
    aux.set(
        "num_voters_interval",
        f64s((0..notes).map(|n| incorrect(n).map(|a| a.voters as f64))),
    );
    if core.is_some() {
        aux.set(
            "lowDiligenceIntercept",
            f64s(core_results.iter().map(|r| r.and_then(|r| r.low_diligence))),
        );
    }
    aux.set(
        "tf_idf_incorrect_interval",
        f64s((0..notes).map(|n| incorrect(n).map(|a| a.tf_idf.unwrap_or(f64::NAN)))),
    );

    observer.finished(Stage::MetaScoring);
    observer.started(Stage::Contributors, stage, total);
    // Contributor scores.
    let final_status: Vec<Option<NoteStatus>> = outcomes.iter().map(|o| Some(o.status)).collect();
    let times = NoteTimes::from_history(history.iter());
    let authors: Vec<u32> = community.notes.iter().map(|n| n.author).collect();
    let counts_u32: Vec<u32> = num_ratings.iter().map(|&c| c as u32).collect();
    let contributions = contribution_counts(
        participants,
        &community.ratings.view(),
        &times,
        &authors,
        &final_status,
        &counts_u32,
    );
    // Other models' rater parameters. Like the reference, contributor scoring reads each
    // matrix-factorization scorer's prescoring rater table (prescoring-only scorers such as
    // group 15's included), not its final fit; group models keep the raters enrolled in
    // their groups and coalesce into one set of columns.
    let rater_tables: Vec<(&ScorerConfig, &ScorerPrescoring)> = runs
        .iter()
        .filter(|r| r.config.gaussian.is_none())
        .map(|r| (&r.config, &r.prescored.tables))
        .chain(extra_prescoring.iter().filter_map(|(name, p)| {
            extra_configs
                .iter()
                .find(|c| c.spec.name == *name)
                .map(|c| (c, &p.tables))
        }))
        .collect();
    let rows: Vec<usize> = (0..participants)
        .filter(|&u| {
            tables.mean_note_score[u].is_some()
                || contributions.rating[u].is_some()
                || contributions.authoring[u].is_some()
                || rater_tables.iter().any(|(_, t)| t.has_rater_row(u))
                || reputation
                    .as_ref()
                    .is_some_and(|rep| rep.rater_reputation[u].is_some())
        })
        .collect();
    let mut hs = OutputTable::new(&HELPFULNESS_SCORES_COLUMNS, rows.len());
    let pick =
        |values: &[Option<f64>]| -> Vec<Option<f64>> { rows.iter().map(|&u| values[u]).collect() };
    hs.set(
        "raterParticipantId",
        strs(
            rows.iter()
                .map(|&u| Some(community.participants[u].id.clone())),
        ),
    );
    hs.set("coreRaterIntercept", f32s(pick(&tables.rater_intercept)));
    hs.set("coreRaterFactor1", f32s(pick(&tables.rater_factor)));
    let whole = community.view();
    type KindFilter = fn(ScorerKind) -> bool;
    let rater_columns: [(&str, KindFilter); 5] = [
        ("coreWithTopics", |k| k == ScorerKind::CoreWithTopics),
        ("expansion", |k| k == ScorerKind::Expansion),
        ("expansionPlus", |k| k == ScorerKind::ExpansionPlus),
        ("group", |k| matches!(k, ScorerKind::Group(_))),
        ("multiGroup", |k| matches!(k, ScorerKind::MultiGroup(_))),
    ];
    for (prefix, pick_kind) in rater_columns {
        let source: Vec<Option<(&ScorerConfig, &ScorerPrescoring)>> = rows
            .iter()
            .map(|&u| {
                rater_tables
                    .iter()
                    .find(|(c, t)| {
                        pick_kind(c.kind) && t.has_rater_row(u) && c.keeps_user(&whole, u)
                    })
                    .copied()
            })
            .collect();
        let param = |values: fn(&ScorerPrescoring) -> &[Option<f64>]| {
            f32s(
                rows.iter()
                    .zip(&source)
                    .map(|(&u, s)| s.and_then(|(_, t)| values(t)[u])),
            )
        };
        hs.set(
            &format!("{prefix}RaterIntercept"),
            param(|t| &t.rater_intercept),
        );
        hs.set(&format!("{prefix}RaterFactor1"), param(|t| &t.rater_factor));
        let modeling = match prefix {
            "group" => Some("modelingGroup"),
            "multiGroup" => Some("modelingMultiGroup"),
            _ => None,
        };
        if let Some(column) = modeling {
            hs.set(
                column,
                f64s(source.iter().map(|s| {
                    s.and_then(|(c, _)| match c.kind {
                        ScorerKind::Group(g) | ScorerKind::MultiGroup(g) => Some(f64::from(g)),
                        _ => None,
                    })
                })),
            );
        }
    }
    if let Some(rep) = &reputation {
        hs.set(
            "raterHelpfulnessReputation",
            f32s(pick(&rep.rater_reputation)),
        );
    }
    hs.set(
        "crhCrnhRatioDifference",
        f64s(pick(&tables.crh_crnh_ratio_difference)),
    );
    hs.set("meanNoteScore", f64s(pick(&tables.mean_note_score)));
    hs.set("raterAgreeRatio", f64s(pick(&tables.rater_agree_ratio)));
    type RatingCount = fn(&RatingContributions) -> u32;
    let rating_counts: [(&str, RatingCount); 8] = [
        ("successfulRatingHelpfulCount", |c| {
            c.valid.successful_helpful
        }),
        ("successfulRatingNotHelpfulCount", |c| {
            c.valid.successful_not_helpful
        }),
        ("successfulRatingTotal", |c| c.valid.successful_total()),
        ("unsuccessfulRatingHelpfulCount", |c| {
            c.valid.unsuccessful_helpful
        }),
        ("unsuccessfulRatingNotHelpfulCount", |c| {
            c.valid.unsuccessful_not_helpful
        }),
        ("unsuccessfulRatingTotal", |c| c.valid.unsuccessful_total()),
        ("ratingsAwaitingMoreRatings", |c| {
            c.ratings_awaiting_more_ratings
        }),
        ("ratedAfterDecision", |c| c.rated_after_decision),
    ];
    for (name, count) in rating_counts {
        let values = rows
            .iter()
            .map(|&u| contributions.rating[u].as_ref().map(|c| count(c) as f64));
        hs.set(name, f64s(values));
    }
    type AuthorCount = fn(&AuthorContributions) -> u32;
    let author_counts: [(&str, AuthorCount); 3] = [
        ("notesCurrentlyRatedHelpful", |c| {
            c.notes_currently_rated_helpful
        }),
        ("notesCurrentlyRatedNotHelpful", |c| {
            c.notes_currently_rated_not_helpful
        }),
        ("notesAwaitingMoreRatings", |c| {
            c.notes_awaiting_more_ratings
        }),
    ];
    let authoring = |u: usize| contributions.authoring[u].as_ref();
    for (name, count) in author_counts {
        hs.set(
            name,
            ints(rows.iter().map(|&u| authoring(u).map(|c| count(c) as i64))),
        );
    }
    hs.set(
        "aggregateRatingReceivedTotal",
        f64s(
            rows.iter()
                .map(|&u| authoring(u).map(|c| c.aggregate_rating_received_total as f64)),
        ),
    );
    // Enrollment after this run, and the other contributor-state columns.
    let pre_pss_tags = note_tag_counts(
        TaggedRatings::new(
            &community.ratings.note,
            &community.ratings.rater,
            &community.ratings.tags,
        ),
        notes,
    );
    let summaries: Vec<NoteSummary> = (0..notes)
        .map(|n| NoteSummary {
            note_id: community.notes[n].note_id,
            author: community.notes[n].author,
            created_at_millis: community.notes[n].created_at_millis,
            status: outcomes[n].status,
            core_intercept: core_columns.intercept[n],
            ratings_last_28_days: last_28[n],
            num_ratings: counts_u32[n],
            tags: pre_pss_tags[n],
        })
        .collect();
    let enrollments: Vec<Option<&Enrollment>> = community
        .participants
        .iter()
        .map(|p| p.enrollment.as_ref())
        .collect();
    let rating_totals: Vec<Option<RatingTotals>> = contributions
        .rating
        .iter()
        .map(|c| {
            c.as_ref().map(|c| RatingTotals {
                successful_total: c.valid.successful_total(),
                unsuccessful_total: c.valid.unsuccessful_total(),
                unsuccessful_not_helpful: c.valid.unsuccessful_not_helpful,
            })
        })
        .collect();
    let author_counts: Vec<Option<[u32; 3]>> = contributions
        .authoring
        .iter()
        .map(|a| {
            a.as_ref().map(|a| {
                [
                    a.notes_currently_rated_helpful,
                    a.notes_currently_rated_not_helpful,
                    a.notes_awaiting_more_ratings,
                ]
            })
        })
        .collect();
    let states = contributor_states(
        &enrollments,
        &rating_totals,
        &author_counts,
        &summaries,
        options.now_millis,
    );
    let state = |u: usize| &states[u];
    hs.set(
        "enrollmentState",
        ints(rows.iter().map(|&u| state(u).enrollment_state)),
    );
    hs.set(
        "successfulRatingNeededToEarnIn",
        ints(
            rows.iter()
                .map(|&u| state(u).successful_rating_needed_to_earn_in),
        ),
    );
    hs.set(
        "timestampOfLastStateChange",
        ints(
            rows.iter()
                .map(|&u| state(u).timestamp_of_last_state_change),
        ),
    );
    hs.set(
        "aboveHelpfulnessThreshold",
        bools(rows.iter().map(|&u| tables.above_helpfulness_threshold[u])),
    );
    hs.set(
        "timestampOfLastEarnOut",
        f64s(
            rows.iter()
                .map(|&u| Some(state(u).timestamp_of_last_earn_out)),
        ),
    );
    hs.set(
        "numberOfTimesEarnedOut",
        f64s(
            rows.iter()
                .map(|&u| state(u).number_of_times_earned_out.map(|n| n as f64)),
        ),
    );
    hs.set(
        "isEmergingWriter",
        bools(rows.iter().map(|&u| Some(state(u).is_emerging_writer))),
    );
    hs.set(
        "authorTopNotHelpfulTagValues",
        strs(
            rows.iter()
                .map(|&u| state(u).author_top_not_helpful_tags.clone()),
        ),
    );
    for (k, name) in [
        "crhTotal14d",
        "crnhTotal14d",
        "nmrTotal14d",
        "crhTotal90d",
        "crnhTotal90d",
        "nmrTotal90d",
    ]
    .into_iter()
    .enumerate()
    {
        hs.set(
            name,
            ints(rows.iter().map(|&u| Some(state(u).recent_totals[k]))),
        );
    }
    // First-round parameters come with the prescoring rater table's rows only.
    let first_round = |values: &[Option<f64>]| -> Vec<Option<f64>> {
        rows.iter()
            .map(|&u| values[u].filter(|_| tables.has_rater_row(u)))
            .collect()
    };
    hs.set(
        "coreFirstRoundRaterIntercept",
        f32s(first_round(&tables.first_round_rater_intercept)),
    );
    hs.set(
        "coreFirstRoundRaterFactor1",
        f32s(first_round(&tables.first_round_rater_factor)),
    );

    observer.finished(Stage::Contributors);
    let count = |s: NoteStatus| outcomes.iter().filter(|o| o.status == s).count();
    Ok(ScoreOutputs {
        scored_notes: sn.finish(),
        aux_note_info: aux.finish(),
        note_status_history: history,
        helpfulness_scores: hs.finish(),
        status_counts: [
            count(NoteStatus::CurrentlyRatedHelpful),
            count(NoteStatus::CurrentlyRatedNotHelpful),
            count(NoteStatus::NeedsMoreRatings),
        ],
    })
}

/// The PCRH model's predictions (see [`crate::pcrh`]): it learns from the prescoring view
/// with the core model's and the topic models' prescoring rater factors, and predicts from
/// the ratings before the final similarity filter.
fn pcrh_predictions(
    community: &Community,
    prescoring_view: &CommunityView,
    core: &FinishedScorer,
    runs: &[FinishedScorer],
    topics: &[Option<Topic>],
) -> Vec<Option<PcrhPrediction>> {
    let tables = &core.prescored.tables;
    let core_factor = tables.table_rater_factors();
    let scored_rater: Vec<bool> = tables.rater_factor.iter().map(Option::is_some).collect();
    let topic_factors: Vec<(Topic, &[Option<f64>])> = runs
        .iter()
        .filter_map(|r| match r.config.kind {
            ScorerKind::Topic(topic) => Some((topic, r.prescored.tables.rater_factor.as_slice())),
            _ => None,
        })
        .collect();
    let previously_above: Vec<bool> = community
        .notes
        .iter()
        .map(|n| n.history.above_pcrh_threshold_time.is_some_and(|t| t > 0.0))
        .collect();
    let whole = community.view();
    run_pcrh(&PcrhInputs {
        notes: &community.notes,
        participants: &community.participants,
        training_ratings: &prescoring_view.ratings,
        current_ratings: &whole.ratings,
        core_factor: &core_factor,
        scored_rater: &scored_rater,
        topics,
        topic_factors: &topic_factors,
        previously_above: &previously_above,
    })
}

/// The flip model's predictions (see [`crate::pflip`]): it learns from the prescoring view and
/// predicts from the final one, placing raters by the core model's prescoring (final-round)
/// factor, else the expansion model's, else the expansion-plus model's.
fn pflip_predictions(
    community: &Community,
    prescoring_view: &CommunityView,
    final_view: &CommunityView,
    runs: &[FinishedScorer],
    options: &ScoreOptions,
) -> Vec<Option<PflipPrediction>> {
    let factors: Vec<&[Option<f64>]> = [
        ScorerKind::Core,
        ScorerKind::Expansion,
        ScorerKind::ExpansionPlus,
    ]
    .into_iter()
    .filter_map(|kind| runs.iter().find(|r| r.config.kind == kind))
    .map(|r| r.prescored.tables.rater_factor.as_slice())
    .collect();
    let rater_factor: Vec<Option<f64>> = (0..community.participants.len())
        .map(|p| factors.iter().find_map(|f| f[p].filter(|x| !x.is_nan())))
        .collect();
    run_pflip(&PflipInputs {
        notes: &community.notes,
        participants: &community.participants,
        training_ratings: &prescoring_view.ratings,
        current_ratings: &final_view.ratings,
        rater_factor: &rater_factor,
        now_millis: options.now_millis,
    })
}
