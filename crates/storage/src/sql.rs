//! The SQL both dialects share. SQLite and PostgreSQL accept the same statements here
//! (`$n` parameters, `ON CONFLICT`, `RETURNING`), so the queries are written once and
//! [`store_impl!`] expands them for each driver's concrete types; what differs (connection
//! setup, pools, identity columns, snapshot isolation) lives in `sqlite` and `postgres`.

use bridgenotes_engine::note::{MISLEADING_REASONS, NOT_MISLEADING_REASONS};
use bridgenotes_engine::{Enrollment, Note, RatingRow, StatusHistoryRow};

use crate::StoreError;

pub(crate) const DAY_MILLIS: i64 = 86_400_000;

pub(crate) const CONTRIBUTOR_COLUMNS: &str = "id, participant_id, alias, is_ai_writer, \
    enrollment_state, successful_rating_needed_to_earn_in, timestamp_of_last_state_change, \
    timestamp_of_last_earn_out, modeling_population, modeling_group, \
    number_of_times_earned_out, rating_impact, writing_impact, created_at_millis";

pub(crate) const NOTE_COLUMNS: &str = "n.id, c.participant_id AS author, n.created_at_millis, \
    n.post_id, n.classification, n.believable, n.harmful, n.validation_difficulty, \
    n.misleading_reasons, n.not_misleading_reasons, n.trustworthy_sources, n.summary, \
    n.is_media_note, n.is_collaborative_note, n.deleted_at_millis";

pub(crate) const SCORE_COLUMNS: &str = "s.note_id AS score_note_id, s.core_note_intercept, \
    s.core_note_factor, s.core_note_intercept_min, s.core_note_intercept_max, \
    s.final_rating_status, s.core_rating_status, s.first_tag, \
    s.second_tag, s.decided_by, s.num_ratings";

pub(crate) const HISTORY_COLUMNS: &str = "note_id, note_author_participant_id, \
    created_at_millis, timestamp_millis_of_first_non_nmr_status, first_non_nmr_status, \
    timestamp_millis_of_current_status, current_status, \
    timestamp_millis_of_latest_non_nmr_status, most_recent_non_nmr_status, \
    timestamp_millis_of_status_lock, locked_status, timestamp_millis_of_retro_lock, \
    current_core_status, current_expansion_status, current_group_status, current_decided_by, \
    current_modeling_group, timestamp_millis_of_most_recent_status_change, \
    timestamp_millis_of_nmr_due_to_min_stable_crh_time, current_multi_group_status, \
    current_modeling_multi_group, timestamp_minute_of_final_scoring_output, \
    timestamp_millis_of_first_nmr_due_to_min_stable_crh_time, above_pcrh_threshold_time";

pub(crate) const RATING_COLUMNS: &str = "note_id, rater_id, created_at_millis, version, flags, \
    helpfulness_level, tags, rated_on_tweet_id, rating_source, suggestion, suggestion_id";

/// Rows per multi-row INSERT: keeps the bound parameters under SQLite's limit (32 766).
pub(crate) const BATCH_ROWS: usize = 1000;

pub(crate) fn bits(flags: &[bool]) -> i64 {
    flags
        .iter()
        .enumerate()
        .fold(0, |acc, (i, &on)| acc | (i64::from(on) << i))
}

pub(crate) fn unbits<const N: usize>(value: i64) -> [bool; N] {
    std::array::from_fn(|i| value & (1 << i) != 0)
}

pub(crate) fn parse<T: std::str::FromStr>(value: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn parse_opt<T: std::str::FromStr>(
    value: Option<String>,
) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    value.as_deref().map(parse).transpose()
}

/// Status text of a history field.
pub(crate) fn status_text(status: Option<bridgenotes_engine::NoteStatus>) -> Option<&'static str> {
    status.map(|s| s.as_str())
}

/// The reason checkboxes of a note as bit sets (see the migration's column comments).
pub(crate) fn reason_bits(note: &Note) -> (i64, i64) {
    debug_assert_eq!(note.misleading.len(), MISLEADING_REASONS.len());
    debug_assert_eq!(note.not_misleading.len(), NOT_MISLEADING_REASONS.len());
    (bits(&note.misleading), bits(&note.not_misleading))
}

/// Participant ids of everyone a public download mentions, sorted and deduplicated.
pub(crate) fn participants_of(data: &crate::PublicData) -> Vec<String> {
    let mut ids: Vec<String> = data
        .enrollment
        .iter()
        .map(|e| e.participant_id.clone())
        .chain(data.notes.iter().map(|n| n.author.clone()))
        .chain(data.status_history.iter().map(|h| h.author.clone()))
        .chain(data.ratings.rater_ids.iter().cloned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Enrollment rows keyed by participant.
pub(crate) fn enrollment_index(
    data: &crate::PublicData,
) -> std::collections::HashMap<&str, &Enrollment> {
    data.enrollment
        .iter()
        .map(|e| (e.participant_id.as_str(), e))
        .collect()
}

/// Ratings as plain rows in stored order (for batches).
pub(crate) fn rating_rows(data: &crate::PublicData) -> impl Iterator<Item = RatingRow> + '_ {
    (0..data.ratings.len()).map(|i| data.ratings.row(i))
}

/// History rows to insert, deduplicated by note id (the first wins).
pub(crate) fn unique_history(rows: &[StatusHistoryRow]) -> Vec<&StatusHistoryRow> {
    let mut seen = std::collections::HashSet::new();
    rows.iter().filter(|h| seen.insert(h.note_id)).collect()
}

/// Expands the [`crate::Store`] implementation for one sqlx driver. The invoking module
/// defines `$store` with `writer()` and `reader()` pools and `SNAPSHOT_SQL` (a statement that
/// makes a read transaction a consistent snapshot, or `None` where it already is one).
macro_rules! store_impl {
    ($store:ty, $db:ty, $row:ty, $dialect:literal) => {
        use std::collections::HashMap;

        use async_trait::async_trait;
        use bridgenotes_engine::rating::RatingsBuilder;
        use bridgenotes_engine::{
            Classification, Enrollment, EnrollmentState, HelpfulnessLevel, Note, NoteStatus,
            RatingRow, RatingSource, StatusHistoryRow,
        };
        use futures_util::TryStreamExt;
        use sqlx::{QueryBuilder, Row};

        use crate::sql::*;
        use crate::{
            Check, Contributor, ContributorUpdate, ImportCounts, NewContributor, NoteRequestRecord,
            HelpCandidate, NoteScore, NoteView, Post, PublicData, RaterFacts, RaterScore, Refusal,
            RefusalKind, RequestFacts, RequesterFacts, Result, ScoringResult, ScoringRun,
            SessionRecord, Store, StoreError, WriterFacts,
        };

        type Tx<'c> = sqlx::Transaction<'c, $db>;

        fn conflict_or(e: sqlx::Error, what: &str) -> StoreError {
            match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("{what} already exists"))
                }
                _ => StoreError::Database(e),
            }
        }

        fn contributor_from(row: &$row) -> Result<Contributor> {
            let participant_id: String = row.try_get("participant_id")?;
            let state: Option<String> = row.try_get("enrollment_state")?;
            let enrollment = match state {
                Some(state) => Some(Enrollment {
                    participant_id: participant_id.clone(),
                    state: parse::<EnrollmentState>(&state)?,
                    successful_rating_needed_to_earn_in: row
                        .try_get("successful_rating_needed_to_earn_in")?,
                    timestamp_of_last_state_change: row
                        .try_get("timestamp_of_last_state_change")?,
                    timestamp_of_last_earn_out: row.try_get("timestamp_of_last_earn_out")?,
                    modeling_population: row.try_get("modeling_population")?,
                    modeling_group: row.try_get("modeling_group")?,
                    number_of_times_earned_out: row.try_get("number_of_times_earned_out")?,
                }),
                None => None,
            };
            Ok(Contributor {
                id: row.try_get("id")?,
                participant_id,
                alias: row.try_get("alias")?,
                is_ai_writer: row.try_get("is_ai_writer")?,
                enrollment,
                rating_impact: row.try_get("rating_impact")?,
                writing_impact: row.try_get("writing_impact")?,
                created_at_millis: row.try_get("created_at_millis")?,
            })
        }

        fn note_from(row: &$row) -> Result<Note> {
            let classification: String = row.try_get("classification")?;
            Ok(Note {
                note_id: row.try_get("id")?,
                author: row.try_get("author")?,
                created_at_millis: row.try_get("created_at_millis")?,
                tweet_id: row.try_get("post_id")?,
                classification: parse::<Classification>(&classification)?,
                believable: row.try_get("believable")?,
                harmful: row.try_get("harmful")?,
                validation_difficulty: row.try_get("validation_difficulty")?,
                misleading: unbits(row.try_get("misleading_reasons")?),
                not_misleading: unbits(row.try_get("not_misleading_reasons")?),
                trustworthy_sources: row.try_get("trustworthy_sources")?,
                summary: row.try_get("summary")?,
                is_media_note: row.try_get("is_media_note")?,
                is_collaborative_note: row.try_get("is_collaborative_note")?,
            })
        }

        fn score_from(row: &$row) -> Result<Option<NoteScore>> {
            let note_id: Option<i64> = row.try_get("score_note_id")?;
            let Some(note_id) = note_id else {
                return Ok(None);
            };
            Ok(Some(NoteScore {
                note_id,
                core_note_intercept: row.try_get("core_note_intercept")?,
                core_note_factor: row.try_get("core_note_factor")?,
                core_note_intercept_min: row.try_get("core_note_intercept_min")?,
                core_note_intercept_max: row.try_get("core_note_intercept_max")?,
                final_rating_status: row.try_get("final_rating_status")?,
                core_rating_status: row.try_get("core_rating_status")?,
                first_tag: row.try_get("first_tag")?,
                second_tag: row.try_get("second_tag")?,
                decided_by: row.try_get("decided_by")?,
                num_ratings: row.try_get("num_ratings")?,
            }))
        }

        fn status_opt(row: &$row, column: &str) -> Result<Option<NoteStatus>> {
            parse_opt(row.try_get(column)?)
        }

        fn history_from(row: &$row) -> Result<StatusHistoryRow> {
            Ok(StatusHistoryRow {
                note_id: row.try_get("note_id")?,
                author: row.try_get("note_author_participant_id")?,
                created_at_millis: row.try_get("created_at_millis")?,
                timestamp_millis_of_first_non_nmr_status: row
                    .try_get("timestamp_millis_of_first_non_nmr_status")?,
                first_non_nmr_status: status_opt(row, "first_non_nmr_status")?,
                timestamp_millis_of_current_status: row
                    .try_get("timestamp_millis_of_current_status")?,
                current_status: status_opt(row, "current_status")?,
                timestamp_millis_of_latest_non_nmr_status: row
                    .try_get("timestamp_millis_of_latest_non_nmr_status")?,
                most_recent_non_nmr_status: status_opt(row, "most_recent_non_nmr_status")?,
                timestamp_millis_of_status_lock: row.try_get("timestamp_millis_of_status_lock")?,
                locked_status: status_opt(row, "locked_status")?,
                timestamp_millis_of_retro_lock: row.try_get("timestamp_millis_of_retro_lock")?,
                current_core_status: status_opt(row, "current_core_status")?,
                current_expansion_status: status_opt(row, "current_expansion_status")?,
                current_group_status: status_opt(row, "current_group_status")?,
                current_decided_by: row.try_get("current_decided_by")?,
                current_modeling_group: row.try_get("current_modeling_group")?,
                timestamp_millis_of_most_recent_status_change: row
                    .try_get("timestamp_millis_of_most_recent_status_change")?,
                timestamp_millis_of_nmr_due_to_min_stable_crh_time: row
                    .try_get("timestamp_millis_of_nmr_due_to_min_stable_crh_time")?,
                current_multi_group_status: status_opt(row, "current_multi_group_status")?,
                current_modeling_multi_group: row.try_get("current_modeling_multi_group")?,
                timestamp_minute_of_final_scoring_output: row
                    .try_get("timestamp_minute_of_final_scoring_output")?,
                timestamp_millis_of_first_nmr_due_to_min_stable_crh_time: row
                    .try_get("timestamp_millis_of_first_nmr_due_to_min_stable_crh_time")?,
                above_pcrh_threshold_time: row.try_get("above_pcrh_threshold_time")?,
            })
        }

        fn rating_from(row: &$row, rater: String) -> Result<RatingRow> {
            let version: Option<i64> = row.try_get("version")?;
            let flags: i64 = row.try_get("flags")?;
            let tags: i64 = row.try_get("tags")?;
            Ok(RatingRow {
                note_id: row.try_get("note_id")?,
                rater,
                created_at_millis: row.try_get("created_at_millis")?,
                version: version.map(|v| v as i8),
                flags: flags as u8,
                level: parse_opt::<HelpfulnessLevel>(row.try_get("helpfulness_level")?)?,
                tags: tags as u32,
                rated_on_tweet_id: row.try_get("rated_on_tweet_id")?,
                source: parse_opt::<RatingSource>(row.try_get("rating_source")?)?,
                suggestion: row.try_get("suggestion")?,
                suggestion_id: row.try_get("suggestion_id")?,
            })
        }

        fn post_from(row: &$row) -> Result<Post> {
            Ok(Post {
                id: row.try_get("id")?,
                external_id: row.try_get("external_id")?,
                author_handle: row.try_get("author_handle")?,
                text: row.try_get("text")?,
                url: row.try_get("url")?,
                created_at_millis: row.try_get("created_at_millis")?,
            })
        }

        /// Applies the migrations this database has not seen yet, each in a transaction.
        pub(crate) async fn migrate(
            pool: &sqlx::Pool<$db>,
            migrations: &[crate::migrate::Migration],
            now_millis: i64,
        ) -> Result<()> {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    description TEXT NOT NULL,
                    applied_at_millis BIGINT NOT NULL)",
            )
            .execute(pool)
            .await?;
            for migration in migrations {
                let mut tx = pool.begin().await?;
                let applied: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(migration.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if applied.is_some() {
                    continue;
                }
                sqlx::raw_sql(migration.sql)
                    .execute(&mut *tx)
                    .await
                    .map_err(|source| StoreError::Migration {
                        version: migration.version,
                        description: migration.description.to_string(),
                        source,
                    })?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, description, applied_at_millis)
                     VALUES ($1, $2, $3)",
                )
                .bind(migration.version)
                .bind(migration.description)
                .bind(now_millis)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                tracing::info!(version = migration.version, "applied migration");
            }
            Ok(())
        }

        async fn contributor_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Contributor> {
            let sql = format!("SELECT {CONTRIBUTOR_COLUMNS} FROM contributors WHERE id = $1");
            let row = sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?;
            contributor_from(&row)
        }

        /// Locks the contributor's row for the rest of the transaction (every write of one
        /// contributor passes here, so their rule checks run one at a time) and returns it.
        async fn lock_contributor(
            tx: &mut Tx<'_>,
            participant_id: &str,
            now_millis: i64,
        ) -> Result<Contributor> {
            let id: Option<i64> = sqlx::query_scalar(
                "UPDATE contributors SET last_write_millis = $1 WHERE participant_id = $2
                 RETURNING id",
            )
            .bind(now_millis)
            .bind(participant_id)
            .fetch_optional(&mut **tx)
            .await?;
            let id = id.ok_or_else(|| StoreError::NotFound("contributor".into()))?;
            contributor_by_id(tx, id).await
        }

        async fn count(tx: &mut Tx<'_>, sql: &str, binds: &[i64], text: Option<&str>) -> Result<i64> {
            let mut query = sqlx::query_scalar::<_, i64>(sql);
            for &b in binds {
                query = query.bind(b);
            }
            if let Some(text) = text {
                query = query.bind(text.to_string());
            }
            Ok(query.fetch_one(&mut **tx).await?)
        }

        async fn history_of<'e, E>(executor: E, note_id: i64) -> Result<Option<StatusHistoryRow>>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let sql = format!("SELECT {HISTORY_COLUMNS} FROM note_status_history WHERE note_id = $1");
            let row = sqlx::query(&sql).bind(note_id).fetch_optional(executor).await?;
            row.as_ref().map(history_from).transpose()
        }

        impl $store {
            async fn note_views(&self, filter: &'static str, bind: NoteFilter<'_>) -> Result<Vec<NoteView>> {
                let sql = format!(
                    "SELECT {NOTE_COLUMNS}, {SCORE_COLUMNS},
                        (SELECT COUNT(*) FROM ratings r WHERE r.note_id = n.id) AS rating_count
                     FROM notes n JOIN contributors c ON c.id = n.author_id
                     LEFT JOIN note_scores s ON s.note_id = n.id
                     WHERE {filter}"
                );
                let query = sqlx::query(&sql);
                let query = match bind {
                    NoteFilter::Id(id) => query.bind(id),
                    NoteFilter::Author(author, limit) => query.bind(author.to_string()).bind(limit),
                };
                let rows = query.fetch_all(self.reader()).await?;
                let mut views = Vec::with_capacity(rows.len());
                for row in &rows {
                    let note = note_from(row)?;
                    let history = history_of(self.reader(), note.note_id).await?;
                    views.push(NoteView {
                        deleted_at_millis: row.try_get("deleted_at_millis")?,
                        score: score_from(row)?,
                        ratings: row.try_get("rating_count")?,
                        history,
                        note,
                    });
                }
                Ok(views)
            }
        }

        enum NoteFilter<'a> {
            Id(i64),
            Author(&'a str, i64),
        }

        #[async_trait]
        impl Store for $store {
            fn dialect(&self) -> &'static str {
                $dialect
            }

            async fn create_contributor(&self, new: &NewContributor) -> Result<Contributor> {
                let mut tx = self.writer().begin().await?;
                let e = new.enrollment.as_ref();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO contributors (participant_id, alias, token_hash, is_ai_writer,
                        enrollment_state, successful_rating_needed_to_earn_in,
                        timestamp_of_last_state_change, timestamp_of_last_earn_out,
                        modeling_population, modeling_group, number_of_times_earned_out,
                        created_at_millis)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                )
                .bind(&new.participant_id)
                .bind(&new.alias)
                .bind(&new.token_hash)
                .bind(new.is_ai_writer)
                .bind(e.map(|e| e.state.name()))
                .bind(e.map_or(5, |e| e.successful_rating_needed_to_earn_in))
                .bind(e.map_or(0, |e| e.timestamp_of_last_state_change))
                .bind(e.and_then(|e| e.timestamp_of_last_earn_out))
                .bind(e.and_then(|e| e.modeling_population.clone()))
                .bind(e.and_then(|e| e.modeling_group))
                .bind(e.map_or(0, |e| e.number_of_times_earned_out))
                .bind(new.created_at_millis)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "contributor"))?;
                let contributor = contributor_by_id(&mut tx, id).await?;
                tx.commit().await?;
                Ok(contributor)
            }

            async fn contributor_by_token_hash(&self, token_hash: &str) -> Result<Option<Contributor>> {
                let sql = format!("SELECT {CONTRIBUTOR_COLUMNS} FROM contributors WHERE token_hash = $1");
                let row = sqlx::query(&sql).bind(token_hash).fetch_optional(self.reader()).await?;
                row.as_ref().map(contributor_from).transpose()
            }

            async fn contributor(&self, participant_id: &str) -> Result<Option<Contributor>> {
                let sql = format!("SELECT {CONTRIBUTOR_COLUMNS} FROM contributors WHERE participant_id = $1");
                let row = sqlx::query(&sql).bind(participant_id).fetch_optional(self.reader()).await?;
                row.as_ref().map(contributor_from).transpose()
            }

            async fn create_post(&self, post: &Post) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(
                    "INSERT INTO posts (id, external_id, author_handle, text, url, created_at_millis)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(post.id)
                .bind(&post.external_id)
                .bind(&post.author_handle)
                .bind(&post.text)
                .bind(&post.url)
                .bind(post.created_at_millis)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "post"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn post(&self, id: i64) -> Result<Option<Post>> {
                let row = sqlx::query(
                    "SELECT id, external_id, author_handle, text, url, created_at_millis
                     FROM posts WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(self.reader())
                .await?;
                row.as_ref().map(post_from).transpose()
            }

            async fn create_note(
                &self,
                note: &Note,
                now_millis: i64,
                check: Check<'_, WriterFacts>,
            ) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                let writer = lock_contributor(&mut tx, &note.author, now_millis).await?;
                let row = sqlx::query(
                    "SELECT id, external_id, author_handle, text, url, created_at_millis
                     FROM posts WHERE id = $1",
                )
                .bind(note.tweet_id)
                .fetch_optional(&mut *tx)
                .await?;
                let post = post_from(&row.ok_or_else(|| StoreError::NotFound("post".into()))?)?;
                let w = writer.id;
                let day = now_millis - DAY_MILLIS;
                let already_noted_post = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM notes
                     WHERE author_id = $1 AND post_id = $2 AND deleted_at_millis IS NULL",
                    &[w, post.id],
                    None,
                )
                .await?
                    > 0;
                let since = "SELECT COUNT(*) FROM notes WHERE author_id = $1 AND created_at_millis > $2";
                let notes_last_day = count(&mut tx, since, &[w, day], None).await?;
                let notes_last_30_days = count(&mut tx, since, &[w, now_millis - 30 * DAY_MILLIS], None).await?;
                let notes_total = count(&mut tx, since, &[w, i64::MIN], None).await?;
                let by_author = "SELECT COUNT(*) FROM notes n JOIN posts p ON p.id = n.post_id
                     WHERE n.author_id = $1 AND n.created_at_millis > $2 AND p.author_handle = $3";
                let handle = Some(post.author_handle.as_str());
                let author_notes_last_day = count(&mut tx, by_author, &[w, day], handle).await?;
                let author_notes_last_week = count(&mut tx, by_author, &[w, now_millis - 7 * DAY_MILLIS], handle).await?;
                let author_notes_total = count(&mut tx, by_author, &[w, i64::MIN], handle).await?;
                let author_notes_helpful = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM notes n JOIN posts p ON p.id = n.post_id
                     JOIN note_scores s ON s.note_id = n.id
                     WHERE n.author_id = $1 AND n.created_at_millis > $2 AND p.author_handle = $3
                       AND s.final_rating_status = 'CURRENTLY_RATED_HELPFUL'",
                    &[w, i64::MIN],
                    handle,
                )
                .await?;
                let notes_decided = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM notes n JOIN note_scores s ON s.note_id = n.id
                     WHERE n.author_id = $1 AND s.final_rating_status IN
                        ('CURRENTLY_RATED_HELPFUL', 'CURRENTLY_RATED_NOT_HELPFUL')",
                    &[w],
                    None,
                )
                .await?;
                let recent_statuses: Vec<Option<String>> = sqlx::query_scalar(
                    "SELECT s.final_rating_status FROM notes n
                     LEFT JOIN note_scores s ON s.note_id = n.id
                     WHERE n.author_id = $1 ORDER BY n.created_at_millis DESC, n.id DESC LIMIT 100",
                )
                .bind(w)
                .fetch_all(&mut *tx)
                .await?;
                check(&WriterFacts {
                    writer,
                    post,
                    already_noted_post,
                    notes_last_day,
                    notes_last_30_days,
                    notes_total,
                    notes_decided,
                    author_notes_last_day,
                    author_notes_last_week,
                    author_notes_total,
                    author_notes_helpful,
                    recent_statuses,
                })?;
                let (misleading, not_misleading) = reason_bits(note);
                sqlx::query(
                    "INSERT INTO notes (id, post_id, author_id, created_at_millis, classification,
                        believable, harmful, validation_difficulty, misleading_reasons,
                        not_misleading_reasons, trustworthy_sources, summary, is_media_note,
                        is_collaborative_note)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(note.note_id)
                .bind(note.tweet_id)
                .bind(w)
                .bind(note.created_at_millis)
                .bind(note.classification.name())
                .bind(&note.believable)
                .bind(&note.harmful)
                .bind(&note.validation_difficulty)
                .bind(misleading)
                .bind(not_misleading)
                .bind(note.trustworthy_sources)
                .bind(&note.summary)
                .bind(note.is_media_note)
                .bind(note.is_collaborative_note)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "note"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_note(&self, note_id: i64, author: &str, now_millis: i64) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                let row = sqlx::query(
                    "SELECT c.participant_id, n.deleted_at_millis FROM notes n
                     JOIN contributors c ON c.id = n.author_id WHERE n.id = $1",
                )
                .bind(note_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound("note".into()))?;
                let owner: String = row.try_get("participant_id")?;
                let deleted: Option<i64> = row.try_get("deleted_at_millis")?;
                if owner != author {
                    return Err(Refusal::new(
                        RefusalKind::Forbidden,
                        "not_note_author",
                        "only the author of a note may delete it",
                    )
                    .into());
                }
                if deleted.is_none() {
                    sqlx::query("UPDATE notes SET deleted_at_millis = $1 WHERE id = $2")
                        .bind(now_millis)
                        .bind(note_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn note(&self, note_id: i64) -> Result<Option<NoteView>> {
                Ok(self.note_views("n.id = $1", NoteFilter::Id(note_id)).await?.pop())
            }

            async fn notes_by_author(&self, participant_id: &str, limit: i64) -> Result<Vec<NoteView>> {
                self.note_views(
                    "c.participant_id = $1 ORDER BY n.created_at_millis DESC, n.id DESC LIMIT $2",
                    NoteFilter::Author(participant_id, limit),
                )
                .await
            }

            async fn notes_on_post(&self, post_id: i64) -> Result<Vec<NoteView>> {
                self.note_views(
                    "n.post_id = $1 AND n.deleted_at_millis IS NULL ORDER BY n.created_at_millis, n.id",
                    NoteFilter::Id(post_id),
                )
                .await
            }

            async fn notes_by_status(&self, status: Option<&str>, limit: i64) -> Result<Vec<NoteView>> {
                match status {
                    None => {
                        self.note_views(
                            "n.deleted_at_millis IS NULL ORDER BY n.created_at_millis DESC, n.id DESC LIMIT $1",
                            NoteFilter::Id(limit),
                        )
                        .await
                    }
                    Some("NEEDS_MORE_RATINGS") => {
                        self.note_views(
                            "n.deleted_at_millis IS NULL AND (s.final_rating_status IS NULL
                                OR s.final_rating_status = $1)
                             ORDER BY rating_count, n.created_at_millis DESC, n.id DESC LIMIT $2",
                            NoteFilter::Author("NEEDS_MORE_RATINGS", limit),
                        )
                        .await
                    }
                    Some(status) => {
                        self.note_views(
                            "n.deleted_at_millis IS NULL AND s.final_rating_status = $1
                             ORDER BY n.created_at_millis DESC, n.id DESC LIMIT $2",
                            NoteFilter::Author(status, limit),
                        )
                        .await
                    }
                }
            }

            async fn needs_help_candidates(
                &self,
                viewer: Option<&str>,
                limit: i64,
            ) -> Result<Vec<HelpCandidate>> {
                // `$1` is the viewer's participant id ('' for nobody: no contributor has it).
                let sql = format!(
                    "SELECT {NOTE_COLUMNS}, {SCORE_COLUMNS},
                        (SELECT COUNT(*) FROM ratings r WHERE r.note_id = n.id) AS rating_count,
                        (SELECT COUNT(*) FROM ratings r JOIN rater_scores rs
                            ON rs.contributor_id = r.rater_id
                         WHERE r.note_id = n.id AND rs.core_rater_factor < 0) AS raters_negative,
                        (SELECT COUNT(*) FROM ratings r JOIN rater_scores rs
                            ON rs.contributor_id = r.rater_id
                         WHERE r.note_id = n.id AND rs.core_rater_factor > 0) AS raters_positive,
                        c.writing_impact AS author_writing_impact,
                        p.created_at_millis AS post_created_at_millis
                     FROM notes n JOIN contributors c ON c.id = n.author_id
                     JOIN posts p ON p.id = n.post_id
                     LEFT JOIN note_scores s ON s.note_id = n.id
                     WHERE n.deleted_at_millis IS NULL
                       AND (s.final_rating_status IS NULL OR s.final_rating_status = 'NEEDS_MORE_RATINGS')
                       AND c.participant_id <> $1
                       AND NOT EXISTS (SELECT 1 FROM ratings r JOIN contributors v ON v.id = r.rater_id
                                       WHERE r.note_id = n.id AND v.participant_id = $1)
                     ORDER BY n.created_at_millis DESC, n.id DESC LIMIT $2"
                );
                let rows = sqlx::query(&sql)
                    .bind(viewer.unwrap_or("").to_string())
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    let note = note_from(row)?;
                    let history = history_of(self.reader(), note.note_id).await?;
                    out.push(HelpCandidate {
                        view: NoteView {
                            deleted_at_millis: row.try_get("deleted_at_millis")?,
                            score: score_from(row)?,
                            ratings: row.try_get("rating_count")?,
                            history,
                            note,
                        },
                        post_created_at_millis: row.try_get("post_created_at_millis")?,
                        raters_negative: row.try_get("raters_negative")?,
                        raters_positive: row.try_get("raters_positive")?,
                        author_writing_impact: row.try_get("author_writing_impact")?,
                    });
                }
                Ok(out)
            }

            async fn rate(&self, rating: &RatingRow, check: Check<'_, RaterFacts>) -> Result<bool> {
                let mut tx = self.writer().begin().await?;
                let rater = lock_contributor(&mut tx, &rating.rater, rating.created_at_millis).await?;
                let row = sqlx::query(
                    "SELECT c.participant_id, n.deleted_at_millis FROM notes n
                     JOIN contributors c ON c.id = n.author_id WHERE n.id = $1",
                )
                .bind(rating.note_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound("note".into()))?;
                let deleted: Option<i64> = row.try_get("deleted_at_millis")?;
                let rater_id = rater.id;
                check(&RaterFacts {
                    rater,
                    note_author: row.try_get("participant_id")?,
                    note_deleted: deleted.is_some(),
                })?;
                let replaced = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM ratings WHERE note_id = $1 AND rater_id = $2",
                    &[rating.note_id, rater_id],
                    None,
                )
                .await?
                    > 0;
                sqlx::query(&format!(
                    "INSERT INTO ratings ({RATING_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT (note_id, rater_id) DO UPDATE SET
                        created_at_millis = excluded.created_at_millis,
                        version = excluded.version, flags = excluded.flags,
                        helpfulness_level = excluded.helpfulness_level, tags = excluded.tags,
                        rated_on_tweet_id = excluded.rated_on_tweet_id,
                        rating_source = excluded.rating_source,
                        suggestion = excluded.suggestion, suggestion_id = excluded.suggestion_id"
                ))
                .bind(rating.note_id)
                .bind(rater_id)
                .bind(rating.created_at_millis)
                .bind(rating.version.map(i64::from))
                .bind(i64::from(rating.flags))
                .bind(rating.level.map(|l| l.name()))
                .bind(i64::from(rating.tags))
                .bind(rating.rated_on_tweet_id)
                .bind(rating.source.map(|s| s.name()))
                .bind(&rating.suggestion)
                .bind(rating.suggestion_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(replaced)
            }

            async fn ratings_of_note(&self, note_id: i64) -> Result<Vec<RatingRow>> {
                let rows = sqlx::query(
                    "SELECT r.note_id, c.participant_id, r.created_at_millis, r.version, r.flags,
                        r.helpfulness_level, r.tags, r.rated_on_tweet_id, r.rating_source,
                        r.suggestion, r.suggestion_id
                     FROM ratings r JOIN contributors c ON c.id = r.rater_id
                     WHERE r.note_id = $1 ORDER BY r.created_at_millis, c.participant_id",
                )
                .bind(note_id)
                .fetch_all(self.reader())
                .await?;
                rows.iter()
                    .map(|row| rating_from(row, row.try_get("participant_id")?))
                    .collect()
            }

            async fn request_note(
                &self,
                request: &NoteRequestRecord,
                check: Check<'_, RequesterFacts>,
            ) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                let requester = lock_contributor(&mut tx, &request.requester, request.created_at_millis).await?;
                let post = count(&mut tx, "SELECT COUNT(*) FROM posts WHERE id = $1", &[request.post_id], None).await?;
                if post == 0 {
                    return Err(StoreError::NotFound("post".into()));
                }
                let requests_last_day = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM note_requests WHERE requester_id = $1 AND created_at_millis > $2",
                    &[requester.id, request.created_at_millis - DAY_MILLIS],
                    None,
                )
                .await?;
                let already_requested = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM note_requests WHERE requester_id = $1 AND post_id = $2",
                    &[requester.id, request.post_id],
                    None,
                )
                .await?
                    > 0;
                check(&RequesterFacts {
                    requests_last_day,
                    already_requested,
                })?;
                sqlx::query(
                    "INSERT INTO note_requests (post_id, requester_id, created_at_millis, source_link, reason)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(request.post_id)
                .bind(requester.id)
                .bind(request.created_at_millis)
                .bind(&request.source_link)
                .bind(&request.reason)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "note request"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn request_facts(&self, since_millis: i64) -> Result<RequestFacts> {
                let mut tx = self.reader().begin().await?;
                if let Some(sql) = Self::SNAPSHOT_SQL {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                let rows = sqlx::query(
                    "SELECT q.post_id, c.participant_id, q.created_at_millis, q.source_link, q.reason
                     FROM note_requests q JOIN contributors c ON c.id = q.requester_id
                     WHERE q.created_at_millis >= $1 ORDER BY q.created_at_millis, q.post_id",
                )
                .bind(since_millis)
                .fetch_all(&mut *tx)
                .await?;
                let requests = rows
                    .iter()
                    .map(|row| {
                        Ok(NoteRequestRecord {
                            post_id: row.try_get("post_id")?,
                            requester: row.try_get("participant_id")?,
                            created_at_millis: row.try_get("created_at_millis")?,
                            source_link: row.try_get("source_link")?,
                            reason: row.try_get("reason")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let noted: Vec<(i64, i64, i64)> = sqlx::query_as(
                    "SELECT n.post_id, MIN(n.created_at_millis),
                        SUM(CASE WHEN s.final_rating_status = 'CURRENTLY_RATED_HELPFUL' THEN 1 ELSE 0 END)
                     FROM notes n LEFT JOIN note_scores s ON s.note_id = n.id
                     WHERE n.post_id IN (SELECT post_id FROM note_requests)
                     GROUP BY n.post_id ORDER BY n.post_id",
                )
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(RequestFacts {
                    requests,
                    noted_posts: noted.into_iter().map(|(p, t, h)| (p, t, h > 0)).collect(),
                })
            }

            async fn snapshot(&self) -> Result<PublicData> {
                let mut tx = self.reader().begin().await?;
                if let Some(sql) = Self::SNAPSHOT_SQL {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                let mut participants: HashMap<i64, String> = HashMap::new();
                let mut enrollment = Vec::new();
                let sql = format!("SELECT {CONTRIBUTOR_COLUMNS} FROM contributors ORDER BY participant_id");
                {
                    let mut rows = sqlx::query(&sql).fetch(&mut *tx);
                    while let Some(row) = rows.try_next().await? {
                        let c = contributor_from(&row)?;
                        if let Some(e) = c.enrollment {
                            enrollment.push(e);
                        }
                        participants.insert(c.id, c.participant_id);
                    }
                }
                let sql = format!(
                    "SELECT {NOTE_COLUMNS} FROM notes n JOIN contributors c ON c.id = n.author_id
                     WHERE n.deleted_at_millis IS NULL ORDER BY n.id"
                );
                let notes = sqlx::query(&sql)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(note_from)
                    .collect::<Result<Vec<_>>>()?;
                let mut builder = RatingsBuilder::keeping_unused_columns();
                {
                    let sql = format!("SELECT {RATING_COLUMNS} FROM ratings ORDER BY note_id, rater_id");
                    let mut rows = sqlx::query(&sql).fetch(&mut *tx);
                    while let Some(row) = rows.try_next().await? {
                        let rater_id: i64 = row.try_get("rater_id")?;
                        let rater = participants.get(&rater_id).cloned().ok_or_else(|| {
                            StoreError::Corrupt(format!("rating by unknown contributor {rater_id}"))
                        })?;
                        builder.push(&rating_from(&row, rater)?);
                    }
                }
                let sql = format!("SELECT {HISTORY_COLUMNS} FROM note_status_history ORDER BY note_id");
                let status_history = sqlx::query(&sql)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(history_from)
                    .collect::<Result<Vec<_>>>()?;
                tx.commit().await?;
                Ok(PublicData {
                    notes,
                    ratings: builder.finish(),
                    status_history,
                    enrollment,
                })
            }

            async fn store_scoring(&self, result: &ScoringResult) -> Result<i64> {
                let mut tx = self.writer().begin().await?;
                let run = result.run.clone().unwrap_or(ScoringRun {
                    id: 0,
                    started_at_millis: 0,
                    finished_at_millis: 0,
                    now_millis: 0,
                    notes: 0,
                    ratings: 0,
                    currently_rated_helpful: 0,
                    currently_rated_not_helpful: 0,
                    needs_more_ratings: 0,
                });
                let run_id: i64 = sqlx::query_scalar(
                    "INSERT INTO scoring_runs (started_at_millis, finished_at_millis, now_millis, notes,
                        ratings, currently_rated_helpful, currently_rated_not_helpful, needs_more_ratings)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(run.started_at_millis)
                .bind(run.finished_at_millis)
                .bind(run.now_millis)
                .bind(run.notes)
                .bind(run.ratings)
                .bind(run.currently_rated_helpful)
                .bind(run.currently_rated_not_helpful)
                .bind(run.needs_more_ratings)
                .fetch_one(&mut *tx)
                .await?;

                sqlx::query("DELETE FROM note_scores").execute(&mut *tx).await?;
                for batch in result.note_scores.chunks(BATCH_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO note_scores (note_id, run_id, core_note_intercept, core_note_factor,
                            core_note_intercept_min, core_note_intercept_max, final_rating_status, core_rating_status, first_tag, second_tag, decided_by,
                            num_ratings) ",
                    );
                    q.push_values(batch, |mut b, s| {
                        b.push_bind(s.note_id)
                            .push_bind(run_id)
                            .push_bind(s.core_note_intercept)
                            .push_bind(s.core_note_factor)
                            .push_bind(s.core_note_intercept_min)
                            .push_bind(s.core_note_intercept_max)
                            .push_bind(s.final_rating_status.clone())
                            .push_bind(s.core_rating_status.clone())
                            .push_bind(s.first_tag.clone())
                            .push_bind(s.second_tag.clone())
                            .push_bind(s.decided_by.clone())
                            .push_bind(s.num_ratings);
                    });
                    q.build().execute(&mut *tx).await?;
                }

                sqlx::query("DELETE FROM note_status_history").execute(&mut *tx).await?;
                insert_history(&mut tx, &unique_history(&result.history)).await?;

                let ids: HashMap<String, i64> =
                    sqlx::query_as::<_, (String, i64)>("SELECT participant_id, id FROM contributors")
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                sqlx::query("DELETE FROM rater_scores").execute(&mut *tx).await?;
                let known: Vec<(&RaterScore, i64)> = result
                    .rater_scores
                    .iter()
                    .filter_map(|s| ids.get(&s.participant_id).map(|&id| (s, id)))
                    .collect();
                for batch in known.chunks(BATCH_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO rater_scores (contributor_id, run_id, core_rater_intercept,
                            core_rater_factor, successful_rating_total, unsuccessful_rating_total,
                            unsuccessful_rating_not_helpful_count, notes_currently_rated_helpful,
                            notes_currently_rated_not_helpful, notes_awaiting_more_ratings) ",
                    );
                    q.push_values(batch, |mut b, (s, id)| {
                        b.push_bind(*id)
                            .push_bind(run_id)
                            .push_bind(s.core_rater_intercept)
                            .push_bind(s.core_rater_factor)
                            .push_bind(s.successful_rating_total)
                            .push_bind(s.unsuccessful_rating_total)
                            .push_bind(s.unsuccessful_rating_not_helpful_count)
                            .push_bind(s.notes_currently_rated_helpful)
                            .push_bind(s.notes_currently_rated_not_helpful)
                            .push_bind(s.notes_awaiting_more_ratings);
                    });
                    q.build().execute(&mut *tx).await?;
                }

                for ContributorUpdate {
                    participant_id,
                    rating_impact,
                    writing_impact,
                    enrollment: e,
                } in &result.contributors
                {
                    sqlx::query(
                        "UPDATE contributors SET rating_impact = $1, writing_impact = $2,
                            enrollment_state = $3, successful_rating_needed_to_earn_in = $4,
                            timestamp_of_last_state_change = $5, timestamp_of_last_earn_out = $6,
                            modeling_population = $7, modeling_group = $8,
                            number_of_times_earned_out = $9
                         WHERE participant_id = $10",
                    )
                    .bind(*rating_impact)
                    .bind(*writing_impact)
                    .bind(e.state.name())
                    .bind(e.successful_rating_needed_to_earn_in)
                    .bind(e.timestamp_of_last_state_change)
                    .bind(e.timestamp_of_last_earn_out)
                    .bind(&e.modeling_population)
                    .bind(e.modeling_group)
                    .bind(e.number_of_times_earned_out)
                    .bind(participant_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(run_id)
            }

            async fn latest_run(&self) -> Result<Option<ScoringRun>> {
                let row = sqlx::query(
                    "SELECT id, started_at_millis, finished_at_millis, now_millis, notes, ratings,
                        currently_rated_helpful, currently_rated_not_helpful, needs_more_ratings
                     FROM scoring_runs ORDER BY id DESC LIMIT 1",
                )
                .fetch_optional(self.reader())
                .await?;
                row.map(|row| {
                    Ok(ScoringRun {
                        id: row.try_get("id")?,
                        started_at_millis: row.try_get("started_at_millis")?,
                        finished_at_millis: row.try_get("finished_at_millis")?,
                        now_millis: row.try_get("now_millis")?,
                        notes: row.try_get("notes")?,
                        ratings: row.try_get("ratings")?,
                        currently_rated_helpful: row.try_get("currently_rated_helpful")?,
                        currently_rated_not_helpful: row.try_get("currently_rated_not_helpful")?,
                        needs_more_ratings: row.try_get("needs_more_ratings")?,
                    })
                })
                .transpose()
            }

            async fn rater_scores(&self) -> Result<Vec<RaterScore>> {
                let rows = sqlx::query(
                    "SELECT c.participant_id, s.core_rater_intercept, s.core_rater_factor,
                        s.successful_rating_total, s.unsuccessful_rating_total,
                        s.unsuccessful_rating_not_helpful_count, s.notes_currently_rated_helpful,
                        s.notes_currently_rated_not_helpful, s.notes_awaiting_more_ratings
                     FROM rater_scores s JOIN contributors c ON c.id = s.contributor_id
                     ORDER BY c.participant_id",
                )
                .fetch_all(self.reader())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(RaterScore {
                            participant_id: row.try_get("participant_id")?,
                            core_rater_intercept: row.try_get("core_rater_intercept")?,
                            core_rater_factor: row.try_get("core_rater_factor")?,
                            successful_rating_total: row.try_get("successful_rating_total")?,
                            unsuccessful_rating_total: row.try_get("unsuccessful_rating_total")?,
                            unsuccessful_rating_not_helpful_count: row
                                .try_get("unsuccessful_rating_not_helpful_count")?,
                            notes_currently_rated_helpful: row.try_get("notes_currently_rated_helpful")?,
                            notes_currently_rated_not_helpful: row
                                .try_get("notes_currently_rated_not_helpful")?,
                            notes_awaiting_more_ratings: row.try_get("notes_awaiting_more_ratings")?,
                        })
                    })
                    .collect()
            }

            async fn import(&self, data: &PublicData, now_millis: i64) -> Result<ImportCounts> {
                let mut tx = self.writer().begin().await?;
                let mut counts = ImportCounts::default();
                let enrolled = enrollment_index(data);
                let participants = participants_of(data);
                for batch in participants.chunks(BATCH_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO contributors (participant_id, alias, enrollment_state,
                            successful_rating_needed_to_earn_in, timestamp_of_last_state_change,
                            timestamp_of_last_earn_out, modeling_population, modeling_group,
                            number_of_times_earned_out, created_at_millis) ",
                    );
                    q.push_values(batch, |mut b, id| {
                        let e = enrolled.get(id.as_str()).copied();
                        b.push_bind(id.clone())
                            .push_bind(crate::alias::alias_for(id))
                            .push_bind(e.map(|e| e.state.name()))
                            .push_bind(e.map_or(5, |e| e.successful_rating_needed_to_earn_in))
                            .push_bind(e.map_or(0, |e| e.timestamp_of_last_state_change))
                            .push_bind(e.and_then(|e| e.timestamp_of_last_earn_out))
                            .push_bind(e.and_then(|e| e.modeling_population.clone()))
                            .push_bind(e.and_then(|e| e.modeling_group))
                            .push_bind(e.map_or(0, |e| e.number_of_times_earned_out))
                            .push_bind(now_millis);
                    });
                    q.push(" ON CONFLICT (participant_id) DO NOTHING");
                    counts.contributors += q.build().execute(&mut *tx).await?.rows_affected() as usize;
                }
                let ids: HashMap<String, i64> =
                    sqlx::query_as::<_, (String, i64)>("SELECT participant_id, id FROM contributors")
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                let id_of = |p: &str| {
                    ids.get(p)
                        .copied()
                        .ok_or_else(|| StoreError::Corrupt(format!("participant {p} was not created")))
                };

                let mut posts: Vec<(i64, i64)> =
                    data.notes.iter().map(|n| (n.tweet_id, n.created_at_millis)).collect();
                posts.sort();
                posts.dedup_by_key(|p| p.0);
                for batch in posts.chunks(BATCH_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO posts (id, external_id, author_handle, text, created_at_millis) ",
                    );
                    q.push_values(batch, |mut b, &(id, created)| {
                        b.push_bind(id)
                            .push_bind(id.to_string())
                            .push_bind(String::new())
                            .push_bind(String::new())
                            .push_bind(created);
                    });
                    q.push(" ON CONFLICT DO NOTHING");
                    counts.posts += q.build().execute(&mut *tx).await?.rows_affected() as usize;
                }

                let notes = data
                    .notes
                    .iter()
                    .map(|n| Ok((n, id_of(&n.author)?)))
                    .collect::<Result<Vec<_>>>()?;
                for batch in notes.chunks(BATCH_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO notes (id, post_id, author_id, created_at_millis, classification,
                            believable, harmful, validation_difficulty, misleading_reasons,
                            not_misleading_reasons, trustworthy_sources, summary, is_media_note,
                            is_collaborative_note) ",
                    );
                    q.push_values(batch, |mut b, &(n, author)| {
                        let (misleading, not_misleading) = reason_bits(n);
                        b.push_bind(n.note_id)
                            .push_bind(n.tweet_id)
                            .push_bind(author)
                            .push_bind(n.created_at_millis)
                            .push_bind(n.classification.name())
                            .push_bind(n.believable.clone())
                            .push_bind(n.harmful.clone())
                            .push_bind(n.validation_difficulty.clone())
                            .push_bind(misleading)
                            .push_bind(not_misleading)
                            .push_bind(n.trustworthy_sources)
                            .push_bind(n.summary.clone())
                            .push_bind(n.is_media_note)
                            .push_bind(n.is_collaborative_note);
                    });
                    q.push(" ON CONFLICT (id) DO NOTHING");
                    counts.notes += q.build().execute(&mut *tx).await?.rows_affected() as usize;
                }

                let mut rows = rating_rows(data).peekable();
                while rows.peek().is_some() {
                    let batch = rows
                        .by_ref()
                        .take(BATCH_ROWS)
                        .map(|r| Ok((id_of(&r.rater)?, r)))
                        .collect::<Result<Vec<_>>>()?;
                    let mut q = QueryBuilder::<$db>::new(format!("INSERT INTO ratings ({RATING_COLUMNS}) "));
                    q.push_values(&batch, |mut b, (rater, r)| {
                        b.push_bind(r.note_id)
                            .push_bind(*rater)
                            .push_bind(r.created_at_millis)
                            .push_bind(r.version.map(i64::from))
                            .push_bind(i64::from(r.flags))
                            .push_bind(r.level.map(|l| l.name()))
                            .push_bind(i64::from(r.tags))
                            .push_bind(r.rated_on_tweet_id)
                            .push_bind(r.source.map(|s| s.name()))
                            .push_bind(r.suggestion.clone())
                            .push_bind(r.suggestion_id);
                    });
                    q.push(" ON CONFLICT (note_id, rater_id) DO NOTHING");
                    counts.ratings += q.build().execute(&mut *tx).await?.rows_affected() as usize;
                }

                counts.status_history = insert_history(&mut tx, &unique_history(&data.status_history)).await?;
                tx.commit().await?;
                Ok(counts)
            }

            async fn create_session(
                &self,
                id_hash: &str,
                contributor_id: i64,
                csrf: &str,
                now_millis: i64,
                expires_at_millis: i64,
            ) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("DELETE FROM sessions WHERE expires_at_millis <= $1")
                    .bind(now_millis)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (id_hash, contributor_id, csrf, created_at_millis, expires_at_millis)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id_hash)
                .bind(contributor_id)
                .bind(csrf)
                .bind(now_millis)
                .bind(expires_at_millis)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "session"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn session(&self, id_hash: &str, now_millis: i64) -> Result<Option<SessionRecord>> {
                let sql = format!(
                    "SELECT {CONTRIBUTOR_COLUMNS}, x.csrf, x.expires_at_millis
                     FROM contributors JOIN (
                        SELECT contributor_id, csrf, expires_at_millis FROM sessions
                        WHERE id_hash = $1 AND expires_at_millis > $2
                     ) x ON x.contributor_id = contributors.id"
                );
                let row = sqlx::query(&sql)
                    .bind(id_hash)
                    .bind(now_millis)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|row| {
                    Ok(SessionRecord {
                        contributor: contributor_from(&row)?,
                        csrf: row.try_get("csrf")?,
                        expires_at_millis: row.try_get("expires_at_millis")?,
                    })
                })
                .transpose()
            }

            async fn delete_session(&self, id_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn max_id(&self) -> Result<i64> {
                let notes: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM notes")
                    .fetch_one(self.reader())
                    .await?;
                let posts: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM posts")
                    .fetch_one(self.reader())
                    .await?;
                let history: Option<i64> = sqlx::query_scalar("SELECT MAX(note_id) FROM note_status_history")
                    .fetch_one(self.reader())
                    .await?;
                Ok(notes.max(posts).max(history).unwrap_or(0))
            }
        }

        /// Inserts status history rows (keeping existing rows of the same notes).
        async fn insert_history(tx: &mut Tx<'_>, rows: &[&StatusHistoryRow]) -> Result<usize> {
            let mut inserted = 0;
            for batch in rows.chunks(BATCH_ROWS) {
                let mut q = QueryBuilder::<$db>::new(format!(
                    "INSERT INTO note_status_history ({HISTORY_COLUMNS}) "
                ));
                q.push_values(batch, |mut b, h| {
                    b.push_bind(h.note_id)
                        .push_bind(h.author.clone())
                        .push_bind(h.created_at_millis)
                        .push_bind(h.timestamp_millis_of_first_non_nmr_status)
                        .push_bind(status_text(h.first_non_nmr_status))
                        .push_bind(h.timestamp_millis_of_current_status)
                        .push_bind(status_text(h.current_status))
                        .push_bind(h.timestamp_millis_of_latest_non_nmr_status)
                        .push_bind(status_text(h.most_recent_non_nmr_status))
                        .push_bind(h.timestamp_millis_of_status_lock)
                        .push_bind(status_text(h.locked_status))
                        .push_bind(h.timestamp_millis_of_retro_lock)
                        .push_bind(status_text(h.current_core_status))
                        .push_bind(status_text(h.current_expansion_status))
                        .push_bind(status_text(h.current_group_status))
                        .push_bind(h.current_decided_by.clone())
                        .push_bind(h.current_modeling_group)
                        .push_bind(h.timestamp_millis_of_most_recent_status_change)
                        .push_bind(h.timestamp_millis_of_nmr_due_to_min_stable_crh_time)
                        .push_bind(status_text(h.current_multi_group_status))
                        .push_bind(h.current_modeling_multi_group)
                        .push_bind(h.timestamp_minute_of_final_scoring_output)
                        .push_bind(h.timestamp_millis_of_first_nmr_due_to_min_stable_crh_time)
                        .push_bind(h.above_pcrh_threshold_time);
                });
                q.push(" ON CONFLICT (note_id) DO NOTHING");
                inserted += q.build().execute(&mut **tx).await?.rows_affected() as usize;
            }
            Ok(inserted)
        }
    };
}

pub(crate) use store_impl;
