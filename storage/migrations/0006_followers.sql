-- Residents who follow an existing case instead of filing the same problem
-- again ("me too"): they hear of every step, and the group sees how many care.
CREATE TABLE followers (
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    resident_id INTEGER NOT NULL,
    chat_id     INTEGER NOT NULL,
    at          REAL    NOT NULL,
    PRIMARY KEY (report_id, resident_id)
);
CREATE INDEX reports_nearby ON reports (category, status, latitude);
