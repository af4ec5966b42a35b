//! Letters written in other wordings, clients and charsets than the corpus
//! (the held-out set is built by other people under the same rules): each
//! case is a whole letter through `parse_letter`, checked field by field.

use ticketd::parse::{parse_letter, ParseOptions, ParsedLetter};

fn qp(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut col = 0;
    for &b in bytes {
        let piece = if b == b'\n' {
            col = 0;
            out.push_str("\r\n");
            continue;
        } else if b == b'=' || b >= 0x80 || b == b'\r' {
            format!("={b:02X}")
        } else {
            (b as char).to_string()
        };
        if col + piece.len() > 72 {
            out.push_str("=\r\n");
            col = 0;
        }
        col += piece.len();
        out.push_str(&piece);
    }
    out
}

fn letter(ctype: &str, charset: Option<&'static encoding_rs::Encoding>, body: &str) -> Vec<u8> {
    let bytes = match charset {
        Some(e) => e.encode(body).0.into_owned(),
        None => body.as_bytes().to_vec(),
    };
    let cs = charset
        .map(|e| format!("; charset={}", e.name()))
        .unwrap_or_default();
    let mut raw = format!(
        "From: Someone <user@org.example>\r\nTo: support@sed.example.org\r\nSubject: test\r\nMessage-ID: <x@y>\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}{cs}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(qp(&bytes).as_bytes());
    raw
}

struct Want {
    name: Option<&'static str>,
    room: Option<&'static str>,
    floor: Option<&'static str>,
    phone: Option<&'static str>,
    ext: Option<&'static str>,
    desc_has: &'static str,
    desc_lacks: &'static str,
}

fn check(what: &str, p: &ParsedLetter, w: &Want) {
    let f = &p.form;
    assert_eq!(f.full_name.as_deref(), w.name, "{what}: name in {f:#?}");
    assert_eq!(f.room.as_deref(), w.room, "{what}: room in {f:#?}");
    assert_eq!(f.floor.as_deref(), w.floor, "{what}: floor in {f:#?}");
    assert_eq!(f.phone.as_deref(), w.phone, "{what}: phone in {f:#?}");
    assert_eq!(f.phone_ext.as_deref(), w.ext, "{what}: ext in {f:#?}");
    let d = f.description.as_deref().unwrap_or("");
    assert!(d.contains(w.desc_has), "{what}: description {d:?}");
    if !w.desc_lacks.is_empty() {
        assert!(!d.contains(w.desc_lacks), "{what}: description {d:?}");
    }
}

#[test]
fn outlook_html_cp1251_key_value_with_quoted_reply() {
    let html = "<html><head><meta http-equiv=Content-Type content=\"text/html; charset=windows-1251\"><style>p.MsoNormal{margin:0}</style></head>\
<body><div class=WordSection1><p class=MsoNormal><b><span>Ф.И.О.:</span></b><span> Громова Алла Петровна<o:p></o:p></span></p>\
<p class=MsoNormal><b>Местонахождение:</b> эт. 3, каб. 312<o:p></o:p></p>\
<p class=MsoNormal><b>Тел.:</b> 8&nbsp;(4012)&nbsp;55-66-77, доб.&nbsp;21<o:p></o:p></p>\
<p class=MsoNormal><b>Описание проблемы:</b> не открывается журнал<o:p></o:p></p>\
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>От:</b> Служба поддержки<br><b>Отправлено:</b> 3 марта 2026 г.<br><b>Тема:</b> заявка</p></div>\
<p class=MsoNormal>ФИО: Чужой Человек</p><p>Описание проблемы: старая проблема</p></div></body></html>";
    let p = parse_letter(
        &letter("text/html", Some(encoding_rs::WINDOWS_1251), html),
        &ParseOptions::default(),
    );
    check(
        "outlook",
        &p,
        &Want {
            name: Some("Громова Алла Петровна"),
            room: Some("312"),
            floor: Some("3"),
            phone: Some("+74012556677"),
            ext: Some("21"),
            desc_has: "не открывается журнал",
            desc_lacks: "старая проблема",
        },
    );
}

#[test]
fn koi8r_html_meta_only_transposed_with_numbers() {
    let html = "<html><head><meta charset=\"koi8-r\"></head><body><table>\
<tr><td>1</td><td>Орган</td><td>Агентство по делам молодёжи</td></tr>\
<tr><td>2</td><td>Пользователь</td><td>Лисин К.К.</td></tr>\
<tr><td>3</td><td>Кабинет/этаж</td><td>14/2</td></tr>\
<tr><td>4</td><td>Контактный телефон</td><td>55-12-34 (вн. 3)</td></tr>\
<tr><td>5</td><td>Суть проблемы</td><td>Не печатает принтер</td></tr></table></body></html>";
    // No charset parameter: the <meta> names it.
    let body = encoding_rs::KOI8_R.encode(html).0.into_owned();
    let mut raw = b"From: user@org.example\r\nSubject: t\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    raw.extend_from_slice(&body);
    let p = parse_letter(&raw, &ParseOptions::default());
    check(
        "koi8 transposed",
        &p,
        &Want {
            name: Some("Лисин К.К."),
            room: Some("14"),
            floor: Some("2"),
            phone: Some("+74012551234"),
            ext: Some("3"),
            desc_has: "Не печатает принтер",
            desc_lacks: "",
        },
    );
    assert_eq!(
        p.form.organization.as_deref(),
        Some("Агентство по делам молодёжи")
    );
}

#[test]
fn gmail_html_quote_and_plain_other_order() {
    let html = "<div dir=\"ltr\"><div>Тел. 8 911 000-11-22</div><div>ФИО - Ершов Ерофей</div><div>Адрес - 2-й этаж, кабинет № 20</div>\
<div>Проблема - нет доступа к папке «Входящие»</div><div><br></div>\
<div class=\"gmail_quote\"><div class=\"gmail_attr\">пн, 2 мар. 2026 г. в 09:20, Служба &lt;support@sed.example.org&gt;:</div>\
<blockquote class=\"gmail_quote\">Пришлите, пожалуйста, заявку: ФИО, телефон</blockquote></div></div>";
    let p = parse_letter(&letter("text/html", None, html), &ParseOptions::default());
    check(
        "gmail",
        &p,
        &Want {
            name: Some("Ершов Ерофей"),
            room: Some("20"),
            floor: Some("2"),
            phone: Some("+79110001122"),
            ext: None,
            desc_has: "нет доступа к папке «Входящие»",
            desc_lacks: "Пришлите",
        },
    );
}

#[test]
fn plain_numbered_items_value_on_next_line() {
    let text = "Здравствуйте!\n\n1. Наименование органа:\nМинистерство спорта\n2. ФИО:\nЖуков Ж.Ж.\n3. Кабинет: 7а\n4. Этаж: 1\n5. Телефон:\n+7 (40153) 2-11-00\n6. Описание проблемы:\nПосле обновления не открывается СЭД.\nОшибка: 403 Forbidden.\n\nС уважением,\nЖуков\n";
    let p = parse_letter(
        &letter("text/plain", Some(encoding_rs::UTF_8), text),
        &ParseOptions::default(),
    );
    check(
        "numbered",
        &p,
        &Want {
            name: Some("Жуков Ж.Ж."),
            room: Some("7а"),
            floor: Some("1"),
            phone: Some("+74015321100"),
            ext: None,
            desc_has: "Ошибка: 403 Forbidden.",
            desc_lacks: "С уважением",
        },
    );
    assert_eq!(p.form.organization.as_deref(), Some("Министерство спорта"));
}

#[test]
fn inline_forward_keeps_the_request() {
    let text = "Коллеги, пересылаю.\n\n-------- Пересылаемое сообщение --------\nОт: Фомина <f@org.example>\nДата: 02.03.2026\nТема: Заявка\n\nФИО: Фомина Фаина Фёдоровна\nМестонахождение: каб. 5, 1 этаж\nТелефон: 55-00-11\nОписание проблемы: не приходят уведомления\n";
    let p = parse_letter(
        &letter("text/plain", Some(encoding_rs::UTF_8), text),
        &ParseOptions::default(),
    );
    check(
        "inline forward",
        &p,
        &Want {
            name: Some("Фомина Фаина Фёдоровна"),
            room: Some("5"),
            floor: Some("1"),
            phone: Some("+74012550011"),
            ext: None,
            desc_has: "не приходят уведомления",
            desc_lacks: "",
        },
    );
}

#[test]
fn no_form_is_all_description_and_no_sender_is_none() {
    let p = parse_letter(
        "From: \"Scanner\" <>\r\nSubject: x\r\n\r\nДобрый день!\r\nНе работает сканер в 305 кабинете, тел 55-12-34.\r\n".as_bytes(),
        &ParseOptions::default(),
    );
    assert!(p.from.is_none());
    assert_eq!(p.form.phone, None);
    assert!(p
        .form
        .description
        .as_deref()
        .unwrap_or("")
        .contains("Не работает сканер"));
    let p = parse_letter(b"Subject: x\r\n\r\nbody", &ParseOptions::default());
    assert!(p.from.is_none());
}

#[test]
fn plain_stub_next_to_html_letter() {
    let raw = "From: user@org.example\r\nSubject: t\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nВключите HTML.\r\n\
--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Добрый день!</p><p>Не открывается карточка документа после обновления браузера, помогите.</p>\r\n--b--\r\n";
    let p = parse_letter(raw.as_bytes(), &ParseOptions::default());
    let d = p.form.description.as_deref().unwrap_or("");
    assert!(d.contains("Не открывается карточка"), "{d:?}");
}

#[test]
fn titles_as_paragraphs_after_a_key_value_line() {
    let text = "Наименование органа: Министерство природных ресурсов и экологии Калининградской области\nФ.И.О. пользователя\nГусев Г.Г.\nМестонахождение\nкаб. 12, 3 этаж\nНомер контактного телефона\n8 (4012) 55-12-34\nОписание возникшей проблемы\nНе открывается почта.\n";
    let raw = format!("From: user@org.example\r\nSubject: t\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}");
    let p = parse_letter(raw.as_bytes(), &ParseOptions::default());
    let f = &p.form;
    assert_eq!(
        f.organization.as_deref(),
        Some("Министерство природных ресурсов и экологии Калининградской области")
    );
    assert_eq!(f.full_name.as_deref(), Some("Гусев Г.Г."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("12"), Some("3"))
    );
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
    assert_eq!(f.description.as_deref(), Some("Не открывается почта."));
}

#[test]
fn outlook_paragraph_rendering_with_separate_location_column() {
    let text = "Добрый день!\n\nФ.И.О. пользователя\n\nМестонахождение (кабинет, этаж)\n\nТелефон\n\nОписание проблемы\n\nЛеонов Л.Л.\n\nкабинет 12, этаж 1\n\n8 (4012) 55-27-90\n\nНе приходят уведомления\n\nЛеонов\n";
    let raw = format!("From: user@org.example\r\nSubject: t\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}");
    let p = parse_letter(raw.as_bytes(), &ParseOptions::default());
    let f = &p.form;
    assert_eq!(f.full_name.as_deref(), Some("Леонов Л.Л."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("12"), Some("1"))
    );
    assert_eq!(f.phone.as_deref(), Some("+74012552790"));
    assert_eq!(f.description.as_deref(), Some("Не приходят уведомления"));
}

#[test]
fn outlook_html_table_beats_its_shifted_text_rendering() {
    // Outlook renders an empty cell as nothing: the text values shift.
    let plain = "ФИО\r\n\r\nОрганизация\r\n\r\nТелефон\r\n\r\nОписание проблемы\r\n\r\nКабинет, этаж\r\n\r\nСидоров С.С.\r\n\r\n55-12-34\r\n\r\nНе входит\r\n\r\nкаб. 5, 2 этаж\r\n\r\nСидоров\r\n";
    let html = "<table><tr><td>ФИО</td><td>Организация</td><td>Телефон</td><td>Описание проблемы</td><td>Кабинет, этаж</td></tr>\
<tr><td>Сидоров С.С.</td><td></td><td>55-12-34</td><td>Не входит</td><td>каб. 5, 2 этаж</td></tr></table><p>Сидоров</p>";
    let raw = format!(
        "From: user@org.example\r\nSubject: t\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    );
    let p = parse_letter(raw.as_bytes(), &ParseOptions::default());
    let f = &p.form;
    assert_eq!(f.organization, None);
    assert_eq!(f.phone.as_deref(), Some("+74012551234"));
    assert_eq!(f.description.as_deref(), Some("Не входит"));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("5"), Some("2"))
    );
}

#[test]
fn smime_signature_is_neither_kept_nor_refused() {
    let raw = "From: user@org.example\r\nSubject: t\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"s\"\r\n\r\n\
--s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nФИО: Лаврова Л.Л.\r\n\r\n\
--s\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==\r\n--s--\r\n";
    let p = parse_letter(raw.as_bytes(), &ParseOptions::default());
    assert_eq!(p.form.full_name.as_deref(), Some("Лаврова Л.Л."));
    assert!(p.attachments.is_empty());
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
}

fn plain(text: &str, extra_headers: &str) -> Vec<u8> {
    format!("From: user@org.example\r\nSubject: t\r\n{extra_headers}\r\n{text}").into_bytes()
}

#[test]
fn thebat_cp1251_8bit_short_keys() {
    let text = "Здравствуйте!\r\n\r\nОрганизация: Агентство по туризму\r\nФИО: Клименко Кира Олеговна\r\nКабинет/этаж: 214/2\r\nТел.: 8(4012)55-19-83 вн.123\r\nПроблема: не отправляется поручение\r\n\r\n--\r\nС уважением,\r\nКлименко К.О. тел. 55-00-00\r\n";
    let mut raw = b"From: user@org.example\r\nSubject: t\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    raw.extend(encoding_rs::WINDOWS_1251.encode(text).0.iter());
    let p = parse_letter(&raw, &ParseOptions::default());
    let f = &p.form;
    assert_eq!(f.full_name.as_deref(), Some("Клименко Кира Олеговна"));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("214"), Some("2"))
    );
    assert_eq!(f.phone.as_deref(), Some("+74012551983"));
    assert_eq!(f.phone_ext.as_deref(), Some("123"));
    assert_eq!(f.description.as_deref(), Some("не отправляется поручение"));
}

#[test]
fn thunderbird_flowed_key_value_with_quote() {
    let text = "ФИО: Орлов Олег Олегович\r\nМестонахождение: 3 эт., каб. 301\r\nТелефон: +7 911 000-12-34\r\nОписание проблемы: после обновления браузера не открываются вложения \r\nв карточке документа, появляется белый экран.\r\n\r\n12.03.2026 10:15, Служба технической поддержки СЭД пишет:\r\n> Пришлите заявку по форме.\r\n";
    let p = parse_letter(
        &plain(text, "Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n"),
        &ParseOptions::default(),
    );
    let f = &p.form;
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("301"), Some("3"))
    );
    assert_eq!(f.phone.as_deref(), Some("+79110001234"));
    let d = f.description.as_deref().unwrap_or("");
    assert!(
        d.contains("не открываются вложения в карточке документа"),
        "{d:?}"
    );
    assert!(!d.contains("Пришлите"), "{d:?}");
    assert!(!p.text.contains("Пришлите"));
}

#[test]
fn yandex_html_key_value_with_attribution_and_blockquote() {
    let html = "<div>ФИО: Панова Полина</div><div>Кабинет: 12а, этаж 1</div><div>Телефон: 55-43-21 доб. 7</div>\
<div>Описание: не работает поиск</div><div>&nbsp;</div><div>02.03.2026, 09:20, \"Служба\" &lt;support@sed.example.org&gt;:</div>\
<blockquote><div>ФИО: Чужой</div></blockquote>";
    let p = parse_letter(
        &plain(html, "Content-Type: text/html; charset=utf-8\r\n"),
        &ParseOptions::default(),
    );
    let f = &p.form;
    assert_eq!(f.full_name.as_deref(), Some("Панова Полина"));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("12а"), Some("1"))
    );
    assert_eq!(f.phone_ext.as_deref(), Some("7"));
    assert_eq!(f.description.as_deref(), Some("не работает поиск"));
}

#[test]
fn markdown_pipe_table_other_column_order() {
    let text = "| Телефон | Описание проблемы | ФИО | Кабинет, этаж | Организация |\n|---|---|---|---|---|\n| 8 (40153) 2-11-00 | Нет доступа к журналу | Мельник М.М. | 7, 2 | Администрация округа |\n";
    let p = parse_letter(
        &plain(text, "Content-Type: text/plain; charset=utf-8\r\n"),
        &ParseOptions::default(),
    );
    let f = &p.form;
    assert_eq!(f.full_name.as_deref(), Some("Мельник М.М."));
    assert_eq!(
        (f.room.as_deref(), f.floor.as_deref()),
        (Some("7"), Some("2"))
    );
    assert_eq!(f.phone.as_deref(), Some("+74015321100"));
    assert_eq!(f.organization.as_deref(), Some("Администрация округа"));
    assert_eq!(f.description.as_deref(), Some("Нет доступа к журналу"));
}
