-- Placeholder on the cli branch only: number 0010 belongs to another branch (the migration
-- loader wants 1..N without gaps). Delete this file when merging; the other branch's own
-- 0010 takes its place.
SELECT 1;
