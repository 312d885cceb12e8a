-- When an open quiz question times out, kept with its poll so that a restart
-- can time it out again (the job that did it lived in memory only). Polls sent
-- before this column existed have none: their deadline is reckoned from sent_at.
ALTER TABLE quiz_polls ADD COLUMN expires_at REAL;
