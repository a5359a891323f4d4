//! One storage test suite, run against SQLite (a temporary file) and PostgreSQL (a fresh
//! schema of the test database at 127.0.0.1:5432; the tests fail if it is unreachable).

use std::sync::Arc;

use bridgenotes_engine::rating::RatingsBuilder;
use bridgenotes_engine::{
    Classification, Enrollment, EnrollmentState, HelpfulnessLevel, Note, NoteStatus, RatingRow,
    StatusHistoryRow,
};
use bridgenotes_storage::testing::{drop_schema, fresh_postgres};
use bridgenotes_storage::{
    ContributorUpdate, NewContributor, NoteScore, Post, PublicData, Refusal, RefusalKind,
    ScoringResult, ScoringRun, Store, StoreError, sqlite::SqliteStore,
};

/// Runs `body` on a fresh SQLite store and on a fresh PostgreSQL schema.
macro_rules! both {
    ($($name:ident => $body:expr;)+) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
                    ($body)(Arc::new(store) as Arc<dyn Store>).await;
                }
            )+
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, schema) = fresh_postgres()
                        .await
                        .expect("PostgreSQL at 127.0.0.1:5432 (database test) must be reachable");
                    ($body)(Arc::new(store) as Arc<dyn Store>).await;
                    drop_schema(&schema).await.unwrap();
                }
            )+
        }
    };
}

const DAY: i64 = 86_400_000;
const T0: i64 = 1_700_000_000_000;

fn enrolled(id: &str, state: EnrollmentState) -> Enrollment {
    Enrollment {
        participant_id: id.to_string(),
        state,
        successful_rating_needed_to_earn_in: 5,
        timestamp_of_last_state_change: T0,
        timestamp_of_last_earn_out: None,
        modeling_population: Some("CORE".into()),
        modeling_group: None,
        number_of_times_earned_out: 0,
    }
}

async fn contributor(store: &Arc<dyn Store>, id: &str, token: Option<&str>) {
    store
        .create_contributor(&NewContributor {
            participant_id: id.to_string(),
            alias: format!("alias {id}"),
            token_hash: token.map(str::to_string),
            is_ai_writer: false,
            enrollment: Some(enrolled(id, EnrollmentState::EarnedIn)),
            created_at_millis: T0,
        })
        .await
        .unwrap();
}

async fn post(store: &Arc<dyn Store>, id: i64, author: &str) {
    store
        .create_post(&Post {
            id,
            external_id: format!("ext-{id}"),
            author_handle: author.to_string(),
            text: "a claim".into(),
            url: None,
            created_at_millis: T0,
        })
        .await
        .unwrap();
}

fn note(id: i64, post: i64, author: &str, at: i64) -> Note {
    Note {
        note_id: id,
        author: author.to_string(),
        created_at_millis: at,
        tweet_id: post,
        classification: Classification::MisinformedOrPotentiallyMisleading,
        believable: None,
        harmful: None,
        validation_difficulty: None,
        misleading: [false, true, false, false, true, false, false],
        not_misleading: [false; 5],
        trustworthy_sources: true,
        summary: "Context https://example.org/a".into(),
        is_media_note: false,
        is_collaborative_note: false,
    }
}

fn rating(note_id: i64, rater: &str, level: HelpfulnessLevel, at: i64) -> RatingRow {
    RatingRow {
        note_id,
        rater: rater.to_string(),
        created_at_millis: at,
        version: None,
        flags: 0,
        level: Some(level),
        tags: 0b101,
        rated_on_tweet_id: None,
        source: None,
        suggestion: None,
        suggestion_id: None,
    }
}

fn accept<F>(_: &F) -> Result<(), Refusal> {
    Ok(())
}

both! {
    contributors_are_unique_and_found_by_token => |store: Arc<dyn Store>| async move {
        contributor(&store, "aa", Some("hash-a")).await;
        let again = store
            .create_contributor(&NewContributor {
                participant_id: "aa".into(),
                alias: "x".into(),
                token_hash: None,
                is_ai_writer: false,
                enrollment: None,
                created_at_millis: T0,
            })
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let found = store.contributor_by_token_hash("hash-a").await.unwrap().unwrap();
        assert_eq!(found.participant_id, "aa");
        assert_eq!(found.enrollment.unwrap().state, EnrollmentState::EarnedIn);
        assert!(store.contributor_by_token_hash("hash-b").await.unwrap().is_none());
    };

    note_writes_see_their_facts_and_refusals_write_nothing => |store: Arc<dyn Store>| async move {
        contributor(&store, "w", None).await;
        post(&store, 10, "alice").await;
        post(&store, 11, "alice").await;
        post(&store, 12, "bob").await;
        store.create_note(&note(1, 10, "w", T0), T0, &accept).await.unwrap();
        store.create_note(&note(2, 11, "w", T0 + 1), T0 + 1, &accept).await.unwrap();
        let seen = std::sync::Mutex::new(None);
        let refuse = |facts: &bridgenotes_storage::WriterFacts| {
            *seen.lock().unwrap() = Some(facts.clone());
            Err(Refusal::new(RefusalKind::Limit, "test_limit", "no"))
        };
        let refused = store.create_note(&note(3, 10, "w", T0 + 2), T0 + 2, &refuse).await;
        assert!(matches!(refused, Err(StoreError::Refused(ref r)) if r.code == "test_limit"));
        let facts = seen.lock().unwrap().clone().unwrap();
        assert!(facts.already_noted_post);
        assert_eq!(facts.notes_last_day, 2);
        assert_eq!(facts.notes_total, 2);
        assert_eq!(facts.author_notes_last_day, 2);
        assert_eq!(facts.author_notes_total, 2);
        assert_eq!(facts.recent_statuses, vec![None, None]);
        assert!(store.note(3).await.unwrap().is_none(), "a refused note is not written");

        // A day later the daily counts drop; another author's post counts apart.
        store.create_note(&note(4, 12, "w", T0 + 2 * DAY), T0 + 2 * DAY, &|f: &bridgenotes_storage::WriterFacts| {
            assert_eq!((f.notes_last_day, f.notes_total, f.author_notes_total), (0, 2, 0));
            assert!(!f.already_noted_post);
            Ok(())
        }).await.unwrap();
        let view = store.note(4).await.unwrap().unwrap();
        assert_eq!(view.note, note(4, 12, "w", T0 + 2 * DAY));
        assert_eq!(store.notes_by_author("w", 10).await.unwrap().len(), 3);
        assert_eq!(store.notes_on_post(10).await.unwrap().len(), 1);

        contributor(&store, "other", None).await;
        let stolen = store.delete_note(1, "other", T0 + 3 * DAY).await;
        assert!(matches!(stolen, Err(StoreError::Refused(ref r)) if r.kind == RefusalKind::Forbidden));
        store.delete_note(1, "w", T0 + 3 * DAY).await.unwrap();
        assert_eq!(store.note(1).await.unwrap().unwrap().deleted_at_millis, Some(T0 + 3 * DAY));
        assert!(store.notes_on_post(10).await.unwrap().is_empty());
    };

    rerating_replaces_and_checks_see_the_author => |store: Arc<dyn Store>| async move {
        contributor(&store, "w", None).await;
        contributor(&store, "r", None).await;
        post(&store, 10, "alice").await;
        store.create_note(&note(1, 10, "w", T0), T0, &accept).await.unwrap();
        let own = |f: &bridgenotes_storage::RaterFacts| {
            if f.rater.participant_id == f.note_author {
                Err(Refusal::new(RefusalKind::Forbidden, "own_note", "own note"))
            } else {
                Ok(())
            }
        };
        let refused = store.rate(&rating(1, "w", HelpfulnessLevel::Helpful, T0), &own).await;
        assert!(matches!(refused, Err(StoreError::Refused(ref r)) if r.code == "own_note"));
        assert!(!store.rate(&rating(1, "r", HelpfulnessLevel::Helpful, T0 + 1), &own).await.unwrap());
        assert!(store.rate(&rating(1, "r", HelpfulnessLevel::NotHelpful, T0 + 2), &own).await.unwrap());
        let ratings = store.ratings_of_note(1).await.unwrap();
        assert_eq!(ratings, vec![rating(1, "r", HelpfulnessLevel::NotHelpful, T0 + 2)]);
        assert_eq!(store.note(1).await.unwrap().unwrap().ratings, 1);
        let missing = store.rate(&rating(99, "r", HelpfulnessLevel::Helpful, T0), &own).await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
    };

    scoring_results_are_stored_all_or_nothing => |store: Arc<dyn Store>| async move {
        contributor(&store, "w", None).await;
        contributor(&store, "r", None).await;
        post(&store, 10, "alice").await;
        store.create_note(&note(1, 10, "w", T0), T0, &accept).await.unwrap();
        store.rate(&rating(1, "r", HelpfulnessLevel::Helpful, T0), &accept).await.unwrap();
        let snapshot = store.snapshot().await.unwrap();
        assert_eq!(snapshot.notes.len(), 1);
        assert_eq!(snapshot.ratings.len(), 1);
        assert_eq!(snapshot.enrollment.len(), 2);

        let score = NoteScore {
            note_id: 1,
            core_note_intercept: Some(0.45),
            core_note_factor: Some(-0.1),
            core_note_intercept_min: Some(0.31),
            core_note_intercept_max: Some(0.52),
            final_rating_status: Some("CURRENTLY_RATED_HELPFUL".into()),
            core_rating_status: Some("CURRENTLY_RATED_HELPFUL".into()),
            first_tag: Some("helpfulClear".into()),
            second_tag: None,
            decided_by: Some("CoreModel (v1.1)".into()),
            num_ratings: 1,
        };
        let history = StatusHistoryRow {
            note_id: 1,
            author: "w".into(),
            created_at_millis: T0,
            current_status: Some(NoteStatus::CurrentlyRatedHelpful),
            timestamp_millis_of_current_status: Some((T0 + DAY) as f64),
            ..StatusHistoryRow::default()
        };
        let mut e = enrolled("r", EnrollmentState::EarnedIn);
        e.timestamp_of_last_state_change = T0 + DAY;
        let result = ScoringResult {
            run: Some(ScoringRun {
                id: 0,
                started_at_millis: T0 + DAY,
                finished_at_millis: T0 + DAY + 5,
                now_millis: T0 + DAY,
                notes: 1,
                ratings: 1,
                currently_rated_helpful: 1,
                currently_rated_not_helpful: 0,
                needs_more_ratings: 0,
            }),
            note_scores: vec![score.clone()],
            history: vec![history.clone()],
            rater_scores: vec![],
            contributors: vec![ContributorUpdate {
                participant_id: "r".into(),
                rating_impact: 7,
                writing_impact: 0,
                enrollment: e.clone(),
            }],
        };
        let run = store.store_scoring(&result).await.unwrap();
        assert_eq!(store.latest_run().await.unwrap().unwrap().id, run);
        let view = store.note(1).await.unwrap().unwrap();
        assert_eq!(view.score, Some(score.clone()));
        assert_eq!(view.history, Some(history));
        let r = store.contributor("r").await.unwrap().unwrap();
        assert_eq!((r.rating_impact, r.enrollment), (7, Some(e)));

        // A result that cannot be stored (two scores for one note) changes nothing.
        let mut broken = result.clone();
        broken.note_scores.push(NoteScore { final_rating_status: None, ..score.clone() });
        broken.contributors[0].rating_impact = 99;
        assert!(store.store_scoring(&broken).await.is_err());
        assert_eq!(store.latest_run().await.unwrap().unwrap().id, run);
        assert_eq!(store.note(1).await.unwrap().unwrap().score, Some(score));
        assert_eq!(store.contributor("r").await.unwrap().unwrap().rating_impact, 7);
    };

    sessions_are_found_by_hash_until_they_expire_or_end => |store: Arc<dyn Store>| async move {
        contributor(&store, "w", Some("token-hash-w")).await;
        let w = store.contributor("w").await.unwrap().unwrap();
        store.create_session("h1", w.id, "csrf1", T0, T0 + DAY).await.unwrap();
        store.create_session("h2", w.id, "csrf2", T0, T0 + 2 * DAY).await.unwrap();
        let s = store.session("h1", T0 + 1).await.unwrap().unwrap();
        assert_eq!((s.contributor.participant_id.as_str(), s.csrf.as_str()), ("w", "csrf1"));
        assert!(store.session("nope", T0).await.unwrap().is_none());
        // Expired: not found; a later sign-in sweeps it away.
        assert!(store.session("h1", T0 + DAY).await.unwrap().is_none());
        store.create_session("h3", w.id, "csrf3", T0 + DAY, T0 + 3 * DAY).await.unwrap();
        assert!(store.session("h1", T0).await.unwrap().is_none(), "expired rows are deleted");
        // The same hash twice is a conflict, not a second session.
        assert!(matches!(
            store.create_session("h2", w.id, "x", T0 + DAY, T0 + 3 * DAY).await,
            Err(StoreError::Conflict(_))
        ));
        store.delete_session("h2").await.unwrap();
        assert!(store.session("h2", T0 + DAY).await.unwrap().is_none());
        store.delete_session("h2").await.unwrap();
        assert!(store.session("h3", T0 + DAY).await.unwrap().is_some());
    };

    needs_help_candidates_leave_out_the_viewers_notes_and_ratings => |store: Arc<dyn Store>| async move {
        for id in ["w", "v", "l", "r"] {
            contributor(&store, id, None).await;
        }
        post(&store, 10, "alice").await;
        post(&store, 11, "bob").await;
        store.create_note(&note(1, 10, "w", T0), T0, &accept).await.unwrap();
        store.create_note(&note(2, 11, "w", T0 + 1), T0 + 1, &accept).await.unwrap();
        store.create_note(&note(3, 11, "v", T0 + 2), T0 + 2, &accept).await.unwrap();
        // Note 1: rated by v, and by one rater of each sign.
        for (rater, at) in [("v", 3), ("l", 4), ("r", 5)] {
            store.rate(&rating(1, rater, HelpfulnessLevel::Helpful, T0 + at), &accept).await.unwrap();
        }
        let scores = |note_id, status: &str| NoteScore {
            note_id,
            core_note_intercept: Some(0.1),
            core_note_factor: Some(0.0),
            core_note_intercept_min: None,
            core_note_intercept_max: None,
            final_rating_status: Some(status.into()),
            core_rating_status: Some(status.into()),
            first_tag: None,
            second_tag: None,
            decided_by: None,
            num_ratings: 3,
        };
        let rater = |id: &str, factor: f64| bridgenotes_storage::RaterScore {
            participant_id: id.into(),
            core_rater_intercept: Some(0.0),
            core_rater_factor: Some(factor),
            successful_rating_total: 0,
            unsuccessful_rating_total: 0,
            unsuccessful_rating_not_helpful_count: 0,
            notes_currently_rated_helpful: 0,
            notes_currently_rated_not_helpful: 0,
            notes_awaiting_more_ratings: 0,
        };
        store
            .store_scoring(&ScoringResult {
                run: None,
                note_scores: vec![
                    scores(1, "NEEDS_MORE_RATINGS"),
                    scores(2, "CURRENTLY_RATED_HELPFUL"),
                ],
                history: vec![],
                rater_scores: vec![rater("l", -0.7), rater("r", 0.4), rater("v", 0.2)],
                contributors: vec![],
            })
            .await
            .unwrap();
        let ids = |c: &[bridgenotes_storage::HelpCandidate]| {
            c.iter().map(|c| c.view.note.note_id).collect::<Vec<_>>()
        };
        // Nobody signed in: notes 3 (unscored) and 1 (needs more ratings), newest first;
        // note 2 is decided.
        let all = store.needs_help_candidates(None, 10).await.unwrap();
        assert_eq!(ids(&all), vec![3, 1]);
        let one = &all[1];
        assert_eq!((one.raters_negative, one.raters_positive, one.view.ratings), (1, 2, 3));
        assert_eq!(one.post_created_at_millis, T0);
        // v wrote note 3 and rated note 1: nothing left for v.
        assert!(store.needs_help_candidates(Some("v"), 10).await.unwrap().is_empty());
        assert_eq!(ids(&store.needs_help_candidates(Some("w"), 10).await.unwrap()), vec![3]);
        assert_eq!(ids(&store.needs_help_candidates(None, 1).await.unwrap()), vec![3]);
    };

    import_then_snapshot_gives_the_same_tables => |store: Arc<dyn Store>| async move {
        let mut builder = RatingsBuilder::keeping_unused_columns();
        let notes = vec![note(5, 100, "a", T0), note(6, 101, "b", T0 + 1)];
        let mut ratings = vec![
            rating(5, "b", HelpfulnessLevel::Helpful, T0 + 2),
            rating(5, "c", HelpfulnessLevel::SomewhatHelpful, T0 + 3),
            rating(6, "a", HelpfulnessLevel::NotHelpful, T0 + 4),
            // A rating of a note that is not in the notes file (deleted): kept.
            rating(7, "c", HelpfulnessLevel::Helpful, T0 + 5),
        ];
        ratings[1].version = Some(2);
        ratings[1].rated_on_tweet_id = Some(100);
        for r in &ratings {
            builder.push(r);
        }
        let history = vec![StatusHistoryRow {
            note_id: 7,
            author: "d".into(),
            created_at_millis: T0 - DAY,
            current_status: Some(NoteStatus::NeedsMoreRatings),
            ..StatusHistoryRow::default()
        }];
        let data = PublicData {
            notes: notes.clone(),
            ratings: builder.finish(),
            status_history: history.clone(),
            enrollment: vec![enrolled("a", EnrollmentState::NewUser)],
        };
        let counts = store.import(&data, T0).await.unwrap();
        assert_eq!((counts.contributors, counts.posts, counts.notes, counts.ratings, counts.status_history), (4, 2, 2, 4, 1));
        let back = store.snapshot().await.unwrap();
        assert_eq!(back.notes, notes);
        assert_eq!(back.status_history, history);
        assert_eq!(back.enrollment, data.enrollment);
        let rows: Vec<RatingRow> = (0..back.ratings.len()).map(|i| back.ratings.row(i)).collect();
        assert_eq!(rows, ratings);
        assert!(store.max_id().await.unwrap() >= 101);
        // Importing again adds nothing.
        let again = store.import(&data, T0).await.unwrap();
        assert_eq!(again.ratings + again.notes + again.contributors, 0);
    };
}
