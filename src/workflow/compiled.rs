//! The desk as configured: lines, priorities, calendar and rules, compiled
//! and checked, with the questions the pipeline asks of them.
//!
//! `config::sections` builds a [`Workflow`] from the TOML sections when the
//! config is loaded (so a bad rule stops `check-config`, not a letter at
//! 3 a.m.); the pipeline reads `Config::workflow` and calls the methods
//! here, which forward to the pure functions of the sibling modules.

use super::calendar::Calendar;
use super::classify::{self, Classification, ClassifyRule, Priority};
use super::commands::{self, CommandError, CommandSet};
use super::escalate::{self, Escalation, EscalationSnapshot};
use super::loops::{self, without_plus_tag, LoopPolicy, SenderRole};
use super::route::{self, RouteDecision, RouteRule};
use super::rules::TicketFacts;
use super::status::{Actor, Line};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// A support line as declared in `[[lines]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDef {
    pub line: Line,
    pub name: Option<String>,
    /// Where routed letters and notices for this line go.
    pub mailbox: String,
    /// Addresses allowed to send commands for this line, lower case.
    pub engineers: Vec<String>,
}

/// The compiled workflow part of the config.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub support_address: String,
    /// Sorted by line; line 1 always present after `check-config`.
    pub lines: Vec<LineDef>,
    pub priorities: Vec<Priority>,
    pub calendar: Calendar,
    pub classify: Vec<ClassifyRule>,
    pub routes: Vec<RouteRule>,
    /// `[escalation] enabled`.
    pub escalation_enabled: bool,
    pub loops: LoopPolicy,
    /// The HMAC key file for proofs of receipt; `None`: the pipeline uses a
    /// random key it generated once and keeps in the database.
    pub secret_file: Option<PathBuf>,
    /// `[commands] replay_window` in seconds (0: off).
    pub replay_window_secs: u64,
    /// `[loops]` reflection bounds.
    pub reflection: super::reflect::ReflectionPolicy,
}

impl Default for Workflow {
    /// A placeholder until `Config::load` compiles the real one: no lines,
    /// no rules, one priority `normal` of one working day, round the clock.
    fn default() -> Self {
        Workflow {
            support_address: String::new(),
            lines: Vec::new(),
            priorities: vec![Priority {
                name: "normal".into(),
                deadline: super::calendar::WorkDuration {
                    days: 1,
                    seconds: 0,
                },
                is_default: true,
            }],
            calendar: Calendar::always(),
            classify: Vec::new(),
            routes: Vec::new(),
            escalation_enabled: true,
            loops: LoopPolicy::default(),
            secret_file: None,
            replay_window_secs: super::replay::DEFAULT_WINDOW_SECS,
            reflection: super::reflect::ReflectionPolicy::default(),
        }
    }
}

impl Workflow {
    /// The priority marked `default = true` (the first one if none is).
    pub fn default_priority(&self) -> &str {
        self.priorities
            .iter()
            .find(|p| p.is_default)
            .or(self.priorities.first())
            .map_or("normal", |p| p.name.as_str())
    }

    pub fn priority(&self, name: &str) -> Option<&Priority> {
        classify::find_priority(&self.priorities, name)
    }

    /// Kind and priority of a new appeal.
    pub fn classify(&self, facts: &TicketFacts) -> Classification {
        classify::classify(facts, &self.classify, self.default_priority())
    }

    /// The deadline of a ticket of priority `priority` registered (or
    /// re-prioritised) at `from`; an unknown priority counts as the default.
    pub fn deadline(&self, from: DateTime<Utc>, priority: &str) -> DateTime<Utc> {
        match self
            .priority(priority)
            .or_else(|| self.priority(self.default_priority()))
        {
            Some(p) => classify::deadline(from, p, &self.calendar),
            None => from,
        }
    }

    /// Where the ticket goes. `None` only without a default rule, which
    /// `check-config` refuses.
    pub fn route(&self, facts: &TicketFacts) -> Option<RouteDecision> {
        route::route(facts, &self.routes)
    }

    /// The text of `ticketd route explain`.
    pub fn explain_route(&self, facts: &TicketFacts) -> String {
        route::render_explanation(facts, &self.routes)
    }

    pub fn line(&self, line: Line) -> Option<&LineDef> {
        self.lines.iter().find(|l| l.line == line)
    }

    /// The highest declared line: escalation stops there.
    pub fn top_line(&self) -> Line {
        self.lines
            .iter()
            .map(|l| l.line)
            .max()
            .unwrap_or(Line::First)
    }

    /// Every engineer of every line, once each.
    pub fn engineers(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .lines
            .iter()
            .flat_map(|l| l.engineers.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The desk's own addresses, lower case: the support address and every
    /// line mailbox. Letters from them are never new appeals (for
    /// `intake::IntakeFacts::own_addresses`).
    pub fn own_addresses(&self) -> Vec<String> {
        let mut own = vec![without_plus_tag(&self.support_address)];
        own.extend(self.lines.iter().map(|l| l.mailbox.to_lowercase()));
        own
    }

    pub fn sender_role(&self, sender: &str) -> SenderRole {
        loops::sender_role(sender, &self.support_address, &self.lines)
    }

    /// The actor an engineer acts as on a ticket now on `ticket_line`: that
    /// line if they belong to it, else the lowest line they belong to.
    /// `None` for anyone who is not an engineer.
    pub fn engineer_actor(&self, sender: &str, ticket_line: Line) -> Option<Actor> {
        let lines = match self.sender_role(sender) {
            SenderRole::Engineer(lines) => lines,
            // A line's shared mailbox acts for that line (the pipeline lets
            // it here only with a valid proof issued to the mailbox).
            SenderRole::LineMailbox(l) => vec![l],
            _ => return None,
        };
        let line = if lines.contains(&ticket_line) {
            ticket_line
        } else {
            *lines.first()?
        };
        Some(Actor::Engineer {
            line,
            address: without_plus_tag(sender),
        })
    }

    /// Whom a sender may answer for, for [`super::token::verify`]: their own
    /// address and the mailboxes of the lines they are an engineer of. A
    /// non-engineer is only themself.
    pub fn identities(&self, sender: &str) -> Vec<String> {
        let me = without_plus_tag(sender);
        let mut ids = vec![me.clone()];
        if let SenderRole::Engineer(lines) = self.sender_role(&me) {
            ids.extend(
                lines
                    .iter()
                    .filter_map(|l| self.line(*l))
                    .map(|l| l.mailbox.to_lowercase()),
            );
        }
        ids
    }

    /// Read an engineer's reply against this desk's priorities and engineers.
    pub fn parse_reply(&self, body: &str) -> Result<CommandSet, Vec<CommandError>> {
        commands::parse_reply(body, &self.priorities, &self.engineers())
    }

    /// The escalation of one ticket at `now`, if due and enabled.
    pub fn escalate(
        &self,
        t: &EscalationSnapshot,
        priority: &str,
        now: DateTime<Utc>,
    ) -> Option<Escalation> {
        if !self.escalation_enabled {
            return None;
        }
        let p = self
            .priority(priority)
            .or_else(|| self.priority(self.default_priority()))?;
        escalate::escalate(
            t,
            now,
            self.calendar.resolve(p.deadline),
            &self.calendar,
            self.top_line(),
        )
    }
}
