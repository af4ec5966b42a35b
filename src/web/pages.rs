//! The pages, compiled in (maud): Russian, no scripts, no external
//! resources (the style is inline), readable on a phone; every input has
//! a label (mandatory ones `aria-required`: the server checks, so a form
//! with gaps comes back with every gap named at once), every error sits
//! next to its field and is tied to it
//! (`aria-describedby`), with a summary at the top.

use super::form::{Errors, Values};
use maud::{html, Markup, DOCTYPE};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:0 auto;padding:1rem;color:#111}\
h1{font-size:1.5rem}label{display:block;font-weight:600;margin-top:1rem}\
input,textarea{display:block;width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #666;border-radius:4px}\
textarea{min-height:7rem}[aria-invalid=true]{border:2px solid #b00020}\
.hint{color:#444;font-size:.9rem;margin:.2rem 0}.error{color:#b00020;font-weight:600;margin:.2rem 0}\
.summary{border:2px solid #b00020;padding:.5rem 1rem;margin:1rem 0}\
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}\
button{font:inherit;padding:.6rem 1.2rem;margin-top:1rem;cursor:pointer}\
.number{font-size:1.4rem;font-weight:700}dl{margin:1rem 0}dt{font-weight:600}dd{margin:0 0 .5rem 0}\
ul.history{padding-left:1.2rem}a{overflow-wrap:anywhere}";

/// The frame of every page.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ru" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (STYLE) }
            }
            body {
                main { (body) }
            }
        }
    }
}

/// The form's fields: (name, label, hint, multi-line, required, type,
/// autocomplete).
const INPUTS: [(&str, &str, &str, bool, bool, &str, &str); 7] = [
    (
        "organization",
        "Наименование органа исполнительной власти",
        "",
        false,
        false,
        "text",
        "organization",
    ),
    (
        "full_name",
        "Ф.И.О. пользователя",
        "",
        false,
        true,
        "text",
        "name",
    ),
    (
        "location",
        "Местонахождение (номер кабинета и этаж)",
        "Например: каб. 305, 3 этаж",
        false,
        true,
        "text",
        "off",
    ),
    (
        "phone",
        "Номер контактного телефона",
        "Например: 8 (4012) 55-12-34, доб. 123",
        false,
        true,
        "tel",
        "tel",
    ),
    (
        "email",
        "Адрес электронной почты",
        "На него придёт номер обращения и ответы",
        false,
        true,
        "email",
        "email",
    ),
    (
        "description",
        "Описание возникшей проблемы",
        "Что вы делали и что случилось; текст ошибки, если есть",
        true,
        true,
        "",
        "",
    ),
    ("note", "Примечание", "", true, false, "", ""),
];

/// What the form page needs besides the values and errors.
pub struct FormPage<'a> {
    pub desk: &'a str,
    pub token: &'a str,
    pub max_file_mb: f64,
    pub max_files: usize,
    /// A message over the whole form (the token expired, too fast).
    pub notice: Option<&'a str>,
}

/// `GET /` and a form sent back with errors (values kept).
pub fn form(p: &FormPage<'_>, values: &Values, errors: &Errors) -> Markup {
    let body = html! {
        h1 { "Обращение в службу технической поддержки" }
        p { (p.desk) ". Поля, отмеченные звёздочкой (*), обязательны." }
        @if let Some(n) = p.notice {
            div class="summary" role="alert" { p class="error" { (n) } }
        }
        @if !errors.is_empty() {
            div class="summary" role="alert" id="errors" {
                p { strong { "Обращение не отправлено. Исправьте, пожалуйста:" } }
                ul {
                    @for (k, e) in errors {
                        li { a href={ "#" (k) } { (label_of(k)) } ": " (e) }
                    }
                }
            }
        }
        form method="post" action="/appeal" enctype="multipart/form-data" {
            input type="hidden" name="token" value=(p.token);
            @for (name, label, hint, multi, required, kind, auto) in INPUTS {
                @let err = errors.get(name);
                @let described = describedby(name, !hint.is_empty(), err.is_some());
                label for=(name) { (label) @if required { " *" } }
                @if !hint.is_empty() { p class="hint" id={ "hint-" (name) } { (hint) } }
                @if let Some(e) = err { p class="error" id={ "err-" (name) } { (e) } }
                @let v = values.get(name).map(String::as_str).unwrap_or_default();
                @if multi {
                    textarea id=(name) name=(name) aria-required=[required.then_some("true")]
                        aria-invalid=[err.map(|_| "true")] aria-describedby=[described.as_deref()] { (v) }
                } @else {
                    input id=(name) name=(name) type=(kind) value=(v) aria-required=[required.then_some("true")]
                        autocomplete=(auto)
                        aria-invalid=[err.map(|_| "true")] aria-describedby=[described.as_deref()];
                }
            }
            @let err = errors.get("attachments");
            label for="attachments" { "Файлы (снимки экрана, документы)" }
            p class="hint" id="hint-attachments" {
                "JPG, PNG, PDF или BMP, не больше " (mb(p.max_file_mb)) " МБ каждый, до " (p.max_files) " файлов."
            }
            @if let Some(e) = err { p class="error" id="err-attachments" { (e) } }
            input id="attachments" name="attachments" type="file" multiple
                accept=".jpg,.jpeg,.png,.pdf,.bmp,image/jpeg,image/png,image/bmp,application/pdf"
                aria-invalid=[err.map(|_| "true")]
                aria-describedby=(describedby("attachments", true, err.is_some()).unwrap_or_default());
            div class="hp" aria-hidden="true" {
                label for="website" { "Не заполняйте это поле" }
                input id="website" name="website" type="text" tabindex="-1" autocomplete="off";
            }
            button type="submit" { "Отправить обращение" }
        }
    };
    layout("Обращение в службу поддержки", body)
}

fn describedby(name: &str, hint: bool, err: bool) -> Option<String> {
    let mut ids = Vec::new();
    if err {
        ids.push(format!("err-{name}"));
    }
    if hint {
        ids.push(format!("hint-{name}"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn label_of(name: &str) -> &str {
    INPUTS
        .iter()
        .find(|i| i.0 == name)
        .map(|i| i.1)
        .unwrap_or(if name == "attachments" {
            "Файлы"
        } else {
            name
        })
}

fn mb(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The appeal is registered: its number and the status link.
pub fn done(ticket: &str, link: &str, email: &str) -> Markup {
    layout(
        &format!("Обращение {ticket} зарегистрировано"),
        html! {
            h1 { "Обращение зарегистрировано" }
            p { "Номер обращения: " span class="number" id="ticket" { (ticket) } }
            p { "Подтверждение отправлено на " (email) ". Сохраняйте номер в теме писем по этому обращению." }
            p { "Следить за обращением и подтвердить решение можно по ссылке (сохраните её, она только для вас):" }
            p { a id="status-link" href=(link) { (link) } }
        },
    )
}

/// The honeypot's answer: looks like success, registers nothing.
pub fn accepted() -> Markup {
    layout(
        "Обращение принято",
        html! {
            h1 { "Обращение принято" }
            p { "Спасибо. Номер обращения придёт письмом." }
        },
    )
}

/// A page with one message (errors, limits, not found).
pub fn message(title: &str, text: &str) -> Markup {
    layout(
        title,
        html! {
            h1 { (title) }
            p { (text) }
            p { a href="/" { "Открыть форму обращения" } }
        },
    )
}
