//! The wake hook against the real servers (issue 4, latency): the test
//! Dovecot's event exporter POSTs to ticketd's `[mailbox] wake_listen` the
//! moment a letter for the support mailbox is stored — APPENDed over IMAP
//! or delivered by Postfix over LMTP — so the daemon leaves IDLE at once
//! instead of waiting for Dovecot's IDLE notification (held back 500 ms by
//! Dovecot 2.3). Also: the hook survives SIGHUP, a port in use stops the
//! start with a message naming the key, and check-config refuses a
//! non-loopback address unless `wake_allow_remote` is set.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::daemon::{ticketd, Daemon};
use support::db::sent_count;
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

/// The bound for the test: well under Dovecot's 500 ms IDLE delay.
const BOUND: Duration = Duration::from_millis(300);

/// Run `store` (which puts one letter on the server) and time it until the
/// daemon's SMTP server has accepted one more reply.
fn time_to_accepted(db: &Path, what: &str, store: impl FnOnce()) -> Duration {
    let before = sent_count(db);
    let t = Instant::now();
    store();
    while sent_count(db) <= before {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{what}: no reply accepted"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A letter to the support address handed to Postfix (STARTTLS, test CA),
/// which delivers it into Dovecot over LMTP.
fn send_smtp(raw: &[u8]) {
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{address::Envelope, Address, SmtpTransport, Transport};
    let s = servers();
    let pem = std::fs::read(&s.ca_file).expect("test CA");
    let tls = TlsParameters::builder("localhost".into())
        .add_root_certificate(Certificate::from_pem(&pem).expect("CA pem"))
        .build_rustls()
        .expect("tls params");
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(s.smtp_port)
        .tls(Tls::Required(tls))
        .build();
    let envelope = Envelope::new(
        Some("user1@example.com".parse::<Address>().expect("addr")),
        vec![SUPPORT.parse::<Address>().expect("addr")],
    )
    .expect("envelope");
    mailer.send_raw(&envelope, raw).expect("smtp send");
}

#[test]
fn dovecot_wakes_the_daemon_at_once_for_append_and_lmtp() {
    let dir = servers().test_dir("wake");
    // LMTP delivers into INBOX, so this test watches it (no other test in
    // this binary touches the support INBOX).
    imap::clear(SUPPORT, "INBOX");
    let opts = ConfigOpts {
        wake: true,
        processed_folder: "wake-done".into(),
        ..ConfigOpts::default()
    };
    let config = servers().write_config(&dir, &opts);
    let db = dir.join("ticketd.sqlite3");
    let mut daemon = Daemon::start(&config);
    for needle in ["wake hook listening", "IMAP connected"] {
        assert!(
            daemon.wait_log(needle, Duration::from_secs(15)),
            "no {needle:?}; log:\n{}",
            daemon.log_text()
        );
    }
    std::thread::sleep(Duration::from_millis(300)); // settle into IDLE

    let mut appended = Vec::new();
    for i in 0..5 {
        let tag = format!("wake-append-{i}");
        let raw = letters::appeal("user1@example.com", &tag);
        appended.push(time_to_accepted(&db, &tag, || {
            imap::append(SUPPORT, "INBOX", &raw)
        }));
        imap::wait_reply("user1@example.com", &tag, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("APPEND → reply accepted with the wake hook: {appended:?}");
    assert!(
        daemon.log_text().contains("wake hook: sync requested"),
        "the hook was called; log:\n{}",
        daemon.log_text()
    );
    assert!(
        median(appended.clone()) < BOUND,
        "APPEND → reply accepted {appended:?}: median not under {BOUND:?}; log:\n{}",
        daemon.log_text()
    );

    let mut delivered = Vec::new();
    for i in 0..3 {
        let tag = format!("wake-lmtp-{i}");
        let raw = letters::appeal("user2@example.com", &tag);
        delivered.push(time_to_accepted(&db, &tag, || send_smtp(&raw)));
        imap::wait_reply("user2@example.com", &tag, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("SMTP → LMTP → reply accepted with the wake hook: {delivered:?}");
    assert!(
        median(delivered.clone()) < BOUND,
        "SMTP → LMTP → reply accepted {delivered:?}: median not under {BOUND:?}"
    );

    // A reload closes the listener and binds it again.
    daemon.signal("HUP");
    assert!(
        daemon.wait_log("config reloaded", Duration::from_secs(10)),
        "{}",
        daemon.log_text()
    );
    assert!(daemon.wait_log("IMAP connected", Duration::from_secs(15)));
    std::thread::sleep(Duration::from_millis(300));
    let raw = letters::appeal("user1@example.com", "wake-after-hup");
    let after = time_to_accepted(&db, "after SIGHUP", || imap::append(SUPPORT, "INBOX", &raw));
    imap::wait_reply(
        "user1@example.com",
        "wake-after-hup",
        Duration::from_secs(10),
    );
    eprintln!("after SIGHUP: {after:?}");
    assert!(
        after < Duration::from_secs(2),
        "after SIGHUP {after:?}; log:\n{}",
        daemon.log_text()
    );
    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
}

#[test]
fn a_port_in_use_stops_the_start_and_names_the_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = servers().test_dir("wake-busy");
    let opts = ConfigOpts::named("wake-busy");
    imap::create(SUPPORT, &opts.folder);
    let config = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "[mailbox]\n",
            &format!("[mailbox]\nwake_listen = \"127.0.0.1:{port}\"\n"),
        ),
    )
    .expect("config");
    let mut daemon = Daemon::start(&config);
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| !s.success()),
        "must not run without its hook: {status:?}"
    );
    let log = daemon.log_text();
    assert!(
        log.contains(&format!(
            "mailbox.wake_listen: cannot listen on 127.0.0.1:{port}"
        )),
        "{log}"
    );
    drop(taken);
}

#[test]
fn check_config_judges_wake_listen() {
    let dir = servers().test_dir("wake-check");
    let config = servers().write_config(&dir, &ConfigOpts::default());
    let text = std::fs::read_to_string(&config).expect("config");
    let cases: &[(&str, Result<(), &str>)] = &[
        ("wake_listen = \"127.0.0.1:8025\"", Ok(())),
        ("wake_listen = \"[::1]:8025\"", Ok(())),
        (
            "wake_listen = \"192.0.2.7:8025\"",
            Err("mailbox.wake_allow_remote = true"),
        ),
        (
            "wake_listen = \"192.0.2.7:8025\"\nwake_allow_remote = true",
            Ok(()),
        ),
        ("wake_listen = \"localhost:8025\"", Err("is not IP:PORT")),
        ("wake_listen = \"127.0.0.1:0\"", Err("needs a fixed port")),
        ("wake_listn = \"127.0.0.1:8025\"", Err("wake_listn")),
    ];
    for (lines, want) in cases {
        std::fs::write(
            &config,
            text.replace("[mailbox]\n", &format!("[mailbox]\n{lines}\n")),
        )
        .expect("config");
        let out = ticketd(&config, &["check-config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        match want {
            Ok(()) => assert!(out.status.success(), "{lines}: {err}"),
            Err(part) => {
                assert!(!out.status.success(), "{lines} must be refused");
                assert!(err.contains(part), "{lines}: {err}");
                assert!(err.contains("config.toml:"), "names the file: {err}");
            }
        }
    }
    let maildir = text.replacen(
        "kind = \"imap\"\n",
        "kind = \"maildir\"\npath = \"maildir\"\nwake_listen = \"127.0.0.1:8025\"\n",
        1,
    );
    assert_ne!(maildir, text);
    std::fs::write(&config, maildir).expect("config");
    let out = ticketd(&config, &["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "maildir with wake_listen");
    assert!(
        err.contains("mailbox.wake_listen") && err.contains("kind = \"imap\""),
        "{err}"
    );
}
