-- Codes that are not links (issue #16): a Wi-Fi login, a contact card, a place... as the
-- JSON the codes context writes ({"kind", "content", "tracked"}); NULL: a url code, a link
-- to its target. Such a code's target is ''. Read when the codes index loads and by the
-- API's reads, never by the scan path.
ALTER TABLE codes ADD COLUMN content TEXT;
