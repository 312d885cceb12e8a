-- Residents' questions the FAQ could not answer, for the office's /faq_gaps: what was
-- asked, by whom and on which channel, and the nearest entry with its score (so that
-- a threshold set too strict shows as near misses).
CREATE TABLE faq_gaps (
    id          INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL,
    channel     TEXT,
    text        TEXT    NOT NULL,
    asked_at    REAL    NOT NULL,
    best_score  REAL    NOT NULL,
    best_entry  TEXT
);
CREATE INDEX faq_gaps_asked ON faq_gaps (asked_at);

-- Questions answered: counts only, per entry and local day, nothing of who asked.
CREATE TABLE faq_answered (
    entry_id TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    answers  INTEGER NOT NULL,
    PRIMARY KEY (entry_id, day)
);
