//! Table 2 appeals as users write them, for the mail tests: a plain-text
//! `Key: value` form with a unique Message-ID and subject tag, so a test can
//! find the auto-reply its letter caused.

/// A complete Table 2 appeal from `from`, tagged `tag` (in Subject and Message-ID).
pub fn appeal(from: &str, tag: &str) -> Vec<u8> {
    appeal_with_body(from, tag, "")
}

/// As [`appeal`], with `extra` appended to the problem description.
pub fn appeal_with_body(from: &str, tag: &str, extra: &str) -> Vec<u8> {
    let body = format!(
        "Добрый день!\r\n\r\n\
         Наименование органа исполнительной власти: Министерство здравоохранения\r\n\
         Ф.И.О. пользователя: Смирнова Ольга Викторовна\r\n\
         Местонахождение: кабинет 305, 3 этаж\r\n\
         Номер контактного телефона: 8 (4012) 55-12-34\r\n\
         Описание возникшей проблемы: не открывается карточка входящего документа {tag}, \
         при открытии появляется ошибка «Доступ запрещён». {extra}\r\n\
         Примечание: срочно\r\n\r\n\
         С уважением, Смирнова О.В.\r\n"
    );
    let mut out = format!(
        "From: Smirnova <{from}>\r\n\
         To: support@sed.example.org\r\n\
         Subject: Problem {tag}\r\n\
         Date: Mon, 02 Mar 2026 09:14:27 +0200\r\n\
         Message-ID: <{tag}@test.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// A letter of about `size` bytes (a base64 attachment pads it).
pub fn big_appeal(from: &str, tag: &str, size: usize) -> Vec<u8> {
    let head = format!(
        "From: <{from}>\r\nTo: support@sed.example.org\r\nSubject: Big {tag}\r\n\
         Message-ID: <{tag}@test.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nСкриншот во вложении.\r\n--b\r\n\
         Content-Type: application/octet-stream; name=\"dump.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    );
    let mut out = head.into_bytes();
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    while out.len() < size {
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b"--b--\r\n");
    out
}
