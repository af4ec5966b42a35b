//! Pure decisions over plain data: what a letter means for the desk.
//!
//! No I/O here: functions take parsed letters, ticket snapshots and config
//! values and return decisions that the store carries out.

pub mod status;

pub use status::{transition, Actor, Kind, Line, Refusal, Role, Status};
pub mod calendar;
pub use calendar::{add_working_time, Calendar, WorkDuration};
pub mod rules;
pub use rules::{Conditions, RuleRef, SenderPattern, TicketFacts};
pub mod classify;
pub use classify::{classify, deadline, Classification, ClassifyRule, Priority};
pub mod route;
pub use route::{explain, route, RouteAction, RouteDecision, RouteRule, RuleVerdict};
pub mod commands;
pub use commands::{is_confirmation, is_status_request, parse_reply, CommandError, CommandSet};
pub mod token;
pub use token::{make_reply_address, verify, ReplyKey, Verification};
pub mod escalate;
pub use escalate::{escalate, next_wake, Escalation, EscalationSnapshot};
pub mod desk;
pub mod loops;
pub use desk::{LineDef, Workflow};
pub use loops::{may_send_auto, LoopPolicy, SendDecision, SenderRole};
