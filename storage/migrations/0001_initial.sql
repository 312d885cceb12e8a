-- Reports, their drafts and history, group chat bindings and the outbox.
-- Times are unix seconds (UTC).

CREATE TABLE drafts (
    id              INTEGER PRIMARY KEY,
    resident_id     INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    text            TEXT    NOT NULL DEFAULT '',
    category        TEXT    NOT NULL,
    confidence      REAL    NOT NULL DEFAULT 0,
    keywords        TEXT    NOT NULL DEFAULT '[]',
    photos          TEXT    NOT NULL DEFAULT '[]',
    latitude        REAL,
    longitude       REAL,
    address         TEXT,
    media_group_id  TEXT,
    card_message_id INTEGER,
    status          TEXT    NOT NULL DEFAULT 'open',   -- open | submitted | cancelled
    report_id       INTEGER,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
);
CREATE INDEX drafts_resident_open ON drafts (resident_id, status, updated_at);

CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    ticket          TEXT    NOT NULL UNIQUE,
    resident_id     INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    text            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    group_key       TEXT    NOT NULL,
    confidence      REAL    NOT NULL DEFAULT 0,
    photos          TEXT    NOT NULL DEFAULT '[]',
    latitude        REAL,
    longitude       REAL,
    address         TEXT,
    status          TEXT    NOT NULL,                  -- submitted | accepted | resolved
    note            TEXT,
    alert_chat_id   INTEGER,
    alert_message_id INTEGER,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
);
CREATE INDEX reports_resident ON reports (resident_id, created_at);
CREATE INDEX reports_group_status ON reports (group_key, status);

CREATE TABLE report_events (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    action      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT,
    note        TEXT,
    at          REAL    NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, id);

CREATE TABLE group_bindings (
    group_key   TEXT    PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    bound_by    INTEGER,
    bound_at    REAL    NOT NULL
);

-- Everything the bot must still send. `target` orders delivery: items for
-- one target go out oldest first, so a resident never hears "resolved"
-- before "accepted".
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    report_id       INTEGER,
    payload         TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    step            INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    last_error      TEXT,
    created_at      REAL    NOT NULL,
    sent_at         REAL
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at);
CREATE INDEX outbox_target ON outbox (target, status, id);
