-- 身边好人: good deeds residents recommend, which 宣传教育组 selects (or not) for the
-- week's list. A resident has at most one open nomination (being composed) at a time.
CREATE TABLE nominations (
    id               INTEGER PRIMARY KEY,
    resident_id      INTEGER NOT NULL,
    text             TEXT    NOT NULL DEFAULT '',   -- what happened, in the resident's words
    address          TEXT,
    latitude         REAL,
    longitude        REAL,
    photos           TEXT    NOT NULL DEFAULT '[]', -- as drafts keep them (file ids, "media:<id>")
    media_group_id   TEXT,
    occurred         TEXT    NOT NULL,              -- when, free text (the date it was sent)
    may_name         INTEGER,                       -- NULL unknown, 0 no, 1 yes
    status           TEXT    NOT NULL DEFAULT 'open', -- open | submitted | selected | declined | cancelled
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL,
    submitted_at     REAL,
    decided_at       REAL,
    decided_by       INTEGER,                       -- staff id
    decided_by_name  TEXT
);
CREATE UNIQUE INDEX nominations_one_open ON nominations (resident_id) WHERE status = 'open';
CREATE INDEX nominations_decided ON nominations (status, decided_at);
