//! Room and floor out of a location as people write it (rule 3), and the
//! split of a "name and place" cell into the name and the location (rule 2).
//!
//! Room: after `каб.`, `каб`, `кабинет`, `к.`, `комн.`, `комната`, `№`,
//! `пом.`. Floor: `N этаж`, `этаж N`, `N-й этаж`, `N эт.`, `эт. N`. Postal
//! index, house (`д. 1`, `63`) and building numbers are neither; the floor is
//! never guessed from the room number.

use regex::Regex;
use std::sync::OnceLock;

fn room_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(?:^|[\s,;:(])(?:кабинет|каб|комната|комн|к|пом|помещение|оф|офис|room)\.?\s*(?:№\s*)?(\d{1,5}(?:\s*[а-яa-z](?:[^а-яёa-z0-9]|$))?)|(?:^|[\s,;(])№\s*(\d{1,5}[а-яa-z]?)|(?:^|[\s,;(])(\d{1,5}[а-яa-z]?)\s*(?:-?\s*(?:й|ый|ий)\s*)?(?:кабинет|каб\.?|комн)",
        )
        .expect("static regex")
    })
}

fn floor_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(?:^|[^\d])(\d{1,3})\s*(?:-?\s*(?:й|ый|ий|ой|ом|м|го|ем))?\s*(?:этаж|эт\.|эт(?:[^а-яё]|$))|(?:этаж[а-яё]*|эт\.?)\s*[:№-]?\s*(\d{1,3})(?:[^\d]|$)",
        )
        .expect("static regex")
    })
}

fn house_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:^|[\s,;(])(?:д|дом|корп|корпус|стр|строение|зд|здание)\.?\s*(\d{1,4})")
            .expect("static regex")
    })
}

/// Room number as written (`305`, `112а`), if the text names one.
pub fn find_room(text: &str) -> Option<String> {
    for c in room_re().captures_iter(text) {
        let m = c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3))?;
        let v: String = m
            .as_str()
            .chars()
            .filter(|ch| ch.is_alphanumeric())
            .collect();
        if !v.is_empty() {
            return Some(v);
        }
    }
    None
}

/// Floor number as written (`3`), if the text names one.
pub fn find_floor(text: &str) -> Option<String> {
    // Numbers that are the room ("каб.305 эт.3": 305 is not the floor).
    // and house or building numbers ("д. 5 эт. 3": 5 is not the floor).
    let rooms: Vec<(usize, usize)> = room_re()
        .captures_iter(text)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)))
        .chain(house_re().captures_iter(text).filter_map(|c| c.get(1)))
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut pos = 0;
    while pos <= text.len() {
        let c = floor_re().captures_at(text, pos)?;
        let m = c.get(1).or_else(|| c.get(2))?;
        if rooms.iter().any(|(s, e)| m.start() < *e && *s < m.end()) {
            pos = m.end();
            continue;
        }
        return Some(m.as_str().to_string());
    }
    None
}

/// A location value that is only numbers ("305, 3", "305/3") under a title
/// naming room and floor: rewritten with the words so the rules apply.
pub fn words_for_bare_numbers(value: &str, floor_first: bool) -> Option<String> {
    let parts: Vec<&str> = value
        .split(|c: char| c == ',' || c == '/' || c == ';' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let bare = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_digit())
            && p.chars().count() <= 6
            && p.chars().all(|c| c.is_alphanumeric())
    };
    if parts.len() != 2 || !parts.iter().all(|p| bare(p)) {
        return None;
    }
    let (room, floor) = if floor_first {
        (parts[1], parts[0])
    } else {
        (parts[0], parts[1])
    };
    Some(format!("каб. {room}, {floor} этаж"))
}

/// Does this text start with a location word (`каб.`, `кабинет`, `этаж`,
/// `N этаж`, `к. 12`)? Used for unlabelled lines and for splitting a name.
pub fn starts_with_location(text: &str) -> bool {
    let t = text.trim_start().to_lowercase();
    let words = [
        "каб",
        "кабинет",
        "комн",
        "этаж",
        "эт.",
        "пом.",
        "помещение",
        "офис",
        "№",
    ];
    if words.iter().any(|w| t.starts_with(w)) {
        return true;
    }
    if let Some(rest) = t.strip_prefix("к.") {
        return rest.trim_start().starts_with(|c: char| c.is_ascii_digit());
    }
    // "4-й этаж", "2 этаж", "3 эт."
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits <= 3 {
        let rest = t[digits..].trim_start_matches(['-', ' ']);
        let rest = rest.trim_start_matches(['й', 'ы', 'и', 'о', 'м']);
        let rest = rest.trim_start();
        return ["этаж", "эт", "каб", "комн"]
            .iter()
            .any(|w| rest.starts_with(w));
    }
    false
}

/// Does this text start with a street address (`ул.`, `г.`, `д. 3а`, a
/// postal index)?
fn starts_with_address(text: &str) -> bool {
    let t = text.trim_start().to_lowercase();
    let words = [
        "ул.",
        "ул ",
        "улица",
        "пр.",
        "пр-т",
        "просп",
        "пл.",
        "площадь",
        "пер.",
        "переулок",
        "бул.",
        "бульвар",
        "наб.",
        "ш.",
        "шоссе",
        "обл.",
        "область",
        "р-н",
        "район",
        "пос.",
        "пгт",
        "корп",
        "стр.",
        "здание",
        "зд.",
    ];
    if words.iter().any(|w| t.starts_with(w)) {
        return true;
    }
    // "г. Гурьевск" (a town: long word after), "д. 3а" (a house: digit after).
    let mut it = t.splitn(2, '.');
    if let (Some(head), Some(tail)) = (it.next(), it.next()) {
        let tail = tail.trim_start();
        match head {
            "г" => return tail.chars().take_while(|c| c.is_alphabetic()).count() >= 3,
            "д" | "дом" => return tail.starts_with(|c: char| c.is_ascii_digit()),
            _ => {}
        }
    }
    // Postal index.
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    digits == 6
}

/// Split "Иванов Иван Иванович, каб. 5, 2 этаж" (or the name on one line and
/// the address on the next) into the name and the location text. The name is
/// the text before the first location or address word.
pub fn split_name_location(cell: &str) -> (Option<String>, Option<String>) {
    let cell = cell.trim();
    // Candidate split points: after a comma, semicolon, line break, or a
    // space; the first one whose tail starts like a location or address.
    let mut boundaries: Vec<usize> = vec![0];
    for (i, ch) in cell.char_indices() {
        if matches!(ch, ',' | ';' | '\n' | ' ' | '(' | '/') {
            boundaries.push(i + ch.len_utf8());
        }
    }
    for &b in &boundaries {
        let tail = &cell[b..];
        // Only the start of the tail matters; looking at a bounded head
        // keeps this linear on a 20 KB cell.
        let mut h = tail.len().min(48);
        while !tail.is_char_boundary(h) {
            h -= 1;
        }
        let head = &tail[..h];
        if head.trim().is_empty() {
            continue;
        }
        if starts_with_location(head) || starts_with_address(head) {
            let name = clean_piece(&cell[..b]);
            let loc = clean_piece(tail);
            if name.is_none() {
                // The place written first: "каб. 305, 3 этаж, Смирнова О.В.".
                if let Some((n, l)) = name_written_last(cell) {
                    return (Some(n), Some(l));
                }
            }
            return (name, loc);
        }
    }
    (clean_piece(cell), None)
}

/// The last comma- or line-separated piece when it reads as a name
/// (capitalised, no digits, not a place word).
fn name_written_last(cell: &str) -> Option<(String, String)> {
    let cut = cell.rfind([',', ';', '\n'])?;
    let piece = cell[cut + 1..].trim();
    let first = piece.chars().next()?;
    let looks_like_name = first.is_uppercase()
        && !piece.chars().any(|c| c.is_ascii_digit())
        && !starts_with_location(piece)
        && !starts_with_address(piece)
        && piece.split_whitespace().count() <= 5;
    if !looks_like_name {
        return None;
    }
    Some((clean_piece(piece)?, clean_piece(&cell[..cut])?))
}

/// The person's name without a job title written after it: "Иванов И.И.,
/// ведущий специалист" → "Иванов И.И." (a name's words are capitalised, a
/// position after a comma is not).
pub fn strip_position(name: &str) -> String {
    let mut out = name;
    for (i, _) in name.match_indices(',') {
        let rest = name[i + 1..].trim_start();
        if rest.chars().next().is_some_and(|c| c.is_lowercase()) {
            out = &name[..i];
            break;
        }
    }
    out.trim().to_string()
}

fn clean_piece(s: &str) -> Option<String> {
    let t = s
        .trim()
        .trim_matches(|c: char| c == ',' || c == ';' || c == '(' || c == '/' || c.is_whitespace())
        .trim();
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_and_floors() {
        let cases = [
            ("каб. 305, 3 этаж", Some("305"), Some("3")),
            ("кабинет 12, этаж 1", Some("12"), Some("1")),
            ("4-й этаж, к. 412", Some("412"), Some("4")),
            ("2 этаж, кабинет 208", Some("208"), Some("2")),
            ("каб. 112а, 1 этаж", Some("112а"), Some("1")),
            (
                "ул. Дм. Донского, 1, каб 214 (2 эт.)",
                Some("214"),
                Some("2"),
            ),
            ("3-й этаж, к.301", Some("301"), Some("3")),
            ("пл. Победы, 1, каб. 516, 5 этаж", Some("516"), Some("5")),
            ("Каб. 7, 2 эт.", Some("7"), Some("2")),
            (
                "236022, г. Калининград, ул. Дм. Донского, д. 1, каб. 318, 3 этаж",
                Some("318"),
                Some("3"),
            ),
            ("ул. Клиническая, 63", None, None),
            ("кабинет № 12, эт. 4", Some("12"), Some("4")),
            ("к. 12, 4-й эт.", Some("12"), Some("4")),
            ("комн. 5, на 2 этаже", Some("5"), Some("2")),
            ("каб. 9", Some("9"), None),
            ("ул. Ленина 5, 3 этаж, 301 кабинет", Some("301"), Some("3")),
            ("каб.305 эт.3", Some("305"), Some("3")),
            ("ул. Мира, д. 5 эт. 3, каб. 7", Some("7"), Some("3")),
            ("этаж: 3", None, Some("3")),
            (
                "г. Гурьевск, ул. Лесная, д. 3а, кабинет 17, 2 этаж",
                Some("17"),
                Some("2"),
            ),
        ];
        for (text, room, floor) in cases {
            assert_eq!(find_room(text).as_deref(), room, "room in {text}");
            assert_eq!(find_floor(text).as_deref(), floor, "floor in {text}");
        }
    }

    #[test]
    fn bare_numbers_under_room_floor_title() {
        assert_eq!(
            words_for_bare_numbers("305, 3", false).as_deref(),
            Some("каб. 305, 3 этаж")
        );
        assert_eq!(
            words_for_bare_numbers("3/305", true).as_deref(),
            Some("каб. 305, 3 этаж")
        );
        assert_eq!(words_for_bare_numbers("ул. Ленина, 5", false), None);
    }

    #[test]
    fn position_after_the_name() {
        assert_eq!(
            strip_position("Иванов И.И., ведущий специалист"),
            "Иванов И.И."
        );
        assert_eq!(
            strip_position("Иванов Иван Иванович"),
            "Иванов Иван Иванович"
        );
        assert_eq!(strip_position("Иванов, Петров"), "Иванов, Петров");
    }

    #[test]
    fn name_and_place() {
        let cases = [
            ("Смирнова Ольга Викторовна, каб. 305, 3 этаж", Some("Смирнова Ольга Викторовна"), Some("каб. 305, 3 этаж")),
            ("Белов А.В., каб. 101, 1 этаж", Some("Белов А.В."), Some("каб. 101, 1 этаж")),
            ("Петров Д. А., к. 5, 2 этаж", Some("Петров Д. А."), Some("к. 5, 2 этаж")),
            (
                "Соколова Татьяна Александровна\nг. Гурьевск, ул. Лесная, д. 3а, кабинет 17, 2 этаж",
                Some("Соколова Татьяна Александровна"),
                Some("г. Гурьевск, ул. Лесная, д. 3а, кабинет 17, 2 этаж"),
            ),
            ("Григорьева Надежда Фёдоровна, ул. Клиническая, 63", Some("Григорьева Надежда Фёдоровна"), Some("ул. Клиническая, 63")),
            ("Новикова Наталья Владимировна, 2 этаж, кабинет 208", Some("Новикова Наталья Владимировна"), Some("2 этаж, кабинет 208")),
            ("Иванов Иван (каб. 3, 1 эт.)", Some("Иванов Иван"), Some("каб. 3, 1 эт.)")),
            ("Иванов Иван Иванович", Some("Иванов Иван Иванович"), None),
            ("каб. 305, 3 этаж, Смирнова О.В.", Some("Смирнова О.В."), Some("каб. 305, 3 этаж")),
            ("каб. 305, 3 этаж", None, Some("каб. 305, 3 этаж")),
            ("Петров П.П. 305 кабинет, 3 этаж", Some("Петров П.П."), Some("305 кабинет, 3 этаж")),
        ];
        for (cell, name, loc) in cases {
            let (n, l) = split_name_location(cell);
            assert_eq!(n.as_deref(), name, "{cell}");
            assert_eq!(l.as_deref(), loc, "{cell}");
        }
    }
}
