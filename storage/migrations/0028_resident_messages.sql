-- What residents send that opens no report draft (a question, praise, chit-chat, spam,
-- or a report the bot was unsure of and asked about first):
-- kept with the intent it was taken for, so nothing a resident wrote is lost, an unsure
-- one can still become a report when the resident asks ("要反映这个问题吗？"), and spam
-- can be counted per account.
CREATE TABLE resident_messages (
    id          INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    intent      TEXT    NOT NULL,   -- question | praise | chitchat | spam | report (unsure)
    confidence  REAL    NOT NULL,
    unsure      INTEGER NOT NULL DEFAULT 0,
    draft_id    INTEGER,            -- the report draft it became, when the resident asked
    created_at  REAL    NOT NULL
);
CREATE INDEX resident_messages_by_resident ON resident_messages (resident_id, intent, created_at);
CREATE INDEX resident_messages_by_time ON resident_messages (created_at);
