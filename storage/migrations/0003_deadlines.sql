-- Deadlines run from when a case reached its current group (filed, 转派 or
-- reopened); each reminder and escalation is written down once per such
-- assignment, so none is sent twice, across restarts.
ALTER TABLE reports ADD COLUMN assigned_at REAL;
UPDATE reports SET assigned_at = created_at;
CREATE INDEX reports_open ON reports (status, assigned_at);

CREATE TABLE deadline_notices (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    assigned_at REAL    NOT NULL,
    kind        TEXT    NOT NULL,   -- accept | resolve
    level       TEXT    NOT NULL,   -- remind | escalate
    late        REAL    NOT NULL,   -- seconds past the deadline when noticed
    at          REAL    NOT NULL,
    UNIQUE (report_id, assigned_at, kind, level)
);
