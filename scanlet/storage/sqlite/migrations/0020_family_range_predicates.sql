-- The log's three partial indexes (0011, 0013, 0018) tested an event's type with LIKE.
-- SQLite works their predicates out for every row appended, and LIKE is a function call on
-- a NUL-terminated copy of the bound type text, three of them for each scan: recording a
-- scan counted 39.1k instructions with them against 37.2k with these comparisons
-- (bench/catch_up.py, both in one run). "type >= 'code.' AND type < 'code/'" holds
-- exactly the types that begin with "code." ('/' follows '.'), compared byte by byte; the
-- reader repeats each predicate in literal text (eventlog.py), the only way SQLite uses a
-- partial index. Each index is built again from one pass over the log.
DROP INDEX events_code_history;
CREATE INDEX events_code_history ON events (slug, seq) WHERE type >= 'code.' AND type < 'code/';
DROP INDEX events_code_changes;
CREATE INDEX events_code_changes ON events (seq) WHERE type >= 'code.' AND type < 'code/';
DROP INDEX events_domain_changes;
CREATE INDEX events_domain_changes ON events (seq)
    WHERE type >= 'domain.' AND type < 'domain/';
