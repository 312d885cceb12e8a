-- The support-rate survey: rounds, and one answer per resident per round
-- (changeable within the round).
CREATE TABLE survey_rounds (
    id          INTEGER PRIMARY KEY,
    started_at  REAL    NOT NULL
);
CREATE TABLE survey_answers (
    round_id    INTEGER NOT NULL REFERENCES survey_rounds (id),
    resident_id INTEGER NOT NULL,
    support     TEXT,      -- support | rather | rather_not | against | unaware
    aware       INTEGER,   -- knows about the campaign: 1 / 0
    at          REAL    NOT NULL,
    PRIMARY KEY (round_id, resident_id)
);
