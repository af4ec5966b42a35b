//! A letter about an existing ticket: who wrote it, and the engineers'
//! commands (a line's shared mailbox acts for its line with a proof); the
//! user's side is [`super::user_reply`].
//!
//! Engineers' commands are applied only when the sender is an engineer of a
//! line AND the letter carries the proof of receipt of the routed letter
//! (the per-ticket secret in the address it was sent to). Anything else that
//! looks like a command is refused, recorded, and answered with a short
//! refusal (within the daily limit of automatic letters).

use super::apply::{self, commit_ticket, excerpt, rejected_rows, Ctx, Effects, TicketCommit};
use super::carry::{self, Answering};
use super::create::send_to_line;
use super::{IngestError, IngestReport, Outcome, Parts, Pipeline};
use crate::outbox::thread::Thread;
use crate::store::tickets::Ticket;
use crate::workflow::auth::{self, Trust};
use crate::workflow::commands::CommandSet;
use crate::workflow::decide::{self, Then};
use crate::workflow::follow_up::{self, FollowUp, FollowUpFacts};
use crate::workflow::loops::SenderRole;
use crate::workflow::plan::{self, TicketState};
use crate::workflow::status::Status;
use crate::workflow::user;
use crate::workflow::{address, commands, replay, token};

pub(super) fn follow_up(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    id: &str,
) -> Result<IngestReport, IngestError> {
    let Some(mut t) = p.store.ticket_full(id)? else {
        return super::create::create(p, incoming);
    };
    let routed = p.store.was_routed(id)?;
    let sender = incoming.sender().unwrap_or_default().to_string();
    let parsed = incoming.parsed;
    let wf = &p.cfg.workflow;
    // Several From addresses: never an engineer's letter.
    let role = if parsed.from_ambiguous {
        SenderRole::Outsider
    } else {
        wf.sender_role(&sender)
    };
    let trust = auth::sender_trust(&p.cfg.security_policy(), &parsed.trace.headers, &sender);
    let acts_for_line = matches!(role, SenderRole::Engineer(_) | SenderRole::LineMailbox(_));
    let replayed = if acts_for_line && trust.allows() {
        let key = replay::replay_key(&sender, &t.id, &parsed.text);
        let last = p.store.replay_last(&key)?;
        replay::is_replay(last, incoming.now, wf.replay_window_secs)
    } else {
        false
    };
    let proofs = addresses(incoming, &wf.support_address);
    let line_mailbox_proof = matches!(role, SenderRole::LineMailbox(_)) && {
        let binding = super::create::binding(&t);
        let ids = [crate::workflow::address::without_plus_tag(&sender)];
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        token::verify(&proofs, &t.id, &ids, &binding, &p.key).is_ok()
    };
    let facts = FollowUpFacts {
        authenticated: match &trust {
            Trust::Fail(why) => Err(why.clone()),
            _ => Ok(()),
        },
        replayed,
        requester_reopens_closed: t.status() == Status::Confirmed
            && address::canonical(&sender) == address::canonical(&t.requester)
            && user::reopens(&parsed.text),
        closed_reply_new: p.cfg.desk.closed_reply == crate::config::ClosedReply::New,
        line_mailbox_proof,
        to_proof_address: proofs
            .iter()
            .any(|a| token::ticket_of(a).as_deref() == Some(t.id.as_str())),
        reads_as_commands: commands::opens_with_command(&parsed.text)
            && wf
                .parse_reply(&parsed.text)
                .map(|s| s.has_commands())
                .unwrap_or(true),
        role,
    };
    let way = follow_up::decide(&facts);
    match way {
        FollowUp::Replayed => return replayed_command(p, incoming, &t.id),
        FollowUp::RelatedAppeal => return super::create::create_related(p, incoming, &t),
        _ => {}
    }
    // Engineers' words to the user thread under the user's last letter
    // (looked up only for a letter that may command).
    let thread = if acts_for_line {
        let root = p.store.opening_letter_id(&t.id)?;
        p.store
            .last_letter_from(&t.id, &t.requester)?
            .map(|(mid, head)| Thread::answering(&mid, &head, root.as_deref()))
            .unwrap_or_default()
    } else {
        Thread::default()
    };
    let (store, parts) = p.split();
    let kept = apply::kept_files(&parts, incoming)?;
    let rejected = rejected_rows(parsed);
    let mut effects = Effects::default();
    let event = decide::Event::FollowUp(decide::FollowUpLetter {
        way,
        letter: decide::UserLetter {
            sender: sender.clone(),
            trust: match &trust {
                Trust::Fail(why) => Err(why.clone()),
                _ => Ok(()),
            },
            text: parsed.text.clone(),
        },
        excerpt: excerpt(&parsed.text),
    });
    let state = carry::state(&t, routed);
    let decided = decide::decide(&event, &state, &carry::context(&parts, incoming.now));
    let then = decided.then;
    let answering = Answering {
        message_id: parsed.message_id.as_deref(),
        files: &kept,
    };
    carry::carry_out(
        &parts,
        &mut t,
        decided,
        &mut effects,
        incoming.now,
        &answering,
    );
    match then {
        Some(Then::Commands) => engineer(
            &parts,
            incoming,
            &mut t,
            &mut effects,
            &sender,
            &kept,
            &thread,
        ),
        Some(Then::CompleteForm) => {
            super::user_reply::complete(&parts, incoming, &mut t, &mut effects, &sender, &kept)
        }
        None => {}
    }
    t.updated_at = incoming.now;
    let tx = store.unit()?;
    let queued = commit_ticket(
        tx,
        &parts,
        incoming,
        TicketCommit {
            ticket: &t,
            new_ticket: false,
            outcome: "updated",
            kept: &kept,
            rejected: &rejected,
            effects,
        },
    )?;
    Ok(incoming.report(Outcome::Updated, Some(t.id), None, queued))
}

/// The same command again within `[commands] replay_window`: recorded,
/// changes nothing, answered with nothing (the first was answered).
fn replayed_command(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    ticket: &str,
) -> Result<IngestReport, IngestError> {
    let reason = format!(
        "duplicate: the same command by the same engineer on {ticket} was applied within [commands] replay_window"
    );
    tracing::warn!(ticket, "replayed command ignored");
    let tx = p.store.unit()?;
    tx.insert_letter(&incoming.record("ignored", Some(ticket), Some(&reason)))?;
    let h = incoming.history(
        incoming.sender().unwrap_or_default(),
        "command_replayed",
        None,
        None,
        Some(reason.clone()),
    );
    tx.add_history(ticket, &h, None)?;
    tx.commit()?;
    Ok(incoming.report(
        Outcome::Duplicate,
        Some(ticket.to_string()),
        Some(reason),
        false,
    ))
}

/// The addresses that may carry the proof: the delivered-to address when
/// the letter has one, else To and Cc; our own domain only.
fn addresses<'a>(incoming: &'a Ctx<'_>, support: &str) -> Vec<&'a str> {
    let to_cc: Vec<&str> = incoming
        .parsed
        .to
        .iter()
        .chain(incoming.parsed.cc.iter())
        .map(|a| a.email.as_str())
        .collect();
    token::proof_addresses(
        support,
        incoming.parsed.trace.delivered_to.as_deref(),
        &to_cc,
    )
}

pub(super) fn refuse(
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
    t: &Ticket,
    effects: &mut Effects,
    sender: &str,
    reasons: Vec<String>,
) {
    tracing::warn!(ticket = %t.id, "command refused");
    effects.log(incoming.history(
        sender,
        "command_refused",
        None,
        None,
        Some(reasons.join("; ")),
    ));
    effects.send(parts.composer.refusal(
        &t.id,
        sender,
        &reasons,
        incoming.parsed.message_id.as_deref(),
    ));
}

#[allow(clippy::too_many_arguments)]
fn engineer(
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
    t: &mut Ticket,
    effects: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
    thread: &Thread,
) {
    let wf = &parts.cfg.workflow;
    let identities = wf.identities(sender);
    let ids: Vec<&str> = identities.iter().map(String::as_str).collect();
    let binding = super::create::binding(t);
    let proof = token::verify(
        &addresses(incoming, &wf.support_address),
        &t.id,
        &ids,
        &binding,
        parts.key,
    );
    if !proof.is_ok() {
        return refuse(parts, incoming, t, effects, sender, vec![proof.explain()]);
    }
    // Keyword lines may follow one greeting line («Добрый день!»).
    let words = crate::workflow::speech::without_greeting(&incoming.parsed.text);
    let set: CommandSet = match wf.parse_reply(words) {
        Ok(set) => set,
        Err(errors) => {
            return refuse(
                parts,
                incoming,
                t,
                effects,
                sender,
                errors.iter().map(|e| e.to_string()).collect(),
            )
        }
    };
    if !set.has_commands() {
        effects.log(incoming.history(
            sender,
            "engineer_note",
            None,
            None,
            Some(excerpt(&incoming.parsed.text)),
        ));
        // It looks like it meant a command: say what was understood.
        let subject = incoming
            .parsed
            .subject
            .rsplit(']')
            .next()
            .unwrap_or("")
            .trim();
        let subject_cmd = wf
            .parse_reply(subject)
            .is_ok_and(|s| s.has_commands())
            .then(|| subject.to_string());
        let hint = match (
            crate::workflow::speech::misplaced_command(words),
            subject_cmd,
        ) {
            (Some(l), _) => Some(format!("строка «{l}» стоит не в начале письма")),
            (None, Some(l)) => Some(format!("команда «{l}» только в теме письма")),
            _ => None,
        };
        if let Some(h) = hint {
            refuse(
                parts,
                incoming,
                t,
                effects,
                sender,
                vec![format!(
                    "{h}: письмо записано как заметка. Ключи команд — в начале письма (можно после одной строки приветствия), по одному на строке; текст для пользователя — после них"
                )],
            );
        }
        return;
    }
    let (st, line, kind) = (t.status(), t.line, t.kind);
    let Some(actor) = wf.engineer_actor(sender, line) else {
        return refuse(
            parts,
            incoming,
            t,
            effects,
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
        Err(reasons) => return refuse(parts, incoming, t, effects, sender, reasons),
    };
    let before = t.status();
    if let Some(s) = plan.status {
        // The plan checked the move against the table already.
        if let Err(r) = t.move_to(s, &actor) {
            return refuse(parts, incoming, t, effects, sender, vec![r.to_string()]);
        }
    }
    if let Some(k) = plan.kind {
        t.kind = k;
    }
    if let Some(p) = &plan.priority {
        t.priority = p.clone();
        t.deadline = Some(wf.deadline(incoming.now, p));
        t.escalated_for = None;
    }
    let reassigned = plan
        .assignee
        .as_ref()
        .is_some_and(|a| t.assignee.as_deref() != Some(a.as_str()));
    if let Some(a) = &plan.assignee {
        t.assignee = Some(a.clone());
    } else if let Some((new_line, _)) = &plan.line {
        // An assignee of the old line is nobody's on the new one.
        let stays = t.assignee.as_deref().is_some_and(|a| {
            wf.line(*new_line)
                .is_some_and(|l| l.engineers.iter().any(|e| e.eq_ignore_ascii_case(a)))
        });
        if !stays {
            t.assignee = None;
        }
    }
    effects.replay = Some(replay::replay_key(sender, &t.id, &incoming.parsed.text));
    let changed = (before != t.status()).then_some(t.status().machine_name());
    effects.log(incoming.history(
        sender,
        "command",
        changed.map(|_| before.machine_name()),
        changed,
        Some(plan.history.join("; ")),
    ));
    // A handover's words (the text after `Линия:` / `Исполнитель:` when
    // nothing goes to the user) travel with the routed letter.
    let comment = set.message.trim();
    let why = if plan.to_user.is_none() && !comment.is_empty() {
        effects.log(incoming.history(
            sender,
            "handover_comment",
            None,
            None,
            Some(comment.to_string()),
        ));
        format!("по команде {sender}\n\nКомментарий {sender}:\n{comment}\n")
    } else {
        format!("по команде {sender}")
    };
    if let Some((new_line, mailbox)) = &plan.line {
        send_to_line(
            parts,
            t,
            *new_line,
            mailbox,
            &why,
            incoming.now,
            effects,
            true,
        );
    } else if reassigned {
        // The proofs issued before name the old assignment: the line gets
        // the ticket again with a fresh one.
        if let Some(l) = wf.line(line).map(|l| l.mailbox.clone()) {
            send_to_line(parts, t, line, &l, &why, incoming.now, effects, false);
        }
    }
    // The engineer's files travel with their words (they were checked like
    // a user's: the refused ones are named in the confirmation).
    let relayed: &[_] = if plan.to_user.is_some() { kept } else { &[] };
    if plan.status == Some(Status::SolutionProposed)
        || (plan.to_user.is_some() && st == Status::SolutionProposed)
    {
        if let Some(text) = &plan.to_user {
            super::copies::copy_to_first_line(
                parts,
                t,
                effects,
                &format!(
                    "{sender} предложил решение пользователю:\n\n{}",
                    text.trim()
                ),
                incoming.now,
            );
        }
    }
    if plan.status == Some(Status::Confirmed) {
        // Closed on the user's behalf (after a phone call): the user is told.
        effects.send(parts.composer.closed_by_desk(t, sender, thread));
        super::copies::copy_to_first_line(
            parts,
            t,
            effects,
            &format!("{sender} закрыл обращение («Подтверждено»)."),
            incoming.now,
        );
    }
    if let Some(text) = &plan.to_user {
        // A person's words: never held back by the limit of automatic
        // letters ([loops] max_auto_per_day).
        effects.send_person(parts.composer.relay_to_user(
            t,
            text,
            apply::read_files(parts, relayed),
            thread,
        ));
    }
    effects.send_to_desk(parts.composer.command_done(
        t,
        sender,
        &plan.summary(),
        relayed,
        &rejected_rows(incoming.parsed),
        incoming.parsed.message_id.as_deref(),
    ));
}
