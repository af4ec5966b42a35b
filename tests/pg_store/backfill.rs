//! Schema version 7 on a PostgreSQL desk that already holds commands
//! (copied by a version-6 ticketd): `ticketd db migrate` back-fills the
//! engineers' tables, row for row as SQLite's triggers derive them from the
//! same history and facts. Schema version 9 on a version-8 desk: the report
//! rows get their tickets' mailbox, and the ticket triggers keep it.

use super::common::TestDesk;
use super::support::pg::Cluster;
use super::{pg_desk, text, ticketd};

/// Tickets, facts and commands (a reopen and re-close, two closes at one
/// time, a first proposal on the last millisecond of a day), as SQL both
/// engines take.
const DATA: &str = "
INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
    created_at, updated_at)
VALUES
  ('TP-2026-000001', 'confirmed', 'incident', 'высокий', 2, 'u@x', 'u@x', 's',
   '2026-11-23T07:00:00.000Z', '2026-11-24T07:00:00.000Z'),
  ('TP-2026-000002', 'assigned', 'incident', 'высокий', 2, 'u@x', 'u@x', 's',
   '2026-11-23T08:00:00.000Z', '2026-11-24T08:00:00.000Z');
INSERT INTO ticket_facts(ticket_id, solution_proposed_at, solution_secs, lines)
VALUES ('TP-2026-000001', '2026-11-23T10:00:00.000Z', 10800, 2),
       ('TP-2026-000002', '2026-11-24T23:59:59.999Z', 7200, 2);
INSERT INTO history(ticket_id, at, actor, action, from_status, to_status) VALUES
  ('TP-2026-000001', '2026-11-23T07:00:00.000Z', 'system', 'created', NULL, 'new'),
  ('TP-2026-000001', '2026-11-23T10:00:00.000Z', 'a@desk', 'command', 'assigned', 'solution_proposed'),
  ('TP-2026-000001', '2026-11-23T12:00:00.000Z', 'u@x', 'reopened', 'solution_proposed', 'assigned'),
  ('TP-2026-000001', '2026-11-24T00:00:00.000Z', 'a@desk', 'command', 'assigned', 'solution_proposed'),
  ('TP-2026-000001', '2026-11-24T00:00:00.000Z', 'a@desk', 'command', 'solution_proposed', 'confirmed'),
  ('TP-2026-000002', '2026-11-23T08:00:00.000Z', 'system', 'created', NULL, 'new'),
  ('TP-2026-000002', '2026-11-23T09:00:00.000Z', 'b@desk', 'command', 'new', 'assigned'),
  ('TP-2026-000002', '2026-11-24T23:59:59.999Z', 'b@desk', 'command', 'assigned', 'solution_proposed'),
  ('TP-2026-000002', '2026-11-25T00:00:00.000Z', 'a@desk', 'command', NULL, 'confirmed');
";

/// The engineers' tables, rows in key order, columns split by `|`.
const TABLES: [(&str, &str); 4] = [
    ("engineers", "id, address"),
    ("engineer_days", "day, engineer, commands, closes"),
    ("engineer_recloses", "at_ms, history_id, engineer, prev_ms"),
    (
        "engineer_solutions",
        "at_ms, history_id, engineer, secs, ticket_id",
    ),
];

fn order(table: &str) -> &'static str {
    match table {
        "engineers" => "id",
        "engineer_days" => "day, engineer",
        _ => "at_ms, history_id",
    }
}

#[test]
fn a_version_6_postgresql_desk_is_back_filled_like_sqlite() {
    let pg = Cluster::start();
    pg.createdb("desk");
    let baseline = include_str!("../../src/store/pg/m006_baseline.sql");
    pg.query(
        "desk",
        &format!(
            "{baseline}
             CREATE TABLE schema_version (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
             INSERT INTO schema_version(version) VALUES (6);
             {DATA}"
        ),
    );
    let desk = pg_desk(&pg, "desk", &pg.password_file);
    let out = ticketd(&desk, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "schema version {} (was 6)",
            ticketd::store::pg::migrate::VERSION
        )),
        "{}",
        text(&out)
    );

    // The same rows in SQLite at the latest version: derived by its triggers.
    let lite = TestDesk::new();
    let out = ticketd(&lite, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let db = lite.db();
    db.execute_batch(DATA).unwrap();
    for (table, cols) in TABLES {
        let sql = format!("SELECT {cols} FROM {table} ORDER BY {}", order(table));
        let mut st = db.prepare(&sql).unwrap();
        let n = st.column_count();
        let lite_rows: Vec<String> = st
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            v => v.as_str().unwrap_or_default().to_string(),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map(|v| v.join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!lite_rows.is_empty(), "{table} has rows");
        assert_eq!(pg.query("desk", &sql), lite_rows.join("\n"), "{table}");
    }
}

/// A version-8 PostgreSQL desk (tickets with their mailbox, report rows
/// without it): `ticketd db migrate` back-fills `report_rows.mailbox` (raw,
/// NULL as in `tickets`), and the twin of migration 9's triggers carry it
/// on a ticket's update and insert; `letters.mailbox` takes a value.
#[test]
fn a_version_8_postgresql_desk_gets_the_mailbox_in_its_report_rows() {
    let pg = Cluster::start();
    pg.createdb("desk");
    let steps = [
        include_str!("../../src/store/pg/m006_baseline.sql"),
        include_str!("../../src/store/pg/m007_engineer_figures.sql"),
        include_str!("../../src/store/pg/m008_mailbox.sql"),
    ]
    .join("\n");
    pg.query(
        "desk",
        &format!(
            "{steps}
             CREATE TABLE schema_version (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
             INSERT INTO schema_version(version) VALUES (6), (7), (8);
             INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
                 created_at, updated_at, channel, mailbox)
             VALUES
               ('TP-2026-000001', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T07:00:00.000Z', '2026-11-23T07:00:00.000Z', 'email', 'north'),
               ('TP-2026-000002', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T08:00:00.000Z', '2026-11-23T08:00:00.000Z', 'email', NULL),
               ('TP-2026-000003', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T09:00:00.000Z', '2026-11-23T09:00:00.000Z', 'phone', NULL);"
        ),
    );
    assert_eq!(
        pg.query("desk", "SELECT count(*) FROM report_rows"),
        "3",
        "version 8: report rows, without a mailbox"
    );
    let rows = || {
        pg.query(
            "desk",
            "SELECT ticket_id, mailbox FROM report_rows ORDER BY created_ms",
        )
    };
    let desk = pg_desk(&pg, "desk", &pg.password_file);
    let out = ticketd(&desk, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "schema version {} (was 8)",
            ticketd::store::pg::migrate::VERSION
        )),
        "{}",
        text(&out)
    );
    assert_eq!(
        rows(),
        "TP-2026-000001|north\nTP-2026-000002|\nTP-2026-000003|"
    );
    pg.query(
        "desk",
        "UPDATE tickets SET mailbox = 'south' WHERE id = 'TP-2026-000002';
         INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
             created_at, updated_at, channel, mailbox)
         VALUES ('TP-2026-000004', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
             '2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00.000Z', 'email', 'east');
         INSERT INTO letters(identity, received_at, outcome, ticket_id, raw, mailbox)
         VALUES ('l-1', '2026-11-23T10:00:00.000Z', 'created', 'TP-2026-000004', '\\x00', 'east');",
    );
    assert_eq!(
        rows(),
        "TP-2026-000001|north\nTP-2026-000002|south\nTP-2026-000003|\nTP-2026-000004|east"
    );
    assert_eq!(
        pg.query("desk", "SELECT outcome, mailbox FROM letters"),
        "created|east"
    );
}
