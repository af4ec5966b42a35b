-- Version 9 (issue 17): reports and metrics show the mailbox; the
-- PostgreSQL twin of src/store/m009_mailbox_figures.sql.

-- 1. Reports: `report_rows` carries `tickets.mailbox` (raw, NULL as
-- there), kept by the ticket triggers, back-filled.
ALTER TABLE report_rows ADD COLUMN mailbox TEXT;
UPDATE report_rows r SET mailbox = t.mailbox
  FROM tickets t
 WHERE t.id = r.ticket_id AND t.mailbox IS NOT NULL;

CREATE OR REPLACE FUNCTION report_rows_ticket_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_rows
    SELECT ticketd_ms(NEW.created_at), NEW.id, NEW.status, NEW.kind, NEW.priority, NEW.line,
           NEW.channel, NEW.organization, ticketd_ms(NEW.deadline),
           ticketd_ms(f.first_response_at), f.first_response_secs,
           ticketd_ms(f.solution_proposed_at), f.solution_secs,
           ticketd_ms(f.confirmed_at), ticketd_ms(f.deadline_breached_at), NEW.mailbox
      FROM (SELECT 1) AS one LEFT JOIN ticket_facts f ON f.ticket_id = NEW.id
    ON CONFLICT (ticket_id) DO UPDATE SET
        created_ms = EXCLUDED.created_ms, status = EXCLUDED.status, kind = EXCLUDED.kind,
        priority = EXCLUDED.priority, line = EXCLUDED.line, channel = EXCLUDED.channel,
        organization = EXCLUDED.organization, deadline_ms = EXCLUDED.deadline_ms,
        first_response_ms = EXCLUDED.first_response_ms,
        first_response_secs = EXCLUDED.first_response_secs,
        solution_proposed_ms = EXCLUDED.solution_proposed_ms,
        solution_secs = EXCLUDED.solution_secs, confirmed_ms = EXCLUDED.confirmed_ms,
        deadline_breached_ms = EXCLUDED.deadline_breached_ms, mailbox = EXCLUDED.mailbox;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION report_rows_ticket_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE report_rows SET
        created_ms = ticketd_ms(NEW.created_at), ticket_id = NEW.id, status = NEW.status,
        kind = NEW.kind, priority = NEW.priority, line = NEW.line, channel = NEW.channel,
        organization = NEW.organization, deadline_ms = ticketd_ms(NEW.deadline),
        mailbox = NEW.mailbox
     WHERE ticket_id = OLD.id;
    RETURN NULL;
END $$;

-- 2. Metrics: the mailbox a letter came through (NULL: none recorded).
ALTER TABLE letters ADD COLUMN mailbox TEXT;
DROP INDEX IF EXISTS letters_outcome;
CREATE INDEX IF NOT EXISTS letters_outcome_mailbox ON letters(outcome, mailbox);
