//! Items 7 and 9: the clock stops while the desk waits; the form is
//! classified when it becomes complete.

use super::harness::*;
use chrono::Duration;
use ticketd::store::parse_ts;

fn deadline(c: &Conv, id: &str) -> chrono::DateTime<chrono::Utc> {
    c.ticket(id)
        .deadline
        .as_deref()
        .and_then(parse_ts)
        .expect("deadline")
}

/// Item 7: fields missing for three days, then completed: the deadline is
/// counted from the completion, not from the first letter.
#[test]
fn item7_deadline_paused_while_fields_missing() {
    let mut c = Conv::new();
    let id = c.appeal(INCOMPLETE);
    assert_eq!(c.ticket(&id).status, "awaiting_user");
    c.advance(Duration::days(3));
    c.user(&id, "Кабинет: 305\r\nЭтаж: 3\r\nТелефон: 8 (4012) 55-12-34");
    let t = c.ticket(&id);
    assert_eq!(t.status, "assigned");
    assert!(
        deadline(&c, &id) > c.p.now(),
        "the deadline is in the future after completion: {:?}",
        t.deadline
    );
    c.tick();
    assert_eq!(c.ticket(&id).line, 2, "no escalation at once");
}

/// Item 7: an engineer's question stops the clock; the user's answer
/// starts it again from then.
#[test]
fn item7_deadline_paused_while_awaiting_user() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Действие пользователя\r\n\r\nКакая модель принтера?",
    );
    c.advance(Duration::days(2));
    c.user(&id, "Добрый день!\r\n\r\nHP LaserJet 1020.");
    assert_eq!(c.ticket(&id).status, "assigned");
    assert!(
        deadline(&c, &id) > c.p.now(),
        "deadline runs from the answer"
    );
    c.tick();
    assert_eq!(
        c.ticket(&id).line,
        2,
        "no escalation in the second of the answer"
    );
}

/// Item 9: the description arrives later; the ticket is classified then
/// (an error: an incident for line 2).
#[test]
fn item9_classified_when_the_form_completes() {
    let mut c = Conv::new();
    let id = c.appeal(
        "Организация: Министерство финансов\r\nФИО: Иванова Мария Сергеевна\r\nКабинет: 305, этаж 3\r\nТелефон: 8 (4012) 55-12-34\r\n",
    );
    assert_eq!(c.ticket(&id).status, "awaiting_user");
    c.new_letters();
    c.user(
        &id,
        "Описание проблемы: При печати выходит ошибка драйвера, принтер не работает.",
    );
    let t = c.ticket(&id);
    assert_eq!(t.kind, "incident");
    assert_eq!(t.line, 2);
    let sent = c.new_letters();
    assert!(
        sent.iter().any(|s| s.kind == "routed" && s.to_is(L2)),
        "{:?}",
        summary(&sent)
    );
}
