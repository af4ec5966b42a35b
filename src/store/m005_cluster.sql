-- Version 5 (issue 17, several daemons on one database): leases, the
-- daemons registry and the outbox's row claims.

-- One row per lease: `mailbox.<name>` (who reads that mailbox) or `leader`
-- (who runs the timers). `generation` grows by one at every take: a
-- letter's commit checks it (fencing), so a holder that lost the lease
-- cannot commit after another took it.
CREATE TABLE IF NOT EXISTS leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    generation INTEGER NOT NULL,
    since      TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

-- The daemons running on this database, each renewing its row with its
-- leases; a row whose `expires_at` passed is a daemon gone, and so is one
-- of this host and PID namespace (`pid_ns`) whose process no longer exists
-- (removed by the next daemon to look): a lease it held is free at once.
CREATE TABLE IF NOT EXISTS daemons (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    pid_ns     TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

-- An outbox row is sent by the daemon that claimed it, while that daemon
-- is alive and the claim has not run out.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_until TEXT;
