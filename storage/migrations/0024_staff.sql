-- Staff are our own ids over (channel, external id), as residents are: a member of a
-- working group may act from Telegram or from WeCom, and the history names them the
-- same way. Until now every actor was a Telegram user id.
CREATE TABLE staff (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    created_at  REAL    NOT NULL,
    UNIQUE (channel, external_id)
);

INSERT INTO staff (channel, external_id, name, created_at)
SELECT 'telegram', CAST(actor_id AS TEXT), MAX(name), MIN(at) FROM (
    SELECT actor_id, COALESCE(actor_name, '') AS name, at FROM report_events
        WHERE actor_id IS NOT NULL
    UNION ALL SELECT actor_id, '', created_at FROM note_prompts WHERE action != 'reopen'
    UNION ALL SELECT bound_by, '', bound_at FROM group_bindings WHERE bound_by IS NOT NULL
) AS named
GROUP BY actor_id
ORDER BY MIN(at), actor_id;

UPDATE report_events SET actor_id = (SELECT s.id FROM staff s WHERE s.channel = 'telegram'
    AND s.external_id = CAST(report_events.actor_id AS TEXT))
WHERE actor_id IS NOT NULL;
UPDATE group_bindings SET bound_by = (SELECT s.id FROM staff s WHERE s.channel = 'telegram'
    AND s.external_id = CAST(group_bindings.bound_by AS TEXT))
WHERE bound_by IS NOT NULL;

-- A prompt for a note was asked of a member (办结, 退回, 转派, 重复) or of a resident
-- (不满意's comment): one column each, instead of one column naming either.
ALTER TABLE note_prompts ADD COLUMN staff_id INTEGER;
ALTER TABLE note_prompts ADD COLUMN resident_id INTEGER;
UPDATE note_prompts SET resident_id = actor_id WHERE action = 'reopen';
UPDATE note_prompts SET staff_id = (SELECT s.id FROM staff s WHERE s.channel = 'telegram'
    AND s.external_id = CAST(note_prompts.actor_id AS TEXT))
WHERE action != 'reopen';
ALTER TABLE note_prompts DROP COLUMN actor_id;
