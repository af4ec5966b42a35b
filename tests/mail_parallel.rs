//! Parallel SMTP delivery against the real servers: with
//! `[outgoing] connections = 4` a backlog of replies leaves over several
//! connections at once, and every reply reaches the user exactly once.

mod support;

use std::time::Duration;

use support::daemon::Daemon;
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

const LETTERS: usize = 40;
const USERS: [&str; 2] = ["user1@example.com", "user2@example.com"];

/// (status, attempts) → number of outbox rows.
fn outbox_summary(db: &std::path::Path) -> Vec<(String, i64, i64)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the database");
    let mut st = conn
        .prepare("SELECT status, attempts, count(*) FROM outbox GROUP BY status, attempts")
        .expect("query");
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn forty_replies_over_four_connections_arrive_exactly_once() {
    let opts = ConfigOpts::named("parallel");
    imap::create(SUPPORT, &opts.folder);
    let dir = servers().test_dir("parallel");
    let config = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(text.contains("[outgoing]\n"), "{text}");
    std::fs::write(
        &config,
        text.replace("[outgoing]\n", "[outgoing]\nconnections = 4\n"),
    )
    .expect("config");

    // The backlog is there before the daemon starts, so the sender has
    // more due rows than connections from its first pass.
    let tags: Vec<String> = (0..LETTERS).map(|i| format!("parallel-{i:02}")).collect();
    let raws: Vec<Vec<u8>> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| letters::appeal(USERS[i % 2], t))
        .collect();
    imap::append_many(SUPPORT, &opts.folder, &raws);
    let mut daemon = Daemon::start(&config);

    for (n, user) in USERS.iter().enumerate() {
        let mine: Vec<&String> = tags.iter().skip(n).step_by(2).collect();
        imap::wait_until(
            user,
            "INBOX",
            Duration::from_secs(60),
            &format!("the {} replies to {user}", mine.len()),
            |l| mine.iter().all(|t| imap::replies_to(l, t) >= 1),
        );
    }
    // A second copy of any reply would have arrived by now.
    std::thread::sleep(Duration::from_secs(3));
    for (n, user) in USERS.iter().enumerate() {
        let inbox = imap::list(user, "INBOX");
        for t in tags.iter().skip(n).step_by(2) {
            assert_eq!(imap::replies_to(&inbox, t), 1, "exactly one reply for {t}");
        }
    }
    // Every row sent on its first attempt: no row was handed to two
    // connections, none needed a retry.
    assert_eq!(
        outbox_summary(&dir.join("ticketd.sqlite3")),
        vec![("sent".to_string(), 1, LETTERS as i64)],
        "log:\n{}",
        daemon.log_text()
    );
    assert_eq!(imap::count(SUPPORT, &opts.folder), 0);

    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
}
