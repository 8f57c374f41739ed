-- Webhook endpoints made by a key or user limited to tags (issue #18): `owner` is the
-- account that made it (the user's id, or the key's for a key of nobody) and `tags` the
-- limit (a JSON array); the outbox follower delivers such an endpoint only the events of
-- codes carrying one of those tags. NULL `tags`: an endpoint of every code.
ALTER TABLE webhook_endpoints ADD COLUMN owner TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN tags TEXT;
