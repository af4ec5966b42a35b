//! Appeals taken by phone (issue 15): a 1st-line engineer's letter to
//! their own registration address registers a `phone` ticket for the
//! named caller; from anyone else, or to another engineer's address, it
//! registers nothing and is recorded.

use super::harness::*;
use ticketd::workflow::signed::reg_address;

const CALL: &str = "Заявитель: Ivanova@Minfin.example.org\r\n\
    Организация: Министерство финансов\r\nФИО: Иванова Мария Сергеевна\r\n\
    Кабинет 305, 3 этаж\r\nТелефон: 8 (4012) 55-12-34\r\n\
    Описание проблемы: не печатает принтер, ошибка драйвера\r\n";

fn outcome_and_reason(c: &Conv) -> (String, Option<String>) {
    c.desk
        .db()
        .query_row(
            "SELECT outcome, reason FROM letters ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the letter is recorded")
}

#[test]
fn an_engineers_letter_to_their_address_registers_the_call() {
    let mut c = Conv::new();
    let reg = reg_address(SUPPORT, OP, c.p.key());
    let (o, id) = c.send(OP, &reg, "Звонок: принтер", CALL);
    assert_eq!(o, "created");
    let t = c.ticket(&id);
    assert_eq!(t.channel.machine_name(), "phone");
    assert_eq!(t.registered_by.as_deref(), Some(OP));
    assert_eq!(t.requester, USER);
    assert_eq!(
        t.form.full_name.as_deref(),
        Some("Иванова Мария Сергеевна"),
        "not the caller's line"
    );
    assert_eq!(t.form.room.as_deref(), Some("305"));
    assert_eq!(t.form.phone.as_deref(), Some("+74012551234"));
    assert_eq!(t.history[0].actor, OP, "created by the engineer");
    let sent = summary(&c.new_letters());
    assert!(sent.contains(&format!("{USER}:confirmation")), "{sent:?}");
    assert!(sent.contains(&format!("{OP}:phone_registered")), "{sent:?}");
}

#[test]
fn the_same_registration_letter_twice_is_one_ticket() {
    let mut c = Conv::new();
    let reg = reg_address(SUPPORT, OP, c.p.key());
    let raw = format!(
        "From: {OP}\r\nTo: {reg}\r\nSubject: Звонок\r\nMessage-ID: <call-1@test.example>\r\n\
         Date: Wed, 02 Dec 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{CALL}"
    );
    let first = c.p.ingest(raw.as_bytes()).expect("first");
    let again = c.p.ingest(raw.as_bytes()).expect("again");
    assert_eq!(first.outcome.as_str(), "created");
    assert_eq!(again.outcome.as_str(), "duplicate");
    assert_eq!(again.ticket, first.ticket);
    let n: i64 = c
        .desk
        .db()
        .query_row("SELECT count(*) FROM tickets", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);
}

#[test]
fn a_caller_without_e_mail_gets_nothing_the_engineer_gets_the_number() {
    let mut c = Conv::new();
    let reg = reg_address(SUPPORT, OP, c.p.key());
    let body = CALL.replace(
        "Заявитель: Ivanova@Minfin.example.org",
        "Заявитель: нет почты",
    );
    let (o, id) = c.send(OP, &reg, "Звонок", &body);
    assert_eq!(o, "created");
    let t = c.ticket(&id);
    assert_eq!(t.requester, "");
    let sent = c.new_letters();
    assert!(sent
        .iter()
        .any(|s| s.to_is(OP) && s.kind == "phone_registered" && s.text.contains(&id)));
    assert!(
        sent.iter()
            .all(|s| !s.to.iter().any(|t| t.is_empty() || t.contains("minfin"))),
        "no letter to a caller: {:?}",
        summary(&sent)
    );
}

#[test]
fn anyone_else_or_another_engineers_address_registers_nothing_and_is_recorded() {
    let mut c = Conv::new();
    let op_reg = reg_address(SUPPORT, OP, c.p.key());
    let eng_reg = reg_address(SUPPORT, ENG, c.p.key());
    // (from, to, why recorded)
    for (from, to, why) in [
        (USER, op_reg.as_str(), "not an engineer of the 1st line"),
        (OP, eng_reg.as_str(), "not the sender's own"),
        (ENG, eng_reg.as_str(), "not an engineer of the 1st line"),
    ] {
        let (o, id) = c.send(from, to, "Звонок", CALL);
        assert_eq!((o.as_str(), id.as_str()), ("ignored", ""), "{from} → {to}");
        let (outcome, reason) = outcome_and_reason(&c);
        assert_eq!(outcome, "ignored");
        assert!(
            reason.as_deref().is_some_and(|r| r.contains(why)),
            "{from} → {to}: {reason:?}"
        );
    }
    assert!(c.new_letters().is_empty(), "nobody is answered");
}

#[test]
fn a_caller_without_e_mail_is_not_written_to_later_either() {
    let mut c = Conv::new();
    let reg = reg_address(SUPPORT, OP, c.p.key());
    let body = CALL.replace("Заявитель: Ivanova@Minfin.example.org", "Заявитель: —");
    let (_, id) = c.send(OP, &reg, "Звонок", &body);
    let (mailbox, engineer) = match c.ticket(&id).line.number() {
        1 => (L1, OP),
        2 => (L2, ENG),
        _ => (L3, DEV),
    };
    c.new_letters();
    let o = c.engineer(
        engineer,
        &id,
        mailbox,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    assert_eq!(o, "updated");
    assert_eq!(c.ticket(&id).status().machine_name(), "solution_proposed");
    let sent = c.new_letters();
    assert!(
        sent.iter().all(|s| s.to.iter().all(|t| !t.is_empty())),
        "{:?}",
        summary(&sent)
    );
    let t = c.ticket(&id);
    assert!(
        t.history.iter().any(|h| h.action == "letter_failed"
            && h.detail
                .as_deref()
                .is_some_and(|d| d.contains("no e-mail address"))),
        "the history says why the caller got no letter: {:?}",
        t.history
    );
}
