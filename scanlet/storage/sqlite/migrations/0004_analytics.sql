-- Analytics read models, filled by the analytics follower of the event log (position
-- "analytics" in follower_positions, written in the same transaction as these rows).
-- Everything here can be dropped and rebuilt from the log (`scanlet rebuild`).
--
-- Rollups per code per UTC hour, and the same per UTC day, so a range's breakdowns read its
-- whole days from the small table and only its ragged edges from the hourly one. The slug
-- '*' (never a valid slug) holds the totals across every code. `humans`/`bots` are scans;
-- `uniques`/`bot_uniques` count visitors in the hour (or day) of their first scan of that
-- UTC day, so summing any run of hours gives the visitors first seen in it.
CREATE TABLE analytics_hours (
    slug        TEXT NOT NULL,
    hour        INTEGER NOT NULL,   -- hours since 1970-01-01T00:00Z
    humans      INTEGER NOT NULL,
    bots        INTEGER NOT NULL,
    uniques     INTEGER NOT NULL,
    bot_uniques INTEGER NOT NULL,
    PRIMARY KEY (slug, hour)
) WITHOUT ROWID;

CREATE TABLE analytics_days (
    slug        TEXT NOT NULL,
    day         INTEGER NOT NULL,   -- days since 1970-01-01 (UTC)
    humans      INTEGER NOT NULL,
    bots        INTEGER NOT NULL,
    uniques     INTEGER NOT NULL,
    bot_uniques INTEGER NOT NULL,
    PRIMARY KEY (slug, day)
) WITHOUT ROWID;
CREATE INDEX analytics_days_by_day ON analytics_days (day, slug);

-- Breakdowns: scans per dimension value (dim: source, device, os, browser, referrer, country).
CREATE TABLE analytics_breakdown_hours (
    slug   TEXT NOT NULL,
    hour   INTEGER NOT NULL,
    dim    TEXT NOT NULL,
    value  TEXT NOT NULL,
    humans INTEGER NOT NULL,
    bots   INTEGER NOT NULL,
    PRIMARY KEY (slug, hour, dim, value)
) WITHOUT ROWID;

CREATE TABLE analytics_breakdown_days (
    slug   TEXT NOT NULL,
    day    INTEGER NOT NULL,
    dim    TEXT NOT NULL,
    value  TEXT NOT NULL,
    humans INTEGER NOT NULL,
    bots   INTEGER NOT NULL,
    PRIMARY KEY (slug, day, dim, value)
) WITHOUT ROWID;

-- Which visitor hashes were already seen per code and UTC day: only the last few days are
-- kept (hashes of older days can never recur: their salt is gone).
-- Keyed by day first, so pruning old days and looking up keys both use the one B-tree (a
-- second index by day doubled the cost of every first sighting).
CREATE TABLE analytics_visitors (
    day     INTEGER NOT NULL,
    slug    TEXT NOT NULL,
    visitor TEXT NOT NULL,
    PRIMARY KEY (day, slug, visitor)
) WITHOUT ROWID;

-- Every scan (and orphan scan) with its derived facts, for listing and export. `seq` is the
-- event's position in the log. Rows older than SCANLET_RAW_RETENTION_DAYS are deleted.
CREATE TABLE raw_scans (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL,
    slug          TEXT NOT NULL,
    orphan        INTEGER NOT NULL,
    occurred_at   TEXT NOT NULL,
    source        TEXT NOT NULL,
    ip            TEXT,
    visitor       TEXT,
    user_agent    TEXT,
    referrer      TEXT,
    referrer_host TEXT,
    country       TEXT,
    device        TEXT NOT NULL,
    os            TEXT NOT NULL,
    browser       TEXT NOT NULL,
    bot           INTEGER NOT NULL,
    device_id     TEXT,
    data          TEXT
);
CREATE INDEX raw_scans_by_code ON raw_scans (slug, occurred_at, seq) WHERE orphan = 0;
CREATE INDEX raw_scans_orphans ON raw_scans (occurred_at, seq) WHERE orphan = 1;
CREATE INDEX raw_scans_by_time ON raw_scans (occurred_at, seq);
