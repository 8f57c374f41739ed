-- Logos of codes (issue #16). `codes.logo` is the content hash (BLAKE2b-128, hex) of the
-- code's logo, NULL: none; it is what the codes context and its events know. The bytes live
-- apart, one row per code, so the catalogue stays small to load and the event log never
-- holds images. Both are written in the transaction that appends the `code.updated` event.
ALTER TABLE codes ADD COLUMN logo TEXT;

CREATE TABLE code_logos (
    slug       TEXT COLLATE "C" PRIMARY KEY REFERENCES codes (slug),
    digest     TEXT NOT NULL,
    media_type TEXT NOT NULL,
    data       BYTEA NOT NULL
);
