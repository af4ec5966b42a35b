//! The desk's sections of the config: `[[lines]]`, `[[priorities]]`,
//! `[calendar]`, `[[classify]]`, `[[routes]]`, `[commands]`,
//! `[escalation]`, `[loops]` — their serde types, and [`compile`], which
//! checks them and builds the [`Workflow`] the pipeline uses.
//!
//! Every error names the rule by its position and its line in the file
//! (`config.toml:131: routes[3].regex: rule 3 "ЭЦП": …`), because an admin
//! with twenty rules must not have to count. All sections are optional: a
//! config without them registers tickets and answers users, and routes
//! nothing (no lines, no rules).

use super::error::ConfigError;
use crate::workflow::calendar::{parse_date, parse_weekday, parse_zone, Calendar, WorkDuration};
use crate::workflow::rules::{is_address, Conditions, RuleRef, SenderPattern};
use crate::workflow::status::{Kind, Line};
use crate::workflow::{
    ClassifyRule, LineDef, LoopPolicy, Priority, RouteAction, RouteRule, Workflow,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
}

impl Default for LoopsConfig {
    fn default() -> Self {
        LoopsConfig {
            max_auto_per_day: LoopPolicy::default().max_auto_per_day,
        }
    }
}

/// The desk sections as they stand in `Config`.
pub struct DeskSections<'a> {
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
}

/// Where errors point: the file, its text.
struct At<'a> {
    path: &'a Path,
    text: &'a str,
}

impl At<'_> {
    /// An error about `key` of the `index`-th (0-based) `[[section]]`.
    fn rule(
        &self,
        section: &str,
        index: usize,
        name: Option<&str>,
        key: &str,
        reason: String,
    ) -> ConfigError {
        let noun = if matches!(section, "routes" | "classify") {
            "rule"
        } else {
            "entry"
        };
        let what = match name {
            Some(n) => format!("{noun} {} \"{n}\"", index + 1),
            None => format!("{noun} {}", index + 1),
        };
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: array_entry_line(self.text, section, index, Some(key)),
            key: format!("{section}[{}].{key}", index + 1),
            reason: format!("{what} of [[{section}]]: {reason}"),
        }
    }

    /// An error about a whole array of tables: points at its first entry.
    fn section(&self, section: &str, reason: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: array_entry_line(self.text, section, 0, None),
            key: section.to_string(),
            reason,
        }
    }

    fn key(&self, dotted: &str, reason: String) -> ConfigError {
        ConfigError::invalid(self.path, self.text, dotted, reason)
    }

    fn rule_ref(&self, section: &str, index: usize, name: &Option<String>) -> RuleRef {
        RuleRef {
            index: index + 1,
            name: name.clone(),
            config_line: array_entry_line(self.text, section, index, None),
        }
    }
}

/// Line (1-based) of `key` inside the `index`-th `[[section]]` of `text`,
/// else of that header, else 1.
pub(crate) fn array_entry_line(
    text: &str,
    section: &str,
    index: usize,
    key: Option<&str>,
) -> usize {
    let header = format!("[[{section}]]");
    let mut seen = 0;
    let mut header_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            if header_line.is_some() {
                break;
            }
            if line.replace(' ', "") == header {
                if seen == index {
                    header_line = Some(i + 1);
                }
                seen += 1;
            }
            continue;
        }
        if let (Some(_), Some(k)) = (header_line, key) {
            if line
                .split_once('=')
                .is_some_and(|(lk, _)| lk.trim().trim_matches('"') == k)
            {
                return i + 1;
            }
        }
    }
    header_line.unwrap_or(1)
}

/// Check the desk sections and build the [`Workflow`].
pub fn compile(s: &DeskSections<'_>, path: &Path, text: &str) -> Result<Workflow, ConfigError> {
    let at = At { path, text };
    let lines = compile_lines(&at, s.lines)?;
    let priorities = compile_priorities(&at, s.priorities)?;
    let calendar = compile_calendar(&at, s.calendar, s.desk_time_zone)?;
    let classify = compile_classify(&at, s.classify, &priorities)?;
    let routes = compile_routes(&at, s.routes, &lines, &priorities)?;
    if !lines.is_empty() && routes.is_empty() {
        return Err(at.section(
            "lines",
            "lines are declared but there are no [[routes]]: add at least a default rule (`[[routes]]` with only `line = 1`)".into(),
        ));
    }
    if let Some(f) = &s.commands.secret_file {
        let bytes = std::fs::read(f).map_err(|e| {
            at.key(
                "commands.secret_file",
                format!("cannot read key file `{}`: {e}; create one with `head -c 32 /dev/urandom > {}`", f.display(), f.display()),
            )
        })?;
        crate::workflow::ReplyKey::from_bytes(&bytes).map_err(|e| {
            at.key(
                "commands.secret_file",
                format!("key file `{}`: {e}", f.display()),
            )
        })?;
    }
    Ok(Workflow {
        support_address: s.support_address.to_string(),
        lines,
        priorities,
        calendar,
        classify,
        routes,
        escalation_enabled: s.escalation.enabled,
        loops: LoopPolicy {
            max_auto_per_day: s.loops.max_auto_per_day,
        },
        secret_file: s.commands.secret_file.clone(),
    })
}

fn compile_lines(at: &At<'_>, lines: &[LineConfig]) -> Result<Vec<LineDef>, ConfigError> {
    let mut out: Vec<LineDef> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let err = |key: &str, reason: String| at.rule("lines", i, None, key, reason);
        if out.iter().any(|o| o.line == l.number) {
            return Err(err(
                "number",
                format!("line {} is declared twice", l.number),
            ));
        }
        if !is_address(&l.mailbox) {
            return Err(err(
                "mailbox",
                format!("`{}` is not an e-mail address", l.mailbox),
            ));
        }
        let mut engineers: Vec<String> = Vec::new();
        for e in &l.engineers {
            if !is_address(e) {
                return Err(err("engineers", format!("`{e}` is not an e-mail address")));
            }
            let e = e.trim().to_lowercase();
            if engineers.contains(&e) {
                return Err(err("engineers", format!("`{e}` is listed twice")));
            }
            engineers.push(e);
        }
        out.push(LineDef {
            line: l.number,
            name: l.name.clone(),
            mailbox: l.mailbox.trim().to_lowercase(),
            engineers,
        });
    }
    if !out.is_empty() && !out.iter().any(|l| l.line == Line::First) {
        return Err(at.section(
            "lines",
            "line 1 must be declared: it registers and coordinates (п. 81)".into(),
        ));
    }
    out.sort_by_key(|l| l.line);
    Ok(out)
}

fn compile_priorities(at: &At<'_>, given: &[PriorityConfig]) -> Result<Vec<Priority>, ConfigError> {
    let defaults;
    let list = if given.is_empty() {
        defaults = default_priorities();
        &defaults[..]
    } else {
        given
    };
    let mut out: Vec<Priority> = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let err = |key: &str, reason: String| at.rule("priorities", i, Some(&p.name), key, reason);
        let name = p.name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err(
                "name",
                "a priority name is one word: letters, digits, `_` or `-`".into(),
            ));
        }
        if out.iter().any(|o| o.name.eq_ignore_ascii_case(name)) {
            return Err(err("name", format!("priority `{name}` is declared twice")));
        }
        let deadline = WorkDuration::parse(&p.deadline).map_err(|e| err("deadline", e))?;
        if p.default && out.iter().any(|o| o.is_default) {
            return Err(err(
                "default",
                "only one priority may be the default".into(),
            ));
        }
        out.push(Priority {
            name: name.to_string(),
            deadline,
            is_default: p.default,
        });
    }
    if !out.iter().any(|p| p.is_default) {
        if let Some(first) = out.first_mut() {
            first.is_default = true;
        }
    }
    Ok(out)
}

fn compile_calendar(
    at: &At<'_>,
    c: &CalendarConfig,
    desk_zone: &str,
) -> Result<Calendar, ConfigError> {
    let (zone_key, zone) = match &c.time_zone {
        Some(z) => ("calendar.time_zone", z.as_str()),
        None => ("desk.time_zone", desk_zone),
    };
    let tz = parse_zone(zone).map_err(|e| at.key(zone_key, e.to_string()))?;
    let weekends = c
        .weekends
        .iter()
        .map(|w| parse_weekday(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at.key("calendar.weekends", e.to_string()))?;
    let dates = |key: &str, list: &[String]| {
        list.iter()
            .map(|d| parse_date(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| at.key(key, e.to_string()))
    };
    let holidays = dates("calendar.holidays", &c.holidays)?;
    let working_days = dates("calendar.working_days", &c.working_days)?;
    if let Some(d) = holidays.iter().find(|d| working_days.contains(d)) {
        return Err(at.key(
            "calendar.working_days",
            format!("{d} is both a holiday and a working day"),
        ));
    }
    Calendar::new(
        tz,
        &c.working_hours,
        c.lunch.as_deref(),
        weekends,
        holidays,
        working_days,
    )
    .map_err(|e| {
        let key = match e {
            crate::workflow::calendar::CalendarError::LunchOutside(_) => "calendar.lunch",
            crate::workflow::calendar::CalendarError::BadRange(ref r)
                if Some(r) == c.lunch.as_ref() =>
            {
                "calendar.lunch"
            }
            crate::workflow::calendar::CalendarError::NoWorkingTime => "calendar.weekends",
            _ => "calendar.working_hours",
        };
        at.key(key, e.to_string())
    })
}

/// The condition keys both rule kinds share.
struct CommonConditions<'a> {
    organization: &'a [String],
    sender: &'a [String],
    words: &'a [String],
    regex: &'a Option<String>,
    has_attachments: Option<bool>,
}

fn compile_conditions(
    c: CommonConditions<'_>,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Conditions, ConfigError> {
    let mut out = Conditions {
        has_attachments: c.has_attachments,
        ..Default::default()
    };
    for s in c.sender {
        let p = SenderPattern::parse(s).ok_or_else(|| {
            err(
                "sender",
                format!(
                    "`{s}` is neither an address (`user@example.org`) nor a domain (`example.org`)"
                ),
            )
        })?;
        out.sender.push(p);
    }
    for (key, list, dest) in [
        ("organization", c.organization, &mut out.organization),
        ("words", c.words, &mut out.words),
    ] {
        if list.iter().any(|w| w.trim().is_empty()) {
            return Err(err(
                key,
                "an empty string would match everything; remove it".into(),
            ));
        }
        dest.extend(list.iter().map(|w| w.trim().to_string()));
    }
    if let Some(r) = c.regex {
        let re = regex::RegexBuilder::new(r)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                err(
                    "regex",
                    format!("does not compile: {}", one_line(&e.to_string())),
                )
            })?;
        out.regex = Some(re);
    }
    Ok(out)
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_priority(name: &str, priorities: &[Priority]) -> Result<String, String> {
    crate::workflow::classify::find_priority(priorities, name)
        .map(|p| p.name.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = priorities.iter().map(|p| p.name.as_str()).collect();
            format!("unknown priority `{name}`; declared: {}", names.join(", "))
        })
}

fn compile_classify(
    at: &At<'_>,
    rules: &[ClassifyConfig],
    prios: &[Priority],
) -> Result<Vec<ClassifyRule>, ConfigError> {
    let mut out: Vec<ClassifyRule> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let err =
            |key: &str, reason: String| at.rule("classify", i, r.name.as_deref(), key, reason);
        let when = compile_conditions(
            CommonConditions {
                organization: &r.organization,
                sender: &r.sender,
                words: &r.words,
                regex: &r.regex,
                has_attachments: r.has_attachments,
            },
            &err,
        )?;
        if r.kind.is_none() && r.priority.is_none() {
            return Err(err(
                "kind",
                "the rule gives neither `kind` nor `priority`".into(),
            ));
        }
        let priority = r
            .priority
            .as_deref()
            .map(|p| check_priority(p, prios))
            .transpose()
            .map_err(|e| err("priority", e))?;
        // Unreachable: an earlier unconditional rule already decides everything this one would.
        if let Some(prev) = out.iter().find(|p| {
            p.when.is_unconditional()
                && (r.kind.is_none() || p.kind.is_some())
                && (priority.is_none() || p.priority.is_some())
        }) {
            return Err(err(
                "kind",
                format!("unreachable: {} before it has no conditions and already decides what this rule gives", prev.at),
            ));
        }
        out.push(ClassifyRule {
            at: at.rule_ref("classify", i, &r.name),
            when,
            kind: r.kind,
            priority,
        });
    }
    Ok(out)
}

fn compile_routes(
    at: &At<'_>,
    rules: &[RouteConfig],
    lines: &[LineDef],
    prios: &[Priority],
) -> Result<Vec<RouteRule>, ConfigError> {
    let mut out: Vec<RouteRule> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let err = |key: &str, reason: String| at.rule("routes", i, r.name.as_deref(), key, reason);
        if let Some(prev) = out.iter().find(|p| p.when.is_unconditional()) {
            return Err(err(
                "line",
                format!(
                    "unreachable: {} before it has no conditions and matches every ticket",
                    prev.at
                ),
            ));
        }
        let mut when = compile_conditions(
            CommonConditions {
                organization: &r.organization,
                sender: &r.sender,
                words: &r.words,
                regex: &r.regex,
                has_attachments: r.has_attachments,
            },
            &err,
        )?;
        when.kind = r.kind.clone();
        for p in &r.priority {
            when.priority
                .push(check_priority(p, prios).map_err(|e| err("priority", e))?);
        }
        let Some(line) = lines.iter().find(|l| l.line == r.line) else {
            let declared: Vec<String> = lines.iter().map(|l| l.line.to_string()).collect();
            return Err(err(
                "line",
                format!(
                    "line {} is not declared in [[lines]] (declared: {})",
                    r.line,
                    if declared.is_empty() {
                        "none".into()
                    } else {
                        declared.join(", ")
                    }
                ),
            ));
        };
        let mailbox = match &r.mailbox {
            Some(m) if !is_address(m) => {
                return Err(err("mailbox", format!("`{m}` is not an e-mail address")))
            }
            Some(m) => m.trim().to_lowercase(),
            None => line.mailbox.clone(),
        };
        let assignee = match &r.assignee {
            Some(a) => {
                let a = a.trim().to_lowercase();
                if !is_address(&a) {
                    return Err(err("assignee", format!("`{a}` is not an e-mail address")));
                }
                if !line.engineers.contains(&a) {
                    return Err(err(
                        "assignee",
                        format!("{a} is not an engineer of line {}", line.line),
                    ));
                }
                Some(a)
            }
            None => None,
        };
        let priority = r
            .set_priority
            .as_deref()
            .map(|p| check_priority(p, prios))
            .transpose()
            .map_err(|e| err("set_priority", e))?;
        out.push(RouteRule {
            at: at.rule_ref("routes", i, &r.name),
            when,
            then: RouteAction {
                line: line.line,
                mailbox,
                assignee,
                priority,
            },
        });
    }
    if let Some(last) = out.last() {
        if !last.when.is_unconditional() {
            let i = out.len() - 1;
            return Err(at.rule(
                "routes",
                i,
                last.at.name.as_deref(),
                "line",
                "no default rule: the last [[routes]] rule must have no conditions (only `line = …`), so that every ticket goes somewhere".into(),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "desk_tests.rs"]
mod tests;
