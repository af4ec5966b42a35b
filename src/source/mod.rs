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

/// Most bytes of a too-large letter read to keep its headers.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The header block of a letter's first bytes (up to and including the
/// blank line), at most [`MAX_HEADER_BYTES`]: what is kept of a letter over
/// `[mailbox] max_letter_mb`, whatever the source.
pub fn header_block(prefix: &[u8]) -> Vec<u8> {
    let prefix = &prefix[..prefix.len().min(MAX_HEADER_BYTES)];
    let end = prefix
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .into_iter()
        .chain(prefix.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .min()
        .unwrap_or(prefix.len());
    prefix[..end].to_vec()
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_blocks() {
        assert_eq!(
            super::header_block(b"From: a@b\r\nSubject: x\r\n\r\nbody"),
            b"From: a@b\r\nSubject: x\r\n\r\n"
        );
        assert_eq!(
            super::header_block(b"From: a@b\n\nbody\r\n\r\n"),
            b"From: a@b\n\n"
        );
        assert_eq!(
            super::header_block(&[b'x'; 70_000]).len(),
            super::MAX_HEADER_BYTES
        );
    }
}
