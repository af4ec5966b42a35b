//! The fixtures every table test of [`super::decide`] shares: the desk
//! ([`wf`]: lines 1 and 2, priority `high`), the time, the people, a
//! ticket's state, and the calls.

use super::*;
use chrono::TimeZone;

pub(crate) use crate::workflow::plan::tests::wf;

pub const REQUESTER: &str = "user@example.org";
pub const COLLEAGUE: &str = "colleague@example.org";
pub const ENGINEER: &str = "eng1@sed.example.org";
pub const OPERATOR: &str = "op1@sed.example.org";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// A complete form (nothing missing).
pub fn full_form() -> Form {
    Form {
        full_name: Some("Иванова Мария Петровна".into()),
        location: Some("каб. 305, 3 этаж".into()),
        room: Some("305".into()),
        floor: Some("3".into()),
        phone: Some("+74951234567".into()),
        description: Some("Не печатает принтер".into()),
        ..Form::default()
    }
}

/// A ticket of [`REQUESTER`] in `status` on `line` (routed unless on the
/// 1st line), priority `high`, an incident, its form complete.
pub fn state(status: Status, line: Line) -> TicketState {
    TicketState {
        id: "SD-1".into(),
        status,
        line,
        priority: "high".into(),
        kind: Kind::Incident,
        assignee: None,
        requester: REQUESTER.into(),
        routed: line != Line::First,
        form: full_form(),
        subject: "Принтер".into(),
        has_files: false,
    }
}

/// The desk's context at [`now`], with or without copies for the 1st line.
pub fn context(wf: &Workflow, copies: bool) -> Context<'_> {
    Context {
        workflow: wf,
        first_line_copies: copies,
        now: now(),
    }
}

/// [`decide`] on the desk of [`wf`].
pub fn decide_with(event: &Event, state: &TicketState, copies: bool) -> Effects {
    let wf = wf();
    decide(event, state, &context(&wf, copies))
}

/// A history row with its status move.
pub fn entry(
    actor: &str,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    detail: &str,
) -> Entry {
    Entry {
        actor: actor.into(),
        action: action.into(),
        from: from.map(|s| s.machine_name().to_string()),
        to: to.map(|s| s.machine_name().to_string()),
        detail: Some(detail.into()),
    }
}

pub fn user(address: &str) -> Actor {
    Actor::User {
        address: address.into(),
    }
}

pub fn engineer(address: &str, line: Line) -> Actor {
    Actor::Engineer {
        line,
        address: address.into(),
    }
}
