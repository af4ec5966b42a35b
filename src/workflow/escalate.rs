//! Escalation: a ticket whose deadline passed while the desk still owed the
//! user an answer goes up a line.
//!
//! Due means: status `new` or `assigned`, the deadline has passed, and this
//! deadline has not been escalated yet (the store keeps the deadline that
//! was last escalated, so a crash or a second `run --once` never escalates
//! the same deadline twice). The ticket moves to the next line (1 → 2 → 3;
//! the 3rd line stays, and is reminded), the new line and the 1st line (who
//! coordinates, п. 81) are told, and the deadline is extended by the
//! priority's time on the business calendar, counted from now.
//!
//! The daemon does not scan every minute: [`next_wake`] gives the moment of
//! the next due deadline and the timer sleeps until then.

use super::calendar::{add_working_time, Calendar};
use super::status::{Line, Status};
use chrono::{DateTime, Duration, Utc};

/// What escalation needs to know of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationSnapshot {
    pub ticket: String,
    pub status: Status,
    pub line: Line,
    pub deadline: DateTime<Utc>,
    /// The deadline that was last escalated, if any.
    pub escalated_for: Option<DateTime<Utc>>,
}

/// One escalation to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub ticket: String,
    pub from_line: Line,
    /// Equal to `from_line` on the 3rd line (or the highest configured one).
    pub to_line: Line,
    /// The deadline that passed: store it as the ticket's `escalated_for`.
    pub missed_deadline: DateTime<Utc>,
    pub new_deadline: DateTime<Utc>,
    /// Lines to send the notice to: the new line, then the 1st line.
    pub notify: Vec<Line>,
    /// One line for the history.
    pub reason: String,
}

/// Is this ticket's deadline past and not yet escalated?
pub fn is_due(t: &EscalationSnapshot, now: DateTime<Utc>) -> bool {
    t.status.deadline_runs() && t.deadline <= now && t.escalated_for != Some(t.deadline)
}

/// The escalation of `t` at `now`, if due. `priority_time` is the working
/// time of the ticket's priority ([`Calendar::resolve`] of its deadline);
/// `top` is the highest line the config declares.
pub fn escalate(
    t: &EscalationSnapshot,
    now: DateTime<Utc>,
    priority_time: Duration,
    cal: &Calendar,
    top: Line,
) -> Option<Escalation> {
    if !is_due(t, now) {
        return None;
    }
    let to_line = if t.line >= top {
        t.line
    } else {
        t.line.next().min(top)
    };
    let new_deadline = add_working_time(now, priority_time, cal).max(now + Duration::seconds(1));
    let mut notify = vec![to_line];
    if to_line != Line::First {
        notify.push(Line::First);
    }
    let moved = if to_line == t.line {
        format!("остаётся на линии {} (последней)", t.line)
    } else {
        format!("линия {} → {}", t.line, to_line)
    };
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&cal.time_zone())
            .format("%d.%m.%Y %H:%M")
            .to_string()
    };
    let reason = format!(
        "срок {} пропущен в статусе «{}»: {moved}; новый срок {}",
        local(t.deadline),
        t.status.display_name(),
        local(new_deadline),
    );
    Some(Escalation {
        ticket: t.ticket.clone(),
        from_line: t.line,
        to_line,
        missed_deadline: t.deadline,
        new_deadline,
        notify,
        reason,
    })
}

/// When the escalation timer should wake: the earliest deadline still to
/// be escalated (possibly in the past: wake at once). `None`: nothing to
/// wait for, sleep until a ticket changes.
pub fn next_wake<'a>(
    tickets: impl IntoIterator<Item = &'a EscalationSnapshot>,
) -> Option<DateTime<Utc>> {
    tickets
        .into_iter()
        .filter(|t| t.status.deadline_runs() && t.escalated_for != Some(t.deadline))
        .map(|t| t.deadline)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    fn snap(
        status: Status,
        line: Line,
        deadline: DateTime<Utc>,
        escalated_for: Option<DateTime<Utc>>,
    ) -> EscalationSnapshot {
        EscalationSnapshot {
            ticket: "TP-2026-000042".into(),
            status,
            line,
            deadline,
            escalated_for,
        }
    }

    #[test]
    fn escalates_once_per_deadline() {
        let cal = Calendar::always();
        let hour = Duration::hours(1);
        let now = t(12, 0);
        // (snapshot, top line, expected (from, to, new deadline, notify) or None, what)
        type Want = Option<(Line, Line, DateTime<Utc>, Vec<Line>)>;
        let cases: Vec<(EscalationSnapshot, Line, Want, &str)> = vec![
            (
                snap(Status::New, Line::First, t(11, 0), None),
                Line::Third,
                Some((
                    Line::First,
                    Line::Second,
                    t(13, 0),
                    vec![Line::Second, Line::First],
                )),
                "new on line 1, past deadline",
            ),
            (
                snap(Status::Assigned, Line::Second, t(12, 0), Some(t(10, 0))),
                Line::Third,
                Some((
                    Line::Second,
                    Line::Third,
                    t(13, 0),
                    vec![Line::Third, Line::First],
                )),
                "assigned on line 2, deadline exactly now, an older deadline escalated",
            ),
            (
                snap(Status::Assigned, Line::Third, t(11, 0), None),
                Line::Third,
                Some((
                    Line::Third,
                    Line::Third,
                    t(13, 0),
                    vec![Line::Third, Line::First],
                )),
                "line 3 stays, reminded",
            ),
            (
                snap(Status::Assigned, Line::Second, t(11, 0), None),
                Line::Second,
                Some((
                    Line::Second,
                    Line::Second,
                    t(13, 0),
                    vec![Line::Second, Line::First],
                )),
                "no line 3 configured",
            ),
            (
                snap(Status::New, Line::First, t(11, 0), Some(t(11, 0))),
                Line::Third,
                None,
                "this deadline already escalated",
            ),
            (
                snap(Status::New, Line::First, t(12, 1), None),
                Line::Third,
                None,
                "deadline not yet",
            ),
            (
                snap(Status::AwaitingUser, Line::Second, t(11, 0), None),
                Line::Third,
                None,
                "waiting for the user",
            ),
            (
                snap(Status::SolutionProposed, Line::Second, t(11, 0), None),
                Line::Third,
                None,
                "solution proposed",
            ),
            (
                snap(Status::Confirmed, Line::First, t(11, 0), None),
                Line::Third,
                None,
                "closed",
            ),
        ];
        for (s, top, want, what) in cases {
            let got = escalate(&s, now, hour, &cal, top)
                .map(|e| (e.from_line, e.to_line, e.new_deadline, e.notify));
            assert_eq!(got, want, "{what}");
            assert_eq!(is_due(&s, now), want.is_some(), "{what}");
        }
    }

    #[test]
    fn second_pass_after_escalation_does_nothing_until_the_new_deadline() {
        let cal = Calendar::always();
        let first = snap(Status::New, Line::First, t(11, 0), None);
        let e = escalate(&first, t(12, 0), Duration::minutes(30), &cal, Line::Third).unwrap();
        assert_eq!(
            e.reason,
            "срок 23.11.2026 11:00 пропущен в статусе «Новое»: линия 1 → 2; новый срок 23.11.2026 12:30"
        );
        let after = snap(
            Status::New,
            e.to_line,
            e.new_deadline,
            Some(e.missed_deadline),
        );
        assert!(escalate(&after, t(12, 10), Duration::minutes(30), &cal, Line::Third).is_none());
        assert_eq!(next_wake([&after]), Some(t(12, 30)));
        let e2 = escalate(&after, t(12, 30), Duration::minutes(30), &cal, Line::Third).unwrap();
        assert_eq!((e2.from_line, e2.to_line), (Line::Second, Line::Third));
    }

    #[test]
    fn extends_on_the_business_calendar() {
        let cal = Calendar::new(chrono_tz::UTC, "09:00-18:00", None, [], [], []).unwrap();
        let s = snap(Status::New, Line::First, t(17, 0), None);
        let e = escalate(&s, t(17, 30), Duration::hours(4), &cal, Line::Third).unwrap();
        assert_eq!(
            e.new_deadline,
            Utc.with_ymd_and_hms(2026, 11, 24, 12, 30, 0).unwrap(),
            "30 min tonight, 3.5 h tomorrow"
        );
    }

    #[test]
    fn wakes_at_the_next_due_deadline() {
        let tickets = [
            snap(Status::Assigned, Line::Second, t(15, 0), None),
            snap(Status::New, Line::First, t(14, 0), None),
            snap(Status::New, Line::First, t(9, 0), Some(t(9, 0))),
            snap(Status::AwaitingUser, Line::First, t(8, 0), None),
            snap(Status::Confirmed, Line::First, t(7, 0), None),
        ];
        assert_eq!(next_wake(&tickets), Some(t(14, 0)));
        assert_eq!(next_wake(&tickets[2..]), None);
        assert_eq!(next_wake(&[]), None);
    }
}
