//! IMAP folders by the server's namespace (issue 11), against the test
//! Dovecot with mailboxes whose inbox namespace has `prefix = INBOX.` and
//! `separator = .` (the users `nsdot@` and `nsdeny@`, see
//! `scripts/servers/setup`), as on Cyrus and Courier: `CREATE Processed` is
//! refused there, so the default `processed_folder` must become
//! `INBOX.Processed`; and a folder the server refuses must leave intake
//! going on (`\Seen`) on one connection, named once in the log and status.

mod support;

use std::time::Duration;

use support::cyrus::retarget;
use support::daemon::{ticketd, Daemon};
use support::{imap, letters, servers, ConfigOpts};

const NSDOT: &str = "nsdot@sed.example.org";
const NSDENY: &str = "nsdeny@sed.example.org";

fn has(letters: &[imap::Stored], tag: &str) -> bool {
    letters
        .iter()
        .any(|l| l.text().contains(&format!("<{tag}@test.example>")))
}

/// A daemon reading `user`'s mailbox on the test Dovecot (implicit TLS).
fn start(name: &str, opts: &ConfigOpts, user: &str) -> (std::path::PathBuf, Daemon) {
    let dir = servers().test_dir(name);
    let config = servers().write_config(&dir, opts);
    let text = std::fs::read_to_string(&config).expect("config");
    let port = servers().imaps_port;
    std::fs::write(&config, retarget(&text, port, port, user)).expect("config");
    let daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "daemon did not connect; log:\n{}",
        daemon.log_text()
    );
    (config, daemon)
}

/// ticketd's own logins as `user` in the Dovecot log (implicit TLS; the
/// test's helpers log in on the plain port).
fn daemon_logins(user: &str) -> usize {
    let log = std::fs::read_to_string(servers().dir.join("dovecot/log")).unwrap_or_default();
    log.lines()
        .filter(|l| {
            l.contains("imap-login: Info: Login:")
                && l.contains(&format!("user=<{user}>"))
                && l.contains(", TLS")
        })
        .count()
}

/// Must show 2: with `prefix = INBOX.` and `separator = .`, the default
/// `processed_folder = "Processed"` works: the letter ends in INBOX.Processed.
#[test]
fn inbox_prefix_namespace_default_processed_folder_works() {
    let (config, daemon) = start("ns-dot", &ConfigOpts::default(), NSDOT);
    let tag = "ns-dot-1";
    imap::append(NSDOT, "INBOX", &letters::appeal("user1@example.com", tag));
    let reply = imap::wait_reply("user1@example.com", tag, Duration::from_secs(15));
    assert!(reply.header("Subject").is_some_and(|s| s.contains("TP-")));
    imap::wait_until(
        NSDOT,
        "INBOX.Processed",
        Duration::from_secs(10),
        "the letter moved",
        |l| has(l, tag),
    );
    assert!(!has(&imap::list(NSDOT, "INBOX"), tag), "no longer in INBOX");
    let log = daemon.log_text();
    assert!(
        log.contains("processed letters go to INBOX.Processed"),
        "{log}"
    );
    assert!(!log.contains("refused"), "{log}");
    let out = ticketd(&config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    assert!(v["imap_error"].is_null(), "{v}");
    daemon.stop();
}

/// A folder the server refuses (`Archive.Processed` has the separator, so
/// it is taken as written; it lies outside the only namespace): intake goes
/// on via `\Seen`, the refusal is in the log and in `status` once, and
/// ticketd logs in once, where it used to reconnect about once a second.
#[test]
fn refused_folder_flags_seen_named_once_without_reconnect_loop() {
    let opts = ConfigOpts {
        processed_folder: "Archive.Processed".into(),
        ..ConfigOpts::default()
    };
    imap::append(
        NSDENY,
        "INBOX",
        &letters::appeal("user2@example.com", "ns-deny-1"),
    );
    let (config, daemon) = start("ns-deny", &opts, NSDENY);
    imap::wait_reply("user2@example.com", "ns-deny-1", Duration::from_secs(15));
    imap::append(
        NSDENY,
        "INBOX",
        &letters::appeal("user2@example.com", "ns-deny-2"),
    );
    imap::wait_reply("user2@example.com", "ns-deny-2", Duration::from_secs(15));
    // A once-a-second reconnect loop would log in three more times meanwhile.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(daemon_logins(NSDENY), 1, "one login, no reconnect loop");
    let stored = imap::list(NSDENY, "INBOX");
    assert!(
        has(&stored, "ns-deny-1") && has(&stored, "ns-deny-2"),
        "the letters stay in INBOX"
    );
    assert!(stored.iter().all(|l| l.seen), "flagged \\Seen");
    let log = daemon.log_text();
    assert_eq!(log.matches("refused by the server").count(), 1, "{log}");
    assert!(
        log.contains("nonexistent namespace"),
        "the server's answer: {log}"
    );
    assert!(
        !log.contains("duplicate"),
        "nothing downloaded twice: {log}"
    );

    let out = ticketd(&config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    let message = v["imap_error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("CREATE Archive.Processed") && message.contains("nonexistent namespace"),
        "{v}"
    );
    daemon.stop();

    // A restart downloads nothing again: the refusal is remembered, so the
    // flagged letters (below the last UID) are not fetched a second time.
    let daemon = Daemon::start(&config);
    imap::append(
        NSDENY,
        "INBOX",
        &letters::appeal("user2@example.com", "ns-deny-3"),
    );
    imap::wait_reply("user2@example.com", "ns-deny-3", Duration::from_secs(15));
    let log = daemon.log_text();
    assert!(!log.contains("duplicate"), "after a restart: {log}");
    daemon.stop();

    // Switched to `after_processing = "flag"`: the refusal leaves `status`.
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("after_processing = \"move\"", "after_processing = \"flag\""),
    )
    .expect("config");
    let out = ticketd(&config, &["run", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ticketd(&config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    assert!(v["imap_error"].is_null(), "{v}");
}
