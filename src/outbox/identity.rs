//! A mailbox's own face on a composed letter (issue 17: a territorial body
//! answers from its own address). The letters of a ticket that came
//! through a mailbox with its own `support_address` / `desk_name` leave
//! from that address: the `From` header is written anew and the envelope
//! sender is that address. Everything else (Message-ID, Reply-To proofs)
//! stays the desk's, so replies still thread and prove as before.

use super::header;
use crate::store::outbox::OutgoingLetter;

/// The `From` a mailbox gives its tickets' letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub address: String,
}

impl Identity {
    /// The identity of `mailbox` in `cfg`, when it has one of its own.
    pub fn of(cfg: &crate::config::Config, mailbox: &str) -> Option<Identity> {
        let m = cfg.mailbox_named(mailbox)?;
        if m.support_address().is_none() && m.desk_name().is_none() {
            return None;
        }
        Some(Identity {
            name: m.desk_name().unwrap_or(&cfg.desk.name).trim().to_string(),
            address: m
                .support_address()
                .unwrap_or(&cfg.desk.support_address)
                .trim()
                .to_lowercase(),
        })
    }
}

/// `letter` sent as `id`: its `From` header replaced (the header section
/// only; folded continuation lines with it) and its envelope sender set.
pub fn sent_as(mut letter: OutgoingLetter, id: &Identity) -> OutgoingLetter {
    let raw = &letter.raw;
    let head_end = find(raw, b"\r\n\r\n").map_or(raw.len(), |i| i + 2);
    let start = if raw.starts_with(b"From:") {
        Some(0)
    } else {
        find(&raw[..head_end], b"\r\nFrom:").map(|i| i + 2)
    };
    let Some(start) = start else {
        letter.from = id.address.clone();
        return letter;
    };
    // The header ends at the first CRLF not followed by white space.
    let mut end = start;
    while let Some(i) = find(&raw[end..head_end], b"\r\n") {
        end += i + 2;
        if !matches!(raw.get(end), Some(b' ' | b'\t')) {
            break;
        }
    }
    let value = header::mailboxes("From", &[(Some(id.name.as_str()), id.address.as_str())]);
    let mut out = Vec::with_capacity(raw.len() + 64);
    out.extend_from_slice(&raw[..start]);
    out.extend_from_slice(format!("From: {value}\r\n").as_bytes());
    out.extend_from_slice(&raw[end..]);
    letter.raw = out;
    letter.from = id.address.clone();
    letter
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(raw: &str) -> OutgoingLetter {
        OutgoingLetter {
            message_id: "x@sed.example.org".into(),
            ticket_id: Some("TP-2026-000001".into()),
            kind: "confirmation".into(),
            from: "support@sed.example.org".into(),
            to: vec!["user@example.com".into()],
            raw: raw.as_bytes().to_vec(),
        }
    }

    #[test]
    fn from_header_and_envelope_change_nothing_else() {
        let id = Identity {
            name: "Тульский филиал".into(),
            address: "tula@sed.example.org".into(),
        };
        let cases = [
            // (raw, the From line expected in the result)
            (
                "From: Desk <support@sed.example.org>\r\nTo: user@example.com\r\nSubject: s\r\n\r\nFrom: body stays\r\n",
                "From: =?UTF-8?B?",
            ),
            (
                "Subject: s\r\nFrom: =?utf-8?b?0KHQu9GD0LbQsdCw?=\r\n <support@sed.example.org>\r\nTo: user@example.com\r\n\r\nbody\r\n",
                "From: =?UTF-8?B?",
            ),
        ];
        for (raw, want) in cases {
            let out = sent_as(letter(raw), &id);
            let text = String::from_utf8(out.raw).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert_eq!(out.from, "tula@sed.example.org");
            assert!(head.contains(want), "{head}");
            assert!(head.contains("<tula@sed.example.org>"), "{head}");
            assert!(!head.contains("support@sed.example.org"), "{head}");
            assert_eq!(head.matches("From:").count(), 1, "{head}");
            assert!(head.contains("To: user@example.com") && head.contains("Subject: s"));
            assert_eq!(body, raw.split_once("\r\n\r\n").unwrap().1);
        }
    }
}
