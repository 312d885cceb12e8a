-- Every update a process takes in, recorded before it is acknowledged (issue 15:
-- several processes behind one URL). A sender's updates are handled one at a time in
-- the order they were recorded, whichever process took each; an update a dead
-- process had taken but not handled is taken over by another. `key` is the
-- platform's own id for the update, so a redelivery is recognised and dropped.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    sender TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    holder TEXT NOT NULL,
    done_at REAL,
    UNIQUE (channel, key)
);
CREATE INDEX inbox_waiting ON inbox (sender, id) WHERE done_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;

-- The processes serving the database and until when each is known alive: each
-- renews its row on a beat. Another process's updates and outbox claims are taken
-- over once its row has expired (it died: a SIGKILL leaves no time to say so).
CREATE TABLE processes (
    name TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    alive_until REAL NOT NULL
);
