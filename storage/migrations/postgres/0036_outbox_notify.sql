-- A commit that queues outbox items wakes every process's couriers: each LISTENs on
-- civic_outbox (storage/postgres.py, PgListener). One notification per statement, and
-- PostgreSQL folds a transaction's identical ones into one, delivered at its commit.
CREATE FUNCTION civic_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('civic_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_queued AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION civic_outbox_notify();
