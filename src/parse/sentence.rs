//! Fields written in a sentence rather than a form: «Добрый вечер, кабинет
//! 305, 3 этаж, тел. 55-12-34» — the usual answer to a clarification.
//! Room and floor by `parse::location`'s rules; the phone only after a
//! phone word (`тел.`, `телефон`, `т.`), so a room number is never a phone,
//! and the phone never swallowed into the location.

use super::location::{find_floor, find_room};
use super::phone::parse_phone;
use super::Form;
use regex::Regex;
use std::sync::OnceLock;

fn phone_word_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:^|[\s,;:(])(?:телефон|тел|моб|мобильный|сот|т)\.?\s*[:№]?\s*(\+?\d[\d \-().]{3,24}\d(?:\s*,?\s*(?:доб|вн|внутр|ext)\.?\s*\d{1,6})?)")
            .expect("static regex")
    })
}

/// Room, floor, phone and extension named in free text; the rest `None`.
pub fn fields_in_text(text: &str, area_code: &str) -> Form {
    let mut f = Form::default();
    let (mut rest, mut phone_part) = (String::new(), None);
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('>') {
            continue;
        }
        match phone_word_re().captures(line) {
            Some(c) => {
                let m = c.get(0).map(|m| m.start()).unwrap_or(0);
                if phone_part.is_none() {
                    phone_part = c.get(1).map(|p| p.as_str().to_string());
                }
                rest.push_str(&line[..m]);
            }
            None => rest.push_str(line),
        }
        rest.push('\n');
    }
    f.room = find_room(&rest);
    f.floor = find_floor(&rest);
    if f.room.is_some() || f.floor.is_some() {
        let mut parts = Vec::new();
        if let Some(r) = &f.room {
            parts.push(format!("каб. {r}"));
        }
        if let Some(fl) = &f.floor {
            parts.push(format!("{fl} этаж"));
        }
        f.location = Some(parts.join(", "));
    }
    if let Some(p) = phone_part {
        let (main, ext) = parse_phone(&p, area_code);
        f.phone = main;
        f.phone_ext = ext;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences() {
        // (text, room, floor, phone, ext)
        let cases = [
            (
                "Добрый вечер, кабинет 305, 3 этаж, тел. 55-12-34",
                Some("305"),
                Some("3"),
                Some("+74012551234"),
                None,
            ),
            (
                "Каб. 305, этаж 3, телефон 8 (4012) 55-12-34 доб. 204",
                Some("305"),
                Some("3"),
                Some("+74012551234"),
                Some("204"),
            ),
            ("Я на 2 этаже", None, Some("2"), None, None),
            ("Позвоните мне, пожалуйста", None, None, None, None),
        ];
        for (text, room, floor, phone, ext) in cases {
            let f = fields_in_text(text, "4012");
            assert_eq!(f.room.as_deref(), room, "{text}");
            assert_eq!(f.floor.as_deref(), floor, "{text}");
            assert_eq!(f.phone.as_deref(), phone, "{text}");
            assert_eq!(f.phone_ext.as_deref(), ext, "{text}");
        }
    }
}
