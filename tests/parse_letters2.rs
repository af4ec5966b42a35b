//! Letters, round two (issue 18): each class of letter that other help
//! desks' test mails and other people's letters tripped, on letters written
//! for it in `fixtures/letters2/`. The reading is checked on the parsed
//! letter; what the desk does with it (ticket, no answer, ignored) through
//! the real binary.

mod common;

use common::TestDesk;
use std::path::Path;
use ticketd::parse::{parse_letter, ParseOptions, ParsedLetter};

fn raw(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/letters2")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn parse(name: &str) -> ParsedLetter {
    parse_letter(&raw(name), &ParseOptions::default())
}

fn description(p: &ParsedLetter) -> &str {
    p.form.description.as_deref().unwrap_or("")
}

#[test]
fn a_sentence_with_a_dash_is_not_a_key() {
    let p = parse("01-dash-sentence.eml");
    assert_eq!(p.form.organization, None, "{:?}", p.form);
    let d = description(&p);
    assert!(
        d.contains("не работает СЭД — при открытии любого документа белый экран"),
        "description lost the sentence: {d:?}"
    );
    // The rest of the letter is still read.
    assert_eq!(p.form.room.as_deref(), Some("12"));
    assert_eq!(p.form.phone.as_deref(), Some("+74012550112"));
}

#[test]
fn slightly_broken_from_is_recovered_when_unambiguous() {
    let cases = [
        ("02-from-stray-bracket.eml", Some("sidorov@minfin.example")),
        (
            "03-from-space-in-brackets.eml",
            Some("sidorov@minfin.example"),
        ),
        (
            "04-from-space-in-local-part-confirmed.eml",
            Some("semyon.sidorov@minfin.example"),
        ),
        // "semyon sidorov@" could be semyon.sidorov, semyonsidorov,
        // semyon_sidorov: nothing says which, so no sender.
        ("05-from-space-in-local-part-unconfirmed.eml", None),
    ];
    for (name, want) in cases {
        let p = parse(name);
        assert_eq!(
            p.from.as_ref().map(|a| a.email.as_str()),
            want,
            "{name}: {:?}",
            p.from
        );
    }
    assert_eq!(
        parse("02-from-stray-bracket.eml")
            .from
            .and_then(|a| a.name)
            .as_deref(),
        Some("Сидоров Семён")
    );
}

#[test]
fn broken_from_still_quarantined_through_the_desk() {
    let desk = TestDesk::plain();
    let (v, code) = desk.ingest(&raw("05-from-space-in-local-part-unconfirmed.eml"));
    assert_eq!(code, 0);
    assert_eq!(v["outcome"], "quarantined", "{v}");
    let (v, _) = desk.ingest(&raw("02-from-stray-bracket.eml"));
    assert_eq!(v["outcome"], "created", "{v}");
}

/// Outgoing letters queued to `addr`.
fn queued_to(desk: &TestDesk, addr: &str) -> i64 {
    desk.db()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE recipients LIKE ?1",
            [format!("%{addr}%")],
            |r| r.get(0),
        )
        .expect("outbox query")
}

#[test]
fn auto_forwarded_is_a_ticket_without_an_automatic_answer() {
    for name in [
        "06-auto-forwarded.eml",
        "07-auto-submitted-unknown-value.eml",
    ] {
        let p = parse(name);
        assert_eq!(p.machine, None, "{name}: not machine mail");
        let desk = TestDesk::plain();
        let (v, code) = desk.ingest(&raw(name));
        assert_eq!(code, 0);
        assert_eq!(v["outcome"], "created", "{name}: {v}");
        let id = v["ticket"].as_str().expect("ticket id");
        assert_eq!(
            queued_to(&desk, "sidorov@minfin.example"),
            0,
            "{name}: no automatic answer (RFC 3834 §2)"
        );
        let t = desk.show(id);
        let history = t["history"].to_string();
        assert!(
            history.contains("Auto-Submitted"),
            "{name}: the history says why no answer went: {history}"
        );
        assert_eq!(t["full_name"], "Сидоров Семён Семёнович");
    }
    // The same letter without the header is answered.
    let desk = TestDesk::plain();
    let plain = String::from_utf8(raw("06-auto-forwarded.eml"))
        .expect("utf-8")
        .replace("Auto-Submitted: auto-forwarded\r\n", "");
    let (v, _) = desk.ingest(plain.as_bytes());
    assert_eq!(v["outcome"], "created");
    assert_eq!(queued_to(&desk, "sidorov@minfin.example"), 1);
}

/// An auto-forwarded follow-up that completes the form is read (the
/// fields are taken, the ticket routed) and answered by nobody.
#[test]
fn auto_forwarded_follow_up_completes_the_form_without_an_answer() {
    let desk = TestDesk::plain();
    let first = "From: Сидоров Семён <sidorov@minfin.example>\r\n\
        To: support@sed.example.org\r\nSubject: Заявка\r\n\
        Message-ID: <first@letters2.example>\r\n\
        Date: Mon, 02 Mar 2026 10:00:00 +0300\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n\
        Наименование органа исполнительной власти: Министерство финансов\r\n\
        Ф.И.О. пользователя: Сидоров Семён Семёнович\r\n\
        Местонахождение: каб. 214, 2 этаж\r\n\
        Описание возникшей проблемы: Не открывается карточка документа.\r\n";
    let (v, _) = desk.ingest(first.as_bytes());
    assert_eq!(v["outcome"], "created", "{v}");
    let id = v["ticket"].as_str().expect("ticket id").to_string();
    assert_eq!(desk.show(&id)["status"], "awaiting_user", "phone missing");
    let answered = queued_to(&desk, "sidorov@minfin.example");
    assert_eq!(answered, 1, "the clarification");
    let second = format!(
        "From: Сидоров Семён <sidorov@minfin.example>\r\n\
         To: support@sed.example.org\r\nSubject: Re: [{id}] Заявка\r\n\
         Auto-Submitted: auto-forwarded\r\n\
         Message-ID: <second@letters2.example>\r\n\
         In-Reply-To: <first@letters2.example>\r\n\
         Date: Mon, 02 Mar 2026 10:05:00 +0300\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Номер контактного телефона: 8 (4012) 55-20-14\r\n"
    );
    let (v, _) = desk.ingest(second.as_bytes());
    assert_eq!(v["outcome"], "updated", "{v}");
    let t = desk.show(&id);
    assert_ne!(t["status"], "awaiting_user", "the form is complete: {t}");
    assert_eq!(
        queued_to(&desk, "sidorov@minfin.example"),
        answered,
        "no registration letter answers an auto-forwarded letter"
    );
    assert!(
        t["history"].to_string().contains("Auto-Submitted"),
        "the history says why no answer went: {}",
        t["history"]
    );
}

#[test]
fn a_bounce_with_a_broken_from_is_ignored() {
    for name in [
        "08-bounce-report-broken-from.eml",
        "09-bounce-body-broken-from.eml",
    ] {
        let p = parse(name);
        assert_eq!(p.from, None, "{name}: From has no address");
        assert!(p.machine.is_some(), "{name}: a bounce");
        let desk = TestDesk::plain();
        let (v, code) = desk.ingest(&raw(name));
        assert_eq!(code, 0);
        assert_eq!(v["outcome"], "ignored", "{name}: {v}");
    }
}

#[test]
fn out_of_office_written_in_the_body_only() {
    for name in [
        "10-out-of-office-body-only-ru.eml",
        "11-out-of-office-body-only-en.eml",
    ] {
        let p = parse(name);
        assert!(p.machine.is_some(), "{name}: an out-of-office reply");
        let desk = TestDesk::plain();
        let (v, _) = desk.ingest(&raw(name));
        assert_eq!(v["outcome"], "ignored", "{name}: {v}");
    }
    // A subject about auto-replies alone, with a real request: a person.
    let p = parse("12-out-of-office-subject-but-real-request.eml");
    assert_eq!(p.machine, None);
}

#[test]
fn text_that_is_not_what_its_charset_says() {
    for name in [
        "13-declared-utf8-written-cp1251-html.eml",
        "14-declared-utf8-written-koi8r.eml",
        "15-declared-cp1251-written-cp866.eml",
        "16-declared-koi8r-written-cp1251.eml",
    ] {
        let p = parse(name);
        let d = description(&p);
        assert!(
            d.contains("При регистрации входящего документа программа выдаёт ошибку"),
            "{name}: {d:?}"
        );
        assert_eq!(
            p.form.full_name.as_deref(),
            Some("Сидоров Семён Семёнович"),
            "{name}"
        );
        assert_eq!(p.form.room.as_deref(), Some("214"), "{name}");
    }
}

#[test]
fn gb2312_is_read_as_gb18030() {
    let p = parse("17-gb2312-with-gbk-characters.eml");
    assert_eq!(p.subject, "喆玥的问题");
    assert_eq!(
        p.from.as_ref().and_then(|a| a.name.as_deref()),
        Some("王喆")
    );
    assert!(p.text.contains("堃 镕 喆 玥 珺 赟"), "{:?}", p.text);
    assert!(!p.text.contains('\u{FFFD}'));
    // GBK's other labels, and a four-byte GB18030 character.
    let p = parse("20-gbk-labels-cp936-euc-cn.eml");
    assert_eq!(p.subject, "喆玥的问题");
    assert!(p.text.contains("堃 镕 喆 玥 珺 赟 𠀀"), "{:?}", p.text);
}

#[test]
fn only_a_real_delimiter_starts_the_signature() {
    let p = parse("18-dash-lines-not-signature.eml");
    let d = description(&p);
    for want in [
        "При печати карточки документа печатается пустой лист.",
        "--- Эта строка начинается с разделителя, но это не подпись",
        "-- и эта тоже: текст после двух дефисов",
        // The short paragraph right before the real delimiter is text,
        // not a signature: the delimiter already cut the signature off.
        "Появилось после обновления.",
    ] {
        assert!(d.contains(want), "missing {want:?} in {d:?}");
    }
    assert!(!d.contains("гл. специалист"), "signature kept: {d:?}");
    assert!(!d.contains("С.С. Сидоров"), "signature kept: {d:?}");

    // Free text, format=flowed: the same.
    let p = parse("21-signature-after-short-paragraph-flowed.eml");
    let d = description(&p);
    assert!(
        d.contains("--- Эта строка начинается с разделителя, но это не подпись"),
        "{d:?}"
    );
    assert!(d.contains("Появилось после обновления."), "{d:?}");
    assert!(!d.contains("Сидоров"), "{d:?}");
}

#[test]
fn outlook_winmail_dat_gives_its_form_and_pictures() {
    let p = parse("19-outlook-winmail-dat.eml");
    assert_eq!(p.form.full_name.as_deref(), Some("Белова Ирина Олеговна"));
    assert_eq!(p.form.room.as_deref(), Some("508"));
    assert_eq!(p.form.floor.as_deref(), Some("5"));
    assert_eq!(p.form.phone.as_deref(), Some("+74012555008"));
    assert!(
        description(&p).contains("«Ошибка 0x80004005»"),
        "{:?}",
        p.form
    );
    let files: Vec<(&str, &str)> = p
        .attachments
        .iter()
        .map(|a| (a.filename.as_str(), a.content_type))
        .collect();
    assert_eq!(files, [("скриншот ошибки.png", "image/png")]);
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert!(p.notes.is_empty(), "{:?}", p.notes);

    // Through the desk: a complete ticket with the picture, no note.
    let desk = TestDesk::plain();
    let (v, _) = desk.ingest(&raw("19-outlook-winmail-dat.eml"));
    assert_eq!(v["outcome"], "created", "{v}");
    let t = desk.show(v["ticket"].as_str().expect("ticket"));
    assert_eq!(t["missing_fields"], serde_json::json!([]));
    assert_eq!(t["attachments"][0]["content_type"], "image/png");
}

#[test]
fn unreadable_winmail_dat_tells_the_sender_how_to_switch_outlook() {
    // The same letter with the TNEF bytes damaged past reading.
    let text = String::from_utf8(raw("19-outlook-winmail-dat.eml")).expect("ascii");
    let start = text
        .find("\r\n\r\neJ8+")
        .expect("TNEF base64 starts with the signature")
        + 4;
    let damaged = format!("{}AAAAAAAA{}", &text[..start], &text[start + 8..]);
    let p = parse_letter(damaged.as_bytes(), &ParseOptions::default());
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("Переключите Outlook на формат письма HTML")),
        "{:?}",
        p.notes
    );
    assert!(p.rejected.iter().any(|r| r.reason.starts_with("type")));
}
