//! IMAP intake against Cyrus IMAP (issue 11, "Must show" 2): the second
//! IMAP server of the interoperability matrix. Cyrus' personal namespace is
//! `INBOX.` with `.` as the separator, where `CREATE Processed` is refused:
//! ticketd must find `INBOX.Processed` through NAMESPACE, and a folder the
//! server refuses must not stop intake or make ticketd reconnect in a loop.
//! Replies go through the test Postfix into Dovecot and are read back there.

mod support;

use std::time::Duration;

use support::cyrus::{self, cyrus};
use support::daemon::{ticketd, Daemon};
use support::{imap, letters, servers, ConfigOpts, TestTls, SUPPORT};

fn has(letters: &[imap::Stored], tag: &str) -> bool {
    letters
        .iter()
        .any(|l| l.text().contains(&format!("<{tag}@test.example>")))
}

fn start(name: &str, opts: &ConfigOpts) -> (std::path::PathBuf, Daemon) {
    let dir = servers().test_dir(name);
    let config = cyrus().write_config(&dir, opts, SUPPORT);
    let daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "daemon did not connect to Cyrus; log:\n{}",
        daemon.log_text()
    );
    (config, daemon)
}

/// Letter in → ticket → moved to `INBOX.Processed` (the default
/// `processed_folder` resolved through NAMESPACE) → reply delivered; over
/// STARTTLS with the test CA.
#[test]
fn cyrus_letter_becomes_ticket_is_moved_and_answered() {
    let opts = ConfigOpts {
        imap_tls: TestTls::Starttls,
        ..ConfigOpts::default()
    };
    let (config, daemon) = start("cyrus-move", &opts);
    let tag = "cyrus-move-1";
    cyrus::append(SUPPORT, "INBOX", &letters::appeal("user1@example.com", tag));
    let reply = imap::wait_reply("user1@example.com", tag, Duration::from_secs(20));
    let out = ticketd(&config, &["tickets", "list", "--json"]);
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    let id = regex::Regex::new(r"TP-\d{4}-\d{6}")
        .expect("regex")
        .find(&list)
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| panic!("no ticket listed: {list}"));
    assert!(
        reply.header("Subject").unwrap_or_default().contains(&id),
        "the reply names {id}"
    );
    cyrus::wait_until(
        SUPPORT,
        "INBOX.Processed",
        Duration::from_secs(10),
        "the letter moved",
        |l| has(l, tag),
    );
    assert!(
        !has(&cyrus::list(SUPPORT, "INBOX"), tag),
        "and no longer in INBOX"
    );
    let log = daemon.log_text();
    assert!(
        log.contains("processed letters go to INBOX.Processed"),
        "{log}"
    );
    assert!(!log.contains("refused by the server"), "{log}");
    daemon.stop();
}

/// `after_processing = "flag"` over implicit TLS with `ticketd run --once`:
/// the letter becomes a ticket and stays in INBOX, flagged `\Seen`; a second
/// run downloads nothing again.
#[test]
fn cyrus_flag_mode_over_implicit_tls() {
    let user = "user1@example.com";
    let opts = ConfigOpts {
        imap_tls: TestTls::Implicit,
        folder: "INBOX.flag-in".into(),
        after_processing: "flag".into(),
        ..ConfigOpts::default()
    };
    let dir = servers().test_dir("cyrus-flag");
    // user1's Cyrus mailbox is the one read here (the support one has its
    // own tests); its replies still go to user2 on Dovecot.
    let config = cyrus().write_config(&dir, &opts, user);
    let tag = "cyrus-flag-1";
    cyrus::append(
        user,
        "INBOX.flag-in",
        &letters::appeal("user2@example.com", tag),
    );
    let out = ticketd(&config, &["run", "--once"]);
    assert!(
        out.status.success(),
        "run --once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = cyrus::list(user, "INBOX.flag-in");
    assert!(
        stored.iter().any(|l| l.seen && l.text().contains(tag)),
        "flagged \\Seen and left in place"
    );
    imap::wait_reply("user2@example.com", tag, Duration::from_secs(20));
    let again = ticketd(&config, &["run", "--once"]);
    let text = String::from_utf8_lossy(&again.stdout).into_owned()
        + &String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{text}");
    assert!(!text.contains("duplicate"), "nothing fetched again: {text}");
}

/// A folder Cyrus refuses (`Archive.Processed` contains the separator, so
/// it is taken as written, and lies outside the user's namespace): the
/// refusal is named once with the server's answer, `status` shows it,
/// letters are flagged `\Seen` instead and intake goes on, on one
/// connection (no reconnect loop).
#[test]
fn cyrus_refused_folder_falls_back_to_seen_without_reconnecting() {
    let opts = ConfigOpts {
        imap_tls: TestTls::None,
        folder: "INBOX.deny-in".into(),
        processed_folder: "Archive.Processed".into(),
        ..ConfigOpts::default()
    };
    cyrus::append(
        SUPPORT,
        "INBOX.deny-in",
        &letters::appeal("user1@example.com", "cyrus-deny-1"),
    );
    let (config, daemon) = start("cyrus-deny", &opts);
    imap::wait_reply("user1@example.com", "cyrus-deny-1", Duration::from_secs(20));
    cyrus::append(
        SUPPORT,
        "INBOX.deny-in",
        &letters::appeal("user1@example.com", "cyrus-deny-2"),
    );
    imap::wait_reply("user1@example.com", "cyrus-deny-2", Duration::from_secs(20));
    // Long enough for a once-a-second reconnect loop to show.
    std::thread::sleep(Duration::from_secs(3));
    let stored = cyrus::list(SUPPORT, "INBOX.deny-in");
    assert_eq!(stored.len(), 2, "both letters stay in the folder");
    assert!(stored.iter().all(|l| l.seen), "flagged \\Seen");
    let log = daemon.log_text();
    assert_eq!(
        log.matches("refused by the server").count(),
        1,
        "the refusal is named once:\n{log}"
    );
    assert!(
        log.contains("Permission denied"),
        "with the server's answer"
    );
    assert_eq!(
        log.matches("IMAP connected").count(),
        1,
        "one connection:\n{log}"
    );
    assert!(!log.contains("reconnecting"), "no reconnect:\n{log}");
    assert!(
        !log.contains("duplicate"),
        "nothing downloaded twice:\n{log}"
    );

    let out = ticketd(&config, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("Archive.Processed") && text.contains("Permission denied"),
        "status names the refusal: {text}"
    );
    let out = ticketd(&config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    let err = &v["imap_error"];
    assert!(
        err["message"].as_str().is_some_and(
            |m| m.contains("CREATE Archive.Processed") && m.contains("Permission denied")
        ),
        "{v}"
    );
    assert!(
        err["since"].as_str().is_some_and(|s| s.starts_with("20")),
        "{v}"
    );
    daemon.stop();
}

/// The folder exists but the mailbox may not insert into it (Cyrus ACL
/// without `i`): `UID MOVE` is refused, the letter is flagged `\Seen`, the
/// refusal is named once and shown in `status`. Once the rights are back,
/// the next connection moves again, the error leaves `status`, and the
/// letters flagged meanwhile are moved too (fetched once more, recognised
/// as already processed).
#[test]
fn cyrus_refused_move_falls_back_and_recovers_after_the_fix() {
    let folder = "INBOX.locked-done";
    let opts = ConfigOpts {
        imap_tls: TestTls::None,
        folder: "INBOX.locked-in".into(),
        processed_folder: folder.into(),
        ..ConfigOpts::default()
    };
    cyrus::append(
        SUPPORT,
        "INBOX.locked-in",
        &letters::appeal("user2@example.com", "cyrus-locked-1"),
    );
    cyrus::command(SUPPORT, &format!("CREATE {folder}"));
    // Read, keep admin (Cyrus keeps the owner's `a`), no insert.
    cyrus::command(SUPPORT, &format!("SETACL {folder} {SUPPORT} lrsa"));
    let (config, daemon) = start("cyrus-locked", &opts);
    imap::wait_reply(
        "user2@example.com",
        "cyrus-locked-1",
        Duration::from_secs(20),
    );
    cyrus::wait_until(
        SUPPORT,
        "INBOX.locked-in",
        Duration::from_secs(10),
        "the letter flagged",
        |l| {
            l.iter()
                .any(|l| l.seen && l.text().contains("cyrus-locked-1"))
        },
    );
    cyrus::append(
        SUPPORT,
        "INBOX.locked-in",
        &letters::appeal("user2@example.com", "cyrus-locked-2"),
    );
    imap::wait_reply(
        "user2@example.com",
        "cyrus-locked-2",
        Duration::from_secs(20),
    );
    let log = daemon.log_text();
    assert_eq!(log.matches("refused by the server").count(), 1, "{log}");
    assert!(
        log.contains("UID MOVE INBOX.locked-done refused by the server: NO Permission denied"),
        "{log}"
    );
    assert!(!log.contains("reconnecting"), "{log}");
    let out = ticketd(&config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    assert!(
        v["imap_error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("UID MOVE INBOX.locked-done")),
        "{v}"
    );
    daemon.stop();

    // The admin gives the right back; the next run moves new letters again.
    cyrus::command(
        SUPPORT,
        &format!("SETACL {folder} {SUPPORT} lrswipkxtecdan"),
    );
    cyrus::append(
        SUPPORT,
        "INBOX.locked-in",
        &letters::appeal("user2@example.com", "cyrus-locked-3"),
    );
    let daemon = Daemon::start(&config);
    imap::wait_reply(
        "user2@example.com",
        "cyrus-locked-3",
        Duration::from_secs(20),
    );
    cyrus::wait_until(
        SUPPORT,
        folder,
        Duration::from_secs(10),
        "the new letter moved",
        |l| has(l, "cyrus-locked-3"),
    );
    assert!(daemon.wait_log(
        "letters are moved to INBOX.locked-done again",
        Duration::from_secs(5)
    ));
    let out = ticketd(&config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    assert!(v["imap_error"].is_null(), "cleared: {v}");
    // The letters flagged meanwhile follow: each fetched once more,
    // recognised as already processed, and moved.
    let moved = cyrus::wait_until(
        SUPPORT,
        folder,
        Duration::from_secs(10),
        "all three moved",
        |l| {
            ["cyrus-locked-1", "cyrus-locked-2", "cyrus-locked-3"]
                .iter()
                .all(|t| has(l, t))
        },
    );
    assert_eq!(moved.len(), 3);
    assert!(cyrus::list(SUPPORT, "INBOX.locked-in").is_empty());
    let log = daemon.log_text();
    for tag in ["cyrus-locked-1", "cyrus-locked-2"] {
        let line = format!("duplicate letter, already processed message_id=\"{tag}@test.example\"");
        assert_eq!(
            log.matches(&line).count(),
            1,
            "{tag} fetched once more, once: {log}"
        );
    }
    let out = ticketd(&config, &["tickets", "list", "--json"]);
    let tickets = String::from_utf8_lossy(&out.stdout)
        .matches("\"TP-")
        .count();
    assert_eq!(tickets, 3, "three letters, three tickets");
    daemon.stop();
}
