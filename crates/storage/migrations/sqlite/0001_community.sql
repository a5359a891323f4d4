-- The community: contributors, posts, notes, ratings and note requests. Column names follow
-- the public download format where one exists; times are milliseconds since the epoch.

CREATE TABLE contributors (
    id INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL UNIQUE,
    alias TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    is_ai_writer BOOLEAN NOT NULL DEFAULT FALSE,
    -- NULL: the contributor has no enrollment row (an imported rater the download's
    -- userEnrollment file does not list).
    enrollment_state TEXT,
    successful_rating_needed_to_earn_in BIGINT NOT NULL DEFAULT 5,
    timestamp_of_last_state_change BIGINT NOT NULL DEFAULT 0,
    timestamp_of_last_earn_out DOUBLE PRECISION,
    modeling_population TEXT,
    modeling_group DOUBLE PRECISION,
    number_of_times_earned_out BIGINT NOT NULL DEFAULT 0,
    rating_impact BIGINT NOT NULL DEFAULT 0,
    writing_impact BIGINT NOT NULL DEFAULT 0,
    created_at_millis BIGINT NOT NULL,
    last_write_millis BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE posts (
    id BIGINT PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    author_handle TEXT NOT NULL,
    text TEXT NOT NULL,
    url TEXT,
    created_at_millis BIGINT NOT NULL
);

CREATE TABLE notes (
    id BIGINT PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id),
    author_id BIGINT NOT NULL REFERENCES contributors (id),
    created_at_millis BIGINT NOT NULL,
    classification TEXT NOT NULL,
    believable TEXT,
    harmful TEXT,
    validation_difficulty TEXT,
    -- Bit i: the i-th misleading / not-misleading reason column of the public notes file.
    misleading_reasons BIGINT NOT NULL,
    not_misleading_reasons BIGINT NOT NULL,
    trustworthy_sources BOOLEAN NOT NULL,
    summary TEXT NOT NULL,
    is_media_note BOOLEAN NOT NULL,
    is_collaborative_note BOOLEAN NOT NULL,
    deleted_at_millis BIGINT
);
CREATE INDEX notes_by_author ON notes (author_id, created_at_millis);
CREATE INDEX notes_by_post ON notes (post_id);

-- No foreign key on note_id: a public download holds ratings of deleted notes.
CREATE TABLE ratings (
    note_id BIGINT NOT NULL,
    rater_id BIGINT NOT NULL REFERENCES contributors (id),
    created_at_millis BIGINT NOT NULL,
    version BIGINT,
    -- Legacy agree/disagree/helpful/notHelpful columns (engine `flag` bits).
    flags BIGINT NOT NULL,
    helpfulness_level TEXT,
    -- Bit i: the i-th helpful tag, bit 9 + i: the i-th not-helpful tag (public file order).
    tags BIGINT NOT NULL,
    rated_on_tweet_id BIGINT,
    rating_source TEXT,
    suggestion TEXT,
    suggestion_id BIGINT,
    PRIMARY KEY (note_id, rater_id)
);
CREATE INDEX ratings_by_rater ON ratings (rater_id);

CREATE TABLE note_requests (
    post_id BIGINT NOT NULL REFERENCES posts (id),
    requester_id BIGINT NOT NULL REFERENCES contributors (id),
    created_at_millis BIGINT NOT NULL,
    source_link TEXT,
    reason TEXT,
    PRIMARY KEY (post_id, requester_id)
);
CREATE INDEX note_requests_by_time ON note_requests (created_at_millis);
CREATE INDEX note_requests_by_requester ON note_requests (requester_id, created_at_millis);

-- Scoring results.

CREATE TABLE scoring_runs (
    id INTEGER PRIMARY KEY,
    started_at_millis BIGINT NOT NULL,
    finished_at_millis BIGINT NOT NULL,
    now_millis BIGINT NOT NULL,
    notes BIGINT NOT NULL,
    ratings BIGINT NOT NULL,
    currently_rated_helpful BIGINT NOT NULL,
    currently_rated_not_helpful BIGINT NOT NULL,
    needs_more_ratings BIGINT NOT NULL
);

CREATE TABLE note_scores (
    note_id BIGINT PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES scoring_runs (id),
    core_note_intercept DOUBLE PRECISION,
    core_note_factor DOUBLE PRECISION,
    final_rating_status TEXT,
    core_rating_status TEXT,
    first_tag TEXT,
    second_tag TEXT,
    decided_by TEXT,
    num_ratings BIGINT NOT NULL
);

CREATE TABLE note_status_history (
    note_id BIGINT PRIMARY KEY,
    note_author_participant_id TEXT NOT NULL,
    created_at_millis BIGINT NOT NULL,
    timestamp_millis_of_first_non_nmr_status DOUBLE PRECISION,
    first_non_nmr_status TEXT,
    timestamp_millis_of_current_status DOUBLE PRECISION,
    current_status TEXT,
    timestamp_millis_of_latest_non_nmr_status DOUBLE PRECISION,
    most_recent_non_nmr_status TEXT,
    timestamp_millis_of_status_lock DOUBLE PRECISION,
    locked_status TEXT,
    timestamp_millis_of_retro_lock DOUBLE PRECISION,
    current_core_status TEXT,
    current_expansion_status TEXT,
    current_group_status TEXT,
    current_decided_by TEXT,
    current_modeling_group DOUBLE PRECISION,
    timestamp_millis_of_most_recent_status_change DOUBLE PRECISION,
    timestamp_millis_of_nmr_due_to_min_stable_crh_time DOUBLE PRECISION,
    current_multi_group_status TEXT,
    current_modeling_multi_group DOUBLE PRECISION,
    timestamp_minute_of_final_scoring_output DOUBLE PRECISION,
    timestamp_millis_of_first_nmr_due_to_min_stable_crh_time DOUBLE PRECISION,
    above_pcrh_threshold_time DOUBLE PRECISION
);

CREATE TABLE rater_scores (
    contributor_id BIGINT PRIMARY KEY REFERENCES contributors (id),
    run_id BIGINT NOT NULL REFERENCES scoring_runs (id),
    core_rater_intercept DOUBLE PRECISION,
    core_rater_factor DOUBLE PRECISION,
    successful_rating_total BIGINT NOT NULL,
    unsuccessful_rating_total BIGINT NOT NULL,
    unsuccessful_rating_not_helpful_count BIGINT NOT NULL,
    notes_currently_rated_helpful BIGINT NOT NULL,
    notes_currently_rated_not_helpful BIGINT NOT NULL,
    notes_awaiting_more_ratings BIGINT NOT NULL
);
