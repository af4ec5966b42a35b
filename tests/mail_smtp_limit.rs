//! A per-session message limit crossed without delay, against Postfix
//! (issue 11): servers end a session after so many letters (OpenSMTPD 100,
//! Exchange and others their own) by answering MAIL with 452. ticketd
//! goes on at once over a new connection: 250 letters in one `ticketd run
//! --once` through the test Postfix's limited listener (20 per session,
//! scripts/servers/setup-postfix-limit; Postfix offers PIPELINING, so the
//! 452 arrives among pipelined answers) are all accepted at the first
//! attempt, no pause between two letters is longer than a reconnect, and
//! every reply is read back over IMAP. The EHLO name is the support
//! address's domain (`[outgoing] helo_name`'s default).

mod support;

use std::time::Duration;

use support::mta::{self, postfix_limit, postfix_limited_port, postfix_limited_sessions};
use support::servers;

#[test]
fn two_hundred_fifty_letters_cross_postfixs_session_limit_without_delay() {
    let n = 250;
    let sessions_before = postfix_limited_sessions();
    let b = mta::burst("pf-limit", "user2@example.com", postfix_limited_port(), n);
    let limit = postfix_limit();
    assert_eq!(b.rows.len(), n, "one reply per appeal: {:?}", b.rows.len());
    for r in &b.rows {
        assert_eq!(r.status, "sent", "{r:?}; log:\n{}", b.log);
        assert_eq!(r.attempts, 1, "no letter retried or counted: {r:?}");
    }
    let gap = mta::longest_gap(&b.rows);
    assert!(
        gap < Duration::from_secs(2),
        "a letter waited {gap:?} (a retry would be 5 s); log:\n{}",
        b.log
    );
    // The limit was crossed: at least ceil(250 / 20) sessions.
    let sessions = postfix_limited_sessions() - sessions_before;
    assert!(
        sessions >= n.div_ceil(limit),
        "{sessions} sessions for {n} letters at {limit} per session"
    );
    let maillog =
        std::fs::read_to_string(servers().dir.join("postfix/maillog")).unwrap_or_default();
    let refused: Vec<&str> = maillog
        .lines()
        .filter(|l| l.contains("postfix/limited/") && l.contains("Too many messages sent"))
        .collect();
    assert!(
        refused.len() >= n / limit - 1,
        "the server's 452s: {}",
        refused.len()
    );
    // EHLO with the support address's domain (helo_name's default).
    assert!(
        refused.iter().all(|l| l.contains("helo=<sed.example.org>")),
        "{refused:#?}"
    );
    eprintln!(
        "{n} letters through Postfix at {limit}/session: run --once {:?}, {sessions} sessions, longest gap {gap:?}",
        b.took
    );
}
