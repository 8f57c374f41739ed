-- Domains (issue #15): hosts codes live on besides the default one (the host of
-- SCANLET_BASE_URL, which has no row). A code on one of them is stored under the key
-- `host/slug` (scanlet.actors.codes.keys), so codes, scans and figures need no new column.
CREATE TABLE domains (
    host          TEXT COLLATE "C" PRIMARY KEY,
    base_url      TEXT NOT NULL,
    not_found_url TEXT,
    root_url      TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Instances follow domain changes of the others through this, as they follow code changes
-- through events_code_changes (a few rows among the scans).
CREATE INDEX events_domain_changes ON events (xid, seq) WHERE type LIKE 'domain.%';
