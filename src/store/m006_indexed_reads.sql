-- Version 5 (issue 16): reads that must stay fast on a million tickets.

-- 1. Reports. One narrow row per ticket with what the report's figures
-- need, times as integer milliseconds since 1970 (UTC), stored in order of
-- registration: a year's report is one sequential range of this table, no
-- join and no wide ticket rows, no text times to parse. Kept by triggers
-- from `tickets` and `ticket_facts` (the store's only writes of what it
-- copies), so it is right whatever writes them; back-filled below.
CREATE TABLE IF NOT EXISTS report_rows (
    created_ms           INTEGER NOT NULL,
    ticket_id            TEXT NOT NULL,
    status               TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    priority             TEXT NOT NULL,
    line                 INTEGER NOT NULL,
    channel              TEXT NOT NULL,
    organization         TEXT,
    deadline_ms          INTEGER,
    first_response_ms    INTEGER,
    first_response_secs  INTEGER,
    solution_proposed_ms INTEGER,
    solution_secs        INTEGER,
    confirmed_ms         INTEGER,
    deadline_breached_ms INTEGER,
    PRIMARY KEY (created_ms, ticket_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS report_rows_ticket ON report_rows(ticket_id);

-- A stored time (RFC 3339) as milliseconds: CAST(round((julianday(x) - 2440587.5) * 86400000.0) AS INTEGER)
-- (SQLite keeps times as whole milliseconds; NULL stays NULL).

INSERT OR REPLACE INTO report_rows
SELECT CAST(round((julianday(t.created_at) - 2440587.5) * 86400000.0) AS INTEGER), t.id, t.status, t.kind, t.priority, t.line, t.channel,
       t.organization, CAST(round((julianday(t.deadline) - 2440587.5) * 86400000.0) AS INTEGER),
       CAST(round((julianday(f.first_response_at) - 2440587.5) * 86400000.0) AS INTEGER), f.first_response_secs,
       CAST(round((julianday(f.solution_proposed_at) - 2440587.5) * 86400000.0) AS INTEGER), f.solution_secs,
       CAST(round((julianday(f.confirmed_at) - 2440587.5) * 86400000.0) AS INTEGER), CAST(round((julianday(f.deadline_breached_at) - 2440587.5) * 86400000.0) AS INTEGER)
  FROM tickets t LEFT JOIN ticket_facts f ON f.ticket_id = t.id;

CREATE TRIGGER IF NOT EXISTS report_rows_ticket_insert AFTER INSERT ON tickets BEGIN
    INSERT OR REPLACE INTO report_rows
    SELECT CAST(round((julianday(NEW.created_at) - 2440587.5) * 86400000.0) AS INTEGER), NEW.id, NEW.status, NEW.kind, NEW.priority, NEW.line,
           NEW.channel, NEW.organization, CAST(round((julianday(NEW.deadline) - 2440587.5) * 86400000.0) AS INTEGER),
           CAST(round((julianday(f.first_response_at) - 2440587.5) * 86400000.0) AS INTEGER), f.first_response_secs,
           CAST(round((julianday(f.solution_proposed_at) - 2440587.5) * 86400000.0) AS INTEGER), f.solution_secs,
           CAST(round((julianday(f.confirmed_at) - 2440587.5) * 86400000.0) AS INTEGER), CAST(round((julianday(f.deadline_breached_at) - 2440587.5) * 86400000.0) AS INTEGER)
      FROM (SELECT 1) LEFT JOIN ticket_facts f ON f.ticket_id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS report_rows_ticket_update AFTER UPDATE ON tickets BEGIN
    UPDATE report_rows SET
        created_ms = CAST(round((julianday(NEW.created_at) - 2440587.5) * 86400000.0) AS INTEGER), ticket_id = NEW.id, status = NEW.status,
        kind = NEW.kind, priority = NEW.priority, line = NEW.line, channel = NEW.channel,
        organization = NEW.organization, deadline_ms = CAST(round((julianday(NEW.deadline) - 2440587.5) * 86400000.0) AS INTEGER)
     WHERE ticket_id = OLD.id;
END;

CREATE TRIGGER IF NOT EXISTS report_rows_ticket_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM report_rows WHERE ticket_id = OLD.id;
END;

CREATE TRIGGER IF NOT EXISTS report_rows_facts_insert AFTER INSERT ON ticket_facts BEGIN
    UPDATE report_rows SET
        first_response_ms = CAST(round((julianday(NEW.first_response_at) - 2440587.5) * 86400000.0) AS INTEGER),
        first_response_secs = NEW.first_response_secs,
        solution_proposed_ms = CAST(round((julianday(NEW.solution_proposed_at) - 2440587.5) * 86400000.0) AS INTEGER),
        solution_secs = NEW.solution_secs,
        confirmed_ms = CAST(round((julianday(NEW.confirmed_at) - 2440587.5) * 86400000.0) AS INTEGER),
        deadline_breached_ms = CAST(round((julianday(NEW.deadline_breached_at) - 2440587.5) * 86400000.0) AS INTEGER)
     WHERE ticket_id = NEW.ticket_id;
END;

CREATE TRIGGER IF NOT EXISTS report_rows_facts_update AFTER UPDATE OF ticket_id,
        first_response_at, first_response_secs, solution_proposed_at, solution_secs,
        confirmed_at, deadline_breached_at ON ticket_facts BEGIN
    UPDATE report_rows SET
        first_response_ms = NULL, first_response_secs = NULL, solution_proposed_ms = NULL,
        solution_secs = NULL, confirmed_ms = NULL, deadline_breached_ms = NULL
     WHERE ticket_id = OLD.ticket_id AND OLD.ticket_id <> NEW.ticket_id;
    UPDATE report_rows SET
        first_response_ms = CAST(round((julianday(NEW.first_response_at) - 2440587.5) * 86400000.0) AS INTEGER),
        first_response_secs = NEW.first_response_secs,
        solution_proposed_ms = CAST(round((julianday(NEW.solution_proposed_at) - 2440587.5) * 86400000.0) AS INTEGER),
        solution_secs = NEW.solution_secs,
        confirmed_ms = CAST(round((julianday(NEW.confirmed_at) - 2440587.5) * 86400000.0) AS INTEGER),
        deadline_breached_ms = CAST(round((julianday(NEW.deadline_breached_at) - 2440587.5) * 86400000.0) AS INTEGER)
     WHERE ticket_id = NEW.ticket_id;
END;

CREATE TRIGGER IF NOT EXISTS report_rows_facts_delete AFTER DELETE ON ticket_facts BEGIN
    UPDATE report_rows SET
        first_response_ms = NULL, first_response_secs = NULL, solution_proposed_ms = NULL,
        solution_secs = NULL, confirmed_ms = NULL, deadline_breached_ms = NULL
     WHERE ticket_id = OLD.ticket_id;
END;

-- 2. The per-address daily limit: each outgoing
-- letter's recipients in a table of their own, so that counting the
-- letters to one address over the last day reads an index, not every
-- outbox row of the day (each carries its raw letter) through json_each.

-- One row per recipient of an outbox row: the address lower-cased by
-- SQLite's `lower()` (as the limit always compared), the row's time.
CREATE TABLE IF NOT EXISTS outbox_recipients (
    outbox_id  INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_recipients_address
    ON outbox_recipients(address, created_at);
CREATE INDEX IF NOT EXISTS outbox_recipients_outbox ON outbox_recipients(outbox_id);

-- Back-fill from the letters already queued or sent.
INSERT INTO outbox_recipients(outbox_id, address, created_at)
SELECT o.id, lower(r.value), o.created_at
  FROM outbox o, json_each(o.recipients) AS r
 WHERE NOT EXISTS (SELECT 1 FROM outbox_recipients x WHERE x.outbox_id = o.id);
