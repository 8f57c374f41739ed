-- The whole schema of the SQLite adapter's migrations 1-8, for PostgreSQL (see the SQLite
-- migrations for why each table is shaped as it is). What differs here:
--
-- * Text that is compared or sorted (slugs, times, breakdown values, ids) is COLLATE "C":
--   byte order, as in SQLite, so listings, cursors and breakdowns order alike on both.
-- * The event log is written by several instances at once. A seq (an identity) is unique
--   but not a commit order: a transaction can commit seq 10 after another committed 11,
--   and a reader that had passed 11 would never see 10. So each event also records the id
--   of the transaction that wrote it, and readers go by (xid, seq), reading only events of
--   transactions older than every transaction still running (the snapshot's xmin): nothing
--   can commit before that fence any more, so nothing ever appears behind a reader.
-- * Follower positions and webhook endpoints' starting points are such (xid, seq) pairs.
CREATE TABLE api_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    secret_hash BYTEA NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C",
    revoked_at  TEXT COLLATE "C"
);

CREATE TABLE server_secrets (
    name       TEXT COLLATE "C" PRIMARY KEY,
    value      BYTEA NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid         BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    id          TEXT COLLATE "C" NOT NULL,
    type        TEXT COLLATE "C" NOT NULL,
    slug        TEXT COLLATE "C",
    occurred_at TEXT COLLATE "C" NOT NULL,
    recorded_at TEXT COLLATE "C" NOT NULL,
    payload     BYTEA NOT NULL
);
CREATE INDEX events_in_commit_order ON events (xid, seq);
-- Instances follow code changes of the others through this (a few rows among the scans).
CREATE INDEX events_code_changes ON events (xid, seq) WHERE type LIKE 'code.%';

CREATE TABLE device_event_ids (
    id TEXT COLLATE "C" PRIMARY KEY
);

CREATE TABLE codes (
    slug            TEXT COLLATE "C" PRIMARY KEY,
    target          TEXT NOT NULL,
    title           TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    valid_from      TEXT COLLATE "C",
    valid_until     TEXT COLLATE "C",
    max_scans       BIGINT,
    redirect_status INTEGER NOT NULL DEFAULT 302,
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    deleted_at      TEXT COLLATE "C"
);
CREATE INDEX codes_listing ON codes (created_at DESC, slug DESC) WHERE deleted_at IS NULL;

CREATE TABLE code_tags (
    tag  TEXT COLLATE "C" NOT NULL,
    slug TEXT COLLATE "C" NOT NULL REFERENCES codes (slug),
    PRIMARY KEY (tag, slug)
);

CREATE TABLE scan_counters (
    slug  TEXT COLLATE "C" PRIMARY KEY,
    scans BIGINT NOT NULL
);

CREATE TABLE follower_positions (
    name TEXT COLLATE "C" PRIMARY KEY,
    xid  BIGINT NOT NULL,
    seq  BIGINT NOT NULL
);

CREATE TABLE analytics_hours (
    slug        TEXT COLLATE "C" NOT NULL,
    hour        INTEGER NOT NULL,
    humans      BIGINT NOT NULL,
    bots        BIGINT NOT NULL,
    uniques     BIGINT NOT NULL,
    bot_uniques BIGINT NOT NULL,
    PRIMARY KEY (slug, hour)
);

CREATE TABLE analytics_days (
    slug        TEXT COLLATE "C" NOT NULL,
    day         INTEGER NOT NULL,
    humans      BIGINT NOT NULL,
    bots        BIGINT NOT NULL,
    uniques     BIGINT NOT NULL,
    bot_uniques BIGINT NOT NULL,
    PRIMARY KEY (slug, day)
);
CREATE INDEX analytics_days_by_day ON analytics_days (day, slug);

CREATE TABLE analytics_breakdown_hours (
    slug   TEXT COLLATE "C" NOT NULL,
    hour   INTEGER NOT NULL,
    dim    TEXT COLLATE "C" NOT NULL,
    value  TEXT COLLATE "C" NOT NULL,
    humans BIGINT NOT NULL,
    bots   BIGINT NOT NULL,
    PRIMARY KEY (slug, hour, dim, value)
);

CREATE TABLE analytics_breakdown_days (
    slug   TEXT COLLATE "C" NOT NULL,
    day    INTEGER NOT NULL,
    dim    TEXT COLLATE "C" NOT NULL,
    value  TEXT COLLATE "C" NOT NULL,
    humans BIGINT NOT NULL,
    bots   BIGINT NOT NULL,
    PRIMARY KEY (slug, day, dim, value)
);

CREATE TABLE analytics_visitors (
    day     INTEGER NOT NULL,
    slug    TEXT COLLATE "C" NOT NULL,
    visitor TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (day, slug, visitor)
);

CREATE TABLE raw_scans (
    occurred_at TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    slug        TEXT COLLATE "C" NOT NULL,
    orphan      BOOLEAN NOT NULL,
    PRIMARY KEY (occurred_at, seq)
);
CREATE INDEX raw_scans_by_code ON raw_scans (slug, occurred_at, seq) WHERE NOT orphan;
CREATE INDEX raw_scans_orphans ON raw_scans (occurred_at, seq) WHERE orphan;

CREATE TABLE webhook_endpoints (
    id              TEXT COLLATE "C" PRIMARY KEY,
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    after_xid       BIGINT NOT NULL,
    after_seq       BIGINT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    disabled_at     TEXT COLLATE "C",
    disabled_reason TEXT
);

CREATE TABLE webhook_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    event_seq       BIGINT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            BYTEA NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX webhook_outbox_queue ON webhook_outbox (endpoint_id, id);

CREATE TABLE webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id  TEXT COLLATE "C" NOT NULL,
    delivery_id  BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TEXT COLLATE "C" NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  DOUBLE PRECISION NOT NULL,
    outcome      TEXT NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);

CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);

CREATE TABLE dashboard_sessions (
    token_hash   BYTEA PRIMARY KEY,
    key_id       TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id),
    created_at   TEXT COLLATE "C" NOT NULL,
    last_seen_at TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL
);
