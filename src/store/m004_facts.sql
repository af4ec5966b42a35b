-- Version 4 (issue 16, reports): facts about a ticket recorded when they
-- happen, so that reports never reconstruct them from the history.

-- One row per ticket. Times as the other tables store them (RFC 3339 UTC,
-- sortable as text); `*_secs` the working time on the desk's calendar from
-- the ticket's creation, computed at the event (NULL until then, or for a
-- back-filled row until the daemon's pipeline opens with its calendar);
-- `lines` the lines the ticket has been on, a bit per line (1, 2, 4).
CREATE TABLE IF NOT EXISTS ticket_facts (
    ticket_id            TEXT PRIMARY KEY REFERENCES tickets(id),
    first_response_at    TEXT,
    first_response_secs  INTEGER,
    solution_proposed_at TEXT,
    solution_secs        INTEGER,
    confirmed_at         TEXT,
    deadline_breached_at TEXT,
    lines                INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Back-fill from what the history and the outbox already hold: the first
-- engineer's status command or letter to the user, the first proposal, the
-- latest confirmation, the first escalation (a missed deadline).
INSERT OR IGNORE INTO ticket_facts(ticket_id, first_response_at, solution_proposed_at,
                                   confirmed_at, deadline_breached_at, lines)
SELECT t.id,
       (SELECT min(x) FROM (
            SELECT h.at AS x FROM history h
             WHERE h.ticket_id = t.id AND h.action = 'command' AND h.to_status IS NOT NULL
            UNION ALL
            SELECT o.created_at FROM outbox o WHERE o.ticket_id = t.id AND o.kind = 'to_user')),
       (SELECT min(h.at) FROM history h
         WHERE h.ticket_id = t.id AND h.to_status = 'solution_proposed'),
       (SELECT max(h.at) FROM history h WHERE h.ticket_id = t.id AND h.to_status = 'confirmed'),
       (SELECT min(h.at) FROM history h WHERE h.ticket_id = t.id AND h.action = 'escalated'),
       1 << (t.line - 1)
  FROM tickets t;

-- Durations still to compute (back-filled rows): found without a scan.
CREATE INDEX IF NOT EXISTS ticket_facts_unfilled ON ticket_facts(ticket_id)
 WHERE (first_response_at IS NOT NULL AND first_response_secs IS NULL)
    OR (solution_proposed_at IS NOT NULL AND solution_secs IS NULL);

-- Reports select by the time of registration; per-engineer figures read
-- the engineers' commands of a period from this index alone.
CREATE INDEX IF NOT EXISTS tickets_created ON tickets(created_at);
CREATE INDEX IF NOT EXISTS history_commands ON history(at, actor, to_status, ticket_id)
 WHERE action = 'command';

-- The daemon's vital signs (`[metrics]`) count these every few seconds:
-- each count reads an index, not the table.
CREATE INDEX IF NOT EXISTS letters_outcome ON letters(outcome);
CREATE INDEX IF NOT EXISTS tickets_status_line ON tickets(status, line);
CREATE INDEX IF NOT EXISTS history_escalated ON history(ticket_id) WHERE action = 'escalated';
-- The backlog at a moment: registered before it, less confirmed before it.
CREATE INDEX IF NOT EXISTS ticket_facts_confirmed ON ticket_facts(confirmed_at)
 WHERE confirmed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS ticket_facts_breached ON ticket_facts(ticket_id)
 WHERE deadline_breached_at IS NOT NULL;
