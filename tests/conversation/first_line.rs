//! Items 4, 5, 10, 11: the assignee is addressed; reminders reach the line
//! that holds the ticket; the 1st line sees and commands everything; closing.

use super::harness::*;
use chrono::Duration;

/// Item 4: `Исполнитель:` addresses the assignee, the line's mailbox in copy.
#[test]
fn item4_the_assignee_is_addressed() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.new_letters();
    c.engineer(ENG, &id, L2, &format!("Исполнитель: {ENG2}"));
    let sent = c.new_letters();
    let routed = sent
        .iter()
        .find(|s| s.kind == "routed")
        .unwrap_or_else(|| panic!("routed again: {:?}", summary(&sent)));
    assert!(routed.to_is(ENG2) && routed.to_is(L2), "{:?}", routed.to);
    assert!(routed.text.contains(&format!("Исполнитель: {ENG2}")));
    assert!(
        routed
            .text
            .lines()
            .any(|l| l.starts_with("To:") && l.contains(ENG2)),
        "To names the assignee"
    );
    assert!(
        routed
            .text
            .lines()
            .any(|l| l.starts_with("Cc:") && l.contains(L2)),
        "the line's mailbox in copy"
    );
    // Handed to line 3: addressed to line 3, line 2's assignee dropped.
    c.engineer(ENG2, &id, L2, "Линия: 3\r\n\r\nПосмотрите индекс.");
    let sent = c.new_letters();
    let routed = sent
        .iter()
        .find(|s| s.kind == "routed")
        .unwrap_or_else(|| panic!("routed to line 3: {:?}", summary(&sent)));
    assert_eq!(routed.to, vec![L3.to_string()]);
    assert_eq!(c.ticket(&id).assignee, None);
}

/// Item 5: overdue on the last line: line 3 is reminded (answerable), the
/// 1st line in copy, once per deadline period.
#[test]
fn item5_the_last_line_is_reminded() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.engineer(ENG, &id, L2, "Линия: 3\r\n\r\nПосмотрите индекс.");
    c.new_letters();
    c.advance(Duration::days(2));
    c.tick();
    let sent = c.new_letters();
    assert_eq!(c.ticket(&id).line, 3);
    assert!(
        sent.iter()
            .any(|s| s.to_is(L3) && s.kind == "notice" && s.text.contains("support+")),
        "line 3 reminded with a proof: {:?}",
        summary(&sent)
    );
    assert!(sent.iter().any(|s| s.to_is(L1)), "{:?}", summary(&sent));
    for _ in 0..5 {
        c.advance(Duration::minutes(1));
        c.tick();
    }
    assert!(c.new_letters().is_empty(), "not once a minute");
}

/// Item 10: the 1st line gets an answerable copy of every routing,
/// handover, proposal and confirmation; and may command from it.
#[test]
fn item10_the_first_line_sees_and_commands() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    let sent = c.new_letters();
    assert!(
        sent.iter().any(|s| s.to_is(L1) && s.kind == "copy"),
        "routing to line 2 copied: {:?}",
        summary(&sent)
    );
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    let sent = c.new_letters();
    assert!(
        sent.iter()
            .any(|s| s.to_is(L1) && s.kind == "copy" && s.text.contains("Переустановите")),
        "proposal copied: {:?}",
        summary(&sent)
    );
    c.user(&id, "Не помогло");
    c.new_letters();
    // The operator hands it to line 3 by answering the copy.
    let o = c.engineer(
        OP,
        &id,
        L1,
        "Линия: 3\r\n\r\nКоллеги, посмотрите, пожалуйста.",
    );
    assert_eq!(o, "updated");
    assert_eq!(c.ticket(&id).line, 3, "the operator's command applied");
    let sent = c.new_letters();
    assert!(sent.iter().any(|s| s.to_is(L3) && s.kind == "routed"));
    assert!(
        !sent.iter().any(|s| s.kind == "refusal"),
        "{:?}",
        summary(&sent)
    );
    // None: no copies.
    let mut c = Conv::with(|cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("desk") {
            t.insert("first_line_copies".into(), "none".into());
        }
    });
    c.appeal(APPEAL);
    assert!(!c.new_letters().iter().any(|s| s.kind == "copy"));
}

/// Item 11: an operator closes on the user's behalf: the user is told how
/// to reopen; the user's later «ошибка снова» is a new related appeal (or
/// the ticket reopened when the desk says so).
#[test]
fn item11_closing_and_writing_on_a_closed_ticket() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    c.new_letters();
    c.engineer(
        OP,
        &id,
        L1,
        "Статус: Подтверждено\r\n\r\nПользователь подтвердил по телефону.",
    );
    assert_eq!(c.ticket(&id).status(), "confirmed");
    let sent = c.new_letters();
    assert!(
        sent.iter().any(|s| s.to_is(USER) && s.kind == "closed"),
        "the user is told: {:?}",
        summary(&sent)
    );
    let (o, new) = c.send(
        USER,
        SUPPORT,
        &format!("Re: [{id}] Принтер"),
        "Добрый день!\r\n\r\nОшибка снова появилась.",
    );
    assert_eq!(o, "created");
    assert_ne!(new, id);
    let t = c.ticket(&new);
    assert!(t
        .history
        .iter()
        .any(|h| h.action == "related" && h.detail.as_deref().is_some_and(|d| d.contains(&id))));
    assert!(c.ticket(&id).history.iter().any(|h| h.action == "related"));
    assert_eq!(
        t.form.phone,
        c.ticket(&id).form.phone,
        "the form carried over"
    );
    // Thanks after closing change nothing.
    let (o, t2) = c.send(USER, SUPPORT, &format!("Re: [{id}] Принтер"), "Спасибо!");
    assert_eq!((o.as_str(), t2.as_str()), ("updated", id.as_str()));
    // closed_reply = "reopen".
    let mut c = Conv::with(|cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("desk") {
            t.insert("closed_reply".into(), "reopen".into());
        }
    });
    let id = c.appeal(APPEAL);
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    c.user(&id, "Подтверждаю");
    assert_eq!(c.ticket(&id).status(), "confirmed");
    c.user(&id, "Ошибка снова появилась.");
    assert_eq!(c.ticket(&id).status(), "assigned");
}

/// Item 10, `first_line_copies = "digest"`: the same events gathered into
/// one letter once the oldest has waited `digest_interval_secs`, each
/// ticket with an address that takes the 1st line's commands.
#[test]
fn item10_digest_gathers_the_copies_and_stays_answerable() {
    let mut c = Conv::with(|cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("desk") {
            t.insert("first_line_copies".into(), "digest".into());
            t.insert("digest_interval_secs".into(), 3600.into());
        }
    });
    let a = c.appeal(APPEAL);
    c.engineer(
        ENG,
        &a,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    c.advance(Duration::minutes(10));
    let b = c.appeal(APPEAL);
    let sent = c.new_letters();
    assert!(
        !sent.iter().any(|s| s.to_is(L1)),
        "nothing to the 1st line before the digest: {:?}",
        summary(&sent)
    );
    // The daemon's timer wakes when the oldest event has waited an hour.
    let due = c.p.next_escalation().expect("next wake").expect("a wake");
    assert!(due <= start() + Duration::minutes(60), "wake at {due}");
    c.tick();
    assert!(!c.new_letters().iter().any(|s| s.kind == "digest"));

    c.advance(Duration::minutes(51));
    c.tick();
    let sent = c.new_letters();
    let digests: Vec<&Sent> = sent.iter().filter(|s| s.kind == "digest").collect();
    assert_eq!(digests.len(), 1, "one digest: {:?}", summary(&sent));
    let d = digests[0];
    assert!(d.to_is(L1), "{:?}", d.to);
    for needle in [
        a.as_str(),
        b.as_str(),
        "Переустановите драйвер",
        "предложил решение",
    ] {
        assert!(
            d.text.contains(needle),
            "digest lacks «{needle}»:\n{}",
            d.text
        );
    }
    // Sent once: the next pass has nothing.
    c.advance(Duration::minutes(90));
    c.tick();
    assert!(!c.new_letters().iter().any(|s| s.kind == "digest"));

    // The operator commands ticket `a` through the address under it.
    let section = d
        .text
        .split("== ")
        .find(|s| s.starts_with(a.as_str()))
        .expect("a's section");
    let proof = regex::Regex::new(r"support\+[A-Za-z0-9-]+@sed\.example\.org")
        .expect("re")
        .find(section)
        .expect("a proof under a's section")
        .as_str()
        .to_string();
    let (o, _) = c.send(
        OP,
        &proof,
        &format!("[{a}] Принтер"),
        "Линия: 3\r\n\r\nКоллеги, посмотрите, пожалуйста.",
    );
    assert_eq!(o, "updated");
    assert_eq!(c.ticket(&a).line, 3, "the operator's command applied");
    let sent = c.new_letters();
    assert!(sent.iter().any(|s| s.to_is(L3) && s.kind == "routed"));
    assert!(
        !sent.iter().any(|s| s.kind == "refusal"),
        "{:?}",
        summary(&sent)
    );
}
