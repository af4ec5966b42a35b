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
        assert_eq!(c.ticket(&id).status(), want, "{body:?}");
        assert!(
            sent.iter().any(|s| s.kind == "to_user" && s.to_is(USER)),
            "{body:?}: the user gets the text: {:?}",
            summary(&sent)
        );
    }
}

/// A reply that meant a command but was not applied gets a short answer
/// saying what was understood; a typo in a key gets a did-you-mean.
#[test]
fn item6_what_was_not_applied_is_answered() {
    // (subject, body, the answer names)
    let rows = [
        (
            None,
            "Добрый день, коллеги.\r\nПосмотрел логи сервера печати.\r\n\r\nСтатус: Предложено решение\r\n\r\nПереустановите драйвер.",
            "в начале письма",
        ),
        (
            Some("Статус: Предложено решение"),
            "Переустановите драйвер.",
            "только в теме",
        ),
        (None, "Стаус: Предложено решение\r\n\r\nПереустановите драйвер.", "возможно, «Статус»"),
    ];
    for (subject, body, says) in rows {
        let mut c = Conv::new();
        let id = c.appeal(APPEAL);
        c.new_letters();
        let proof = c.proof(&id, L2);
        let subject = match subject {
            Some(s) => format!("RE: [{id}] {s}"),
            None => format!("RE: [{id}] Принтер"),
        };
        c.send(ENG, &proof, &subject, body);
        assert_eq!(c.ticket(&id).status(), "assigned", "{body:?}: not applied");
        let sent = c.new_letters();
        let answer = sent
            .iter()
            .find(|s| s.to_is(ENG) && s.kind == "refusal")
            .unwrap_or_else(|| panic!("{body:?}: the engineer is answered: {:?}", summary(&sent)));
        assert!(answer.text.contains(says), "{body:?}: {}", answer.text);
        assert!(
            !answer.text.contains("line 1") && !answer.text.contains("линия 1"),
            "«строка N письма», never read as a support line: {}",
            answer.text
        );
    }
}

/// A reply from the line's shared mailbox with the proof acts for the line;
/// without it, it is recorded and nobody is answered.
#[test]
fn item6_the_line_mailbox_acts_for_its_line() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.new_letters();
    let (o, _) = c.send(
        L2,
        SUPPORT,
        &format!("RE: [{id}] Принтер"),
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    assert_eq!(o, "updated");
    assert_eq!(c.ticket(&id).status(), "assigned", "no proof: not applied");
    assert!(c.new_letters().is_empty(), "and nobody answered");
    c.engineer(
        L2,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    assert_eq!(c.ticket(&id).status(), "solution_proposed");
    let sent = c.new_letters();
    assert!(
        sent.iter().any(|s| s.to_is(USER) && s.kind == "to_user"),
        "{:?}",
        summary(&sent)
    );
}
