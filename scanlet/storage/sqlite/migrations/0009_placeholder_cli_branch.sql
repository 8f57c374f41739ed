-- Placeholder on the cli branch only: number 0009 belongs to another branch (the migration
-- loader wants 1..N without gaps). Delete this file when merging; the other branch's own
-- 0009 takes its place.
SELECT 1;
