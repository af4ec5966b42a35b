use super::*;

#[test]
fn example_config_loads() {
    let cfg = Config::from_str_at(
        EXAMPLE,
        Path::new("config.example.toml"),
        Path::new("/srv/x"),
    )
    .unwrap();
    assert_eq!(cfg.tickets.prefix, "TP");
    assert_eq!(cfg.desk.support_address, "support@sed.example.org");
    assert_eq!(cfg.database.path, Path::new("/srv/x/var/ticketd.sqlite3"));
}

#[test]
fn outgoing_helo_name_defaults_to_the_support_domain_and_is_checked() {
    let load = |extra: &str| {
        let text = EXAMPLE.replacen("[outgoing]\n", &format!("[outgoing]\n{extra}"), 1);
        Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x"))
    };
    let cfg = load("").unwrap();
    assert_eq!(cfg.outgoing.helo_name.as_deref(), Some("sed.example.org"));
    let cfg = load("helo_name = \"mail.example.org\"\n").unwrap();
    assert_eq!(cfg.outgoing.helo_name.as_deref(), Some("mail.example.org"));
    // (name, accepted)
    for (name, ok) in [
        ("mx1.example.org", true),
        ("[192.0.2.1]", true),
        ("[IPv6:2001:db8::1]", true),
        ("vm", true),
        ("bad name", false),
        ("-x.example.org", false),
        ("a..b", false),
        ("", false),
        ("x\r\nMAIL", false),
    ] {
        assert_eq!(check_helo_name(name).is_ok(), ok, "{name:?}");
        if !ok {
            let err = load(&format!("helo_name = {name:?}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("outgoing.helo_name"), "{err}");
        }
    }
    // (support address, default)
    for (addr, want) in [
        ("support@sed.example.org", "sed.example.org"),
        ("help@Desk.Example.ORG", "desk.example.org"),
        ("odd@bad_domain", "localhost"),
    ] {
        assert_eq!(default_helo_name(addr), want, "{addr}");
    }
}

#[test]
fn the_mailbox_is_named_main_unless_named_and_keys_its_state_by_name() {
    let load = |extra: &str| {
        let text = EXAMPLE.replacen("[mailbox]\n", &format!("[mailbox]\n{extra}"), 1);
        Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x"))
    };
    let cfg = load("").unwrap();
    assert_eq!(cfg.mailbox.name(), DEFAULT_MAILBOX);
    assert_eq!(
        cfg.mailbox.state_key("imap.last_sync"),
        "mailbox.main.imap.last_sync"
    );
    let cfg = load("name = \"support-2\"\n").unwrap();
    assert_eq!(
        cfg.mailbox.state_key("imap.uidvalidity"),
        "mailbox.support-2.imap.uidvalidity"
    );
    for bad in ["", "a.b", "a b", "почта"] {
        let err = load(&format!("name = {bad:?}\n")).unwrap_err().to_string();
        assert!(err.contains("mailbox.name"), "{bad:?}: {err}");
        assert!(err.contains("c.toml:"), "{bad:?}: file and line: {err}");
    }
}

#[test]
fn first_line_copies_digest_and_its_interval() {
    let load = |copies: &str, secs: &str| {
        let text = EXAMPLE
            .replacen(
                "first_line_copies = \"all\"",
                &format!("first_line_copies = \"{copies}\""),
                1,
            )
            .replacen(
                "digest_interval_secs = 3600",
                &format!("digest_interval_secs = {secs}"),
                1,
            );
        Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x"))
    };
    let cfg = load("digest", "900").unwrap();
    assert_eq!(cfg.desk.first_line_copies, FirstLineCopies::Digest);
    assert_eq!(cfg.desk.digest_interval_secs, 900);
    // (interval, accepted)
    for (secs, ok) in [
        ("60", true),
        ("604800", true),
        ("59", false),
        ("0", false),
        ("604801", false),
    ] {
        let r = load("digest", secs);
        assert_eq!(r.is_ok(), ok, "{secs}");
        if let Err(e) = r {
            let e = e.to_string();
            assert!(
                e.contains("desk.digest_interval_secs") && e.contains("c.toml"),
                "{e}"
            );
        }
    }
    let e = load("weekly", "3600").unwrap_err().to_string();
    // The line of the key and the accepted values.
    assert!(e.contains("c.toml:") && e.contains("`digest`"), "{e}");
}

/// `[mailbox]` is read as the kind it names; every mistake still points at
/// `file:line: mailbox.key` (the line marked `#HERE`, or the section's
/// header for a missing key), and keys the flat section of earlier
/// versions ignored are still ignored, with a warning.
#[test]
fn mailbox_kinds_and_their_errors() {
    let load = |section: &str| {
        let text = EXAMPLE
            .replacen("kind = \"maildir\"\n", "", 1)
            .replacen("path = \"var/mail/support\"\n", "", 1)
            .replacen("[mailbox]\n", &format!("[mailbox]\n{section}"), 1);
        assert!(text.len() != EXAMPLE.len(), "the example's [mailbox] moved");
        (
            text.clone(),
            Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x")),
        )
    };
    const IMAP: &str = "kind = \"imap\"\nhost = \"imap.example.org\"\nuser = \"support\"\npassword_env = \"HOME\"\n";
    // (section, Ok(kind) or Err((key, piece of the reason)))
    type Want = Result<MailboxKind, (&'static str, &'static str)>;
    let cases: Vec<(String, Want)> = vec![
        (
            "kind = \"maildir\"\npath = \"m\"\n".into(),
            Ok(MailboxKind::Maildir),
        ),
        (IMAP.into(), Ok(MailboxKind::Imap)),
        // A key of the other kind that the flat section ignored: ignored.
        (format!("{IMAP}path = \"m\"\n"), Ok(MailboxKind::Imap)),
        (
            "kind = \"maildir\"\npath = \"m\"\nhost = \"imap.example.org\"\n".into(),
            Ok(MailboxKind::Maildir),
        ),
        // Mistakes.
        (
            "kind = \"maildir\" #HERE\n".into(),
            Err(("mailbox.path", "missing key `path`")),
        ),
        (
            "kind = \"imap\"\nuser = \"u\" #HERE\n".into(),
            Err(("mailbox.host", "missing key `host`")),
        ),
        (
            "path = \"m\" #HERE\n".into(),
            Err(("mailbox.kind", "missing key `kind`")),
        ),
        (
            "kind = \"pop3\" #HERE\npath = \"m\"\n".into(),
            Err(("mailbox.kind", "`pop3` is not a mailbox kind")),
        ),
        (
            "kind = 3 #HERE\npath = \"m\"\n".into(),
            Err(("mailbox.kind", "is not a mailbox kind")),
        ),
        (
            "kind = \"maildir\"\npath = \"m\"\npoll_interval_sec = 5 #HERE\n".into(),
            Err((
                "mailbox.poll_interval_sec",
                "did you mean `poll_interval_secs`",
            )),
        ),
        (
            format!("{IMAP}hots = \"x\" #HERE\n"),
            Err(("mailbox.hots", "did you mean `host`")),
        ),
        (
            format!("{IMAP}port = \"993\" #HERE\n"),
            Err(("mailbox.port", "invalid type")),
        ),
        (
            "kind = \"maildir\"\npath = \"m\"\nwake_listen = \"127.0.0.1:8025\" #HERE\n".into(),
            Err(("mailbox.wake_listen", "a key of kind = \"imap\"")),
        ),
        (
            "kind = \"maildir\"\npath = \"m\"\nauth = \"oauth2\" #HERE\n".into(),
            Err(("mailbox.auth", "a key of kind = \"imap\"")),
        ),
        (
            format!("{IMAP}tls = \"none\" #HERE\n"),
            Err(("mailbox.tls", "loopback")),
        ),
        (
            format!("{IMAP}name = \"a b\" #HERE\n"),
            Err(("mailbox.name", "ASCII letters")),
        ),
    ];
    for (section, want) in cases {
        let (text, got) = load(&section);
        match (got, want) {
            (Ok(cfg), Ok(kind)) => {
                assert_eq!(cfg.mailbox.kind(), kind, "{section}");
                let ignored = section.contains("path") && kind == MailboxKind::Imap
                    || section.contains("host") && kind == MailboxKind::Maildir;
                assert_eq!(
                    !cfg.set_aside.is_empty(),
                    ignored,
                    "{section}: {:?}",
                    cfg.set_aside
                );
                if ignored {
                    assert!(
                        cfg.warnings()[0].contains("is ignored"),
                        "{:?}",
                        cfg.warnings()
                    );
                }
            }
            (Err(e), Err((key, reason))) => {
                let msg = e.to_string();
                let want_line = text
                    .lines()
                    .position(|l| l.contains("#HERE"))
                    .map(|i| i + 1)
                    .unwrap();
                let want_line = if reason.starts_with("missing key") {
                    text.lines().position(|l| l == "[mailbox]").unwrap() + 1
                } else {
                    want_line
                };
                assert!(
                    msg.starts_with(&format!("c.toml:{want_line}: {key}: ")),
                    "{section}\n→ {msg}\n(want line {want_line}, key {key})"
                );
                assert!(msg.contains(reason), "{section}\n→ {msg}");
            }
            (got, want) => panic!("{section}: got {:?}, want {want:?}", got.err()),
        }
    }
}

#[test]
fn cluster_lease_secs_is_checked() {
    let load = |secs: &str| {
        let text = EXAMPLE.replacen("lease_secs = 15", &format!("lease_secs = {secs}"), 1);
        Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x"))
    };
    assert_eq!(load("15").unwrap().cluster.lease_secs, 15);
    let cfg = load("3").unwrap();
    assert_eq!(cfg.cluster.renew_every(), std::time::Duration::from_secs(1));
    // (value, accepted)
    for (secs, ok) in [
        ("2", true),
        ("3600", true),
        ("1", false),
        ("0", false),
        ("3601", false),
    ] {
        let r = load(secs);
        assert_eq!(r.is_ok(), ok, "{secs}");
        if let Err(e) = r {
            let e = e.to_string();
            assert!(
                e.contains("cluster.lease_secs") && e.contains("c.toml:"),
                "{e}"
            );
        }
    }
    // Without the section: the default.
    let text = EXAMPLE
        .replacen("[cluster]", "", 1)
        .replacen("lease_secs = 15", "", 1);
    let cfg = Config::from_str_at(&text, Path::new("c.toml"), Path::new("/srv/x")).unwrap();
    assert_eq!(cfg.cluster.lease_secs, DEFAULT_LEASE_SECS);
}
