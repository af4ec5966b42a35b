//! From a parsed command letter to the changes to make: all of them, or
//! none.
//!
//! [`super::commands::parse_reply`] checks that every keyword line reads;
//! [`plan`] checks that the commands, together, may be applied to this
//! ticket by this engineer: the status move is in the table for the
//! engineer's line, the new line is declared, an assignee belongs to the
//! line the ticket ends up on, a status that writes to the user has text to
//! write. One refusal and nothing is applied; the engineer gets every reason
//! in one letter.

use super::commands::CommandSet;
use super::compiled::Workflow;
use super::status::{describe, transition, Actor, Kind, Line, Status};

/// What the plan needs to know of the ticket now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub status: Status,
    pub line: Line,
    pub priority: String,
    pub kind: Kind,
    pub assignee: Option<String>,
}

/// The changes a command letter makes. Fields are `Some` only when they
/// change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandPlan {
    pub status: Option<Status>,
    /// The new line and its mailbox: send it the routed letter (with a fresh
    /// proof of receipt for that mailbox).
    pub line: Option<(Line, String)>,
    /// The new priority: recompute the deadline from now.
    pub priority: Option<String>,
    pub kind: Option<Kind>,
    pub assignee: Option<String>,
    /// Text to send to the user (from the support address, with the tag):
    /// set when the new status is `awaiting_user` or `solution_proposed`.
    pub to_user: Option<String>,
    /// One history line per change.
    pub history: Vec<String>,
}

impl CommandPlan {
    pub fn changes_anything(&self) -> bool {
        self.status.is_some()
            || self.line.is_some()
            || self.priority.is_some()
            || self.kind.is_some()
            || self.assignee.is_some()
    }

    /// The confirmation to the engineer, after the ticket ID:
    /// `статус → Предложено решение, текст отправлен пользователю`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("статус → {}", s.display_name()));
        }
        if let Some((l, mailbox)) = &self.line {
            parts.push(format!("линия → {l} ({mailbox})"));
        }
        if let Some(p) = &self.priority {
            parts.push(format!("приоритет → {p}, срок пересчитан"));
        }
        if let Some(k) = self.kind {
            parts.push(format!("вид → {}", k.display_name()));
        }
        if let Some(a) = &self.assignee {
            parts.push(format!("исполнитель → {a}"));
        }
        if parts.is_empty() {
            parts.push("ничего не изменено".into());
        }
        if self.to_user.is_some() {
            parts.push("текст отправлен пользователю".into());
        }
        parts.join(", ")
    }
}

/// Check `set` against the ticket and the engineer; `Err` lists every
/// reason, one line each, and nothing may be applied.
pub fn plan(
    set: &CommandSet,
    now: &TicketState,
    actor: &Actor,
    wf: &Workflow,
) -> Result<CommandPlan, Vec<String>> {
    let mut out = CommandPlan::default();
    let mut errors = Vec::new();
    if !matches!(actor, Actor::Engineer { .. }) {
        return Err(vec![format!(
            "{} не инженер ни одной из линий: команды принимаются только от инженеров",
            actor.russian()
        )]);
    }
    if now.status == Status::Confirmed && set.has_commands() {
        return Err(vec![super::status::Refusal::Final.to_string()]);
    }
    let mut line_after = now.line;
    if let Some(l) = set.line.filter(|l| *l != now.line) {
        match wf.line(l) {
            Some(def) => {
                out.line = Some((l, def.mailbox.clone()));
                out.history
                    .push(format!("линия {} → {l} ({})", now.line, actor.russian()));
                line_after = l;
            }
            None => errors.push(format!("линия {l} не объявлена в конфигурации")),
        }
    }
    // A ticket handed to another line is in work there.
    let status_to = match set.status {
        Some(s) => Some(s),
        None if out.line.is_some() && now.status == Status::New => Some(Status::Assigned),
        None => None,
    };
    // The same status that writes to the user again (a second question, a
    // new proposal): the text is sent, the status stays.
    if let Some(to) = status_to.filter(|s| {
        *s == now.status && matches!(s, Status::AwaitingUser | Status::SolutionProposed)
    }) {
        if set.message.trim().is_empty() {
            errors.push(format!(
                "«{}» — письмо пользователю: напишите текст для пользователя после строк с командами",
                to.display_name()
            ));
        } else {
            out.to_user = Some(set.message.clone());
            out.history.push(format!(
                "«{}»: новое письмо пользователю",
                to.display_name()
            ));
        }
    }
    if let Some(to) = status_to.filter(|s| *s != now.status) {
        match transition(now.status, to, actor) {
            Ok(()) => {
                out.status = Some(to);
                out.history.push(describe(now.status, to, actor));
            }
            Err(refusal) => errors.push(refusal.to_string()),
        }
        if matches!(to, Status::AwaitingUser | Status::SolutionProposed) {
            if set.message.trim().is_empty() {
                errors.push(format!(
                    "«{}» — письмо пользователю: напишите текст для пользователя после строк с командами",
                    to.display_name()
                ));
            } else {
                out.to_user = Some(set.message.clone());
            }
        }
    }
    if let Some(p) = set
        .priority
        .as_ref()
        .filter(|p| !p.eq_ignore_ascii_case(&now.priority))
    {
        out.history.push(format!(
            "приоритет {} → {p} ({})",
            now.priority,
            actor.russian()
        ));
        out.priority = Some(p.clone());
    }
    if let Some(k) = set.kind.filter(|k| *k != now.kind) {
        out.history.push(format!(
            "вид {} → {} ({})",
            now.kind.display_name(),
            k.display_name(),
            actor.russian()
        ));
        out.kind = Some(k);
    }
    if let Some(a) = set
        .assignee
        .as_ref()
        .filter(|a| now.assignee.as_deref() != Some(a.as_str()))
    {
        match wf.line(line_after) {
            Some(def) if def.engineers.contains(a) => {
                out.history
                    .push(format!("исполнитель → {a} ({})", actor.russian()));
                out.assignee = Some(a.clone());
            }
            _ => errors.push(format!(
                "{a} не инженер линии {line_after}: укажите также `Линия:` с его линией"
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::workflow::calendar::WorkDuration;
    use crate::workflow::classify::Priority;
    use crate::workflow::compiled::LineDef;

    pub(crate) fn wf() -> Workflow {
        let line = |n: u8, mailbox: &str, engineers: &[&str]| LineDef {
            line: Line::from_number(n).unwrap(),
            name: None,
            mailbox: mailbox.into(),
            engineers: engineers.iter().map(|e| e.to_string()).collect(),
        };
        Workflow {
            support_address: "support@sed.example.org".into(),
            lines: vec![
                line(1, "line1@sed.example.org", &["op1@sed.example.org"]),
                line(
                    2,
                    "line2@sed.example.org",
                    &["eng1@sed.example.org", "eng2@sed.example.org"],
                ),
            ],
            priorities: vec![Priority {
                name: "high".into(),
                deadline: WorkDuration {
                    days: 0,
                    seconds: 3600,
                },
                is_default: false,
            }],
            ..Workflow::default()
        }
    }

    fn state(status: Status, line: Line) -> TicketState {
        TicketState {
            status,
            line,
            priority: "normal".into(),
            kind: Kind::Consultation,
            assignee: None,
        }
    }

    fn eng(n: u8, addr: &str) -> Actor {
        Actor::Engineer {
            line: Line::from_number(n).unwrap(),
            address: addr.into(),
        }
    }

    fn parsed(body: &str) -> CommandSet {
        wf().parse_reply(body).unwrap()
    }

    #[test]
    fn plans_or_refuses_as_a_whole() {
        let e1 = eng(1, "op1@sed.example.org");
        let e2 = eng(2, "eng1@sed.example.org");
        // (body, ticket, actor, Ok(summary) or Err(first reason starts with))
        let cases: Vec<(&str, TicketState, &Actor, Result<&str, &str>)> = vec![
            (
                "Статус: Предложено решение\n\nПерезагрузите.",
                state(Status::Assigned, Line::Second),
                &e2,
                Ok("статус → Предложено решение, текст отправлен пользователю"),
            ),
            ("Линия: 2", state(Status::New, Line::First), &e1, Ok("статус → Направлено на инженера, линия → 2 (line2@sed.example.org)")),
            ("Линия: 3", state(Status::New, Line::First), &e1, Err("линия 3 не объявлена")),
            ("Статус: Предложено решение", state(Status::Assigned, Line::Second), &e2, Err("«Предложено решение» — письмо пользователю")),
            ("Статус: Новое", state(Status::Assigned, Line::Second), &e2, Err("переход «Направлено на инженера» → «Новое» не предусмотрен")),
            ("Статус: Подтверждено", state(Status::Confirmed, Line::Second), &e2, Err("статус «Подтверждено» окончательный")),
            ("Приоритет: high\nВид: инцидент", state(Status::Assigned, Line::Second), &e2, Ok("приоритет → high, срок пересчитан, вид → Инцидент")),
            ("Исполнитель: eng2@sed.example.org", state(Status::Assigned, Line::Second), &e2, Ok("исполнитель → eng2@sed.example.org")),
            ("Исполнитель: eng2@sed.example.org", state(Status::New, Line::First), &e1, Err("eng2@sed.example.org не инженер линии 1")),
            ("Линия: 2\nИсполнитель: eng2@sed.example.org", state(Status::New, Line::First), &e1, Ok("статус → Направлено на инженера, линия → 2 (line2@sed.example.org), исполнитель → eng2@sed.example.org")),
            ("Статус: Направлено на инженера\nЛиния: 2", state(Status::Assigned, Line::Second), &e2, Ok("ничего не изменено")),
            ("Просто заметка", state(Status::Assigned, Line::Second), &e2, Ok("ничего не изменено")),
        ];
        for (body, st, actor, want) in cases {
            let got = plan(&parsed(body), &st, actor, &wf());
            match (got, want) {
                (Ok(p), Ok(summary)) => assert_eq!(p.summary(), summary, "{body:?}"),
                (Err(e), Err(start)) => assert!(e[0].starts_with(start), "{body:?}: {e:?}"),
                (got, want) => panic!("{body:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn refuses_non_engineers_and_collects_every_reason() {
        let user = Actor::User {
            address: "u@example.org".into(),
        };
        let e = plan(
            &parsed("Статус: Подтверждено"),
            &state(Status::SolutionProposed, Line::Second),
            &user,
            &wf(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            ["пользователь u@example.org не инженер ни одной из линий: команды принимаются только от инженеров"]
        );
        let e2 = eng(2, "eng1@sed.example.org");
        let e = plan(
            &parsed("Линия: 3\nСтатус: Новое"),
            &state(Status::Assigned, Line::Second),
            &e2,
            &wf(),
        )
        .unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        let p = plan(
            &parsed("Статус: awaiting_user\nКакой браузер?"),
            &state(Status::Assigned, Line::Second),
            &e2,
            &wf(),
        )
        .unwrap();
        assert_eq!(p.to_user.as_deref(), Some("Какой браузер?"));
        assert_eq!(p.history, ["Направлено на инженера → Действие пользователя (eng1@sed.example.org, 2-я линия: инженер спрашивает пользователя)"]);
        assert!(p.changes_anything());
    }
}
