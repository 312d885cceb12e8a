-- A resident is (channel, external id) mapped to our own id: every table that
-- names a resident holds that id, never a channel's own (Telegram's user id).
CREATE TABLE residents (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    UNIQUE (channel, external_id)
);

-- Until now every resident_id was a Telegram user id: one resident each.
INSERT INTO residents (channel, external_id, created_at)
SELECT 'telegram', CAST(resident_id AS TEXT), MIN(at) FROM (
    SELECT resident_id, created_at AS at FROM drafts
    UNION ALL SELECT resident_id, created_at FROM reports
    UNION ALL SELECT resident_id, at FROM followers
    UNION ALL SELECT resident_id, started_at FROM quiz_rounds
    UNION ALL SELECT resident_id, at FROM quiz_answers
    UNION ALL SELECT resident_id, 0 FROM quiz_players
    UNION ALL SELECT resident_id, changed_at FROM quiz_subscribers
    UNION ALL SELECT resident_id, next_at FROM push_recipients
    UNION ALL SELECT resident_id, at FROM survey_answers
) AS named
GROUP BY resident_id
ORDER BY MIN(at), resident_id;

-- Rewritten in two passes, through negative ids: a new id may equal another
-- resident's old one, and a key (quiz_players, followers ...) is checked row by
-- row, so going straight to the new ids could collide half-way. Telegram user
-- ids are positive, so the negatives are free.
UPDATE drafts SET resident_id = -(SELECT r.id FROM residents r WHERE r.channel = 'telegram'
    AND r.external_id = CAST(drafts.resident_id AS TEXT));
UPDATE reports SET resident_id = -(SELECT r.id FROM residents r WHERE r.channel = 'telegram'
    AND r.external_id = CAST(reports.resident_id AS TEXT));
UPDATE followers SET resident_id = -(SELECT r.id FROM residents r WHERE r.channel = 'telegram'
    AND r.external_id = CAST(followers.resident_id AS TEXT));
UPDATE quiz_rounds SET resident_id = -(SELECT r.id FROM residents r WHERE r.channel = 'telegram'
    AND r.external_id = CAST(quiz_rounds.resident_id AS TEXT));
UPDATE quiz_answers SET resident_id = -(SELECT r.id FROM residents r WHERE r.channel = 'telegram'
    AND r.external_id = CAST(quiz_answers.resident_id AS TEXT));
UPDATE quiz_players SET resident_id = -(SELECT r.id FROM residents r WHERE r.channel = 'telegram'
    AND r.external_id = CAST(quiz_players.resident_id AS TEXT));
UPDATE quiz_subscribers SET resident_id = -(SELECT r.id FROM residents r
    WHERE r.channel = 'telegram'
    AND r.external_id = CAST(quiz_subscribers.resident_id AS TEXT));
UPDATE push_recipients SET resident_id = -(SELECT r.id FROM residents r
    WHERE r.channel = 'telegram'
    AND r.external_id = CAST(push_recipients.resident_id AS TEXT));
UPDATE survey_answers SET resident_id = -(SELECT r.id FROM residents r
    WHERE r.channel = 'telegram'
    AND r.external_id = CAST(survey_answers.resident_id AS TEXT));

UPDATE drafts SET resident_id = -resident_id;
UPDATE reports SET resident_id = -resident_id;
UPDATE followers SET resident_id = -resident_id;
UPDATE quiz_rounds SET resident_id = -resident_id;
UPDATE quiz_answers SET resident_id = -resident_id;
UPDATE quiz_players SET resident_id = -resident_id;
UPDATE quiz_subscribers SET resident_id = -resident_id;
UPDATE push_recipients SET resident_id = -resident_id;
UPDATE survey_answers SET resident_id = -resident_id;
