//! Signatures under the desk's key ([`ReplyKey`]) for the channels beside
//! the mail: the user's status link, the web form's one-time token and an
//! engineer's registration address for phone appeals. Each use has its own
//! context, so a MAC made for one is worth nothing for another; every
//! comparison is constant-time (`verify_truncated_left`).

use super::token::ReplyKey;
use hmac::Mac;

const LINK: &[u8] = b"ticketd-link-v1";
const FORM: &[u8] = b"ticketd-form-v1";
const REG: &[u8] = b"ticketd-reg-v1";
/// Bytes of the link's MAC (128 bits, 32 hex digits).
const LINK_BYTES: usize = 16;
/// Bytes of a form token's and a registration address's MAC.
const SHORT_BYTES: usize = 10;

/// The signature of `ticket`'s status link: 32 lower-case hex digits.
pub fn link_sig(ticket: &str, key: &ReplyKey) -> String {
    let mut m = key.keyed(LINK);
    m.update(ticket.trim().to_ascii_uppercase().as_bytes());
    hex::encode(&m.finalize().into_bytes()[..LINK_BYTES])
}

/// `{public_url}/t/TP-2026-000042-<sig>`.
pub fn status_link(public_url: &str, ticket: &str, key: &ReplyKey) -> String {
    format!(
        "{}/t/{}-{}",
        public_url.trim().trim_end_matches('/'),
        ticket.trim(),
        link_sig(ticket, key)
    )
}

/// The ticket of a link's last path segment (`TP-2026-000042-<sig>`) when
/// the signature is right; `None` for anything else, decided in the same
/// time whatever part is wrong.
pub fn verify_link(segment: &str, key: &ReplyKey) -> Option<String> {
    let (ticket, sig) = segment.trim().rsplit_once('-')?;
    let ticket = ticket.to_ascii_uppercase();
    let given = hex::decode(sig.to_ascii_lowercase()).unwrap_or_default();
    let mut m = key.keyed(LINK);
    m.update(ticket.as_bytes());
    let ok = given.len() == LINK_BYTES && m.verify_truncated_left(&given).is_ok();
    ok.then_some(ticket)
}

/// What is wrong with a form's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormToken {
    /// Absent, malformed or not ours.
    Invalid,
    /// Sent back sooner than a person fills the form in.
    TooFast,
    /// Older than the longest a form page is kept open.
    Expired,
}

/// A one-time token for a form page issued at `issued` (Unix seconds):
/// `<issued>.<nonce>.<mac>`. The appeal submitted with it is registered
/// once, whatever is sent again with the same token.
pub fn form_token(issued: i64, nonce: &[u8; 16], key: &ReplyKey) -> String {
    let body = format!("{issued}.{}", hex::encode(nonce));
    let mut m = key.keyed(FORM);
    m.update(body.as_bytes());
    format!(
        "{body}.{}",
        hex::encode(&m.finalize().into_bytes()[..SHORT_BYTES])
    )
}

/// Check a form token at `now` (Unix seconds): ours, at least `min_fill`
/// seconds old, at most `max_age`.
pub fn check_form_token(
    token: &str,
    now: i64,
    min_fill: i64,
    max_age: i64,
    key: &ReplyKey,
) -> Result<(), FormToken> {
    let (body, mac) = token.trim().rsplit_once('.').ok_or(FormToken::Invalid)?;
    let mac = hex::decode(mac).map_err(|_| FormToken::Invalid)?;
    let mut m = key.keyed(FORM);
    m.update(body.as_bytes());
    if mac.len() != SHORT_BYTES || m.verify_truncated_left(&mac).is_err() {
        return Err(FormToken::Invalid);
    }
    let issued: i64 = body
        .split_once('.')
        .and_then(|(t, _)| t.parse().ok())
        .ok_or(FormToken::Invalid)?;
    let age = now.saturating_sub(issued);
    if age < min_fill {
        Err(FormToken::TooFast)
    } else if age > max_age {
        Err(FormToken::Expired)
    } else {
        Ok(())
    }
}

/// The MAC of `engineer`'s registration address (20 hex digits).
pub fn reg_mac(engineer: &str, key: &ReplyKey) -> String {
    let mut m = key.keyed(REG);
    m.update(super::address::canonical(engineer).as_bytes());
    hex::encode(&m.finalize().into_bytes()[..SHORT_BYTES])
}

/// `support+reg-<mac>@domain`: where `engineer` sends the appeals they
/// take by phone.
pub fn reg_address(support: &str, engineer: &str, key: &ReplyKey) -> String {
    let (local, domain) = support
        .trim()
        .rsplit_once('@')
        .unwrap_or((support.trim(), ""));
    let base = local.split_once('+').map_or(local, |(b, _)| b);
    format!("{base}+reg-{}@{domain}", reg_mac(engineer, key))
}

/// Is `addr` (angle brackets allowed) a registration address at all
/// (`…+reg-<20 hex>@…`)? Whose it is, is [`is_reg_address_of`].
pub fn is_reg_address(addr: &str) -> bool {
    reg_tag(addr).is_some()
}

/// Is `addr` the registration address of `engineer`? Constant-time.
pub fn is_reg_address_of(addr: &str, engineer: &str, key: &ReplyKey) -> bool {
    let Some(given) = reg_tag(addr).and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut m = key.keyed(REG);
    m.update(super::address::canonical(engineer).as_bytes());
    m.verify_truncated_left(&given).is_ok()
}

fn reg_tag(addr: &str) -> Option<String> {
    let a = addr.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _) = a.rsplit_once('@')?;
    let (_, tag) = local.split_once('+')?;
    let mac = tag
        .strip_prefix("reg-")
        .or_else(|| tag.strip_prefix("REG-"))?;
    (mac.len() == SHORT_BYTES * 2 && mac.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| mac.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> ReplyKey {
        ReplyKey::from_bytes(&[b; 32]).expect("key")
    }

    #[test]
    fn links() {
        let k = key(1);
        let sig = link_sig("TP-2026-000042", &k);
        assert_eq!(sig.len(), 32);
        let seg = format!("TP-2026-000042-{sig}");
        let flipped = if sig.ends_with('0') { '1' } else { '0' };
        // (segment, ticket it verifies for)
        for (s, want) in [
            (seg.clone(), Some("TP-2026-000042")),
            (seg.to_lowercase(), Some("TP-2026-000042")),
            (format!("TP-2026-000043-{sig}"), None),
            (format!("TP-2026-000042-{}", &sig[..30]), None),
            (format!("TP-2026-000042-{}{flipped}", &sig[..31]), None),
            ("TP-2026-000042".into(), None),
            (
                format!("TP-2026-000042-{}", link_sig("TP-2026-000042", &key(2))),
                None,
            ),
            (String::new(), None),
        ] {
            assert_eq!(verify_link(&s, &k).as_deref(), want, "{s}");
        }
        assert_eq!(
            status_link("https://support.example.org/", "TP-2026-000042", &k),
            format!("https://support.example.org/t/{seg}")
        );
    }

    #[test]
    fn form_tokens() {
        let k = key(1);
        let t = form_token(1000, &[7; 16], &k);
        // (token, now, result)
        for (tok, now, want) in [
            (t.clone(), 1005, Ok(())),
            (t.clone(), 1001, Err(FormToken::TooFast)),
            (t.clone(), 1000 + 86_401, Err(FormToken::Expired)),
            (t.replace("1000.", "999."), 1005, Err(FormToken::Invalid)),
            (
                form_token(1000, &[7; 16], &key(2)),
                1005,
                Err(FormToken::Invalid),
            ),
            (String::new(), 1005, Err(FormToken::Invalid)),
            ("1000.zz.zz".into(), 1005, Err(FormToken::Invalid)),
        ] {
            assert_eq!(check_form_token(&tok, now, 3, 86_400, &k), want, "{tok}");
        }
    }

    #[test]
    fn registration_addresses() {
        let k = key(1);
        let a = reg_address("support@sed.example.org", "Eng1@sed.example.org", &k);
        assert!(
            a.starts_with("support+reg-") && a.ends_with("@sed.example.org"),
            "{a}"
        );
        assert!(is_reg_address(&a));
        assert!(is_reg_address_of(&a, "eng1@sed.example.org", &k));
        assert!(is_reg_address_of(
            &format!("<{}>", a.to_uppercase()),
            "eng1@sed.example.org",
            &k
        ));
        assert!(!is_reg_address_of(&a, "eng2@sed.example.org", &k));
        assert!(!is_reg_address_of(&a, "eng1@sed.example.org", &key(2)));
        assert!(!is_reg_address(
            "support+TP-2026-000001-0123456789abcdef0123@sed.example.org"
        ));
        assert!(!is_reg_address("support@sed.example.org"));
    }
}
