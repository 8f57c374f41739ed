-- Imported visits arrive long after their day left the visitor window (a Shlink import
-- brings each code's years in turn), so a day's visitor set is kept while late or imported
-- scans keep coming for it (scanlet/storage/rollups.py). Every day that has or had a set is
-- recorded: `last` is the clock (scans added up so far) at its last late or imported scan,
-- `pruned` that its set is gone. A day never recorded has nothing to check against.
CREATE TABLE analytics_visitor_days (
    day    INTEGER PRIMARY KEY,
    last   INTEGER,
    pruned INTEGER NOT NULL DEFAULT 0
);
-- The days still holding sets: few (the window, and what an import keeps), looked at
-- after every batch.
CREATE INDEX analytics_visitor_days_kept ON analytics_visitor_days (day) WHERE pruned = 0;

-- One row: how many scans the rollups have added up (the clock of `last`).
CREATE TABLE analytics_visitor_clock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    scans INTEGER NOT NULL
);

-- Days with unique visitors counted so far had sets. Those out of the window are pruned by
-- the first batch after this migration; their scans never come back as new visitors.
INSERT INTO analytics_visitor_days (day)
SELECT DISTINCT day FROM analytics_days
WHERE slug = '*' AND uniques + bot_uniques + own_uniques > 0;
