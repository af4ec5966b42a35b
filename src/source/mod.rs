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

use std::future::Future;
use std::sync::Arc;

/// A pipeline failure as a source sees it: transient ones (database
/// locked, disk full) leave the letter where it is (on the IMAP server, in
/// `new/`) to be tried again.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub message: String,
    pub transient: bool,
}

/// What a source needs from the pipeline (Maildir and IMAP alike; a
/// source never names the pipeline). Implemented for `pipeline::Handle`;
/// every method commits before it returns `Ok`.
pub trait LetterSink: Clone + Send + Sync + 'static {
    /// Process one raw letter; `Ok` carries a one-line summary for the log.
    fn ingest(&self, raw: Vec<u8>) -> impl Future<Output = Result<String, SinkError>> + Send;
    /// Process a fetched batch, one result per letter in order; every `Ok`
    /// is committed when this returns. By default one letter at a time.
    fn ingest_batch(
        &self,
        raws: Vec<Vec<u8>>,
    ) -> impl Future<Output = Vec<Result<String, SinkError>>> + Send {
        async move {
            let mut out = Vec::with_capacity(raws.len());
            for raw in raws {
                out.push(self.ingest(raw).await);
            }
            out
        }
    }
    /// Record a letter too large to download from its headers alone.
    fn reject_oversize(
        &self,
        headers: Vec<u8>,
        size: u64,
        limit: u64,
    ) -> impl Future<Output = Result<String, SinkError>> + Send;
    fn state_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, SinkError>> + Send;
    fn state_set(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// The largest letter read whole (`[mailbox] max_letter_mb`, as the
    /// configuration is now), bytes.
    fn letter_limit(&self) -> impl Future<Output = Result<u64, SinkError>> + Send;
    /// Where the time comes from (last sync, refusals, token problems).
    fn clock(&self) -> Arc<dyn crate::clock::Clock> {
        crate::clock::system()
    }
}

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
