//! Reading people's free text the way they write it: a greeting line
//! before the point, «Спасибо, всё получилось» instead of the keyword,
//! «Не помогло» after a proposed solution.
//!
//! Pure and table-tested; [`super::user`] decides with these readings.

use super::commands::is_confirmation;

/// What a user's reply to a proposed solution says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The confirmation word (after at most one greeting line).
    Confirm,
    /// Thanks and "it works", without the keyword: ask to confirm.
    Thanks,
    /// The solution did not help: back to the line.
    NotHelped,
    /// Anything else: a comment for the line.
    Other,
}

/// Greetings people put on a line of their own before the point.
const GREETINGS: &[&str] = &[
    "добрый день",
    "добрый вечер",
    "доброе утро",
    "здравствуйте",
    "здравствуй",
    "привет",
    "приветствую",
    "коллеги",
    "уважаемые коллеги",
    "hello",
    "hi",
    "good morning",
    "good afternoon",
];

fn norm(line: &str) -> String {
    line.trim()
        .trim_end_matches(|c: char| ".,!:;".contains(c))
        .trim()
        .to_lowercase()
        .replace('ё', "е")
}

/// Is `line` only a greeting («Добрый день!», «Здравствуйте, Иван!»)?
pub fn is_greeting(line: &str) -> bool {
    let n = norm(line);
    GREETINGS.iter().any(|g| {
        n == *g
            || (n.starts_with(g)
                && n[g.len()..].starts_with([',', ' '])
                && n.split_whitespace().count() <= 4)
    })
}

/// The text without one leading greeting line (and the blank lines after
/// it); quoted history (`>`) stays where it is.
pub fn without_greeting(text: &str) -> &str {
    let trimmed = text.trim_start();
    let first_end = trimmed.find('\n').unwrap_or(trimmed.len());
    let first = &trimmed[..first_end];
    if is_greeting(first) {
        trimmed[first_end..].trim_start()
    } else {
        text
    }
}

const NOT_HELPED: &[&str] = &[
    "не помогло",
    "не помогает",
    "не получилось",
    "не работает",
    "ошибка осталась",
    "ошибка снова",
    "все так же",
    "всё так же",
    "проблема осталась",
    "проблема не решена",
    "не решена",
    "did not help",
    "didn't help",
    "still broken",
];

const THANKS: &[&str] = &[
    "спасибо",
    "благодарю",
    "всё получилось",
    "все получилось",
    "всё работает",
    "все работает",
    "заработало",
    "помогло",
    "thank",
    "works now",
];

/// Read a user's reply to a proposed solution.
pub fn answer(text: &str) -> Answer {
    let own = without_greeting(text);
    if is_confirmation(own) {
        return Answer::Confirm;
    }
    let first: String = own
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('>'))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('ё', "е");
    let has = |list: &[&str]| list.iter().any(|p| first.contains(&p.replace('ё', "е")));
    if has(NOT_HELPED) {
        Answer::NotHelped
    } else if has(THANKS) {
        Answer::Thanks
    } else {
        Answer::Other
    }
}

/// A salutation on a line of its own: «Уважаемая Мария Сергеевна!»,
/// «Dear colleagues,», «Добрый день, коллеги!».
fn is_salutation(line: &str) -> bool {
    if is_greeting(line) {
        return true;
    }
    let n = norm(line);
    let short = n.split_whitespace().count() <= 5;
    let ends = line.trim_end().ends_with([',', '!']);
    ["уважаем", "dear "]
        .iter()
        .any(|s| n.starts_with(s) && short && (ends || n.split_whitespace().count() <= 3))
}

/// The line that says what a letter is about, for one-line history
/// summaries: the first line that is not empty, quoted (`>`), a greeting
/// or a salutation; a letter of nothing but those gives its first
/// non-empty line.
pub fn summary_line(text: &str) -> &str {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next().unwrap_or("");
    lines
        .find(|l| !l.starts_with('>') && !is_salutation(l))
        .unwrap_or(first)
}

/// The command keys, as engineers write them.
const KEYS: &[&str] = &[
    "Статус",
    "Линия",
    "Приоритет",
    "Вид",
    "Исполнитель",
    "Status",
    "Line",
    "Priority",
    "Kind",
    "Assignee",
];

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The command key nearest to a mistyped one (`Стаус` → `Статус`), if near.
pub fn nearest_key(typed: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(typed, k), *k))
        .filter(|(d, k)| *d > 0 && *d <= 2 && *d < k.chars().count() / 2 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A command key line (`Статус: …`) somewhere below the top of the text —
/// after more than one greeting line — that was therefore not read as a
/// command: the line, for a short answer saying where keys go.
pub fn misplaced_command(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('>'))
        .skip_while(|l| l.is_empty())
        .skip(1)
        .find(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                !v.trim().is_empty() && KEYS.iter().any(|key| key.eq_ignore_ascii_case(k.trim()))
            })
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_people_write_them() {
        let cases = [
            ("Подтверждаю", Answer::Confirm),
            (
                "Добрый день!\n\nПодтверждаю, уведомления пришли",
                Answer::Confirm,
            ),
            ("Здравствуйте.\nПодтверждаю.", Answer::Confirm),
            ("Спасибо, всё получилось", Answer::Thanks),
            (
                "Добрый день!\n\nСпасибо большое, заработало!",
                Answer::Thanks,
            ),
            ("Не помогло, ошибка осталась", Answer::NotHelped),
            (
                "Добрый вечер!\n\nК сожалению, не помогло.",
                Answer::NotHelped,
            ),
            ("Спасибо, но не помогло", Answer::NotHelped),
            ("А когда придёт мастер?", Answer::Other),
            ("Добрый день!\n\nЧто-то вообще другое", Answer::Other),
        ];
        for (text, want) in cases {
            assert_eq!(answer(text), want, "{text:?}");
        }
    }

    #[test]
    fn keys_typed_wrong_and_misplaced() {
        assert_eq!(nearest_key("Стаус"), Some("Статус"));
        assert_eq!(nearest_key("Линя"), Some("Линия"));
        assert_eq!(nearest_key("Statsu"), Some("Status"));
        assert_eq!(nearest_key("Организация"), None);
        assert_eq!(nearest_key("Статус"), None);
        assert_eq!(
            misplaced_command(
                "Добрый день, коллеги.\nПосмотрел логи.\n\nСтатус: Предложено решение\n"
            ),
            Some("Статус: Предложено решение".into())
        );
        assert_eq!(misplaced_command("Статус: Назначено"), None);
        assert_eq!(misplaced_command("Посмотрел, всё в порядке."), None);
    }

    #[test]
    fn summary_lines_skip_greetings() {
        let cases = [
            (
                "Добрый день!\n\nНе работает принтер.",
                "Не работает принтер.",
            ),
            (
                "\r\n  Здравствуйте, Иван!\r\n\r\nУважаемые коллеги,\r\nСтатус: Назначено",
                "Статус: Назначено",
            ),
            (
                "Уважаемая Мария Сергеевна!\nПереустановите драйвер.",
                "Переустановите драйвер.",
            ),
            (
                "Добрый день, коллеги!\nПосмотрите индекс.",
                "Посмотрите индекс.",
            ),
            (
                "Dear colleagues,\n\nThe index is broken.",
                "The index is broken.",
            ),
            ("> цитата\nОтвет ниже цитаты", "Ответ ниже цитаты"),
            // The point in the greeting's line is kept.
            (
                "Добрый день, у меня не работает принтер в кабинете 305",
                "Добрый день, у меня не работает принтер в кабинете 305",
            ),
            (
                "Уважаемый коллега, прошу проверить индекс поиска на сервере",
                "Уважаемый коллега, прошу проверить индекс поиска на сервере",
            ),
            // Nothing but a greeting: the greeting.
            ("Добрый день!\n\n", "Добрый день!"),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(summary_line(text), want, "{text:?}");
        }
    }

    #[test]
    fn greetings() {
        for g in [
            "Добрый день!",
            "Здравствуйте,",
            "Добрый вечер",
            "Здравствуйте, Иван!",
            "Коллеги,",
        ] {
            assert!(is_greeting(g), "{g}");
        }
        for n in [
            "Статус: Назначено",
            "Подтверждаю",
            "Добрый день, у меня не работает принтер в кабинете 305",
        ] {
            assert!(!is_greeting(n), "{n}");
        }
        assert_eq!(
            without_greeting("Добрый день!\n\nСтатус: Назначено\n"),
            "Статус: Назначено\n"
        );
        assert_eq!(without_greeting("Статус: Назначено"), "Статус: Назначено");
    }
}
