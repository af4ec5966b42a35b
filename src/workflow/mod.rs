//! Pure decisions over plain data: what a letter means for the desk.
//!
//! No I/O here: functions take parsed letters, ticket snapshots and config
//! values and return decisions that the pipeline carries out in the store.
//!
//! * [`intake`]: is a letter a new appeal, a follow-up, something to ignore
//!   or to quarantine.
//! * [`thread`]: ticket tags in subjects and identity of a letter.
//! * [`decide`]: an event and the ticket's state → the effects, as data.

pub mod intake;
pub mod thread;

pub use crate::address;
pub mod auth;
pub mod calendar;
pub mod channel;
pub mod classify;
pub mod commands;
pub mod compiled;
pub mod decide;
pub mod duration;
pub mod escalate;
pub mod follow_up;
pub mod lease;
pub mod loops;
pub mod phone;
pub mod plan;
pub mod reflect;
pub mod replay;
pub mod route;
pub mod rules;
pub mod signed;
pub mod speech;
pub mod status;
pub mod token;
pub mod user;

pub use calendar::{add_working_time, working_time_between, Calendar, WorkDuration};
pub use classify::{classify, deadline, Classification, ClassifyRule, Priority};
pub use commands::{is_confirmation, is_status_request, parse_reply, CommandError, CommandSet};
pub use compiled::{LineDef, Workflow};
pub use escalate::{escalate, next_wake, Escalation, EscalationSnapshot};
pub use loops::{may_send_auto, LoopPolicy, SendDecision, SenderRole};
pub use plan::{plan, CommandPlan, TicketState};
pub use route::{explain, route, RouteAction, RouteDecision, RouteRule, RuleVerdict};
pub use rules::{Conditions, RuleRef, SenderPattern, TicketFacts};
pub use status::{transition, Actor, Kind, Line, Refusal, Role, Status};
pub use token::{make_reply_address, verify, ReplyKey, Verification};
pub use user::{user_reply, UserReply};
