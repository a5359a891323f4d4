//! Meta-scoring and the status history update against the reference's outputs on the
//! golden datasets (`../shared/golden`, beside the checkout).
//!
//! The per-model statuses, intercepts and topic columns the reference computed are read from
//! its `scored_notes`, tag counts and population-sampled counts from `aux_note_info`, the
//! input history from `input/noteStatusHistory`. [`meta_score`] runs on them with the runs'
//! `--epoch-millis` and no flip-model label (the reference's `LABEL` is not in its outputs),
//! and the outcome is compared with `finalRatingStatus`, `decidedBy`,
//! `metaScorerActiveRules`, the tags and the aux columns; then [`update_status_history`] runs
//! and its rows are compared field by field with the reference's `note_status_history`.
//!
//! Notes whose outcome changes with the flip label (a label of CRH instead of none) are
//! counted apart: where the reference had a flip prediction (`pflipProba` present) its label
//! is unknown here, so those notes may legitimately differ.

mod common;

use common::{Tsv, golden};
use std::collections::HashMap;
use std::path::PathBuf;

use bridgenotes_engine::NoteStatus;
use bridgenotes_engine::StatusHistoryRow;
use bridgenotes_engine::history::STATUS_HISTORY_COLUMNS;
use bridgenotes_engine::history_update::{
    new_note_history, rescoring_active_rules, update_status_history,
};
use bridgenotes_engine::meta::{
    MetaOutcome, ModelResult, ModelResults, PflipLabel, PopulationSampled, TopicResult, meta_score,
};
use bridgenotes_engine::rating::{HELPFUL_TAGS, NOT_HELPFUL_TAGS};
use bridgenotes_engine::tags::TagCounts;
use bridgenotes_engine::topic::Topic;

/// `--epoch-millis` of the golden runs.
const NOW: i64 = 1_795_132_800_000;

fn dataset(name: &str) -> PathBuf {
    golden(name)
}

/// Typed access to one row.
struct Row<'a> {
    tsv: &'a Tsv,
    cells: &'a [String],
}

impl Row<'_> {
    fn text(&self, name: &str) -> Option<&str> {
        let cell = self.cells[self.tsv.col(name)].as_str();
        (!cell.is_empty()).then_some(cell)
    }

    fn f64(&self, name: &str) -> Option<f64> {
        self.text(name)
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: {v:?}")))
    }

    fn status(&self, name: &str) -> Option<NoteStatus> {
        self.text(name)
            .map(|v| v.parse().unwrap_or_else(|e| panic!("{name}: {e}")))
    }

    fn count(&self, name: &str) -> u32 {
        self.f64(name).unwrap_or(0.0) as u32
    }

    fn model(&self, prefix: &str) -> ModelResult {
        ModelResult {
            status: self.status(&format!("{prefix}RatingStatus")),
            intercept: self.f64(&format!("{prefix}NoteIntercept")),
        }
    }
}

fn models(sn: &Row<'_>, aux: &Row<'_>) -> ModelResults {
    ModelResults {
        core: sn.model("core"),
        core_with_topics: sn.model("coreWithTopics"),
        expansion: sn.model("expansion"),
        expansion_plus: sn.model("expansionPlus"),
        multi_group: sn.model("multiGroup"),
        modeling_multi_group: sn.f64("modelingMultiGroup").map(|g| g as u32),
        group: sn.model("group"),
        modeling_group: sn.f64("modelingGroup").map(|g| g as u32),
        gaussian: sn.model("gaussian"),
        gaussian_core_with_topics: sn.model("gaussianCoreWithTopics"),
        topic: TopicResult {
            status: sn.status("topicRatingStatus"),
            intercept: sn.f64("topicNoteIntercept"),
            factor: sn.f64("topicNoteFactor1"),
            topic: sn
                .text("noteTopic")
                .map(|t| t.parse::<Topic>().expect("a topic")),
            confident: sn.text("topicNoteConfident").map(|v| match v {
                "True" => true,
                "False" => false,
                _ => panic!("topicNoteConfident {v:?}"),
            }),
        },
        core_population_sampled: PopulationSampled {
            intercept: sn.f64("coreNoteInterceptPopulationSampled"),
            negative: aux.count("coreNegFactor_populationSampledRatingCount"),
            positive: aux.count("corePosFactor_populationSampledRatingCount"),
        },
    }
}

fn tag_counts(aux: &Row<'_>) -> TagCounts {
    let mut counts = TagCounts::default();
    for (k, name) in HELPFUL_TAGS.iter().enumerate() {
        counts.helpful[k] = aux.count(name);
    }
    for (k, name) in NOT_HELPFUL_TAGS.iter().enumerate() {
        counts.not_helpful[k] = aux.count(name);
    }
    counts
}

/// A status history row from a history file row.
fn history_row(r: &Row<'_>) -> StatusHistoryRow {
    StatusHistoryRow {
        note_id: r.text("noteId").unwrap().parse().unwrap(),
        author: r.text("noteAuthorParticipantId").unwrap().to_string(),
        created_at_millis: r.f64("createdAtMillis").unwrap() as i64,
        timestamp_millis_of_first_non_nmr_status: r.f64("timestampMillisOfFirstNonNMRStatus"),
        first_non_nmr_status: r.status("firstNonNMRStatus"),
        timestamp_millis_of_current_status: r.f64("timestampMillisOfCurrentStatus"),
        current_status: r.status("currentStatus"),
        timestamp_millis_of_latest_non_nmr_status: r.f64("timestampMillisOfLatestNonNMRStatus"),
        most_recent_non_nmr_status: r.status("mostRecentNonNMRStatus"),
        timestamp_millis_of_status_lock: r.f64("timestampMillisOfStatusLock"),
        locked_status: r.status("lockedStatus"),
        timestamp_millis_of_retro_lock: r.f64("timestampMillisOfRetroLock"),
        current_core_status: r.status("currentCoreStatus"),
        current_expansion_status: r.status("currentExpansionStatus"),
        current_group_status: r.status("currentGroupStatus"),
        current_decided_by: r.text("currentDecidedBy").map(str::to_string),
        current_modeling_group: r.f64("currentModelingGroup"),
        timestamp_millis_of_most_recent_status_change: r
            .f64("timestampMillisOfMostRecentStatusChange"),
        timestamp_millis_of_nmr_due_to_min_stable_crh_time: r
            .f64("timestampMillisOfNmrDueToMinStableCrhTime"),
        current_multi_group_status: r.status("currentMultiGroupStatus"),
        current_modeling_multi_group: r.f64("currentModelingMultiGroup"),
        timestamp_minute_of_final_scoring_output: r.f64("timestampMinuteOfFinalScoringOutput"),
        timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: r
            .f64("timestampMillisOfFirstNmrDueToMinStableCrhTime"),
        above_pcrh_threshold_time: r.f64("abovePcrhThresholdTime"),
    }
}

/// The fields of two history rows that differ, by column name.
fn differing_fields(a: &StatusHistoryRow, b: &StatusHistoryRow) -> Vec<&'static str> {
    let same = [
        a.note_id == b.note_id,
        a.author == b.author,
        a.created_at_millis == b.created_at_millis,
        a.timestamp_millis_of_first_non_nmr_status == b.timestamp_millis_of_first_non_nmr_status,
        a.first_non_nmr_status == b.first_non_nmr_status,
        a.timestamp_millis_of_current_status == b.timestamp_millis_of_current_status,
        a.current_status == b.current_status,
        a.timestamp_millis_of_latest_non_nmr_status == b.timestamp_millis_of_latest_non_nmr_status,
        a.most_recent_non_nmr_status == b.most_recent_non_nmr_status,
        a.timestamp_millis_of_status_lock == b.timestamp_millis_of_status_lock,
        a.locked_status == b.locked_status,
        a.timestamp_millis_of_retro_lock == b.timestamp_millis_of_retro_lock,
        a.current_core_status == b.current_core_status,
        a.current_expansion_status == b.current_expansion_status,
        a.current_group_status == b.current_group_status,
        a.current_decided_by == b.current_decided_by,
        a.current_modeling_group == b.current_modeling_group,
        a.timestamp_millis_of_most_recent_status_change
            == b.timestamp_millis_of_most_recent_status_change,
        a.timestamp_millis_of_nmr_due_to_min_stable_crh_time
            == b.timestamp_millis_of_nmr_due_to_min_stable_crh_time,
        a.current_multi_group_status == b.current_multi_group_status,
        a.current_modeling_multi_group == b.current_modeling_multi_group,
        a.timestamp_minute_of_final_scoring_output == b.timestamp_minute_of_final_scoring_output,
        a.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time
            == b.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time,
        a.above_pcrh_threshold_time == b.above_pcrh_threshold_time,
    ];
    STATUS_HISTORY_COLUMNS
        .iter()
        .zip(same)
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect()
}

fn text(status: Option<NoteStatus>) -> &'static str {
    status.map_or("", NoteStatus::as_str)
}

fn bool_text(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Agreement counts for one dataset.
#[derive(Debug, Default)]
struct Report {
    notes: usize,
    status: usize,
    decided_by: usize,
    active_rules: usize,
    tags: usize,
    aux: usize,
    /// Notes whose outcome changes with a CRH flip label.
    pflip_dependent: usize,
    /// … of which the reference had a flip prediction (label unknown here).
    pflip_predicted: usize,
    /// Mismatching notes (any of status, decidedBy, rules, tags) that match with a CRH
    /// label instead and had a flip prediction: the expected differences.
    explained_by_pflip: usize,
    /// History rows equal in every field.
    history_rows: usize,
    /// Differences per history column.
    history_fields: Vec<(&'static str, usize)>,
    /// History rows that differ although the meta outcome agreed.
    history_unexplained: usize,
    /// Notes whose meta outcome differs for no known reason.
    meta_unexplained: usize,
    /// Notes whose `rescoringActiveRules` agree for the best wall-clock time found.
    rescoring: usize,
}

fn matches(o: &MetaOutcome, sn: &Row<'_>) -> [bool; 4] {
    [
        o.status.as_str() == sn.text("finalRatingStatus").unwrap(),
        Some(o.decided_by().label()) == sn.text("decidedBy"),
        Some(o.active_rules_text().as_str()) == sn.text("metaScorerActiveRules"),
        o.first_tag == sn.text("firstTag") && o.second_tag == sn.text("secondTag"),
    ]
}

fn run(name: &str) -> Report {
    let dir = dataset(name);
    let sn_tsv = Tsv::read(&dir, "reference-output/scored_notes.tsv.gz");
    let aux_tsv = Tsv::read(&dir, "reference-output/aux_note_info.tsv.gz");
    let nsh_in_tsv = Tsv::read(&dir, "input/noteStatusHistory-00000.tsv.gz");
    let nsh_out_tsv = Tsv::read(&dir, "reference-output/note_status_history.tsv.gz");
    let aux_rows = aux_tsv.by_note();
    let nsh_in = nsh_in_tsv.by_note();
    let nsh_out = nsh_out_tsv.by_note();
    assert_eq!(sn_tsv.rows.len(), nsh_out.len());

    let mut report = Report {
        notes: sn_tsv.rows.len(),
        ..Report::default()
    };
    let mut field_diffs: HashMap<&'static str, usize> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut rescoring_inputs = Vec::new();
    for cells in &sn_tsv.rows {
        let sn = Row {
            tsv: &sn_tsv,
            cells,
        };
        let note_id: i64 = sn.text("noteId").unwrap().parse().unwrap();
        let aux = Row {
            tsv: &aux_tsv,
            cells: aux_rows[&note_id],
        };
        let models = models(&sn, &aux);
        let tags = tag_counts(&aux);
        let previous = match nsh_in.get(&note_id) {
            Some(cells) => history_row(&Row {
                tsv: &nsh_in_tsv,
                cells,
            }),
            None => new_note_history(
                note_id,
                aux.text("noteAuthorParticipantId").unwrap(),
                sn.f64("createdAtMillis").unwrap() as i64,
            ),
        };
        assert_eq!(
            previous.current_status,
            aux.status("currentStatus"),
            "aux currentStatus is the input history's"
        );

        let outcome = meta_score(&models, &previous, &tags, None, NOW);
        let with_crh = meta_score(&models, &previous, &tags, Some(PflipLabel::Crh), NOW);
        let pflip_predicted = sn.text("pflipProba").is_some();
        if with_crh != outcome {
            report.pflip_dependent += 1;
            report.pflip_predicted += usize::from(pflip_predicted);
        }

        let m = matches(&outcome, &sn);
        report.status += usize::from(m[0]);
        report.decided_by += usize::from(m[1]);
        report.active_rules += usize::from(m[2]);
        report.tags += usize::from(m[3]);
        let aux_ok = text(outcome.unlocked_status)
            == aux.text("unlockedRatingStatus").unwrap_or("")
            && Some(outcome.pre_stabilization_status.as_str())
                == aux.text("preStabilizationRatingStatus")
            && Some(bool_text(outcome.crh_bool())) == aux.text("crhBool")
            && Some(bool_text(outcome.crnh_bool())) == aux.text("crnhBool")
            && Some(bool_text(outcome.awaiting_bool())) == aux.text("awaitingBool");
        report.aux += usize::from(aux_ok);
        let meta_ok = m.iter().all(|&ok| ok) && aux_ok;
        if !meta_ok {
            if pflip_predicted && matches(&with_crh, &sn).iter().all(|&ok| ok) {
                report.explained_by_pflip += 1;
            } else {
                mismatches.push(format!(
                    "{note_id}: ours {} [{}] tags {:?}/{:?} unlocked {} pre {}; reference {} [{}] \
                     tags {:?}/{:?} unlocked {:?} pre {:?}",
                    outcome.status,
                    outcome.active_rules_text(),
                    outcome.first_tag,
                    outcome.second_tag,
                    text(outcome.unlocked_status),
                    outcome.pre_stabilization_status,
                    sn.text("finalRatingStatus").unwrap(),
                    sn.text("metaScorerActiveRules").unwrap(),
                    sn.text("firstTag"),
                    sn.text("secondTag"),
                    aux.text("unlockedRatingStatus"),
                    aux.text("preStabilizationRatingStatus"),
                ));
            }
        }

        // The history update, then the reference's final overwrite of the pcrh column with
        // the scored notes' (suppressed) value.
        let pcrh = sn.f64("abovePcrhThresholdTime");
        let mut updated = update_status_history(&previous, &outcome, &models, pcrh, NOW);
        updated.above_pcrh_threshold_time = pcrh;
        let expected = history_row(&Row {
            tsv: &nsh_out_tsv,
            cells: nsh_out[&note_id],
        });
        let diffs = differing_fields(&updated, &expected);
        if diffs.is_empty() {
            report.history_rows += 1;
        } else if meta_ok {
            report.history_unexplained += 1;
            if report.history_unexplained <= 10 {
                eprintln!(
                    "{name} history {note_id}: {diffs:?}\n  ours {updated:?}\n  ref  {expected:?}"
                );
            }
        }
        for field in diffs {
            *field_diffs.entry(field).or_default() += 1;
        }
        // The scored notes carry the new stabilization timestamp too.
        assert_eq!(
            sn.f64("timestampMillisOfNmrDueToMinStableCrhTime"),
            expected.timestamp_millis_of_nmr_due_to_min_stable_crh_time
        );
        rescoring_inputs.push((
            previous.created_at_millis,
            previous.timestamp_millis_of_current_status,
            sn.text("rescoringActiveRules").unwrap().to_string(),
        ));
    }
    report.meta_unexplained = mismatches.len();
    for m in mismatches.iter().take(20) {
        eprintln!("{name} meta mismatch {m}");
    }
    let mut fields: Vec<_> = field_diffs.into_iter().collect();
    fields.sort();
    report.history_fields = fields;
    report.rescoring = best_rescoring_agreement(&rescoring_inputs);
    report
}

/// `rescoringActiveRules` depends on the wall clock of the reference run, which is not
/// recorded: bound it from the notes in the time-dependent subsets, then count agreement at
/// candidate times inside those bounds and keep the best.
fn best_rescoring_agreement(notes: &[(i64, Option<f64>, String)]) -> usize {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    for (created, ts, rules) in notes {
        if rules.contains("NOTES_CREATED_SOMEWHAT_RECENTLY") {
            lo = lo.max(created + 3 * DAY + 1);
            hi = hi.min(created + 13 * DAY);
        }
        if rules.contains("NEW_NOTES_NOT_RESCORED_RECENTLY_ENOUGH") {
            hi = hi.min(created + 14 * DAY - 1);
            lo = lo.max(ts.expect("a current-status time") as i64 + DAY + 1);
        }
    }
    assert!(lo <= hi, "no wall-clock time fits the reference's subsets");
    [lo, lo + (hi - lo) / 2, hi]
        .into_iter()
        .map(|wall| {
            notes
                .iter()
                .filter(|(created, ts, rules)| {
                    rescoring_active_rules(*created, *ts, wall) == *rules
                })
                .count()
        })
        .max()
        .unwrap()
}

fn check(name: &str) {
    let r = run(name);
    let pct = |k: usize| 100.0 * k as f64 / r.notes as f64;
    eprintln!(
        "{name}: {} notes; finalRatingStatus {:.2}%, decidedBy {:.2}%, metaScorerActiveRules \
         {:.2}%, tags {:.2}%, aux columns {:.2}%; pflip-dependent {} ({} with a flip \
         prediction), mismatches explained by the flip label {}; history rows equal {:.2}% \
         (unexplained {}), per-field differences {:?}; rescoringActiveRules {:.2}%",
        r.notes,
        pct(r.status),
        pct(r.decided_by),
        pct(r.active_rules),
        pct(r.tags),
        pct(r.aux),
        r.pflip_dependent,
        r.pflip_predicted,
        r.explained_by_pflip,
        pct(r.history_rows),
        r.history_unexplained,
        r.history_fields,
        pct(r.rescoring),
    );
    // The targets; the inputs are the reference's own model outputs, so what is achieved is
    // exact agreement up to notes that depend on the flip model's label.
    assert!(pct(r.status) >= 99.5, "final status agreement");
    assert!(pct(r.decided_by) >= 98.5, "decidedBy agreement");
    assert_eq!(
        r.meta_unexplained, 0,
        "meta outcomes not explained by the flip label"
    );
    for agreeing in [r.status, r.decided_by, r.active_rules, r.tags, r.aux] {
        assert!(agreeing + r.explained_by_pflip >= r.notes);
    }
    assert_eq!(r.history_unexplained, 0, "history rows of agreeing notes");
    assert!(r.history_rows + r.explained_by_pflip >= r.notes);
    assert_eq!(r.rescoring, r.notes, "rescoringActiveRules");
}

#[test]
fn golden_meta_tiny_s1() {
    check("tiny-s1");
}

#[test]
fn golden_meta_small_s2() {
    check("small-s2");
}
