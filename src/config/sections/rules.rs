//! Checking `[[classify]]` and `[[routes]]`: conditions compile, names
//! resolve, nothing is unreachable, a default route exists.

use super::compile::At;
use super::{ClassifyConfig, RouteConfig};
use crate::config::ConfigError;
use crate::workflow::rules::{is_address, Conditions, SenderPattern};
use crate::workflow::{ClassifyRule, LineDef, Priority, RouteAction, RouteRule};

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

pub(super) fn compile_classify(
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

pub(super) fn compile_routes(
    at: &At<'_>,
    rules: &[RouteConfig],
    lines: &[LineDef],
    prios: &[Priority],
    mailboxes: &[&str],
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
        for m in &r.via_mailbox {
            if !mailboxes.contains(&m.as_str()) {
                return Err(err(
                    "via_mailbox",
                    format!(
                        "no mailbox is named `{m}` (the mailboxes: {}); name one of [mailbox]/[[mailboxes]]",
                        mailboxes.join(", ")
                    ),
                ));
            }
            when.via_mailbox.push(m.clone());
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
