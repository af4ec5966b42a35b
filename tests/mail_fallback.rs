//! A server without IDLE and without MOVE (issue 4, "IMAP source"): ticketd
//! polls at the configured interval and acknowledges a committed letter with
//! UID COPY + `\Deleted` + UID EXPUNGE.
//!
//! The test Dovecot offers such a server on 127.0.0.2 (its capabilities
//! there are cut down to IMAP4rev1 + UIDPLUS; scripts/servers/setup).

mod support;

use std::time::{Duration, Instant};

use support::daemon::Daemon;
use support::{imap, letters, servers, ConfigOpts, TestTls, SUPPORT};

#[test]
fn server_without_idle_or_move_is_polled_and_copied() {
    let opts = ConfigOpts {
        imap_host: "127.0.0.2".into(),
        imap_tls: TestTls::None,
        folder: "basic-in".into(),
        processed_folder: "basic-done".into(),
        poll_interval_secs: 1,
        ..ConfigOpts::default()
    };
    imap::create(SUPPORT, &opts.folder);
    let dir = servers().test_dir("basic");
    let config = servers().write_config(&dir, &opts);
    let mut daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "no connection; log:\n{}",
        daemon.log_text()
    );
    let log = daemon.log_text();
    assert!(
        log.contains("idle=false"),
        "the server offers no IDLE here, ticketd must poll:\n{log}"
    );

    // Appended while ticketd waits between polls: found by the next poll.
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    for i in 0..3 {
        imap::append(
            SUPPORT,
            &opts.folder,
            &letters::appeal("user2@example.com", &format!("basic-{i}")),
        );
    }
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(10),
        "3 letters copied to the processed folder",
        |l| l.len() == 3,
    );
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "a 1 s poll finds letters quickly, took {took:?}"
    );
    // COPY + \Deleted + EXPUNGE leaves nothing behind in the source folder.
    imap::wait_until(
        SUPPORT,
        &opts.folder,
        Duration::from_secs(5),
        "source folder expunged",
        |l| l.is_empty(),
    );
    for i in 0..3 {
        imap::wait_reply(
            "user2@example.com",
            &format!("basic-{i}"),
            Duration::from_secs(10),
        );
    }
    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
}
