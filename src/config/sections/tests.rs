use super::compile::array_entry_line;
use crate::config::ConfigError;
use crate::config::EXAMPLE;
use crate::desk::Desk;
use crate::workflow::{Kind, Line, SenderRole, Status, TicketFacts};
use std::path::Path;

const BASE: &str = r#"
[database]
path = "db.sqlite3"
[attachments]
dir = "att"
[mailbox]
kind = "maildir"
path = "mail"
[outgoing]
kind = "file"
dir = "out"
"#;

const LINES: &str = r#"
[[lines]]
number = 1
mailbox = "line1@sed.example.org"
engineers = ["op1@sed.example.org"]

[[lines]]
number = 2
mailbox = "line2@sed.example.org"
engineers = ["eng1@sed.example.org"]
"#;

fn load(text: &str) -> Result<Desk, ConfigError> {
    Desk::from_str_at(text, Path::new("c.toml"), Path::new("/nonexistent/base"))
}

/// The snippet marks the line the error must point at with `#HERE`.
fn assert_error(snippet: &str, key: &str, reason: &str) {
    let text = format!("{BASE}{snippet}");
    let line = text
        .lines()
        .position(|l| l.contains("#HERE"))
        .map(|i| i + 1);
    let err = match load(&text) {
        Ok(_) => panic!("expected an error for {key}: {snippet}"),
        Err(e) => e.to_string(),
    };
    let want = match line {
        Some(n) => format!("c.toml:{n}: {key}: "),
        None => format!(": {key}: "),
    };
    assert!(
        err.starts_with(&want) || (line.is_none() && err.contains(&want)),
        "want `{want}…`, got: {err}"
    );
    assert!(err.contains(reason), "want `{reason}` in: {err}");
}

#[test]
fn a_config_without_desk_sections_loads_and_routes_nothing() {
    let cfg = load(BASE).unwrap();
    let wf = &cfg.workflow;
    assert!(wf.lines.is_empty() && wf.routes.is_empty());
    assert_eq!(wf.default_priority(), "normal");
    assert_eq!(wf.priorities.len(), 4);
    assert_eq!(wf.calendar.time_zone(), chrono_tz::Europe::Kaliningrad);
    assert!(wf.escalation_enabled);
    assert_eq!(wf.loops.max_auto_per_day, 5);
    assert!(wf.secret_file.is_none());
}

#[test]
fn the_example_desk_compiles_and_works() {
    let cfg = Desk::from_str_at(
        EXAMPLE,
        Path::new("config.example.toml"),
        Path::new("/srv/x"),
    )
    .unwrap();
    let wf = &cfg.workflow;
    assert_eq!(
        wf.lines.iter().map(|l| l.line.number()).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        wf.line(Line::Second).map(|l| l.mailbox.as_str()),
        Some("line2@sed.example.org")
    );
    assert_eq!(
        wf.line(Line::Third).map(|l| l.mailbox.as_str()),
        Some("line3@dev.example.org")
    );
    assert!(
        wf.routes.last().is_some_and(|r| r.when.is_unconditional()),
        "a default rule last"
    );
    assert_eq!(
        wf.sender_role("eng1@sed.example.org"),
        SenderRole::Engineer(vec![Line::Second])
    );
    assert_eq!(
        wf.sender_role("line2@sed.example.org"),
        SenderRole::LineMailbox(Line::Second)
    );
    assert_eq!(
        wf.sender_role("support+x@sed.example.org"),
        SenderRole::Support
    );
    assert_eq!(
        wf.identities("ENG1@sed.example.org"),
        [
            "eng1@sed.example.org".to_string(),
            "line2@sed.example.org".to_string()
        ]
    );
    let actor = wf
        .engineer_actor("eng1@sed.example.org", Line::First)
        .unwrap();
    assert_eq!(actor.to_string(), "line2:eng1@sed.example.org");
    assert!(wf.engineer_actor("user@example.org", Line::First).is_none());

    let letter = |subject: &str, description: &str| TicketFacts {
        kind: Kind::Consultation,
        priority: String::new(),
        organization: Some("Министерство финансов Калининградской области".into()),
        sender: "ivanov@minfin.example.org".into(),
        subject: subject.into(),
        description: description.into(),
        has_attachments: false,
        via_mailbox: None,
    };
    // (subject, description, kind, priority, line)
    let cases = [
        (
            "Не работает СЭД",
            "Ошибка при входе в систему",
            Kind::Incident,
            "высокий",
            2,
        ),
        (
            "Как найти документ",
            "Подскажите, где поиск",
            Kind::Consultation,
            "обычный",
            1,
        ),
        (
            "Создать учётную запись",
            "Новый сотрудник",
            Kind::ServiceRequest,
            "обычный",
            1,
        ),
        (
            "ЭЦП",
            "Не работает подпись документа: ошибка КриптоПро",
            Kind::Incident,
            "высокий",
            3,
        ),
    ];
    for (subject, description, kind, prio, line) in cases {
        let mut f = letter(subject, description);
        let c = wf.classify(&f);
        assert_eq!(
            (c.kind, c.priority.as_str()),
            (kind, prio),
            "{subject}: {}",
            c.explain()
        );
        f.kind = c.kind;
        f.priority = c.priority.clone();
        let d = wf.route(&f).unwrap();
        assert_eq!(
            d.action.line.number(),
            line,
            "{subject}: {}",
            wf.explain_route(&f)
        );
    }
    // Russian names in the example; the English aliases keep working.
    for (given, want) in [
        ("low", "низкий"),
        ("Низкий", "низкий"),
        ("HIGH", "высокий"),
        ("критический", "критический"),
    ] {
        let set = wf
            .parse_reply(&format!(
                "Статус: Предложено решение\nПриоритет: {given}\n\nГотово."
            ))
            .unwrap();
        assert_eq!(
            (set.status, set.priority.as_deref()),
            (Some(Status::SolutionProposed), Some(want)),
            "{given}"
        );
    }
    assert_eq!(wf.default_priority(), "обычный");
    assert!(wf.parse_reply("Приоритет: срочный").is_err());
    // "1d" on the example calendar is one working day of 8 hours.
    let created = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 23, 8, 0, 0).unwrap(); // Mon 10:00 local
    assert_eq!(
        wf.deadline(created, "normal").to_rfc3339(),
        wf.deadline(created, "обычный").to_rfc3339(),
    );
    assert_eq!(
        wf.deadline(created, "обычный").to_rfc3339(),
        "2026-11-24T08:00:00+00:00"
    );
}

#[test]
fn rule_errors_name_the_rule_and_its_line() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{LINES}[[routes]]\nwords = [\"x\"]\nline = 2\n[[routes]]\nname = \"bad\"\nregex = \"([a-z\" #HERE\nline = 2\n[[routes]]\nline = 1\n"),
            "routes[2].regex",
            "rule 2 \"bad\" of [[routes]]: does not compile",
        ),
        (
            format!("{LINES}[[routes]]\nkind = [\"incident\"]\nline = 3 #HERE\n[[routes]]\nline = 1\n"),
            "routes[1].line",
            "line 3 is not declared in [[lines]] (declared: 1, 2)",
        ),
        (
            format!("{LINES}[[routes]]\nline = 1\n[[routes]]\nwords = [\"x\"]\nline = 2 #HERE\n"),
            "routes[2].line",
            "unreachable: rule 1 (line 22) before it has no conditions",
        ),
        (
            format!("{LINES}[[routes]]\nline = 1 #HERE\nhas_attachments = true\n"),
            "routes[1].line",
            "no default rule",
        ),
        (
            "[[lines]] #HERE\nnumber = 1\nmailbox = \"line1@sed.example.org\"\n".into(),
            "lines",
            "no [[routes]]",
        ),
        (
            format!("{LINES}[[routes]]\nwords = [\"x\"]\nline = 2\nassignee = \"op1@sed.example.org\" #HERE\n[[routes]]\nline = 1\n"),
            "routes[1].assignee",
            "op1@sed.example.org is not an engineer of line 2",
        ),
        (
            format!("{LINES}[[routes]]\nwords = [\"x\"]\nline = 2\nmailbox = \"nobody\" #HERE\n[[routes]]\nline = 1\n"),
            "routes[1].mailbox",
            "`nobody` is not an e-mail address",
        ),
        (
            format!("{LINES}[[routes]]\nwords = [\"x\"]\nline = 2\nset_priority = \"urgent\" #HERE\n[[routes]]\nline = 1\n"),
            "routes[1].set_priority",
            "unknown priority `urgent`; declared: critical, high, normal, low",
        ),
        (
            format!("{LINES}[[routes]]\npriority = [\"urgent\"] #HERE\nline = 2\n[[routes]]\nline = 1\n"),
            "routes[1].priority",
            "unknown priority `urgent`",
        ),
        (
            format!("{LINES}[[routes]]\nsender = [\"not an address\"] #HERE\nline = 2\n[[routes]]\nline = 1\n"),
            "routes[1].sender",
            "is neither an address",
        ),
        (
            format!("{LINES}[[routes]]\nvia_mailbox = [\"tula\"] #HERE\nline = 2\n[[routes]]\nline = 1\n"),
            "routes[1].via_mailbox",
            "no mailbox is named `tula` (the mailboxes: main)",
        ),
        (
            format!("{LINES}[[routes]]\nwords = [\"\"] #HERE\nline = 2\n[[routes]]\nline = 1\n"),
            "routes[1].words",
            "an empty string would match everything",
        ),
        (
            "[[lines]]\nnumber = 1\nmailbox = \"line1@sed.example.org\"\n[[lines]]\nnumber = 1 #HERE\nmailbox = \"x@sed.example.org\"\n".into(),
            "lines[2].number",
            "line 1 is declared twice",
        ),
        ("[[lines]]\nnumber = 1\nmailbox = \"line1\" #HERE\n".into(), "lines[1].mailbox", "`line1` is not an e-mail address"),
        (
            "[[lines]]\nnumber = 1\nmailbox = \"l1@sed.example.org\"\nengineers = [\"eng1\"] #HERE\n".into(),
            "lines[1].engineers",
            "`eng1` is not an e-mail address",
        ),
        (
            "[[lines]]\nnumber = 1\nmailbox = \"l1@sed.example.org\"\nengineers = [\"a@b.org\", \"A@b.org\"] #HERE\n".into(),
            "lines[1].engineers",
            "listed twice",
        ),
        ("[[lines]] #HERE\nnumber = 2\nmailbox = \"l2@sed.example.org\"\n".into(), "lines", "line 1 must be declared"),
        ("[[priorities]]\nname = \"high\"\ndeadline = \"soon\" #HERE\n".into(), "priorities[1].deadline", "`soon` is not a duration"),
        ("[[priorities]]\nname = \"high\"\ndeadline = \"0h\" #HERE\n".into(), "priorities[1].deadline", "is zero"),
        (
            "[[priorities]]\nname = \"a\"\ndeadline = \"1h\"\ndefault = true\n[[priorities]]\nname = \"b\"\ndeadline = \"1h\"\ndefault = true #HERE\n".into(),
            "priorities[2].default",
            "only one priority may be the default",
        ),
        (
            "[[priorities]]\nname = \"a\"\ndeadline = \"1h\"\n[[priorities]]\nname = \"A\" #HERE\ndeadline = \"2h\"\n".into(),
            "priorities[2].name",
            "declared twice",
        ),
        ("[[priorities]]\nname = \"very high\" #HERE\ndeadline = \"1h\"\n".into(), "priorities[1].name", "one word"),
        (
            "[[priorities]]\nname = \"обычный\"\ndeadline = \"1h\"\n[[priorities]]\nname = \"Normal\" #HERE\ndeadline = \"2h\"\n".into(),
            "priorities[2].name",
            "is `обычный` by another name",
        ),
        ("[[classify]]\nwords = [\"x\"]\npriority = \"urgent\" #HERE\n".into(), "classify[1].priority", "unknown priority `urgent`"),
        ("[[classify]] #HERE\nwords = [\"x\"]\n".into(), "classify[1].kind", "neither `kind` nor `priority`"),
        (
            "[[classify]]\nkind = \"incident\"\n[[classify]]\nwords = [\"x\"]\nkind = \"consultation\" #HERE\n".into(),
            "classify[2].kind",
            "unreachable",
        ),
        ("[[classify]]\nregex = \"(\" #HERE\nkind = \"incident\"\n".into(), "classify[1].regex", "does not compile"),
        ("[calendar]\ntime_zone = \"Europe/Königsberg\" #HERE\n".into(), "calendar.time_zone", "is not a time zone"),
        ("[calendar]\nworking_hours = \"9-18\" #HERE\n".into(), "calendar.working_hours", "is not a time range"),
        ("[calendar]\nlunch = \"08:00-09:30\" #HERE\n".into(), "calendar.lunch", "not inside the working hours"),
        (
            "[calendar]\nweekends = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"] #HERE\n".into(),
            "calendar.weekends",
            "no working time",
        ),
        ("[calendar]\nweekends = [\"holiday\"] #HERE\n".into(), "calendar.weekends", "is not a day of the week"),
        ("[calendar]\nholidays = [\"2026-13-01\"] #HERE\n".into(), "calendar.holidays", "is not a date"),
        (
            "[calendar]\nholidays = [\"2026-01-03\"]\nworking_days = [\"2026-01-03\"] #HERE\n".into(),
            "calendar.working_days",
            "both a holiday and a working day",
        ),
        ("[commands]\nsecret_file = \"no-such-key\" #HERE\n".into(), "commands.secret_file", "cannot read key file"),
    ];
    for (snippet, key, reason) in &cases {
        assert_error(snippet, key, reason);
    }
}

#[test]
fn type_errors_come_from_toml_with_their_line() {
    let cases = [
        (
            "[[lines]]\nnumber = 4 #HERE\nmailbox = \"l@sed.example.org\"\n",
            "line must be 1, 2 or 3",
        ),
        (
            "[[classify]]\nkind = \"вопрос\" #HERE\n",
            "unknown kind `вопрос`",
        ),
        (
            "[[routes]]\nline = 1\nwordz = [\"x\"] #HERE\n",
            "did you mean `words`?",
        ),
        (
            "[loops]\nmax_auto_per_dya = 3 #HERE\n",
            "did you mean `max_auto_per_day`?",
        ),
    ];
    for (snippet, reason) in cases {
        let text = format!("{BASE}{snippet}");
        let line = text.lines().position(|l| l.contains("#HERE")).unwrap() + 1;
        let err = load(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("c.toml:{line}: ")),
            "line {line}: {err}"
        );
        assert!(err.contains(reason), "{err}");
    }
}

#[test]
fn secret_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short");
    std::fs::write(&short, "abc\n").unwrap();
    let good = dir.path().join("good");
    std::fs::write(&good, [7u8; 32]).unwrap();
    let with = |f: &Path| format!("{BASE}[commands]\nsecret_file = \"{}\"\n", f.display());
    let err = load(&with(&short)).unwrap_err().to_string();
    assert!(
        err.contains("commands.secret_file") && err.contains("at least 16 are needed"),
        "{err}"
    );
    let cfg = load(&with(&good)).unwrap();
    assert_eq!(cfg.workflow.secret_file.as_deref(), Some(good.as_path()));
}

#[test]
fn finds_array_entry_lines() {
    let text = "[[routes]]\nline = 1\n\n[[routes]] # second\nname = \"x\"\nregex = \"a\"\n[other]\nregex = 1\n";
    assert_eq!(array_entry_line(text, "routes", 0, Some("line")), 2);
    assert_eq!(array_entry_line(text, "routes", 1, Some("regex")), 6);
    assert_eq!(
        array_entry_line(text, "routes", 1, Some("line")),
        4,
        "absent key: the header"
    );
    assert_eq!(
        array_entry_line(text, "routes", 2, None),
        1,
        "no such entry"
    );
}

/// "Remove the key for none": a `[calendar]` without `lunch` has no break;
/// a desk without `[calendar]` has the default 13:00–14:00 one.
#[test]
fn a_calendar_without_lunch_has_no_lunch_break() {
    use crate::workflow::calendar::add_working_time;
    // 13:30 in Kaliningrad (UTC+2) on a Thursday.
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-03T11:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let minute = chrono::Duration::minutes(1);
    // (calendar section, minutes after 13:30 local when one working minute ends)
    for (section, want) in [
        ("[calendar]\nworking_hours = \"09:00-18:00\"\n", 1),
        (
            "[calendar]\nworking_hours = \"09:00-18:00\"\nlunch = \"13:00-14:00\"\n",
            31,
        ),
        ("", 31),
    ] {
        let cfg = load(&format!("{BASE}{section}")).unwrap();
        let end = add_working_time(start, minute, &cfg.workflow.calendar);
        assert_eq!((end - start).num_minutes(), want, "{section:?}");
    }
}
