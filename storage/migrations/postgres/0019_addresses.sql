-- PostgreSQL's twin of ../0019_addresses.sql: the same schema change without the
-- rewrite of existing rows, whose SQLite JSON functions PostgreSQL does not have.
-- A PostgreSQL database is created empty at the current schema (support began at
-- 0031), so 0019 never meets rows there.

-- A channel's own message, and what in the domain it shows: a draft's card, a
-- report's alert (for one assignment of it: `generation` is the report's
-- assigned_at then), a prompt for a note, a group's question relayed to a
-- resident. A reply to, or a button under, that message finds its subject here.
CREATE TABLE message_refs (
    channel     TEXT    NOT NULL,
    chat        TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,   -- card | alert | prompt | relay
    subject_id  BIGINT NOT NULL,   -- the draft, report, prompt or report
    generation  DOUBLE PRECISION,
    at          DOUBLE PRECISION    NOT NULL,
    PRIMARY KEY (channel, chat, message_id)
);
CREATE INDEX message_refs_subject ON message_refs (subject, subject_id, at);

ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE outbox ADD COLUMN recipient TEXT NOT NULL DEFAULT '';

DROP INDEX reports_alert;
DROP INDEX note_prompts_message;
DROP TABLE relays;
ALTER TABLE drafts DROP COLUMN chat_id;
ALTER TABLE drafts DROP COLUMN card_message_id;
ALTER TABLE reports DROP COLUMN chat_id;
ALTER TABLE reports DROP COLUMN alert_chat_id;
ALTER TABLE reports DROP COLUMN alert_message_id;
ALTER TABLE note_prompts DROP COLUMN chat_id;
ALTER TABLE note_prompts DROP COLUMN message_id;
ALTER TABLE followers DROP COLUMN chat_id;
ALTER TABLE quiz_rounds DROP COLUMN chat_id;
ALTER TABLE quiz_subscribers DROP COLUMN chat_id;
ALTER TABLE push_recipients DROP COLUMN chat_id;

CREATE INDEX outbox_channel_due ON outbox (channel, status, next_attempt_at);
