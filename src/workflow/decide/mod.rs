//! One place that decides: an event on a ticket and the ticket's state in,
//! the effects out, as plain data.
//!
//! [`decide`] takes an [`Event`] (a new appeal, the answer to a request
//! for missing fields, a letter from the user's side, an engineer's
//! commands, the escalation timer) and the [`TicketState`] and returns
//! [`Effects`]: the
//! field changes, the status transition (taken through the table in
//! [`super::status`], so a move the table refuses is never returned), the
//! history rows, and the letters to compose ([`Letter`]: which kind, to
//! whom, with which facts). The pipeline loads the state, calls
//! [`decide`], and commits the effects in one unit; composing a letter's
//! text stays in `outbox`, driven by the [`Letter`] data.
//!
//! The deciding functions of each event stay where they are
//! ([`super::user::user_reply`], [`super::escalate`]); this module turns
//! their verdicts into the complete list of what happens.

mod appeal;
mod commands;
mod follow_up;
mod form;
mod timer;
mod user;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_appeal;
#[cfg(test)]
mod tests_commands;
#[cfg(test)]
mod tests_moves;
#[cfg(test)]
mod tests_sweep;

pub use appeal::{too_many_new, Appeal, Opened, Registrar, Related};
pub use form::FormAnswer;

use super::commands::CommandSet;
use super::compiled::Workflow;
use super::escalate::Escalation;
use super::follow_up::FollowUp;
use super::status::{transition, Actor, Kind, Line, Refusal, Status};
use crate::parse::{Field, Form};
use chrono::{DateTime, Utc};

/// What happened to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new appeal (a letter, the site's form, a phone call): `state` is
    /// the fresh ticket (`new`, on the 1st line, its id allocated).
    NewAppeal(Box<Appeal>),
    /// The requester's answer to the request for missing fields (after
    /// [`Then::CompleteForm`]).
    FormAnswer(Box<FormAnswer>),
    /// A letter on a ticket, the way [`super::follow_up::decide`] sent it
    /// (not a replayed command or a related appeal: those change no ticket).
    FollowUp(FollowUpLetter),
    /// A letter from the user's side (not an engineer's, not a line
    /// mailbox's): a confirmation, thanks, «не помогло», an answer, a
    /// comment from someone else.
    UserLetter(UserLetter),
    /// The escalation timer found the ticket past its deadline.
    Timer(Timer),
    /// An engineer's (or a line mailbox's) commands on the ticket.
    Commands(Commands),
}

/// A command letter, as facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commands {
    pub sender: String,
    /// `Err(why)`: the letter did not come to a valid proof-of-receipt
    /// address of the ticket for this sender.
    pub proof: Result<(), String>,
    /// The keyword lines: read, or every reason they do not.
    pub set: Result<CommandSet, Vec<String>>,
    /// No command read, but the letter seems to mean one: what is wrong
    /// (a keyword line not at the start, a command in the subject only).
    pub hint: Option<String>,
    /// The sender as an engineer acting on the ticket's line; `None`: not
    /// an engineer of any line.
    pub actor: Option<Actor>,
    /// The start of the text, for the history.
    pub excerpt: String,
    /// The replay key of this command ([`crate::workflow::replay`]).
    pub replay_key: String,
}

/// A letter from the user's side, as facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLetter {
    /// The From address.
    pub sender: String,
    /// `Err(why)`: `[security]` is on and the MTA did not vouch for the
    /// sender's domain.
    pub trust: Result<(), String>,
    /// The letter's cleaned text.
    pub text: String,
}

/// A letter on a ticket and which way it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpLetter {
    pub way: FollowUp,
    /// The sender, their trust and the text.
    pub letter: UserLetter,
    /// The start of the text, for the history.
    pub excerpt: String,
}

/// The escalation timer's verdict on the ticket
/// ([`Workflow::escalate`]), with the missed deadline as the desk shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub escalation: Escalation,
    /// The missed deadline in the desk's time zone, for the routed letter.
    pub missed_shown: String,
}

/// What [`decide`] needs to know of the ticket now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub id: String,
    pub status: Status,
    pub line: Line,
    pub priority: String,
    pub kind: Kind,
    pub assignee: Option<String>,
    pub requester: String,
    /// The ticket was sent to a line before (it has `routed` history).
    pub routed: bool,
    /// The Table 2 form as the ticket holds it.
    pub form: Form,
    pub subject: String,
    /// The ticket holds files.
    pub has_files: bool,
}

impl TicketState {
    /// Required fields of the form are still missing.
    pub fn form_incomplete(&self) -> bool {
        !self.form.missing().is_empty()
    }
}

/// The desk's settings a decision depends on, and the time.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub workflow: &'a Workflow,
    /// `[desk] first_line_copies` is not `none`.
    pub first_line_copies: bool,
    pub now: DateTime<Utc>,
}

/// A status move, allowed by the table for `actor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    pub actor: Actor,
}

/// Ticket fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub line: Option<Line>,
    pub kind: Option<Kind>,
    pub priority: Option<String>,
    /// `Some(x)`: set the assignee to `x` (`None` clears it).
    pub assignee: Option<Option<String>>,
    pub deadline: Option<DateTime<Utc>>,
    /// `Some(x)`: set `escalated_for` to `x` (`None` clears it).
    pub escalated_for: Option<Option<DateTime<Utc>>>,
    /// The ticket was changed by the system at this time (`updated_at`).
    pub touched: bool,
    /// The form as it is now (filled from the letter).
    pub form: Option<Form>,
    /// The letter's files join the ticket's (the routed letter carries
    /// them).
    pub join_files: bool,
}

/// One history row (its time is the event's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub actor: String,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub detail: Option<String>,
}

impl Entry {
    fn new(actor: &str, action: &str, detail: impl Into<String>) -> Entry {
        Entry {
            actor: actor.to_string(),
            action: action.to_string(),
            from: None,
            to: None,
            detail: Some(detail.into()),
        }
    }

    fn status(actor: &str, from: Status, to: Status, detail: impl Into<String>) -> Entry {
        Entry {
            from: Some(from.machine_name().to_string()),
            to: Some(to.machine_name().to_string()),
            ..Entry::new(actor, "status", detail)
        }
    }
}

/// A letter to compose, as data: its kind, who gets it, and the facts the
/// text is made from. Letters to a line go to its mailbox with a proof of
/// receipt issued to that mailbox; a line without a mailbox gets nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Letter {
    /// A short notice to `line` (`text`), with no files.
    LineNotice { line: Line, text: String },
    /// The user's letter relayed to `line` with `text` and the letter's
    /// files.
    RelayToLine { line: Line, text: String },
    /// The routed letter (the ticket, its history and files) to `mailbox`
    /// on `line`; `lead` opens it.
    Routed {
        line: Line,
        mailbox: String,
        lead: String,
    },
    /// A copy of `text` for the 1st line (coordination), as a letter or a
    /// row for the digest, as `[desk] first_line_copies` says.
    CopyToFirstLine { text: String },
    /// The text alone to `line`: no proof of receipt, no files (its
    /// sender may not command).
    TextToLine { line: Line, text: String },
    /// To the requester: please confirm with «Подтверждаю».
    AskToConfirm,
    /// To the requester: the appeal was taken in work.
    TakenInWork,
    /// To the requester: the desk (`by`) closed the ticket for them.
    ClosedByDesk { by: String },
    /// An engineer's words to the requester (a person's letter, not
    /// counted as automatic), with the letter's files when `with_files`.
    ToUser { text: String, with_files: bool },
    /// To the engineer `to`: what the commands changed (`summary`), and
    /// which of the letter's files went to the user.
    CommandDone {
        to: String,
        summary: String,
        with_files: bool,
    },
    /// To `to`: what was refused, and why.
    Refusal { to: String, reasons: Vec<String> },
    /// To the requester: the appeal is registered (its form, files and
    /// deadline), with what is still `missing` asked for (п. 94).
    Registration { missing: Vec<Field> },
    /// To `to`, named as Reply-To in the letter: the desk answers From
    /// alone.
    ReplyToNotice { to: String },
    /// To the engineer who took a call down: the ticket registered, and
    /// what is `missing`; `in_reply_to` the letter the call came in.
    PhoneRegistered {
        engineer: String,
        missing: Vec<Field>,
        in_reply_to: Option<String>,
    },
}

/// Everything one event does to a ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub fields: Fields,
    /// The status move, already checked against the table.
    pub transition: Option<Transition>,
    pub history: Vec<Entry>,
    pub letters: Vec<Letter>,
    /// What the pipeline carries out next with the letter itself.
    pub then: Option<Then>,
    /// The replay key of the engineer's command applied, recorded with
    /// the commit.
    pub replay: Option<String>,
    /// History rows recorded after the letters are composed (the letters
    /// do not list them).
    pub after_letters: Vec<Entry>,
    /// History rows of another ticket (by id): a closed ticket the
    /// requester wrote on again.
    pub elsewhere: Vec<(String, Entry)>,
    /// The appeal is not taken: quarantined, for this reason; nothing else
    /// happens.
    pub quarantine: Option<String>,
}

/// A step the pipeline takes with the letter after these effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// The letter answers the request for missing fields: fill the form
    /// from it.
    CompleteForm,
    /// An engineer's (or a line mailbox's) commands: check the proof and
    /// plan them.
    Commands,
}

impl Effects {
    /// Move `from` → `to` as `actor` if the table allows it. A second move
    /// continues the first (`awaiting_user` → `new` → `assigned`): each
    /// step and the whole move are checked, and the whole is recorded.
    fn move_status(&mut self, from: Status, to: Status, actor: Actor) -> Result<(), Refusal> {
        transition(from, to, &actor)?;
        let start = self.transition.as_ref().map_or(from, |m| m.from);
        if start != from {
            transition(start, to, &actor)?;
        }
        self.transition = Some(Transition {
            from: start,
            to,
            actor,
        });
        Ok(())
    }

    fn log(&mut self, e: Entry) {
        self.history.push(e);
    }

    fn send(&mut self, l: Letter) {
        self.letters.push(l);
    }
}

/// Decide what `event` does to a ticket in `state`.
pub fn decide(event: &Event, state: &TicketState, ctx: &Context<'_>) -> Effects {
    match event {
        Event::NewAppeal(a) => appeal::decide(a, state, ctx),
        Event::FormAnswer(a) => form::decide(a, state, ctx),
        Event::FollowUp(letter) => follow_up::decide(letter, state, ctx),
        Event::UserLetter(letter) => user::decide(letter, state, ctx),
        Event::Timer(timer) => timer::decide(timer, state, ctx),
        Event::Commands(c) => commands::decide(c, state, ctx),
    }
}

/// Put the ticket on `line` and send that line the routed letter at
/// `mailbox` (`why` in the history and the letter's lead); a ticket leaving
/// the 1st line while `new` becomes `assigned`, and the 1st line gets a
/// copy. `status` is the ticket's status before. `tell_user`: the user
/// already had the registration letter, so tell them the appeal was taken
/// in work (п. 94).
#[allow(clippy::too_many_arguments)]
fn send_to_line(
    effects: &mut Effects,
    ctx: &Context<'_>,
    status: Status,
    id: &str,
    line: Line,
    mailbox: &str,
    why: &str,
    tell_user: bool,
) {
    let mut taken = false;
    effects.fields.line = Some(line);
    if line != Line::First && status == Status::New {
        // The table allows the system this move; checked all the same.
        if effects
            .move_status(status, Status::Assigned, Actor::System)
            .is_ok()
        {
            effects.log(Entry::status(
                "system",
                status,
                Status::Assigned,
                format!("передано на линию {}", line.number()),
            ));
            taken = true;
        }
    }
    effects.log(Entry::new("system", "routed", why));
    let lead = format!(
        "Обращение {id} направлено на линию {} ({why}).",
        line.number()
    );
    effects.send(Letter::Routed {
        line,
        mailbox: mailbox.to_string(),
        lead: lead.clone(),
    });
    copy_to_first_line(effects, ctx, line, lead);
    if tell_user && taken {
        effects.send(Letter::TakenInWork);
    }
}

/// Does the 1st line get copies of a ticket on `line`? (`[desk]
/// first_line_copies` is not `none`, the ticket is elsewhere, and the 1st
/// line is declared.)
fn first_line_copied(ctx: &Context<'_>, line: Line) -> bool {
    ctx.first_line_copies && line != Line::First && ctx.workflow.line(Line::First).is_some()
}

/// A copy of `text` for the 1st line, when it gets copies.
fn copy_to_first_line(effects: &mut Effects, ctx: &Context<'_>, line: Line, text: String) {
    if first_line_copied(ctx, line) {
        effects.send(Letter::CopyToFirstLine { text });
    }
}
