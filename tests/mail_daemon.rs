//! `ticketd run` against the real servers (issue 4, "Must show" 1, 2, 6, 7):
//! IMAP intake → ticket → auto-reply over SMTP → LMTP → the user's mailbox,
//! IDLE latency, TLS modes and their errors, SIGHUP and SIGTERM.
//! These tests leave the servers running; outages are in `mail_outage.rs`.

mod support;

use std::time::{Duration, Instant};

use support::daemon::{start_connected, ticketd};
use support::{imap, letters, servers, ConfigOpts, TestTls, SUPPORT};

/// Must show 1 and 2: a letter in the support INBOX becomes a ticket, its
/// auto-reply with the ticket ID reaches the user's mailbox through the real
/// SMTP server, the letter is moved to Processed; with the daemon IDLE the
/// reply is there within 2 s.
#[test]
fn letter_becomes_ticket_and_reply_arrives_within_2s() {
    let (config, mut daemon) = start_connected("roundtrip", &ConfigOpts::default());
    std::thread::sleep(Duration::from_millis(300)); // let it settle into IDLE
    let tag = "roundtrip-1";
    let t0 = Instant::now();
    imap::append(SUPPORT, "INBOX", &letters::appeal("user1@example.com", tag));
    let reply = imap::wait_reply("user1@example.com", tag, Duration::from_secs(10));
    let latency = t0.elapsed();
    eprintln!("append → auto-reply in the user's mailbox: {latency:?}");
    let subject = reply.header("Subject").unwrap_or_default();
    let out = ticketd(&config, &["tickets", "list", "--json"]);
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    let id = regex::Regex::new(r"TP-\d{4}-\d{6}")
        .expect("regex")
        .find(&list)
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| panic!("no ticket listed: {list}"));
    assert!(
        subject.contains(&id) || reply.text().contains(&id),
        "reply names {id}: {subject}"
    );
    assert!(reply.header("Auto-Submitted").is_some());
    let processed = imap::list(SUPPORT, "Processed");
    assert!(
        processed
            .iter()
            .any(|l| l.text().contains(&format!("<{tag}@test.example>"))),
        "the letter is in Processed"
    );
    assert!(
        imap::list(SUPPORT, "INBOX")
            .iter()
            .all(|l| !l.text().contains(tag)),
        "and no longer in INBOX"
    );
    assert!(
        latency < Duration::from_secs(2),
        "IDLE latency {latency:?} ≥ 2 s"
    );
    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
}

/// Must show 6: implicit TLS and STARTTLS with the test CA work; without
/// `ca_file` the self-signed server is refused with an error saying how to
/// fix it; `tls = "none"` to a non-loopback host is refused by check-config.
#[test]
fn tls_modes_ca_file_and_refusals() {
    for (name, tls) in [
        ("d-implicit", TestTls::Implicit),
        ("d-starttls", TestTls::Starttls),
    ] {
        let dir = servers().test_dir(name);
        let opts = ConfigOpts {
            imap_tls: tls,
            ..ConfigOpts::named(name)
        };
        imap::append(
            SUPPORT,
            &opts.folder,
            &letters::appeal("user2@example.com", name),
        );
        let config = servers().write_config(&dir, &opts);
        let out = ticketd(&config, &["run", "--once"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(imap::count(SUPPORT, &opts.processed_folder), 1, "{name}");
        imap::wait_reply("user2@example.com", name, Duration::from_secs(10));
    }

    let dir = servers().test_dir("d-noca");
    let opts = ConfigOpts {
        imap_ca: false,
        folder: "d-noca-in".into(),
        ..ConfigOpts::default()
    };
    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user2@example.com", "d-noca"),
    );
    let config = servers().write_config(&dir, &opts);
    let out = ticketd(&config, &["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "must refuse the self-signed server");
    assert!(
        err.contains("set mailbox.ca_file to the CA that signed the server's certificate"),
        "{err}"
    );
    assert_eq!(imap::count(SUPPORT, "d-noca-in"), 1, "nothing taken");

    let dir = servers().test_dir("d-plain-remote");
    let opts = ConfigOpts {
        imap_tls: TestTls::None,
        imap_host: "mail.example.org".into(),
        ..ConfigOpts::default()
    };
    let config = servers().write_config(&dir, &opts);
    let out = ticketd(&config, &["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "tls = none to a remote host must be refused"
    );
    assert!(
        err.contains("mailbox.tls") && err.contains("loopback"),
        "{err}"
    );
}

/// Must show 7: SIGHUP with a broken config keeps the daemon on the old one
/// (it still answers letters); SIGTERM stops it within 10 s with exit 0.
#[test]
fn sighup_with_broken_config_keeps_running_and_sigterm_stops() {
    let opts = ConfigOpts::named("hup");
    let (config, mut daemon) = start_connected("hup", &opts);
    let good = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        good.replace("[mailbox]", "[mailbox]\nno_such_key = 1"),
    )
    .expect("write");
    daemon.signal("HUP");
    assert!(
        daemon.wait_log("keeping the old config", Duration::from_secs(10)),
        "reload failure not logged:\n{}",
        daemon.log_text()
    );
    assert!(daemon.running(), "the daemon must survive a broken config");
    imap::append(
        SUPPORT,
        "hup-in",
        &letters::appeal("user1@example.com", "hup-1"),
    );
    imap::wait_reply("user1@example.com", "hup-1", Duration::from_secs(10));
    let t0 = Instant::now();
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM: {status:?} after {:?}; log:\n{}",
        t0.elapsed(),
        daemon.log_text()
    );
}
