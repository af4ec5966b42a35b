//! Items 1–3: a person's words always reach the person they are for.

use super::harness::*;

/// Item 1: the limit of automatic letters never holds back an engineer's
/// words; the engineer's «принято» goes out too.
#[test]
fn item1_engineer_words_are_not_automatic_letters() {
    let mut c = Conv::with(|cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("loops") {
            t.insert("max_auto_per_day".into(), 2.into());
        }
    });
    let id = c.appeal(APPEAL);
    // registration and «принято в работу» to the user: the limit is reached.
    c.new_letters();
    for n in 1..=3 {
        let o = c.engineer(
            ENG,
            &id,
            L2,
            &format!("Статус: Действие пользователя\r\n\r\nВопрос {n}: какая модель принтера?"),
        );
        assert_eq!(o, "updated");
        let sent = c.new_letters();
        assert!(
            sent.iter().any(|s| s.kind == "to_user"
                && s.to_is(USER)
                && s.text.contains(&format!("Вопрос {n}"))),
            "question {n} reaches the user: {:?}",
            summary(&sent)
        );
        assert!(
            sent.iter()
                .any(|s| s.kind == "command_done" && s.to_is(ENG)),
            "question {n}: the engineer's «принято»: {:?}",
            summary(&sent)
        );
    }
    assert_eq!(c.ticket(&id).status(), "awaiting_user");
}

/// Item 2: the words after `Линия:` / `Исполнитель:` travel with the
/// handover, both ways, and stay in the history.
#[test]
fn item2_handover_comments_reach_the_next_line() {
    // (who, from line mailbox, command, comment, to mailbox)
    let rows = [
        (
            ENG,
            L2,
            "Линия: 3",
            "Коллеги, это не консультация, прошу посмотреть индекс",
            L3,
        ),
        (
            ENG,
            L2,
            "Исполнитель: eng2@sed.example.org",
            "Женя, возьми, пожалуйста, я в отпуске",
            L2,
        ),
    ];
    for (who, from, cmd, comment, to) in rows {
        let mut c = Conv::new();
        let id = c.appeal(APPEAL);
        c.new_letters();
        let o = c.engineer(who, &id, from, &format!("{cmd}\r\n\r\n{comment}"));
        assert_eq!(o, "updated");
        let sent = c.new_letters();
        assert!(
            sent.iter()
                .any(|s| s.kind == "routed" && s.to_is(to) && s.text.contains(comment)),
            "{cmd}: the routed letter to {to} carries the comment: {:?}",
            summary(&sent)
        );
        let t = c.ticket(&id);
        assert!(
            t.history
                .iter()
                .any(|h| h.detail.as_deref().is_some_and(|d| d.contains(comment))),
            "{cmd}: the comment is in the history whole"
        );
    }
    // Handed back from line 3 to line 2 with the fix described.
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.engineer(ENG, &id, L2, "Линия: 3\r\n\r\nПосмотрите индекс.");
    c.new_letters();
    let fix = "Индекс перестроен, проверьте печать у пользователя";
    c.engineer(DEV, &id, L3, &format!("Линия: 2\r\n\r\n{fix}"));
    let sent = c.new_letters();
    assert!(
        sent.iter()
            .any(|s| s.kind == "routed" && s.to_is(L2) && s.text.contains(fix)),
        "line 3 → line 2 carries the fix: {:?}",
        summary(&sent)
    );
}

/// Item 3: «Не помогло» returns the ticket to the line, the line is told,
/// and the next proposal reaches the user.
#[test]
fn item3_not_helped_then_a_second_proposal() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
    );
    assert_eq!(c.ticket(&id).status(), "solution_proposed");
    c.new_letters();
    c.user(
        &id,
        "Добрый день!\r\n\r\nНе помогло, ошибка осталась.\r\n\r\nИванова",
    );
    let sent = c.new_letters();
    assert_eq!(c.ticket(&id).status(), "assigned", "back to the line");
    assert!(
        sent.iter()
            .any(|s| s.kind == "from_user" && s.to_is(L2) && s.text.contains("Не помогло")),
        "the line is told: {:?}",
        summary(&sent)
    );
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nОбновите прошивку принтера.",
    );
    let sent = c.new_letters();
    assert_eq!(c.ticket(&id).status(), "solution_proposed");
    assert!(
        sent.iter()
            .any(|s| s.kind == "to_user" && s.to_is(USER) && s.text.contains("прошивку")),
        "the second proposal reaches the user: {:?}",
        summary(&sent)
    );
    // And a proposal repeated without the user's answer is sent too.
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nИ ещё: перезагрузите компьютер.",
    );
    let sent = c.new_letters();
    assert!(
        sent.iter()
            .any(|s| s.kind == "to_user" && s.to_is(USER) && s.text.contains("перезагрузите")),
        "a repeated proposal is sent: {:?}",
        summary(&sent)
    );
}
