-- Routing of a code (issue #15): its fallback URL, rules, A/B split and query forwarding,
-- as the JSON the codes context writes (NULL: a plain redirect to the target). Read only
-- when the codes index is loaded: the scan path decides from memory.
ALTER TABLE codes ADD COLUMN routing TEXT;
