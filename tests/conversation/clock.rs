//! Items 7 and 9: the clock stops while the desk waits; the form is
//! classified when it becomes complete.

use super::harness::*;
use chrono::Duration;

fn deadline(c: &Conv, id: &str) -> chrono::DateTime<chrono::Utc> {
    c.ticket(id).deadline.expect("deadline")
}

/// Item 7: fields missing for three days, then completed: the deadline is
/// counted from the completion, not from the first letter.
#[test]
fn item7_deadline_paused_while_fields_missing() {
    let mut c = Conv::new();
    let id = c.appeal(INCOMPLETE);
    assert_eq!(c.ticket(&id).status(), "awaiting_user");
    c.advance(Duration::days(3));
    c.user(&id, "Кабинет: 305\r\nЭтаж: 3\r\nТелефон: 8 (4012) 55-12-34");
    let t = c.ticket(&id);
    assert_eq!(t.status(), "assigned");
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
    assert_eq!(c.ticket(&id).status(), "assigned");
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
    assert_eq!(c.ticket(&id).status(), "awaiting_user");
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

/// Item 8: free-text answers to the clarification, as people write them.
#[test]
fn item8_free_text_answers_complete_the_form() {
    // (answer, room, floor, phone digits)
    let rows = [
        (
            "Добрый вечер, кабинет 305, 3 этаж, тел. 55-12-34",
            "305",
            "3",
            "551234",
        ),
        ("кабинет 305, 3 этаж, тел. 55-12-34", "305", "3", "551234"),
        (
            "Добрый день!\r\n\r\nКаб. 305, этаж 3, телефон 8 (4012) 55-12-34 доб. 204\r\n\r\nСпасибо",
            "305",
            "3",
            "4012551234",
        ),
    ];
    for (answer, room, floor, phone) in rows {
        let mut c = Conv::new();
        let id = c.appeal(INCOMPLETE);
        c.new_letters();
        c.user(&id, answer);
        let t = c.ticket(&id);
        assert_eq!(t.form.room.as_deref(), Some(room), "{answer:?}");
        assert_eq!(t.form.floor.as_deref(), Some(floor), "{answer:?}");
        let digits: String = t
            .form
            .phone
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert!(
            digits.ends_with(phone),
            "{answer:?}: phone {:?}",
            t.form.phone
        );
        assert_eq!(t.status(), "assigned", "{answer:?}");
        let sent = c.new_letters();
        assert!(
            sent.iter().any(|s| s.kind == "routed" && s.to_is(L2)),
            "{answer:?}: {:?}",
            summary(&sent)
        );
    }
}

/// Item 8: an answer that completes nothing still reaches the 1st line.
#[test]
fn item8_an_answer_completing_nothing_reaches_the_first_line() {
    let mut c = Conv::new();
    let id = c.appeal(INCOMPLETE);
    c.new_letters();
    c.user(&id, "Я же всё написала, позвоните мне, пожалуйста.");
    assert_eq!(c.ticket(&id).status(), "awaiting_user");
    let sent = c.new_letters();
    assert!(
        sent.iter()
            .any(|s| s.to_is(L1) && s.text.contains("позвоните мне")),
        "the 1st line sees it: {:?}",
        summary(&sent)
    );
}
