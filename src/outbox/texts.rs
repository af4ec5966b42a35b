//! The built-in Russian letters. An admin can replace each by a file named
//! in `[templates]`; placeholders are listed in [`crate::template::PLACEHOLDERS`].

use crate::workflow::status::{Kind, Status};

/// п. 94: the letter confirming that the appeal was registered.
pub const CONFIRMATION: &str = "\
Здравствуйте!

Ваше обращение зарегистрировано в службе технической поддержки.
Номер обращения: {ticket}
Тема: {subject}
Статус: {status}
Срок решения: {deadline}

Мы получили следующие сведения:
{form}
{attachments}
При переписке по этому обращению, пожалуйста, сохраняйте его номер [{ticket}] в теме письма.

Это письмо отправлено автоматически.
--
{desk}
";

/// п. 94: clarifying questions when mandatory fields (п. 90) are missing.
pub const CLARIFICATION: &str = "\
Здравствуйте!

Ваше обращение зарегистрировано под номером {ticket}, но в нём не хватает
обязательных сведений (п. 90 регламента технической поддержки):
{missing}

Пожалуйста, ответьте на это письмо, сохранив номер [{ticket}] в теме,
и заполните форму обращения (таблица 2):
{form}
{attachments}
Как только недостающие сведения поступят, обращение будет передано в работу.

Это письмо отправлено автоматически.
--
{desk}
";

/// A letter over the size limit was not taken in.
pub const TOO_LARGE: &str = "\
Здравствуйте!

Ваше письмо «{subject}» не может быть принято: его размер больше
допустимого ({limit}). Пожалуйста, отправьте обращение ещё раз,
уменьшив вложения (снимки экрана в формате JPG или PNG обычно
занимают немного места).

Это письмо отправлено автоматически.
--
{desk}
";

/// Russian explanation of a rejected attachment's reason code.
pub fn rejection_reason(reason: &str) -> &'static str {
    match reason.split(':').next().unwrap_or("").trim() {
        "type" => "недопустимый тип файла (принимаются только JPG, PNG, PDF и BMP)",
        "size" => "файл слишком большой",
        "name" => "недопустимое имя файла",
        "count" => "превышено допустимое число вложений",
        _ => "файл не принят",
    }
}

/// Russian display name of a status machine name (a history row's
/// `from_status` / `to_status`); the names live with [`Status`].
pub fn status_name(status: &str) -> &str {
    match Status::parse(status) {
        Some(s) => s.display_name(),
        None => status,
    }
}

/// ` Новое → Направлено на инженера` for a history row's status change
/// ("" when the status did not change).
pub fn status_change(from: Option<&str>, to: Option<&str>) -> String {
    match (from, to) {
        (Some(f), Some(t)) => format!(" {} → {}", status_name(f), status_name(t)),
        (None, Some(t)) => format!(" → {}", status_name(t)),
        _ => String::new(),
    }
}

/// Russian name of a history row's action (the machine name stays in the
/// database and in `--json`).
pub fn action_name(action: &str) -> &str {
    match action {
        "created" => "обращение зарегистрировано",
        "letter" => "письмо",
        "routed" => "направлено на линию",
        "status" => "смена статуса",
        "command" => "команда инженера",
        "command_refused" => "команда отклонена",
        "engineer_note" => "заметка инженера",
        "confirmed" => "решение подтверждено",
        "fields_added" => "добавлены сведения",
        "escalated" => "эскалация",
        "suppressed" => "письмо не отправлено",
        "letter_failed" => "письмо не составлено",
        other => other,
    }
}

/// Who did it, as people read it: `система` for the desk itself, else the
/// address.
pub fn actor_name(actor: &str) -> &str {
    match actor {
        "system" => "система",
        other => other,
    }
}

/// A form field by its machine name, as people read it (defined with
/// the form, [`crate::parse::field_name`]).
pub use crate::parse::field_name;

/// Russian display name of a kind machine name; the names live with
/// [`Kind`].
pub fn kind_name(kind: &str) -> &str {
    match Kind::parse(kind) {
        Some(k) => k.display_name(),
        None => kind,
    }
}

/// A size limit as a reader expects it: «25 МБ», «2,5 МБ», «256 КБ»
/// (binary units, Russian decimal comma; never «0 МБ» for a small limit).
pub fn size_limit(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    const MB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= MB {
        let mb = (b / MB * 10.0).round() / 10.0;
        let s = if mb.fract() == 0.0 {
            format!("{mb:.0}")
        } else {
            format!("{mb:.1}").replace('.', ",")
        };
        format!("{s} МБ")
    } else if b >= KB {
        format!("{:.0} КБ", (b / KB).round())
    } else {
        format!("{bytes} байт")
    }
}

#[cfg(test)]
mod tests {
    use super::size_limit;

    #[test]
    fn size_limits_read_naturally() {
        for (bytes, want) in [
            (25 * 1024 * 1024, "25 МБ"),
            (1024 * 1024, "1 МБ"),
            (5 * 1024 * 1024 / 2, "2,5 МБ"),
            (262_144, "256 КБ"),
            (209_715, "205 КБ"),
            (1024, "1 КБ"),
            (500, "500 байт"),
            (0, "0 байт"),
        ] {
            assert_eq!(size_limit(bytes), want, "{bytes} bytes");
        }
    }
}
