-- When a case was first accepted and last resolved: the office's figures and
-- exports read them without walking the history.
ALTER TABLE reports ADD COLUMN accepted_at REAL;
ALTER TABLE reports ADD COLUMN resolved_at REAL;
UPDATE reports SET
    accepted_at = (SELECT MIN(at) FROM report_events e WHERE e.report_id = reports.id
                   AND e.action = 'accept'),
    resolved_at = (SELECT MAX(at) FROM report_events e WHERE e.report_id = reports.id
                   AND e.action = 'resolve');
