//! Item 6: commands as engineers write them.

use super::harness::*;

/// Keyword lines after one greeting line are commands.
#[test]
fn item6_commands_after_a_greeting() {
    // (body, status after)
    let rows = [
        (
            "Добрый день!\r\n\r\nСтатус: Предложено решение\r\n\r\nПереустановите драйвер.",
            "solution_proposed",
        ),
        (
            "Здравствуйте, Мария Сергеевна!\r\nСтатус: Действие пользователя\r\n\r\nКакая модель принтера?",
            "awaiting_user",
        ),
    ];
    for (body, want) in rows {
        let mut c = Conv::new();
        let id = c.appeal(APPEAL);
        c.new_letters();
        c.engineer(ENG, &id, L2, body);
        let sent = c.new_letters();
        assert_eq!(c.ticket(&id).status, want, "{body:?}");
        assert!(
            sent.iter().any(|s| s.kind == "to_user" && s.to_is(USER)),
            "{body:?}: the user gets the text: {:?}",
            summary(&sent)
        );
    }
}
