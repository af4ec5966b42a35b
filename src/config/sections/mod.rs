//! The desk's sections of the config: `[[lines]]`, `[[priorities]]`,
//! `[calendar]`, `[[classify]]`, `[[routes]]`, `[commands]`,
//! `[escalation]`, `[loops]` — their serde types, and [`compile`], which
//! checks them and builds the [`Workflow`](crate::workflow::compiled::Workflow) the pipeline uses.
//!
//! Every error names the rule by its position and its line in the file
//! (`config.toml:131: routes[3].regex: rule 3 "ЭЦП": …`), because an admin
//! with twenty rules must not have to count. All sections are optional: a
//! config without them registers tickets and answers users, and routes
//! nothing (no lines, no rules).

mod compile;
mod rules;

pub(crate) use compile::array_entry_line;
pub use compile::compile;

use crate::workflow::status::{Kind, Line};
use crate::workflow::LoopPolicy;
use serde::Deserialize;
use std::path::PathBuf;

/// `[[lines]]`: a support line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    /// 1, 2 or 3.
    pub number: Line,
    #[serde(default)]
    pub name: Option<String>,
    pub mailbox: String,
    #[serde(default)]
    pub engineers: Vec<String>,
}

/// `[[priorities]]`: a priority and its deadline in working time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityConfig {
    pub name: String,
    /// `"4h"`, `"1d"`, `"1d 4h"`, `"30m"`.
    pub deadline: String,
    #[serde(default)]
    pub default: bool,
}

/// The built-in priorities when the config declares none.
pub fn default_priorities() -> Vec<PriorityConfig> {
    [
        ("critical", "2h", false),
        ("high", "4h", false),
        ("normal", "1d", true),
        ("low", "3d", false),
    ]
    .into_iter()
    .map(|(n, d, def)| PriorityConfig {
        name: n.into(),
        deadline: d.into(),
        default: def,
    })
    .collect()
}

/// `[calendar]`: the business calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// IANA zone; `desk.time_zone` when absent.
    pub time_zone: Option<String>,
    pub working_hours: String,
    /// A section without the key has no lunch break (as the example says);
    /// only a desk without `[calendar]` gets the default one.
    #[serde(default)]
    pub lunch: Option<String>,
    pub weekends: Vec<String>,
    /// Public holidays, `"YYYY-MM-DD"`.
    pub holidays: Vec<String>,
    /// Transferred working days (a Saturday that is worked), `"YYYY-MM-DD"`.
    pub working_days: Vec<String>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            time_zone: None,
            working_hours: "09:00-18:00".into(),
            lunch: Some("13:00-14:00".into()),
            weekends: vec!["sat".into(), "sun".into()],
            holidays: Vec::new(),
            working_days: Vec::new(),
        }
    }
}

/// `[[classify]]`: conditions, then the kind and/or priority they give.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyConfig {
    pub name: Option<String>,
    #[serde(default)]
    pub organization: Vec<String>,
    #[serde(default)]
    pub sender: Vec<String>,
    #[serde(default)]
    pub words: Vec<String>,
    pub regex: Option<String>,
    pub has_attachments: Option<bool>,
    // --- results ---
    pub kind: Option<Kind>,
    pub priority: Option<String>,
}

/// `[[routes]]`: conditions, then where the ticket goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Vec<Kind>,
    #[serde(default)]
    pub priority: Vec<String>,
    #[serde(default)]
    pub organization: Vec<String>,
    #[serde(default)]
    pub sender: Vec<String>,
    #[serde(default)]
    pub words: Vec<String>,
    pub regex: Option<String>,
    pub has_attachments: Option<bool>,
    /// The ticket came through one of these mailboxes (config names of
    /// `[mailbox]`/`[[mailboxes]]`). Not `mailbox`: that is the action.
    #[serde(default)]
    pub via_mailbox: Vec<String>,
    // --- actions ---
    pub line: Line,
    /// Another mailbox than the line's own.
    pub mailbox: Option<String>,
    pub assignee: Option<String>,
    pub set_priority: Option<String>,
}

/// `[commands]`: engineers' commands by reply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandsConfig {
    /// The HMAC key for proofs of receipt (at least 16 bytes). Without it
    /// commands by e-mail are refused.
    pub secret_file: Option<PathBuf>,
    /// The same command content by the same engineer on the same ticket
    /// within this time is a duplicate (`"7d"`, `"12h"`; `"0"` = off).
    pub replay_window: Option<String>,
}

/// `[escalation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    pub enabled: bool,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        EscalationConfig { enabled: true }
    }
}

/// `[loops]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoopsConfig {
    pub max_auto_per_day: u32,
    /// Automatic letters to one address in 24 hours, all tickets.
    pub max_auto_per_address_per_day: u32,
    /// New tickets from one sender (or naming one Reply-To) in an hour.
    pub max_new_tickets_per_sender_per_hour: u32,
}

impl Default for LoopsConfig {
    fn default() -> Self {
        let r = crate::workflow::reflect::ReflectionPolicy::default();
        LoopsConfig {
            max_auto_per_day: LoopPolicy::default().max_auto_per_day,
            max_auto_per_address_per_day: r.max_auto_per_address_per_day,
            max_new_tickets_per_sender_per_hour: r.max_new_tickets_per_sender_per_hour,
        }
    }
}

/// The desk sections as they stand in `Config`.
pub struct WorkflowSections<'a> {
    pub support_address: &'a str,
    pub desk_time_zone: &'a str,
    pub lines: &'a [LineConfig],
    pub priorities: &'a [PriorityConfig],
    pub calendar: &'a CalendarConfig,
    pub classify: &'a [ClassifyConfig],
    pub routes: &'a [RouteConfig],
    pub commands: &'a CommandsConfig,
    pub escalation: &'a EscalationConfig,
    pub loops: &'a LoopsConfig,
    /// The names of the mailboxes (`via_mailbox` names one of them).
    pub mailboxes: Vec<&'a str>,
}

#[cfg(test)]
mod tests;
