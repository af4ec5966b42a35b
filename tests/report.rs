//! `ticketd report` (issue 16, "Must show" 1): tickets registered across
//! two months on a manual clock — known kinds, priorities, organisations,
//! a deadline kept, one missed and escalated, one solved late — and the
//! report of each month checked number by number through the binary; the
//! per-ticket CSV row by row. The desk has two mailboxes (issue 17): the
//! tickets came through `main`, `north`, none recorded (`ingest`, shown as
//! `main`) and the web form (no mailbox).

mod common;

#[path = "conversation/harness.rs"]
mod harness;

use chrono::{DateTime, Utc};
use harness::*;
use serde_json::{json, Value};
use ticketd::parse::Form;
use ticketd::pipeline::submission::{Channel, NewAppeal, Submission};

/// A local (Kaliningrad, UTC+2) wall time of the example desk.
fn local(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+02:00"))
        .expect("time")
        .with_timezone(&Utc)
}

fn form(org: &str, description: &str) -> String {
    format!(
        "Добрый день!\r\n\r\nОрганизация: {org}\r\nФИО: Иванова Мария Сергеевна\r\n\
         Кабинет: 305, этаж 3\r\nТелефон: 8 (4012) 55-12-34\r\nОписание проблемы: {description}\r\n"
    )
}

const MINFIN: &str = "Министерство финансов";
const MINZDRAV: &str = "Министерство здравоохранения";

/// The example desk with two `[[mailboxes]]`: `main` (the example's
/// Maildir) and `north` (a second one).
fn desk() -> Conv {
    Conv::with(|cfg| {
        let main = cfg.remove("mailbox").expect("[mailbox]");
        let toml::Value::Table(mut main) = main else {
            panic!("[mailbox] is a table")
        };
        let mut north = main.clone();
        main.insert("name".into(), "main".into());
        north.insert("name".into(), "north".into());
        let path = north["path"].as_str().expect("path").to_string();
        north.insert("path".into(), format!("{path}-north").into());
        cfg.insert(
            "mailboxes".into(),
            toml::Value::Array(vec![main.into(), north.into()]),
        );
    })
}

/// The mailbox the next letters come through.
fn via(c: &mut Conv, mailbox: Option<&str>) {
    c.p.set_intake_mailbox(mailbox.map(str::to_string));
}

/// The two months at the desk; the ticket ids in order.
fn two_months(c: &mut Conv) -> Vec<String> {
    let mut ids = Vec::new();
    // T1 — Wed 1 Oct 2025 10:00: an incident (высокий, 4h, line 2); a
    // solution at 11:30 (1.5 working hours), confirmed at 12:00. Through
    // the mailbox `main`.
    c.clock.set(local("2025-10-01T10:00:00"));
    via(c, Some("main"));
    let t1 = c.appeal(APPEAL);
    c.clock.set(local("2025-10-01T11:30:00"));
    c.engineer(
        ENG,
        &t1,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    c.clock.set(local("2025-10-01T12:00:00"));
    assert_eq!(c.user(&t1, "Подтверждаю"), "updated");
    ids.push(t1);
    // T2 — Thu 2 Oct 10:00: a consultation (обычный, 1d = 8 working hours,
    // line 1); nobody answers; escalated on Fri 3 Oct at 11:00. Through
    // `north`.
    c.clock.set(local("2025-10-02T10:00:00"));
    via(c, Some("north"));
    let t2 = c.appeal(&form(
        MINZDRAV,
        "Подскажите, как зарегистрировать входящий документ.",
    ));
    c.clock.set(local("2025-10-03T11:00:00"));
    c.tick();
    ids.push(t2);
    // T3 — Mon 6 Oct 11:00: a service request (обычный, line 1); the 1st
    // line proposes a solution at 15:00: 3 working hours (lunch 13–14).
    // By `ingest` (no mailbox recorded: shown as `main`).
    c.clock.set(local("2025-10-06T11:00:00"));
    via(c, None);
    let t3 = c.appeal(&form(
        MINFIN,
        "Прошу создать учётную запись для нового сотрудника.",
    ));
    c.clock.set(local("2025-10-06T15:00:00"));
    c.engineer(
        OP,
        &t3,
        L1,
        "Статус: Предложено решение\r\n\r\nУчётная запись создана.",
    );
    ids.push(t3);
    // T4 — Mon 3 Nov 10:00: an incident (высокий, deadline 15:00); the
    // solution at 17:00, 6 working hours: late, with no escalation run.
    // Through `north`.
    c.clock.set(local("2025-11-03T10:00:00"));
    via(c, Some("north"));
    let t4 = c.appeal(APPEAL);
    c.clock.set(local("2025-11-03T17:00:00"));
    c.engineer(
        ENG,
        &t4,
        L2,
        "Статус: Предложено решение\r\n\r\nОбновите драйвер.",
    );
    ids.push(t4);
    // T5 — Wed 5 Nov 10:00: a consultation nobody answers (deadline Thu
    // 6 Nov 10:00), open at the end of November. Through `main`.
    c.clock.set(local("2025-11-05T10:00:00"));
    via(c, Some("main"));
    let t5 = c.appeal(&form(MINZDRAV, "Подскажите, где найти архив документов."));
    ids.push(t5);
    // T6 — Thu 6 Nov 10:00: a service request through the site's form
    // (channel web, no mailbox; обычный, line 1), not answered.
    c.clock.set(local("2025-11-06T10:00:00"));
    via(c, None);
    let r =
        c.p.submit(Submission::Appeal(Box::new(NewAppeal {
            channel: Channel::Web,
            key: "form-report-1".into(),
            requester: USER.into(),
            subject: "Учётная запись".into(),
            form: Form {
                organization: Some(MINFIN.into()),
                full_name: Some("Иванова Мария Сергеевна".into()),
                location: Some("каб. 305, 3 этаж".into()),
                room: Some("305".into()),
                floor: Some("3".into()),
                phone: Some("+74012551234".into()),
                description: Some("Прошу создать учётную запись для нового сотрудника.".into()),
                ..Default::default()
            },
            text: String::new(),
            files: Vec::new(),
            registered_by: None,
        })))
        .expect("submitted");
    ids.push(r.ticket.expect("a ticket"));
    ids
}

fn report(c: &Conv, args: &[&str]) -> Vec<u8> {
    let out = c.desk.run(args, None);
    assert!(
        out.status.success(),
        "report {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn stat(median: f64, p90: f64, count: u64) -> Value {
    json!({"count": count, "median_hours": median, "p90_hours": p90})
}

#[test]
fn the_report_of_two_months_number_by_number() {
    let mut c = desk();
    let ids = two_months(&mut c);
    assert_eq!(ids[0], "TP-2025-000001");
    let json_of = |period: &str| -> Value {
        let out = report(&c, &["report", "--period", period, "--format", "json"]);
        // by_mailbox follows by_channel in the file.
        let text = String::from_utf8_lossy(&out);
        let at = |k: &str| text.find(&format!("\"{k}\"")).expect(k);
        assert!(at("by_channel") < at("by_mailbox") && at("by_mailbox") < at("by_line"));
        serde_json::from_slice(&out).expect("report JSON")
    };

    let oct = json_of("2025-10");
    assert_eq!(
        oct["period"],
        json!({"from": "2025-10-01", "to": "2025-10-31", "time_zone": "Europe/Kaliningrad"})
    );
    let t = &oct["totals"];
    assert_eq!(t["received"], 3);
    assert_eq!(
        t["by_status"],
        json!({"new": 0, "assigned": 1, "awaiting_user": 0, "solution_proposed": 1, "confirmed": 1})
    );
    assert_eq!(
        t["by_kind"],
        json!({"consultation": 1, "incident": 1, "service_request": 1})
    );
    assert_eq!(
        t["by_priority"],
        json!({"критический": 0, "высокий": 1, "обычный": 2, "низкий": 0})
    );
    assert_eq!(t["by_channel"], json!({"email": 3, "web": 0, "phone": 0}));
    // T1 through main, T2 through north, T3 by ingest (shown as main).
    assert_eq!(t["by_mailbox"], json!({"main": 2, "north": 1}));
    // T2 went to the 2nd line when it was escalated.
    assert_eq!(t["by_line"], json!({"1": 1, "2": 2, "3": 0}));
    assert_eq!(
        t["by_organization"],
        json!({"Министерство финансов": 2, "Министерство здравоохранения": 1})
    );
    assert_eq!(
        oct["deadlines"],
        json!({"met": 2, "breached": 1, "open_overdue": 1})
    );
    assert_eq!(
        oct["deadlines_by_priority"],
        json!({"высокий": {"met": 1, "breached": 0, "open_overdue": 0},
               "обычный": {"met": 1, "breached": 1, "open_overdue": 1}})
    );
    let times = json!({
        "all": stat(1.5, 3.0, 2),
        "by_priority": {"высокий": stat(1.5, 1.5, 1), "обычный": stat(3.0, 3.0, 1)},
        "by_line": {"1": stat(3.0, 3.0, 1), "2": stat(1.5, 1.5, 1)},
    });
    assert_eq!(oct["times"]["first_response"], times);
    assert_eq!(oct["times"]["solution"], times);
    assert_eq!(oct["backlog"], json!({"start": 0, "end": 2}));
    assert_eq!(
        oct["engineers"],
        json!([
            {"address": ENG, "commands": 1, "closed": 1, "median_hours_to_solution": 1.5},
            {"address": OP, "commands": 1, "closed": 1, "median_hours_to_solution": 3.0},
        ])
    );
    let days = oct["per_day"].as_array().expect("per_day");
    assert_eq!(days.len(), 31);
    let received: Vec<u64> = days
        .iter()
        .map(|d| d["received"].as_u64().unwrap())
        .collect();
    assert_eq!((received[0], received[1], received[5]), (1, 1, 1));
    assert_eq!(received.iter().sum::<u64>(), 3);

    let nov = json_of("2025-11");
    let t = &nov["totals"];
    assert_eq!(t["received"], 3);
    assert_eq!(
        t["by_status"],
        json!({"new": 2, "assigned": 0, "awaiting_user": 0, "solution_proposed": 1, "confirmed": 0})
    );
    assert_eq!(
        t["by_kind"],
        json!({"consultation": 1, "incident": 1, "service_request": 1})
    );
    assert_eq!(t["by_channel"], json!({"email": 2, "web": 1, "phone": 0}));
    // T4 through north, T5 through main; T6 (the web form) through none.
    assert_eq!(t["by_mailbox"], json!({"main": 1, "north": 1}));
    assert_eq!(
        nov["deadlines"],
        json!({"met": 0, "breached": 3, "open_overdue": 2})
    );
    assert_eq!(nov["times"]["solution"]["all"], stat(6.0, 6.0, 1));
    assert_eq!(nov["times"]["first_response"]["all"], stat(6.0, 6.0, 1));
    // T2 and T3 were open when November began; T4, T5 and T6 joined them.
    assert_eq!(nov["backlog"], json!({"start": 2, "end": 5}));

    // --from/--to name the same days as --period.
    let out = report(
        &c,
        &[
            "report",
            "--from",
            "01.10.2025",
            "--to",
            "2025-10-31",
            "--format",
            "json",
        ],
    );
    assert_eq!(serde_json::from_slice::<Value>(&out).expect("JSON"), oct);

    // The text report says the same for people.
    let text = String::from_utf8(report(&c, &["report", "--period", "2025-10"])).expect("utf-8");
    assert!(text.contains("Поступило обращений: 3"), "{text}");
    assert!(text.contains("соблюдены 2, нарушены 1"), "{text}");
    let mb = text
        .split("Почтовый ящик:")
        .nth(1)
        .expect("mailboxes shown");
    let mb: Vec<Vec<&str>> = mb
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(mb, [["main", "2"], ["north", "1"]], "{text}");

    // The CSV summary lists them as well.
    let csv = String::from_utf8(report(
        &c,
        &["report", "--period", "2025-11", "--format", "csv"],
    ))
    .expect("utf-8");
    let rows = ticketd::report::csv::parse(&csv);
    let of = |section: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|r| r[0] == section)
            .map(|r| (r[1].clone(), r[2].clone()))
            .collect()
    };
    assert_eq!(
        of("by_mailbox"),
        [("main".into(), "1".into()), ("north".into(), "1".into())]
    );
    assert_eq!(of("by_channel")[1], ("web".into(), "1".into()));

    // HTML: a table of the mailboxes.
    let html = String::from_utf8(report(
        &c,
        &["report", "--period", "2025-10", "--format", "html"],
    ))
    .expect("utf-8");
    assert!(html.contains("Почтовый ящик"), "mailboxes in the HTML");
}

/// A desk of one mailbox called `main` has no mailbox table in text and
/// HTML (JSON and CSV list it all the same).
#[test]
fn one_mailbox_is_not_a_table_of_its_own() {
    let mut c = Conv::new();
    c.clock.set(local("2025-10-01T10:00:00"));
    c.appeal(APPEAL);
    let text = String::from_utf8(report(&c, &["report", "--period", "2025-10"])).expect("utf-8");
    assert!(text.contains("Поступило обращений: 1"), "{text}");
    assert!(!text.contains("Почтовый ящик"), "{text}");
    let html = String::from_utf8(report(
        &c,
        &["report", "--period", "2025-10", "--format", "html"],
    ))
    .expect("utf-8");
    assert!(!html.contains("Почтовый ящик"));
    let out = report(&c, &["report", "--period", "2025-10", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(v["totals"]["by_mailbox"], json!({"main": 1}));
}

#[test]
fn the_ticket_listing_row_by_row_as_csv() {
    let mut c = desk();
    let ids = two_months(&mut c);
    let dir = c.desk.root().join("listing.csv");
    let path = dir.display().to_string();
    report(
        &c,
        &["report", "--tickets", "--format", "csv", "--out", &path],
    );
    let raw = std::fs::read(&dir).expect("listing written");
    assert!(raw.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = String::from_utf8(raw).expect("utf-8");
    // RFC 4180: every record ends in CRLF, no bare LF outside quotes.
    assert!(text.ends_with("\r\n"));
    let rows = ticketd::report::csv::parse(&text);
    assert_eq!(rows.len(), 1 + ids.len(), "a header and one row per ticket");
    let head = &rows[0];
    assert_eq!(head[0], "id");
    // The mailbox right after the channel.
    let channel = head.iter().position(|h| h == "channel").expect("channel");
    assert_eq!(head[channel + 1], "mailbox");
    let col = |row: &Vec<String>, name: &str| -> String {
        let i = head
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"));
        row[i].clone()
    };
    // (id, status, kind, priority, line, lines, channel, organization,
    //  first response hours, solution hours, breached?, confirmed?)
    let want = [
        (
            &ids[0],
            "confirmed",
            "incident",
            "высокий",
            "2",
            "2",
            "email",
            MINFIN,
            "1.50",
            "1.50",
            false,
            true,
        ),
        (
            &ids[1],
            "assigned",
            "consultation",
            "обычный",
            "2",
            "1 2",
            "email",
            MINZDRAV,
            "",
            "",
            true,
            false,
        ),
        (
            &ids[2],
            "solution_proposed",
            "service_request",
            "обычный",
            "1",
            "1",
            "email",
            MINFIN,
            "3.00",
            "3.00",
            false,
            false,
        ),
        (
            &ids[3],
            "solution_proposed",
            "incident",
            "высокий",
            "2",
            "2",
            "email",
            MINFIN,
            "6.00",
            "6.00",
            false,
            false,
        ),
        (
            &ids[4],
            "new",
            "consultation",
            "обычный",
            "1",
            "1",
            "email",
            MINZDRAV,
            "",
            "",
            false,
            false,
        ),
        (
            &ids[5],
            "new",
            "service_request",
            "обычный",
            "1",
            "1",
            "web",
            MINFIN,
            "",
            "",
            false,
            false,
        ),
    ];
    for (row, w) in rows[1..].iter().zip(want) {
        let got = (
            col(row, "id"),
            col(row, "status"),
            col(row, "kind"),
            col(row, "priority"),
            col(row, "line"),
            col(row, "lines"),
            col(row, "channel"),
            col(row, "organization"),
            col(row, "first_response_hours"),
            col(row, "solution_hours"),
            !col(row, "deadline_breached_at").is_empty(),
            !col(row, "confirmed_at").is_empty(),
        );
        let w = (
            w.0.to_string(),
            w.1.into(),
            w.2.into(),
            w.3.into(),
            w.4.into(),
            w.5.into(),
            w.6.into(),
            w.7.into(),
            w.8.into(),
            w.9.into(),
            w.10,
            w.11,
        );
        assert_eq!(got, w);
    }
    // Through main, north, none recorded (ingest: main), north, main; the
    // web form's ticket came through no mailbox.
    let mailboxes: Vec<String> = rows[1..].iter().map(|r| col(r, "mailbox")).collect();
    assert_eq!(mailboxes, ["main", "north", "main", "north", "main", ""]);
    // JSON: the same column, null for none.
    let out = report(&c, &["report", "--tickets", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out).expect("listing JSON");
    let got: Vec<Value> = v
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["mailbox"].clone())
        .collect();
    assert_eq!(
        got,
        [
            json!("main"),
            json!("north"),
            json!("main"),
            json!("north"),
            json!("main"),
            Value::Null
        ]
    );
    // Every stored time is there, as stored.
    assert_eq!(col(&rows[1], "created_at"), "2025-10-01T08:00:00.000Z");
    assert_eq!(
        col(&rows[1], "solution_proposed_at"),
        "2025-10-01T09:30:00.000Z"
    );
    assert_eq!(col(&rows[1], "confirmed_at"), "2025-10-01T10:00:00.000Z");
    assert_eq!(
        col(&rows[2], "deadline_breached_at"),
        "2025-10-03T09:00:00.000Z"
    );
    // The location holds a comma: quoted, read back whole.
    assert_eq!(col(&rows[1], "location"), "каб. 305, этаж 3");
    assert!(text.contains("\"каб. 305, этаж 3\""), "quoted in the file");
}

/// Must show 2: the HTML report in headless Chromium.
#[path = "report/html.rs"]
mod html;
