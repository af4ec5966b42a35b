//! A sender address from a slightly broken `From:` (rule 10): what
//! mail-parser cannot read as an address is looked at once more, and an
//! address is taken only when one can be recovered without guessing.
//!
//! Recovered: a stray `<` or `>` (`<user@example.com>>`), spaces at the
//! edges of the brackets or around `@` and `.` (`< user @example.com >`).
//! A space between two words of the local part (`<first last@example.com>`)
//! could stand for `first.last`, `firstlast` or `first_last`: taken only
//! when `Return-Path` or `Sender` names the same mailbox with one of those
//! joints; otherwise no sender (the letter is quarantined as before).

use super::charset::decode_rfc2047;
use super::Address;

/// Longest header value looked at.
const MAX_VALUE: usize = 1024;

/// Is `s` an address ticketd can answer: one `@`, a non-empty local part,
/// a dotted domain, no spaces, no brackets, quotes or commas.
fn valid(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | '"' | ',' | ';')
        })
}

/// The name and the address text of a `From:` value.
fn split_value(v: &str) -> (Option<String>, &str) {
    match v.find('<') {
        Some(lt) => {
            let name = v[..lt].trim().trim_matches('"').trim();
            let rest = &v[lt + 1..];
            let inner = match rest.find('>') {
                Some(gt) => &rest[..gt],
                None => rest,
            };
            let name = (!name.is_empty()).then(|| decode_rfc2047(name));
            (name, inner)
        }
        None => (None, v),
    }
}

/// Spaces next to `@` or `.` (and at the ends) are noise; a space between
/// two word characters is not.
fn drop_harmless_spaces(s: &str) -> Option<String> {
    let chars: Vec<char> = s.trim().chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, c) in chars.iter().enumerate() {
        if !c.is_whitespace() {
            out.push(*c);
            continue;
        }
        let prev = chars[..i].iter().rev().find(|c| !c.is_whitespace());
        let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
        let harmless = |c: Option<&char>| c.is_none_or(|c| matches!(c, '@' | '.'));
        if !(harmless(prev) || harmless(next)) {
            return None;
        }
    }
    Some(out)
}

/// The address of a header such as `Return-Path: <a@b>`.
fn plain_address(v: &str) -> Option<String> {
    let (_, inner) = split_value(v);
    let a = inner.trim().to_ascii_lowercase();
    valid(&a).then_some(a)
}

/// A sender from a `From:` value mail-parser could not read, or `None`.
/// `confirm` holds the `Return-Path` and `Sender` values, if any.
pub fn recover(from_value: &str, confirm: &[&str]) -> Option<Address> {
    let mut end = from_value.len().min(MAX_VALUE);
    while !from_value.is_char_boundary(end) {
        end -= 1;
    }
    let (name, inner) = split_value(&from_value[..end]);
    let cleaned = inner
        .trim()
        .trim_matches(|c: char| matches!(c, '<' | '>' | ';' | ',') || c.is_whitespace())
        .to_ascii_lowercase();
    let email = match drop_harmless_spaces(&cleaned) {
        Some(e) => e,
        None => {
            // "first last@domain": only a header that names the mailbox
            // decides how the words were joined.
            let (local, domain) = cleaned.split_once('@')?;
            let joined: String = local.split_whitespace().collect();
            confirm.iter().filter_map(|v| plain_address(v)).find(|a| {
                a.split_once('@').is_some_and(|(l, d)| {
                    d == domain.trim() && l.replace(['.', '_', '-'], "") == joined
                })
            })?
        }
    };
    valid(&email).then(|| Address {
        name: name.filter(|n| !n.is_empty()),
        email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_from_values() {
        let rp = ["<first.last@example.com>"];
        let cases: Vec<(&str, &[&str], Option<&str>)> = vec![
            (
                "\"Name\" <user@example.com>>",
                &[],
                Some("user@example.com"),
            ),
            ("Name <<user@example.com>", &[], Some("user@example.com")),
            ("< user@example.com >", &[], Some("user@example.com")),
            ("Name <user @ example.com>", &[], Some("user@example.com")),
            (
                "Name <first. last@example.com>",
                &[],
                Some("first.last@example.com"),
            ),
            ("user@example.com;", &[], Some("user@example.com")),
            (
                "\"Name\" <first last@example.com>",
                &rp,
                Some("first.last@example.com"),
            ),
            ("\"Name\" <first last@example.com>", &[], None),
            (
                "\"Name\" <first last@example.com>",
                &["<other@example.com>"],
                None,
            ),
            (
                "\"Name\" <first last@example.com>",
                &["<first.last@evil.example>"],
                None,
            ),
            ("Mail Delivery System <mx.example.com>", &[], None),
            ("<>", &[], None),
            ("Name <user@mail example.com>", &[], None),
            ("a@b@example.com", &[], None),
            ("", &[], None),
        ];
        for (v, confirm, want) in cases {
            assert_eq!(
                recover(v, confirm).map(|a| a.email).as_deref(),
                want,
                "{v:?}"
            );
        }
        assert_eq!(
            recover("=?utf-8?B?0JjQstCw0L3QvtCy?= <i@example.com>>", &[])
                .and_then(|a| a.name)
                .as_deref(),
            Some("Иванов")
        );
    }
}
