//! The SMTP server's refusals while `ticketd run` delivers (issue 4, "SMTP
//! outbox"): a permanent refusal (5xx) marks the letter failed with the
//! server's own answer and is never retried by itself; `ticketd outbox
//! retry` requeues it and the running daemon tries it again; a temporary
//! refusal (4xx) keeps the letter queued and retried with backoff; neither
//! holds up the replies to other users. `ticketd status` shows the time of
//! the last IMAP sync.
//!
//! The test Postfix refuses `refused@example.com` with 550 and
//! `busy@example.com` with 450 at RCPT (scripts/servers/setup).

mod support;

use std::time::{Duration, Instant};

use support::daemon::{start_connected, ticketd};
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

const REFUSED: &str = "refused@example.com";
const BUSY: &str = "busy@example.com";

fn outbox(config: &std::path::Path) -> Vec<serde_json::Value> {
    let out = ticketd(config, &["outbox", "list", "--json"]);
    assert!(
        out.status.success(),
        "outbox list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "outbox list --json is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The outbox row of the reply to `recipient`.
fn row_for(rows: &[serde_json::Value], recipient: &str) -> Option<serde_json::Value> {
    rows.iter()
        .find(|r| {
            r["recipients"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(recipient)))
        })
        .cloned()
}

fn wait_row(
    config: &std::path::Path,
    recipient: &str,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        let rows = outbox(config);
        if let Some(r) = row_for(&rows, recipient) {
            if ok(&r) {
                return r;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{what}: not within 30 s; outbox: {rows:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// How many times the test Postfix refused `recipient` at RCPT so far.
fn refusals(recipient: &str) -> usize {
    let log = servers().dir.join("postfix").join("maillog");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("reject: RCPT") && l.contains(&format!("<{recipient}>")))
        .count()
}

#[test]
fn refusals_fail_or_retry_and_admin_requeues() {
    let opts = ConfigOpts::named("smtperr");
    let (config, daemon) = start_connected("smtperr", &opts);
    let refused_before = refusals(REFUSED);
    imap::append_many(
        SUPPORT,
        &opts.folder,
        &[
            letters::appeal(REFUSED, "smtperr-refused"),
            letters::appeal(BUSY, "smtperr-busy"),
            letters::appeal("user1@example.com", "smtperr-ok"),
        ],
    );

    // Other users' replies are not held up by the refused ones.
    imap::wait_reply("user1@example.com", "smtperr-ok", Duration::from_secs(15));

    // 5xx: failed at once, with the server's answer, attempted once.
    let failed = wait_row(&config, REFUSED, "reply to the refused user failed", |r| {
        r["status"] == "failed"
    });
    let err = failed["last_error"].as_str().unwrap_or_default();
    assert!(
        err.contains("550") && err.contains("no such user here"),
        "the server's answer is kept: {failed:#}"
    );
    assert_eq!(failed["attempts"], 1, "{failed:#}");

    // 4xx: still queued, retried with backoff (base 1 s, cap 2 s).
    let busy = wait_row(&config, BUSY, "reply to the busy user retried", |r| {
        r["attempts"].as_i64().unwrap_or(0) >= 3
    });
    assert_eq!(busy["status"], "pending", "{busy:#}");
    let err = busy["last_error"].as_str().unwrap_or_default();
    assert!(err.contains("450"), "temporary answer kept: {busy:#}");

    // The permanent refusal is not retried by itself.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(refusals(REFUSED) - refused_before, 1, "one attempt only");
    let still = row_for(&outbox(&config), REFUSED).unwrap_or_default();
    assert_eq!(still["status"], "failed", "{still:#}");

    // status: the backlog and the time of the last IMAP sync.
    let st = ticketd(&config, &["status", "--json"]);
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json: {e}: {}",
            String::from_utf8_lossy(&st.stdout)
        )
    });
    assert!(
        st["imap_last_sync"].as_str().is_some_and(|s| s.len() >= 10),
        "last sync shown: {st:#}"
    );
    let text = String::from_utf8_lossy(&ticketd(&config, &["status"]).stdout).into_owned();
    assert!(text.to_lowercase().contains("imap"), "{text}");

    // Requeue without naming a letter is refused with the fix.
    let bare = ticketd(&config, &["outbox", "retry"]);
    assert!(!bare.status.success());
    assert!(String::from_utf8_lossy(&bare.stderr).contains("--all"));

    // The admin requeues the failed letter: the running daemon tries again.
    let id = failed["id"].as_i64().unwrap_or_default().to_string();
    let out = ticketd(&config, &["outbox", "retry", &id]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("requeued 1"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let t0 = Instant::now();
    while refusals(REFUSED) - refused_before < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "the requeued letter was not tried again; log:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_row(&config, REFUSED, "failed again after the retry", |r| {
        r["status"] == "failed"
    });

    daemon.stop();
}
