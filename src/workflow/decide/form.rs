//! The requester's answer to the request for missing fields (п. 94): the
//! fields it gives fill what is empty; once nothing is missing the ticket
//! is `new` again, classified anew, its deadline runs from now, and it is
//! routed and confirmed to the requester. An answer that completes nothing
//! goes to a person of the 1st line.

use super::appeal::route;
use super::{Context, Effects, Entry, Letter, TicketState};
use crate::parse::{field_name, Form};
use crate::workflow::intake;
use crate::workflow::rules::TicketFacts;
use crate::workflow::status::{Actor, Line, Status};

/// The requester's answer, as facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormAnswer {
    pub sender: String,
    /// The letter's cleaned text.
    pub text: String,
    /// The fields its words give («кабинет 305, 3 этаж, тел. 55-12-34»),
    /// read first.
    pub said: Form,
    /// The fields of its form lines.
    pub form: Form,
    /// Files came with it.
    pub has_files: bool,
    /// The `Auto-Submitted` header (RFC 3834): an automatic letter still
    /// completes the form, and gets no automatic answer.
    pub auto_submitted: Option<String>,
}

pub(super) fn decide(a: &FormAnswer, state: &TicketState, ctx: &Context<'_>) -> Effects {
    let mut effects = Effects::default();
    let sender = a.sender.as_str();
    let mut form = state.form.clone();
    let mut filled = form.fill_from(&a.said);
    for f in form.fill_from(&a.form) {
        if !filled.contains(&f) {
            filled.push(f);
        }
    }
    let missing = form.missing();
    if filled.is_empty() {
        // Nothing completed: a person of the 1st line reads it and acts.
        effects.send(Letter::RelayToLine {
            line: Line::First,
            text: format!(
                "Ответ пользователя {sender} на запрос недостающих сведений ничего не дополнил; прочтите и свяжитесь с пользователем:\n\n{}",
                a.text.trim()
            ),
        });
    } else {
        let names: Vec<&str> = filled.iter().map(|f| field_name(f)).collect();
        effects.log(Entry::new(sender, "fields_added", names.join(", ")));
        effects.fields.form = Some(form.clone());
    }
    let silent = intake::no_auto_answer(a.auto_submitted.as_deref());
    if let Some(why) = &silent {
        effects.log(Entry::new("system", "no_auto_answer", why.clone()));
    }
    if missing.is_empty() {
        let before = state.status;
        if effects
            .move_status(before, Status::New, Actor::System)
            .is_ok()
        {
            effects.log(Entry::status(
                "system",
                before,
                Status::New,
                "все обязательные сведения получены",
            ));
        }
        effects.fields.join_files = true;
        let mut facts = TicketFacts {
            kind: state.kind,
            priority: state.priority.clone(),
            organization: form.organization.clone(),
            sender: state.requester.clone(),
            subject: state.subject.clone(),
            description: form.description.clone().unwrap_or_default(),
            has_attachments: state.has_files || a.has_files,
        };
        // Classified again now that the description is known, and the
        // deadline runs from now (it stood still while fields were missing).
        let class = ctx.workflow.classify(&facts);
        facts.kind = class.kind;
        facts.priority = class.priority.clone();
        effects.fields.kind = Some(class.kind);
        effects.fields.priority = Some(class.priority.clone());
        effects.fields.deadline = Some(ctx.workflow.deadline(ctx.now, &class.priority));
        effects.fields.escalated_for = Some(None);
        let status = effects.transition.as_ref().map_or(before, |m| m.to);
        route(&mut effects, ctx, state, status, &facts, false);
        if silent.is_none() {
            effects.send(Letter::Registration {
                missing: Vec::new(),
            });
        }
    } else if silent.is_none() && (!filled.is_empty() || a.has_files) {
        effects.send(Letter::Registration { missing });
    }
    effects
}
