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
use super::{IngestError, IngestReport, Outcome, Parts, Pipeline};
use crate::outbox::thread::Thread;
use crate::store::tickets::Ticket;
use crate::workflow::auth::{self, Trust};
use crate::workflow::decide::{self, Then};
use crate::workflow::follow_up::{self, FollowUp, FollowUpFacts};
use crate::workflow::loops::SenderRole;
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
        rejected: &[],
        thread: None,
        notes: &[],
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
    // Keyword lines may follow one greeting line («Добрый день!»).
    let words = crate::workflow::speech::without_greeting(&incoming.parsed.text);
    let set = wf
        .parse_reply(words)
        .map_err(|errors| errors.iter().map(|e| e.to_string()).collect::<Vec<_>>());
    let hint = if set.as_ref().is_ok_and(|s| !s.has_commands()) {
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
        match (
            crate::workflow::speech::misplaced_command(words),
            subject_cmd,
        ) {
            (Some(l), _) => Some(format!("строка «{l}» стоит не в начале письма")),
            (None, Some(l)) => Some(format!("команда «{l}» только в теме письма")),
            _ => None,
        }
    } else {
        None
    };
    let event = decide::Event::Commands(decide::Commands {
        sender: sender.to_string(),
        proof: if proof.is_ok() {
            Ok(())
        } else {
            Err(proof.explain())
        },
        set,
        hint,
        actor: wf.engineer_actor(sender, t.line),
        excerpt: excerpt(&incoming.parsed.text),
        replay_key: replay::replay_key(sender, &t.id, &incoming.parsed.text),
    });
    let state = carry::state(t, false);
    let decided = decide::decide(&event, &state, &carry::context(parts, incoming.now));
    let rejected = rejected_rows(incoming.parsed);
    let answering = Answering {
        message_id: incoming.parsed.message_id.as_deref(),
        files: kept,
        rejected: &rejected,
        thread: Some(thread),
        notes: &[],
    };
    carry::carry_out(parts, t, decided, effects, incoming.now, &answering);
}
