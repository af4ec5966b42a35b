//! `[[mailboxes]]` (issue 17): several mailboxes, each named; `[mailbox]`
//! the one-mailbox shorthand; every mistake named `file:line: key`.

use super::*;

/// The example with its `[mailbox]` section taken out.
fn without_mailbox_section() -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in EXAMPLE.lines() {
        if line.starts_with('[') {
            inside = line.trim() == "[mailbox]";
        }
        if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(
        out.lines().all(|l| l.trim() != "[mailbox]"),
        "[mailbox] stayed"
    );
    assert!(out.len() < EXAMPLE.len(), "the example has no [mailbox]");
    out
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_str_at(text, Path::new("c.toml"), Path::new("/srv/x"))
}

const TULA: &str = "[[mailboxes]]\nname = \"tula\"\nkind = \"maildir\"\npath = \"m/tula\"\nsupport_address = \"tula@sed.example.org\"\ndesk_name = \"Тульский филиал\"\n";
const ORYOL: &str =
    "[[mailboxes]]\nname = \"oryol\"\nkind = \"imap\"\nhost = \"imap.example.org\"\nuser = \"oryol\"\npassword_env = \"HOME\"\n";

#[test]
fn several_mailboxes_each_with_its_name_state_and_face() {
    let cfg = load(&format!("{}{TULA}{ORYOL}", without_mailbox_section())).unwrap();
    let names: Vec<&str> = cfg.mailboxes.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["tula", "oryol"]);
    assert_eq!(cfg.mailbox.name(), "tula", "the first is `mailbox`");
    assert_eq!(cfg.mailboxes[0].kind(), MailboxKind::Maildir);
    assert_eq!(cfg.mailboxes[1].kind(), MailboxKind::Imap);
    assert_eq!(
        cfg.mailboxes[1].state_key("imap.last_sync"),
        "mailbox.oryol.imap.last_sync"
    );
    assert_eq!(
        cfg.mailboxes[0].support_address(),
        Some("tula@sed.example.org")
    );
    assert_eq!(cfg.mailboxes[0].desk_name(), Some("Тульский филиал"));
    assert_eq!(cfg.mailboxes[1].support_address(), None);
    let Mailbox::Maildir(m) = &cfg.mailboxes[0] else {
        unreachable!()
    };
    assert_eq!(
        m.path,
        Path::new("/srv/x/m/tula"),
        "paths resolve per entry"
    );
    assert!(cfg.mailbox_named("oryol").is_some());
    assert!(cfg.mailbox_named("main").is_none());
    // The shorthand: one mailbox named "main".
    let cfg = load(EXAMPLE).unwrap();
    assert_eq!(cfg.mailboxes.len(), 1);
    assert_eq!(cfg.mailboxes[0].name(), DEFAULT_MAILBOX);
}

#[test]
fn mailboxes_mistakes_name_file_line_and_key() {
    let base = without_mailbox_section();
    // (what is appended, the key named, a piece of the reason); the line
    // is the one marked #HERE, else the entry's [[mailboxes]] header
    // marked #ENTRY.
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{TULA}[[mailboxes]] #ENTRY\nkind = \"maildir\"\npath = \"m\"\n"),
            "mailboxes[2]",
            "missing key `name`",
        ),
        (
            format!(
                "{TULA}[[mailboxes]]\nname = \"tula\" #HERE\nkind = \"maildir\"\npath = \"m\"\n"
            ),
            "mailboxes[2].name",
            "already the name of entry 1",
        ),
        (
            "[[mailboxes]]\nname = \"tula.1\" #HERE\nkind = \"maildir\"\npath = \"m\"\n".into(),
            "mailboxes[1].name",
            "ASCII letters",
        ),
        (
            "[[mailboxes]]\nname = \"Tula\" #HERE\nkind = \"maildir\"\npath = \"m\"\n".into(),
            "mailboxes[1].name",
            "has capital letters",
        ),
        (
            "[[mailboxes]]\nname = \"\" #HERE\nkind = \"maildir\"\npath = \"m\"\n".into(),
            "mailboxes[1].name",
            "ASCII letters",
        ),
        (
            format!("{TULA}[[mailboxes]] #ENTRY\nname = \"b\"\npath = \"m\"\n"),
            "mailboxes[2].kind",
            "missing key `kind`",
        ),
        (
            "[[mailboxes]]\nname = \"b\"\nkind = \"pop3\" #HERE\n".into(),
            "mailboxes[1].kind",
            "`pop3` is not a mailbox kind",
        ),
        (
            "[[mailboxes]] #ENTRY\nname = \"b\"\nkind = \"maildir\"\n".into(),
            "mailboxes[1].path",
            "missing key `path`",
        ),
        (
            "[[mailboxes]]\nname = \"b\"\nkind = \"maildir\"\npath = \"m\"\nhots = 1 #HERE\n"
                .into(),
            "mailboxes[1].hots",
            "unknown key `hots`",
        ),
        (
            "[[mailboxes]]\nname = \"b\"\nkind = \"maildir\"\npath = \"m\"\nhost = \"x\" #HERE\n"
                .into(),
            "mailboxes[1].host",
            "a key of kind = \"imap\"",
        ),
        (
            format!("{ORYOL}support_address = \"not an address\" #HERE\n"),
            "mailboxes[1].support_address",
            "not an e-mail address",
        ),
        (
            format!("{ORYOL}desk_name = \" \" #HERE\n"),
            "mailboxes[1].desk_name",
            "is empty",
        ),
        (
            format!("{ORYOL}wake_listen = \"127.0.0.1:8025\"\n{}wake_listen = \"127.0.0.1:8025\" #HERE\n", ORYOL.replace("oryol\"", "kursk\"")),
            "mailboxes[2].wake_listen",
            "already the wake_listen of mailbox `oryol`",
        ),
        (
            format!("{TULA}templates_dir = \"/nonexistent/t\" #HERE\n"),
            "mailboxes[1].templates_dir",
            "is not a directory",
        ),
        (
            format!("{TULA}{ORYOL}password_file = \"/nonexistent/pw\" #HERE\n"),
            "mailboxes[2].password_file",
            "does not exist",
        ),
    ];
    for (entries, key, reason) in cases {
        let text = format!("{base}{entries}");
        let msg = match load(&text) {
            Ok(_) => panic!("{entries}: loaded"),
            Err(e) => e.to_string(),
        };
        let line = text
            .lines()
            .position(|l| l.contains("#HERE"))
            .or_else(|| text.lines().position(|l| l.contains("#ENTRY")))
            .map(|i| i + 1)
            .unwrap();
        assert!(
            msg.starts_with(&format!("c.toml:{line}: {key}: ")),
            "{entries}\n→ {msg}\n(want line {line}, key {key})"
        );
        assert!(msg.contains(reason), "{entries}\n→ {msg}");
    }
}

#[test]
fn mailbox_and_mailboxes_together_or_neither_is_an_error() {
    let both = format!("{EXAMPLE}\n{TULA}");
    let msg = load(&both).unwrap_err().to_string();
    let line = both.lines().position(|l| l == "[[mailboxes]]").unwrap() + 1;
    assert!(
        msg.starts_with(&format!("c.toml:{line}: mailboxes: ")),
        "{msg}"
    );
    assert!(
        msg.contains("[mailbox] and [[mailboxes]] are both given"),
        "{msg}"
    );
    let neither = without_mailbox_section();
    let msg = load(&neither).unwrap_err().to_string();
    assert!(msg.starts_with("c.toml:"), "{msg}");
    assert!(msg.contains("mailbox: missing"), "{msg}");
}
