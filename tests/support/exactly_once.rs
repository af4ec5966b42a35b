//! The end check of the crash tests (`mail_kill`, `mail_cluster`): after a
//! load with `kill -9`s, every letter is exactly one ticket, nothing is left
//! in the support folder, every letter went to the processed folder, every
//! user got a reply and at most one duplicate reply per kill.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use super::daemon::ticketd;
use super::imap::{self, Stored};
use super::{ConfigOpts, SUPPORT};

/// What the load was: the tags in the subjects (one letter each), the
/// user's mailbox that receives the replies, and how many kills it took.
pub struct Load<'a> {
    pub config: &'a Path,
    pub opts: &'a ConfigOpts,
    pub tags: &'a [String],
    pub user: &'a str,
    pub kills: usize,
}

/// Checks the load's end state; `inbox` is the user's INBOX as last read
/// (read again when more letters arrived since). Returns the number of
/// replies found.
pub fn check(load: &Load<'_>, inbox: Vec<Stored>, started: Instant) -> usize {
    let inbox = if imap::count(load.user, "INBOX") as usize != inbox.len() {
        imap::list(load.user, "INBOX")
    } else {
        inbox
    };
    let letters = load.tags.len();

    // Every letter exactly one ticket.
    let out = ticketd(load.config, &["tickets", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("tickets list --json");
    let mut per_tag: HashMap<&str, usize> = HashMap::new();
    for t in &list {
        let subject = t["subject"].as_str().unwrap_or_default();
        if let Some(tag) = load.tags.iter().find(|tag| subject.ends_with(tag.as_str())) {
            *per_tag.entry(tag.as_str()).or_default() += 1;
        }
    }
    assert_eq!(list.len(), letters, "one ticket per letter, no more");
    for tag in load.tags {
        assert_eq!(per_tag.get(tag.as_str()), Some(&1), "tickets for {tag}");
    }
    assert_eq!(
        imap::count(SUPPORT, &load.opts.folder),
        0,
        "nothing left unprocessed"
    );
    assert_eq!(
        imap::count(SUPPORT, &load.opts.processed_folder) as usize,
        letters
    );

    // Every user answered; at most one duplicate reply per kill.
    let replies: usize = load.tags.iter().map(|t| imap::replies_to(&inbox, t)).sum();
    eprintln!(
        "{replies} replies for {letters} letters after {} kills; {:?} in all",
        load.kills,
        started.elapsed()
    );
    assert!(load.tags.iter().all(|t| imap::replies_to(&inbox, t) >= 1));
    assert!(
        replies <= letters + load.kills,
        "{} duplicate replies for {} kills",
        replies - letters,
        load.kills
    );
    replies
}
