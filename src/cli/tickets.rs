//! `ticketd tickets list|show`: reading tickets, as a table or JSON.
//!
//! Times are shown to people in the desk's time zone (the calendar's, as in
//! the letters); `--json` keeps the stored RFC 3339 times with their offset.

use super::TicketsCmd;
use crate::desk::Desk;
use crate::outbox::texts::{action_name, actor_name, rejection_reason, status_change};
use crate::store::tickets::{ListFilter, Ticket};
use crate::store::Store;
use crate::workflow::status::Status;
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub(super) fn open(cfg: &Desk) -> anyhow::Result<Store> {
    let at = cfg.database.store_at()?;
    at.open().with_context(|| {
        format!(
            "database `{}` ([database] in `{}`)",
            at.shown(),
            cfg.source_path.display()
        )
    })
}

/// Machine name of a status given by machine or Russian name.
pub(super) fn status_arg(s: &str) -> anyhow::Result<String> {
    match Status::parse(s) {
        Some(st) => Ok(st.machine_name().to_string()),
        None => {
            let names: Vec<&str> = Status::ALL.iter().map(|s| s.machine_name()).collect();
            bail!(
                "unknown status `{s}`; use one of: {} (or the Russian names)",
                names.join(", ")
            )
        }
    }
}

pub(super) fn run(cfg: &Desk, cmd: TicketsCmd) -> anyhow::Result<i32> {
    let store = open(cfg)?;
    match cmd {
        TicketsCmd::List {
            json,
            status,
            since,
            limit,
            mailbox,
        } => {
            if let Some(m) = mailbox.as_deref() {
                if cfg.mailbox_named(m).is_none() && m != crate::config::DEFAULT_MAILBOX {
                    let names: Vec<&str> = cfg.mailboxes.iter().map(|m| m.name()).collect();
                    anyhow::bail!(
                        "--mailbox {m}: no such mailbox in the config; the mailboxes are: {}",
                        names.join(", ")
                    );
                }
            }
            let filter = ListFilter {
                status: status.as_deref().map(status_arg).transpose()?,
                since: since
                    .as_deref()
                    .map(|s| super::dates::parse_since(s, tz(cfg)))
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                limit,
                mailbox,
                ..Default::default()
            };
            let list = store.tickets(&filter)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &list.iter().map(summary_json).collect::<Vec<_>>()
                    )?
                );
            } else {
                say_part!("{}", table(&list, tz(cfg)));
            }
            Ok(0)
        }
        // Dispatched to `cli::phone` before the store is opened here.
        TicketsCmd::New { .. } => bail!("`tickets new` is handled by the dispatcher"),
        TicketsCmd::Show { id, json } => {
            let id = id.trim().trim_matches(['[', ']']).to_uppercase();
            let Some(t) = store.ticket_full(&id)? else {
                bail!("no ticket `{id}` in database `{}`; `ticketd tickets list` shows the existing ones", cfg.database.store_at()?.shown());
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&show_json(&t))?);
            } else {
                say_part!("{}", details(&t, tz(cfg)));
            }
            Ok(0)
        }
    }
}

/// The desk's time zone (the business calendar's).
fn tz(cfg: &Desk) -> Tz {
    cfg.workflow.calendar.time_zone()
}

/// A stored time as people read it: `04.12.2026 18:43` in `tz`; a value
/// that is no time is shown as stored.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string()
}

/// [`local_time`] of a stored time (a history row's); shown as stored
/// when it does not read as one.
pub fn local_stored(stored: &str, tz: Tz) -> String {
    crate::store::parse_ts(stored).map_or_else(|| stored.to_string(), |t| local_time(t, tz))
}

fn summary_json(t: &Ticket) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "status": t.status(), "kind": t.kind, "priority": t.priority, "line": t.line,
        "requester": t.requester, "subject": t.subject, "created_at": t.created_at, "deadline": t.deadline,
        "mailbox": t.mailbox_shown(),
    })
}

/// The contract's `tickets show --json` object.
pub fn show_json(t: &Ticket) -> serde_json::Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    let missing: Vec<&str> = crate::pipeline::form_missing(t);
    if let Some(o) = v.as_object_mut() {
        o.insert("missing_fields".into(), serde_json::json!(missing));
        o.insert("mailbox".into(), serde_json::json!(t.mailbox_shown()));
    }
    v
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        s.chars().take(w).collect()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// An aligned table with Russian status names and local times.
pub fn table(list: &[Ticket], tz: Tz) -> String {
    if list.is_empty() {
        return "Нет обращений.\n".into();
    }
    let cols = [
        ("Номер", 16),
        ("Статус", 24),
        ("Линия", 5),
        ("Создано", 16),
        ("Заявитель", 34),
        ("Тема", 40),
    ];
    let mut out = String::new();
    let header: Vec<String> = cols.iter().map(|(n, w)| pad(n, *w)).collect();
    out.push_str(header.join("  ").trim_end());
    out.push('\n');
    let rule: Vec<String> = cols.iter().map(|(_, w)| "─".repeat(*w)).collect();
    out.push_str(&rule.join("  "));
    out.push('\n');
    for t in list {
        let created = local_time(t.created_at, tz);
        let row = [
            t.id.clone(),
            t.status().display_name().to_string(),
            t.line.to_string(),
            created,
            t.requester.clone(),
            t.subject.clone(),
        ];
        let cells: Vec<String> = row
            .iter()
            .zip(cols.iter())
            .map(|(v, (_, w))| pad(v, *w))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Human-readable ticket, times in `tz`.
pub fn details(t: &Ticket, tz: Tz) -> String {
    let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "—".into());
    let deadline = t
        .deadline
        .map_or_else(|| "—".to_string(), |d| local_time(d, tz));
    let mut s = format!(
        "{}  {}\nСтатус: {}   Вид: {}   Приоритет: {}   Линия: {}\nЗаявитель: {}   Создано: {}   Срок: {}\nКанал: {}{}\n\n",
        t.id,
        t.subject,
        t.status().display_name(),
        t.kind.display_name(),
        t.priority,
        t.line,
        t.requester,
        local_time(t.created_at, tz),
        deadline,
        t.channel.display_name(),
        t.registered_by
            .as_deref()
            .map(|e| format!("   Зарегистрировал: {e}"))
            .unwrap_or_default()
    );
    for (title, val) in [
        ("Организация", v(&t.form.organization)),
        ("Ф.И.О.", v(&t.form.full_name)),
        ("Местонахождение", v(&t.form.location)),
        (
            "Кабинет / этаж",
            format!("{} / {}", v(&t.form.room), v(&t.form.floor)),
        ),
        (
            "Телефон",
            v(&crate::outbox::compose::phone_with_ext(
                t.form.phone.as_deref(),
                t.form.phone_ext.as_deref(),
            )),
        ),
        ("Описание", v(&t.form.description)),
        ("Примечание", v(&t.form.note)),
    ] {
        s.push_str(&format!("{title}: {val}\n"));
    }
    let missing = crate::pipeline::form_missing(t);
    if !missing.is_empty() {
        s.push_str(&format!("Не хватает: {}\n", missing.join(", ")));
    }
    if !t.attachments.is_empty() {
        s.push_str("\nВложения:\n");
        for a in &t.attachments {
            s.push_str(&format!(
                "  {} ({}, {} байт, sha256 {})\n",
                a.filename, a.content_type, a.size, a.sha256
            ));
        }
    }
    if !t.rejected_attachments.is_empty() {
        s.push_str("\nОтклонённые вложения:\n");
        for r in &t.rejected_attachments {
            s.push_str(&format!(
                "  {}: {} ({})\n",
                r.filename,
                rejection_reason(&r.reason),
                r.reason
            ));
        }
    }
    s.push_str("\nИстория:\n");
    for h in &t.history {
        let change = status_change(h.from.as_deref(), h.to.as_deref());
        s.push_str(&format!(
            "  {}  {}  {}{}",
            local_stored(&h.at, tz),
            actor_name(&h.actor),
            action_name(&h.action),
            change
        ));
        if let Some(d) = &h.detail {
            s.push_str(&history_detail(&h.action, d));
        }
        s.push('\n');
    }
    s
}

/// A history row's detail in `tickets show`: a letter by the line that
/// says what it is about (not its «Добрый день!»); anything else — a
/// command with its handover comment, a refusal — whole, its further
/// lines indented under the row.
fn history_detail(action: &str, detail: &str) -> String {
    if action == "letter" {
        return format!("  ({})", crate::workflow::speech::summary_line(detail));
    }
    let mut lines = detail.trim().lines();
    let mut out = format!("  ({}", lines.next().unwrap_or("").trim_end());
    for l in lines {
        out.push_str("\n      ");
        out.push_str(l.trim_end());
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tickets::HistoryRow;

    #[test]
    fn history_details_letters_by_their_line_the_rest_whole() {
        // (action, detail, shown)
        for (action, detail, shown) in [
            (
                "letter",
                "Добрый день!\n\nПринтер снова не печатает.\nС уважением",
                "  (Принтер снова не печатает.)",
            ),
            (
                "command",
                "Линия: 3; Коллеги, это не консультация.\nПрошу посмотреть индекс.",
                "  (Линия: 3; Коллеги, это не консультация.\n      Прошу посмотреть индекс.)",
            ),
            ("escalated", "срок пропущен", "  (срок пропущен)"),
        ] {
            assert_eq!(history_detail(action, detail), shown, "{action}");
        }
    }

    #[test]
    fn people_read_the_desks_local_time() {
        let mut t = Ticket::default();
        t.id = "TP-2026-000001".into();
        t.kind = crate::workflow::status::Kind::Consultation;
        t.priority = "обычный".into();
        t.line = crate::workflow::status::Line::First;
        t.requester = "user@example.com".into();
        t.subject = "Тема".into();
        t.created_at = "2026-12-04T16:43:16.227Z".parse().expect("time");
        t.deadline = Some("2026-12-07T08:00:00.000Z".parse().expect("time"));
        t.history = vec![HistoryRow {
            at: "2026-12-04T16:43:16.227Z".into(),
            actor: "system".into(),
            action: "routed".into(),
            from: None,
            to: None,
            detail: None,
        }];
        let cases: &[(Tz, &[&str])] = &[
            (
                chrono_tz::Europe::Kaliningrad,
                &[
                    "Создано: 04.12.2026 18:43",
                    "Срок: 07.12.2026 10:00",
                    "  04.12.2026 18:43  система  направлено на линию",
                ],
            ),
            (
                chrono_tz::Asia::Vladivostok,
                &["Создано: 05.12.2026 02:43", "Срок: 07.12.2026 18:00"],
            ),
        ];
        for (tz, want) in cases {
            let shown = details(&t, *tz);
            for w in *want {
                assert!(shown.contains(w), "{tz}: no «{w}» in\n{shown}");
            }
            assert!(!shown.contains("16:43:16"), "no UTC time: {shown}");
        }
        let list = table(std::slice::from_ref(&t), chrono_tz::Europe::Kaliningrad);
        assert!(list.contains("04.12.2026 18:43"), "{list}");
        assert_eq!(local_stored("not a time", chrono_tz::UTC), "not a time");
    }
}
