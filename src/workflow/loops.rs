//! Mail loop protection: who is never a new appeal, and how many automatic
//! letters one address may get.
//!
//! Two mail robots answering each other fill a mailbox in minutes. ticketd
//! marks what it sends as automatic (the outbox sets `Auto-Submitted`,
//! `X-Auto-Response-Suppress`, `Precedence`), but a vacation responder that
//! ignores those must still not get more than `max_auto_per_day` letters per
//! ticket in any 24 hours, and letters from the desk's own addresses (the
//! support address, the line mailboxes) never open tickets. The counting is
//! the store's; the decisions are here.

use super::compiled::LineDef;
use super::status::Line;
use chrono::{DateTime, Duration, Utc};

/// Headers every letter ticketd sends carries (the outbox adds them).
/// `Precedence: bulk` is for notices; replies to a person use
/// [`AUTO_REPLY_HEADERS`] too, since RFC 3834 asks responders to skip both.
pub const AUTO_REPLY_HEADERS: [(&str, &str); 3] = [
    ("Auto-Submitted", "auto-replied"),
    ("X-Auto-Response-Suppress", "All"),
    ("Precedence", "bulk"),
];

/// Headers of a letter ticketd writes on its own (a notice, an escalation),
/// not in answer to one.
pub const AUTO_GENERATED_HEADERS: [(&str, &str); 3] = [
    ("Auto-Submitted", "auto-generated"),
    ("X-Auto-Response-Suppress", "All"),
    ("Precedence", "bulk"),
];

/// The `[loops]` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopPolicy {
    /// Most automatic letters to one address about one ticket in 24 hours.
    pub max_auto_per_day: u32,
}

impl Default for LoopPolicy {
    fn default() -> Self {
        LoopPolicy {
            max_auto_per_day: 5,
        }
    }
}

/// May an automatic letter go out?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendDecision {
    Send,
    /// Do not send; record `reason` in the history.
    Suppress {
        reason: String,
    },
}

/// Where the store starts counting: the last 24 hours (rolling, so that a
/// loop cannot restart at midnight).
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(24)
}

/// `sent` automatic letters to `recipient` about `ticket` since
/// [`window_start`]: may one more go?
pub fn may_send_auto(
    sent: u32,
    recipient: &str,
    ticket: &str,
    policy: &LoopPolicy,
) -> SendDecision {
    if sent < policy.max_auto_per_day {
        return SendDecision::Send;
    }
    SendDecision::Suppress {
        reason: format!(
            "не отправлено {recipient}: уже {sent} автоматических писем по {ticket} за последние 24 часа (предел {}, [loops] max_auto_per_day)",
            policy.max_auto_per_day
        ),
    }
}

/// Who wrote a letter, as far as loops and commands care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderRole {
    /// The support address itself (with or without a plus-tag): our own
    /// letter come back.
    Support,
    /// A line's mailbox.
    LineMailbox(Line),
    /// An engineer of these lines (lowest first).
    Engineer(Vec<Line>),
    /// Anyone else: a user.
    Outsider,
}

impl SenderRole {
    /// Only outsiders open tickets; the desk's own addresses never do.
    pub fn may_open_ticket(&self) -> bool {
        matches!(self, SenderRole::Outsider)
    }
}

/// `local+tag@Domain` → `local@domain` (NFKC, ASCII lower case: see
/// [`super::address`]).
pub fn without_plus_tag(addr: &str) -> String {
    super::address::without_plus_tag(addr)
}

/// Classify `sender` against the desk's addresses (case-insensitive,
/// plus-tags ignored). An address that Unicode NFKC changes (a look-alike
/// such as a Kelvin sign for `K`) is nobody of the desk.
pub fn sender_role(sender: &str, support: &str, lines: &[LineDef]) -> SenderRole {
    if !super::address::is_stable(sender) {
        return SenderRole::Outsider;
    }
    let s = without_plus_tag(sender);
    if s == without_plus_tag(support) {
        return SenderRole::Support;
    }
    if let Some(l) = lines.iter().find(|l| without_plus_tag(&l.mailbox) == s) {
        return SenderRole::LineMailbox(l.line);
    }
    let mut of: Vec<Line> = lines
        .iter()
        .filter(|l| l.engineers.iter().any(|e| without_plus_tag(e) == s))
        .map(|l| l.line)
        .collect();
    of.sort();
    if of.is_empty() {
        SenderRole::Outsider
    } else {
        SenderRole::Engineer(of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn lines() -> Vec<LineDef> {
        vec![
            LineDef {
                line: Line::First,
                name: None,
                mailbox: "line1@sed.example.org".into(),
                engineers: vec!["op1@sed.example.org".into()],
            },
            LineDef {
                line: Line::Second,
                name: None,
                mailbox: "line2@sed.example.org".into(),
                engineers: vec!["eng1@sed.example.org".into(), "op1@sed.example.org".into()],
            },
            LineDef {
                line: Line::Third,
                name: None,
                mailbox: "line3@dev.example.org".into(),
                engineers: vec!["dev1@dev.example.org".into()],
            },
        ]
    }

    #[test]
    fn rate_limit() {
        let p = LoopPolicy {
            max_auto_per_day: 3,
        };
        let cases = [(0, true), (2, true), (3, false), (40, false)];
        for (sent, ok) in cases {
            let d = may_send_auto(sent, "bot@example.org", "TP-2026-000042", &p);
            assert_eq!(d == SendDecision::Send, ok, "{sent}");
        }
        let SendDecision::Suppress { reason } =
            may_send_auto(3, "bot@example.org", "TP-2026-000042", &p)
        else {
            panic!("expected suppression");
        };
        assert_eq!(
            reason,
            "не отправлено bot@example.org: уже 3 автоматических писем по TP-2026-000042 за последние 24 часа (предел 3, [loops] max_auto_per_day)"
        );
        let zero = LoopPolicy {
            max_auto_per_day: 0,
        };
        assert_ne!(
            may_send_auto(0, "a@b.org", "T", &zero),
            SendDecision::Send,
            "0 disables automatic letters"
        );
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        assert_eq!(
            window_start(now),
            Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
        );
    }

    #[test]
    fn desk_addresses_never_open_tickets() {
        let support = "support@sed.example.org";
        let cases = [
            ("support@sed.example.org", SenderRole::Support),
            (
                "Support+TP-2026-000042-0123456789abcdef0123@SED.example.org",
                SenderRole::Support,
            ),
            (
                "line2@sed.example.org",
                SenderRole::LineMailbox(Line::Second),
            ),
            (
                "LINE3@dev.example.org",
                SenderRole::LineMailbox(Line::Third),
            ),
            (
                "eng1@sed.example.org",
                SenderRole::Engineer(vec![Line::Second]),
            ),
            (
                "op1@sed.example.org",
                SenderRole::Engineer(vec![Line::First, Line::Second]),
            ),
            ("user@example.org", SenderRole::Outsider),
            ("support@other.org", SenderRole::Outsider),
        ];
        for (sender, want) in cases {
            let got = sender_role(sender, support, &lines());
            assert_eq!(
                got.may_open_ticket(),
                want == SenderRole::Outsider,
                "{sender}"
            );
            assert_eq!(got, want, "{sender}");
        }
        assert_eq!(AUTO_REPLY_HEADERS[0], ("Auto-Submitted", "auto-replied"));
        assert_eq!(
            AUTO_GENERATED_HEADERS[0],
            ("Auto-Submitted", "auto-generated")
        );
    }
}
