-- Residents who opted in to the daily quiz push.
CREATE TABLE quiz_subscribers (
    resident_id   INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    changed_at    REAL    NOT NULL
);
