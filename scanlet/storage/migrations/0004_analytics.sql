-- Analytics read models (rollups, raw scans); filled in by the analytics feature.
SELECT 1;
