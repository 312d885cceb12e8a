-- A working group's action that needs a note (办结, 退回, 转派) is completed by a
-- reply to the bot's prompt; the prompt is stored so that a reply still works
-- after a restart.
CREATE TABLE note_prompts (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    action      TEXT    NOT NULL,
    to_group    TEXT,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open',   -- open | used
    created_at  REAL    NOT NULL
);
CREATE UNIQUE INDEX note_prompts_message ON note_prompts (chat_id, message_id);

-- Which group acted, and on a 转派 the group the case went to.
ALTER TABLE report_events ADD COLUMN group_key TEXT;
ALTER TABLE report_events ADD COLUMN to_group TEXT;
UPDATE report_events SET group_key = (SELECT group_key FROM reports WHERE reports.id = report_id);
