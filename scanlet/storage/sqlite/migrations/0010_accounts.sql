-- Accounts (issue #18): people who sign in with an email and a password, each with a role.
-- Emails are stored lower-cased (one account per address, whatever its spelling). The
-- password is an argon2id hash in its PHC string form (it carries its own salt and costs);
-- NULL means the account cannot sign in with a password. ``tags`` is a JSON array: empty
-- means every code, else only codes with one of those tags.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    password_hash TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
);

-- A key belongs to a user (NULL: a key made before accounts, which acts by its scope alone)
-- and may be limited to codes with some tags, like a user.
ALTER TABLE api_keys ADD COLUMN user_id TEXT REFERENCES users (id);
ALTER TABLE api_keys ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX api_keys_user ON api_keys (user_id) WHERE user_id IS NOT NULL;

-- A dashboard session now belongs to a key (the API-key sign-in, kept for automation) or to
-- a user; SQLite cannot relax NOT NULL in place, so the table is made again, rows kept.
CREATE TABLE dashboard_sessions_new (
    token_hash   BLOB PRIMARY KEY,
    key_id       TEXT REFERENCES api_keys (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    -- Last, where PostgreSQL's ALTER TABLE puts it: the columns are in the same order.
    user_id      TEXT REFERENCES users (id),
    CHECK ((key_id IS NULL) <> (user_id IS NULL))
) WITHOUT ROWID;
INSERT INTO dashboard_sessions_new (token_hash, key_id, created_at, last_seen_at, expires_at)
    SELECT token_hash, key_id, created_at, last_seen_at, expires_at FROM dashboard_sessions;
DROP TABLE dashboard_sessions;
ALTER TABLE dashboard_sessions_new RENAME TO dashboard_sessions;
-- Disabling a user or changing their password deletes all of their sessions.
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id) WHERE user_id IS NOT NULL;

-- Failed password sign-ins of the last 15 minutes, for the lockout (10 per account or per
-- address). Both are keyed HMACs under a key derived from the server key file: no address
-- is stored (SCANLET_ANONYMIZE_IP), nor whatever was typed into the email field.
CREATE TABLE sign_in_failures (
    at      TEXT NOT NULL,
    account BLOB NOT NULL,
    address BLOB NOT NULL
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- A code's history (GET /api/v1/codes/{slug}/history) reads its code events newest first.
-- Partial: only code events are indexed, so a scan's append pays nothing but the check.
CREATE INDEX events_code_history ON events (slug, seq)
    WHERE type IN ('code.created', 'code.updated', 'code.deleted');

-- Administrative actions (users created or changed, keys created or revoked, webhooks added
-- or removed), for `scanlet audit`. Changes to codes are in the event log instead. ``detail``
-- is a JSON object; it never holds a password, a key's secret or a webhook's secret.
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    by_kind TEXT NOT NULL CHECK (by_kind IN ('user', 'key', 'system')),
    by_id   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
