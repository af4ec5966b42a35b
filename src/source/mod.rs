//! Where letters come from: a Maildir, an IMAP mailbox, files and stdin.
//!
//! A source reads raw bytes, hands them to the pipeline and acknowledges a
//! letter (Maildir: `new/` → `cur/` with the `S` flag; IMAP: move or flag)
//! only after the pipeline has committed it. A letter the pipeline could not
//! store (database locked, disk full) stays where it is and is tried again.
//! [`wake`] is the IMAP watcher's optional doorbell: an HTTP hook the mail
//! server calls on new mail, so the watcher need not wait for IDLE.

pub mod imap;
pub mod maildir;
pub mod wake;
