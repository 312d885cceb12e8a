-- The survey made defensible (issue 13): each resident's profile, asked once and
-- changeable (community: an area key, '_out' outside the district, '_na' not said;
-- age band under_18 | 18_65 | over_65; lived here six months or more 1 / 0), and
-- each answer keeps the profile as it was when given, so a later change does not
-- move past rounds. Answers also get the volunteer indicator (same five answers)
-- and, after 不太支持 or 不支持, the optional reason (a choice and a free text).
CREATE TABLE survey_profiles (
    resident_id INTEGER PRIMARY KEY,
    community   TEXT,
    age         TEXT,
    lived       INTEGER,
    at          REAL    NOT NULL
);
ALTER TABLE survey_answers ADD COLUMN volunteer TEXT;
ALTER TABLE survey_answers ADD COLUMN reason TEXT;
ALTER TABLE survey_answers ADD COLUMN reason_text TEXT;
ALTER TABLE survey_answers ADD COLUMN community TEXT;
ALTER TABLE survey_answers ADD COLUMN age TEXT;
ALTER TABLE survey_answers ADD COLUMN lived INTEGER;
