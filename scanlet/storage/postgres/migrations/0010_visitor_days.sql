-- The days whose visitor sets are kept while late or imported scans come for them, and the
-- clock that keeping counts in: as SQLite's 0019 (scanlet/storage/rollups.py).
CREATE TABLE analytics_visitor_days (
    day    INTEGER PRIMARY KEY,
    last   BIGINT,
    pruned BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX analytics_visitor_days_kept ON analytics_visitor_days (day) WHERE NOT pruned;

CREATE TABLE analytics_visitor_clock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    scans BIGINT NOT NULL
);

INSERT INTO analytics_visitor_days (day)
SELECT DISTINCT day FROM analytics_days
WHERE slug = '*' AND uniques + bot_uniques + own_uniques > 0;
