use super::*;

/// Decode a header value the way a mail client does (mail-parser).
fn decoded(name: &str, encoded: &str) -> String {
    let raw = format!("{name}: {encoded}\r\n\r\n");
    let msg = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("parses");
    msg.subject().unwrap_or_default().to_string()
}

fn check(name: &str, value: &str) -> String {
    let enc = unstructured(name, value);
    let full = format!("{name}: {enc}");
    for (i, line) in full.split("\r\n").enumerate() {
        assert!(
            line.len() <= FOLD_AT,
            "{name} line {i} is {} long: {line:?}",
            line.len()
        );
        assert!(line.is_ascii(), "non-ASCII in {line:?}");
        if i > 0 {
            assert!(
                line.starts_with(' '),
                "continuation without space: {line:?}"
            );
        }
        for word in line.split(' ').filter(|w| w.starts_with("=?")) {
            assert!(word.len() <= MAX_ENCODED_WORD, "{word} over 75");
            // Each encoded-word holds whole characters: it decodes alone.
            let alone = decoded("Subject", word);
            assert!(!alone.contains('\u{fffd}'), "{word} splits a character");
        }
    }
    enc
}

#[test]
fn unstructured_values_fold_and_decode_back() {
    let long_ascii = "x".repeat(200_000);
    let long_ru = "Не работает электронная подпись ".repeat(60);
    let emoji = "🥳".repeat(40);
    let cases: &[(&str, &str, &str)] = &[
        ("Subject", "Hello world", "plain words stay plain"),
        (
            "Subject",
            "[TP-2026-000042] Не печатает принтер",
            "Cyrillic",
        ),
        ("Subject", &long_ascii, "one 200 KB word"),
        ("Subject", &long_ru, "long Cyrillic text"),
        ("Subject", &emoji, "4-byte characters"),
        (
            "Subject",
            "a =?utf-8?q?x?= b",
            "a literal encoded-word look-alike",
        ),
        (
            "Subject",
            "ёж и 𝔘 mixed words 😀 end",
            "plain and encoded alternate",
        ),
        (
            "X-A-Very-Long-Header-Name-That-Leaves-Little-Room-On-The-First-Line",
            "Тема письма",
            "little room after the name",
        ),
        ("Subject", "", "empty"),
    ];
    for (name, value, what) in cases {
        let enc = check(name, value);
        let want = value.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(decoded("Subject", &enc), want, "{what}");
    }
    assert_eq!(unstructured("Subject", "Hello world"), "Hello world");
    assert_eq!(
        unstructured("Subject", "Привет"),
        "=?UTF-8?B?0J/RgNC40LLQtdGC?="
    );
}

#[test]
fn subjects_are_shortened_with_an_ellipsis() {
    let long_word = "x".repeat(1000);
    let words = "слово ".repeat(100);
    let cases: &[(&str, &str)] = &[
        ("Короткая тема", "Короткая тема"),
        ("строка\r\nвторая\tтретья", "строка вторая третья"),
        ("\u{1b}[31mкрасный", "[31mкрасный"),
    ];
    for (input, want) in cases {
        assert_eq!(short_subject(input), *want);
    }
    let cut = short_subject(&long_word);
    assert_eq!(cut.chars().count(), MAX_SUBJECT_CHARS);
    assert!(cut.ends_with('…'));
    let cut = short_subject(&words);
    assert!(cut.chars().count() <= MAX_SUBJECT_CHARS, "{cut}");
    assert!(cut.ends_with("слово…"), "cut at a word boundary: {cut}");
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    for (input, want) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let mut out = String::new();
        base64(input.as_bytes(), &mut out);
        assert_eq!(out, want, "{input}");
        assert_eq!(base64_len(input.len()), want.len());
    }
}

#[test]
fn long_header_lines_are_found() {
    let raw = format!(
        "Subject: {}\r\nTo: a@b\r\n\r\n{}\r\n",
        "x".repeat(100),
        "y".repeat(2000)
    );
    assert_eq!(long_header_lines(raw.as_bytes(), FOLD_AT), vec![(1, 109)]);
    assert!(long_header_lines(raw.as_bytes(), MAX_LINE).is_empty());
}

type Mailboxes<'a> = &'a [(Option<&'a str>, &'a str)];

#[test]
fn address_headers_fold_before_the_address() {
    let proof = "support+TP-2026-000001-9cc16d169fd1782dad8e@sed.example.org";
    let cases: &[(&str, Mailboxes, &str)] = &[
        ("To", &[(None, "user@example.com")], "user@example.com"),
        (
            "From",
            &[(Some("Help Desk"), "support@sed.example.org")],
            "Help Desk <support@sed.example.org>",
        ),
        (
            "Reply-To",
            &[(Some("Служба технической поддержки СЭД"), proof)],
            "",
        ),
        (
            "To",
            &[
                (Some("O'Brien, Jr."), "a@example.com"),
                (None, "b@example.com"),
            ],
            "",
        ),
    ];
    for (name, list, want) in cases {
        let enc = mailboxes(name, list);
        let full = format!("{name}: {enc}");
        for line in full.split("\r\n") {
            assert!(line.len() <= FOLD_AT, "{} long: {line}", line.len());
        }
        if !want.is_empty() {
            assert_eq!(enc, *want);
        }
        let raw = format!("{full}\r\n\r\n");
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let got = msg
            .header(*name)
            .and_then(|h| h.as_address())
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x.name().map(str::to_string),
                            x.address().unwrap_or("").to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let want: Vec<(Option<String>, String)> = list
            .iter()
            .map(|(d, a)| (d.map(str::to_string), a.to_string()))
            .collect();
        assert_eq!(got, want, "{name}: {enc}");
    }
}
