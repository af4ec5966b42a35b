//! Reflection: the support address must not be usable to mail a third
//! party. Anyone can write to the desk with any From and Reply-To; every
//! letter that opens a ticket causes an automatic answer. So two bounds,
//! counted by the store, decided here:
//!
//! * at most `[loops] max_auto_per_address_per_day` automatic letters to
//!   one address in any 24 hours, all tickets and kinds together (the
//!   per-ticket limit of [`super::loops`] does not see a burst of new
//!   tickets). The lines' mailboxes, engineers and the desk's own addresses
//!   are exempt: they are the desk.
//! * at most `[loops] max_new_tickets_per_sender_per_hour` new tickets from
//!   one sender address, or naming one Reply-To address, in any hour;
//!   beyond it the letter is quarantined with the reason (an admin sees it
//!   in `status` and may release it).

use chrono::{DateTime, Duration, Utc};

/// The reflection bounds of `[loops]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReflectionPolicy {
    /// 0 sends no automatic letters to outsiders at all.
    pub max_auto_per_address_per_day: u32,
    /// 0 turns the bound off.
    pub max_new_tickets_per_sender_per_hour: u32,
}

impl Default for ReflectionPolicy {
    fn default() -> Self {
        ReflectionPolicy {
            max_auto_per_address_per_day: 10,
            max_new_tickets_per_sender_per_hour: 20,
        }
    }
}

/// Start of the hour counted for new tickets.
pub fn hour_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(1)
}

/// `sent` automatic letters went to `recipient` (all tickets) in the last
/// 24 hours; `exempt`: the recipient is the desk's own. `None`: send;
/// `Some(reason)`: do not.
pub fn may_send_to_address(
    sent: u32,
    recipient: &str,
    exempt: bool,
    policy: &ReflectionPolicy,
) -> Option<String> {
    if exempt || sent < policy.max_auto_per_address_per_day {
        return None;
    }
    Some(format!(
        "not sent to {recipient}: {sent} automatic letters to this address in the last 24 hours, all tickets (limit {}, [loops] max_auto_per_address_per_day)",
        policy.max_auto_per_address_per_day
    ))
}

/// `from_count` tickets were opened by the sender, `reply_to_count` named
/// the same Reply-To, in the last hour: may one more be opened? `None`:
/// yes; `Some(reason)`: quarantine with that reason.
pub fn may_open_ticket(
    sender: &str,
    from_count: u32,
    reply_to: Option<&str>,
    reply_to_count: u32,
    policy: &ReflectionPolicy,
) -> Option<String> {
    let max = policy.max_new_tickets_per_sender_per_hour;
    if max == 0 {
        return None;
    }
    if from_count >= max {
        return Some(format!(
            "too many new tickets: {from_count} from {sender} in the last hour (limit {max}, [loops] max_new_tickets_per_sender_per_hour)"
        ));
    }
    match reply_to {
        Some(r) if reply_to_count >= max => Some(format!(
            "too many new tickets: {reply_to_count} with Reply-To {r} in the last hour (limit {max}, [loops] max_new_tickets_per_sender_per_hour)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let p = ReflectionPolicy {
            max_auto_per_address_per_day: 3,
            max_new_tickets_per_sender_per_hour: 2,
        };
        // (sent, exempt, may send?, case)
        let sends = [
            (0, false, true, "first letter"),
            (2, false, true, "under the limit"),
            (3, false, false, "at the limit"),
            (50, true, true, "a line's mailbox is exempt"),
        ];
        for (sent, exempt, ok, what) in sends {
            assert_eq!(
                may_send_to_address(sent, "t@x.org", exempt, &p).is_none(),
                ok,
                "{what}"
            );
        }
        // (from count, reply-to, its count, may open?, case)
        let opens = [
            (0, None, 0, true, "first ticket"),
            (1, Some("t@x.org"), 1, true, "under the limit"),
            (2, None, 0, false, "sender at the limit"),
            (0, Some("t@x.org"), 2, false, "many senders, one Reply-To"),
        ];
        for (n, r, rn, ok, what) in opens {
            assert_eq!(
                may_open_ticket("a@x.org", n, r, rn, &p).is_none(),
                ok,
                "{what}"
            );
        }
        let off = ReflectionPolicy {
            max_new_tickets_per_sender_per_hour: 0,
            ..p
        };
        assert!(may_open_ticket("a@x.org", 99, None, 0, &off).is_none());
    }
}
