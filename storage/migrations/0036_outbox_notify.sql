-- On PostgreSQL (migrations/postgres/0036_outbox_notify.sql) a commit that queues
-- outbox items notifies every process's couriers. SQLite has one process, whose
-- couriers are woken in memory: nothing to do here.
SELECT 1;
