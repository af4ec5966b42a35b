//! Every kind of letter the desk composes: its automatic markers, and a
//! clean header block whatever the ticket holds.

use super::*;
use crate::store::tickets::HistoryRow;
use std::path::Path;

pub(crate) fn composer() -> Composer {
    let text = r#"[desk]
support_address = "support@sed.example.org"
time_zone = "Europe/Kaliningrad"
[database]
path = "db"
[attachments]
dir = "att"
[mailbox]
kind = "maildir"
path = "mail"
[outgoing]
kind = "file"
dir = "out"
[[priorities]]
name = "высокий"
deadline = "4h"
[[priorities]]
name = "обычный"
deadline = "1d"
default = true
"#;
    let cfg = crate::desk::Desk::from_str_at(text, Path::new("c.toml"), Path::new("/nonexistent"))
        .unwrap();
    Composer::new(&cfg).unwrap()
}

pub(crate) fn ticket(subject: &str) -> Ticket {
    use crate::workflow::status::{Actor, Line, Status};
    let mut t = Ticket::default();
    t.id = "TP-2026-000042".into();
    t.kind = crate::workflow::status::Kind::Incident;
    t.priority = "обычный".into();
    t.line = crate::workflow::status::Line::Second;
    t.requester = "user@example.com".into();
    t.reply_to = "user@example.com".into();
    t.subject = subject.into();
    t.created_at = "2026-12-04T16:43:16.227Z".parse().expect("time");
    t.deadline = Some("2026-12-07T08:00:00.000Z".parse().expect("time"));
    // Routed, then a solution proposed by line 2: as a ticket gets there.
    let eng = Actor::Engineer {
        line: Line::Second,
        address: "eng1@sed.example.org".into(),
    };
    t.move_to(Status::Assigned, &Actor::System).expect("routed");
    t.move_to(Status::SolutionProposed, &eng).expect("proposed");
    t
}

/// Every letter kind, composed for `t`: (kind, letter, a person's words?).
pub(crate) fn every_letter(t: &Ticket) -> Vec<(&'static str, OutgoingLetter, bool)> {
    let c = composer();
    let png = vec![("s.png".to_string(), "image/png".to_string(), vec![1, 2, 3])];
    let history = vec![HistoryRow {
        at: "2026-12-04T16:43:16.227Z".into(),
        actor: "user@example.com".into(),
        action: "created".into(),
        from: None,
        to: Some("new".into()),
        detail: None,
    }];
    let irt = Some("abc@example.com");
    vec![
        (
            "confirmation",
            c.registration(t, &[], &[], &[], &[], irt),
            false,
        ),
        (
            "clarification",
            c.registration(t, &[Field::Phone], &[], &[], &[], irt),
            false,
        ),
        (
            "too_large",
            c.too_large("user@example.com", &t.subject, 1 << 20, irt, None),
            false,
        ),
        (
            "routed",
            c.routed(
                t,
                "line2@sed.example.org",
                "support+x@sed.example.org",
                "Направлено.",
                &history,
                png.clone(),
            ),
            false,
        ),
        (
            "notice",
            c.line_notice(t, "line1@sed.example.org", None, "Эскалация.", Vec::new()),
            false,
        ),
        ("in_work", c.taken_in_work(t), false),
        (
            "command_done",
            c.command_done(t, "eng1@sed.example.org", "статус", &[], &[], irt),
            false,
        ),
        (
            "refusal",
            c.refusal(&t.id, "eng1@sed.example.org", &["нет".into()], irt),
            false,
        ),
        (
            "status_list",
            c.status_list("user@example.com", std::slice::from_ref(t), irt),
            false,
        ),
        (
            "to_user",
            c.relay_to_user(
                t,
                "Переустановите драйвер.",
                png.clone(),
                &Default::default(),
            ),
            true,
        ),
        (
            "from_user",
            c.relay_to_line(t, "line2@sed.example.org", None, "Не помогло.", png),
            true,
        ),
    ]
    .into_iter()
    .map(|(k, l, relayed)| (k, l.unwrap_or_else(|e| panic!("{k}: {e}")), relayed))
    .collect()
}

fn head(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.split("\r\n\r\n").next().unwrap_or("").to_string()
}

fn header_value(raw: &[u8], name: &str) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    msg.header_raw(name).map(|v| v.trim().to_string())
}

#[test]
fn notices_carry_precedence_bulk_and_relayed_words_do_not() {
    for (kind, l, relayed) in every_letter(&ticket("Не печатает принтер")) {
        assert_eq!(l.kind, kind);
        let p = header_value(&l.raw, "Precedence");
        if relayed {
            assert_eq!(p, None, "{kind}: a person's words are no bulk notice");
        } else {
            assert_eq!(p.as_deref(), Some("bulk"), "{kind}");
        }
        assert!(header_value(&l.raw, "Auto-Submitted").is_some(), "{kind}");
    }
}

#[test]
fn a_200_kb_subject_is_folded_and_shortened_in_every_letter() {
    let huge = "ы".repeat(100_000) + &"x".repeat(100_000);
    for subject in [huge.as_str(), &"x".repeat(200_000), &"word ".repeat(40_000)] {
        for (kind, l, _) in every_letter(&ticket(subject)) {
            let h = head(&l.raw);
            for line in h.split("\r\n") {
                assert!(
                    line.len() <= header::FOLD_AT,
                    "{kind}: {} long: {line}",
                    line.len()
                );
            }
            let msg = mail_parser::MessageParser::default().parse(&l.raw).unwrap();
            let s = msg.subject().unwrap_or_default();
            assert!(
                s.chars().count() <= header::MAX_SUBJECT_CHARS + 20,
                "{kind}: {s}"
            );
            if kind != "status_list" && kind != "refusal" && kind != "command_done" {
                assert!(s.ends_with('…'), "{kind}: shortened with an ellipsis: {s}");
            }
            assert!(
                l.raw.len() < 200_000,
                "{kind}: the body holds no 200 KB subject"
            );
        }
    }
}

#[test]
fn a_huge_message_id_is_not_threaded() {
    let c = composer();
    let long = format!("{}@example.com", "a".repeat(5000));
    let l = c
        .refusal("TP-2026-000042", "eng1@sed.example.org", &[], Some(&long))
        .unwrap();
    assert!(header::long_header_lines(&l.raw, header::FOLD_AT).is_empty());
    assert_eq!(header_value(&l.raw, "In-Reply-To"), None);
    let l = c
        .refusal(
            "TP-2026-000042",
            "eng1@sed.example.org",
            &[],
            Some("ok@example.com"),
        )
        .unwrap();
    assert_eq!(
        header_value(&l.raw, "In-Reply-To").as_deref(),
        Some("<ok@example.com>")
    );
}

/// English phrases (two Latin words in a row; acronyms such as PNG, file
/// names, addresses and ticket numbers aside).
fn english(text: &str) -> Vec<String> {
    let aside = regex::Regex::new(r"[\w.+-]+@[\w.-]+|TP-\d{4}-\d+|[\w.-]+\.png|«[^»]*»").unwrap();
    let text = aside.replace_all(text, " ");
    regex::Regex::new(r"[A-Za-z][a-z]+(?:[ ,:;()-]+[A-Za-z][a-z]+)+")
        .unwrap()
        .find_iter(&text)
        .map(|m| m.as_str().to_string())
        .collect()
}

#[test]
fn every_letter_reads_in_russian() {
    for (kind, l, _) in every_letter(&ticket("Не печатает принтер")) {
        let msg = mail_parser::MessageParser::default().parse(&l.raw).unwrap();
        let body = msg.body_text(0).unwrap_or_default().to_string();
        let subject = msg.subject().unwrap_or_default().to_string();
        assert!(!body.trim().is_empty(), "{kind}");
        for text in [&body, &subject] {
            assert_eq!(english(text), Vec::<String>::new(), "{kind}: {text}");
        }
    }
    assert_eq!(
        english("routed to line 1 by default"),
        ["routed to line", "by default"]
    );
}
