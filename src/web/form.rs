//! The site's appeal form (п. 88.2, the fields of Table 2): what the
//! visitor typed, checked as a letter's form is (п. 90: the mandatory
//! fields, the location as room and floor, the phone normalised), with
//! one message per field. Pure: strings in, a [`Form`] or the errors out.

use crate::parse::location::{find_floor, find_room, words_for_bare_numbers};
use crate::parse::phone::parse_phone;
use crate::parse::Form;
use std::collections::BTreeMap;

/// The form's text fields, by their `name` in the page.
pub const FIELDS: [&str; 7] = [
    "organization",
    "full_name",
    "location",
    "phone",
    "email",
    "description",
    "note",
];

/// Longest one-line field kept, characters.
const MAX_LINE: usize = 250;
/// Longest description or note, characters.
const MAX_TEXT: usize = 20_000;

/// What the visitor sent: field name → value (as typed).
pub type Values = BTreeMap<String, String>;

/// Errors by field name (`attachments` included), in Russian.
pub type Errors = BTreeMap<&'static str, String>;

/// A checked appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub form: Form,
    pub email: String,
    /// One line for the subject: the description's start.
    pub subject: String,
}

fn value<'a>(v: &'a Values, k: &str) -> &'a str {
    v.get(k).map(|s| s.trim()).unwrap_or_default()
}

/// Check the text fields; `area_code` completes a local phone number.
pub fn check(v: &Values, area_code: &str) -> Result<Checked, Errors> {
    let mut errors = Errors::new();
    let long = |k: &'static str, max: usize, errors: &mut Errors| {
        if value(v, k).chars().count() > max {
            errors.insert(k, format!("Слишком длинно: не больше {max} знаков."));
        }
    };
    for k in ["organization", "full_name", "location", "phone", "email"] {
        long(k, MAX_LINE, &mut errors);
    }
    for k in ["description", "note"] {
        long(k, MAX_TEXT, &mut errors);
    }
    let full_name = value(v, "full_name");
    if full_name.is_empty() {
        errors.insert("full_name", "Укажите фамилию, имя и отчество.".into());
    }
    let location = value(v, "location");
    let (room, floor) = room_and_floor(location);
    if location.is_empty() {
        errors.insert(
            "location",
            "Укажите номер кабинета и этаж, например «каб. 305, 3 этаж».".into(),
        );
    } else if room.is_none() || floor.is_none() {
        let what = match (room.is_none(), floor.is_none()) {
            (true, true) => "ни номер кабинета, ни этаж",
            (true, false) => "номер кабинета",
            _ => "этаж",
        };
        errors.insert(
            "location",
            format!("Не удалось прочесть {what}; напишите, например, «каб. 305, 3 этаж»."),
        );
    }
    let phone_text = value(v, "phone");
    let (phone, ext) = parse_phone(phone_text, area_code);
    if phone_text.is_empty() {
        errors.insert(
            "phone",
            "Укажите контактный телефон, например «8 (4012) 55-12-34, доб. 123».".into(),
        );
    } else if phone.is_none() {
        errors.insert(
            "phone",
            "Номер не распознан; напишите его цифрами, например «8 (4012) 55-12-34».".into(),
        );
    }
    let email = crate::address::canonical(value(v, "email"));
    if email.is_empty() {
        errors.insert(
            "email",
            "Укажите адрес электронной почты: на него придёт номер обращения.".into(),
        );
    } else if !plausible_email(&email) {
        errors.insert(
            "email",
            "Это не адрес электронной почты; напишите его как name@example.org.".into(),
        );
    }
    let description = value(v, "description");
    if description.is_empty() {
        errors.insert("description", "Опишите, что случилось.".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let opt = |k: &str| Some(value(v, k).to_string()).filter(|s| !s.is_empty());
    let subject: String = description
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(80)
        .collect();
    Ok(Checked {
        form: Form {
            organization: opt("organization"),
            full_name: opt("full_name"),
            location: opt("location"),
            room,
            floor,
            phone,
            phone_ext: ext,
            description: opt("description"),
            note: opt("note"),
        },
        email,
        subject,
    })
}

/// The form as given, without the mandatory checks (a phone appeal may
/// lack fields: the desk then asks the caller, as for a letter): the
/// location read as room and floor, the phone normalised.
pub fn form_of(v: &Values, area_code: &str) -> Form {
    let opt = |k: &str| Some(value(v, k).to_string()).filter(|s| !s.is_empty());
    let (room, floor) = room_and_floor(value(v, "location"));
    let (phone, phone_ext) = match opt("phone") {
        Some(p) => parse_phone(&p, area_code),
        None => (None, None),
    };
    Form {
        organization: opt("organization"),
        full_name: opt("full_name"),
        location: opt("location"),
        room,
        floor,
        phone,
        phone_ext,
        description: opt("description"),
        note: opt("note"),
    }
}

/// Room and floor from the location as typed («каб. 305, 3 этаж», or
/// bare numbers «305, 3»: room first, as the field's label says).
fn room_and_floor(text: &str) -> (Option<String>, Option<String>) {
    let room = find_room(text);
    let floor = find_floor(text);
    if room.is_some() && floor.is_some() {
        return (room, floor);
    }
    match words_for_bare_numbers(text, false) {
        Some(w) => (
            room.or_else(|| find_room(&w)),
            floor.or_else(|| find_floor(&w)),
        ),
        None => (room, floor),
    }
}

/// `name@domain.tld`, nothing a header could misread.
fn plausible_email(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn full() -> Vec<(&'static str, &'static str)> {
        vec![
            ("organization", "Министерство финансов"),
            ("full_name", "Иванова Мария Сергеевна"),
            ("location", "каб. 305, 3 этаж"),
            ("phone", "8 (4012) 55-12-34, доб. 123"),
            ("email", "Ivanova@Minfin.example.org"),
            ("description", "Не открывается карточка документа\nс утра"),
        ]
    }

    #[test]
    fn a_complete_form_is_read_as_a_letters_would_be() {
        let c = check(&values(&full()), "4012").expect("valid");
        assert_eq!(c.form.room.as_deref(), Some("305"));
        assert_eq!(c.form.floor.as_deref(), Some("3"));
        assert_eq!(c.form.phone.as_deref(), Some("+74012551234"));
        assert_eq!(c.form.phone_ext.as_deref(), Some("123"));
        assert_eq!(c.email, "ivanova@minfin.example.org");
        assert_eq!(c.subject, "Не открывается карточка документа");
        assert!(c.form.missing().is_empty());
        assert_eq!(c.form.note, None);
    }

    #[test]
    fn each_wrong_field_is_named() {
        // (field changed, its value, fields with errors)
        for (k, v, want) in [
            ("location", "", vec!["location"]),
            ("location", "в бухгалтерии", vec!["location"]),
            ("location", "305, 3", vec![]),
            ("location", "кабинет 12", vec!["location"]),
            ("phone", "", vec!["phone"]),
            ("phone", "звоните", vec!["phone"]),
            ("phone", "55-12-34", vec![]),
            ("full_name", "  ", vec!["full_name"]),
            ("email", "ivanova", vec!["email"]),
            ("email", "a@b.c\r\nBcc: x@y.z", vec!["email"]),
            ("description", "", vec!["description"]),
            ("organization", "", vec![]),
        ] {
            let mut f = values(&full());
            f.insert(k.into(), v.into());
            let got: Vec<&str> = match check(&f, "4012") {
                Ok(_) => vec![],
                Err(e) => e.keys().copied().collect(),
            };
            assert_eq!(got, want, "{k} = {v:?}");
        }
        let e = check(&values(&[]), "4012").expect_err("empty");
        assert_eq!(
            e.keys().copied().collect::<Vec<_>>(),
            ["description", "email", "full_name", "location", "phone"]
        );
    }
}
