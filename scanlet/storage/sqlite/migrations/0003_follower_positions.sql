-- How far each follower of the event log (read models, webhooks) has applied it. A follower
-- writes its position in the same transaction as the work it did for those events, so a
-- crash never loses or repeats an event's effect.
CREATE TABLE follower_positions (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) WITHOUT ROWID;
