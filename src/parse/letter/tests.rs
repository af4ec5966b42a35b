//! Table tests for reading a whole letter.

use super::*;

#[test]
fn degraded_reading_keeps_sender_and_form() {
    let raw = "From: Иванов <ivanov@org.example>\r\nSubject: s\r\n\r\nФИО: Иванов И.И.\r\nТелефон: 55-12-34\r\n";
    let p = degraded(raw.as_bytes(), &ParseOptions::default());
    assert_eq!(
        p.from.map(|a| a.email).as_deref(),
        Some("ivanov@org.example")
    );
    assert_eq!(p.form.full_name.as_deref(), Some("Иванов И.И."));
    assert_eq!(p.form.phone.as_deref(), Some("+74012551234"));
    assert!(!p.notes.is_empty());
}

#[test]
fn raw_8bit_header_lines_reread_as_cp1251() {
    let mut raw = b"From: ".to_vec();
    raw.extend(encoding_rs::WINDOWS_1251.encode("Иванов").0.iter());
    raw.extend_from_slice(b" <i@org.example>\r\nSubject: ");
    raw.extend(encoding_rs::WINDOWS_1251.encode("Заявка").0.iter());
    raw.extend_from_slice(b"\r\n\r\nbody\xff");
    let p = parse(&raw, &ParseOptions::default());
    assert_eq!(p.subject, "Заявка");
    assert_eq!(p.from.and_then(|a| a.name).as_deref(), Some("Иванов"));
}

const FORM: &str = "Организация: Министерство финансов\r\n\
ФИО: Петрова Анна Ивановна\r\n\
Кабинет: 214, этаж 2\r\n\
Телефон: 8 (4012) 55-84-20\r\n\
Описание проблемы: Не открывается карточка документа.\r\n";

fn letter(subject: &str, body: &str) -> ParsedLetter {
    let raw = format!(
        "From: Иванова <ivanova@minfin.example.org>\r\nTo: support@sed.example.org\r\n\
         Subject: {subject}\r\nMessage-ID: <t@minfin.example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    );
    parse(raw.as_bytes(), &ParseOptions::default())
}

fn complete(p: &ParsedLetter) -> bool {
    p.form.missing().is_empty()
        && p.form.full_name.as_deref() == Some("Петрова Анна Ивановна")
        && p.form.phone.as_deref() == Some("+74012558420")
        && p.form.room.as_deref() == Some("214")
}

/// Issue 13, item 9: short introductory lines before a complete form,
/// greeting or not, leave the form whole.
#[test]
fn introductory_lines_before_the_form() {
    let intros = [
        "Писал вчера, ответа так и не получил. Повторяю:\r\n\r\n",
        "Писал вчера, ответа так и не получил. Повторяю:\r\n",
        "Здравствуйте. Вчера писала вам, ответа нет. Ниже заявка:\r\n",
        "Добрый день!\r\nВы писали 1 декабря, что заявку примут, но ответа нет. Повторяю:\r\n\r\n",
        "Мне написали, что форма неполная. Исправила:\r\n",
        "Пишу 2-й раз с адреса ivanova@minfin.example.org, ответьте:\r\n",
        "Повторяю заявку от 01.12.2026:\r\n",
        "Добрый день!\r\nПишу повторно, так как ответа нет.\r\n\r\n",
        "Писал(а) вчера — ответа нет. Повторяю:\r\n",
        "Добрый день.\r\nОбращаюсь повторно.\r\nЗаявка ниже:\r\n\r\n",
        // Worded as an attribution: cut as history, and the form under it
        // is still read (rule 13).
        "Я уже писала 01.12:\r\n",
        "Вчера в 15:00 писала:\r\n",
    ];
    for intro in intros {
        let p = letter("Карточка документа", &format!("{intro}{FORM}"));
        assert!(complete(&p), "{intro}: {:?}", p.form);
    }
}

/// Issue 13, item 14 (rule 13): a form forwarded below the history cut
/// point is read when the sender's own words hold none; the sender stays
/// the requester and the text stays the sender's own words.
#[test]
fn form_forwarded_below_the_history_cut() {
    let heads = [
        "-----Original Message-----\r\nFrom: Petrova <petrova@minfin.example.org>\r\nSent: Tuesday, December 1, 2026 9:00 AM\r\nTo: Ivanova\r\nSubject: Карточка\r\n\r\n",
        "-----Исходное сообщение-----\r\nОт: Петрова Анна <petrova@minfin.example.org>\r\nОтправлено: 1 декабря 2026 г. 9:00\r\nКому: Ивановой\r\nТема: Карточка\r\nВажность: Высокая\r\n\r\n",
        "От: Петрова Анна <petrova@minfin.example.org>\r\nОтправлено: 1 декабря 2026 г. 9:00\r\nКому: Ивановой\r\nТема: Карточка\r\n\r\n",
        "________________________________\r\nОт: Петрова Анна <petrova@minfin.example.org>\r\nОтправлено: 1 декабря 2026 г. 9:00\r\nТема: Карточка\r\n\r\n",
        "-------- Пересылаемое сообщение --------\r\nОт: Петрова <petrova@minfin.example.org>\r\nДата: 1 декабря\r\nТема: Карточка\r\n\r\n",
        "-------- Forwarded Message --------\r\nSubject: Карточка\r\nDate: Tue, 1 Dec 2026 09:00:00 +0200\r\nFrom: Petrova <petrova@minfin.example.org>\r\nTo: Ivanova\r\n\r\n",
        "01.12.2026 9:00, Петрова Анна пишет:\r\n",
    ];
    for head in heads {
        let p = letter(
            "FW: Карточка",
            &format!("Коллеги, пересылаю заявку сотрудницы.\r\n\r\n{head}{FORM}"),
        );
        assert!(complete(&p), "{head}: {:?}", p.form);
        // The requester is the sender, never the forwarded letter's From.
        assert_eq!(
            p.from.as_ref().map(|a| a.email.as_str()),
            Some("ivanova@minfin.example.org"),
            "{head}"
        );
        assert!(p.text.starts_with("Коллеги, пересылаю"), "{head}");
    }
    // The forwarder's words are the description when the form has none.
    let p = letter(
        "FW: Карточка",
        &format!(
            "Не открывается карточка документа у сотрудницы.\r\n\r\n{}ФИО: Петрова Анна Ивановна\r\nКабинет: 214, этаж 2\r\nТелефон: 55-84-20\r\n",
            heads[0]
        ),
    );
    assert!(p.form.missing().is_empty(), "{:?}", p.form);
    assert_eq!(
        p.form.description.as_deref(),
        Some("Не открывается карточка документа у сотрудницы.")
    );
    assert!(
        !p.text.contains("ФИО"),
        "the text is the sender's own: {}",
        p.text
    );
}

/// Where the forwarded form is not read: the sender's own words hold a
/// field, the letter is in a ticket's thread (what it quotes is the desk's
/// letter), or what is below the cut is no form; a bounce quoting a form
/// stays a bounce.
#[test]
fn forwarded_form_not_read() {
    let below = format!(
        "\r\n-----Original Message-----\r\nFrom: Служба <support@sed.example.org>\r\nSent: Tuesday\r\nSubject: [TP-2026-000001] Карточка\r\n\r\n{FORM}"
    );
    let cases = [
        // (subject, own words)
        ("Карточка", "Телефон: 55-12-34\r\nНе работает."),
        ("RE: [TP-2026-000001] Карточка", "Кабинет указала, жду."),
        ("Ответ: [ SD-2026-0000012 ] Карточка", "Спасибо."),
    ];
    for (subject, own) in cases {
        let p = letter(subject, &format!("{own}{below}"));
        assert_ne!(
            p.form.full_name.as_deref(),
            Some("Петрова Анна Ивановна"),
            "{subject}: {own}"
        );
    }
    // A reply (In-Reply-To) quotes the letter it answers: perhaps the
    // desk's, whatever its subject says.
    let raw = format!(
        "From: Иванова <ivanova@minfin.example.org>\r\nTo: support@sed.example.org\r\n\
         Subject: RE: Карточка\r\nIn-Reply-To: <desk-1@sed.example.org>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nСнова не работает.{below}\r\n"
    );
    let p = parse(raw.as_bytes(), &ParseOptions::default());
    assert_eq!(p.form.full_name, None);
    assert_eq!(p.form.description.as_deref(), Some("Снова не работает."));
    // One stray field below the cut is not a form.
    let p = letter(
        "FW: Карточка",
        "Посмотрите, пожалуйста.\r\n-----Original Message-----\r\nFrom: x\r\nSent: y\r\n\r\nТелефон: 55-84-20\r\n",
    );
    assert_eq!(p.form.phone, None);
    let p = letter(
        "Undelivered Mail Returned to Sender",
        &format!("This is the mail system at host mx.example.org.\r\nYour message could not be delivered to one or more recipients.{below}"),
    );
    assert!(p.machine.is_some(), "a bounce: {:?}", p.form);
}

/// Outlook's HTML forward: the header block in a bordered div, Table 2 as
/// an HTML table below it; alone and with its plain-text alternative.
#[test]
fn outlook_html_forward_with_a_table() {
    let html = "<html><body><div class=WordSection1><p class=MsoNormal>Коллеги, пересылаю.<o:p></o:p></p>\
<div><div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>От:</b> Петрова Анна &lt;petrova@minfin.example.org&gt;<br><b>Отправлено:</b> 1 декабря 2026 г. 9:00<br><b>Кому:</b> Иванова Мария<br><b>Тема:</b> Карточка<o:p></o:p></p></div></div>\
<table border=1><tr><td>N п/п</td><td>Наименование органа исполнительной власти</td><td>Ф.И.О. пользователя, его местонахождение (включая номер кабинета и этаж)</td><td>Номер контактного телефона</td><td>Описание возникшей проблемы</td><td>Примечание</td></tr>\
<tr><td>1</td><td>Минфин</td><td>Петрова Анна Ивановна, каб. 214, 2 этаж</td><td>8 (4012) 55-84-20</td><td>Ошибка при открытии карточки</td><td></td></tr></table></div></body></html>";
    let plain = format!("Коллеги, пересылаю.\r\n\r\nОт: Петрова Анна <petrova@minfin.example.org>\r\nОтправлено: 1 декабря 2026 г. 9:00\r\nТема: Карточка\r\n\r\n{FORM}");
    let head = "From: Иванова <ivanova@minfin.example.org>\r\nTo: support@sed.example.org\r\nSubject: FW: Карточка\r\nMessage-ID: <h@minfin.example.org>\r\nMIME-Version: 1.0\r\n";
    let letters = [
        format!("{head}Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n"),
        format!("{head}Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{plain}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--b--\r\n"),
    ];
    for raw in letters {
        let p = parse(raw.as_bytes(), &ParseOptions::default());
        assert!(p.form.missing().is_empty(), "{:?}", p.form);
        assert_eq!(p.form.full_name.as_deref(), Some("Петрова Анна Ивановна"));
        assert_eq!(p.form.phone.as_deref(), Some("+74012558420"));
        assert_eq!(p.text, "Коллеги, пересылаю.");
        assert_eq!(
            p.from.map(|a| a.email).as_deref(),
            Some("ivanova@minfin.example.org")
        );
    }
}
