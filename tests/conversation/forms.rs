//! Items 9 and 14: the form as users send it — under an introductory
//! line, or forwarded below Outlook's «-----Original Message-----».

use super::harness::*;

/// Another employee's complete form (an error: an incident for line 2).
const COLLEAGUE_FORM: &str = "Организация: Министерство финансов\r\n\
ФИО: Петрова Анна Ивановна\r\n\
Кабинет: 214, этаж 2\r\n\
Телефон: 8 (4012) 55-84-20\r\n\
Описание проблемы: При открытии карточки документа выходит ошибка.\r\n";

/// Item 9: one introductory line before a complete Table 2 leaves the
/// form whole: the ticket is registered complete, confirmed to the user
/// and routed, not sent back with every field asked for.
#[test]
fn item9_introductory_line_before_the_form() {
    for intro in [
        "Писал вчера, ответа так и не получил. Повторяю:\r\n\r\n",
        "Здравствуйте. Вчера писала вам, ответа нет. Ниже заявка:\r\n",
    ] {
        let mut c = Conv::new();
        let id = c.appeal(&format!(
            "{intro}{}",
            APPEAL.trim_start_matches("Добрый день!\r\n\r\n")
        ));
        let t = c.ticket(&id);
        assert_ne!(t.status(), "awaiting_user", "{intro}");
        assert_eq!(t.form.full_name.as_deref(), Some("Иванова Мария Сергеевна"));
        assert_eq!(
            (t.form.room.as_deref(), t.form.floor.as_deref()),
            (Some("305"), Some("3"))
        );
        assert_eq!(t.form.phone.as_deref(), Some("+74012551234"));
        assert_eq!(t.kind, "incident", "{intro}");
        assert_eq!(t.line, 2, "{intro}");
        let sent = c.new_letters();
        assert!(
            sent.iter()
                .any(|s| s.kind == "confirmation" && s.to_is(USER)),
            "{intro}: {:?}",
            summary(&sent)
        );
        assert!(
            !sent.iter().any(|s| s.kind == "clarification"),
            "{intro}: {:?}",
            summary(&sent)
        );
        assert!(
            sent.iter().any(|s| s.kind == "routed" && s.to_is(L2)),
            "{intro}: {:?}",
            summary(&sent)
        );
    }
}

/// Item 14: an Outlook forward whose complete form sits below
/// «-----Original Message-----» registers that form; the requester stays
/// the sender (From), never the forwarded letter's «From:», and only the
/// sender hears from the desk. In a ticket's thread the quoted part is the
/// desk's own letter and completes nothing.
#[test]
fn item14_outlook_forward_form_below_original_message() {
    let mut c = Conv::new();
    let body = format!(
        "Коллеги, пересылаю заявку сотрудницы, у неё не работает СЭД.\r\n\r\n\
         -----Original Message-----\r\n\
         From: Petrova Anna <petrova@minfin.example.org>\r\n\
         Sent: Tuesday, December 1, 2026 9:00 AM\r\n\
         To: Ivanova Maria <{USER}>\r\n\
         Subject: Карточка документа\r\n\r\n{COLLEAGUE_FORM}"
    );
    let (o, id) = c.send(USER, SUPPORT, "FW: Карточка документа", &body);
    assert_eq!(o, "created");
    let t = c.ticket(&id);
    assert_eq!(t.requester, USER);
    assert_ne!(t.status(), "awaiting_user");
    assert_eq!(t.form.full_name.as_deref(), Some("Петрова Анна Ивановна"));
    assert_eq!(
        (t.form.room.as_deref(), t.form.floor.as_deref()),
        (Some("214"), Some("2"))
    );
    assert_eq!(t.form.phone.as_deref(), Some("+74012558420"));
    assert_eq!(t.kind, "incident");
    assert_eq!(t.line, 2);
    let sent = c.new_letters();
    assert!(
        sent.iter()
            .any(|s| s.kind == "confirmation" && s.to_is(USER)),
        "{:?}",
        summary(&sent)
    );
    assert!(
        !sent
            .iter()
            .any(|s| s.to_is("petrova@minfin.example.org") || s.kind == "clarification"),
        "{:?}",
        summary(&sent)
    );

    // A reply in the ticket's thread quoting a form below the same marker
    // completes nothing: that quote is the desk's letter.
    let id2 = c.appeal(INCOMPLETE);
    c.new_letters();
    c.user(
        &id2,
        "Уточню позже.\r\n\r\n-----Original Message-----\r\nFrom: support\r\nSent: Wednesday\r\n\r\n\
         Кабинет: 999, этаж 9\r\nТелефон: 8 (4012) 00-00-00\r\n",
    );
    let t2 = c.ticket(&id2);
    assert_eq!(t2.status(), "awaiting_user");
    assert_eq!((t2.form.room, t2.form.phone), (None, None));
}
