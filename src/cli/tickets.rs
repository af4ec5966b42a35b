//! `ticketd tickets list|show`: reading tickets, as a table or JSON.

use super::TicketsCmd;
use crate::config::Config;
use crate::outbox::texts::{kind_name, status_change, status_name};
use crate::store::tickets::{ListFilter, Ticket};
use crate::store::Store;
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use std::time::Duration;

pub(super) fn open(cfg: &Config) -> anyhow::Result<Store> {
    Store::open(
        &cfg.database.path,
        Duration::from_millis(cfg.database.busy_timeout_ms),
    )
    .with_context(|| {
        format!(
            "database `{}` (database.path in `{}`)",
            cfg.database.path.display(),
            cfg.source_path.display()
        )
    })
}

/// Machine name of a status given by machine or Russian name.
pub(super) fn status_arg(s: &str) -> anyhow::Result<String> {
    const ALL: [&str; 5] = [
        "new",
        "assigned",
        "awaiting_user",
        "solution_proposed",
        "confirmed",
    ];
    let lower = s.trim().to_lowercase();
    for st in ALL {
        if lower == st || lower == status_name(st).to_lowercase() {
            return Ok(st.to_string());
        }
    }
    bail!("unknown status `{s}`; use one of: {}", ALL.join(", "))
}

fn since_arg(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("--since `{s}`: expected YYYY-MM-DD or an RFC 3339 time"))
}

pub(super) fn run(cfg: &Config, cmd: TicketsCmd) -> anyhow::Result<i32> {
    let store = open(cfg)?;
    match cmd {
        TicketsCmd::List {
            json,
            status,
            since,
            limit,
        } => {
            let filter = ListFilter {
                status: status.as_deref().map(status_arg).transpose()?,
                since: since.as_deref().map(since_arg).transpose()?,
                limit,
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
                say_part!("{}", table(&list));
            }
            Ok(0)
        }
        TicketsCmd::Show { id, json } => {
            let id = id.trim().trim_matches(['[', ']']).to_uppercase();
            let Some(t) = store.ticket_full(&id)? else {
                bail!("no ticket `{id}` in database `{}`; `ticketd tickets list` shows the existing ones", cfg.database.path.display());
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&show_json(&t))?);
            } else {
                say_part!("{}", details(&t));
            }
            Ok(0)
        }
    }
}

fn summary_json(t: &Ticket) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "status": t.status, "kind": t.kind, "priority": t.priority, "line": t.line,
        "requester": t.requester, "subject": t.subject, "created_at": t.created_at, "deadline": t.deadline,
    })
}

/// The contract's `tickets show --json` object.
pub fn show_json(t: &Ticket) -> serde_json::Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    let missing: Vec<&str> = crate::pipeline::form_missing(t);
    if let Some(o) = v.as_object_mut() {
        o.insert("missing_fields".into(), serde_json::json!(missing));
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

/// An aligned table with Russian status names.
pub fn table(list: &[Ticket]) -> String {
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
        let created = t
            .created_at
            .get(..16)
            .unwrap_or(&t.created_at)
            .replace('T', " ");
        let row = [
            t.id.clone(),
            status_name(&t.status).to_string(),
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

/// Human-readable ticket.
pub fn details(t: &Ticket) -> String {
    let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "—".into());
    let mut s = format!(
        "{}  {}\nСтатус: {}   Вид: {}   Приоритет: {}   Линия: {}\nЗаявитель: {}   Создано: {}   Срок: {}\n\n",
        t.id,
        t.subject,
        status_name(&t.status),
        kind_name(&t.kind),
        t.priority,
        t.line,
        t.requester,
        t.created_at,
        v(&t.deadline)
    );
    for (title, val) in [
        ("Организация", v(&t.organization)),
        ("Ф.И.О.", v(&t.full_name)),
        ("Местонахождение", v(&t.location)),
        (
            "Кабинет / этаж",
            format!("{} / {}", v(&t.room), v(&t.floor)),
        ),
        (
            "Телефон",
            match &t.phone_ext {
                Some(e) => format!("{} доб. {e}", v(&t.phone)),
                None => v(&t.phone),
            },
        ),
        ("Описание", v(&t.description)),
        ("Примечание", v(&t.note)),
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
            s.push_str(&format!("  {}: {}\n", r.filename, r.reason));
        }
    }
    s.push_str("\nИстория:\n");
    for h in &t.history {
        let change = status_change(h.from.as_deref(), h.to.as_deref());
        s.push_str(&format!("  {}  {}  {}{}", h.at, h.actor, h.action, change));
        if let Some(d) = &h.detail {
            let first = d.lines().next().unwrap_or("");
            s.push_str(&format!("  ({first})"));
        }
        s.push('\n');
    }
    s
}
