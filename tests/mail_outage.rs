//! Server outages while `ticketd run` works (issue 4, "Must show" 3 and 4):
//! Dovecot restarted under an IDLE connection; the SMTP server down while
//! letters keep arriving. The tests stop shared servers, so they take turns.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::daemon::{start_connected, ticketd, Daemon};
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

static TURN: Mutex<()> = Mutex::new(());

fn start(name: &str) -> (std::path::PathBuf, Daemon, ConfigOpts) {
    let opts = ConfigOpts::named(name);
    let (config, daemon) = start_connected(name, &opts);
    (config, daemon, opts)
}

/// Must show 3: Dovecot restarted while ticketd IDLEs; ticketd reconnects
/// by itself and a letter appended afterwards is processed within 35 s.
#[test]
fn dovecot_restart_during_idle_reconnects() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_config, mut daemon, opts) = start("restart");
    std::thread::sleep(Duration::from_millis(300));
    // Down for a few seconds, so that ticketd tries to reconnect several
    // times (backoff) — and says so once, not per attempt.
    servers().stop_dovecot();
    std::thread::sleep(Duration::from_secs(4));
    servers().start_dovecot();
    let t0 = Instant::now();
    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user1@example.com", "restart-1"),
    );
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(35),
        "restart-1 processed",
        |l| l.len() == 1,
    );
    eprintln!("processed {:?} after the restart", t0.elapsed());
    imap::wait_reply("user1@example.com", "restart-1", Duration::from_secs(10));
    let log = daemon.log_text();
    assert!(log.contains("IMAP connection restored"), "{log}");
    let warned = log.matches("reconnecting (backoff").count();
    let attempts = log.matches("still failing").count();
    assert_eq!(warned, 1, "the outage is logged once:\n{log}");
    assert!(attempts >= 1, "several attempts were made:\n{log}");
    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
}

/// Must show 4: with the SMTP server down letters still become tickets and
/// replies wait in the outbox; once it is back every reply is delivered,
/// none twice.
#[test]
fn smtp_down_replies_wait_then_all_delivered_once() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (config, mut daemon, opts) = start("smtpdown");
    servers().stop_smtp();
    let tags: Vec<String> = (0..5).map(|i| format!("smtpdown-{i}")).collect();
    let raws: Vec<Vec<u8>> = tags
        .iter()
        .map(|t| letters::appeal("user2@example.com", t))
        .collect();
    imap::append_many(SUPPORT, &opts.folder, &raws);
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(20),
        "5 letters processed",
        |l| l.len() == 5,
    );
    let out = ticketd(&config, &["tickets", "list", "--json"]);
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    let tickets = regex::Regex::new(r"TP-\d{4}-\d{6}").expect("regex");
    let ids: std::collections::HashSet<_> = tickets.find_iter(&list).map(|m| m.as_str()).collect();
    assert_eq!(ids.len(), 5, "five tickets while SMTP is down: {list}");
    std::thread::sleep(Duration::from_secs(2));
    let inbox = imap::list("user2@example.com", "INBOX");
    for t in &tags {
        assert_eq!(
            imap::replies_to(&inbox, t),
            0,
            "no reply can have left for {t}"
        );
    }
    let outbox = ticketd(&config, &["outbox", "list"]);
    assert!(
        outbox.status.success(),
        "{}",
        String::from_utf8_lossy(&outbox.stderr)
    );

    servers().start_smtp();
    let got = imap::wait_until(
        "user2@example.com",
        "INBOX",
        Duration::from_secs(30),
        "all 5 replies",
        |l| tags.iter().all(|t| imap::replies_to(l, t) >= 1),
    );
    std::thread::sleep(Duration::from_secs(3)); // a second copy would show up by now
    let got_later = imap::list("user2@example.com", "INBOX");
    for t in &tags {
        assert_eq!(
            imap::replies_to(&got_later, t),
            1,
            "exactly one reply for {t}"
        );
    }
    assert!(got.len() <= got_later.len());
    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
}
