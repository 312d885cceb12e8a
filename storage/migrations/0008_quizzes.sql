-- Quiz rounds a resident plays (native quiz polls), and every answer, for
-- scores, streaks, leaderboards and "not the same question within 30 days".
CREATE TABLE quiz_rounds (
    id           INTEGER PRIMARY KEY,
    resident_id  INTEGER NOT NULL,
    chat_id      INTEGER NOT NULL,
    topic        TEXT,
    questions    TEXT    NOT NULL,              -- JSON list of question ids
    position     INTEGER NOT NULL DEFAULT 0,    -- questions sent so far
    status       TEXT    NOT NULL DEFAULT 'open', -- open | finished
    started_at   REAL    NOT NULL,
    finished_at  REAL
);
CREATE INDEX quiz_rounds_resident ON quiz_rounds (resident_id, status);

CREATE TABLE quiz_polls (
    poll_id      TEXT    PRIMARY KEY,
    round_id     INTEGER NOT NULL REFERENCES quiz_rounds (id),
    question_id  TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    sent_at      REAL    NOT NULL,
    answered_at  REAL,
    correct      INTEGER
);
CREATE INDEX quiz_polls_round ON quiz_polls (round_id, position);

CREATE TABLE quiz_answers (
    id           INTEGER PRIMARY KEY,
    resident_id  INTEGER NOT NULL,
    question_id  TEXT    NOT NULL,
    topic        TEXT    NOT NULL,
    correct      INTEGER NOT NULL,
    points       INTEGER NOT NULL,
    at           REAL    NOT NULL
);
CREATE INDEX quiz_answers_resident ON quiz_answers (resident_id, at);
