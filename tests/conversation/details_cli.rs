//! Item 15 on the command line: `tickets show`, `quarantine show`,
//! `tickets list --since`, suppressed letters in `status` and `outbox
//! list` — the binary run on the conversation's desk.

use super::harness::*;
use std::process::Output;

fn run(c: &Conv, args: &[&str]) -> String {
    let out: Output = c.desk.run(args, None);
    assert!(
        out.status.success(),
        "ticketd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `tickets show`: the phone with its extension; history by what a letter
/// says, not by its greeting.
#[test]
fn item15_tickets_show_extension_and_summaries() {
    let mut c = Conv::new();
    let id = c.appeal(&APPEAL.replace("55-12-34", "55-12-34 доб. 204"));
    c.user(&id, "Здравствуйте!\r\n\r\nПринтер печатает пустые листы.");
    let text = run(&c, &["tickets", "show", &id]);
    let phone = text
        .lines()
        .find(|l| l.starts_with("Телефон:"))
        .unwrap_or_else(|| panic!("a phone line:\n{text}"));
    assert!(phone.ends_with("доб. 204"), "{phone}");
    assert!(
        text.contains("(Принтер печатает пустые листы.)"),
        "the letter by what it says:\n{text}"
    );
    assert!(!text.contains("(Здравствуйте!)"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&run(&c, &["tickets", "show", &id, "--json"])).expect("json");
    assert_eq!(json["phone_ext"], "204");
}

/// `quarantine show` without `--raw` shows the Subject decoded.
#[test]
fn item15_quarantine_show_decodes_the_subject() {
    let mut c = Conv::with(|t| {
        // One new appeal an hour from one sender: the next is quarantined.
        if let Some(l) = t.get_mut("loops").and_then(|l| l.as_table_mut()) {
            l.insert(
                "max_new_tickets_per_sender_per_hour".into(),
                toml::Value::Integer(1),
            );
        }
    });
    let mut quarantined = None;
    for _ in 0..3 {
        let r: u64 = rand::random();
        let raw = format!(
            "From: {USER}\r\nTo: {SUPPORT}\r\nSubject: =?utf-8?b?0J/RgNC40L3RgtC10YAg0L3QtSDQv9C10YfQsNGC0LDQtdGC?=\r\n\
             Message-ID: <q{r:x}@test.example>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{APPEAL}\r\n"
        );
        let rep = c.p.ingest(raw.as_bytes()).expect("ingest");
        if rep.outcome.as_str() == "quarantined" {
            quarantined = Some(());
        }
    }
    assert!(quarantined.is_some(), "one letter was quarantined");
    let list: serde_json::Value =
        serde_json::from_str(&run(&c, &["quarantine", "list", "--json"])).expect("json");
    let qid = list[0]["id"]
        .as_i64()
        .expect("a quarantined letter")
        .to_string();
    let text = run(&c, &["quarantine", "show", &qid]);
    assert!(
        text.contains("Subject: Принтер не печатает"),
        "decoded:\n{text}"
    );
    assert!(!text.contains("=?utf-8?"), "no encoded words left:\n{text}");
    // `--raw` still gives the bytes as they came.
    let raw = run(&c, &["quarantine", "show", &qid, "--raw"]);
    assert!(raw.contains("=?utf-8?b?"), "{raw}");
}

/// `tickets list --since` takes the Russian date format, ISO dates and
/// times; anything else is refused naming the accepted formats.
#[test]
fn item15_tickets_list_since_russian_dates() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL); // 02.12.2026 10:00 at the desk
    let listed = |c: &Conv, since: &str| -> bool {
        run(c, &["tickets", "list", "--since", since]).contains(&id)
    };
    for (since, included) in [
        ("02.12.2026", true),
        ("2.12.2026", true),
        ("2026-12-02", true),
        ("02.12.2026 09:59", true),
        ("02.12.2026 10:01", false),
        ("2026-12-02T10:01", false),
        ("03.12.2026", false),
        ("2026-12-02T07:59:00Z", true),
    ] {
        assert_eq!(listed(&c, since), included, "--since {since}");
    }
    let out = c.desk.run(&["tickets", "list", "--since", "04.12"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("04.12") && err.contains("DD.MM.YYYY") && err.contains("YYYY-MM-DD"),
        "names the accepted formats: {err}"
    );
    assert!(!err.contains("premature end of input"), "{err}");
}

/// Letters held back by the daily limit are shown in `status` (a count and
/// the latest) and in `outbox list` (as suppressed rows with the reason).
#[test]
fn item15_suppressed_letters_in_status_and_outbox_list() {
    let mut c = Conv::with(|t| {
        if let Some(l) = t.get_mut("loops").and_then(|l| l.as_table_mut()) {
            l.insert("max_auto_per_day".into(), toml::Value::Integer(1));
        }
    });
    let id = c.appeal(APPEAL);
    // Automatic answers to the user beyond the first are held back.
    c.user(&id, "Статус: Подтверждено");
    c.user(&id, "Статус: Подтверждено!");
    let held = c
        .ticket(&id)
        .history
        .iter()
        .filter(|h| h.action == "suppressed")
        .count();
    assert!(held >= 1, "the limit held letters back");

    let status = run(&c, &["status"]);
    assert!(
        status.contains(&format!("всего {held}")),
        "a count in status:\n{status}"
    );
    assert!(
        status.contains(&id) && status.contains("max_auto_per_day"),
        "the latest, with the reason:\n{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&c, &["status", "--json"])).expect("json");
    assert_eq!(json["suppressed"]["total"], held);
    assert_eq!(json["suppressed"]["latest"][0]["ticket_id"], id.as_str());

    let list = run(&c, &["outbox", "list"]);
    let rows: Vec<&str> = list.lines().filter(|l| l.contains("suppressed")).collect();
    assert_eq!(rows.len(), held, "{list}");
    assert!(
        rows.iter()
            .all(|r| r.contains(&id) && r.contains("max_auto_per_day")),
        "{list}"
    );
    // Queued letters are listed as before.
    assert!(
        list.lines()
            .any(|l| l.contains("sent") || l.contains("pending")),
        "{list}"
    );
    let only: serde_json::Value = serde_json::from_str(&run(
        &c,
        &["outbox", "list", "--status", "suppressed", "--json"],
    ))
    .expect("json");
    let only = only.as_array().expect("rows");
    assert_eq!(only.len(), held);
    assert!(only.iter().all(|r| r["status"] == "suppressed"
        && r["reason"]
            .as_str()
            .is_some_and(|s| s.contains("max_auto_per_day"))));
    let bad = c.desk.run(&["outbox", "list", "--status", "held"], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("suppressed"));
}

/// Item 2 on the command line: `tickets show` prints a handover comment
/// whole, every line of it (a letter's own summary stays one line).
#[test]
fn item2_tickets_show_prints_the_handover_comment_whole() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.new_letters();
    let o = c.engineer(
        ENG,
        &id,
        L2,
        "Линия: 3\r\n\r\nКоллеги, это не консультация.\r\nПрошу посмотреть индекс таблицы документов.",
    );
    assert_eq!(o, "updated");
    let text = run(&c, &["tickets", "show", &id]);
    for line in [
        "Коллеги, это не консультация.",
        "Прошу посмотреть индекс таблицы документов.",
    ] {
        assert!(text.contains(line), "«{line}» in\n{text}");
    }
}
