-- Version 7 (issue 16): the engineers' figures of a report kept as they
-- happen, so that a year's report reads a few thousand rows instead of
-- grouping 800 000 commands and joining each proposal to its facts.
--
-- What a report counts per engineer over [from, to) (the history rows with
-- action = 'command' and `at` in the period, by actor):
--   commands — the rows;
--   closed   — the distinct tickets among the rows moving to
--              'solution_proposed' or 'confirmed' ("closing" commands);
--   the median of the solution times of the tickets whose first proposal
--   (ticket_facts.solution_proposed_at = the row's `at`) the row made.
-- Times below are integer milliseconds since 1970 (UTC), as in report_rows
-- (migration 6): CAST(round((julianday(x) - 2440587.5) * 86400000.0) AS INTEGER);
-- a day is the UTC day, ms / 86400000. History rows are only ever added
-- (no path of the store updates or deletes them), so only inserts are
-- followed there.

-- Every address that gave a command, numbered.
CREATE TABLE IF NOT EXISTS engineers (
    id      INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE
);

-- Commands and closing commands per engineer and UTC day. The report adds
-- the whole days of its period from here and counts the partial days at
-- its ends from history itself (index history_commands).
CREATE TABLE IF NOT EXISTS engineer_days (
    day      INTEGER NOT NULL,
    engineer INTEGER NOT NULL,
    commands INTEGER NOT NULL,
    closes   INTEGER NOT NULL,
    PRIMARY KEY (day, engineer)
) WITHOUT ROWID;

-- A closing command of an engineer on a ticket the same engineer had
-- closed before (an earlier closing command by (time, history id)), with
-- the time of the one just before. Distinct tickets closed in [from, to) =
-- closing commands in it − those here with at_ms in it and prev_ms >= from
-- (a ticket closed k times in the period by one engineer counts once).
CREATE TABLE IF NOT EXISTS engineer_recloses (
    at_ms      INTEGER NOT NULL,
    history_id INTEGER NOT NULL,
    engineer   INTEGER NOT NULL,
    prev_ms    INTEGER NOT NULL,
    PRIMARY KEY (at_ms, history_id)
) WITHOUT ROWID;

-- A ticket's first proposed solution with the engineer who proposed it and
-- its solution time: one row per history row (action 'command', to_status
-- 'solution_proposed') whose `at` is the ticket's solution_proposed_at,
-- once its solution_secs is known.
CREATE TABLE IF NOT EXISTS engineer_solutions (
    at_ms      INTEGER NOT NULL,
    history_id INTEGER NOT NULL,
    engineer   INTEGER NOT NULL,
    secs       INTEGER NOT NULL,
    ticket_id  TEXT NOT NULL,
    PRIMARY KEY (at_ms, history_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS engineer_solutions_ticket ON engineer_solutions(ticket_id);

-- Back-fill from the history and facts already there (from scratch, so
-- that running this file twice counts nothing twice).
DELETE FROM engineer_days;
DELETE FROM engineer_recloses;
DELETE FROM engineer_solutions;
INSERT INTO engineers(address)
SELECT DISTINCT actor FROM history WHERE action = 'command' ORDER BY actor
    ON CONFLICT(address) DO NOTHING;

INSERT INTO engineer_days(day, engineer, commands, closes)
SELECT c.ms / 86400000, e.id, count(*),
       sum(CASE WHEN c.to_status IN ('solution_proposed', 'confirmed') THEN 1 ELSE 0 END)
  FROM (SELECT CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER) AS ms,
               actor, to_status
          FROM history WHERE action = 'command') c
  JOIN engineers e ON e.address = c.actor
 GROUP BY c.ms / 86400000, e.id
    ON CONFLICT(day, engineer) DO UPDATE SET
       commands = commands + excluded.commands, closes = closes + excluded.closes;

INSERT INTO engineer_recloses(at_ms, history_id, engineer, prev_ms)
SELECT ms, id, engineer, prev_ms
  FROM (SELECT c.ms, c.id, e.id AS engineer,
               lag(c.ms) OVER (PARTITION BY c.ticket_id, c.actor ORDER BY c.ms, c.id) AS prev_ms
          FROM (SELECT CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER) AS ms,
                       id, ticket_id, actor
                  FROM history
                 WHERE action = 'command' AND to_status IN ('solution_proposed', 'confirmed')) c
          JOIN engineers e ON e.address = c.actor)
 WHERE prev_ms IS NOT NULL
    ON CONFLICT(at_ms, history_id) DO UPDATE SET prev_ms = excluded.prev_ms;

INSERT INTO engineer_solutions(at_ms, history_id, engineer, secs, ticket_id)
SELECT CAST(round((julianday(h.at) - 2440587.5) * 86400000.0) AS INTEGER), h.id, e.id,
       f.solution_secs, h.ticket_id
  FROM history h
  JOIN ticket_facts f ON f.ticket_id = h.ticket_id
  JOIN engineers e ON e.address = h.actor
 WHERE h.action = 'command' AND h.to_status = 'solution_proposed'
   AND f.solution_proposed_at = h.at AND f.solution_secs IS NOT NULL
    ON CONFLICT(at_ms, history_id) DO NOTHING;

-- A command: its engineer, its day's counts, and, when it closes a ticket
-- the engineer closed before, its reclose row; a closing command inserted
-- before a later one of the same engineer and ticket becomes that one's
-- predecessor. Its solution row, when the facts already name it.
CREATE TRIGGER IF NOT EXISTS engineer_figures_command AFTER INSERT ON history
WHEN NEW.action = 'command' BEGIN
    INSERT INTO engineers(address) VALUES (NEW.actor) ON CONFLICT(address) DO NOTHING;
    INSERT INTO engineer_days(day, engineer, commands, closes)
    SELECT CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER) / 86400000, e.id, 1,
           CASE WHEN NEW.to_status IN ('solution_proposed', 'confirmed') THEN 1 ELSE 0 END
      FROM engineers e WHERE e.address = NEW.actor
        ON CONFLICT(day, engineer) DO UPDATE SET
           commands = commands + excluded.commands, closes = closes + excluded.closes;
    INSERT INTO engineer_recloses(at_ms, history_id, engineer, prev_ms)
    SELECT CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER), NEW.id, e.id, p.ms
      FROM engineers e,
           (SELECT CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER) AS ms, id
              FROM history
             WHERE ticket_id = NEW.ticket_id AND actor = NEW.actor AND action = 'command'
               AND to_status IN ('solution_proposed', 'confirmed') AND id <> NEW.id) p
     WHERE e.address = NEW.actor AND NEW.to_status IN ('solution_proposed', 'confirmed')
       AND (p.ms < CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER)
            OR (p.ms = CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER)
                AND p.id < NEW.id))
     ORDER BY p.ms DESC, p.id DESC LIMIT 1
        ON CONFLICT(at_ms, history_id) DO UPDATE SET prev_ms = excluded.prev_ms;
    INSERT INTO engineer_recloses(at_ms, history_id, engineer, prev_ms)
    SELECT n.ms, n.id, e.id, CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER)
      FROM engineers e,
           (SELECT CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER) AS ms, id
              FROM history
             WHERE ticket_id = NEW.ticket_id AND actor = NEW.actor AND action = 'command'
               AND to_status IN ('solution_proposed', 'confirmed') AND id <> NEW.id) n
     WHERE e.address = NEW.actor AND NEW.to_status IN ('solution_proposed', 'confirmed')
       AND (n.ms > CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER)
            OR (n.ms = CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER)
                AND n.id > NEW.id))
     ORDER BY n.ms, n.id LIMIT 1
        ON CONFLICT(at_ms, history_id) DO UPDATE SET prev_ms = excluded.prev_ms;
    INSERT INTO engineer_solutions(at_ms, history_id, engineer, secs, ticket_id)
    SELECT CAST(round((julianday(NEW.at) - 2440587.5) * 86400000.0) AS INTEGER), NEW.id, e.id,
           f.solution_secs, NEW.ticket_id
      FROM ticket_facts f, engineers e
     WHERE NEW.to_status = 'solution_proposed' AND f.ticket_id = NEW.ticket_id
       AND f.solution_proposed_at = NEW.at AND f.solution_secs IS NOT NULL
       AND e.address = NEW.actor
        ON CONFLICT(at_ms, history_id) DO NOTHING;
END;

-- A ticket's facts: its solution rows are made again from its history
-- (the first proposal's time or its solution time changed).
CREATE TRIGGER IF NOT EXISTS engineer_solutions_facts_insert AFTER INSERT ON ticket_facts BEGIN
    DELETE FROM engineer_solutions WHERE ticket_id = NEW.ticket_id;
    INSERT INTO engineer_solutions(at_ms, history_id, engineer, secs, ticket_id)
    SELECT CAST(round((julianday(h.at) - 2440587.5) * 86400000.0) AS INTEGER), h.id, e.id,
           NEW.solution_secs, h.ticket_id
      FROM history h JOIN engineers e ON e.address = h.actor
     WHERE h.ticket_id = NEW.ticket_id AND h.action = 'command'
       AND h.to_status = 'solution_proposed' AND h.at = NEW.solution_proposed_at
       AND NEW.solution_secs IS NOT NULL
        ON CONFLICT(at_ms, history_id) DO NOTHING;
END;

CREATE TRIGGER IF NOT EXISTS engineer_solutions_facts_update AFTER UPDATE OF ticket_id,
        solution_proposed_at, solution_secs ON ticket_facts BEGIN
    DELETE FROM engineer_solutions WHERE ticket_id = OLD.ticket_id;
    DELETE FROM engineer_solutions WHERE ticket_id = NEW.ticket_id;
    INSERT INTO engineer_solutions(at_ms, history_id, engineer, secs, ticket_id)
    SELECT CAST(round((julianday(h.at) - 2440587.5) * 86400000.0) AS INTEGER), h.id, e.id,
           NEW.solution_secs, h.ticket_id
      FROM history h JOIN engineers e ON e.address = h.actor
     WHERE h.ticket_id = NEW.ticket_id AND h.action = 'command'
       AND h.to_status = 'solution_proposed' AND h.at = NEW.solution_proposed_at
       AND NEW.solution_secs IS NOT NULL
        ON CONFLICT(at_ms, history_id) DO NOTHING;
END;

CREATE TRIGGER IF NOT EXISTS engineer_solutions_facts_delete AFTER DELETE ON ticket_facts BEGIN
    DELETE FROM engineer_solutions WHERE ticket_id = OLD.ticket_id;
END;
