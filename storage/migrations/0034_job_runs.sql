-- A timed job's run for one period (a day's digests, a week's report, the round after
-- another), claimed in the transaction of its effect: a job that runs twice (on two
-- processes, leadership changing mid-job) finds the period taken and does nothing.
CREATE TABLE job_runs (
    job     TEXT    NOT NULL,
    period  TEXT    NOT NULL,
    ran_at  REAL    NOT NULL,
    PRIMARY KEY (job, period)
);
