-- Domains (issue #15): hosts codes live on besides the default one (the host of
-- SCANLET_BASE_URL, which has no row). A code on one of them is stored under the key
-- `host/slug` (scanlet.actors.codes.keys), so codes, scans and figures need no new column.
CREATE TABLE domains (
    host          TEXT PRIMARY KEY,
    base_url      TEXT NOT NULL,
    not_found_url TEXT,
    root_url      TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- The domain events of the log, indexed apart as the code events are (0011): a running
-- server looks for domains changed by another process with one index probe.
CREATE INDEX events_domain_changes ON events (seq) WHERE type LIKE 'domain.%';
