//! Item 12: the user's words, as people write them.

use super::harness::*;

fn proposed() -> (Conv, String) {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    c.new_letters();
    (c, id)
}

#[test]
fn item12_confirmation_after_a_greeting() {
    for body in [
        "Добрый день!\r\n\r\nПодтверждаю, уведомления пришли",
        "Здравствуйте.\r\nПодтверждаю.\r\n\r\n-- \r\nИванова",
    ] {
        let (mut c, id) = proposed();
        c.user(&id, body);
        assert_eq!(c.ticket(&id).status(), "confirmed", "{body:?}");
        let sent = c.new_letters();
        assert!(
            sent.iter().any(|s| s.to_is(L2)),
            "{body:?}: the line is told: {:?}",
            summary(&sent)
        );
    }
}

#[test]
fn item12_thanks_asks_to_confirm() {
    let (mut c, id) = proposed();
    c.user(&id, "Спасибо, всё получилось!");
    assert_eq!(c.ticket(&id).status(), "solution_proposed");
    let sent = c.new_letters();
    assert!(
        sent.iter()
            .any(|s| s.to_is(USER) && s.kind == "ask_confirm" && s.text.contains("Подтверждаю")),
        "the user is asked to confirm: {:?}",
        summary(&sent)
    );
    assert!(
        sent.iter()
            .any(|s| s.to_is(L2) && s.text.contains("Спасибо")),
        "the line sees the thanks: {:?}",
        summary(&sent)
    );
}
