//! What a reply says: an engineer's keyword commands, a user's confirmation,
//! a request for the status of one's tickets.
//!
//! Engineers move tickets by replying (contract, "Replies by e-mail"):
//! keyword lines `Key: value` at the top of the body, keys in Russian or
//! English, then the text for the user. Parsing is all-or-nothing: one
//! unknown key or value and the whole letter is refused with every error
//! listed, so that a half-understood letter never half-changes a ticket.
//! Whether the sender may command at all (engineer + proof of receipt) is
//! decided elsewhere (`token`, the pipeline); this module only reads text.

use super::classify::Priority;
use super::rules::{fold, is_address};
use super::status::{Kind, Line, Status};
use std::fmt;

/// The keys of the contract, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Status,
    Line,
    Priority,
    Kind,
    Assignee,
}

impl Key {
    fn parse(s: &str) -> Option<Key> {
        match fold(s.trim()).as_str() {
            "статус" | "status" => Some(Key::Status),
            "линия" | "line" => Some(Key::Line),
            "приоритет" | "priority" => Some(Key::Priority),
            "вид" | "kind" => Some(Key::Kind),
            "исполнитель" | "assignee" => Some(Key::Assignee),
            _ => None,
        }
    }
}

/// The commands of one reply, all valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandSet {
    pub status: Option<Status>,
    pub line: Option<Line>,
    /// The priority's name as declared in the config.
    pub priority: Option<String>,
    pub kind: Option<Kind>,
    /// An engineer's address, lower case.
    pub assignee: Option<String>,
    /// The text after the keyword lines, without quoted history and
    /// signature; empty when there is none.
    pub message: String,
}

impl CommandSet {
    /// No keyword lines: a plain reply.
    pub fn has_commands(&self) -> bool {
        self.status.is_some()
            || self.line.is_some()
            || self.priority.is_some()
            || self.kind.is_some()
            || self.assignee.is_some()
    }
}

/// One refused keyword line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// 1-based line of the body.
    pub line_no: usize,
    pub text: String,
    pub reason: String,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // «строка 1 письма», not "line 1": that reads as the support line.
        write!(
            f,
            "строка {} письма «{}»: {}",
            self.line_no, self.text, self.reason
        )
    }
}

/// Read an engineer's reply. `priorities` are the config's, `engineers` the
/// addresses of all lines' engineers.
pub fn parse_reply(
    body: &str,
    priorities: &[Priority],
    engineers: &[String],
) -> Result<CommandSet, Vec<CommandError>> {
    let lines: Vec<&str> = body.lines().collect();
    let mut set = CommandSet::default();
    let mut errors = Vec::new();
    let mut seen: Vec<Key> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let Some((key, value)) = keyword_line(raw) else {
            if raw.trim().is_empty() {
                i += 1;
                continue;
            }
            break;
        };
        let line_no = i + 1;
        let err = |reason: String| CommandError {
            line_no,
            text: raw.trim().to_string(),
            reason,
        };
        i += 1;
        let Some(k) = Key::parse(key) else {
            let near = super::speech::nearest_key(key)
                .map(|k| format!("; возможно, «{k}»?"))
                .unwrap_or_default();
            errors.push(err(format!(
                "неизвестный ключ «{key}»{near}; ключи: Статус/Status, Линия/Line, Приоритет/Priority, Вид/Kind, Исполнитель/Assignee"
            )));
            continue;
        };
        if seen.contains(&k) {
            errors.push(err(format!("«{key}» указан дважды")));
            continue;
        }
        seen.push(k);
        if value.is_empty() {
            errors.push(err(format!("у «{key}» нет значения")));
            continue;
        }
        match k {
            Key::Status => match Status::parse(value) {
                Some(s) => set.status = Some(s),
                None => errors.push(err(format!(
                    "неизвестный статус «{value}»; возможны: {}",
                    Status::ALL
                        .iter()
                        .map(|s| s.display_name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
            Key::Line => match Line::parse(value) {
                Some(l) => set.line = Some(l),
                None => errors.push(err(format!(
                    "неизвестная линия «{value}»; возможны 1, 2 или 3"
                ))),
            },
            Key::Priority => match super::classify::find_priority(priorities, value) {
                Some(p) => set.priority = Some(p.name.clone()),
                None => errors.push(err(format!(
                    "неизвестный приоритет «{value}»; возможны: {}",
                    priorities
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
            Key::Kind => match Kind::parse(value) {
                Some(kind) => set.kind = Some(kind),
                None => errors.push(err(format!(
                    "неизвестный вид «{value}»; возможны: {}",
                    Kind::ALL
                        .iter()
                        .map(|k| k.display_name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
            Key::Assignee => {
                let addr = bare_address(value);
                if !is_address(&addr) {
                    errors.push(err(format!("«{value}» — не адрес электронной почты")));
                } else if !engineers.iter().any(|e| e.eq_ignore_ascii_case(&addr)) {
                    errors.push(err(format!("{addr} не инженер ни одной из линий")));
                } else {
                    set.assignee = Some(addr);
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    set.message = strip_quoted(&lines[i..].join("\n"));
    Ok(set)
}

/// Does the letter open with a command keyword line (`Статус: …`,
/// `Line: 2`)? The keys are the contract's, as [`parse_reply`] reads them.
pub fn opens_with_command(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .and_then(keyword_line)
        .is_some_and(|(key, _)| Key::parse(key).is_some())
}

/// `Key: value` where the key is one word of letters. A URL (`https://…`)
/// is not a keyword line.
fn keyword_line(raw: &str) -> Option<(&str, &str)> {
    let (key, value) = raw.split_once([':', '：'])?;
    let key = key.trim();
    if key.is_empty() || key.chars().count() > 30 || !key.chars().all(char::is_alphabetic) {
        return None;
    }
    if value.starts_with("//") {
        return None;
    }
    Some((key, value.trim()))
}

/// `Иван <eng1@sed.example.org>` → `eng1@sed.example.org`, lower case.
fn bare_address(v: &str) -> String {
    let v = v.trim();
    let inner = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    inner.trim().trim_start_matches("mailto:").to_lowercase()
}

/// The author's own text of a reply: up to the quoted history, the
/// signature or a forwarded block; blank lines around trimmed.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, raw) in lines.iter().enumerate() {
        let l = raw.trim();
        let lower = fold(l);
        let attribution = is_attribution(l);
        let cut = l.starts_with('>')
            || *raw == "-- "
            || l == "--"
            || l == "—"
            || (l.len() >= 10 && l.chars().all(|c| c == '_'))
            || (l.starts_with("-----")
                && (lower.contains("message") || lower.contains("сообщение")))
            || lower.starts_with("from: ")
            || lower.starts_with("от: ")
            || lower.starts_with("sent from my")
            || lower.starts_with("отправлено с ")
            || attribution;
        if cut {
            end = i;
            // A wrapped attribution: "On Mon, 23 Nov 2026, Support <" / "support@…> wrote:".
            if attribution && i > 0 {
                let prev = fold(lines[i - 1].trim());
                if prev.starts_with("on ") || prev.starts_with("в ") || prev.starts_with('2') {
                    end = i - 1;
                }
            }
            break;
        }
    }
    let kept: Vec<&str> = lines[..end].iter().map(|l| l.trim_end()).collect();
    kept.join("\n").trim_matches('\n').trim().to_string()
}

/// `On … wrote:` / `… написал(а):` / `… пишет:`.
fn is_attribution(line: &str) -> bool {
    let lower = fold(line.trim());
    ["wrote:", "написал:", "написала:", "написал(а):", "пишет:"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// A user's confirmation: the first word of the reply is «Подтверждаю»,
/// «Подтверждено» or «confirm(ed)», in any case, punctuation after it
/// allowed.
pub fn is_confirmation(body: &str) -> bool {
    // Bottom-posters put their answer under the quote: skip it.
    let own = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>') && !is_attribution(l))
        .unwrap_or("");
    let first = own.split_whitespace().next().unwrap_or("");
    let word: String = first.chars().take_while(|c| c.is_alphabetic()).collect();
    let rest_ok = first
        .chars()
        .skip(word.chars().count())
        .all(|c| ".,!;:)".contains(c));
    rest_ok
        && ["подтверждаю", "подтверждено", "confirm", "confirmed"].contains(&fold(&word).as_str())
}

/// A request for the list of one's tickets: the subject (without `Re:` and
/// a ticket tag) or the first line of the body is «статус» / «status».
pub fn is_status_request(subject: &str, body: &str) -> bool {
    let word = |s: &str| {
        let f = fold(s.trim().trim_end_matches(['.', '!', '?']).trim());
        f == "статус" || f == "status"
    };
    let first_line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    word(&clean_subject(subject)) || word(first_line)
}

/// The subject without `Re:`/`Fwd:`/`Ответ:` prefixes and `[TP-…]` tags.
pub fn clean_subject(subject: &str) -> String {
    let mut s = subject.trim().to_string();
    loop {
        let before = s.clone();
        if s.starts_with('[') {
            if let Some(end) = s.find(']') {
                s = s.get(end + 1..).unwrap_or("").trim_start().to_string();
            }
        }
        let lower = fold(&s);
        for p in ["re:", "fw:", "fwd:", "ответ:", "отв:", "пересл:", "ha:"] {
            if lower.starts_with(p) {
                s = s.get(p.len()..).unwrap_or("").trim_start().to_string();
                break;
            }
        }
        if s == before {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::calendar::WorkDuration;

    fn prios() -> Vec<Priority> {
        ["high", "normal", "low"]
            .iter()
            .map(|n| Priority {
                name: n.to_string(),
                deadline: WorkDuration {
                    days: 1,
                    seconds: 0,
                },
                is_default: false,
            })
            .collect()
    }

    fn engineers() -> Vec<String> {
        vec!["eng1@sed.example.org".into(), "dev1@dev.example.org".into()]
    }

    fn parse(body: &str) -> Result<CommandSet, Vec<CommandError>> {
        parse_reply(body, &prios(), &engineers())
    }

    #[test]
    fn reads_keyword_lines() {
        let set = |f: fn(&mut CommandSet)| {
            let mut s = CommandSet::default();
            f(&mut s);
            s
        };
        let cases: Vec<(&str, CommandSet)> = vec![
            (
                "Статус: Предложено решение\n\nПерезагрузите компьютер.\n",
                set(|s| {
                    s.status = Some(Status::SolutionProposed);
                    s.message = "Перезагрузите компьютер.".into();
                }),
            ),
            (
                "status: awaiting_user\nWhich browser?",
                set(|s| {
                    s.status = Some(Status::AwaitingUser);
                    s.message = "Which browser?".into();
                }),
            ),
            (
                "ЛИНИЯ: 3\nприоритет: HIGH\nВид: инцидент\n",
                set(|s| {
                    s.line = Some(Line::Third);
                    s.priority = Some("high".into());
                    s.kind = Some(Kind::Incident);
                }),
            ),
            (
                "\n\n  Line : 2\nKind: service_request",
                set(|s| {
                    s.line = Some(Line::Second);
                    s.kind = Some(Kind::ServiceRequest);
                }),
            ),
            (
                "Исполнитель: Иван Петров <ENG1@sed.example.org>",
                set(|s| s.assignee = Some("eng1@sed.example.org".into())),
            ),
            (
                "Assignee: dev1@dev.example.org\n\nBy the way: see https://x.org",
                set(|s| {
                    s.assignee = Some("dev1@dev.example.org".into());
                    s.message = "By the way: see https://x.org".into();
                }),
            ),
            (
                "Спасибо, посмотрю.\nСтатус: confirmed",
                set(|s| s.message = "Спасибо, посмотрю.\nСтатус: confirmed".into()),
            ),
            (
                "https://sed.example.org/doc/1\nсм. ссылку",
                set(|s| s.message = "https://sed.example.org/doc/1\nсм. ссылку".into()),
            ),
            ("", CommandSet::default()),
        ];
        for (body, want) in cases {
            assert_eq!(parse(body), Ok(want), "{body:?}");
        }
    }

    #[test]
    fn refuses_the_whole_letter_on_any_error() {
        // (body, errors as "line: reason starts with")
        let cases: Vec<(&str, Vec<(usize, &str)>)> = vec![
            (
                "Статус: закрыто\nТекст",
                vec![(1, "неизвестный статус «закрыто»")],
            ),
            ("Стаус: Подтверждено", vec![(1, "неизвестный ключ «Стаус»")]),
            ("Линия: 4", vec![(1, "неизвестная линия «4»")]),
            (
                "Приоритет: срочно",
                vec![(
                    1,
                    "неизвестный приоритет «срочно»; возможны: high, normal, low",
                )],
            ),
            ("Вид: вопрос", vec![(1, "неизвестный вид «вопрос»")]),
            (
                "Исполнитель: Петров",
                vec![(1, "«Петров» — не адрес электронной почты")],
            ),
            (
                "Исполнитель: user@example.org",
                vec![(1, "user@example.org не инженер")],
            ),
            ("Статус:", vec![(1, "у «Статус» нет значения")]),
            (
                "Статус: new\nStatus: assigned",
                vec![(2, "«Status» указан дважды")],
            ),
            (
                "Статус: Предложено решение\nЛиния: 9\nВид: ?",
                vec![(2, "неизвестная линия"), (3, "неизвестный вид")],
            ),
        ];
        for (body, want) in cases {
            let errs = parse(body).unwrap_err();
            assert_eq!(errs.len(), want.len(), "{body:?}: {errs:?}");
            for (e, (line, start)) in errs.iter().zip(want) {
                assert_eq!(e.line_no, line, "{body:?}");
                assert!(e.reason.starts_with(start), "{body:?}: {}", e.reason);
            }
        }
        let e = parse("Линия: 4").unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "строка 1 письма «Линия: 4»: неизвестная линия «4»; возможны 1, 2 или 3"
        );
    }

    #[test]
    fn strips_quotes_and_signatures() {
        let cases = [
            ("Ответ.\n\n> старое\n> письмо", "Ответ."),
            ("Ответ.\n-- \nИнженер", "Ответ."),
            ("Ответ.\n\nOn Mon, 23 Nov 2026 at 10:00, Support <\nsupport@sed.example.org> wrote:\n> x", "Ответ."),
            ("Ответ.\n\n23.11.2026 10:00, Служба поддержки пишет:\n> x", "Ответ."),
            ("Ответ.\n\n-----Original Message-----\nFrom: x", "Ответ."),
            ("Ответ.\n________________________________\nОт: Служба", "Ответ."),
            ("Ответ.\n\nОтправлено с iPhone", "Ответ."),
            ("  \nСтрока 1\n\nСтрока 2  \n\n", "Строка 1\n\nСтрока 2"),
            ("> только цитата", ""),
        ];
        for (text, want) in cases {
            assert_eq!(strip_quoted(text), want, "{text:?}");
        }
        let set = parse("Статус: solution_proposed\nСделано.\n\nВ пн, 23 нояб. 2026 г. в 10:00, Поддержка написал(а):\n> Заявка").unwrap();
        assert_eq!(set.message, "Сделано.");
    }

    #[test]
    fn user_confirmations() {
        let cases = [
            ("Подтверждаю", true),
            ("подтверждаю, спасибо!", true),
            ("  ПОДТВЕРЖДЕНО.\n\n> Предложено решение", true),
            ("Confirm", true),
            ("confirmed!", true),
            ("Не подтверждаю", false),
            ("Подтверждаю-то я подтверждаю", false),
            ("Спасибо. Подтверждаю", false),
            ("> Предложено решение\n\nПодтверждаю", true),
            (
                "Support <support@sed.example.org> wrote:\n> текст\nconfirm",
                true,
            ),
            ("> Подтверждаю\nНет, не помогло", false),
            ("", false),
        ];
        for (body, want) in cases {
            assert_eq!(is_confirmation(body), want, "{body:?}");
        }
    }

    #[test]
    fn status_requests() {
        let cases = [
            ("статус", "", true),
            ("Status", "", true),
            ("Re: [TP-2026-000042] Статус?", "", true),
            ("Вопрос", "\n  статус\nпожалуйста", true),
            ("Вопрос", "Статус: Предложено решение", false),
            ("Статус заявки по ЭЦП", "Не работает", false),
            ("", "", false),
        ];
        for (subject, body, want) in cases {
            assert_eq!(
                is_status_request(subject, body),
                want,
                "{subject:?} / {body:?}"
            );
        }
        assert_eq!(
            clean_subject("RE: Fwd: [TP-2026-000001] Ответ: тема"),
            "тема"
        );
    }
}
