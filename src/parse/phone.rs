//! The phone field → main number and extension (rule 4, contract): `8`
//! trunk prefix → `+7`, ten digits get `+7`, a local number that the default
//! area code completes to ten digits takes it, anything else as written.
//! Extension after `доб.`, `доб`, `вн.`, `внутр.`, `ext.`.

use regex::Regex;
use std::sync::OnceLock;

fn number_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\+?\d[\d \t\-‐–().]{3,24}\d").expect("static regex"))
}

fn ext_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:доб(?:авочный)?|вн(?:утр(?:енний)?)?|ext|extension|добав)\.?\s*[:№#]?\s*(\d{1,6})")
            .expect("static regex")
    })
}

/// Main phone (normalised) and extension digits from a phone field value.
pub fn parse_phone(value: &str, area_code: &str) -> (Option<String>, Option<String>) {
    let ext = ext_re()
        .captures(value)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string());
    // The main number: the first candidate that is not the extension.
    let ext_span = ext_re().find(value).map(|m| (m.start(), m.end()));
    let mut main = None;
    let mut short = None;
    for m in number_re().find_iter(value) {
        if let Some((s, e)) = ext_span {
            if m.start() >= s && m.end() <= e {
                continue;
            }
        }
        let raw = first_number(m.as_str().trim_end_matches(['(', ' ', '-']).trim());
        let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() < 5 {
            // A short internal number counts only when nothing else is there.
            if short.is_none() && digits.len() >= 3 {
                short = Some(raw.to_string());
            }
            continue;
        }
        main = Some(normalize(raw, &digits, area_code));
        break;
    }
    (main.or(short), ext)
}

/// Two numbers separated only by a space ("55-12-34 55-12-35") look like
/// one to the pattern: keep the longest leading run of words that makes a
/// whole number (11, 10 or local digits).
fn first_number(raw: &str) -> &str {
    let count = |s: &str| s.chars().filter(|c| c.is_ascii_digit()).count();
    if count(raw) <= 11 {
        return raw;
    }
    let mut best: Option<(usize, usize)> = None; // (rank, end)
    let mut end = 0;
    for w in raw.split_inclusive(char::is_whitespace) {
        end += w.len();
        let rank = match count(&raw[..end]) {
            11 => 3,
            10 => 2,
            6 | 7 => 1,
            _ => 0,
        };
        if rank > 0 && best.is_none_or(|(r, _)| rank > r) {
            best = Some((rank, end));
        }
    }
    best.map_or(raw, |(_, e)| raw[..e].trim())
}

fn normalize(raw: &str, digits: &str, area_code: &str) -> String {
    let plus = raw.starts_with('+');
    let n = digits.len();
    if n == 11 && (digits.starts_with('8') || digits.starts_with('7')) {
        return format!("+7{}", &digits[1..]);
    }
    if n == 10 && !plus {
        return format!("+7{digits}");
    }
    let area: String = area_code.chars().filter(|c| c.is_ascii_digit()).collect();
    if !plus && !area.is_empty() && n + area.len() == 10 {
        return format!("+7{area}{digits}");
    }

    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        let cases = [
            ("+7 (4012) 55-12-34", Some("+74012551234"), None),
            ("8 (4012) 55-27-90", Some("+74012552790"), None),
            (
                "+7 4012 55-36-18 доб. 214",
                Some("+74012553618"),
                Some("214"),
            ),
            ("55-41-07", Some("+74012554107"), None),
            ("8 (40151) 5-57-29", Some("+74015155729"), None),
            ("+7 911 000-45-67", Some("+79110004567"), None),
            ("55-19-83 доб. 123", Some("+74012551983"), Some("123")),
            ("8 (4012) 55-84-20", Some("+74012558420"), None),
            ("4012 55-93-11", Some("+74012559311"), None),
            ("+7(4012)559476", Some("+74012559476"), None),
            ("8-911-000-31-75", Some("+79110003175"), None),
            ("+7 4012 55 60 06", Some("+74012556006"), None),
            (
                "8(4012)55-47-33, доб. 305",
                Some("+74012554733"),
                Some("305"),
            ),
            (
                "+7 (4012) 55-31-08, моб. 8-911-000-22-33",
                Some("+74012553108"),
                None,
            ),
            (
                "8 (4012) 55-40-12 (вн. 45)",
                Some("+74012554012"),
                Some("45"),
            ),
            ("тел. 2-21-43, внутр. 7", Some("2-21-43"), Some("7")),
            (
                "ext. 12 +1 202 555 0100",
                Some("+1 202 555 0100"),
                Some("12"),
            ),
            ("нет", None, None),
            ("55-12-34 55-12-35", Some("+74012551234"), None),
            (
                "8 4012 55 12 34 8 911 000 00 00",
                Some("+74012551234"),
                None,
            ),
            ("21-43 (внутренний)", Some("21-43"), None),
            ("вн. 45", None, Some("45")),
        ];
        for (v, main, ext) in cases {
            let (m, e) = parse_phone(v, "4012");
            assert_eq!(m.as_deref(), main, "{v}");
            assert_eq!(e.as_deref(), ext, "{v}");
        }
    }
}
