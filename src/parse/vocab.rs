//! The one table of title words: which column title or key names which
//! Table 2 field (rule 1). Everything that recognises a title goes through
//! [`classify_title`]; add wordings here, nowhere else.

use regex::RegexSet;
use std::sync::OnceLock;

/// What a column title or key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `N п/п`, `№`: the row number column.
    Number,
    Organization,
    FullName,
    /// A title naming both the person and the place (column 3 of Table 2).
    NameAndLocation,
    Location,
    Room,
    Floor,
    Phone,
    Description,
    Note,
}

/// Word stems per kind, matched against the lower-cased title with `ё`→`е`.
/// A stem starting with a space is a whole word or abbreviation: it must
/// start a word and not run on into letters (`тел.`, `каб`, `к.` — but not
/// the initials in `Лисин К.К.` nor the name `Телегин`).
static ORG: &[&str] = &[
    "орган",
    "организац",
    "учрежден",
    "ведомств",
    "министерств",
    "предприят",
    "наименование",
    "структурн",
    "подразделен",
    "отдел",
    "место работы",
    "огв",
    "оив",
    "омсу",
    "organization",
    "organisation",
    "company",
];
static NAME: &[&str] = &[
    "ф.и.о",
    "фио",
    "ф. и. о",
    "ф и о",
    "пользовател",
    "фамилия",
    " имя",
    "заявител",
    "сотрудник",
    "контактное лицо",
    "full name",
    "your name",
];
static LOCATION: &[&str] = &[
    "местонахожд",
    "местоположен",
    "место нахожд",
    "расположен",
    "адрес",
    "помещени",
    "рабочее место",
    "location",
    "address",
];
static ROOM: &[&str] = &[
    "кабинет",
    " каб",
    " к.",
    "комнат",
    " комн",
    "room",
    "office",
];
static FLOOR: &[&str] = &["этаж", " эт", "floor"];
static PHONE: &[&str] = &[
    "телефон",
    " тел",
    "phone",
    "мобильн",
    " моб",
    "контактный номер",
    "номер для связи",
    "контактные данные",
    " контакты",
];
static DESCRIPTION: &[&str] = &[
    "описание",
    "опишите",
    "проблем",
    "суть",
    "неисправност",
    "неполадк",
    "текст обращения",
    "текст заявки",
    "содержание обращения",
    "содержание заявки",
    "вопрос",
    "что случилось",
    "description",
    "problem",
    "issue",
];
static NOTE: &[&str] = &[
    "примечани",
    "комментари",
    "дополнительн",
    "доп. инф",
    "note",
    "comment",
];
const NUMBER: &[&str] = &["n п/п", "№ п/п", "n п.п", "№", "n", "#", "п/п", "no"];

/// All stems of one kind as one regex (one pass over the title instead of
/// one per stem: titles are checked for every cell and line of a letter).
fn stems_pattern(stems: &[&str]) -> String {
    let alts: Vec<String> = stems
        .iter()
        .map(|s| match s.strip_prefix(' ') {
            Some(word) => format!(
                r#"(?:^|[\s(,;:/\-«"]){}(?:$|[^\p{{Alphabetic}}])"#,
                regex::escape(word)
            ),
            None => regex::escape(s),
        })
        .collect();
    alts.join("|")
}

/// Which kinds' stems a normalised title contains, in one pass (titles are
/// checked for every cell and line of a letter). Order: ORG, NAME,
/// LOCATION, ROOM, FLOOR, PHONE, DESCRIPTION, NOTE.
fn stem_hits(title: &str) -> [bool; 8] {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    let set = SET.get_or_init(|| {
        RegexSet::new(
            [ORG, NAME, LOCATION, ROOM, FLOOR, PHONE, DESCRIPTION, NOTE]
                .iter()
                .map(|l| stems_pattern(l)),
        )
        .expect("static regex")
    });
    let m = set.matches(title);
    let mut out = [false; 8];
    for i in m.iter() {
        if let Some(o) = out.get_mut(i) {
            *o = true;
        }
    }
    out
}

/// The plain reading of a stem list (reference for [`stem_hits`]).
#[cfg(test)]
fn has(title: &str, stems: &[&str]) -> bool {
    stems.iter().any(|s| match s.strip_prefix(' ') {
        Some(word) => has_word(title, word),
        None => title.contains(s),
    })
}

/// `word` occurs at a word start and is not followed by a letter (the
/// plain reading of a word stem; [`stem_hits`] must agree with it).
#[cfg(test)]
fn has_word(title: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(i) = title[from..].find(word) {
        let at = from + i;
        let end = at + word.len();
        let before_ok = title[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(,;:/-«\"".contains(c));
        let after_ok = title[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphabetic());
        if before_ok && after_ok {
            return true;
        }
        from = end;
    }
    false
}

/// Normalise a title for matching: lower case, `ё`→`е`, whitespace runs
/// collapsed, list numbering (`1.`, `2)`) and trailing `:` removed.
pub fn normalize_title(raw: &str) -> String {
    let lower = raw.to_lowercase();
    let lower = if lower.contains('ё') {
        lower.replace('ё', "е")
    } else {
        lower
    };
    let mut t: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    // Leading list numbering: "1.", "2)", "3 -", "*", "-".
    let trimmed = t.trim_start_matches(['*', '-', '•', ' ']);
    let digits = trimmed.chars().take_while(|c| c.is_ascii_digit()).count();
    let rest = &trimmed[digits..];
    let t2 = if digits > 0 && digits <= 2 && (rest.starts_with('.') || rest.starts_with(')')) {
        rest[1..].trim_start().to_string()
    } else {
        trimmed.to_string()
    };
    t = t2;
    t.trim_end_matches([':', ' ', '-', '—', '–', '*'])
        .trim()
        .to_string()
}

/// For a title naming both room and floor (`Кабинет, этаж`, `Этаж/кабинет`):
/// true when the floor comes first.
pub fn floor_first(raw: &str) -> Option<bool> {
    let t = normalize_title(raw);
    let room = ["кабинет", "каб", "комн", "room"]
        .iter()
        .filter_map(|w| t.find(w))
        .min()?;
    let floor = ["этаж", "эт.", "floor"]
        .iter()
        .filter_map(|w| t.find(w))
        .min()?;
    Some(floor < room)
}

/// What a title names, if it names a field at all.
pub fn classify_title(raw: &str) -> Option<Kind> {
    let r = raw.trim();
    // Cheap rejections before any allocation: too long, or no letters and
    // not a number-column mark.
    if r.len() > 480 || r.is_empty() {
        return None;
    }
    if !r.chars().any(char::is_alphabetic) && !matches!(r, "№" | "#") {
        return None;
    }
    let t = normalize_title(r);
    if t.is_empty() || t.chars().count() > 120 {
        return None;
    }
    if NUMBER.contains(&t.as_str()) {
        return Some(Kind::Number);
    }
    // Titles are words, not sentences with numbers in them.
    // Digits in parentheses ("(не более 500 символов)") are a remark.
    if t.chars().any(|c| c.is_ascii_digit()) && !t.contains("п/п") {
        let mut depth = 0i32;
        let digit_outside = t.chars().any(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth <= 0 && c.is_ascii_digit()
        });
        if digit_outside {
            return None;
        }
    }
    let [org, name, loc, room, floor, phone, description, note] = stem_hits(&t);
    if name && (loc || room || floor) {
        return Some(Kind::NameAndLocation);
    }
    if phone {
        return Some(Kind::Phone);
    }
    if note {
        return Some(Kind::Note);
    }
    if description {
        return Some(Kind::Description);
    }
    if name {
        return Some(Kind::FullName);
    }
    if loc || (room && floor) {
        return Some(Kind::Location);
    }
    if room {
        return Some(Kind::Room);
    }
    if floor {
        return Some(Kind::Floor);
    }
    if org {
        return Some(Kind::Organization);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kind::*;

    #[test]
    fn titles() {
        let cases = [
            ("N п/п", Some(Number)),
            ("№", Some(Number)),
            (
                "Наименование органа исполнительной власти",
                Some(Organization),
            ),
            ("Орган власти", Some(Organization)),
            ("Организация", Some(Organization)),
            ("Учреждение:", Some(Organization)),
            (
                "Ф.И.О. пользователя, его местонахождение (включая номер кабинета и этаж)",
                Some(NameAndLocation),
            ),
            ("ФИО, кабинет, этаж", Some(NameAndLocation)),
            ("Ф.И.О. пользователя", Some(FullName)),
            ("ФИО", Some(FullName)),
            ("1. Ф.И.О.:", Some(FullName)),
            ("Пользователь", Some(FullName)),
            ("Местонахождение (кабинет, этаж)", Some(Location)),
            ("Адрес", Some(Location)),
            ("Кабинет, этаж", Some(Location)),
            ("Кабинет", Some(Room)),
            ("Каб.", Some(Room)),
            ("Этаж", Some(Floor)),
            ("Номер контактного телефона", Some(Phone)),
            ("Контактный телефон", Some(Phone)),
            ("Тел.", Some(Phone)),
            ("Описание возникшей проблемы", Some(Description)),
            ("Суть проблемы", Some(Description)),
            ("Проблема", Some(Description)),
            ("Примечание", Some(Note)),
            ("Дополнительная информация", Some(Note)),
            ("Фамилия, имя, отчество", Some(FullName)),
            ("Имя", Some(FullName)),
            ("Рабочее место", Some(Location)),
            ("Контакты", Some(Phone)),
            ("Опишите проблему", Some(Description)),
            ("Company name", Some(Organization)),
            ("Caused by", None),
            ("Лисин К.К.", None),
            (
                "Описание проблемы (не более 500 символов)",
                Some(Description),
            ),
            ("Иван Телегин", None),
            ("Тел./факс", Some(Phone)),
            ("эт.", Some(Floor)),
            ("к.", Some(Room)),
            ("2026-03-13 09", None),
            ("С уважением", None),
            ("Добрый день", None),
        ];
        for (title, want) in cases {
            assert_eq!(classify_title(title), want, "{title}");
        }
    }

    #[test]
    fn regex_set_agrees_with_plain_stem_matching() {
        let titles = [
            "лисин к.к.",
            "тел./факс",
            "каб./эт.",
            "иван телегин",
            "ф.и.о. пользователя, его местонахождение (включая номер кабинета и этаж)",
            "наименование органа исполнительной власти",
            "описание возникшей проблемы",
            "контакты",
            "эт.",
            "к.",
            "«тел» и кабинет",
            "этажерка",
        ];
        let lists = [ORG, NAME, LOCATION, ROOM, FLOOR, PHONE, DESCRIPTION, NOTE];
        for t in titles {
            let hits = stem_hits(t);
            for (i, list) in lists.iter().enumerate() {
                assert_eq!(hits[i], has(t, list), "{t} / list {i}");
            }
        }
    }
}
