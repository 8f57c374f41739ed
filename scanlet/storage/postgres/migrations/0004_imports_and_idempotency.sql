-- Which code an import made of each item of a source (`shlink:host/domain/code`, ...), written
-- in the transaction that creates the code: a second run of the same import finds its own
-- codes here (and skips them) instead of taking them for slug clashes, and a renamed code
-- keeps its new name across runs.
CREATE TABLE import_origins (
    origin TEXT PRIMARY KEY,
    slug   TEXT NOT NULL
);

-- Answers of POST /api/v1/codes/batch by Idempotency-Key (per API key): a request sent
-- again with the same key gets the stored answer instead of creating its codes twice.
-- `status` is NULL while the first request is still being handled.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status      INTEGER,
    body        BYTEA,
    created_at  TEXT NOT NULL
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
