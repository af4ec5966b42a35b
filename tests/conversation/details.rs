//! Items 14 (last sentence) and 15: engineers' letters thread in the user's
//! mail client; the details people noticed in the letters. The command-line
//! details of item 15 are in `conversation/details_cli.rs`.

use super::common::header;
use super::harness::*;

/// The history lines of a routed letter (below «История:»).
fn history_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("История:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::to_string)
        .collect()
}

fn only<'a>(sent: &'a [Sent], to: &str, kind: &str) -> &'a Sent {
    let found: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.to_is(to) && s.kind == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one `{kind}` letter to {to}: {:?}",
        summary(sent)
    );
    found[0]
}

/// Item 14: what an engineer writes to the user carries In-Reply-To and
/// References of the user's last letter, so mail clients thread it.
#[test]
fn item14_engineer_letters_thread() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    let appeal = c.last_id.clone();
    c.new_letters();
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Действие пользователя\r\n\r\nУточните, пожалуйста, модель принтера.",
    );
    let sent = c.new_letters();
    let question = only(&sent, USER, "to_user");
    assert_eq!(
        header(&question.raw, "in-reply-to").as_deref(),
        Some(appeal.as_str()),
        "the question answers the appeal"
    );
    assert_eq!(
        header(&question.raw, "references").as_deref(),
        Some(appeal.as_str())
    );
    let question_id = header(&question.raw, "message-id").expect("a Message-ID");

    // The user answers in their mail client, which threads the answer.
    c.send_with(
        USER,
        SUPPORT,
        &format!("Re: [{id}] Принтер"),
        &format!("In-Reply-To: <{question_id}>\r\nReferences: <{appeal}> <{question_id}>\r\n"),
        "Модель HP LaserJet 1020.",
    );
    let answer = c.last_id.clone();
    // The engineer's own letters are not the user's: not threaded under.
    c.engineer(
        ENG,
        &id,
        L2,
        "Статус: Предложено решение\r\n\r\nПереустановите драйвер с сайта производителя.",
    );
    let sent = c.new_letters();
    let proposal = only(&sent, USER, "to_user");
    assert_eq!(
        header(&proposal.raw, "in-reply-to").as_deref(),
        Some(answer.as_str()),
        "the proposal answers the user's last letter"
    );
    assert_eq!(
        header(&proposal.raw, "references"),
        Some(format!("{appeal} {question_id} {answer}")),
        "the whole thread, oldest first"
    );
    // The subject still carries the number (clients that do not thread).
    assert!(proposal.text.contains(&format!("[{id}]")));

    // The operator closes it on the user's behalf: that letter threads too.
    c.engineer(
        OP,
        &id,
        L1,
        "Статус: Подтверждено\r\n\r\nПользователь подтвердил по телефону.",
    );
    let sent = c.new_letters();
    let closed = only(&sent, USER, "closed");
    assert_eq!(
        header(&closed.raw, "in-reply-to").as_deref(),
        Some(answer.as_str())
    );

    // The `.eml` file outbox writes these headers as composed (SMTP sends
    // the same bytes: tests/mail_conversation.rs reads them back over IMAP).
    let out = c.desk.run_once();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proposal_id = header(&proposal.raw, "message-id");
    let eml = c
        .desk
        .outbox()
        .into_iter()
        .find(|raw| header(raw, "message-id") == proposal_id)
        .expect("the proposal as an .eml file");
    assert_eq!(
        header(&eml, "in-reply-to").as_deref(),
        Some(answer.as_str())
    );
    assert_eq!(
        header(&eml, "references"),
        Some(format!("{appeal} {question_id} {answer}"))
    );
}

/// Item 15: the extension («доб. 204») is in every letter that shows the
/// phone — the confirmation to the user and the routed letter to the line.
#[test]
fn item15_phone_extension_in_every_letter() {
    let mut c = Conv::new();
    let id = c.appeal(&APPEAL.replace("55-12-34", "55-12-34 доб. 204"));
    assert_eq!(c.ticket(&id).form.phone_ext.as_deref(), Some("204"));
    let sent = c.new_letters();
    let phone_lines = |s: &Sent| -> Vec<String> {
        s.text
            .lines()
            .filter(|l| l.trim_start().starts_with("Номер контактного телефона"))
            .map(str::to_string)
            .collect()
    };
    for (to, kind) in [(USER, "confirmation"), (L2, "routed")] {
        let l = only(&sent, to, kind);
        let lines = phone_lines(l);
        assert!(
            !lines.is_empty() && lines.iter().all(|p| p.contains("доб. 204")),
            "{kind} to {to} shows the extension: {lines:?}\n{}",
            l.text
        );
    }
}

/// Item 15: no note is no blank «Примечание: ________» — in the
/// confirmation, the clarification and the routed letter; a note given is
/// shown.
#[test]
fn item15_empty_note_is_not_a_blank() {
    let mut c = Conv::new();
    c.appeal(APPEAL);
    let sent = c.new_letters();
    for (to, kind) in [(USER, "confirmation"), (L2, "routed")] {
        let l = only(&sent, to, kind);
        assert!(
            !l.text.contains("Примечание"),
            "{kind} to {to} lists no empty note:\n{}",
            l.text
        );
        assert!(!l.text.contains("________"), "{kind}:\n{}", l.text);
    }
    // A clarification still shows the missing mandatory fields as blanks,
    // but not the note.
    c.appeal(INCOMPLETE);
    let sent = c.new_letters();
    let l = only(&sent, USER, "clarification");
    assert!(!l.text.contains("Примечание"), "{}", l.text);
    // A note given is shown.
    let with_note = APPEAL.replace(
        "\r\n\r\nС уважением,",
        "\r\nПримечание: звонить после 14:00\r\n\r\nС уважением,",
    );
    c.appeal(&with_note);
    let sent = c.new_letters();
    let l = only(&sent, USER, "confirmation");
    assert!(
        l.text.contains("Примечание") && l.text.contains("звонить после 14:00"),
        "{}",
        l.text
    );
}

/// Item 15: history summaries take the first meaningful line of a letter,
/// not its «Добрый день!».
#[test]
fn item15_history_summary_skips_greetings() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.user(
        &id,
        "Добрый день!\r\n\r\nПосле обновления принтер снова не печатает.\r\n\r\nС уважением,\r\nМария",
    );
    c.engineer(
        ENG,
        &id,
        L2,
        "Здравствуйте, коллеги!\r\nЛиния: 3\r\n\r\nУважаемые коллеги,\r\nпосмотрите драйвер на сервере печати.",
    );
    let sent = c.new_letters();
    let routed = only(&sent, L3, "routed");
    let history = history_lines(&routed.text);
    assert!(
        history
            .iter()
            .any(|l| l.ends_with("— После обновления принтер снова не печатает.")),
        "the user's letter by what it says: {history:#?}"
    );
    assert!(
        history.iter().all(|l| !l.ends_with("— Добрый день!")
            && !l.ends_with("— Здравствуйте, коллеги!")
            && !l.ends_with("— Уважаемые коллеги,")),
        "no greeting as a summary: {history:#?}"
    );
}
