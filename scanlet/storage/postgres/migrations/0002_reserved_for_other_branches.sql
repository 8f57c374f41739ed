-- Placeholder on the importers branch only: the numbers 0002-0003 belong to migrations of
-- other branches merged before it. Delete this file when merging (see the branch's report).
SELECT 1;
