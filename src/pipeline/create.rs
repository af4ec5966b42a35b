//! A new appeal: classification, deadline, routing, the user's letter; and
//! routing a ticket later (when its form becomes complete, or on command).

use super::apply::{self, commit_ticket, rejected_rows, Ctx, Effects, TicketCommit};
use super::{Desk, IngestError, IngestReport, Outcome, Pipeline};
use crate::store::tickets::Ticket;
use crate::store::ts;
use crate::workflow::rules::TicketFacts;
use crate::workflow::status::Line;
use crate::workflow::token;
use chrono::{DateTime, Utc};

pub(super) fn create(p: &mut Pipeline, c: &Ctx<'_>) -> Result<IngestReport, IngestError> {
    let (store, d) = p.split();
    let parsed = c.parsed;
    let wf = &d.cfg.workflow;
    let kept = apply::kept_files(&d, c)?;
    let rejected = rejected_rows(parsed);
    let form = &parsed.form;
    let missing = form.missing();
    let requester = c.sender().unwrap_or_default().to_string();
    let reply_to = apply::answer_to(&d, parsed);
    let mut facts = TicketFacts::from_letter(parsed);
    let class = wf.classify(&facts);
    facts.kind = class.kind;
    facts.priority = class.priority.clone();
    let status = if missing.is_empty() {
        "new"
    } else {
        "awaiting_user"
    };
    let mut t = Ticket {
        status: status.into(),
        kind: class.kind.machine_name().into(),
        priority: class.priority.clone(),
        line: 1,
        requester: requester.clone(),
        reply_to: reply_to.clone().unwrap_or_else(|| requester.clone()),
        subject: parsed.subject.trim().to_string(),
        organization: form.organization.clone(),
        full_name: form.full_name.clone(),
        location: form.location.clone(),
        room: form.room.clone(),
        floor: form.floor.clone(),
        phone: form.phone.clone(),
        phone_ext: form.phone_ext.clone(),
        description: form.description.clone(),
        note: form.note.clone(),
        created_at: ts(c.now),
        updated_at: ts(c.now),
        deadline: Some(ts(wf.deadline(c.now, &class.priority))),
        attachments: kept.clone(),
        rejected_attachments: rejected.clone(),
        ..Default::default()
    };
    let tx = store.unit()?;
    t.id = crate::store::tickets::allocate_id(&tx, &d.cfg.tickets.prefix, c.now)?;
    let mut fx = Effects::default();
    let missing_names: Vec<&str> = missing.iter().map(|f| f.machine_name()).collect();
    let mut detail = class.explain();
    if !missing.is_empty() {
        detail.push_str(&format!("; missing: {}", missing_names.join(", ")));
    }
    fx.log(c.history(&requester, "created", None, Some(status), Some(detail)));
    if missing.is_empty() {
        route(&d, &mut t, &facts, c.now, &mut fx, false);
    }
    let silent = crate::workflow::intake::no_auto_answer(parsed.auto_submitted.as_deref());
    if let Some(why) = &silent {
        fx.log(c.history("system", "no_auto_answer", None, None, Some(why.clone())));
    }
    if reply_to.is_some() && silent.is_none() {
        fx.send(d.composer.registration(
            &t,
            &missing,
            &rejected,
            &kept,
            &parsed.notes,
            parsed.message_id.as_deref(),
        ));
    }
    let queued = commit_ticket(
        tx,
        &d,
        c,
        TicketCommit {
            ticket: &t,
            new_ticket: true,
            outcome: "created",
            kept: &kept,
            rejected: &rejected,
            fx,
        },
    )?;
    Ok(c.report(Outcome::Created, Some(t.id), None, queued))
}

/// Route a complete ticket by the `[[routes]]` rules: set line, assignee,
/// priority; send the routed letter (with the proof of receipt) to the
/// line's mailbox; a ticket leaving the 1st line becomes `assigned`.
/// `tell_user`: the user already had the registration letter, so tell them
/// the appeal was taken in work (п. 94). Without rules, nothing happens.
pub(super) fn route(
    d: &Desk<'_>,
    t: &mut Ticket,
    facts: &TicketFacts,
    now: DateTime<Utc>,
    fx: &mut Effects,
    tell_user: bool,
) {
    let wf = &d.cfg.workflow;
    let Some(decision) = wf.route(facts) else {
        return;
    };
    let a = &decision.action;
    if let Some(p) = &a.priority {
        if *p != t.priority {
            t.priority = p.clone();
            t.deadline = Some(ts(wf.deadline(now, p)));
        }
    }
    if a.assignee.is_some() {
        t.assignee = a.assignee.clone();
    }
    send_to_line(
        d,
        t,
        a.line,
        &a.mailbox,
        &decision.explain(),
        now,
        fx,
        tell_user,
    );
}

/// Put a ticket on `line` and send it the routed letter at `mailbox`.
#[allow(clippy::too_many_arguments)]
pub(super) fn send_to_line(
    d: &Desk<'_>,
    t: &mut Ticket,
    line: Line,
    mailbox: &str,
    why: &str,
    now: DateTime<Utc>,
    fx: &mut Effects,
    tell_user: bool,
) {
    let wf = &d.cfg.workflow;
    t.line = i64::from(line.number());
    let before = t.status.clone();
    if line != Line::First && before == "new" {
        t.status = "assigned".into();
        fx.log(apply::history_at(
            now,
            "system",
            "status",
            Some(&before),
            Some("assigned"),
            Some(format!("sent to line {}", line.number())),
        ));
    }
    fx.log(apply::history_at(
        now,
        "system",
        "routed",
        None,
        None,
        Some(why.to_string()),
    ));
    // The proof is issued to the line (any of its engineers may answer).
    let proof_for = wf
        .line(line)
        .map(|l| l.mailbox.clone())
        .unwrap_or_else(|| mailbox.to_string());
    let reply_to = token::make_reply_address(&wf.support_address, &t.id, &proof_for, d.key);
    let files = apply::read_files(d, &t.attachments);
    let mut history = t.history.clone();
    history.extend(fx.history.iter().cloned());
    let lead = format!(
        "Обращение {} направлено на линию {} ({}).",
        t.id,
        line.number(),
        why
    );
    fx.send_to_desk(
        d.composer
            .routed(t, mailbox, &reply_to, &lead, &history, files),
    );
    if tell_user && t.status == "assigned" && before != "assigned" {
        fx.send(d.composer.taken_in_work(t));
    }
}

/// A `статус` letter: answer with the sender's open tickets; no ticket.
pub(super) fn status_request(p: &mut Pipeline, c: &Ctx<'_>) -> Result<IngestReport, IngestError> {
    let (store, d) = p.split();
    let reason = "status request: answered with the sender's open tickets";
    let Some(to) = apply::answer_to(&d, c.parsed) else {
        return apply::ignore(p, c, "status request from our own address");
    };
    let sender = c.sender().unwrap_or_default().to_string();
    let open = store.tickets_of(&sender)?;
    let letter = d
        .composer
        .status_list(&to, &open, c.parsed.message_id.as_deref());
    let tx = store.unit()?;
    crate::store::letters::insert_letter(&tx, &c.record("ignored", None, Some(reason)))?;
    let mut queued = false;
    match letter {
        Ok(l) => {
            crate::store::outbox::enqueue(&tx, &l, c.now)?;
            queued = true;
        }
        Err(e) => tracing::warn!(error = %e, "status list not composed"),
    }
    tx.commit()?;
    Ok(c.report(Outcome::Ignored, None, Some(reason.into()), queued))
}
