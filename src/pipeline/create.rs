//! A new appeal: classification, deadline, routing, the user's letter; and
//! routing a ticket later (when its form becomes complete, or on command).

use super::apply::{self, commit_ticket, rejected_rows, Ctx, Effects, TicketCommit};
use super::{IngestError, IngestReport, Outcome, Parts, Pipeline};
use crate::store::tickets::Ticket;
use crate::workflow::rules::TicketFacts;
use crate::workflow::status::{Actor, Line, Status};
use crate::workflow::token;
use chrono::{DateTime, Utc};

pub(super) fn create(p: &mut Pipeline, incoming: &Ctx<'_>) -> Result<IngestReport, IngestError> {
    create_with(p, incoming, None)
}

/// The requester writes on a closed ticket (`[desk] closed_reply = "new"`):
/// a new appeal with the closed one's form (what the letter does not say
/// anew), linked to it both ways (`related` in both histories).
pub(super) fn create_related(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    old: &Ticket,
) -> Result<IngestReport, IngestError> {
    let mut parsed = incoming.parsed.clone();
    let f = &mut parsed.form;
    let keep = |slot: &mut Option<String>, v: &Option<String>| {
        if slot.as_deref().is_none_or(|s| s.trim().is_empty()) {
            slot.clone_from(v);
        }
    };
    keep(&mut f.organization, &old.form.organization);
    keep(&mut f.full_name, &old.form.full_name);
    keep(&mut f.location, &old.form.location);
    keep(&mut f.room, &old.form.room);
    keep(&mut f.floor, &old.form.floor);
    keep(&mut f.phone, &old.form.phone);
    keep(&mut f.phone_ext, &old.form.phone_ext);
    if f.description.as_deref().is_none_or(|s| s.trim().is_empty()) {
        let text = crate::workflow::speech::without_greeting(&parsed.text).trim();
        f.description = Some(if text.is_empty() {
            format!("Повторное обращение по {}", old.id)
        } else {
            text.to_string()
        });
    }
    let c2 = Ctx {
        identity: incoming.identity,
        raw: incoming.raw,
        parsed: &parsed,
        now: incoming.now,
        kept: incoming.kept,
        channel: incoming.channel,
        registered_by: incoming.registered_by,
    };
    create_with(p, &c2, Some(&old.id))
}

fn create_with(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    related: Option<&str>,
) -> Result<IngestReport, IngestError> {
    // An engineer's registration of a call is not a stranger's flood.
    if incoming.registered_by.is_none() {
        if let Some(reason) = too_many_new(p, incoming)? {
            return apply::quarantine(p, incoming, &reason);
        }
    }
    let (store, parts) = p.split();
    let parsed = incoming.parsed;
    let wf = &parts.cfg.workflow;
    let kept = apply::kept_files(&parts, incoming)?;
    let rejected = rejected_rows(parsed);
    let form = &parsed.form;
    let missing = form.missing();
    let requester = incoming.sender().unwrap_or_default().to_string();
    // Letters about the ticket go to the requester (From) alone; a
    // differing Reply-To is kept for the per-Reply-To bound only.
    let reply_to = apply::answer_to(&parts, parsed);
    let named_reply_to = parsed.differing_reply_to().map(|a| a.email.clone());
    let mut facts = TicketFacts::from_letter(parsed);
    let class = wf.classify(&facts);
    facts.kind = class.kind;
    facts.priority = class.priority.clone();
    let status = if missing.is_empty() {
        Status::New
    } else {
        Status::AwaitingUser
    };
    let mut t = Ticket::default();
    t.kind = class.kind;
    t.priority = class.priority.clone();
    t.line = Line::First;
    t.requester = requester.clone();
    t.reply_to = named_reply_to.unwrap_or_else(|| requester.clone());
    t.subject = parsed.subject.trim().to_string();
    t.form = form.clone();
    t.channel = incoming.channel;
    t.registered_by = incoming.registered_by.map(str::to_string);
    t.mailbox = parts.mailbox.map(str::to_string);
    t.created_at = incoming.now;
    t.updated_at = incoming.now;
    t.deadline = Some(wf.deadline(incoming.now, &class.priority));
    t.attachments = kept.clone();
    t.rejected_attachments = rejected.clone();
    // Registered as `new`; asked for what is missing (п. 94) at once.
    if status != Status::New {
        if let Err(r) = t.move_to(status, &Actor::System) {
            tracing::error!(refusal = %r, "status move refused");
        }
    }
    let tx = store.unit()?;
    t.id = tx.allocate_id(&parts.cfg.tickets.prefix, incoming.now)?;
    let mut effects = Effects::default();
    let missing_names: Vec<&str> = missing
        .iter()
        .map(|f| crate::outbox::texts::field_name(f.machine_name()))
        .collect();
    let mut detail = class.explain();
    if !missing.is_empty() {
        detail.push_str(&format!("; не хватает: {}", missing_names.join(", ")));
    }
    effects.log(incoming.history(
        incoming.registered_by.unwrap_or(&requester),
        "created",
        None,
        Some(status.machine_name()),
        Some(detail),
    ));
    if let Some(old) = related {
        effects.log(incoming.history(
            "system",
            "related",
            None,
            None,
            Some(format!("написано по закрытому обращению {old}")),
        ));
        tx.add_history(
            old,
            &incoming.history(
                "system",
                "related",
                None,
                None,
                Some(format!(
                    "пользователь написал снова: новое обращение {}",
                    t.id
                )),
            ),
            None,
        )?;
    }
    if missing.is_empty() {
        route(&parts, &mut t, &facts, incoming.now, &mut effects, false);
    }
    let silent = crate::workflow::intake::no_auto_answer(parsed.auto_submitted.as_deref());
    if let Some(why) = &silent {
        effects.log(incoming.history("system", "no_auto_answer", None, None, Some(why.clone())));
    }
    if let Some(r) = parsed
        .differing_reply_to()
        .filter(|r| !apply::is_own(&parts, &r.email))
        .filter(|_| silent.is_none())
    {
        effects.send(
            parts
                .composer
                .reply_to_notice(&t.id, &r.email, parsed.message_id.as_deref()),
        );
    }
    if reply_to.is_some() && silent.is_none() {
        effects.send(parts.composer.registration(
            &t,
            &missing,
            &rejected,
            &kept,
            &parsed.notes,
            parsed.message_id.as_deref(),
        ));
    }
    if let Some(engineer) = incoming.registered_by {
        effects.send_to_desk(parts.composer.phone_registered(
            &t,
            engineer,
            &missing,
            crate::pipeline::quick_message_id(incoming.raw).as_deref(),
        ));
    }
    let queued = commit_ticket(
        tx,
        &parts,
        incoming,
        TicketCommit {
            ticket: &t,
            new_ticket: true,
            outcome: "created",
            kept: &kept,
            rejected: &rejected,
            effects,
        },
    )?;
    Ok(incoming.report(Outcome::Created, Some(t.id), None, queued))
}

/// `[loops] max_new_tickets_per_sender_per_hour`: `Some(reason)` when the
/// sender, or the Reply-To the letter names, opened too many tickets in the
/// last hour (the letter is then quarantined).
fn too_many_new(p: &Pipeline, incoming: &Ctx<'_>) -> Result<Option<String>, IngestError> {
    let policy = &p.cfg.workflow.reflection;
    if policy.max_new_tickets_per_sender_per_hour == 0 {
        return Ok(None);
    }
    let sender = incoming.sender().unwrap_or_default();
    let reply_to = incoming
        .parsed
        .differing_reply_to()
        .map(|a| a.email.as_str());
    let since = crate::workflow::reflect::hour_start(incoming.now);
    let (by_from, by_reply_to) = p.store.count_new_tickets(sender, reply_to, since)?;
    let n = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    Ok(crate::workflow::reflect::may_open_ticket(
        sender,
        n(by_from),
        reply_to,
        n(by_reply_to),
        policy,
    ))
}

/// Route a complete ticket by the `[[routes]]` rules: set line, assignee,
/// priority; send the routed letter (with the proof of receipt) to the
/// line's mailbox; a ticket leaving the 1st line becomes `assigned`.
/// `tell_user`: the user already had the registration letter, so tell them
/// the appeal was taken in work (п. 94). Without rules, nothing happens.
pub(super) fn route(
    parts: &Parts<'_>,
    t: &mut Ticket,
    facts: &TicketFacts,
    now: DateTime<Utc>,
    effects: &mut Effects,
    tell_user: bool,
) {
    let wf = &parts.cfg.workflow;
    let Some(decision) = wf.route(facts) else {
        return;
    };
    let a = &decision.action;
    if let Some(p) = &a.priority {
        if *p != t.priority {
            t.priority = p.clone();
            t.deadline = Some(wf.deadline(now, p));
        }
    }
    if a.assignee.is_some() {
        t.assignee = a.assignee.clone();
    }
    send_to_line(
        parts,
        t,
        a.line,
        &a.mailbox,
        &decision.explain(),
        now,
        effects,
        tell_user,
    );
}

/// Put a ticket on `line` and send it the routed letter at `mailbox`.
#[allow(clippy::too_many_arguments)]
pub(super) fn send_to_line(
    parts: &Parts<'_>,
    t: &mut Ticket,
    line: Line,
    mailbox: &str,
    why: &str,
    now: DateTime<Utc>,
    effects: &mut Effects,
    tell_user: bool,
) {
    let wf = &parts.cfg.workflow;
    t.line = line;
    let before = t.status();
    if line != Line::First && before == Status::New {
        // System: the table allows this move; a refusal would be a bug, said.
        if let Err(r) = t.move_to(Status::Assigned, &Actor::System) {
            tracing::error!(ticket = %t.id, refusal = %r, "status move refused");
        }
        effects.log(apply::history_at(
            now,
            "system",
            "status",
            Some(before.machine_name()),
            Some("assigned"),
            Some(format!("передано на линию {}", line.number())),
        ));
    }
    effects.log(apply::history_at(
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
    let binding = binding_after(t, effects);
    let reply_to =
        token::make_reply_address(&wf.support_address, &t.id, &proof_for, &binding, parts.key);
    let files = apply::read_files(parts, &t.attachments);
    let mut history = t.history.clone();
    history.extend(effects.history.iter().cloned());
    let lead = format!(
        "Обращение {} направлено на линию {} ({}).",
        t.id,
        line.number(),
        why
    );
    effects.send_to_desk(
        parts
            .composer
            .routed(t, mailbox, &reply_to, &lead, &history, files),
    );
    if line != Line::First {
        super::copies::copy_to_first_line(parts, t, effects, &lead, now);
    }
    if tell_user && t.status() == Status::Assigned && before != Status::Assigned {
        effects.send(parts.composer.taken_in_work(t));
    }
}

/// How many times a ticket was routed (its `routed` history rows): the
/// What a proof of receipt for `t` is bound to: its line, assignee and
/// the routings stored so far ([`token::Binding`]).
pub(super) fn binding(t: &Ticket) -> token::Binding<'_> {
    token::Binding {
        line: t.line.number(),
        assignee: t.assignee.as_deref(),
        routing: routings(&t.history),
    }
}

/// [`binding`] as it will be once `effects` is stored (its routings count).
pub(super) fn binding_after<'a>(t: &'a Ticket, effects: &Effects) -> token::Binding<'a> {
    token::Binding {
        routing: routings(&t.history) + routings(&effects.history),
        ..binding(t)
    }
}

/// routing a proof of receipt is bound to.
pub(super) fn routings(history: &[crate::store::tickets::HistoryRow]) -> u32 {
    let n = history.iter().filter(|h| h.action == "routed").count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A `статус` letter: answer with the sender's open tickets; no ticket.
/// The list goes to From alone (never Reply-To), and only when the MTA
/// vouched for the sender (`[security]`); a refused request is recorded and
/// answered with nothing.
pub(super) fn status_request(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
) -> Result<IngestReport, IngestError> {
    let (store, parts) = p.split();
    let Some(to) = apply::answer_to(&parts, incoming.parsed) else {
        return apply::ignore(p, incoming, "status request from our own address");
    };
    let sender = incoming.sender().unwrap_or_default().to_string();
    let trust = crate::workflow::auth::sender_trust(
        &parts.cfg.security_policy(),
        &incoming.parsed.trace.headers,
        &sender,
    );
    if let crate::workflow::auth::Trust::Fail(why) = &trust {
        tracing::warn!("status request refused: the sender is not authenticated");
        let reason = format!("status request refused: {why}");
        return apply::ignore(p, incoming, &reason);
    }
    let reason = "status request: answered with the sender's open tickets";
    let open = store.tickets_of(&sender)?;
    let letter = parts
        .composer
        .status_list(&to, &open, incoming.parsed.message_id.as_deref());
    let tx = store.unit()?;
    let mut outcome_reason = reason.to_string();
    let mut queued = false;
    match letter {
        Ok(l) => match apply::over_address_limit(&tx, &parts, &l, incoming.now)? {
            Some(why) => outcome_reason = format!("status request not answered: {why}"),
            None => {
                tx.enqueue(&l, incoming.now)?;
                queued = true;
            }
        },
        Err(e) => tracing::warn!(error = %e, "status list not composed"),
    }
    tx.insert_letter(&incoming.record("ignored", None, Some(&outcome_reason)))?;
    tx.commit()?;
    Ok(incoming.report(Outcome::Ignored, None, Some(outcome_reason), queued))
}
