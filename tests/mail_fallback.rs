//! A server without IDLE and without MOVE (issue 4, "IMAP source"): ticketd
//! polls at the configured interval and acknowledges a committed letter with
//! UID COPY + `\Deleted` + UID EXPUNGE.
//!
//! The test Dovecot offers such a server on 127.0.0.2 (its capabilities
//! there are cut down to IMAP4rev1 + UIDPLUS; scripts/servers/setup).

mod support;

use std::time::{Duration, Instant};

use support::daemon::start_connected;
use support::{imap, letters, ConfigOpts, TestTls, SUPPORT};

#[test]
fn server_without_idle_or_move_is_polled_and_copied() {
    let opts = ConfigOpts {
        imap_host: "127.0.0.2".into(),
        imap_tls: TestTls::None,
        poll_interval_secs: 1,
        ..ConfigOpts::named("basic")
    };
    let (_config, daemon) = start_connected("basic", &opts);
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
    daemon.stop();
}
