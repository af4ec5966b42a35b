//! Threading: ticket tags (`[TP-2026-000042]`) in subjects, and a letter's
//! identity for exactly-once processing.

use regex::Regex;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Ticket IDs tagged in `subject` for `prefix`, in order of appearance.
/// A tag is `[PREFIX-YYYY-NNNNNN]` (six or more digits), anywhere in the
/// subject, whatever `Re:`/`Ответ:`/`FW:` prefixes stand before it.
pub fn tags(subject: &str, prefix: &str) -> Vec<String> {
    // One pattern for every prefix (compiled once); the prefix is compared
    // after the match, so the hot path never compiles a regex.
    static TAG: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(re) = TAG
        .get_or_init(|| Regex::new(r"\[\s*([A-Za-z0-9]+)-(\d{4}-\d{6,})\s*\]").ok())
        .as_ref()
    else {
        return Vec::new();
    };
    re.captures_iter(subject)
        .filter(|c| {
            c.get(1)
                .is_some_and(|p| p.as_str().eq_ignore_ascii_case(prefix))
        })
        .filter_map(|c| {
            c.get(2)
                .map(|n| format!("{}-{}", prefix.to_uppercase(), n.as_str()))
        })
        .collect()
}

/// Ticket IDs of `prefix` written without brackets in `subject` («По
/// заявке TP-2026-000008»), in order; the caller threads only on one that
/// exists on this desk.
pub fn bare_numbers(subject: &str, prefix: &str) -> Vec<String> {
    static BARE: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(re) = BARE
        .get_or_init(|| {
            Regex::new(r"(?:^|[^A-Za-z0-9\[])([A-Za-z0-9]+)-(\d{4}-\d{6,})(?:$|[^\d\]])").ok()
        })
        .as_ref()
    else {
        return Vec::new();
    };
    re.captures_iter(subject)
        .filter(|c| {
            c.get(1)
                .is_some_and(|p| p.as_str().eq_ignore_ascii_case(prefix))
        })
        .filter_map(|c| {
            c.get(2)
                .map(|n| format!("{}-{}", prefix.to_uppercase(), n.as_str()))
        })
        .collect()
}

/// Header fields added in transit; they differ between two deliveries of the
/// same letter (Maildir vs IMAP, a retry by the MTA), so they are left out of
/// the identity.
const TRACE_FIELDS: &[&str] = &[
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "x-delivered-to",
    "x-envelope-to",
    "envelope-to",
    "x-rcpt-to",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "authentication-results",
    "x-spam-status",
    "x-spam-score",
    "x-spam-checker-version",
    "x-virus-scanned",
];

/// The exactly-once key of a letter: SHA-256 (hex) over its bytes with line
/// endings normalised and trace fields removed from the header. It covers the
/// Message-ID, so the same Message-ID with other content is another letter,
/// and a letter without Message-ID is identified by its content alone.
pub fn identity(raw: &[u8]) -> String {
    let mut h = Sha256::new();
    let mut in_header = true;
    let mut skipping = false;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if in_header {
            if content.is_empty() {
                in_header = false;
            } else if content[0] == b' ' || content[0] == b'\t' {
                if skipping {
                    continue;
                }
            } else {
                let name = content.split(|b| *b == b':').next().unwrap_or(b"");
                let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
                skipping = TRACE_FIELDS.contains(&name.as_str());
                if skipping {
                    continue;
                }
            }
        }
        h.update(content);
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tags() {
        let cases: &[(&str, &[&str])] = &[
            ("[TP-2026-000042] Не работает", &["TP-2026-000042"]),
            ("Re: RE: Ответ: [TP-2026-000042] x", &["TP-2026-000042"]),
            ("Fwd: x [tp-2026-1234567]", &["TP-2026-1234567"]),
            ("[TP-2026-00042] too short", &[]),
            ("TP-2026-000042 without brackets", &[]),
            ("[XX-2026-000042] other prefix", &[]),
            (
                "[TP-2026-000001][TP-2026-000002]",
                &["TP-2026-000001", "TP-2026-000002"],
            ),
        ];
        for (subject, want) in cases {
            assert_eq!(tags(subject, "TP"), *want, "{subject}");
        }
    }

    #[test]
    fn finds_bare_numbers() {
        let cases: &[(&str, &[&str])] = &[
            ("По заявке TP-2026-000008", &["TP-2026-000008"]),
            (
                "RE: по заявке tp-2026-000008, ответа нет",
                &["TP-2026-000008"],
            ),
            ("[TP-2026-000008] tagged is not bare", &[]),
            ("XTP-2026-000008 other prefix", &[]),
            ("TP-2026-00008 too short", &[]),
        ];
        for (subject, want) in cases {
            assert_eq!(bare_numbers(subject, "TP"), *want, "{subject}");
        }
    }

    #[test]
    fn identity_ignores_trace_and_line_endings() {
        let a = b"Message-ID: <1@x>\nSubject: a\n\nbody\n";
        let b = b"Received: from x\n  by y\nReturn-Path: <u@x>\r\nMessage-ID: <1@x>\r\nSubject: a\r\n\r\nbody\r\n";
        let c = b"Message-ID: <1@x>\nSubject: a\n\nother body\n";
        assert_eq!(identity(a), identity(b));
        assert_ne!(identity(a), identity(c));
        // A Received line in the body is content, not trace.
        let d = b"Message-ID: <1@x>\nSubject: a\n\nReceived: z\nbody\n";
        assert_ne!(identity(a), identity(d));
    }
}
