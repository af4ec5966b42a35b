//! Checking the desk sections and building the [`Workflow`]: lines,
//! priorities, calendar here; the rules in [`super::rules`].

use super::rules::{compile_classify, compile_routes};
use super::WorkflowSections;
use super::{default_priorities, CalendarConfig, LineConfig, PriorityConfig};
use crate::config::ConfigError;
use crate::workflow::calendar::{parse_date, parse_weekday, parse_zone, Calendar, WorkDuration};
use crate::workflow::rules::{is_address, RuleRef};
use crate::workflow::status::Line;
use crate::workflow::{LineDef, LoopPolicy, Priority, Workflow};
use std::path::Path;

/// Where errors point: the file, its text.
pub(super) struct At<'a> {
    path: &'a Path,
    text: &'a str,
}

impl At<'_> {
    /// An error about `key` of the `index`-th (0-based) `[[section]]`.
    pub(super) fn rule(
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
    pub(super) fn section(&self, section: &str, reason: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: array_entry_line(self.text, section, 0, None),
            key: section.to_string(),
            reason,
        }
    }

    pub(super) fn key(&self, dotted: &str, reason: String) -> ConfigError {
        ConfigError::invalid(self.path, self.text, dotted, reason)
    }

    pub(super) fn rule_ref(&self, section: &str, index: usize, name: &Option<String>) -> RuleRef {
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
pub fn compile(s: &WorkflowSections<'_>, path: &Path, text: &str) -> Result<Workflow, ConfigError> {
    let at = At { path, text };
    let lines = compile_lines(&at, s.lines)?;
    let priorities = compile_priorities(&at, s.priorities)?;
    let calendar = compile_calendar(&at, s.calendar, s.desk_time_zone)?;
    let classify = compile_classify(&at, s.classify, &priorities)?;
    let routes = compile_routes(&at, s.routes, &lines, &priorities, &s.mailboxes)?;
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
    let replay_window_secs = match s.commands.replay_window.as_deref().map(str::trim) {
        None => crate::workflow::replay::DEFAULT_WINDOW_SECS,
        Some("0") => 0,
        Some(w) => crate::workflow::WorkDuration::parse(w)
            .map(|d| u64::from(d.days) * 86_400 + d.seconds)
            .map_err(|e| {
                at.key(
                    "commands.replay_window",
                    format!("{e}; a day here is 24 hours; \"0\" turns the check off"),
                )
            })?,
    };
    Ok(Workflow {
        support_address: s.support_address.to_string(),
        replay_window_secs,
        reflection: crate::workflow::reflect::ReflectionPolicy {
            max_auto_per_address_per_day: s.loops.max_auto_per_address_per_day,
            max_new_tickets_per_sender_per_hour: s.loops.max_new_tickets_per_sender_per_hour,
        },
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
        if out
            .iter()
            .any(|o| o.name.to_lowercase() == name.to_lowercase())
        {
            return Err(err("name", format!("priority `{name}` is declared twice")));
        }
        let alias = crate::workflow::classify::alias_of(name);
        if let Some(o) = out
            .iter()
            .find(|o| Some(o.name.to_lowercase().as_str()) == alias)
        {
            return Err(err(
                "name",
                format!(
                    "priority `{name}` is `{}` by another name; declare one of them",
                    o.name
                ),
            ));
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
