-- Which process holds a pending outbox item, and until when (issue 15: several
-- processes on one PostgreSQL). A process claims the items it is about to send;
-- another takes an item over only once the claim's lease has run out (its holder
-- died), and only the holder can record how the send went.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until REAL;
