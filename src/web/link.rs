//! The user's signed status link: `GET /t/{ticket}-{sig}` shows the
//! ticket's number, subject, status in Russian, deadline in the desk's
//! time zone and the history that concerns the user (registration, status
//! changes, confirmation — no engineers' notes, no addresses); `POST`
//! there presses «Подтверждаю» or «Не решено»
//! ([`crate::pipeline::link`]). A wrong signature and an unknown ticket
//! get the same 404 page; the signature is checked in constant time
//! before the database is asked.

use super::{not_found, page, pages, unavailable, WebState};
use crate::pipeline::link::{LinkAction, LinkOutcome};
use crate::store::tickets::{HistoryRow, Ticket};
use crate::workflow::signed;
use crate::workflow::status::Status;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use chrono::{DateTime, Utc};
use maud::html;
use std::sync::Arc;

/// Longest «Не решено» text kept, characters.
const MAX_WORDS: usize = 20_000;

#[derive(Debug, serde::Deserialize)]
pub(super) struct Pressed {
    action: String,
    #[serde(default)]
    text: String,
}

async fn ticket(s: &WebState, seg: &str) -> Result<Option<Ticket>, Response> {
    let Some(id) = signed::verify_link(seg, &s.key) else {
        return Ok(None);
    };
    s.handle
        .with(move |p| Ok(p.store().ticket_full(&id)?))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "status page: ticket not read");
            unavailable()
        })
}

pub(super) async fn show(State(s): State<Arc<WebState>>, Path(seg): Path<String>) -> Response {
    match ticket(&s, &seg).await {
        Ok(Some(t)) => page(StatusCode::OK, view(&s, &t, &seg, None)),
        Ok(None) => not_found().await,
        Err(r) => r,
    }
}

pub(super) async fn act(
    State(s): State<Arc<WebState>>,
    Path(seg): Path<String>,
    Form(pressed): Form<Pressed>,
) -> Response {
    let Some(id) = signed::verify_link(&seg, &s.key) else {
        return not_found().await;
    };
    let action = match pressed.action.as_str() {
        "confirm" => LinkAction::Confirm,
        "not_solved" => LinkAction::NotSolved(pressed.text.chars().take(MAX_WORDS).collect()),
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::message(
                    "Действие не распознано",
                    "Откройте ссылку из письма заново.",
                ),
            )
        }
    };
    let done = match s.handle.link_action(id, action.clone()).await {
        Ok(LinkOutcome::Unknown) => return not_found().await,
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "status link action not stored");
            return unavailable();
        }
    };
    let said = match (done, action) {
        (LinkOutcome::Done, LinkAction::Confirm) => {
            "Спасибо! Решение подтверждено, обращение закрыто."
        }
        (LinkOutcome::Done, LinkAction::NotSolved(_)) => {
            "Обращение возвращено инженеру вместе с вашим сообщением."
        }
        _ => "Ничего не изменилось: решение по обращению сейчас не предложено (уже подтверждено или обращение в работе).",
    };
    match ticket(&s, &seg).await {
        Ok(Some(t)) => page(StatusCode::OK, view(&s, &t, &seg, Some(said))),
        Ok(None) => not_found().await,
        Err(r) => r,
    }
}

fn local(s: &WebState, t: Option<DateTime<Utc>>) -> String {
    let tz = s.cfg.workflow.calendar.time_zone();
    match t {
        Some(t) => t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string(),
        None => "не установлен".into(),
    }
}

/// What of a history row the user may see, in Russian; `None`: not theirs.
pub fn for_user(h: &HistoryRow) -> Option<String> {
    let status = |s: &Option<String>| {
        s.as_deref()
            .and_then(Status::parse)
            .map(Status::display_name)
    };
    match h.action.as_str() {
        "created" => Some("Обращение зарегистрировано".into()),
        "fields_added" => Some("Получены недостающие сведения".into()),
        "confirmed" => Some("Решение подтверждено пользователем".into()),
        // Any other row that moved the status (a command, escalation, the
        // user's answer): the new status alone, never the row's details.
        _ if h.to.is_some() && h.to != h.from => status(&h.to).map(|s| format!("Статус: {s}")),
        _ => None,
    }
}

fn view(s: &WebState, t: &Ticket, seg: &str, said: Option<&str>) -> maud::Markup {
    let at = |h: &HistoryRow| {
        crate::store::parse_ts(&h.at)
            .map(|t| local(s, Some(t)))
            .unwrap_or_default()
    };
    let history: Vec<(String, String)> = t
        .history
        .iter()
        .filter_map(|h| for_user(h).map(|what| (at(h), what)))
        .collect();
    let action = format!("/t/{seg}");
    let body = html! {
        h1 { "Обращение " span id="ticket" { (t.id) } }
        @if let Some(m) = said { p role="status" id="said" { strong { (m) } } }
        dl {
            dt { "Тема" } dd { (t.subject) }
            dt { "Статус" } dd id="status" { (t.status().display_name()) }
            dt { "Срок решения" } dd { (local(s, t.deadline)) " (" (s.cfg.workflow.calendar.time_zone().name()) ")" }
            dt { "Зарегистрировано" } dd { (local(s, Some(t.created_at))) }
        }
        @if t.status() == Status::SolutionProposed {
            h2 { "Решение предложено" }
            p { "Если решение помогло, подтвердите его — обращение будет закрыто." }
            form method="post" action=(action) {
                input type="hidden" name="action" value="confirm";
                button type="submit" id="confirm" { "Подтверждаю" }
            }
            form method="post" action=(action) {
                input type="hidden" name="action" value="not_solved";
                label for="text" { "Если не помогло, опишите, что не так" }
                textarea id="text" name="text" {}
                button type="submit" id="not-solved" { "Не решено" }
            }
        }
        h2 { "История" }
        ul class="history" {
            @for (when, what) in &history { li { (when) " — " (what) } }
        }
    };
    pages::layout(&format!("Обращение {}", t.id), body)
}

#[cfg(test)]
mod tests {
    use super::for_user;
    use crate::store::tickets::HistoryRow;

    fn row(actor: &str, action: &str, to: Option<&str>, detail: &str) -> HistoryRow {
        HistoryRow {
            at: "2026-12-07T08:00:00Z".into(),
            actor: actor.into(),
            action: action.into(),
            from: None,
            to: to.map(Into::into),
            detail: Some(detail.into()),
        }
    }

    #[test]
    fn the_user_sees_their_events_without_notes_or_addresses() {
        // (row, what the user sees)
        for (h, want) in [
            (
                row("user@x.org", "created", Some("new"), "kind=incident"),
                Some("Обращение зарегистрировано"),
            ),
            (
                row(
                    "eng1@sed.org",
                    "status",
                    Some("solution_proposed"),
                    "Статус: …",
                ),
                Some("Статус: Предложено решение"),
            ),
            (
                row("eng1@sed.org", "letter", None, "внутренняя заметка"),
                None,
            ),
            (
                row(
                    "system",
                    "routed",
                    None,
                    "rule «all» → 1st line eng1@sed.org",
                ),
                None,
            ),
            (row("eng1@sed.org", "command_refused", None, "x"), None),
            (
                row("user (link)", "confirmed", Some("confirmed"), "x"),
                Some("Решение подтверждено пользователем"),
            ),
        ] {
            assert_eq!(for_user(&h).as_deref(), want, "{h:?}");
            if let Some(w) = for_user(&h) {
                assert!(!w.contains('@'), "{w}");
            }
        }
    }
}
