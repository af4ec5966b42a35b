//! A folder whose UIDVALIDITY changes (issue 4, "IMAP source"): the server
//! renumbered its letters, so the last UID kept in SQLite means nothing any
//! more. ticketd rescans the folder from the start and relies on its
//! Message-ID/content identity: letters it has already processed come out
//! `duplicate`, new ones become tickets — none is skipped because its new
//! UID is below the old position, none is registered twice.

mod support;

use std::path::Path;

use support::daemon::ticketd;
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

fn run_once(config: &Path) -> String {
    let out = ticketd(config, &["run", "--once"]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "run --once failed:\n{log}");
    log
}

fn ticket_ids(config: &Path) -> Vec<String> {
    let out = ticketd(config, &["tickets", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "tickets list --json: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let rows = v
        .as_array()
        .cloned()
        .or_else(|| v["tickets"].as_array().cloned())
        .unwrap_or_default();
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|t| t["id"].as_str().map(String::from))
        .collect();
    ids.sort();
    ids
}

#[test]
fn changed_uidvalidity_rescans_and_dedupes() {
    let folder = "uidv-in";
    let opts = ConfigOpts {
        folder: folder.into(),
        processed_folder: "uidv-done".into(),
        // Letters stay in the folder (\Seen), as many desks run it.
        after_processing: "flag".into(),
        ..ConfigOpts::default()
    };
    imap::create(SUPPORT, folder);
    let dir = servers().test_dir("uidvalidity");
    let config = servers().write_config(&dir, &opts);

    let a = letters::appeal("user1@example.com", "uidv-a");
    let b = letters::appeal("user1@example.com", "uidv-b");
    imap::append_many(SUPPORT, folder, &[a.clone(), b]);
    run_once(&config);
    assert_eq!(ticket_ids(&config).len(), 2, "two letters, two tickets");

    // The folder is rebuilt (e.g. restored from a backup): a new
    // UIDVALIDITY, UIDs from 1 again — below the position ticketd kept.
    imap::recreate(SUPPORT, folder);
    let c = letters::appeal("user1@example.com", "uidv-c");
    let d = letters::appeal("user1@example.com", "uidv-d");
    imap::append_many(SUPPORT, folder, &[a, c, d]);
    let log = run_once(&config);
    assert!(
        log.contains("UIDVALIDITY changed"),
        "the change is logged:\n{log}"
    );
    let ids = ticket_ids(&config);
    assert_eq!(
        ids.len(),
        4,
        "the old letter is a duplicate, both new ones are tickets: {ids:?}\n{log}"
    );
    assert!(
        imap::list(SUPPORT, folder).iter().all(|l| l.seen),
        "every letter of the new folder acknowledged"
    );

    // And the new position holds: nothing is fetched again.
    run_once(&config);
    assert_eq!(ticket_ids(&config).len(), 4);
}
