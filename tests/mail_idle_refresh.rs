//! IDLE is re-issued after `[mailbox] idle_refresh_secs` without news (long
//! IDLEs die silently behind NAT and firewalls), and the connection keeps
//! working across the re-issues: a letter appended afterwards is answered.

mod support;

use std::time::{Duration, Instant};

use support::daemon::start_connected;
use support::{imap, letters, ConfigOpts, SUPPORT};

#[test]
fn idle_is_reissued_and_still_wakes() {
    let opts = ConfigOpts {
        idle_refresh_secs: 1,
        ..ConfigOpts::named("refresh")
    };
    let (_config, daemon) = start_connected("idle-refresh", &opts);
    let t0 = Instant::now();
    while daemon.log_text().matches("IDLE re-issued").count() < 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "IDLE not re-issued every second:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let t1 = Instant::now();
    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user1@example.com", "refresh-1"),
    );
    imap::wait_reply("user1@example.com", "refresh-1", Duration::from_secs(5));
    let took = t1.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the letter after the re-issues was answered, took {took:?}"
    );
    daemon.stop();
}
