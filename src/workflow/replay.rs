//! Replayed commands: the same engineer's reply, resent with a new
//! Message-ID, must not act twice.
//!
//! The letter's identity (its Message-ID and content) already catches an
//! exact copy. A replay changes the Message-ID, the date or the quoting.
//! So a command is keyed by what it does and who gives it: the engineer's
//! address, the ticket, and the command lines with the text after them,
//! whitespace-normalised ([`replay_key`]). The same key again within
//! `[commands] replay_window` (default 7 days; 0 turns it off) is a
//! duplicate, answered once. An engineer who legitimately sends
//! `Статус: Действие пользователя` again with a new question has a new
//! text, hence a new key.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// Default `[commands] replay_window`: 7 days.
pub const DEFAULT_WINDOW_SECS: u64 = 7 * 24 * 3600;

/// The replay key of a command letter: SHA-256 (hex) over the engineer's
/// address (canonical, without plus-tag), the ticket and the text with
/// whitespace runs collapsed and case kept.
pub fn replay_key(engineer: &str, ticket: &str, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ticketd-replay-v1\0");
    h.update(super::address::without_plus_tag(engineer).as_bytes());
    h.update([0]);
    h.update(ticket.trim().to_ascii_uppercase().as_bytes());
    h.update([0]);
    let mut first = true;
    for word in text.split_whitespace() {
        if !first {
            h.update(b" ");
        }
        first = false;
        h.update(word.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Was a command with the same key, applied at `last`, recent enough that
/// this one is its replay? `window_secs == 0`: never.
pub fn is_replay(last: Option<DateTime<Utc>>, now: DateTime<Utc>, window_secs: u64) -> bool {
    let Some(last) = last else {
        return false;
    };
    window_secs > 0
        && now.signed_duration_since(last)
            < Duration::seconds(i64::try_from(window_secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_and_windows() {
        let t = "TP-2026-000042";
        let a = replay_key(
            "eng1@sed.example.org",
            t,
            "Статус: Предложено решение\n\nПерезапустите.",
        );
        // (key, same as `a`?, case)
        let cases = [
            (
                replay_key(
                    "ENG1+x@sed.example.org",
                    t,
                    "Статус:  Предложено решение\r\n\r\nПерезапустите.\n",
                ),
                true,
                "same command, other spacing and plus-tag",
            ),
            (
                replay_key(
                    "eng2@sed.example.org",
                    t,
                    "Статус: Предложено решение\n\nПерезапустите.",
                ),
                false,
                "another engineer",
            ),
            (
                replay_key(
                    "eng1@sed.example.org",
                    "TP-2026-000041",
                    "Статус: Предложено решение\n\nПерезапустите.",
                ),
                false,
                "another ticket",
            ),
            (
                replay_key(
                    "eng1@sed.example.org",
                    t,
                    "Статус: Предложено решение\n\nОбновите браузер.",
                ),
                false,
                "same status, a new text",
            ),
        ];
        for (k, same, what) in cases {
            assert_eq!(k == a, same, "{what}");
        }
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let w = DEFAULT_WINDOW_SECS;
        assert!(is_replay(Some(now - Duration::days(6)), now, w));
        assert!(!is_replay(Some(now - Duration::days(8)), now, w));
        assert!(!is_replay(None, now, w));
        assert!(!is_replay(Some(now), now, 0), "0 turns it off");
    }
}
