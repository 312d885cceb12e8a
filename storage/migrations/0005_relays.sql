-- Questions a group asks a resident (a reply to the alert) and the resident's
-- answers (a reply to the question), relayed without revealing anyone.
CREATE TABLE relays (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    chat_id     INTEGER NOT NULL,     -- the resident's chat
    message_id  INTEGER NOT NULL,     -- the relayed question there
    at          REAL    NOT NULL,
    UNIQUE (chat_id, message_id)
);
CREATE INDEX reports_alert ON reports (alert_chat_id, alert_message_id);
CREATE INDEX reports_created ON reports (created_at);
