//! A letter about an existing ticket: the user completing the form,
//! confirming a solution or writing more; an engineer's commands.
//!
//! Engineers' commands are applied only when the sender is an engineer of a
//! line AND the letter carries the proof of receipt of the routed letter
//! (the per-ticket secret in the address it was sent to). Anything else that
//! looks like a command is refused, recorded, and answered with a short
//! refusal (within the daily limit of automatic letters).

use super::apply::{self, commit_ticket, excerpt, rejected_rows, Ctx, Effects, TicketCommit};
use super::create::{route, send_to_line};
use super::{Desk, IngestError, IngestReport, Outcome, Pipeline};
use crate::store::tickets::Ticket;
use crate::store::ts;
use crate::workflow::commands::CommandSet;
use crate::workflow::loops::SenderRole;
use crate::workflow::plan::{self, TicketState};
use crate::workflow::rules::TicketFacts;
use crate::workflow::status::{self, Actor, Kind, Line, Status};
use crate::workflow::token;
use crate::workflow::user::{self, UserReply};

pub(super) fn follow_up(
    p: &mut Pipeline,
    c: &Ctx<'_>,
    id: &str,
) -> Result<IngestReport, IngestError> {
    let Some(mut t) = p.store.ticket_full(id)? else {
        return super::create::create(p, c);
    };
    let routed = p.store.was_routed(id)?;
    let (store, d) = p.split();
    let parsed = c.parsed;
    let kept = apply::kept_files(&d, c)?;
    let rejected = rejected_rows(parsed);
    let sender = c.sender().unwrap_or_default().to_string();
    let mut fx = Effects::default();
    fx.log(c.history(&sender, "letter", None, None, Some(excerpt(&parsed.text))));
    let wf = &d.cfg.workflow;
    match wf.sender_role(&sender) {
        SenderRole::Engineer(_) => engineer(&d, c, &mut t, &mut fx, &sender, &kept),
        _ => {
            let commands = wf
                .parse_reply(&parsed.text)
                .map(|s| s.has_commands())
                .unwrap_or(true);
            let token_here = addresses(c)
                .iter()
                .any(|a| token::ticket_of(a).as_deref() == Some(t.id.as_str()));
            if token_here || (commands && looks_like_commands(&parsed.text)) {
                refuse(
                    &d,
                    c,
                    &t,
                    &mut fx,
                    &sender,
                    vec![format!(
                        "{sender} не инженер ни одной из линий: команды принимаются только от инженеров"
                    )],
                );
            } else {
                user_letter(&d, c, &mut t, &mut fx, &sender, &kept, routed);
            }
        }
    }
    t.updated_at = ts(c.now);
    let tx = store.unit()?;
    let queued = commit_ticket(
        tx,
        &d,
        c,
        TicketCommit {
            ticket: &t,
            new_ticket: false,
            outcome: "updated",
            kept: &kept,
            rejected: &rejected,
            fx,
        },
    )?;
    Ok(c.report(Outcome::Updated, Some(t.id), None, queued))
}

/// To and Cc of the letter.
fn addresses<'a>(c: &'a Ctx<'_>) -> Vec<&'a str> {
    c.parsed
        .to
        .iter()
        .chain(c.parsed.cc.iter())
        .map(|a| a.email.as_str())
        .collect()
}

/// The first non-empty line is a `Key: value` command line.
fn looks_like_commands(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let key = first.split(':').next().unwrap_or("").trim().to_lowercase();
    [
        "статус",
        "status",
        "линия",
        "line",
        "приоритет",
        "priority",
        "вид",
        "kind",
        "исполнитель",
        "assignee",
    ]
    .contains(&key.as_str())
}

fn refuse(
    d: &Desk<'_>,
    c: &Ctx<'_>,
    t: &Ticket,
    fx: &mut Effects,
    sender: &str,
    reasons: Vec<String>,
) {
    tracing::warn!(ticket = %t.id, "command refused");
    fx.log(c.history(
        sender,
        "command_refused",
        None,
        None,
        Some(reasons.join("; ")),
    ));
    fx.send(
        d.composer
            .refusal(&t.id, sender, &reasons, c.parsed.message_id.as_deref()),
    );
}

fn engineer(
    d: &Desk<'_>,
    c: &Ctx<'_>,
    t: &mut Ticket,
    fx: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
) {
    let wf = &d.cfg.workflow;
    let identities = wf.identities(sender);
    let ids: Vec<&str> = identities.iter().map(String::as_str).collect();
    let proof = token::verify(&addresses(c), &t.id, &ids, d.key);
    if !proof.is_ok() {
        return refuse(d, c, t, fx, sender, vec![proof.explain()]);
    }
    let set: CommandSet = match wf.parse_reply(&c.parsed.text) {
        Ok(set) => set,
        Err(errors) => {
            return refuse(
                d,
                c,
                t,
                fx,
                sender,
                errors.iter().map(|e| e.to_string()).collect(),
            )
        }
    };
    if !set.has_commands() {
        fx.log(c.history(
            sender,
            "engineer_note",
            None,
            None,
            Some(excerpt(&c.parsed.text)),
        ));
        return;
    }
    let (Some(st), Some(line), Some(kind)) = (
        Status::parse(&t.status),
        Line::from_number(t.line as u8),
        Kind::parse(&t.kind),
    ) else {
        return refuse(
            d,
            c,
            t,
            fx,
            sender,
            vec![format!(
                "состояние обращения {} не читается; сообщите администратору",
                t.id
            )],
        );
    };
    let Some(actor) = wf.engineer_actor(sender, line) else {
        return refuse(
            d,
            c,
            t,
            fx,
            sender,
            vec![format!("{sender} не инженер ни одной из линий")],
        );
    };
    let state = TicketState {
        status: st,
        line,
        priority: t.priority.clone(),
        kind,
        assignee: t.assignee.clone(),
    };
    let plan = match plan::plan(&set, &state, &actor, wf) {
        Ok(plan) => plan,
        Err(reasons) => return refuse(d, c, t, fx, sender, reasons),
    };
    let before = t.status.clone();
    if let Some(s) = plan.status {
        t.status = s.machine_name().into();
    }
    if let Some(k) = plan.kind {
        t.kind = k.machine_name().into();
    }
    if let Some(p) = &plan.priority {
        t.priority = p.clone();
        t.deadline = Some(ts(wf.deadline(c.now, p)));
        t.escalated_for = None;
    }
    if let Some(a) = &plan.assignee {
        t.assignee = Some(a.clone());
    }
    let changed = (before != t.status).then_some(t.status.as_str());
    fx.log(c.history(
        sender,
        "command",
        changed.map(|_| before.as_str()),
        changed,
        Some(plan.history.join("; ")),
    ));
    if let Some((new_line, mailbox)) = &plan.line {
        let why = format!("по команде {sender}");
        send_to_line(d, t, *new_line, mailbox, &why, c.now, fx, true);
    }
    // The engineer's files travel with their words (they were checked like
    // a user's: the refused ones are named in the confirmation).
    let relayed: &[_] = if plan.to_user.is_some() { kept } else { &[] };
    if let Some(text) = &plan.to_user {
        fx.send(
            d.composer
                .relay_to_user(t, text, apply::read_files(d, relayed)),
        );
    }
    fx.send(d.composer.command_done(
        t,
        sender,
        &plan.summary(),
        relayed,
        &rejected_rows(c.parsed),
        c.parsed.message_id.as_deref(),
    ));
}

fn user_letter(
    d: &Desk<'_>,
    c: &Ctx<'_>,
    t: &mut Ticket,
    fx: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
    routed: bool,
) {
    let wf = &d.cfg.workflow;
    let parsed = c.parsed;
    let missing_before = apply::form_of(t).missing();
    if t.status == "awaiting_user" && !missing_before.is_empty() {
        return complete(d, c, t, fx, sender, kept);
    }
    let from_requester =
        sender.eq_ignore_ascii_case(&t.requester) || sender.eq_ignore_ascii_case(&t.reply_to);
    let Some(st) = Status::parse(&t.status) else {
        return;
    };
    let line_mailbox = Line::from_number(t.line as u8)
        .and_then(|l| wf.line(l))
        .map(|l| l.mailbox.clone());
    let proof = line_mailbox
        .as_deref()
        .map(|m| token::make_reply_address(&wf.support_address, &t.id, m, d.key));
    match user::user_reply(st, routed, from_requester, &parsed.text) {
        UserReply::Confirm => {
            let actor = Actor::User {
                address: sender.to_string(),
            };
            if let Err(r) = status::transition(st, Status::Confirmed, &actor) {
                return refuse(d, c, t, fx, sender, vec![r.to_string()]);
            }
            t.status = Status::Confirmed.machine_name().into();
            fx.log(c.history(
                sender,
                "confirmed",
                Some(st.machine_name()),
                Some("confirmed"),
                Some("пользователь подтвердил решение".into()),
            ));
            if let Some(m) = &line_mailbox {
                let text = format!("Пользователь {sender} подтвердил решение. Обращение закрыто.");
                fx.send_to_desk(
                    d.composer
                        .line_notice(t, m, proof.clone(), &text, Vec::new()),
                );
            }
        }
        UserReply::Refuse { reason } => refuse(d, c, t, fx, sender, vec![reason]),
        UserReply::Forward { to } => {
            if let Some(new) = to.filter(|s| *s != st) {
                t.status = new.machine_name().into();
                fx.log(c.history(
                    sender,
                    "status",
                    Some(st.machine_name()),
                    Some(new.machine_name()),
                    Some("пользователь ответил".into()),
                ));
            }
            if let Some(m) = &line_mailbox {
                let text = format!(
                    "Письмо пользователя {sender} по обращению:\n\n{}",
                    parsed.text.trim()
                );
                fx.send_to_desk(d.composer.relay_to_line(
                    t,
                    m,
                    proof,
                    &text,
                    apply::read_files(d, kept),
                ));
            }
        }
    }
}

/// The user's answer to a clarification: fill what was missing; once
/// nothing is, the ticket is `new` again, routed, and confirmed to the user.
fn complete(
    d: &Desk<'_>,
    c: &Ctx<'_>,
    t: &mut Ticket,
    fx: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
) {
    let parsed = c.parsed;
    let filled = complete_from(t, &parsed.form);
    let missing = apply::form_of(t).missing();
    if !filled.is_empty() {
        let names: Vec<&str> = filled
            .iter()
            .map(|f| crate::outbox::texts::field_name(f))
            .collect();
        fx.log(c.history(sender, "fields_added", None, None, Some(names.join(", "))));
    }
    let mut all = t.attachments.clone();
    all.extend_from_slice(kept);
    let mut rejected = t.rejected_attachments.clone();
    rejected.extend(rejected_rows(parsed));
    if missing.is_empty() {
        let before = t.status.clone();
        t.status = "new".into();
        fx.log(c.history(
            "system",
            "status",
            Some(&before),
            Some("new"),
            Some("все обязательные сведения получены".into()),
        ));
        t.attachments = all.clone();
        let mut facts = ticket_facts(t);
        facts.has_attachments = !all.is_empty();
        route(d, t, &facts, c.now, fx, false);
        fx.send(d.composer.registration(
            t,
            &[],
            &rejected,
            &all,
            &parsed.notes,
            parsed.message_id.as_deref(),
        ));
    } else if !filled.is_empty() || !kept.is_empty() {
        fx.send(d.composer.registration(
            t,
            &missing,
            &rejected,
            &all,
            &parsed.notes,
            parsed.message_id.as_deref(),
        ));
    }
}

/// Routing facts of a stored ticket.
pub fn ticket_facts(t: &Ticket) -> TicketFacts {
    TicketFacts {
        kind: Kind::parse(&t.kind).unwrap_or(Kind::Consultation),
        priority: t.priority.clone(),
        organization: t.organization.clone(),
        sender: t.requester.clone(),
        subject: t.subject.clone(),
        description: t.description.clone().unwrap_or_default(),
        has_attachments: !t.attachments.is_empty(),
    }
}

/// Fill the ticket's empty fields from a user's answer.
fn complete_from(t: &mut Ticket, f: &crate::parse::Form) -> Vec<&'static str> {
    let mut filled = Vec::new();
    let mut take = |slot: &mut Option<String>, v: &Option<String>, name: &'static str| {
        let empty = slot.as_deref().is_none_or(|s| s.trim().is_empty());
        if empty && v.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            *slot = v.clone();
            filled.push(name);
        }
    };
    take(&mut t.organization, &f.organization, "organization");
    take(&mut t.full_name, &f.full_name, "full_name");
    if t.room.is_none() || t.floor.is_none() {
        take(&mut t.location, &f.location, "location");
        take(&mut t.room, &f.room, "room");
        take(&mut t.floor, &f.floor, "floor");
    }
    if t.phone.is_none() {
        take(&mut t.phone_ext, &f.phone_ext, "phone_ext");
    }
    take(&mut t.phone, &f.phone, "phone");
    take(&mut t.description, &f.description, "description");
    take(&mut t.note, &f.note, "note");
    filled
}
