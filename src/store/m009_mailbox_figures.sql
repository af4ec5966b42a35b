-- Version 9 (issue 17): reports and metrics show the mailbox.

-- 1. Reports. `report_rows` (migration 5) carries the mailbox a ticket
-- came through (`tickets.mailbox`, raw: NULL as there), so that a year's
-- report still reads one range of this table and nothing else. The two
-- triggers that copy a ticket's own columns are made again with it (the
-- insert one lists its values by position); the facts' triggers do not
-- touch it. Back-filled from the tickets.
DROP TRIGGER IF EXISTS report_rows_ticket_insert;
DROP TRIGGER IF EXISTS report_rows_ticket_update;
ALTER TABLE report_rows ADD COLUMN mailbox TEXT;
UPDATE report_rows SET mailbox = t.mailbox
  FROM tickets t
 WHERE t.id = report_rows.ticket_id AND t.mailbox IS NOT NULL;

CREATE TRIGGER IF NOT EXISTS report_rows_ticket_insert AFTER INSERT ON tickets BEGIN
    INSERT OR REPLACE INTO report_rows
    SELECT CAST(round((julianday(NEW.created_at) - 2440587.5) * 86400000.0) AS INTEGER), NEW.id, NEW.status, NEW.kind, NEW.priority, NEW.line,
           NEW.channel, NEW.organization, CAST(round((julianday(NEW.deadline) - 2440587.5) * 86400000.0) AS INTEGER),
           CAST(round((julianday(f.first_response_at) - 2440587.5) * 86400000.0) AS INTEGER), f.first_response_secs,
           CAST(round((julianday(f.solution_proposed_at) - 2440587.5) * 86400000.0) AS INTEGER), f.solution_secs,
           CAST(round((julianday(f.confirmed_at) - 2440587.5) * 86400000.0) AS INTEGER), CAST(round((julianday(f.deadline_breached_at) - 2440587.5) * 86400000.0) AS INTEGER),
           NEW.mailbox
      FROM (SELECT 1) LEFT JOIN ticket_facts f ON f.ticket_id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS report_rows_ticket_update AFTER UPDATE ON tickets BEGIN
    UPDATE report_rows SET
        created_ms = CAST(round((julianday(NEW.created_at) - 2440587.5) * 86400000.0) AS INTEGER), ticket_id = NEW.id, status = NEW.status,
        kind = NEW.kind, priority = NEW.priority, line = NEW.line, channel = NEW.channel,
        organization = NEW.organization, deadline_ms = CAST(round((julianday(NEW.deadline) - 2440587.5) * 86400000.0) AS INTEGER),
        mailbox = NEW.mailbox
     WHERE ticket_id = OLD.id;
END;

-- 2. Metrics. The mailbox a letter came through (its config name; NULL
-- for `ticketd ingest`, the web form, a phone call, and letters from
-- before this version, which `/metrics` counts under `main` as
-- `tickets list` shows such tickets), counted by outcome and mailbox
-- from one index.
ALTER TABLE letters ADD COLUMN mailbox TEXT;
DROP INDEX IF EXISTS letters_outcome;
CREATE INDEX IF NOT EXISTS letters_outcome_mailbox ON letters(outcome, mailbox);
