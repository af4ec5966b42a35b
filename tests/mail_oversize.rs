//! A letter over `[mailbox] max_letter_mb` (issue 4, "IMAP source"), end to
//! end through the daemon: it is not downloaded whole, it is quarantined
//! with the reason and its headers, it leaves the support folder, and its
//! sender receives a polite letter that names the limit.

mod support;

use std::time::Duration;

use support::daemon::{start_connected, ticketd};
use support::{imap, letters, ConfigOpts, SUPPORT};

#[test]
fn oversize_letter_is_quarantined_and_its_sender_told_the_limit() {
    let opts = ConfigOpts {
        max_letter_mb: 0.25,
        ..ConfigOpts::named("big")
    };
    let (config, daemon) = start_connected("oversize", &opts);
    imap::append_many(
        SUPPORT,
        &opts.folder,
        &[
            letters::big_appeal("user2@example.com", "big-1", 600_000),
            letters::appeal("user2@example.com", "small-1"),
        ],
    );

    let notice = imap::wait_reply("user2@example.com", "big-1", Duration::from_secs(15));
    let parsed = mail_parser::MessageParser::default()
        .parse(&notice.raw)
        .unwrap_or_else(|| panic!("the notice is not a letter: {}", notice.text()));
    let body = parsed.body_text(0).unwrap_or_default().into_owned();
    assert!(
        body.contains("больше") && body.contains("допустимого"),
        "the notice says the letter is too large: {body}"
    );
    assert!(body.contains("(256 КБ)"), "and names the limit: {body}");
    assert!(
        notice.header("Auto-Submitted").is_some(),
        "a notice is marked as automatic"
    );
    // The small letter beside it is a normal ticket.
    imap::wait_reply("user2@example.com", "small-1", Duration::from_secs(15));
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(10),
        "both letters acknowledged",
        |l| l.len() == 2,
    );

    let q = ticketd(&config, &["quarantine", "list", "--json"]);
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    let q = String::from_utf8_lossy(&q.stdout).into_owned();
    assert!(q.contains("big-1@test.example"), "quarantined: {q}");
    assert!(
        q.to_lowercase().contains("limit") || q.contains("size") || q.contains("large"),
        "with the reason: {q}"
    );
    daemon.stop();
    // Only the headers were kept, not the 600 KB letter: measured once the
    // daemon has stopped (its last connection checkpoints the WAL into the
    // file), so the WAL's high-water mark of the schema's creation and the
    // letters' transactions is not counted as the letter.
    let dir = config.parent().unwrap_or(std::path::Path::new("."));
    let db = std::fs::metadata(dir.join("ticketd.sqlite3"))
        .map(|m| m.len())
        .unwrap_or(0);
    let wal = std::fs::metadata(dir.join("ticketd.sqlite3-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    // Nothing of the letter's size in any raw column (the letters taken
    // in, the quarantine, the outbox) ...
    let c = rusqlite::Connection::open(dir.join("ticketd.sqlite3")).unwrap();
    let largest: i64 = c
        .query_row(
            "SELECT max(coalesce((SELECT max(length(raw)) FROM letters), 0),
                        coalesce((SELECT max(length(raw)) FROM quarantine), 0),
                        coalesce((SELECT max(length(raw)) FROM outbox), 0))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        largest < 100_000,
        "the oversize letter was stored whole ({largest} bytes in a raw column)"
    );
    // ... nor in the files: the schema and the WAL of a few letters stay
    // well under the letter's 600 KB on top of them.
    assert!(
        db + wal < 800_000,
        "the oversize letter was not stored whole ({db} + {wal} bytes)"
    );
}
