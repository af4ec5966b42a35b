//! Tests of the status machine and the names (split from status.rs).

use super::*;

fn eng(n: u8) -> Actor {
    Actor::Engineer {
        line: Line::from_number(n).unwrap(),
        address: format!("eng{n}@sed.example.org"),
    }
}
fn user() -> Actor {
    Actor::User {
        address: "u@example.org".into(),
    }
}

#[test]
fn parses_statuses_by_either_name() {
    let cases = [
        ("new", Some(NEW)),
        ("NEW", Some(NEW)),
        ("Новое", Some(NEW)),
        ("новое", Some(NEW)),
        ("  Направлено на инженера ", Some(ASG)),
        ("awaiting_user", Some(AWU)),
        ("awaiting user", Some(AWU)),
        ("ДЕЙСТВИЕ ПОЛЬЗОВАТЕЛЯ", Some(AWU)),
        ("Предложено решение.", Some(SOL)),
        ("solution_proposed", Some(SOL)),
        ("Подтверждено", Some(CNF)),
        ("closed", None),
        ("", None),
    ];
    for (s, want) in cases {
        assert_eq!(Status::parse(s), want, "{s:?}");
    }
    for st in Status::ALL {
        assert_eq!(Status::parse(st.machine_name()), Some(st));
        assert_eq!(Status::parse(st.display_name()), Some(st));
    }
}

#[test]
fn parses_kinds_and_lines() {
    let kinds = [
        ("incident", Some(Kind::Incident)),
        ("Инцидент", Some(Kind::Incident)),
        ("запрос на обслуживание", Some(Kind::ServiceRequest)),
        ("Service_Request", Some(Kind::ServiceRequest)),
        ("консультация", Some(Kind::Consultation)),
        ("вопрос", None),
    ];
    for (s, want) in kinds {
        assert_eq!(Kind::parse(s), want, "{s:?}");
    }
    let lines = [
        ("1", Some(Line::First)),
        (" 2 ", Some(Line::Second)),
        ("3-я", Some(Line::Third)),
        ("вторая", Some(Line::Second)),
        ("third", Some(Line::Third)),
        ("4", None),
        ("0", None),
        ("2x", None),
        ("", None),
    ];
    for (s, want) in lines {
        assert_eq!(Line::parse(s), want, "{s:?}");
    }
    assert_eq!(Line::First.next(), Line::Second);
    assert_eq!(Line::Second.next(), Line::Third);
    assert_eq!(Line::Third.next(), Line::Third);
}

#[test]
fn transition_table() {
    let sys = Actor::System;
    // (from, to, actor, allowed)
    let cases: Vec<(Status, Status, Actor, bool)> = vec![
        (NEW, ASG, sys.clone(), true),
        (NEW, ASG, eng(3), true),
        (NEW, ASG, user(), false),
        (NEW, SOL, eng(1), true),
        (NEW, SOL, eng(3), false),
        (NEW, CNF, eng(1), false),
        (NEW, CNF, user(), false),
        (ASG, AWU, eng(2), true),
        (ASG, AWU, eng(3), false),
        (ASG, AWU, sys.clone(), false),
        (ASG, SOL, eng(2), true),
        (ASG, NEW, eng(1), false),
        (AWU, ASG, user(), true),
        (AWU, NEW, user(), true),
        (AWU, NEW, eng(1), false),
        (NEW, AWU, sys.clone(), true),
        (AWU, ASG, sys.clone(), true),
        (AWU, SOL, eng(1), true),
        (SOL, CNF, user(), true),
        (SOL, CNF, eng(1), true),
        (SOL, CNF, eng(3), false),
        (SOL, CNF, sys.clone(), false),
        (SOL, ASG, eng(3), true),
        (SOL, ASG, user(), true),
        (CNF, ASG, eng(1), false),
        (CNF, ASG, user(), false),
        (CNF, ASG, sys.clone(), true),
        (CNF, NEW, sys.clone(), false),
        (CNF, CNF, user(), false),
        (ASG, ASG, eng(2), true),
        (AWU, AWU, user(), true),
    ];
    for (from, to, actor, ok) in cases {
        assert_eq!(
            transition(from, to, &actor).is_ok(),
            ok,
            "{from} → {to} by {actor}"
        );
    }
}

#[test]
fn refusals_explain_themselves() {
    let cases = [
        (CNF, ASG, eng(1), "окончательный"),
        (NEW, CNF, user(), "не предусмотрен"),
        (ASG, SOL, eng(3), "3-я линия не пишет пользователям"),
        (ASG, AWU, Actor::System, "система не может перевести"),
        (ASG, NEW, eng(2), "не предусмотрен"),
        (CNF, ASG, user(), "окончательный"),
        (
            SOL,
            AWU,
            user(),
            "пользователь не может перевести обращение «Предложено решение» → «Действие пользователя»",
        ),
    ];
    for (from, to, actor, want) in cases {
        let err = transition(from, to, &actor).unwrap_err().to_string();
        assert!(err.contains(want), "{from} → {to} by {actor}: {err}");
        assert!(!err.contains('\n'));
    }
}

#[test]
fn docs_table_matches_the_code() {
    let doc = include_str!("../../docs/workflow.md");
    let rows: Vec<&str> = doc
        .lines()
        .filter(|l| {
            let first = l.split('|').nth(1).unwrap_or("").trim();
            l.starts_with("| ")
                && Status::ALL.iter().any(|s| s.machine_name() == first)
                && l.split('|')
                    .nth(2)
                    .is_some_and(|c| Status::parse(c).is_some())
        })
        .collect();
    let want: Vec<String> = TRANSITIONS
        .iter()
        .map(|(f, t, roles, why)| {
            let who: Vec<&str> = roles.iter().map(|r| r.short()).collect();
            format!("| {f} | {t} | {} | {why} |", who.join(", "))
        })
        .collect();
    assert_eq!(
        rows, want,
        "docs/workflow.md and status::TRANSITIONS differ"
    );
}

#[test]
fn every_table_row_is_reachable_and_described() {
    for (from, to, roles, _) in TRANSITIONS {
        assert_ne!(from, to);
        assert!(!roles.is_empty());
        let line = describe(*from, *to, &Actor::System);
        assert!(
            line.contains(from.display_name()) && line.contains(to.display_name()),
            "{line}"
        );
        assert!(!line.contains("без изменений"), "{line}");
        assert!(!line.chars().any(|c| c.is_ascii_alphabetic()), "{line}");
    }
    assert_eq!(
        describe(NEW, ASG, &Actor::System),
        "Новое → Направлено на инженера (система: направлено на линию или взято в работу)"
    );
    assert_eq!(
        describe(ASG, SOL, &eng(2)),
        "Направлено на инженера → Предложено решение (eng2@sed.example.org, 2-я линия: инженер предлагает решение)"
    );
    assert_eq!(eng(2).to_string(), "line2:eng2@sed.example.org");
}
