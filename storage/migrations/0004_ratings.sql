-- The resident's rating after 办结; 不满意 reopens the case (flagged for its group).
ALTER TABLE reports ADD COLUMN rating TEXT;           -- satisfied | basically | unsatisfied
ALTER TABLE reports ADD COLUMN rated_at REAL;
ALTER TABLE reports ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reports_resolved ON reports (status, updated_at);
