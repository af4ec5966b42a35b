//! The engineers' figures (migration 7) equal what the history says: the
//! query the report ran before (a `GROUP BY actor` over the commands with
//! `count(DISTINCT …)`, each proposal joined to its facts), for every
//! period whose ends are the events' own times, a millisecond either side
//! of them and UTC midnights; after commands, closes, a reopen and a
//! re-close, and after the back-fill of a version-6 database.

use super::report::EngineerRow;
use super::tickets::{HistoryRow, Ticket};
use super::{parse_ts, ts, Store, MIGRATIONS};
use crate::workflow::status::{Kind, Line};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection};

/// The figures as the report computed them before migration 7.
fn reference(c: &Connection, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<EngineerRow> {
    let mut st = c
        .prepare(
            "SELECT actor, count(*),
                    count(DISTINCT CASE WHEN to_status IN ('solution_proposed', 'confirmed')
                                        THEN ticket_id END)
               FROM history
              WHERE action = 'command' AND at >= ?1 AND at < ?2
              GROUP BY actor ORDER BY actor",
        )
        .unwrap();
    let mut out: Vec<EngineerRow> = st
        .query_map(params![ts(from), ts(to)], |r| {
            Ok(EngineerRow {
                actor: r.get(0)?,
                commands: r.get::<_, i64>(1)? as u64,
                closed: r.get::<_, i64>(2)? as u64,
                solution_secs: Vec::new(),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut st = c
        .prepare(
            "SELECT h.actor, f.solution_secs FROM history h
               JOIN ticket_facts f ON f.ticket_id = h.ticket_id
              WHERE h.action = 'command' AND h.at >= ?1 AND h.at < ?2
                AND h.to_status = 'solution_proposed' AND f.solution_proposed_at = h.at
                AND f.solution_secs IS NOT NULL",
        )
        .unwrap();
    let rows: Vec<(String, i64)> = st
        .query_map(params![ts(from), ts(to)], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (actor, secs) in rows {
        if let Some(e) = out.iter_mut().find(|e| e.actor == actor) {
            e.solution_secs.push(secs);
        }
    }
    sorted(out)
}

fn sorted(mut v: Vec<EngineerRow>) -> Vec<EngineerRow> {
    for e in &mut v {
        e.solution_secs.sort_unstable();
    }
    v
}

/// Midnight UTC of 2026-11-23, a Monday.
fn base() -> DateTime<Utc> {
    parse_ts("2026-11-23T00:00:00.000Z").unwrap()
}

fn at(mins: i64) -> DateTime<Utc> {
    base() + Duration::minutes(mins)
}

fn new_ticket(s: &mut Store, created: DateTime<Utc>) -> String {
    let u = s.unit().unwrap();
    let mut t = Ticket::default();
    t.id = u.allocate_id("TP", created).unwrap();
    t.kind = Kind::Incident;
    t.priority = "высокий".into();
    t.line = Line::Second;
    t.requester = "u@x".into();
    t.reply_to = "u@x".into();
    t.subject = "s".into();
    t.created_at = created;
    t.updated_at = created;
    u.insert_ticket(&t).unwrap();
    u.add_history(&t.id, &row(created, "system", "created", Some("new")), None)
        .unwrap();
    u.commit().unwrap();
    t.id
}

fn row(at: DateTime<Utc>, actor: &str, action: &str, to: Option<&str>) -> HistoryRow {
    HistoryRow {
        at: ts(at),
        actor: actor.into(),
        action: action.into(),
        from: None,
        to: to.map(Into::into),
        detail: None,
    }
}

/// A history row: ticket index, time, actor, action, new status.
type Event<'a> = (usize, DateTime<Utc>, &'a str, &'a str, Option<&'a str>);

/// Each history row in its own unit.
fn play(s: &mut Store, tickets: &[String], rows: &[Event<'_>]) {
    for (i, when, actor, action, to) in rows {
        let u = s.unit().unwrap();
        u.add_history(&tickets[*i], &row(*when, actor, action, *to), None)
            .unwrap();
        u.commit().unwrap();
    }
}

/// Every period between two of `moments` (from < to).
fn check_all_periods(s: &Store, moments: &[DateTime<Utc>]) -> usize {
    let mut checked = 0;
    for &from in moments {
        for &to in moments.iter().filter(|t| **t > from) {
            let got = sorted(s.engineers_between(from, to).unwrap());
            assert_eq!(got, reference(s.conn(), from, to), "period {from} – {to}");
            checked += 1;
        }
    }
    checked
}

/// The moments periods start and end at: every event's time, a
/// millisecond before and after it, and the UTC midnights around them.
fn moments(events: &[DateTime<Utc>]) -> Vec<DateTime<Utc>> {
    let ms = Duration::milliseconds(1);
    let mut m: Vec<DateTime<Utc>> = events
        .iter()
        .flat_map(|t| [*t - ms, *t, *t + ms])
        .chain((-1..=5).map(|d| base() + Duration::days(d)))
        .collect();
    m.sort();
    m.dedup();
    m
}

/// Commands over four UTC days by three engineers on four tickets: closes,
/// a reopen and a re-close by the same engineer (one ticket closed twice,
/// counted once in a period holding both), a close by another engineer,
/// commands that change no status, commands at midnight, and a closing
/// command recorded after a later one of the same engineer and ticket.
#[test]
fn engineer_figures_follow_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(
        &dir.path().join("db"),
        std::time::Duration::from_millis(100),
    )
    .unwrap();
    let tickets: Vec<String> = (0..4).map(|i| new_ticket(&mut s, at(-600 + i))).collect();
    let (a, b, c) = ("a@desk", "b@desk", "c@desk");
    let rows = [
        (0, at(10), a, "command", Some("assigned")),
        (0, at(60), a, "command", Some("solution_proposed")),
        (0, at(24 * 60 - 1), a, "command", None),
        (0, at(24 * 60), "u@x", "reopened", Some("assigned")),
        (0, at(24 * 60), a, "command", Some("assigned")),
        (0, at(24 * 60 + 30), a, "command", Some("solution_proposed")),
        (1, at(24 * 60 + 30), b, "command", Some("solution_proposed")),
        (1, at(24 * 60 + 31), c, "command", Some("confirmed")),
        (1, at(2 * 24 * 60), b, "command", Some("confirmed")),
        (
            2,
            at(2 * 24 * 60 + 600),
            c,
            "command",
            Some("solution_proposed"),
        ),
        // Recorded out of order: before c's proposal above, after it in the list.
        (2, at(2 * 24 * 60 + 60), c, "command", Some("confirmed")),
        (3, at(3 * 24 * 60 + 5), a, "command", Some("confirmed")),
        (3, at(3 * 24 * 60 + 5), a, "command", Some("confirmed")),
        (0, at(3 * 24 * 60 + 700), a, "command", Some("confirmed")),
    ];
    play(&mut s, &tickets, &rows);

    // Ticket 0 closed by a on day 0, day 1 and day 3: once in each day, once in all.
    let all = sorted(s.engineers_between(at(-1), at(5 * 24 * 60)).unwrap());
    let find = |v: &[EngineerRow], who: &str| v.iter().find(|e| e.actor == who).cloned().unwrap();
    let ea = find(&all, a);
    assert_eq!((ea.commands, ea.closed), (8, 2), "a closed tickets 0 and 3");
    assert_eq!(
        ea.solution_secs.len(),
        1,
        "a made ticket 0's first proposal"
    );
    let eb = find(&all, b);
    assert_eq!((eb.commands, eb.closed, eb.solution_secs.len()), (2, 1, 1));
    let day1 = sorted(s.engineers_between(at(24 * 60), at(2 * 24 * 60)).unwrap());
    assert_eq!((find(&day1, a).commands, find(&day1, a).closed), (2, 1));
    assert!(
        find(&day1, a).solution_secs.is_empty(),
        "a's second proposal on ticket 0 is not its first"
    );
    assert_eq!(all, reference(s.conn(), at(-1), at(5 * 24 * 60)));

    let events: Vec<DateTime<Utc>> = rows.iter().map(|r| r.1).collect();
    assert!(check_all_periods(&s, &moments(&events)) > 500);

    // Facts written again (a calendar fills solution times): still equal.
    s.set_calendar(&crate::workflow::Calendar::always())
        .unwrap();
    check_all_periods(&s, &moments(&events));
}

/// A version-6 database with commands in its history gets the engineers'
/// tables back-filled on open (a re-close, the same time twice, a time
/// stored with an offset), and later commands are counted by the triggers.
#[test]
fn a_version_6_database_is_back_filled() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db");
    {
        let c = Connection::open(&p).unwrap();
        for m in &MIGRATIONS[..6] {
            c.execute_batch(m).unwrap();
        }
        c.execute_batch(
            "INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
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
               ('TP-2026-000002', '2026-11-25T01:00:00.000+02:00', 'a@desk', 'command', NULL, NULL);
             PRAGMA user_version = 6;",
        )
        .unwrap();
    }
    let mut s = Store::open(&p, std::time::Duration::from_millis(100)).unwrap();
    let count = |s: &Store, t: &str| -> i64 {
        s.conn()
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        [
            count(&s, "engineers"),
            count(&s, "engineer_recloses"),
            count(&s, "engineer_solutions")
        ],
        [2, 2, 2]
    );
    let all = s.engineers_between(base(), at(3 * 24 * 60)).unwrap();
    let a = all.iter().find(|e| e.actor == "a@desk").unwrap();
    assert_eq!(
        (a.commands, a.closed, a.solution_secs.clone()),
        (4, 1, vec![10800])
    );
    // Except for the time stored with an offset (an instant here, text
    // before), equal to what the history says.
    let instants = [
        "2026-11-23T00:00:00.000Z",
        "2026-11-23T10:00:00.000Z",
        "2026-11-23T10:00:00.001Z",
        "2026-11-24T00:00:00.000Z",
        "2026-11-24T00:00:00.001Z",
        "2026-11-24T23:00:00.000Z",
        "2026-11-25T02:00:00.000Z",
    ]
    .map(|x| parse_ts(x).unwrap());
    for &from in &instants {
        for &to in instants.iter().filter(|t| **t > from) {
            assert_eq!(
                sorted(s.engineers_between(from, to).unwrap()),
                reference(s.conn(), from, to),
                "period {from} – {to}"
            );
        }
    }

    // Commands after the migration are counted by the triggers.
    let u = s.unit().unwrap();
    u.add_history(
        "TP-2026-000002",
        &row(at(2 * 24 * 60 + 1), "c@desk", "command", Some("confirmed")),
        None,
    )
    .unwrap();
    u.commit().unwrap();
    let (from, to) = (base(), at(4 * 24 * 60));
    let got = sorted(s.engineers_between(from, to).unwrap());
    let c = got.iter().find(|e| e.actor == "c@desk").unwrap();
    assert_eq!((c.commands, c.closed), (1, 1));
    assert_eq!(count(&s, "engineers"), 3);
}
