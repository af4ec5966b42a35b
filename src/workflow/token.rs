//! Proof of receipt for commands by e-mail.
//!
//! `From:` is trivially forged, so an engineer's command is applied only
//! when the reply also proves that its sender received the letter that
//! routed the ticket. That letter's `Reply-To` is a plus-address carrying a
//! secret bound to the ticket and the recipient:
//!
//! `support+TP-2026-000042-3f9c0a…@sed.example.org`
//!
//! The secret is HMAC-SHA256 under a key only ticketd knows (read from the
//! `[commands] secret_file`), over the ticket ID, the recipient's address
//! and the assignment it was issued for ([`Binding`]: the line and the
//! assignee), truncated to 80 bits and written in hex (mail systems may
//! lower-case a local part; hex survives that). A normal "Reply" keeps the
//! address, so the engineer does nothing special. A reply to another
//! ticket's letter, a letter meant for another line or engineer, or one
//! issued before the ticket was re-routed does not verify. Comparison is
//! constant-time.
//!
//! Where the proof may sit ([`proof_addresses`]): in the address the letter
//! was delivered to (the topmost `Delivered-To`/`X-Original-To`, which the
//! desk's MTA adds) when the letter has one, else in To or Cc; and only in
//! the support address's own domain and local part
//! (`support+…@sed.example.org`, never `support+…@evil.example`).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// Bytes of the MAC kept in the address (80 bits, 20 hex digits).
const MAC_BYTES: usize = 10;
/// Shortest key accepted, bytes.
pub const MIN_KEY_BYTES: usize = 16;
/// Domain separation: a MAC made here is useless anywhere else.
const CONTEXT: &[u8] = b"ticketd-reply-v1";

/// The HMAC key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct ReplyKey {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplyKey(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key has {0} bytes, at least {MIN_KEY_BYTES} are needed (e.g. `head -c 32 /dev/urandom > FILE`)")]
    TooShort(usize),
}

impl ReplyKey {
    /// The key file's bytes; surrounding ASCII whitespace (a trailing
    /// newline of a text key) is ignored.
    pub fn from_bytes(bytes: &[u8]) -> Result<ReplyKey, KeyError> {
        let key = bytes.trim_ascii();
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(key.len()));
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map_err(|_| KeyError::TooShort(key.len()))?;
        Ok(ReplyKey { mac })
    }

    /// A MAC under this key for another use than proofs of receipt, kept
    /// apart from them and from each other by `context`
    /// ([`super::signed`]).
    pub(crate) fn keyed(&self, context: &[u8]) -> Hmac<Sha256> {
        let mut m = self.mac.clone();
        m.update(context);
        m.update(&[0]);
        m
    }

    fn mac(&self, ticket: &str, recipient: &str, b: &Binding<'_>) -> Hmac<Sha256> {
        let mut m = self.mac.clone();
        m.update(CONTEXT);
        m.update(&[0]);
        m.update(ticket.trim().to_ascii_uppercase().as_bytes());
        m.update(&[0]);
        m.update(recipient.trim().to_lowercase().as_bytes());
        m.update(&[0, b.line]);
        m.update(&b.routing.to_be_bytes());
        m.update(
            b.assignee
                .map(super::address::without_plus_tag)
                .unwrap_or_default()
                .as_bytes(),
        );
        m
    }
}

/// What a proof is issued for besides ticket and recipient: the line the
/// ticket is on, its assignee, and which routing of the ticket it was
/// (the count of its routings: a ticket sent to line 3 and back to line 2
/// is on line 2 again, under another routing). Re-routing makes earlier
/// proofs dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Binding<'a> {
    pub line: u8,
    pub assignee: Option<&'a str>,
    pub routing: u32,
}

/// The secret for `recipient` on `ticket`: 20 lower-case hex digits.
pub fn make_token(ticket: &str, recipient: &str, b: &Binding<'_>, key: &ReplyKey) -> String {
    let full = key.mac(ticket, recipient, b).finalize().into_bytes();
    hex::encode(&full[..MAC_BYTES])
}

/// The `Reply-To` of the letter that routes `ticket` to `recipient`:
/// `support+TP-2026-000042-<secret>@domain`. A plus-tag already in
/// `support` is replaced.
pub fn make_reply_address(
    support: &str,
    ticket: &str,
    recipient: &str,
    b: &Binding<'_>,
    key: &ReplyKey,
) -> String {
    let (local, domain) = support
        .trim()
        .rsplit_once('@')
        .unwrap_or((support.trim(), ""));
    let base = local.split_once('+').map_or(local, |(b, _)| b);
    format!(
        "{base}+{}-{}@{domain}",
        ticket.trim(),
        make_token(ticket, recipient, b, key)
    )
}

/// The outcome of checking a reply's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// A secret for this ticket, issued to `recipient` (one of the sender's
    /// identities).
    Ok { recipient: String },
    /// No address carries a secret.
    NoToken,
    /// Secrets, but for another ticket (`found`).
    WrongTicket { found: String },
    /// A secret for this ticket that was not issued to any of the sender's
    /// identities (another engineer's or line's, or forged).
    WrongRecipient,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        matches!(self, Verification::Ok { .. })
    }

    /// One line for the history and the refusal letter.
    pub fn explain(&self) -> String {
        match self {
            Verification::Ok { recipient } => format!("подтверждение получения верно (письмо было направлено {recipient})"),
            Verification::NoToken => {
                "нет подтверждения получения: ответьте на письмо, которым обращение направлено вам, не меняя адрес ответа (Reply-To)".into()
            }
            Verification::WrongTicket { found } => {
                format!("подтверждение получения относится к обращению {found}, а не к этому")
            }
            Verification::WrongRecipient => "подтверждение получения выдано не этому отправителю".into(),
        }
    }
}

/// Check the addresses a reply was sent to (To, Cc, and Delivered-To if the
/// pipeline has it) for a secret of `ticket` issued to one of `identities`:
/// the sender's own address and the mailboxes of the lines the sender is an
/// engineer of (a routed letter goes to a line's mailbox, and any engineer
/// of that line may answer it).
pub fn verify(
    addresses: &[&str],
    ticket: &str,
    identities: &[&str],
    b: &Binding<'_>,
    key: &ReplyKey,
) -> Verification {
    let mut found_other = None;
    let mut found_this = false;
    for addr in addresses {
        let Some((tag_ticket, mac)) = token_of(addr) else {
            continue;
        };
        if !tag_ticket.eq_ignore_ascii_case(ticket.trim()) {
            found_other.get_or_insert(tag_ticket.to_ascii_uppercase());
            continue;
        }
        found_this = true;
        for id in identities {
            if key.mac(ticket, id, b).verify_truncated_left(&mac).is_ok() {
                return Verification::Ok {
                    recipient: id.trim().to_lowercase(),
                };
            }
        }
    }
    match (found_this, found_other) {
        (true, _) => Verification::WrongRecipient,
        (false, Some(found)) => Verification::WrongTicket { found },
        (false, None) => Verification::NoToken,
    }
}

/// The addresses that may carry a proof: the delivered-to address when the
/// letter has one (the topmost `Delivered-To`/`X-Original-To`), else To
/// and Cc; of those, only the support address's own (same local part before
/// the plus, same domain).
pub fn proof_addresses<'a>(
    support: &str,
    delivered_to: Option<&'a str>,
    to_cc: &[&'a str],
) -> Vec<&'a str> {
    let (base, domain) = split_own(support);
    let own = |a: &&str| {
        let (b, d) = split_own(strip_angle(a));
        b == base && d == domain
    };
    match delivered_to {
        Some(d) => [d].into_iter().filter(own).collect(),
        None => to_cc.iter().copied().filter(own).collect(),
    }
}

/// (local part before `+`, domain), canonical.
fn split_own(addr: &str) -> (String, String) {
    let a = super::address::canonical(addr);
    match a.rsplit_once('@') {
        Some((local, domain)) => (
            local.split_once('+').map_or(local, |(b, _)| b).to_string(),
            domain.to_string(),
        ),
        None => (a, String::new()),
    }
}

fn strip_angle(a: &str) -> &str {
    let a = a.trim();
    match (a.rfind('<'), a.rfind('>')) {
        (Some(s), Some(e)) if s < e => &a[s + 1..e],
        _ => a,
    }
}

/// The ticket a proof-of-receipt address is for (`support+TP-2026-000042-<mac>@…`
/// → `TP-2026-000042`), whether or not the MAC is valid: for finding the
/// ticket of a reply whose subject lost its tag. Verification is [`verify`].
pub fn ticket_of(addr: &str) -> Option<String> {
    token_of(addr).map(|(t, _)| t.to_ascii_uppercase())
}

/// `support+TP-2026-000042-<hex>@domain` (angle brackets and a display name
/// allowed) → (`TP-2026-000042`, MAC bytes).
fn token_of(addr: &str) -> Option<(String, Vec<u8>)> {
    let a = strip_angle(addr);
    let (local, _domain) = a.rsplit_once('@')?;
    let (_, tag) = local.split_once('+')?;
    let (tag_ticket, mac_hex) = tag.rsplit_once('-')?;
    if mac_hex.len() != MAC_BYTES * 2 || tag_ticket.is_empty() {
        return None;
    }
    let mac = hex::decode(mac_hex.to_ascii_lowercase()).ok()?;
    Some((tag_ticket.to_string(), mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPORT: &str = "support@sed.example.org";
    const T42: &str = "TP-2026-000042";
    const T41: &str = "TP-2026-000041";
    const LINE2: &str = "line2@sed.example.org";
    const ENG1: &str = "eng1@sed.example.org";
    const DEV1: &str = "dev1@dev.example.org";
    const B2: Binding<'static> = Binding {
        line: 2,
        assignee: None,
        routing: 1,
    };

    fn key() -> ReplyKey {
        ReplyKey::from_bytes(b"0123456789abcdef0123456789abcdef\n").unwrap()
    }

    #[test]
    fn makes_reply_addresses() {
        let a = make_reply_address(SUPPORT, T42, LINE2, &B2, &key());
        assert!(
            a.starts_with("support+TP-2026-000042-") && a.ends_with("@sed.example.org"),
            "{a}"
        );
        assert_eq!(
            a.len(),
            "support+TP-2026-000042-".len() + 20 + "@sed.example.org".len()
        );
        assert!(
            a.split('@').next().unwrap().len() <= 64,
            "local part fits RFC 5321"
        );
        // Deterministic, and distinct per ticket and per recipient.
        assert_eq!(
            a,
            make_reply_address(SUPPORT, T42, "LINE2@sed.example.org", &B2, &key())
        );
        assert_ne!(a, make_reply_address(SUPPORT, T41, LINE2, &B2, &key()));
        assert_ne!(
            make_token(T42, LINE2, &B2, &key()),
            make_token(T42, ENG1, &B2, &key())
        );
        assert_eq!(
            make_reply_address("support+old@sed.example.org", T42, LINE2, &B2, &key()),
            a,
            "an existing plus-tag is replaced"
        );
        assert_eq!(format!("{:?}", key()), "ReplyKey(…)");
    }

    #[test]
    fn verifies_and_refuses_spoofs() {
        let k = key();
        let to_line2 = make_reply_address(SUPPORT, T42, LINE2, &B2, &k);
        let to_line2_t41 = make_reply_address(SUPPORT, T41, LINE2, &B2, &k);
        let to_dev1 = make_reply_address(SUPPORT, T42, DEV1, &B2, &k);
        let other_key = ReplyKey::from_bytes(b"another key of sufficient length").unwrap();
        let forged_key = make_reply_address(SUPPORT, T42, LINE2, &B2, &other_key);
        let mut flipped = to_line2.clone();
        let pos = flipped.find('@').unwrap() - 1;
        let c = if flipped.as_bytes()[pos] == b'0' {
            "1"
        } else {
            "0"
        };
        flipped.replace_range(pos..pos + 1, c);
        let lowered = to_line2.to_lowercase();
        let named = format!("Служба поддержки <{}>", to_line2.to_uppercase());
        let eng1_ids = [ENG1, LINE2];
        let ok = Verification::Ok {
            recipient: LINE2.into(),
        };

        // (addresses, identities of the sender, expected, what)
        let cases: Vec<(Vec<&str>, &[&str], Verification, &str)> = vec![
            (
                vec![&to_line2],
                &eng1_ids,
                ok.clone(),
                "engineer of line 2 answers line 2's letter",
            ),
            (
                vec![SUPPORT, &to_line2],
                &eng1_ids,
                ok.clone(),
                "secret in Cc",
            ),
            (
                vec![&lowered],
                &eng1_ids,
                ok.clone(),
                "a mail system lower-cased the address",
            ),
            (
                vec![&named],
                &eng1_ids,
                ok.clone(),
                "display name and upper case",
            ),
            (vec![SUPPORT], &eng1_ids, Verification::NoToken, "no secret"),
            (
                vec![],
                &eng1_ids,
                Verification::NoToken,
                "no addresses at all",
            ),
            (
                vec!["support+hello@sed.example.org"],
                &eng1_ids,
                Verification::NoToken,
                "a plus-tag that is no secret",
            ),
            (
                vec![&to_line2_t41],
                &eng1_ids,
                Verification::WrongTicket { found: T41.into() },
                "another ticket's secret",
            ),
            (
                vec![&to_dev1],
                &eng1_ids,
                Verification::WrongRecipient,
                "a secret for another engineer",
            ),
            (
                vec![&to_line2],
                &[DEV1, "line3@dev.example.org"],
                Verification::WrongRecipient,
                "an engineer of another line",
            ),
            (
                vec![&to_line2],
                &["user@example.org"],
                Verification::WrongRecipient,
                "a non-engineer with a valid-looking secret",
            ),
            (
                vec![&forged_key],
                &eng1_ids,
                Verification::WrongRecipient,
                "a secret made with another key",
            ),
            (
                vec![&flipped],
                &eng1_ids,
                Verification::WrongRecipient,
                "one digit changed",
            ),
            (
                vec![&to_line2_t41, &to_line2],
                &eng1_ids,
                ok.clone(),
                "a stale secret beside the right one",
            ),
        ];
        for (addrs, ids, want, what) in cases {
            assert_eq!(verify(&addrs, T42, ids, &B2, &k), want, "{what}");
        }
        assert!(Verification::NoToken.explain().contains("Reply-To"));
        assert_eq!(
            Verification::WrongTicket { found: T41.into() }.explain(),
            "подтверждение получения относится к обращению TP-2026-000041, а не к этому"
        );
    }

    #[test]
    fn proofs_die_on_rerouting_and_sit_in_our_own_address() {
        let k = key();
        let issued = make_reply_address(SUPPORT, T42, LINE2, &B2, &k);
        let ids = [ENG1, LINE2];
        // (binding at verification, valid?, case)
        let cases = [
            (B2, true, "the assignment it was issued for"),
            (
                Binding { line: 3, ..B2 },
                false,
                "the ticket moved to line 3",
            ),
            (
                Binding {
                    assignee: Some("eng2@sed.example.org"),
                    ..B2
                },
                false,
                "the ticket was assigned to eng2",
            ),
            (
                Binding { routing: 3, ..B2 },
                false,
                "moved away and back to line 2",
            ),
        ];
        for (b, ok, what) in cases {
            assert_eq!(verify(&[&issued], T42, &ids, &b, &k).is_ok(), ok, "{what}");
        }
        let evil = issued.replace("sed.example.org", "evil.example");
        let other_local = issued.replace("support+", "sales+");
        // (delivered-to, to/cc, addresses kept, case)
        type Case<'a> = (Option<&'a str>, Vec<&'a str>, Vec<&'a str>, &'a str);
        let cases: Vec<Case> = vec![
            (None, vec![&issued], vec![&issued], "To, no Delivered-To"),
            (None, vec![&evil], vec![], "another domain"),
            (None, vec![&other_local], vec![], "another local part"),
            (
                Some(SUPPORT),
                vec![&issued],
                vec![SUPPORT],
                "delivered to the bare address: the proof in To does not count",
            ),
            (
                Some(&issued),
                vec![],
                vec![&issued],
                "delivered to the proof",
            ),
            (Some(&evil), vec![&issued], vec![], "delivered elsewhere"),
        ];
        for (dt, tocc, want, what) in cases {
            assert_eq!(proof_addresses(SUPPORT, dt, &tocc), want, "{what}");
        }
    }

    #[test]
    fn refuses_short_keys() {
        assert_eq!(
            ReplyKey::from_bytes(b"short\n").unwrap_err(),
            KeyError::TooShort(5)
        );
        assert_eq!(
            ReplyKey::from_bytes(b"   \n").unwrap_err(),
            KeyError::TooShort(0)
        );
        assert!(
            ReplyKey::from_bytes(&[0xff; 32]).is_ok(),
            "binary keys are fine"
        );
    }
}
