//! Every letter ticketd sends is clean (issue 11, Must show 6): the whole
//! letter corpus and the real-world set go through one desk (the example
//! config, file outbox), with letters made to break headers besides; every
//! outgoing letter is then scanned: no header line over 998 characters,
//! none over 78 where it could be folded, `Precedence: bulk` on automatic
//! notices, long subjects shortened with an ellipsis.

mod common;

use common::{base64, header, TestDesk};
use std::path::PathBuf;

/// Letters made to produce long headers: a 200 KB subject in one word, a
/// long Cyrillic subject, emoji, a Message-ID of 3000 characters, a long
/// attachment name.
fn hostile_letters(dir: &std::path::Path) -> Vec<PathBuf> {
    let form = "Наименование органа исполнительной власти: Министерство финансов\r\n\
                Ф.И.О. пользователя: Петров Пётр Петрович\r\n\
                Местонахождение: каб. 101, 1 этаж\r\n\
                Номер контактного телефона: +7 (4012) 55-00-01\r\n\
                Описание возникшей проблемы: Не открывается карточка документа, ошибка.\r\n";
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";
    let letter = |n: usize, subject: &str, mid: &str, body: String| {
        format!(
            "From: user{n}@example.com\r\nTo: support@sed.example.org\r\nSubject: {subject}\r\n\
             Message-ID: <{mid}>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\n{body}"
        )
    };
    let plain = |text: &str| {
        format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}")
    };
    let b64 = |s: &str| {
        // Encoded-words of the subject, as a client folds them.
        s.as_bytes()
            .chunks(45)
            .map(|c| format!("=?utf-8?B?{}?=", base64(c)))
            .collect::<Vec<_>>()
            .join("\r\n ")
    };
    let long_name = format!("{}.png", "снимок_экрана_".repeat(30));
    let letters = [
        letter(1, &"x".repeat(200_000), "huge-1@example.com", plain(form)),
        letter(
            2,
            &b64(&"Не работает электронная подпись в системе ".repeat(40)),
            "ru-2@example.com",
            plain(form),
        ),
        letter(3, &b64(&"🥳".repeat(300)), "emoji-3@example.com", plain(form)),
        letter(
            4,
            "Не печатает принтер",
            &format!("{}@example.com", "m".repeat(3000)),
            plain(form),
        ),
        letter(
            5,
            "Снимок экрана",
            "file-5@example.com",
            format!(
                "Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{form}\r\n--bb\r\n\
                 Content-Type: image/png\r\nContent-Disposition: attachment; filename*=utf-8''{}\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n--bb--\r\n",
                pct(&long_name)
            ),
        ),
        // Incomplete: a clarification with the long subject.
        letter(
            6,
            &"y".repeat(5000),
            "huge-6@example.com",
            plain("Не работает принтер"),
        ),
    ];
    letters
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let p = dir.join(format!("hostile-{i}.eml"));
            std::fs::write(&p, l).expect("write letter");
            p
        })
        .collect()
}

fn pct(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// A header line over 78 characters is allowed only when it cannot be
/// folded: after the field name (or the folding white space), one token.
fn foldable(line: &str) -> bool {
    let rest = if line.starts_with([' ', '\t']) {
        line.trim_start()
    } else {
        line.split_once(": ").map_or(line, |(_, v)| v)
    };
    rest.trim().contains([' ', '\t'])
}

#[test]
fn every_outgoing_letter_of_the_corpus_has_clean_headers() {
    // Every letter answered: the real-world set has 32 letters from one
    // sender, over the reflection bounds of `[loops]`.
    let desk = TestDesk::with(|cfg| {
        if let Some(toml::Value::Table(l)) = cfg.get_mut("loops") {
            l.insert("max_auto_per_address_per_day".into(), 100_000.into());
            l.insert("max_new_tickets_per_sender_per_hour".into(), 0.into());
        }
    });
    let repo = common::repo();
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["fixtures/corpus/letters", "fixtures/realworld"] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(repo.join(dir))
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        files.extend(names);
    }
    let corpus = files.len();
    assert!(corpus > 150, "the corpus and the real-world set: {corpus}");
    files.extend(hostile_letters(desk.root()));
    let mut args: Vec<String> = vec!["ingest".into()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = desk.run(&args, None);
    assert!(
        out.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(desk.run_once().status.success());

    let rows: Vec<(i64, String, String)> = {
        let db = desk.db();
        let mut st = db
            .prepare("SELECT id, kind, status FROM outbox ORDER BY id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(rows.len() > corpus, "letters sent: {}", rows.len());
    let mut kinds = std::collections::BTreeSet::new();
    let mut shortened = 0;
    for (id, kind, status) in &rows {
        assert_eq!(status, "sent", "outbox row {id} ({kind})");
        let path = desk.root().join(format!("outbox/{id:010}.eml"));
        let raw = std::fs::read(&path).expect("outbox file");
        let text = String::from_utf8_lossy(&raw);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        for line in head.split("\r\n") {
            assert!(line.len() <= 998, "{kind} {id}: a line of {}", line.len());
            assert!(
                line.len() <= 78 || !foldable(line),
                "{kind} {id}: a foldable line of {}: {line}",
                line.len()
            );
        }
        let precedence = header(&raw, "precedence");
        match kind.as_str() {
            "to_user" | "from_user" => assert_eq!(precedence, None, "{kind} {id}"),
            _ => assert_eq!(precedence.as_deref(), Some("bulk"), "{kind} {id}"),
        }
        let subject = header(&raw, "subject").unwrap_or_default();
        assert!(subject.chars().count() <= 180, "{kind} {id}: {subject}");
        if subject.ends_with('…') {
            shortened += 1;
        }
        kinds.insert(kind.clone());
    }
    for k in ["confirmation", "clarification", "routed"] {
        assert!(kinds.contains(k), "no {k} letter among {kinds:?}");
    }
    // The 200 KB, the long Cyrillic and emoji subjects, and the incomplete
    // appeal: a reply and a routed letter each (the clarification only).
    assert!(shortened >= 7, "subjects shortened: {shortened}");
}
