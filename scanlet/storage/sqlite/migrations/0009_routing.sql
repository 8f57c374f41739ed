-- Routing of a code (issue #15): its fallback URL, rules, A/B split and query forwarding,
-- as the JSON the codes context writes (NULL: a plain redirect to the target). Read only
-- when the codes index is loaded: the scan path decides from memory.
ALTER TABLE codes ADD COLUMN routing TEXT;

-- Own scans (SCANLET_EXCLUDE_FROM, the dashboard's exclude-me cookie) are counted apart,
-- like bots, and left out of every figure unless asked for. Existing rows had none.
ALTER TABLE analytics_hours ADD COLUMN own INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_hours ADD COLUMN own_uniques INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_days ADD COLUMN own INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_days ADD COLUMN own_uniques INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_breakdown_hours ADD COLUMN own INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_breakdown_days ADD COLUMN own INTEGER NOT NULL DEFAULT 0;

-- A code's password, as its argon2id hash (PHC string with its salt); NULL: none.
ALTER TABLE codes ADD COLUMN password_hash TEXT;
