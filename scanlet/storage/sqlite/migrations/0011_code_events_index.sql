-- The code events of the log, indexed apart: a running server looks for codes changed by
-- another process (the command line) twice a second, and each look must be an index probe
-- however many scans lie between. Partial, so the scan path's appends never write to it;
-- the same predicate as PostgreSQL's events_code_changes, and the reader adds it to its
-- query when it asks only for code events (SQLite uses a partial index only then).
CREATE INDEX events_code_changes ON events (seq) WHERE type LIKE 'code.%';
