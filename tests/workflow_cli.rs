//! `ticketd route explain` and `check-config` on routing rules, through the
//! binary (issue 6, "Must show" 4).

mod common;

use common::TestDesk;

fn explain(desk: &TestDesk, letter: &str) -> String {
    let path = common::repo().join("fixtures/corpus/letters").join(letter);
    let out = desk.run(
        &["route", "explain", "--letter", &path.display().to_string()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn route_explain_names_the_matching_rule_and_why_the_others_did_not() {
    let desk = TestDesk::new();
    // (letter, the rule that must match, a reason that must be given)
    let cases = [
        ("003-outlook-word-html-cp1251.eml", "=> line 3", "«подпис»"),
        (
            "001-html-table-utf8-qp-alt.eml",
            "=> line 2",
            "rule 1 \"electronic signature to the developer\"",
        ),
        ("028-free-text-no-form.eml", "=> line", "Classification:"),
        ("009-kv-regulation-titles.eml", "=> line", "Facts of letter"),
        (
            "046-apple-mixed-inside-alternative.eml",
            "=> line",
            "rule 1",
        ),
    ];
    for (letter, verdict, reason) in cases {
        let text = explain(&desk, letter);
        assert!(
            text.contains(verdict),
            "{letter}: no `{verdict}` in\n{text}"
        );
        assert!(text.contains(reason), "{letter}: no `{reason}` in\n{text}");
        // Every rule before the match is listed with why it did not match.
        let matched = text
            .lines()
            .position(|l| l.contains("MATCH"))
            .expect("a matching rule");
        for l in text
            .lines()
            .filter(|l| l.starts_with("rule "))
            .take(matched.saturating_sub(2))
        {
            assert!(l.contains(':'), "{letter}: rule line without a reason: {l}");
        }
    }
    // And for a registered ticket, by ID.
    let raw = std::fs::read(
        common::repo().join("fixtures/corpus/letters/001-html-table-utf8-qp-alt.eml"),
    )
    .unwrap();
    let (r, _) = desk.ingest(&raw);
    let id = r["ticket"].as_str().unwrap();
    let out = desk.run(&["route", "explain", id], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Facts of ticket {id}")) && text.contains("=> line 2"),
        "{text}"
    );
}

#[test]
fn check_config_names_the_rule_by_index_and_line() {
    let example = std::fs::read_to_string(common::repo().join("config.example.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "invalid regex",
            example.replacen(
                "name = \"incidents to the 2nd line\"",
                "name = \"incidents to the 2nd line\"\nregex = \"(unclosed\"",
                1,
            ),
            vec!["route", "2", "regex"],
        ),
        (
            "unknown line",
            example.replacen(
                "name = \"incidents to the 2nd line\"\nkind = [\"incident\"]\nline = 2",
                "name = \"incidents to the 2nd line\"\nkind = [\"incident\"]\nline = 4",
                1,
            ),
            vec!["line"],
        ),
        (
            "unreachable rule",
            format!(
                "{example}\n[[routes]]\nname = \"after the default\"\nwords = [\"x\"]\nline = 2\n"
            ),
            vec!["after the default", "unreachable"],
        ),
        (
            "unknown priority",
            example.replacen(
                "kind = \"incident\"\npriority = \"высокий\"",
                "kind = \"incident\"\npriority = \"urgentest\"",
                1,
            ),
            vec!["urgentest"],
        ),
    ];
    let file_line = regex::Regex::new(r"config\.toml:\d+:").unwrap();
    for (what, text, needles) in cases {
        assert_ne!(text, example, "{what}: the case changed nothing");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).unwrap();
        let out = std::process::Command::new(common::BIN)
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{what}: check-config must fail");
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(file_line.is_match(&err), "{what}: no file:line in {err}");
        for n in needles {
            assert!(
                err.contains(&n.to_lowercase()),
                "{what}: error lacks `{n}`: {err}"
            );
        }
    }
}
