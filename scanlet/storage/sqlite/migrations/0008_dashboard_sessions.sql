-- Dashboard sessions kept on the server (issue #12). The browser's cookie holds a random
-- token; this table holds only its SHA-256, so neither the database nor a backup of it
-- holds anything that works as a cookie, and deleting a row (signing out) ends the session
-- wherever the cookie was copied to. Times are RFC 3339 text of fixed width (sortable).
CREATE TABLE dashboard_sessions (
    token_hash   BLOB PRIMARY KEY,
    key_id       TEXT NOT NULL REFERENCES api_keys (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) WITHOUT ROWID;

-- Cookies signed with this key are no longer accepted, and a signing key must not stay in
-- the database, and so in every backup, for anyone to forge sessions with.
DELETE FROM server_secrets WHERE name = 'dashboard-session-key';
