-- Webhook endpoints. The secret is kept as given out (whsec_...): it must sign every delivery,
-- so unlike API keys it cannot be stored as a hash. after_seq is the log's last seq when the
-- endpoint was created: it receives only events committed after that.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    after_seq       INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    disabled_at     TEXT,
    disabled_reason TEXT
);

-- The outbox: one row per (endpoint, event) still to be delivered, written by the webhooks
-- follower in the same transaction as its log position, removed once delivered or given up.
-- Rows are delivered per endpoint in id order (which is log order).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX webhook_outbox_queue ON webhook_outbox (endpoint_id, id);

-- Every delivery attempt, newest kept per endpoint (older ones are pruned).
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  TEXT NOT NULL,
    delivery_id  INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  REAL NOT NULL,
    outcome      TEXT NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
