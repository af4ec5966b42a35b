//! A fold split anywhere into two, joined with [`Builder::then`], gives
//! the report of the whole fold: counts, names in order of first sight
//! (configured priorities and mailboxes first, others and new channels
//! and organisations appended), deadlines by priority, samples and days.

use super::*;
use crate::workflow::status::Line;
use chrono::Duration;

fn rows(start: DateTime<Utc>) -> Vec<ReportRow<'static>> {
    let prio = ["высокий", "низкий", "старый", "обычный"];
    let chan = ["email", "web", "fax", "phone"];
    let org = [None, Some("Минфин"), Some("Минздрав"), Some("Агентство")];
    let mb = [Some("main"), None, Some("north"), Some("old")];
    (0..40i64)
        .map(|i| {
            let at = start + Duration::hours(5 * i);
            let k = i as usize;
            ReportRow {
                id: "TP-2026-000001",
                created_at: at,
                status: Status::ALL[k % 5],
                kind: Kind::ALL[k % 3],
                // The unconfigured "старый" and the fax only from the 17th on.
                priority: prio[if i < 17 { k % 2 } else { k % 4 }],
                line: Line::ALL[(k / 2) % 3],
                channel: chan[if i < 17 { k % 2 } else { k % 4 }],
                organization: org[(k * 7 / 3) % if i < 23 { 3 } else { 4 }],
                deadline: (i % 6 != 0).then(|| at + Duration::hours(i % 9)),
                first_response_at: (i % 4 != 1).then(|| at + Duration::minutes(30 * i)),
                first_response_secs: (i % 4 != 1).then_some(1800 * i),
                solution_proposed_at: (i % 3 == 0).then(|| at + Duration::hours(i % 7)),
                solution_secs: (i % 3 == 0).then_some(3600 * (i % 7)),
                confirmed_at: (i % 5 == 2).then(|| at + Duration::hours(3)),
                deadline_breached_at: (i % 7 == 3).then(|| at + Duration::hours(1)),
                // The unconfigured mailbox "old" only from the 29th on.
                mailbox: mb[if i < 29 { k % 3 } else { k % 4 }],
            }
        })
        .collect()
}

#[test]
fn a_fold_split_anywhere_joins_to_the_whole() {
    let tz = chrono_tz::Europe::Kaliningrad;
    let first = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let period = Period::days(first, first + Duration::days(8), tz).unwrap();
    let now = period.to - Duration::hours(30);
    let cal = Calendar::always();
    let priorities = ["критический", "высокий", "обычный", "низкий"].map(String::from);
    let mailboxes = ["north", "south", "main"].map(String::from);
    let rows = rows(period.from);
    let engineers = || {
        vec![EngineerRow {
            actor: "a@desk".into(),
            commands: 3,
            closed: 2,
            solution_secs: vec![30, 10, 20],
        }]
    };
    let backlog = || Backlog { start: 1, end: 2 };
    let fold = |rows: &[ReportRow<'_>]| {
        let mut b = Builder::new(period, now, &cal, &priorities, &mailboxes);
        for r in rows {
            b.add(r);
        }
        b
    };
    let whole = fold(&rows).finish(backlog(), engineers());
    assert_eq!(whole.totals.received, 40);
    assert_eq!(whole.totals.by_priority.0[4].0, "старый");
    assert_eq!(whole.totals.by_channel.0[3].0, "fax");
    // Configured mailboxes first (south at 0), then the one seen later;
    // the tickets that came through none are not counted.
    let mbs = &whole.totals.by_mailbox.0;
    assert_eq!(
        mbs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["north", "south", "main", "old"]
    );
    assert_eq!(whole.totals.by_mailbox.get("south"), 0);
    let none = rows.iter().filter(|r| r.mailbox.is_none()).count() as u64;
    assert_eq!(mbs.iter().map(|x| x.1).sum::<u64>() + none, 40);
    assert!(whole.totals.shows_mailboxes());
    assert!(whole.deadlines_by_priority.contains_key("старый"));
    assert_eq!(whole.engineers[0].median_hours_to_solution, Some(0.01));
    for cut in 0..=rows.len() {
        let (a, b) = rows.split_at(cut);
        let joined = fold(a).then(fold(b)).finish(backlog(), engineers());
        assert_eq!(joined, whole, "cut after {cut} tickets");
    }
}
