//! Carrying out an intake decision in one transaction per letter.

use super::{files, IngestError, IngestReport, Outcome, Pipeline};
use crate::outbox::OutgoingLetter;
use crate::parse::{Attachment, Form, ParsedLetter};
use crate::store::letters::{insert_letter, insert_quarantine, LetterRecord};
use crate::store::outbox::enqueue;
use crate::store::tickets::{self, AttachmentRow, HistoryRow, RejectedRow, Ticket};
use crate::store::ts;
use chrono::{DateTime, Utc};
use rusqlite::Transaction;

pub(super) struct Ctx<'a> {
    pub identity: &'a str,
    pub raw: &'a [u8],
    pub parsed: &'a ParsedLetter,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn record<'b>(
        &'b self,
        outcome: &'b str,
        ticket: Option<&'b str>,
        reason: Option<&'b str>,
    ) -> LetterRecord<'b> {
        LetterRecord {
            identity: self.identity,
            message_id: self.parsed.message_id.as_deref(),
            sender: self.parsed.from.as_ref().map(|a| a.email.as_str()),
            outcome,
            ticket_id: ticket,
            reason,
            raw: self.raw,
            at: self.now,
        }
    }

    fn report(
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

    fn history(
        &self,
        actor: &str,
        action: &str,
        from: Option<&str>,
        to: Option<&str>,
        detail: Option<String>,
    ) -> HistoryRow {
        HistoryRow {
            at: ts(self.now),
            actor: actor.to_string(),
            action: action.to_string(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            detail,
        }
    }
}

pub(super) fn quarantine(
    p: &mut Pipeline,
    c: &Ctx<'_>,
    reason: &str,
) -> Result<IngestReport, IngestError> {
    let tx = p.store.begin()?;
    let lid = insert_letter(&tx, &c.record("quarantined", None, Some(reason)))?;
    insert_quarantine(
        &tx,
        Some(lid),
        c.parsed.message_id.as_deref(),
        reason,
        c.raw,
        c.now,
    )?;
    tx.commit().map_err(crate::store::StoreError::from)?;
    Ok(c.report(Outcome::Quarantined, None, Some(reason.to_string()), false))
}

pub(super) fn ignore(
    p: &mut Pipeline,
    c: &Ctx<'_>,
    reason: &str,
) -> Result<IngestReport, IngestError> {
    let tx = p.store.begin()?;
    insert_letter(&tx, &c.record("ignored", None, Some(reason)))?;
    tx.commit().map_err(crate::store::StoreError::from)?;
    Ok(c.report(Outcome::Ignored, None, Some(reason.to_string()), false))
}

/// Write the kept attachments' files before the transaction.
fn store_files(p: &Pipeline, atts: &[Attachment]) -> Result<Vec<AttachmentRow>, IngestError> {
    let dir = &p.cfg.attachments.dir;
    atts.iter()
        .map(|a| {
            let sha = files::store(dir, &a.data).map_err(|source| IngestError::Attachment {
                path: dir.clone(),
                source,
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

fn rejected_rows(parsed: &ParsedLetter) -> Vec<RejectedRow> {
    parsed
        .rejected
        .iter()
        .map(|r| RejectedRow {
            filename: r.filename.clone(),
            reason: r.reason.clone(),
        })
        .collect()
}

/// Queue a letter and thread its Message-ID to the ticket.
fn queue(
    tx: &Transaction<'_>,
    letter: &OutgoingLetter,
    now: DateTime<Utc>,
) -> Result<(), IngestError> {
    enqueue(tx, letter, now)?;
    if let Some(t) = &letter.ticket_id {
        tickets::link_message(tx, &letter.message_id, t)?;
    }
    Ok(())
}

/// The form as the ticket holds it (to recompute what is missing).
pub(super) fn form_of(t: &Ticket) -> Form {
    Form {
        organization: t.organization.clone(),
        full_name: t.full_name.clone(),
        location: t.location.clone(),
        room: t.room.clone(),
        floor: t.floor.clone(),
        phone: t.phone.clone(),
        phone_ext: t.phone_ext.clone(),
        description: t.description.clone(),
        note: t.note.clone(),
    }
}

/// Where to answer, unless that would be talking to ourselves.
fn answer_to(p: &Pipeline, parsed: &ParsedLetter) -> Option<String> {
    let addr = parsed.reply_address()?.email.clone();
    (!p.own_addresses
        .iter()
        .any(|o| o.eq_ignore_ascii_case(&addr)))
    .then_some(addr)
}

pub(super) fn create(p: &mut Pipeline, c: &Ctx<'_>) -> Result<IngestReport, IngestError> {
    let parsed = c.parsed;
    let kept = store_files(p, &parsed.attachments)?;
    let rejected = rejected_rows(parsed);
    let form = &parsed.form;
    let missing = form.missing();
    let status = if missing.is_empty() {
        "new"
    } else {
        "awaiting_user"
    };
    let requester = parsed
        .from
        .as_ref()
        .map(|a| a.email.clone())
        .unwrap_or_default();
    let reply_to = answer_to(p, parsed);
    let mut t = Ticket {
        status: status.into(),
        kind: "consultation".into(),
        priority: "normal".into(),
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
        ..Default::default()
    };
    let tx = p.store.begin()?;
    t.id = tickets::allocate_id(&tx, &p.cfg.tickets.prefix, c.now)?;
    tickets::insert_ticket(&tx, &t)?;
    let lid = insert_letter(&tx, &c.record("created", Some(&t.id), None))?;
    for a in &kept {
        tickets::add_attachment(&tx, &t.id, lid, a)?;
    }
    for r in &rejected {
        tickets::add_rejected(&tx, &t.id, lid, r)?;
    }
    let missing_names: Vec<&str> = missing.iter().map(|f| f.machine_name()).collect();
    let detail = (!missing.is_empty()).then(|| format!("missing: {}", missing_names.join(", ")));
    tickets::add_history(
        &tx,
        &t.id,
        &c.history(&requester, "created", None, Some(status), detail),
        Some(lid),
    )?;
    if let Some(mid) = &parsed.message_id {
        tickets::link_message(&tx, mid, &t.id)?;
    }
    let mut queued = false;
    if reply_to.is_some() {
        match p.composer.registration(
            &t,
            &missing,
            &rejected,
            &kept,
            &parsed.notes,
            parsed.message_id.as_deref(),
        ) {
            Ok(letter) => {
                queue(&tx, &letter, c.now)?;
                queued = true;
            }
            Err(e) => {
                tracing::warn!(ticket = %t.id, error = %e, "auto-reply not composed");
                tickets::add_history(
                    &tx,
                    &t.id,
                    &c.history("system", "reply_failed", None, None, Some(e.to_string())),
                    Some(lid),
                )?;
            }
        }
    }
    tx.commit().map_err(crate::store::StoreError::from)?;
    Ok(c.report(Outcome::Created, Some(t.id), None, queued))
}

/// Fill the ticket's empty fields from a user's answer.
fn complete_from(t: &mut Ticket, f: &Form) -> Vec<&'static str> {
    let mut filled = Vec::new();
    let mut take = |slot: &mut Option<String>, v: &Option<String>, name: &'static str| {
        let empty = slot.as_deref().map_or(true, |s| s.trim().is_empty());
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

pub(super) fn follow_up(
    p: &mut Pipeline,
    c: &Ctx<'_>,
    id: &str,
) -> Result<IngestReport, IngestError> {
    let parsed = c.parsed;
    let Some(mut t) = p.store.ticket(id)? else {
        return create(p, c);
    };
    let kept = store_files(p, &parsed.attachments)?;
    let rejected = rejected_rows(parsed);
    let sender = parsed
        .from
        .as_ref()
        .map(|a| a.email.clone())
        .unwrap_or_default();
    let before = t.status.clone();
    let mut letters = Vec::new();
    let mut history = vec![c.history(&sender, "letter", None, None, Some(excerpt(&parsed.text)))];
    if t.status == "awaiting_user" && !form_of(&t).missing().is_empty() {
        let filled = complete_from(&mut t, &parsed.form);
        let missing = form_of(&t).missing();
        if !filled.is_empty() {
            history.push(c.history(&sender, "fields_added", None, None, Some(filled.join(", "))));
        }
        if missing.is_empty() {
            t.status = "new".into();
            history.push(c.history(
                "system",
                "status",
                Some(&before),
                Some("new"),
                Some("all mandatory fields present".into()),
            ));
            letters.push(p.composer.registration(
                &t,
                &[],
                &rejected,
                &kept,
                &parsed.notes,
                parsed.message_id.as_deref(),
            ));
        } else if !filled.is_empty() || !kept.is_empty() {
            letters.push(p.composer.registration(
                &t,
                &missing,
                &rejected,
                &kept,
                &parsed.notes,
                parsed.message_id.as_deref(),
            ));
        }
    }
    t.updated_at = ts(c.now);
    let tx = p.store.begin()?;
    tickets::update_ticket(&tx, &t)?;
    let lid = insert_letter(&tx, &c.record("updated", Some(&t.id), None))?;
    for a in &kept {
        tickets::add_attachment(&tx, &t.id, lid, a)?;
    }
    for r in &rejected {
        tickets::add_rejected(&tx, &t.id, lid, r)?;
    }
    for h in &history {
        tickets::add_history(&tx, &t.id, h, Some(lid))?;
    }
    if let Some(mid) = &parsed.message_id {
        tickets::link_message(&tx, mid, &t.id)?;
    }
    let mut queued = false;
    for l in letters {
        match l {
            Ok(letter) => {
                queue(&tx, &letter, c.now)?;
                queued = true;
            }
            Err(e) => tracing::warn!(ticket = %t.id, error = %e, "letter not composed"),
        }
    }
    tx.commit().map_err(crate::store::StoreError::from)?;
    Ok(c.report(Outcome::Updated, Some(t.id), None, queued))
}

pub(super) fn oversize(
    p: &mut Pipeline,
    c: &Ctx<'_>,
    size: u64,
    limit: u64,
) -> Result<IngestReport, IngestError> {
    let reason = format!("too large: {size} bytes, the limit is {limit} bytes");
    let to = if c.parsed.machine.is_none() {
        answer_to(p, c.parsed)
    } else {
        None
    };
    let tx = p.store.begin()?;
    let lid = insert_letter(&tx, &c.record("quarantined", None, Some(&reason)))?;
    insert_quarantine(
        &tx,
        Some(lid),
        c.parsed.message_id.as_deref(),
        &reason,
        c.raw,
        c.now,
    )?;
    let mut queued = false;
    if let Some(to) = to {
        match p.composer.too_large(
            &to,
            &c.parsed.subject,
            limit,
            c.parsed.message_id.as_deref(),
        ) {
            Ok(letter) => {
                queue(&tx, &letter, c.now)?;
                queued = true;
            }
            Err(e) => tracing::warn!(error = %e, "too-large notice not composed"),
        }
    }
    tx.commit().map_err(crate::store::StoreError::from)?;
    Ok(c.report(Outcome::Quarantined, None, Some(reason), queued))
}

/// The first part of a letter's text for the history (the raw letter is kept).
fn excerpt(text: &str) -> String {
    const MAX: usize = 2000;
    let t = text.trim();
    if t.chars().count() <= MAX {
        t.to_string()
    } else {
        t.chars().take(MAX).collect::<String>() + "…"
    }
}
