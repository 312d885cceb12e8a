-- A push (today's quiz to every subscriber) is a run with one row per
-- recipient, so a restart resumes it, nobody gets it twice, nobody is skipped.
CREATE TABLE push_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    day         TEXT    NOT NULL,       -- local date: one run of a kind a day
    created_at  REAL    NOT NULL,
    UNIQUE (kind, day)
);
CREATE TABLE push_recipients (
    run_id      INTEGER NOT NULL REFERENCES push_runs (id),
    resident_id INTEGER NOT NULL,
    chat_id     INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',   -- pending | sent | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     REAL    NOT NULL,
    sent_at     REAL,
    error       TEXT,
    PRIMARY KEY (run_id, resident_id)
);
CREATE INDEX push_recipients_due ON push_recipients (status, next_at);
