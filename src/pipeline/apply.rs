//! Carrying out a decision: the shared machinery of the pipeline's
//! transactions, and the simple outcomes (quarantine, ignore, too large).
//!
//! Every path collects its changes in [`Effects`] (history rows and letters)
//! and writes them with [`commit_ticket`] in one transaction, where the
//! per-day limit of automatic letters ([`crate::workflow::loops`]) is
//! checked against the outbox itself.

use super::{IngestError, IngestReport, Outcome, Parts, Pipeline};
use crate::outbox::compose::ComposeError;
use crate::outbox::notices::File;
use crate::outbox::OutgoingLetter;
use crate::parse::{Attachment, Form, ParsedLetter};
use crate::store::letters::LetterRecord;
use crate::store::letters::Unit;
use crate::store::tickets::{AttachmentRow, HistoryRow, RejectedRow, Ticket};
use crate::store::{ts, Store};
use crate::workflow::loops::{self, SendDecision};
use chrono::{DateTime, Utc};

pub(super) struct Ctx<'a> {
    pub identity: &'a str,
    pub raw: &'a [u8],
    pub parsed: &'a ParsedLetter,
    pub now: DateTime<Utc>,
    /// The attachments' files when already written (before the write lock).
    pub kept: Option<&'a [AttachmentRow]>,
    /// The channel it came through, and the engineer who registered it
    /// (a phone appeal); a letter's is `Email` and `None`.
    pub channel: crate::workflow::channel::Channel,
    pub registered_by: Option<&'a str>,
    /// The mailbox the letter came through (`None`: `ingest`, the web
    /// form, a phone call), recorded with it for the metrics.
    pub mailbox: Option<String>,
}

impl Ctx<'_> {
    pub fn record<'b>(
        &'b self,
        outcome: &'b str,
        ticket: Option<&'b str>,
        reason: Option<&'b str>,
    ) -> LetterRecord<'b> {
        LetterRecord {
            identity: self.identity,
            message_id: self.parsed.message_id.as_deref(),
            sender: self.sender(),
            outcome,
            ticket_id: ticket,
            reason,
            raw: self.raw,
            at: self.now,
            mailbox: self.mailbox.as_deref(),
        }
    }

    pub fn sender(&self) -> Option<&str> {
        self.parsed.from.as_ref().map(|a| a.email.as_str())
    }

    pub fn report(
        &self,
        outcome: Outcome,
        ticket: Option<String>,
        reason: Option<String>,
        queued_mail: bool,
    ) -> IngestReport {
        IngestReport {
            message_id: self.parsed.message_id.clone(),
            outcome,
            ticket,
            reason,
            queued_mail,
        }
    }

    pub fn history(
        &self,
        actor: &str,
        action: &str,
        from: Option<&str>,
        to: Option<&str>,
        detail: Option<String>,
    ) -> HistoryRow {
        history_at(self.now, actor, action, from, to, detail)
    }
}

pub(super) fn history_at(
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
    detail: Option<String>,
) -> HistoryRow {
    HistoryRow {
        at: ts(now),
        actor: actor.to_string(),
        action: action.to_string(),
        from: from.map(str::to_string),
        to: to.map(str::to_string),
        detail,
    }
}

/// A letter to queue, and whether the per-day limit applies to it (letters
/// to people outside the desk do; routed letters to a line's mailbox do not).
pub(super) struct Queued {
    pub letter: Result<OutgoingLetter, ComposeError>,
    pub limited: bool,
    /// A letter to the user: it leaves from the ticket's mailbox's own
    /// address when that has one ([`crate::outbox::identity`]).
    pub to_user: bool,
}

/// What one decision changes besides the ticket row.
#[derive(Default)]
pub(super) struct Effects {
    pub history: Vec<HistoryRow>,
    pub letters: Vec<Queued>,
    /// The replay key of an engineer's command applied by this letter
    /// ([`crate::workflow::replay`]), recorded with the commit.
    pub replay: Option<String>,
}

impl Effects {
    pub fn log(&mut self, h: HistoryRow) {
        self.history.push(h);
    }

    /// A letter subject to the per-day limit of automatic letters.
    pub fn send(&mut self, letter: Result<OutgoingLetter, ComposeError>) {
        self.letters.push(Queued {
            letter,
            limited: true,
            to_user: true,
        });
    }

    /// A person's words to the user (an engineer's text): always sent, and
    /// not counted as automatic.
    pub fn send_person(&mut self, letter: Result<OutgoingLetter, ComposeError>) {
        self.letters.push(Queued {
            letter,
            limited: false,
            to_user: true,
        });
    }

    /// A letter to the desk's own staff (a line's mailbox): always sent.
    pub fn send_to_desk(&mut self, letter: Result<OutgoingLetter, ComposeError>) {
        self.letters.push(Queued {
            letter,
            limited: false,
            to_user: false,
        });
    }
}

pub(super) fn quarantine(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    reason: &str,
) -> Result<IngestReport, IngestError> {
    let tx = p.store.unit()?;
    let lid = tx.insert_letter(&incoming.record("quarantined", None, Some(reason)))?;
    tx.insert_quarantine(
        Some(lid),
        incoming.parsed.message_id.as_deref(),
        reason,
        incoming.raw,
        incoming.now,
    )?;
    tx.commit()?;
    Ok(incoming.report(Outcome::Quarantined, None, Some(reason.to_string()), false))
}

pub(super) fn ignore(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    reason: &str,
) -> Result<IngestReport, IngestError> {
    let tx = p.store.unit()?;
    tx.insert_letter(&incoming.record("ignored", None, Some(reason)))?;
    tx.commit()?;
    Ok(incoming.report(Outcome::Ignored, None, Some(reason.to_string()), false))
}

/// Write the kept attachments' files before the transaction.
pub(super) fn store_files(
    parts: &Parts<'_>,
    atts: &[Attachment],
) -> Result<Vec<AttachmentRow>, IngestError> {
    atts.iter()
        .map(|a| {
            let sha = parts
                .files
                .store(&a.data)
                .map_err(|source| IngestError::Attachment {
                    path: parts.files.shown(),
                    cause: source,
                })?;
            Ok(AttachmentRow {
                filename: a.filename.clone(),
                content_type: a.content_type.to_string(),
                size: a.data.len() as i64,
                sha256: sha,
            })
        })
        .collect()
}

/// The letter's kept attachments: written before the transaction already,
/// or now.
pub(super) fn kept_files(
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
) -> Result<Vec<AttachmentRow>, IngestError> {
    match incoming.kept {
        Some(rows) => Ok(rows.to_vec()),
        None => store_files(parts, &incoming.parsed.attachments),
    }
}

/// The stored files of a ticket, to attach to a letter, each under a name
/// whose extension is its type's ([`crate::parse::filetype::safe_name`]).
/// A file that cannot be read, or whose content no longer matches its
/// hash, is left out (and logged): the letter still goes.
pub(super) fn read_files(parts: &Parts<'_>, rows: &[AttachmentRow]) -> Vec<File> {
    rows.iter()
        .filter_map(|a| match parts.files.read_verified(&a.sha256) {
            Ok(bytes) => Some((
                crate::parse::filetype::safe_name(&a.filename, &a.content_type),
                a.content_type.clone(),
                bytes,
            )),
            Err(e) => {
                tracing::warn!(sha256 = %a.sha256, error = %e, "attachment file missing; not attached");
                None
            }
        })
        .collect()
}

pub(super) fn rejected_rows(parsed: &ParsedLetter) -> Vec<RejectedRow> {
    parsed
        .rejected
        .iter()
        .map(|r| RejectedRow {
            filename: r.filename.clone(),
            reason: r.reason.clone(),
        })
        .collect()
}

/// Queue the letters of `effects` (checking the per-day limit) and thread their
/// Message-IDs to the ticket; a suppressed or uncomposable letter becomes a
/// history row. Returns whether anything was queued.
fn queue_all(
    tx: &Unit<'_>,
    parts: &Parts<'_>,
    ticket: &str,
    effects: Effects,
    now: DateTime<Utc>,
    letter_id: Option<i64>,
) -> Result<bool, IngestError> {
    let mut queued = false;
    for h in &effects.history {
        tx.add_history(ticket, h, letter_id)?;
    }
    let mut face = None;
    if effects.letters.iter().any(|q| q.to_user) {
        face = tx
            .ticket_mailbox(ticket)?
            .and_then(|m| crate::outbox::identity::Identity::of(parts.cfg, &m));
    }
    for q in effects.letters {
        let letter = match (q.letter, face.as_ref().filter(|_| q.to_user)) {
            (Ok(l), Some(id)) => crate::outbox::identity::sent_as(l, id),
            (Ok(l), None) => l,
            (Err(e), _) => {
                tracing::warn!(ticket, error = %e, "letter not composed");
                let h = history_at(
                    now,
                    "system",
                    "letter_failed",
                    None,
                    None,
                    Some(e.to_string()),
                );
                tx.add_history(ticket, &h, letter_id)?;
                continue;
            }
        };
        if q.limited {
            if let Some(reason) = over_address_limit(tx, parts, &letter, now)? {
                tracing::info!(ticket, kind = %letter.kind, "automatic letter suppressed by the per-address limit");
                let h = history_at(
                    now,
                    "system",
                    "suppressed",
                    None,
                    None,
                    Some(format!("{}: {reason}", letter.kind)),
                );
                tx.add_history(ticket, &h, letter_id)?;
                continue;
            }
            if let Some(to) = letter.to.first() {
                let sent = tx.count_auto_to(ticket, to, loops::window_start(now))?;
                let policy = &parts.cfg.workflow.loops;
                if let SendDecision::Suppress { reason } =
                    loops::may_send_auto(sent.max(0) as u32, to, ticket, policy)
                {
                    tracing::info!(ticket, kind = %letter.kind, "automatic letter suppressed by the daily limit");
                    let h = history_at(
                        now,
                        "system",
                        "suppressed",
                        None,
                        None,
                        Some(format!("{}: {reason}", letter.kind)),
                    );
                    tx.add_history(ticket, &h, letter_id)?;
                    continue;
                }
            }
        }
        tx.enqueue(&letter, now)?;
        tx.link_message(&letter.message_id, ticket)?;
        queued = true;
    }
    Ok(queued)
}

/// Everything one letter did to a ticket, in one transaction: the ticket
/// row (inserted when `new_ticket`), the letter record, files, history and
/// letters.
pub(super) struct TicketCommit<'a> {
    pub ticket: &'a Ticket,
    pub new_ticket: bool,
    pub outcome: &'a str,
    pub kept: &'a [AttachmentRow],
    pub rejected: &'a [RejectedRow],
    pub effects: Effects,
}

pub(super) fn commit_ticket(
    tx: Unit<'_>,
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
    w: TicketCommit<'_>,
) -> Result<bool, IngestError> {
    let t = w.ticket;
    if w.new_ticket {
        tx.insert_ticket(t)?;
    } else {
        tx.update_ticket(t)?;
    }
    let lid = tx.insert_letter(&incoming.record(w.outcome, Some(&t.id), None))?;
    for a in w.kept {
        tx.add_attachment(&t.id, lid, a)?;
    }
    for r in w.rejected {
        tx.add_rejected(&t.id, lid, r)?;
    }
    if let Some(mid) = &incoming.parsed.message_id {
        tx.link_message(mid, &t.id)?;
    }
    if let Some(key) = &w.effects.replay {
        tx.replay_record(key, &t.id, incoming.now)?;
    }
    let queued = queue_all(&tx, parts, &t.id, w.effects, incoming.now, Some(lid))?;
    tx.commit()?;
    Ok(queued)
}

/// Is the letter's first recipient over `[loops]
/// max_auto_per_address_per_day` (all tickets)? The desk's own addresses,
/// lines and engineers are exempt. `Some(reason)`: do not send.
pub(super) fn over_address_limit(
    tx: &Unit<'_>,
    parts: &Parts<'_>,
    letter: &OutgoingLetter,
    now: DateTime<Utc>,
) -> Result<Option<String>, IngestError> {
    let Some(to) = letter.to.first() else {
        return Ok(None);
    };
    let wf = &parts.cfg.workflow;
    let exempt = wf.sender_role(to) != crate::workflow::SenderRole::Outsider || is_own(parts, to);
    if exempt {
        return Ok(None);
    }
    let sent = tx.count_to_address(to, loops::window_start(now))?;
    Ok(crate::workflow::reflect::may_send_to_address(
        u32::try_from(sent.max(0)).unwrap_or(u32::MAX),
        to,
        false,
        &wf.reflection,
    ))
}

/// One of the desk's own addresses (any plus-tag).
pub(super) fn is_own(parts: &Parts<'_>, addr: &str) -> bool {
    let me = crate::workflow::address::without_plus_tag(addr);
    parts
        .own_addresses
        .iter()
        .any(|o| crate::workflow::address::without_plus_tag(o) == me)
}

/// Changes without an incoming letter (escalation): ticket row, history,
/// letters.
pub(super) fn commit_system(
    store: &mut Store,
    parts: &Parts<'_>,
    t: &Ticket,
    effects: Effects,
    now: DateTime<Utc>,
) -> Result<bool, IngestError> {
    let tx = store.unit()?;
    tx.update_ticket(t)?;
    let queued = queue_all(&tx, parts, &t.id, effects, now, None)?;
    tx.commit()?;
    Ok(queued)
}

/// The form as the ticket holds it (to recompute what is missing).
pub(super) fn form_of(t: &Ticket) -> Form {
    t.form.clone()
}

/// Where to answer: the sender (From, never Reply-To), unless that would
/// be talking to ourselves.
pub(super) fn answer_to(parts: &Parts<'_>, parsed: &ParsedLetter) -> Option<String> {
    let addr = parsed.reply_address()?.email.clone();
    (!is_own(parts, &addr)).then_some(addr)
}

pub(super) fn oversize(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    size: u64,
    limit: u64,
) -> Result<IngestReport, IngestError> {
    let reason = format!("too large: {size} bytes, the limit is {limit} bytes");
    let (store, parts) = p.split();
    let to = if incoming.parsed.machine.is_none() {
        answer_to(&parts, incoming.parsed)
    } else {
        None
    };
    let tx = store.unit()?;
    let lid = tx.insert_letter(&incoming.record("quarantined", None, Some(&reason)))?;
    tx.insert_quarantine(
        Some(lid),
        incoming.parsed.message_id.as_deref(),
        &reason,
        incoming.raw,
        incoming.now,
    )?;
    let mut queued = false;
    if let Some(to) = to {
        let letter = parts.composer.too_large(
            &to,
            &incoming.parsed.subject,
            limit,
            incoming.parsed.message_id.as_deref(),
            parts.mailbox,
        );
        // From the address of the mailbox it came through.
        let face = parts
            .mailbox
            .and_then(|m| crate::outbox::identity::Identity::of(parts.cfg, m));
        let letter = letter.map(|l| match &face {
            Some(id) => crate::outbox::identity::sent_as(l, id),
            None => l,
        });
        match letter {
            Ok(letter) if over_address_limit(&tx, &parts, &letter, incoming.now)?.is_some() => {
                tracing::info!("too-large notice suppressed by the per-address limit");
            }
            Ok(letter) => {
                tx.enqueue(&letter, incoming.now)?;
                queued = true;
            }
            Err(e) => tracing::warn!(error = %e, "too-large notice not composed"),
        }
    }
    tx.commit()?;
    Ok(incoming.report(Outcome::Quarantined, None, Some(reason), queued))
}

/// The first part of a letter's text for the history (the raw letter is kept).
pub(super) fn excerpt(text: &str) -> String {
    const MAX: usize = 2000;
    let t = text.trim();
    if t.chars().count() <= MAX {
        t.to_string()
    } else {
        t.chars().take(MAX).collect::<String>() + "…"
    }
}
