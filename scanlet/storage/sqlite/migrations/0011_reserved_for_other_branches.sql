-- Placeholder on the importers branch only: the numbers 0009-0011 belong to migrations of
-- other branches merged before it. Delete this file when merging (see the branch's report).
SELECT 1;
