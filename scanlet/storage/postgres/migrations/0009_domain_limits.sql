-- Keys, users and webhook endpoints limited to domains (issue #15), beside their tag limits.
-- Keys' and users' `domains` are JSON arrays of hosts (the default domain by its host): empty
-- means every domain. An endpoint's `domains` is its maker's limit as it acts, the default
-- domain written "" (its codes' keys have no host part); NULL: codes of every domain.
ALTER TABLE api_keys ADD COLUMN domains TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN domains TEXT NOT NULL DEFAULT '[]';
ALTER TABLE webhook_endpoints ADD COLUMN domains TEXT;
