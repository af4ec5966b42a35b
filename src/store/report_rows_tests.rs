//! `report_rows` (migration 5) is kept right: after every kind of write
//! the store makes, and after the back-fill of a version-4 database, the
//! rows the report reads equal what the tickets and their facts say (the
//! join the report read before, parsed with [`parse_ts`]).

use super::outbox::{enqueue, OutgoingLetter};
use super::report::ReportRow;
use super::tickets::{HistoryRow, Ticket};
use super::{parse_ts, ts, Store, MIGRATIONS};
use crate::workflow::status::{Actor, Kind, Line, Status};
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

/// One report row, owned, comparable.
type Row = (
    String,
    DateTime<Utc>,
    String,
    String,
    String,
    u8,
    String,
    Option<String>,
    [Option<DateTime<Utc>>; 5],
    [Option<i64>; 2],
    Option<String>,
);

fn owned(r: &ReportRow<'_>) -> Row {
    (
        r.id.to_string(),
        r.created_at,
        r.status.machine_name().to_string(),
        r.kind.machine_name().to_string(),
        r.priority.to_string(),
        r.line.number(),
        r.channel.to_string(),
        r.organization.map(str::to_string),
        [
            r.deadline,
            r.first_response_at,
            r.solution_proposed_at,
            r.confirmed_at,
            r.deadline_breached_at,
        ],
        [r.first_response_secs, r.solution_secs],
        r.mailbox.map(str::to_string),
    )
}

/// What the report reads now.
fn read(s: &Store) -> Vec<Row> {
    let mut out = Vec::new();
    let (from, to) = (
        DateTime::from_timestamp(0, 0).unwrap(),
        DateTime::from_timestamp(4_000_000_000, 0).unwrap(),
    );
    s.each_report_row(from, to, |r| out.push(owned(r))).unwrap();
    out
}

/// The same from the tickets and their facts, as the report read them
/// before migration 5.
fn reference(c: &Connection) -> Vec<Row> {
    let t = |v: Option<String>| v.as_deref().and_then(parse_ts);
    let mut st = c
        .prepare(
            "SELECT t.id, t.created_at, t.status, t.kind, t.priority, t.line, t.channel,
                    t.organization, t.deadline, f.first_response_at, f.solution_proposed_at,
                    f.confirmed_at, f.deadline_breached_at, f.first_response_secs, f.solution_secs,
                    COALESCE(t.mailbox, CASE WHEN t.channel = 'email' THEN 'main' END)
               FROM tickets t LEFT JOIN ticket_facts f ON f.ticket_id = t.id
              ORDER BY t.created_at, t.id",
        )
        .unwrap();
    st.query_map([], |r| {
        Ok((
            r.get(0)?,
            t(r.get(1)?).unwrap(),
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            [
                t(r.get(8)?),
                t(r.get(9)?),
                t(r.get(10)?),
                t(r.get(11)?),
                t(r.get(12)?),
            ],
            [r.get(13)?, r.get(14)?],
            r.get(15)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn h(at: DateTime<Utc>, actor: &str, action: &str, to: Option<&str>) -> HistoryRow {
    HistoryRow {
        at: ts(at),
        actor: actor.into(),
        action: action.into(),
        from: None,
        to: to.map(Into::into),
        detail: None,
    }
}

fn at(mins: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_790_000_000_123).unwrap() + Duration::minutes(mins)
}

/// Every write the store makes to a ticket and its facts shows in the
/// report's rows: registration, a response letter, an engineer's proposal,
/// an escalation, a confirmation, a move to another line and priority.
#[test]
fn report_rows_follow_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(
        &dir.path().join("db"),
        std::time::Duration::from_millis(100),
    )
    .unwrap();
    let mut tickets = Vec::new();
    for i in 0..4i64 {
        let u = s.unit().unwrap();
        let mut t = Ticket::default();
        t.id = u.allocate_id("TP", at(i)).unwrap();
        t.kind = Kind::ALL[i as usize % 3];
        t.priority = "средний".into();
        t.line = Line::First;
        t.requester = "u@x".into();
        t.reply_to = "u@x".into();
        t.subject = "s".into();
        t.form.organization = (i % 2 == 0).then(|| "Минфин".to_string());
        t.created_at = at(i);
        t.updated_at = at(i);
        t.deadline = Some(at(i + 240));
        // Through a mailbox of its own, the default one, the web form.
        t.mailbox = (i % 3 == 0).then(|| format!("north{i}"));
        if i == 2 {
            t.channel = crate::workflow::channel::Channel::Web;
        }
        u.insert_ticket(&t).unwrap();
        u.add_history(&t.id, &h(at(i), "system", "created", Some("new")), None)
            .unwrap();
        u.commit().unwrap();
        tickets.push(t);
    }
    assert_eq!(read(&s), reference(s.conn()));
    assert!(read(&s)
        .iter()
        .all(|r| r.8[1..].iter().all(Option::is_none)));
    assert_eq!(
        read(&s).iter().map(|r| r.10.as_deref()).collect::<Vec<_>>(),
        [Some("north0"), Some("main"), None, Some("north3")]
    );

    // Ticket 0: a letter to the user (a response), then solved and confirmed.
    let t0 = tickets[0].clone();
    enqueue(
        s.db(),
        &OutgoingLetter {
            message_id: "r0@desk".into(),
            ticket_id: Some(t0.id.clone()),
            kind: "to_user".into(),
            from: "support@desk".into(),
            to: vec!["u@x".into()],
            raw: b"x".to_vec(),
        },
        at(30),
    )
    .unwrap();
    // Ticket 1: escalated, moved to the second line at a higher priority,
    // then an engineer proposes a solution.
    let mut t1 = tickets[1].clone();
    let eng = Actor::Engineer {
        line: Line::Second,
        address: "eng@desk".into(),
    };
    {
        let u = s.unit().unwrap();
        u.add_history(
            &t0.id,
            &h(at(60), "eng@desk", "command", Some("solution_proposed")),
            None,
        )
        .unwrap();
        u.add_history(
            &t0.id,
            &h(at(90), "u@x", "confirmed", Some("confirmed")),
            None,
        )
        .unwrap();
        u.add_history(&t1.id, &h(at(241), "system", "escalated", None), None)
            .unwrap();
        t1.line = Line::Second;
        t1.priority = "высокий".into();
        t1.form.organization = Some("Минздрав".into());
        t1.deadline = Some(at(480));
        let _ = t1.move_to(Status::Assigned, &Actor::System);
        let _ = t1.move_to(Status::SolutionProposed, &eng);
        u.update_ticket(&t1).unwrap();
        u.add_history(
            &t1.id,
            &h(at(300), "eng@desk", "command", Some("solution_proposed")),
            None,
        )
        .unwrap();
        u.commit().unwrap();
    }
    let rows = read(&s);
    assert_eq!(rows, reference(s.conn()));
    assert_eq!(
        rows[0].8[1..],
        [Some(at(30)), Some(at(60)), Some(at(90)), None]
    );
    assert_eq!(
        (rows[1].4.as_str(), rows[1].5, rows[1].7.as_deref()),
        ("высокий", 2, Some("Минздрав"))
    );
    assert_eq!(
        rows[1].8,
        [
            Some(at(480)),
            Some(at(300)),
            Some(at(300)),
            None,
            Some(at(241))
        ]
    );
    assert_eq!(rows[1].2, t1.status().machine_name());

    // The working times a calendar fills in show as well.
    let cal = crate::workflow::Calendar::always();
    s.set_calendar(&cal).unwrap();
    assert_eq!(read(&s), reference(s.conn()));
    assert!(read(&s)[0].9[0].is_some());
}

/// A version-4 database (times as other writers may have stored them,
/// offsets included) is back-filled on open, equal to its tickets and facts.
#[test]
fn a_version_4_database_is_back_filled() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db");
    {
        let c = Connection::open(&p).unwrap();
        for m in &MIGRATIONS[..4] {
            c.execute_batch(m).unwrap();
        }
        c.execute_batch(
            "INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
                organization, created_at, updated_at, deadline, channel)
             VALUES
               ('TP-2026-000001', 'confirmed', 'incident', 'высокий', 2, 'u@x', 'u@x', 's',
                'Минфин', '2026-11-23T07:00:00.000Z', '2026-11-24T07:00:00.000Z',
                '2026-11-23T11:00:00.999Z', 'web'),
               ('TP-2026-000002', 'new', 'service_request', 'низкий', 1, 'u@x', 'u@x', 's',
                NULL, '2026-11-23T09:30:00.001+02:00', '2026-11-23T07:30:00.001Z', NULL, 'email'),
               ('TP-2026-000003', 'assigned', 'consultation', 'средний', 3, 'u@x', 'u@x', 's',
                NULL, '2026-11-22T23:59:59.999Z', '2026-11-23T00:00:00.000Z',
                '2026-11-24T00:00:00.000Z', 'phone');
             INSERT INTO ticket_facts(ticket_id, first_response_at, first_response_secs,
                solution_proposed_at, solution_secs, confirmed_at, deadline_breached_at, lines)
             VALUES
               ('TP-2026-000001', '2026-11-23T08:00:00.500Z', 3600, '2026-11-23T10:00:00.000Z',
                10800, '2026-11-24T07:00:00.000Z', NULL, 2),
               ('TP-2026-000003', NULL, NULL, NULL, NULL, NULL, '2026-11-24T00:00:00.000Z', 4);
             PRAGMA user_version = 4;",
        )
        .unwrap();
    }
    let s = Store::open(&p, std::time::Duration::from_millis(100)).unwrap();
    let rows = read(&s);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows, reference(s.conn()));
    // In order of registration, the offset read as the instant it names.
    assert_eq!(
        rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["TP-2026-000003", "TP-2026-000001", "TP-2026-000002"]
    );
    assert_eq!(rows[2].1, parse_ts("2026-11-23T07:30:00.001Z").unwrap());
    assert_eq!(rows[1].8[0], parse_ts("2026-11-23T11:00:00.999Z"));
    // A period selects by the instant of registration.
    let mut ids = Vec::new();
    s.each_report_row(
        parse_ts("2026-11-23T00:00:00.000Z").unwrap(),
        parse_ts("2026-11-23T07:30:00.001Z").unwrap(),
        |r| ids.push(r.id.to_string()),
    )
    .unwrap();
    assert_eq!(ids, ["TP-2026-000001"]);
}

/// A version-8 database (tickets with their mailbox, report rows without
/// it) is back-filled on open: the report reads each ticket's mailbox, and
/// new tickets carry theirs.
#[test]
fn a_version_8_database_gets_the_mailbox_in_its_report_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db");
    {
        let c = Connection::open(&p).unwrap();
        for m in &MIGRATIONS[..8] {
            c.execute_batch(m).unwrap();
        }
        c.execute_batch(
            "INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
                created_at, updated_at, channel, mailbox)
             VALUES
               ('TP-2026-000001', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T07:00:00.000Z', '2026-11-23T07:00:00.000Z', 'email', 'north'),
               ('TP-2026-000002', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T08:00:00.000Z', '2026-11-23T08:00:00.000Z', 'email', NULL),
               ('TP-2026-000003', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T09:00:00.000Z', '2026-11-23T09:00:00.000Z', 'phone', NULL);
             PRAGMA user_version = 8;",
        )
        .unwrap();
    }
    let s = Store::open(&p, std::time::Duration::from_millis(100)).unwrap();
    let rows = read(&s);
    assert_eq!(rows, reference(s.conn()));
    assert_eq!(
        rows.iter().map(|r| r.10.as_deref()).collect::<Vec<_>>(),
        [Some("north"), Some("main"), None]
    );
    s.conn()
        .execute_batch(
            "UPDATE tickets SET mailbox = 'south' WHERE id = 'TP-2026-000002';
             INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
                created_at, updated_at, channel, mailbox)
             VALUES ('TP-2026-000004', 'new', 'incident', 'высокий', 1, 'u@x', 'u@x', 's',
                '2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00.000Z', 'email', 'east');",
        )
        .unwrap();
    let rows = read(&s);
    assert_eq!(rows, reference(s.conn()));
    assert_eq!(
        rows.iter().map(|r| r.10.as_deref()).collect::<Vec<_>>(),
        [Some("north"), Some("south"), None, Some("east")]
    );
}
