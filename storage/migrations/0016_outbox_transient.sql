-- Whether a pending item waits after a transient fault (a timeout, a dropped
-- connection, a 5xx): such items are retried at once when a send succeeds
-- again, instead of each waiting out its own backoff after an outage.
ALTER TABLE outbox ADD COLUMN transient INTEGER NOT NULL DEFAULT 0;
