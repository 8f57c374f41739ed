-- One row that readiness rewrites while writes are failing, to see whether they work again
-- (a full disk or a lock held by another process clears without any request writing).
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
