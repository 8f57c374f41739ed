-- The history's partial index (0010) named the code events' types in an IN list. SQLite
-- works out a partial index's predicate for every row appended to the log, and an IN list
-- of constants builds a small temporary table each time the statement runs: about 4 us for
-- each scan or device event appended by executemany, while LIKE costs about as little as
-- no index at all (measured here, four alternating runs of 100k rows). The code family is
-- exactly those three types (events.CODE_EVENT_TYPES; a test keeps it so), so the
-- predicate of events_code_changes names the same rows.
DROP INDEX events_code_history;
CREATE INDEX events_code_history ON events (slug, seq) WHERE type LIKE 'code.%';
