//! A new appeal (a letter, the site's form, a phone call): the bound on new
//! tickets per sender, the form (with a closed ticket's, when the requester
//! writes on it again), classification and deadline, the request for what
//! is missing (п. 94) or routing, and the letters to the requester, to a
//! Reply-To it names, and to the engineer who took a call down.

use super::{send_to_line, Context, Effects, Entry, Letter, TicketState};
use crate::parse::{field_name, Form};
use crate::workflow::compiled::Workflow;
use crate::workflow::rules::TicketFacts;
use crate::workflow::status::{Actor, Kind, Status};
use crate::workflow::{intake, reflect, speech};

/// A new appeal, as facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    /// The requester's address (From, or what the channel says); empty for
    /// a caller without e-mail.
    pub requester: String,
    /// The subject as it came.
    pub subject: String,
    pub form: Form,
    /// The letter's (or appeal's) cleaned text.
    pub text: String,
    /// Files came with it.
    pub has_files: bool,
    /// The `Auto-Submitted` header (RFC 3834).
    pub auto_submitted: Option<String>,
    /// The requester may be answered (an address that is not the desk's).
    pub answerable: bool,
    /// A Reply-To naming another address than From, not the desk's own.
    pub other_reply_to: Option<String>,
    /// The closed ticket the requester wrote on (`[desk] closed_reply =
    /// "new"`).
    pub related: Option<Related>,
    /// The engineer who registered a phone appeal.
    pub registered_by: Option<Registrar>,
    /// New tickets in the last hour from this sender (and naming this
    /// Reply-To); `None`: not counted (nothing to bound).
    pub opened: Option<Opened>,
}

/// A closed ticket a new appeal continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub id: String,
    pub form: Form,
}

/// An engineer's registration of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrar {
    pub engineer: String,
    /// The Message-ID of the letter the call came in, if it came in one.
    pub message_id: Option<String>,
}

/// New tickets of the last hour ([`reflect::hour_start`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Opened by the sender (From).
    pub by_sender: u32,
    /// The letter's differing Reply-To, and the tickets naming it.
    pub reply_to: Option<String>,
    pub by_reply_to: u32,
}

/// `[loops] max_new_tickets_per_sender_per_hour`: `Some(reason)` when the
/// sender, or the Reply-To the letter names, opened too many tickets in
/// the last hour (the appeal is then quarantined). An engineer's
/// registration of a call is not a stranger's flood.
pub fn too_many_new(a: &Appeal, wf: &Workflow) -> Option<String> {
    let policy = &wf.reflection;
    if a.registered_by.is_some() || policy.max_new_tickets_per_sender_per_hour == 0 {
        return None;
    }
    let o = a.opened.as_ref()?;
    reflect::may_open_ticket(
        &a.requester,
        o.by_sender,
        o.reply_to.as_deref(),
        o.by_reply_to,
        policy,
    )
}

pub(super) fn decide(a: &Appeal, state: &TicketState, ctx: &Context<'_>) -> Effects {
    let mut effects = Effects::default();
    if let Some(why) = too_many_new(a, ctx.workflow) {
        effects.quarantine = Some(why);
        return effects;
    }
    let wf = ctx.workflow;
    let form = match &a.related {
        Some(old) => with_closed_form(a, old),
        None => a.form.clone(),
    };
    let missing = form.missing();
    let description = form
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| a.text.clone());
    let mut facts = TicketFacts {
        kind: Kind::Consultation,
        priority: String::new(),
        organization: form.organization.clone(),
        sender: a.requester.clone(),
        subject: a.subject.clone(),
        description,
        has_attachments: a.has_files,
    };
    let class = wf.classify(&facts);
    facts.kind = class.kind;
    facts.priority = class.priority.clone();
    effects.fields.kind = Some(class.kind);
    effects.fields.priority = Some(class.priority.clone());
    effects.fields.deadline = Some(wf.deadline(ctx.now, &class.priority));
    effects.fields.form = Some(form);
    // Registered as `new`; asked for what is missing (п. 94) at once.
    let mut status = state.status;
    if !missing.is_empty()
        && effects
            .move_status(status, Status::AwaitingUser, Actor::System)
            .is_ok()
    {
        status = Status::AwaitingUser;
    }
    let mut detail = class.explain();
    if !missing.is_empty() {
        let names: Vec<&str> = missing
            .iter()
            .map(|f| field_name(f.machine_name()))
            .collect();
        detail.push_str(&format!("; не хватает: {}", names.join(", ")));
    }
    let by = a
        .registered_by
        .as_ref()
        .map_or(a.requester.as_str(), |r| r.engineer.as_str());
    effects.log(Entry {
        to: Some(status.machine_name().to_string()),
        ..Entry::new(by, "created", detail)
    });
    if let Some(old) = &a.related {
        effects.log(Entry::new(
            "system",
            "related",
            format!("написано по закрытому обращению {}", old.id),
        ));
        effects.elsewhere.push((
            old.id.clone(),
            Entry::new(
                "system",
                "related",
                format!("пользователь написал снова: новое обращение {}", state.id),
            ),
        ));
    }
    if missing.is_empty() {
        route(&mut effects, ctx, state, status, &facts, false);
    }
    let silent = intake::no_auto_answer(a.auto_submitted.as_deref());
    if let Some(why) = &silent {
        // Written after the routed letter, which does not list it.
        effects
            .after_letters
            .push(Entry::new("system", "no_auto_answer", why.clone()));
    }
    if silent.is_none() {
        if let Some(to) = &a.other_reply_to {
            effects.send(Letter::ReplyToNotice { to: to.clone() });
        }
        if a.answerable {
            effects.send(Letter::Registration {
                missing: missing.clone(),
            });
        }
    }
    if let Some(r) = &a.registered_by {
        effects.send(Letter::PhoneRegistered {
            engineer: r.engineer.clone(),
            missing,
            in_reply_to: r.message_id.clone(),
        });
    }
    effects
}

/// The appeal's form, with the closed ticket's where the letter does not
/// say anew; without a description, the letter's words (or a note that it
/// continues the closed one).
fn with_closed_form(a: &Appeal, old: &Related) -> Form {
    let mut f = a.form.clone();
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
        let text = speech::without_greeting(&a.text).trim();
        f.description = Some(if text.is_empty() {
            format!("Повторное обращение по {}", old.id)
        } else {
            text.to_string()
        });
    }
    f
}

/// Route a complete ticket (in `status` now) by the `[[routes]]` rules:
/// line, assignee, priority (and its deadline), the routed letter; a
/// ticket leaving the 1st line becomes `assigned`. `tell_user`: the user
/// already had the registration letter. Without a matching rule, nothing.
pub(super) fn route(
    effects: &mut Effects,
    ctx: &Context<'_>,
    state: &TicketState,
    status: Status,
    facts: &TicketFacts,
    tell_user: bool,
) {
    let wf = ctx.workflow;
    let Some(decision) = wf.route(facts) else {
        return;
    };
    let a = &decision.action;
    if let Some(p) = &a.priority {
        if *p != facts.priority {
            effects.fields.priority = Some(p.clone());
            effects.fields.deadline = Some(wf.deadline(ctx.now, p));
        }
    }
    if a.assignee.is_some() {
        effects.fields.assignee = Some(a.assignee.clone());
    }
    send_to_line(
        effects,
        ctx,
        status,
        &state.id,
        a.line,
        &a.mailbox,
        &decision.explain(),
        tell_user,
    );
}
