-- Every message the bot sends is addressed to (channel, recipient), and what a
-- channel remembers of its own messages lives in rows that channel owns: the
-- domain's tables name residents, drafts, reports and prompts, never a
-- Telegram chat or message id.

-- A channel's own message, and what in the domain it shows: a draft's card, a
-- report's alert (for one assignment of it: `generation` is the report's
-- assigned_at then), a prompt for a note, a group's question relayed to a
-- resident. A reply to, or a button under, that message finds its subject here.
CREATE TABLE message_refs (
    channel     TEXT    NOT NULL,
    chat        TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,   -- card | alert | prompt | relay
    subject_id  INTEGER NOT NULL,   -- the draft, report, prompt or report
    generation  REAL,
    at          REAL    NOT NULL,
    PRIMARY KEY (channel, chat, message_id)
);
CREATE INDEX message_refs_subject ON message_refs (subject, subject_id, at);

INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, at)
SELECT 'telegram', CAST(chat_id AS TEXT), CAST(card_message_id AS TEXT), 'card', id, updated_at
FROM drafts WHERE card_message_id IS NOT NULL
ON CONFLICT DO NOTHING;

INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, generation, at)
SELECT 'telegram', CAST(alert_chat_id AS TEXT), CAST(alert_message_id AS TEXT), 'alert', id,
    assigned_at, assigned_at
FROM reports WHERE alert_message_id IS NOT NULL
ON CONFLICT DO NOTHING;

INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, at)
SELECT 'telegram', CAST(chat_id AS TEXT), CAST(message_id AS TEXT), 'prompt', id, created_at
FROM note_prompts WHERE true
ON CONFLICT DO NOTHING;

INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, at)
SELECT 'telegram', CAST(chat_id AS TEXT), CAST(message_id AS TEXT), 'relay', report_id, at
FROM relays WHERE true
ON CONFLICT DO NOTHING;

-- An edit still waiting for an alert of an earlier assignment (the old group's,
-- after a 转派): that alert is known only from the edit's payload. It becomes a
-- ref of its own generation (the negative outbox id: no assignment has it).
INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, generation, at)
SELECT 'telegram', CAST(json_extract(payload, '$.chat_id') AS TEXT),
    CAST(json_extract(payload, '$.message_id') AS TEXT), 'alert', report_id, -id, created_at
FROM outbox
WHERE kind = 'edit_alert' AND status = 'pending'
    AND json_extract(payload, '$.message_id') IS NOT NULL
ON CONFLICT DO NOTHING;
UPDATE outbox SET payload = json_remove(json_set(payload, '$.generation',
    (SELECT m.generation FROM message_refs m WHERE m.channel = 'telegram'
        AND m.chat = CAST(json_extract(outbox.payload, '$.chat_id') AS TEXT)
        AND m.message_id = CAST(json_extract(outbox.payload, '$.message_id') AS TEXT))),
    '$.chat_id', '$.message_id')
WHERE kind = 'edit_alert' AND json_extract(payload, '$.message_id') IS NOT NULL;
UPDATE outbox SET payload = json_remove(payload, '$.chat_id', '$.message_id')
WHERE kind = 'edit_alert';

-- A pending ticket receipt edits the card that was pressed: the latest of its draft's.
INSERT INTO message_refs (channel, chat, message_id, subject, subject_id, at)
SELECT 'telegram', substr(o.target, 6), CAST(json_extract(o.payload, '$.message_id') AS TEXT),
    'card', d.id, o.created_at + 1e9
FROM outbox o JOIN drafts d ON d.report_id = o.report_id
WHERE o.kind = 'ticket_receipt' AND o.status = 'pending'
    AND json_extract(o.payload, '$.message_id') IS NOT NULL
ON CONFLICT DO UPDATE SET at = excluded.at;
UPDATE outbox SET payload = '{}' WHERE kind = 'ticket_receipt';

-- The outbox's addresses. A resident's chat (`chat:<Telegram id>`) becomes the
-- resident (`resident:<our id>`), which is also the order key of their messages;
-- a follower's notice named its chat in the payload, now its recipient does.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE outbox ADD COLUMN recipient TEXT NOT NULL DEFAULT '';

INSERT INTO residents (channel, external_id, created_at)
SELECT 'telegram', substr(target, 6), MIN(created_at) FROM outbox
WHERE target LIKE 'chat:%' GROUP BY target
ON CONFLICT DO NOTHING;
UPDATE outbox SET target = 'resident:' || (SELECT r.id FROM residents r
    WHERE r.channel = 'telegram' AND r.external_id = substr(outbox.target, 6))
WHERE target LIKE 'chat:%';
UPDATE outbox SET recipient = target WHERE target LIKE 'resident:%';
UPDATE outbox SET payload = json_remove(payload, '$.chat_id'), target = recipient
WHERE kind = 'notify_resident';
UPDATE outbox SET recipient = 'group:' || COALESCE(
    json_extract(payload, '$.group'),
    (SELECT group_key FROM reports WHERE reports.id = outbox.report_id),
    target)
WHERE recipient = '';

-- The columns that named Telegram's chats and messages.
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
