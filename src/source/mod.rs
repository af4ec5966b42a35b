//! Where letters come from: Maildir, IMAP, files and stdin.
pub mod imap;
