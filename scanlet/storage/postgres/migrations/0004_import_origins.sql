-- Which code an import made of each item of a source (`shlink:host/domain/code`, ...), written
-- in the transaction that creates the code: a second run of the same import finds its own
-- codes here (and skips them) instead of taking them for slug clashes, and a renamed code
-- keeps its new name across runs.
CREATE TABLE import_origins (
    origin TEXT PRIMARY KEY,
    slug   TEXT NOT NULL
);
