//! Statuses, kinds, lines, actors and the status machine.
//!
//! Owns the five statuses of the regulation (п. 2.11) and the one table that
//! says which status may follow which, and who may make that move. Every
//! decision — allowed or refused — comes with a one-line reason that the
//! store writes into the ticket's history, so an admin reading
//! `tickets show` never has to guess why a command did nothing.
//!
//! Names: every enum has a machine name (`awaiting_user`) used in JSON and
//! the config, and a Russian display name (`Действие пользователя`) used in
//! letters; [`Status::parse`] and friends accept either, in any case.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The status of a ticket (contract: "Names used on the outside").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Status {
    #[default]
    New,
    Assigned,
    AwaitingUser,
    SolutionProposed,
    Confirmed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Assigned,
        Status::AwaitingUser,
        Status::SolutionProposed,
        Status::Confirmed,
    ];

    pub fn machine_name(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::AwaitingUser => "awaiting_user",
            Status::SolutionProposed => "solution_proposed",
            Status::Confirmed => "confirmed",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Status::New => "Новое",
            Status::Assigned => "Направлено на инженера",
            Status::AwaitingUser => "Действие пользователя",
            Status::SolutionProposed => "Предложено решение",
            Status::Confirmed => "Подтверждено",
        }
    }

    /// By machine or Russian display name, case-insensitive, spaces trimmed.
    pub fn parse(s: &str) -> Option<Status> {
        // The stored form first, without folding: reports read a million.
        Status::ALL
            .into_iter()
            .find(|v| v.machine_name() == s)
            .or_else(|| {
                Status::ALL
                    .into_iter()
                    .find(|v| names_match(s, v.machine_name(), v.display_name()))
            })
    }

    /// Open tickets are the ones someone still has to act on.
    pub fn is_open(self) -> bool {
        self != Status::Confirmed
    }

    /// Statuses in which the deadline runs and escalation applies: the desk
    /// owes the user an answer. In `awaiting_user` and `solution_proposed`
    /// the ball is in the user's court.
    pub fn deadline_runs(self) -> bool {
        matches!(self, Status::New | Status::Assigned)
    }
}

/// JSON and the database: the machine name.
impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.machine_name())
    }
}

/// `status == "assigned"`: by the machine name (reads well in tests and
/// filters).
impl PartialEq<&str> for Status {
    fn eq(&self, other: &&str) -> bool {
        self.machine_name() == *other
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.machine_name())
    }
}

/// The kind of an appeal (Table 3 of the regulation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Kind {
    #[default]
    Consultation,
    Incident,
    ServiceRequest,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Consultation, Kind::Incident, Kind::ServiceRequest];

    pub fn machine_name(self) -> &'static str {
        match self {
            Kind::Consultation => "consultation",
            Kind::Incident => "incident",
            Kind::ServiceRequest => "service_request",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Kind::Consultation => "Консультация",
            Kind::Incident => "Инцидент",
            Kind::ServiceRequest => "Запрос на обслуживание",
        }
    }

    /// By machine or Russian display name, case-insensitive.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|v| v.machine_name() == s)
            .or_else(|| {
                Kind::ALL
                    .into_iter()
                    .find(|v| names_match(s, v.machine_name(), v.display_name()))
            })
    }
}

/// JSON and the database: the machine name.
impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.machine_name())
    }
}

/// `kind == "incident"`: by the machine name.
impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.machine_name() == *other
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.machine_name())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Kind::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown kind `{s}`, expected one of `consultation`, `incident`, `service_request` (or the Russian names)"
            ))
        })
    }
}

/// A support line (п. 81): 1st registers and coordinates, 2nd solves what
/// the 1st cannot, 3rd is the developer company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Line {
    #[default]
    First,
    Second,
    Third,
}

impl Line {
    pub const ALL: [Line; 3] = [Line::First, Line::Second, Line::Third];

    pub fn number(self) -> u8 {
        match self {
            Line::First => 1,
            Line::Second => 2,
            Line::Third => 3,
        }
    }

    pub fn from_number(n: u8) -> Option<Line> {
        match n {
            1 => Some(Line::First),
            2 => Some(Line::Second),
            3 => Some(Line::Third),
            _ => None,
        }
    }

    /// `"2"`, `" 2 "`, `"2-я"`, `"вторая"`, `"second"`.
    pub fn parse(s: &str) -> Option<Line> {
        let s = s.trim().to_lowercase();
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            let rest = &s[digits.len()..];
            let suffix_ok =
                rest.is_empty() || ["-я", "я", "-ая", " линия", "-я линия"].contains(&rest);
            return if suffix_ok {
                digits.parse().ok().and_then(Line::from_number)
            } else {
                None
            };
        }
        match s.as_str() {
            "первая" | "first" => Some(Line::First),
            "вторая" | "second" => Some(Line::Second),
            "третья" | "third" => Some(Line::Third),
            _ => None,
        }
    }

    /// The next line up (1 → 2 → 3); the 3rd line stays.
    pub fn next(self) -> Line {
        match self {
            Line::First => Line::Second,
            Line::Second | Line::Third => Line::Third,
        }
    }

    /// Only lines 1 and 2 talk to users (п. 82).
    pub fn talks_to_users(self) -> bool {
        self != Line::Third
    }
}

/// JSON and the database: the line's number.
impl Serialize for Line {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

/// `line == 2`: by the line's number.
impl PartialEq<u8> for Line {
    fn eq(&self, other: &u8) -> bool {
        self.number() == *other
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        u8::try_from(n)
            .ok()
            .and_then(Line::from_number)
            .ok_or_else(|| serde::de::Error::custom(format!("line must be 1, 2 or 3, not {n}")))
    }
}

/// Who makes a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// ticketd itself: routing, escalation.
    System,
    /// An engineer of a line, by address.
    Engineer { line: Line, address: String },
    /// The requester, by address.
    User { address: String },
}

impl Actor {
    pub fn role(&self) -> Role {
        match self {
            Actor::System => Role::System,
            Actor::Engineer {
                line: Line::First, ..
            } => Role::Line1,
            Actor::Engineer {
                line: Line::Second, ..
            } => Role::Line2,
            Actor::Engineer {
                line: Line::Third, ..
            } => Role::Line3,
            Actor::User { .. } => Role::User,
        }
    }
}

/// For the history's `actor` column: `system`, `line2:eng1@…`, `user:…`.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Engineer { line, address } => write!(f, "line{line}:{address}"),
            Actor::User { address } => write!(f, "user:{address}"),
        }
    }
}

/// The roles the transition table speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    Line1,
    Line2,
    Line3,
    User,
}

impl Role {
    /// `system`, `line 1`, …, `user`: as in docs/workflow.md.
    pub fn short(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Line1 => "line 1",
            Role::Line2 => "line 2",
            Role::Line3 => "line 3",
            Role::User => "user",
        }
    }

    /// As people at the desk read it, in refusals: `2-я линия`.
    pub fn name(self) -> &'static str {
        match self {
            Role::System => "система",
            Role::Line1 => "1-я линия",
            Role::Line2 => "2-я линия",
            Role::Line3 => "3-я линия",
            Role::User => "пользователь",
        }
    }
}

use Role::{Line1 as L1, Line2 as L2, Line3 as L3, System as SYS, User as USR};
use Status::{
    Assigned as ASG, AwaitingUser as AWU, Confirmed as CNF, New as NEW, SolutionProposed as SOL,
};

/// The status machine: `(from, to, who may make it, why the move exists)`.
/// Anything not listed is refused. `docs/workflow.md` prints this table.
pub const TRANSITIONS: &[(Status, Status, &[Role], &str)] = &[
    (
        NEW,
        ASG,
        &[SYS, L1, L2, L3],
        "routed to a line or taken in work",
    ),
    (
        NEW,
        AWU,
        &[SYS, L1, L2],
        "the user is asked (clarifying questions, п. 94)",
    ),
    (NEW, SOL, &[L1, L2], "the 1st line solves it at once"),
    (ASG, AWU, &[L1, L2], "the engineer asks the user"),
    (ASG, SOL, &[L1, L2], "the engineer proposes a solution"),
    (AWU, NEW, &[USR, SYS], "the user answered; not yet routed"),
    (AWU, ASG, &[USR, SYS, L1, L2, L3], "the user answered"),
    (AWU, SOL, &[L1, L2], "the engineer proposes a solution"),
    (
        SOL,
        CNF,
        &[USR, L1, L2],
        "the user confirmed (or the line closes it, п. 81)",
    ),
    (
        SOL,
        ASG,
        &[USR, L1, L2, L3],
        "the solution did not help: back in work",
    ),
    (SOL, AWU, &[L1, L2], "the engineer asks the user"),
    (
        CNF,
        ASG,
        &[SYS],
        "reopened: the requester wrote on it again ([desk] closed_reply = \"reopen\")",
    ),
];

/// Why a transition was refused. `Display` is the one line, in Russian,
/// for the history and the refusal letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("статус «{}» окончательный: подтверждённое обращение не меняется, пользователь может написать новое", CNF.display_name())]
    Final,
    #[error("переход «{}» → «{}» не предусмотрен порядком работы", from.display_name(), to.display_name())]
    NotAllowed { from: Status, to: Status },
    #[error("3-я линия не пишет пользователям (п. 82): чтобы установить «{}», верните обращение командой `Линия: 2`", to.display_name())]
    ThirdLineToUser { to: Status },
    #[error("{} не может перевести обращение «{}» → «{}»", role.name(), from.display_name(), to.display_name())]
    NotPermitted {
        from: Status,
        to: Status,
        role: Role,
    },
}

/// May `actor` move a ticket from `from` to `to`? The same status is always
/// allowed (nothing to record) except on a confirmed ticket, where nothing
/// is allowed.
pub fn transition(from: Status, to: Status, actor: &Actor) -> Result<(), Refusal> {
    let role = actor.role();
    let row = TRANSITIONS
        .iter()
        .find(|(f, t, _, _)| *f == from && *t == to);
    if from == CNF {
        // Final for every person; the desk itself may reopen by its rule.
        return match row {
            Some((_, _, roles, _)) if roles.contains(&role) => Ok(()),
            _ => Err(Refusal::Final),
        };
    }
    if from == to {
        return Ok(());
    }
    let Some((_, _, roles, _)) = row else {
        return Err(Refusal::NotAllowed { from, to });
    };
    if roles.contains(&role) {
        return Ok(());
    }
    if role == L3 && matches!(to, AWU | SOL | CNF) {
        return Err(Refusal::ThirdLineToUser { to });
    }
    Err(Refusal::NotPermitted { from, to, role })
}

/// The history line of an applied change, in Russian: `Новое →
/// Направлено на инженера (система: направлено на линию или взято в работу)`.
pub fn describe(from: Status, to: Status, actor: &Actor) -> String {
    format!(
        "{} → {} ({}: {})",
        from.display_name(),
        to.display_name(),
        actor.russian(),
        why_russian(from, to)
    )
}

/// The `why` of a [`TRANSITIONS`] row as the desk's people read it.
fn why_russian(from: Status, to: Status) -> &'static str {
    match (from, to) {
        (NEW, ASG) => "направлено на линию или взято в работу",
        (NEW, AWU) => "пользователю заданы уточняющие вопросы (п. 94)",
        (NEW, SOL) => "1-я линия решает сразу",
        (ASG | SOL, AWU) => "инженер спрашивает пользователя",
        (ASG | AWU, SOL) => "инженер предлагает решение",
        (AWU, NEW) => "пользователь ответил; обращение ещё не направлено",
        (AWU, ASG) => "пользователь ответил",
        (SOL, CNF) => "пользователь подтвердил решение (или линия закрыла обращение, п. 81)",
        (SOL, ASG) => "решение не помогло: снова в работе",
        (CNF, ASG) => "заявитель написал по закрытому обращению: оно снова в работе",
        _ => "без изменений",
    }
}

impl Actor {
    /// Who acted, as people read it: `система`, `eng1@…, 2-я линия`,
    /// `пользователь user@…`.
    pub fn russian(&self) -> String {
        match self {
            Actor::System => "система".into(),
            Actor::Engineer { line, address } => format!("{address}, {line}-я линия"),
            Actor::User { address } => format!("пользователь {address}"),
        }
    }
}

fn names_match(input: &str, machine: &str, display: &str) -> bool {
    let s = input.trim().trim_end_matches(['.', '!']).trim();
    let folded = s.to_lowercase().replace('ё', "е");
    folded == machine
        || folded.replace([' ', '-'], "_") == machine
        || folded == display.to_lowercase().replace('ё', "е")
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
