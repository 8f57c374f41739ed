-- Accounts (issue #18): users, keys and sessions that belong to them, and failed sign-ins
-- for the lockout. The same shape as SQLite's migration 0010 (see it for why).
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    password_hash TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT COLLATE "C" NOT NULL,
    disabled_at   TEXT COLLATE "C"
);

ALTER TABLE api_keys ADD COLUMN user_id TEXT COLLATE "C" REFERENCES users (id);
ALTER TABLE api_keys ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX api_keys_user ON api_keys (user_id) WHERE user_id IS NOT NULL;

ALTER TABLE dashboard_sessions ALTER COLUMN key_id DROP NOT NULL;
ALTER TABLE dashboard_sessions ADD COLUMN user_id TEXT COLLATE "C" REFERENCES users (id);
ALTER TABLE dashboard_sessions ADD CONSTRAINT dashboard_sessions_one_owner
    CHECK ((key_id IS NULL) <> (user_id IS NULL));
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE sign_in_failures (
    at      TEXT COLLATE "C" NOT NULL,
    account BYTEA NOT NULL,
    address BYTEA NOT NULL
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- A code's history (GET /api/v1/codes/{slug}/history) reads its code events newest first.
-- Partial: only code events are indexed, so a scan's append pays nothing but the check.
CREATE INDEX events_code_history ON events (slug, seq)
    WHERE type IN ('code.created', 'code.updated', 'code.deleted');

-- Administrative actions, for `scanlet audit` (see SQLite's migration 0010).
CREATE TABLE audit_log (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TEXT COLLATE "C" NOT NULL,
    by_kind TEXT NOT NULL CHECK (by_kind IN ('user', 'key', 'system')),
    by_id   TEXT COLLATE "C" NOT NULL,
    action  TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
