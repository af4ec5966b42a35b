//! Carrying out [`crate::workflow::decide`]'s effects on a loaded ticket:
//! the field changes and the status move (through `Ticket::move_to`, the
//! table again), the history rows, and each [`Letter`] composed by the
//! outbox's composer into the pipeline's [`Effects`], which the caller
//! commits in one unit. Nothing is decided here: a letter to a line goes
//! to the line's declared mailbox with a proof of receipt for it, or
//! nowhere when the line has none.

use super::apply::{self, history_at, Effects};
use super::Parts;
use crate::outbox::thread::Thread;
use crate::store::tickets::{AttachmentRow, RejectedRow, Ticket};
use crate::workflow::decide::{self, Letter};
use crate::workflow::token;
use chrono::{DateTime, Utc};

/// What the letter being handled brings to the letters composed: the
/// Message-ID answered and its kept files.
pub(super) struct Answering<'a> {
    pub message_id: Option<&'a str>,
    pub files: &'a [AttachmentRow],
    /// The files refused from it (named in an engineer's confirmation).
    pub rejected: &'a [RejectedRow],
    /// Where an engineer's words go in the user's thread.
    pub thread: Option<&'a Thread>,
    /// What reading the letter noticed (for the registration letter).
    pub notes: &'a [String],
}

pub(super) const NO_LETTER: Answering<'static> = Answering {
    message_id: None,
    files: &[],
    rejected: &[],
    thread: None,
    notes: &[],
};

/// The ticket as [`decide::decide`] reads it; `routed`: it was sent to a
/// line before.
pub(super) fn state(t: &Ticket, routed: bool) -> decide::TicketState {
    decide::TicketState {
        id: t.id.clone(),
        status: t.status(),
        line: t.line,
        priority: t.priority.clone(),
        kind: t.kind,
        assignee: t.assignee.clone(),
        requester: t.requester.clone(),
        routed,
        form: apply::form_of(t),
        subject: t.subject.clone(),
        has_files: !t.attachments.is_empty(),
    }
}

/// The desk's settings [`decide::decide`] reads, at `now`.
pub(super) fn context<'a>(parts: &'a Parts<'_>, now: DateTime<Utc>) -> decide::Context<'a> {
    decide::Context {
        workflow: &parts.cfg.workflow,
        first_line_copies: parts.cfg.desk.first_line_copies != crate::config::FirstLineCopies::None,
        now,
    }
}

/// Apply `decided` to `t` and add its history rows and letters to
/// `effects`. (A quarantine and another ticket's rows are the caller's:
/// see [`decide::Effects::quarantine`], [`decide::Effects::elsewhere`].)
pub(super) fn carry_out(
    parts: &Parts<'_>,
    t: &mut Ticket,
    decided: decide::Effects,
    effects: &mut Effects,
    now: DateTime<Utc>,
    answering: &Answering<'_>,
) {
    let f = decided.fields;
    if let Some(line) = f.line {
        t.line = line;
    }
    if let Some(k) = f.kind {
        t.kind = k;
    }
    if let Some(p) = f.priority {
        t.priority = p;
    }
    if let Some(a) = f.assignee {
        t.assignee = a;
    }
    if let Some(d) = f.deadline {
        t.deadline = Some(d);
    }
    if let Some(e) = f.escalated_for {
        t.escalated_for = e;
    }
    if f.touched {
        t.updated_at = now;
    }
    if let Some(form) = f.form {
        t.form = form;
    }
    if f.join_files {
        t.attachments.extend_from_slice(answering.files);
    }
    if let Some(m) = &decided.transition {
        // Decided through the table; a refusal here would be a bug, said.
        if let Err(r) = t.move_to(m.to, &m.actor) {
            tracing::error!(ticket = %t.id, refusal = %r, "status move refused");
        }
    }
    if decided.replay.is_some() {
        effects.replay = decided.replay;
    }
    for h in decided.history {
        effects.log(history_at(
            now,
            &h.actor,
            &h.action,
            h.from.as_deref(),
            h.to.as_deref(),
            h.detail,
        ));
    }
    for letter in decided.letters {
        compose(parts, t, letter, effects, now, answering, f.join_files);
    }
    for h in decided.after_letters {
        effects.log(history_at(
            now,
            &h.actor,
            &h.action,
            h.from.as_deref(),
            h.to.as_deref(),
            h.detail,
        ));
    }
}

/// Compose `letter` into `effects`; `joined`: the letter's files are the
/// ticket's already.
fn compose(
    parts: &Parts<'_>,
    t: &Ticket,
    letter: Letter,
    effects: &mut Effects,
    now: DateTime<Utc>,
    answering: &Answering<'_>,
    joined: bool,
) {
    let wf = &parts.cfg.workflow;
    let mailbox_of = |line| wf.line(line).map(|l| l.mailbox.clone());
    match letter {
        Letter::LineNotice { line, text } => {
            if let Some(m) = mailbox_of(line) {
                let proof = super::copies::proof_for(parts, t, &m, effects);
                effects.send_to_desk(parts.composer.line_notice(
                    t,
                    &m,
                    Some(proof),
                    &text,
                    Vec::new(),
                ));
            }
        }
        Letter::RelayToLine { line, text } => {
            if let Some(m) = mailbox_of(line) {
                let proof = super::copies::proof_for(parts, t, &m, effects);
                effects.send_to_desk(parts.composer.relay_to_line(
                    t,
                    &m,
                    Some(proof),
                    &text,
                    apply::read_files(parts, answering.files),
                ));
            }
        }
        Letter::TextToLine { line, text } => {
            if let Some(m) = mailbox_of(line) {
                effects.send_to_desk(parts.composer.relay_to_line(t, &m, None, &text, Vec::new()));
            }
        }
        Letter::Routed {
            line,
            mailbox,
            lead,
        } => {
            // The proof is issued to the line (any of its engineers may
            // answer).
            let proof_for = mailbox_of(line).unwrap_or_else(|| mailbox.clone());
            let binding = super::create::binding_after(t, effects);
            let reply_to = token::make_reply_address(
                &wf.support_address,
                &t.id,
                &proof_for,
                &binding,
                parts.key,
            );
            let files = apply::read_files(parts, &t.attachments);
            let mut history = t.history.clone();
            history.extend(effects.history.iter().cloned());
            effects.send_to_desk(
                parts
                    .composer
                    .routed(t, &mailbox, &reply_to, &lead, &history, files),
            );
        }
        Letter::CopyToFirstLine { text } => {
            super::copies::copy_to_first_line(parts, t, effects, &text, now);
        }
        Letter::TakenInWork => effects.send(parts.composer.taken_in_work(t)),
        Letter::ClosedByDesk { by } => {
            let thread = answering.thread.cloned().unwrap_or_default();
            effects.send(parts.composer.closed_by_desk(t, &by, &thread));
        }
        Letter::ToUser { text, with_files } => {
            let thread = answering.thread.cloned().unwrap_or_default();
            let files = if with_files { answering.files } else { &[] };
            // A person's words: never held back by the limit of automatic
            // letters ([loops] max_auto_per_day).
            effects.send_person(parts.composer.relay_to_user(
                t,
                &text,
                apply::read_files(parts, files),
                &thread,
            ));
        }
        Letter::CommandDone {
            to,
            summary,
            with_files,
        } => {
            let files = if with_files { answering.files } else { &[] };
            effects.send_to_desk(parts.composer.command_done(
                t,
                &to,
                &summary,
                files,
                answering.rejected,
                answering.message_id,
            ));
        }
        Letter::AskToConfirm => {
            effects.send(parts.composer.ask_to_confirm(t, answering.message_id));
        }
        Letter::Registration { missing } => {
            // The ticket's files and the answer's, and every file refused.
            let mut files = t.attachments.clone();
            if !joined {
                files.extend_from_slice(answering.files);
            }
            let mut rejected = t.rejected_attachments.clone();
            rejected.extend_from_slice(answering.rejected);
            effects.send(parts.composer.registration(
                t,
                &missing,
                &rejected,
                &files,
                answering.notes,
                answering.message_id,
            ));
        }
        Letter::ReplyToNotice { to } => {
            effects.send(
                parts
                    .composer
                    .reply_to_notice(&t.id, &to, answering.message_id),
            );
        }
        Letter::PhoneRegistered {
            engineer,
            missing,
            in_reply_to,
        } => {
            effects.send_to_desk(parts.composer.phone_registered(
                t,
                &engineer,
                &missing,
                in_reply_to.as_deref(),
            ));
        }
        Letter::Refusal { to, reasons } => {
            tracing::warn!(ticket = %t.id, "command refused");
            effects.send(
                parts
                    .composer
                    .refusal(&t.id, &to, &reasons, answering.message_id),
            );
        }
    }
}
