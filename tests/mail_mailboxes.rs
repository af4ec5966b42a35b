//! Several mailboxes in one `ticketd run` (issue 17) against the real
//! servers: letters to each become tickets of that mailbox and their
//! replies leave from its own address; a mailbox whose password the server
//! changed shows its error in `status --json` while the other keeps its
//! usual latency, and after the config's password is fixed and SIGHUP its
//! waiting letters become tickets.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::daemon::{ticketd, Daemon};
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

const USER: &str = "user1@example.com";

/// A config with two `[[mailboxes]]`: "main" (the support mailbox, the
/// desk's own address) and `name` (`user`'s mailbox, answering from
/// `user` as "Тульский филиал"), each watching folder `{test}-in`.
fn two_mailboxes(test: &str, name: &str, user: &str) -> (PathBuf, PathBuf) {
    let opts = ConfigOpts::named(test);
    imap::create(SUPPORT, &opts.folder);
    imap::create(user, &opts.folder);
    let dir = servers().test_dir(test);
    let config = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&config).expect("config");
    let start = text
        .find("[mailbox]\n")
        .expect("[mailbox] in the test config");
    let end = text
        .find("[outgoing]")
        .expect("[outgoing] in the test config");
    let block = &text[start + "[mailbox]\n".len()..end];
    let pw2 = dir.join("imap-password-2");
    std::fs::write(&pw2, support::PASSWORD).expect("password file");
    let second = block
        .replace(
            &format!("user = \"{SUPPORT}\""),
            &format!("user = \"{user}\""),
        )
        .replace(
            &format!("{:?}", dir.join("imap-password").display().to_string()),
            &format!("{:?}", pw2.display().to_string()),
        );
    // Its own size bound, a tenth of a megabyte.
    let second = second.replace("max_letter_mb = 25\n", "max_letter_mb = 0.1\n");
    assert!(second.contains(user) && second.contains("imap-password-2"));
    assert!(second.contains("max_letter_mb = 0.1"), "{second}");
    // The second mailbox's own confirmation text.
    let templates = dir.join("templates-2");
    std::fs::create_dir_all(&templates).expect("templates dir");
    std::fs::write(
        templates.join("confirmation.txt"),
        "Обращение {ticket} принято филиалом.\nТема: {subject}\n",
    )
    .expect("template");
    std::fs::write(
        templates.join("too_large.txt"),
        "Филиал не принимает писем больше {limit}: {subject}\n",
    )
    .expect("template");
    // Its letters go to the 2nd line (`via_mailbox`), the others' to the 1st.
    let desk = "[[lines]]\nnumber = 1\nmailbox = \"line1@sed.example.org\"\n\n\
                [[lines]]\nnumber = 2\nmailbox = \"line2@sed.example.org\"\n\n";
    let routes =
        format!("[[routes]]\nvia_mailbox = [\"{name}\"]\nline = 2\n\n[[routes]]\nline = 1\n");
    let text = format!(
        "{}[[mailboxes]]\nname = \"main\"\n{block}\n[[mailboxes]]\nname = \"{name}\"\nsupport_address = \"{user}\"\ndesk_name = \"Тульский филиал\"\ntemplates_dir = {:?}\n{second}\n{}\n{desk}{routes}",
        &text[..start],
        templates.display().to_string(),
        &text[end..]
    );
    std::fs::write(&config, text).expect("config");
    (config, dir.join("ticketd.sqlite3"))
}

/// Start the daemon and wait until both mailboxes are connected.
fn start(config: &Path) -> Daemon {
    let daemon = Daemon::start(config);
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.log_text().matches("IMAP connected").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "both mailboxes did not connect; log:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300)); // into IDLE
    daemon
}

/// The `tickets.mailbox` of the ticket whose subject holds `tag`:
/// `None` while there is no such ticket.
fn mailbox_of(db: &Path, tag: &str) -> Option<Option<String>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    conn.query_row(
        "SELECT mailbox FROM tickets WHERE subject LIKE ?1",
        [format!("%{tag}%")],
        |r| r.get::<_, Option<String>>(0),
    )
    .ok()
}

/// Append a letter tagged `tag` to `user`'s `folder` and wait until it is
/// a ticket; the time that took.
fn letter_to_ticket(db: &Path, user: &str, folder: &str, tag: &str, within: Duration) -> Duration {
    let t0 = Instant::now();
    imap::append(user, folder, &letters::appeal(USER, tag));
    while mailbox_of(db, tag).is_none() {
        assert!(t0.elapsed() < within, "{tag}: no ticket within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    t0.elapsed()
}

fn status(config: &Path) -> serde_json::Value {
    let out = ticketd(config, &["status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status --json")
}

/// `status --json`'s entry for mailbox `name`.
fn mailbox_status(config: &Path, name: &str) -> serde_json::Value {
    let v = status(config);
    v["mailboxes"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no mailbox {name} in status: {v}"))
}

fn listed(config: &Path, mailbox: &str) -> Vec<String> {
    let out = ticketd(config, &["tickets", "list", "--json", "--mailbox", mailbox]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list --json");
    v.as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            assert_eq!(t["mailbox"], mailbox, "{t}");
            format!(
                "{} line {}",
                t["subject"].as_str().unwrap_or_default(),
                t["line"]
            )
        })
        .collect()
}

#[test]
fn each_mailbox_makes_its_own_tickets_and_answers_from_its_own_address() {
    let tula = "tula@sed.example.org";
    let (config, db) = two_mailboxes("mbx-two", "tula", tula);
    let daemon = start(&config);
    let folder = "mbx-two-in";
    letter_to_ticket(&db, SUPPORT, folder, "mbx-main-1", Duration::from_secs(10));
    letter_to_ticket(&db, tula, folder, "mbx-tula-1", Duration::from_secs(10));
    assert_eq!(mailbox_of(&db, "mbx-main-1"), Some(Some("main".into())));
    assert_eq!(mailbox_of(&db, "mbx-tula-1"), Some(Some("tula".into())));
    // The replies: each from its mailbox's address (and envelope).
    let main_reply = imap::wait_reply(USER, "mbx-main-1", Duration::from_secs(15));
    let tula_reply = imap::wait_reply(USER, "mbx-tula-1", Duration::from_secs(15));
    let from = |l: &imap::Stored| l.header("From").unwrap_or_default();
    assert!(
        from(&main_reply).contains(&format!("<{SUPPORT}>")),
        "{}",
        from(&main_reply)
    );
    assert!(
        from(&tula_reply).contains(&format!("<{tula}>")),
        "{}",
        from(&tula_reply)
    );
    let path = |l: &imap::Stored| l.header("Return-Path").unwrap_or_default();
    assert!(
        path(&tula_reply).contains(tula),
        "envelope: {}",
        path(&tula_reply)
    );
    assert!(
        path(&main_reply).contains(SUPPORT),
        "envelope: {}",
        path(&main_reply)
    );
    // The display names: the mailbox's desk_name, else [desk] name.
    let name = |l: &imap::Stored| {
        mail_parser::MessageParser::default()
            .parse(&l.raw)
            .and_then(|m| m.from()?.first()?.name().map(str::to_string))
            .unwrap_or_default()
    };
    assert_eq!(name(&tula_reply), "Тульский филиал");
    assert_ne!(name(&main_reply), "Тульский филиал");
    // The mailbox's own template; the other's is the desk's.
    let body = |l: &imap::Stored| {
        mail_parser::MessageParser::default()
            .parse(&l.raw)
            .and_then(|m| m.body_text(0).map(|b| b.into_owned()))
            .unwrap_or_default()
    };
    assert!(
        body(&tula_reply).contains("принято филиалом"),
        "{}",
        body(&tula_reply)
    );
    assert!(
        !body(&main_reply).contains("принято филиалом"),
        "{}",
        body(&main_reply)
    );
    // A letter over tula's own bound (not main's): refused from tula, in
    // its words.
    imap::append(
        tula,
        "mbx-two-in",
        &letters::big_appeal(USER, "mbx-tula-big", 200_000),
    );
    imap::append(
        SUPPORT,
        "mbx-two-in",
        &letters::big_appeal(USER, "mbx-main-big", 200_000),
    );
    let refusal = imap::wait_reply(USER, "mbx-tula-big", Duration::from_secs(15));
    assert!(
        from(&refusal).contains(&format!("<{tula}>")),
        "{}",
        from(&refusal)
    );
    assert!(
        body(&refusal).contains("Филиал не принимает"),
        "{}",
        body(&refusal)
    );
    let t0 = Instant::now();
    while mailbox_of(&db, "mbx-main-big").is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "main's big letter: no ticket"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(mailbox_of(&db, "mbx-tula-big"), None, "refused, no ticket");
    // Listed by mailbox.
    let main = listed(&config, "main");
    let tula_list = listed(&config, "tula");
    assert!(
        main.iter().any(|s| s.contains("mbx-main-1"))
            && !main.iter().any(|s| s.contains("mbx-tula-1")),
        "{main:?}"
    );
    assert!(
        tula_list.iter().any(|s| s.contains("mbx-tula-1")) && tula_list.len() == 1,
        "{tula_list:?}"
    );
    // Routed by `via_mailbox`: tula's to the 2nd line, main's to the 1st.
    assert!(tula_list[0].ends_with("line 2"), "{tula_list:?}");
    assert!(main.iter().all(|s| s.ends_with("line 1")), "{main:?}");
    // Both in status, no error.
    let st = status(&config);
    let names: Vec<&str> = st["mailboxes"]
        .as_array()
        .expect("mailboxes")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["main", "tula"]);
    for m in st["mailboxes"].as_array().expect("mailboxes") {
        assert!(m["last_sync"].is_string(), "{m}");
        assert!(m["last_error"].is_null(), "{m}");
    }
    daemon.stop();
}

#[test]
fn a_broken_mailbox_delays_no_other_and_recovers_on_sighup() {
    let oryol = "oryol@sed.example.org";
    let (config, db) = two_mailboxes("mbx-broken", "oryol", oryol);
    let daemon = start(&config);
    let folder = "mbx-broken-in";
    letter_to_ticket(&db, oryol, folder, "mbx-oryol-1", Duration::from_secs(10));
    // The server changes oryol's password and cuts its session.
    imap::set_password(oryol, "changed-on-the-server");
    support::oauth::kick(oryol);
    let t0 = Instant::now();
    loop {
        let m = mailbox_status(&config, "oryol");
        if m["last_error"].is_object() {
            let message = m["last_error"]["message"].as_str().unwrap_or_default();
            if message.to_lowercase().contains("authenticat") {
                break;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no error shown: {m}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Letters wait in the broken mailbox ...
    imap::append(oryol, folder, &letters::appeal(USER, "mbx-oryol-2"));
    imap::append(oryol, folder, &letters::appeal(USER, "mbx-oryol-3"));
    // ... while the other one keeps its usual latency.
    for i in 1..=4 {
        let took = letter_to_ticket(
            &db,
            SUPPORT,
            folder,
            &format!("mbx-main-{i}"),
            Duration::from_secs(5),
        );
        eprintln!("main, oryol broken: letter {i} a ticket in {took:?}");
    }
    assert_eq!(mailbox_of(&db, "mbx-oryol-2"), None, "oryol is broken");
    assert!(mailbox_status(&config, "main")["last_error"].is_null());
    assert!(mailbox_status(&config, "oryol")["last_error"].is_object());
    let text = String::from_utf8_lossy(&ticketd(&config, &["status"]).stdout).into_owned();
    assert!(text.contains("oryol: ОШИБКА"), "{text}");
    // The config's password is fixed; SIGHUP.
    std::fs::write(
        config.parent().expect("dir").join("imap-password-2"),
        "changed-on-the-server",
    )
    .expect("password file");
    // Read when the mailbox's intake starts: not before the reload.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mailbox_of(&db, "mbx-oryol-2"), None, "before SIGHUP");
    daemon.signal("HUP");
    let t0 = Instant::now();
    while mailbox_of(&db, "mbx-oryol-2").is_none() || mailbox_of(&db, "mbx-oryol-3").is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "oryol did not recover; log:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("oryol recovered {:?} after SIGHUP", t0.elapsed());
    assert_eq!(mailbox_of(&db, "mbx-oryol-3"), Some(Some("oryol".into())));
    let t0 = Instant::now();
    while !mailbox_status(&config, "oryol")["last_error"].is_null() {
        assert!(t0.elapsed() < Duration::from_secs(10), "error not cleared");
        std::thread::sleep(Duration::from_millis(100));
    }
    letter_to_ticket(&db, SUPPORT, folder, "mbx-main-5", Duration::from_secs(5));
    imap::set_password(oryol, support::PASSWORD);
    daemon.stop();
}
