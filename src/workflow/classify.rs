//! Classification of a new appeal: its kind (Table 3) and its priority, and
//! the deadline that the priority gives it (п. 83).
//!
//! The `[[classify]]` rules of the config are tried in order. Kind and
//! priority are decided separately: the first matching rule that names a
//! kind gives the kind, the first matching rule that names a priority gives
//! the priority. Without a match the kind is «Консультация» and the priority
//! is the one marked `default = true` in `[[priorities]]`.

use super::calendar::{add_working_time, Calendar, WorkDuration};
use super::rules::{Conditions, RuleRef, TicketFacts};
use super::status::Kind;
use chrono::{DateTime, Utc};

/// The kind of an appeal no rule classified.
pub const DEFAULT_KIND: Kind = Kind::Consultation;

/// The four usual priorities in Russian and English: the example config
/// names them in Russian (they appear in letters); the English names of
/// older configs, tickets and engineers' habits (`Приоритет: high`) keep
/// working, and a config with English names accepts the Russian ones.
pub const PRIORITY_ALIASES: [(&str, &str); 4] = [
    ("критический", "critical"),
    ("высокий", "high"),
    ("обычный", "normal"),
    ("низкий", "low"),
];

/// A priority declared in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    /// The name used in rules, commands (`Приоритет: высокий`), letters and
    /// JSON, as declared.
    pub name: String,
    /// Working time from registration to the deadline.
    pub deadline: WorkDuration,
    /// The priority of a ticket no rule gave one to.
    pub is_default: bool,
}

/// One `[[classify]]` rule, compiled.
#[derive(Debug, Clone)]
pub struct ClassifyRule {
    pub at: RuleRef,
    pub when: Conditions,
    pub kind: Option<Kind>,
    pub priority: Option<String>,
}

/// The outcome, with the rules that decided it (`None`: the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub kind: Kind,
    pub priority: String,
    pub kind_rule: Option<RuleRef>,
    pub priority_rule: Option<RuleRef>,
}

impl Classification {
    /// One line for the history, in Russian: `вид «Инцидент» — по правилу
    /// классификации 2 «ЭЦП» (строка 140 конфигурации); приоритет «обычный»
    /// — по умолчанию` (rule names as the admin wrote them).
    pub fn explain(&self) -> String {
        let by = |r: &Option<RuleRef>| match r {
            Some(r) => format!("по {}", r.russian("правилу классификации")),
            None => "по умолчанию".to_string(),
        };
        format!(
            "вид «{}» — {}; приоритет «{}» — {}",
            self.kind.display_name(),
            by(&self.kind_rule),
            self.priority,
            by(&self.priority_rule)
        )
    }
}

/// Classify a new appeal. `facts.kind` and `facts.priority` are not read.
pub fn classify(
    facts: &TicketFacts,
    rules: &[ClassifyRule],
    default_priority: &str,
) -> Classification {
    let mut out = Classification {
        kind: DEFAULT_KIND,
        priority: default_priority.to_string(),
        kind_rule: None,
        priority_rule: None,
    };
    let (mut kind_done, mut prio_done) = (false, false);
    for rule in rules {
        if kind_done && prio_done {
            break;
        }
        let wants_kind = rule.kind.is_some() && !kind_done;
        let wants_prio = rule.priority.is_some() && !prio_done;
        if !(wants_kind || wants_prio) || rule.when.check(facts).is_err() {
            continue;
        }
        if let (true, Some(k)) = (wants_kind, rule.kind) {
            out.kind = k;
            out.kind_rule = Some(rule.at.clone());
            kind_done = true;
        }
        if let (true, Some(p)) = (wants_prio, &rule.priority) {
            out.priority = p.clone();
            out.priority_rule = Some(rule.at.clone());
            prio_done = true;
        }
    }
    out
}

/// The priority named `name` (case-insensitive).
pub fn find_priority<'a>(priorities: &'a [Priority], name: &str) -> Option<&'a Priority> {
    let want = name.trim().to_lowercase();
    priorities
        .iter()
        .find(|p| p.name.to_lowercase() == want)
        .or_else(|| {
            let other = alias_of(&want)?;
            priorities.iter().find(|p| p.name.to_lowercase() == other)
        })
}

/// The other language's name of one of the usual priorities.
pub fn alias_of(name: &str) -> Option<&'static str> {
    let name = name.trim().to_lowercase();
    PRIORITY_ALIASES.iter().find_map(|(ru, en)| {
        if name == *ru {
            Some(*en)
        } else if name == *en {
            Some(*ru)
        } else {
            None
        }
    })
}

/// The deadline of a ticket registered (or re-prioritised) at `created`.
pub fn deadline(created: DateTime<Utc>, priority: &Priority, cal: &Calendar) -> DateTime<Utc> {
    add_working_time(created, cal.resolve(priority.deadline), cal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::rules::SenderPattern;
    use chrono::TimeZone;

    fn facts(subject: &str, sender: &str) -> TicketFacts {
        TicketFacts {
            kind: Kind::Consultation,
            priority: String::new(),
            organization: Some("Агентство по имуществу".into()),
            sender: sender.into(),
            subject: subject.into(),
            description: "Описание".into(),
            has_attachments: false,
            via_mailbox: None,
        }
    }

    fn rule(
        index: usize,
        when: Conditions,
        kind: Option<Kind>,
        priority: Option<&str>,
    ) -> ClassifyRule {
        ClassifyRule {
            at: RuleRef {
                index,
                name: None,
                config_line: 0,
            },
            when,
            kind,
            priority: priority.map(str::to_string),
        }
    }

    fn words(w: &[&str]) -> Conditions {
        Conditions {
            words: w.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn first_match_wins_for_kind_and_priority_separately() {
        let vip = Conditions {
            sender: vec![SenderPattern::Domain("gov39.example.org".into())],
            ..Default::default()
        };
        let rules = vec![
            rule(1, vip, None, Some("high")),
            rule(
                2,
                words(&["не работает", "ошибка"]),
                Some(Kind::Incident),
                Some("normal"),
            ),
            rule(
                3,
                words(&["доступ", "учётн"]),
                Some(Kind::ServiceRequest),
                None,
            ),
            rule(4, words(&["ошибка"]), Some(Kind::Consultation), Some("low")),
        ];
        // (subject, sender, kind, kind rule, priority, priority rule)
        let cases = [
            (
                "Не работает поиск",
                "a@gov39.example.org",
                Kind::Incident,
                Some(2),
                "high",
                Some(1),
            ),
            (
                "Не работает поиск",
                "a@other.org",
                Kind::Incident,
                Some(2),
                "normal",
                Some(2),
            ),
            (
                "Предоставить доступ",
                "a@other.org",
                Kind::ServiceRequest,
                Some(3),
                "normal",
                None,
            ),
            (
                "Учётная запись",
                "a@gov39.example.org",
                Kind::ServiceRequest,
                Some(3),
                "high",
                Some(1),
            ),
            (
                "Как настроить",
                "a@other.org",
                Kind::Consultation,
                None,
                "normal",
                None,
            ),
            (
                "Ошибка",
                "a@other.org",
                Kind::Incident,
                Some(2),
                "normal",
                Some(2),
            ),
        ];
        for (subject, sender, kind, krule, prio, prule) in cases {
            let c = classify(&facts(subject, sender), &rules, "normal");
            assert_eq!(c.kind, kind, "{subject} / {sender}");
            assert_eq!(c.kind_rule.map(|r| r.index), krule, "{subject} / {sender}");
            assert_eq!(c.priority, prio, "{subject} / {sender}");
            assert_eq!(
                c.priority_rule.map(|r| r.index),
                prule,
                "{subject} / {sender}"
            );
        }
    }

    #[test]
    fn explains_and_computes_deadlines() {
        let c = classify(&facts("x", "a@b.org"), &[], "normal");
        assert_eq!(
            c.explain(),
            "вид «Консультация» — по умолчанию; приоритет «normal» — по умолчанию"
        );
        let rules = vec![ClassifyRule {
            at: RuleRef {
                index: 1,
                name: Some("ЭЦП".into()),
                config_line: 140,
            },
            when: Conditions::default(),
            kind: Some(Kind::Incident),
            priority: None,
        }];
        let c = classify(&facts("x", "a@b.org"), &rules, "normal");
        assert_eq!(
            c.explain(),
            "вид «Инцидент» — по правилу классификации 1 «ЭЦП» (строка 140 конфигурации); приоритет «normal» — по умолчанию"
        );

        let prios = [
            Priority {
                name: "high".into(),
                deadline: WorkDuration::parse("4h").unwrap(),
                is_default: false,
            },
            Priority {
                name: "normal".into(),
                deadline: WorkDuration::parse("2d").unwrap(),
                is_default: true,
            },
        ];
        assert_eq!(
            find_priority(&prios, " HIGH ").map(|p| p.name.as_str()),
            Some("high")
        );
        assert!(find_priority(&prios, "urgent").is_none());
        let cal = Calendar::new(
            chrono_tz::UTC,
            "09:00-18:00",
            None,
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [],
            [],
        )
        .unwrap();
        let created = Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap(); // Friday 16:00
        let cases = [
            (
                &prios[0],
                Utc.with_ymd_and_hms(2026, 11, 30, 11, 0, 0).unwrap(),
            ),
            (
                &prios[1],
                Utc.with_ymd_and_hms(2026, 12, 1, 16, 0, 0).unwrap(),
            ),
        ];
        for (p, want) in cases {
            assert_eq!(deadline(created, p, &cal), want, "{}", p.name);
        }
    }
}
