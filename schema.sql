-- ticketd schema, version 1. Applied by the binary on start (embedded);
-- PRAGMA user_version records the version, later versions add migrations.

-- Every letter ticketd has taken in, with its raw bytes and what it caused.
-- `identity` is SHA-256 over the Message-ID and the letter's content (trace
-- headers such as Received/Delivered-To stripped): the exactly-once key.
CREATE TABLE IF NOT EXISTS letters (
    id          INTEGER PRIMARY KEY,
    identity    TEXT NOT NULL UNIQUE,
    message_id  TEXT,
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('created','updated','ignored','quarantined')),
    ticket_id   TEXT,
    reason      TEXT,
    sender      TEXT,
    raw         BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS letters_message_id ON letters(message_id);
CREATE INDEX IF NOT EXISTS letters_ticket ON letters(ticket_id);

-- Per-year sequence of ticket numbers. A number is never reused.
CREATE TABLE IF NOT EXISTS ticket_seq (
    prefix TEXT NOT NULL,
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE IF NOT EXISTS tickets (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    priority     TEXT NOT NULL,
    line         INTEGER NOT NULL DEFAULT 1,
    assignee     TEXT,
    requester    TEXT NOT NULL,
    reply_to     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    organization TEXT,
    full_name    TEXT,
    location     TEXT,
    room         TEXT,
    floor        TEXT,
    phone        TEXT,
    phone_ext    TEXT,
    description  TEXT,
    note         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deadline     TEXT,
    -- the deadline for which the ticket was last escalated (once per deadline)
    escalated_for TEXT
);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status);
CREATE INDEX IF NOT EXISTS tickets_requester ON tickets(requester);
CREATE INDEX IF NOT EXISTS tickets_deadline ON tickets(deadline);

-- Message-IDs of letters in and out that belong to a ticket (threading by
-- In-Reply-To / References).
CREATE TABLE IF NOT EXISTS ticket_messages (
    message_id TEXT PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets(id)
);

-- Attachments kept; the bytes live in attachments.dir, named by sha256.
CREATE TABLE IF NOT EXISTS attachments (
    id           INTEGER PRIMARY KEY,
    ticket_id    TEXT NOT NULL REFERENCES tickets(id),
    letter_id    INTEGER NOT NULL REFERENCES letters(id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_ticket ON attachments(ticket_id);

CREATE TABLE IF NOT EXISTS rejected_attachments (
    id        INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    letter_id INTEGER NOT NULL REFERENCES letters(id),
    filename  TEXT NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_ticket ON rejected_attachments(ticket_id);

-- Everything that happened to a ticket: who, what, from which status to which.
CREATE TABLE IF NOT EXISTS history (
    id        INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    detail    TEXT,
    letter_id INTEGER REFERENCES letters(id)
);
CREATE INDEX IF NOT EXISTS history_ticket ON history(ticket_id);

-- Outgoing letters, composed when the change that caused them is committed.
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    ticket_id    TEXT,
    kind         TEXT NOT NULL,
    sender       TEXT NOT NULL,
    recipients   TEXT NOT NULL,          -- JSON array of addresses
    raw          BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    next_attempt TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
    last_error   TEXT,
    sent_at      TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt);
-- The daily limit of automatic letters counts a ticket's rows for every
-- automatic letter: without it, a scan of the whole outbox per letter.
CREATE INDEX IF NOT EXISTS outbox_ticket ON outbox(ticket_id);

-- Letters that could not become tickets, kept whole for an admin.
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    letter_id   INTEGER REFERENCES letters(id),
    message_id  TEXT,
    reason      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    released_at TEXT
);

-- Small daemon state: IMAP UIDVALIDITY/UID, time of the last sync, ...
CREATE TABLE IF NOT EXISTS state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
