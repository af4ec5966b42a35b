//! Routing: which line takes a ticket, and why.
//!
//! The `[[routes]]` rules of the config are tried in order and the first
//! whose conditions all hold decides: the line (1, 2 or 3), the mailbox the
//! routed letter goes to (the line's own unless the rule names another), an
//! assignee and a priority. The last rule has no conditions (check-config
//! insists), so a valid config always routes. [`explain`] tells, for
//! `ticketd route explain`, which rule matched and why each one before it
//! did not.

use super::rules::{Conditions, RuleRef, TicketFacts};
use super::status::Line;
use std::fmt;

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAction {
    pub line: Line,
    /// Where the routed letter goes: the line's mailbox unless the rule
    /// names another.
    pub mailbox: String,
    /// An engineer who gets the ticket personally.
    pub assignee: Option<String>,
    /// A priority name that replaces the classified one.
    pub priority: Option<String>,
}

/// One `[[routes]]` rule, compiled.
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub at: RuleRef,
    pub when: Conditions,
    pub then: RouteAction,
}

/// Where a ticket goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    pub rule: RuleRef,
    pub action: RouteAction,
    /// Why this rule matched: `kind «Инцидент», text contains «ЭЦП»`.
    pub reason: String,
}

impl RouteDecision {
    /// Why, in Russian, for the history and the routed letter (the line
    /// itself is named by the caller): `по правилу маршрутизации 3 «ЭЦП»
    /// (строка 120 конфигурации): в тексте есть «ЭЦП»; исполнитель eng1@…`.
    /// Rule names stay as the admin wrote them.
    pub fn explain(&self) -> String {
        let a = &self.action;
        let mut s = format!(
            "по {}: {}",
            self.rule.russian("правилу маршрутизации"),
            self.reason
        );
        if let Some(e) = &a.assignee {
            s.push_str(&format!("; исполнитель {e}"));
        }
        if let Some(p) = &a.priority {
            s.push_str(&format!("; приоритет «{p}»"));
        }
        s
    }
}

/// The verdict of one rule on one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleVerdict {
    pub rule: RuleRef,
    pub matched: bool,
    /// Why it matched, or the first condition that failed.
    pub reason: String,
}

impl fmt::Display for RuleVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.matched { "MATCH" } else { "no" };
        write!(f, "{}: {verdict}: {}", self.rule, self.reason)
    }
}

/// The first matching rule's decision; `None` only when no rule matches,
/// which a config that passed check-config (a default rule last) excludes.
pub fn route(facts: &TicketFacts, rules: &[RouteRule]) -> Option<RouteDecision> {
    rules.iter().find_map(|r| {
        r.when.check(facts).ok().map(|reason| RouteDecision {
            rule: r.at.clone(),
            action: r.then.clone(),
            reason,
        })
    })
}

/// Every rule up to and including the one that matches, each with its
/// reason. Rules after the match are not tried and not listed.
pub fn explain(facts: &TicketFacts, rules: &[RouteRule]) -> Vec<RuleVerdict> {
    let mut out = Vec::new();
    for r in rules {
        let (matched, reason) = match r.when.check(facts) {
            Ok(why) => (true, why),
            Err(why) => (false, why),
        };
        out.push(RuleVerdict {
            rule: r.at.clone(),
            matched,
            reason,
        });
        if matched {
            break;
        }
    }
    out
}

/// The text `ticketd route explain` prints: one line per verdict, then the
/// decision.
pub fn render_explanation(facts: &TicketFacts, rules: &[RouteRule]) -> String {
    let mut s = String::new();
    for v in explain(facts, rules) {
        s.push_str(&format!("{v}\n"));
    }
    match route(facts, rules) {
        Some(d) => s.push_str(&format!(
            "=> line {} ({}) {}\n",
            d.action.line,
            d.action.mailbox,
            d.explain()
        )),
        None => s.push_str(
            "=> no rule matched: the config has no default rule (check-config reports this)\n",
        ),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::rules::SenderPattern;
    use crate::workflow::status::Kind;

    fn facts() -> TicketFacts {
        TicketFacts {
            kind: Kind::Consultation,
            priority: "normal".into(),
            organization: Some("Министерство финансов".into()),
            sender: "user@minfin.example.org".into(),
            subject: "Вопрос".into(),
            description: "Как найти документ".into(),
            has_attachments: false,
            via_mailbox: None,
        }
    }

    fn to(line: u8, mailbox: &str) -> RouteAction {
        RouteAction {
            line: Line::from_number(line).unwrap(),
            mailbox: mailbox.into(),
            assignee: None,
            priority: None,
        }
    }

    fn rules() -> Vec<RouteRule> {
        let r = |index: usize, name: &str, when: Conditions, then: RouteAction| RouteRule {
            at: RuleRef {
                index,
                name: Some(name.into()),
                config_line: 100 + index * 10,
            },
            when,
            then,
        };
        vec![
            r(
                1,
                "crypto to developers",
                Conditions {
                    words: vec!["ЭЦП".into(), "криптопро".into()],
                    kind: vec![Kind::Incident],
                    ..Default::default()
                },
                to(3, "line3@dev.example.org"),
            ),
            r(
                2,
                "incidents",
                Conditions {
                    kind: vec![Kind::Incident],
                    ..Default::default()
                },
                to(2, "line2@sed.example.org"),
            ),
            r(
                3,
                "screenshots",
                Conditions {
                    has_attachments: Some(true),
                    ..Default::default()
                },
                RouteAction {
                    assignee: Some("eng1@sed.example.org".into()),
                    ..to(2, "line2@sed.example.org")
                },
            ),
            r(
                4,
                "the governor",
                Conditions {
                    sender: vec![SenderPattern::Address("governor@gov39.example.org".into())],
                    ..Default::default()
                },
                RouteAction {
                    priority: Some("high".into()),
                    ..to(2, "line2@sed.example.org")
                },
            ),
            r(
                5,
                "default",
                Conditions::default(),
                to(1, "line1@sed.example.org"),
            ),
        ]
    }

    #[test]
    fn first_match_wins() {
        let f = facts;
        // (facts, rule, line, assignee, priority)
        type Case = (
            TicketFacts,
            usize,
            u8,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (f(), 5, 1, None, None),
            (
                TicketFacts {
                    kind: Kind::Incident,
                    ..f()
                },
                2,
                2,
                None,
                None,
            ),
            (
                TicketFacts {
                    kind: Kind::Incident,
                    subject: "Ошибка ЭЦП".into(),
                    ..f()
                },
                1,
                3,
                None,
                None,
            ),
            (
                TicketFacts {
                    subject: "ЭЦП".into(),
                    ..f()
                },
                5,
                1,
                None,
                None,
            ),
            (
                TicketFacts {
                    has_attachments: true,
                    ..f()
                },
                3,
                2,
                Some("eng1@sed.example.org"),
                None,
            ),
            (
                TicketFacts {
                    sender: "Governor@gov39.example.org".into(),
                    ..f()
                },
                4,
                2,
                None,
                Some("high"),
            ),
        ];
        for (facts, rule, line, assignee, priority) in cases {
            let d = route(&facts, &rules()).unwrap();
            assert_eq!(d.rule.index, rule, "{facts:?}");
            assert_eq!(d.action.line.number(), line, "{facts:?}");
            assert_eq!(d.action.assignee.as_deref(), assignee);
            assert_eq!(d.action.priority.as_deref(), priority);
        }
        assert!(route(&facts(), &rules()[..4]).is_none());
    }

    #[test]
    fn explains_every_rule_before_the_match() {
        let f = TicketFacts {
            has_attachments: true,
            ..facts()
        };
        let v = explain(&f, &rules());
        let lines: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "rule 1 \"crypto to developers\" (line 110): no: вид «Консультация», а не «Инцидент»",
                "rule 2 \"incidents\" (line 120): no: вид «Консультация», а не «Инцидент»",
                "rule 3 \"screenshots\" (line 130): MATCH: есть вложения",
            ]
        );
        let text = render_explanation(&f, &rules());
        assert!(
            text.ends_with(
                "=> line 2 (line2@sed.example.org) по правилу маршрутизации 3 «screenshots» (строка 130 конфигурации): есть вложения; исполнитель eng1@sed.example.org\n"
            ),
            "{text}"
        );
        let text = render_explanation(&facts(), &rules());
        assert_eq!(text.lines().count(), 6, "{text}");
        assert!(
            text.contains(
                "rule 5 \"default\" (line 150): MATCH: правило по умолчанию, без условий"
            ),
            "{text}"
        );
        let text = render_explanation(&facts(), &[]);
        assert!(text.contains("no default rule"));
    }
}
