//! The IMAP source with the real pipeline: a fetched batch is committed in
//! one transaction, and only its committed letters are acknowledged. A
//! letter that fails mid-batch stays in the folder; the others are stored
//! exactly once and moved.

mod support;

use std::sync::Arc;

use support::{imap, letters, servers, ConfigOpts, SUPPORT};
use ticketd::pipeline::{Handle, Pipeline};
use ticketd::source::imap as source;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The test's own connection to the desk's database (the pipeline's is
/// the store's alone).
fn db(cfg: &ticketd::config::Config) -> rusqlite::Connection {
    rusqlite::Connection::open(&cfg.database.path).expect("open the database")
}

fn count(cfg: &ticketd::config::Config, sql: &str) -> i64 {
    db(cfg).query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn a_letter_failing_mid_batch_is_left_and_the_others_are_stored_once() {
    let folder = "t-batch";
    let dir = servers().test_dir("batch");
    let path = servers().write_config(
        &dir,
        &ConfigOpts {
            folder: folder.into(),
            processed_folder: format!("{folder}-done"),
            ..ConfigOpts::default()
        },
    );
    let cfg = Arc::new(ticketd::desk::Desk::load(&path).unwrap_or_else(|e| panic!("{e}")));
    let raws: Vec<Vec<u8>> = (0..5)
        .map(|i| letters::appeal("user1@example.com", &format!("batch-{i}")))
        .collect();
    imap::append_many(SUPPORT, folder, &raws);

    let pipeline = Pipeline::open(cfg.clone()).expect("pipeline");
    // The third letter is refused by the database after its ticket row is
    // written (a permanent error): its savepoint is undone, not the batch.
    db(&cfg)
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON letters
             WHEN NEW.message_id = 'batch-2@test.example'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .expect("trigger");
    let handle = Handle::new(pipeline);
    let report = rt()
        .block_on(source::sync_once(&cfg, &handle))
        .expect("sync");
    assert_eq!(report.letters, 4);
    assert_eq!(report.failed, 1);
    assert_eq!(imap::count(SUPPORT, folder), 1, "the refused letter stays");
    assert_eq!(imap::count(SUPPORT, &format!("{folder}-done")), 4);
    let left = imap::list(SUPPORT, folder);
    assert_eq!(
        left[0].header("Message-ID").as_deref(),
        Some("<batch-2@test.example>")
    );
    let (tickets, stored, queued) = (
        count(&cfg, "SELECT count(*) FROM tickets"),
        count(&cfg, "SELECT count(*) FROM letters"),
        count(&cfg, "SELECT count(*) FROM outbox"),
    );
    assert_eq!((tickets, stored, queued), (4, 4, 4));

    // The cause removed, the next pass takes the letter in, once.
    db(&cfg)
        .execute_batch("DROP TRIGGER refuse")
        .expect("drop trigger");
    let report = rt()
        .block_on(source::sync_once(&cfg, &handle))
        .expect("sync");
    assert_eq!(report.letters, 1);
    assert_eq!(imap::count(SUPPORT, folder), 0);
    assert_eq!(imap::count(SUPPORT, &format!("{folder}-done")), 5);
    let (tickets, stored) = (
        count(&cfg, "SELECT count(*) FROM tickets"),
        count(&cfg, "SELECT count(*) FROM letters"),
    );
    assert_eq!((tickets, stored), (5, 5));
}
