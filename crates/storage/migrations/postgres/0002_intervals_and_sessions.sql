-- The core model's pseudo-rater interval of each note intercept, and browser sessions that
-- survive a restart.

ALTER TABLE note_scores ADD COLUMN core_note_intercept_min DOUBLE PRECISION;
ALTER TABLE note_scores ADD COLUMN core_note_intercept_max DOUBLE PRECISION;

-- A signed-in browser session of the pages. Only the SHA-256 of the cookie value is kept,
-- like API tokens; the CSRF token is per session and stored as is (it is no credential on
-- its own).
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    contributor_id BIGINT NOT NULL REFERENCES contributors (id),
    csrf TEXT NOT NULL,
    created_at_millis BIGINT NOT NULL,
    expires_at_millis BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at_millis);
