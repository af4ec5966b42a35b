//! The pipeline as the sources' [`LetterSink`]: the source knows only
//! the trait, the pipeline implements it (no source → pipeline edge).

use super::{Handle, IngestError, IngestReport};
use crate::clock::Clock;
use crate::source::{LetterSink, SinkError};
use std::sync::Arc;

/// The daemon's pipeline as the IMAP source's [`LetterSink`].
impl LetterSink for Handle {
    async fn ingest(&self, raw: Vec<u8>) -> Result<String, SinkError> {
        Handle::ingest(self, raw)
            .await
            .map(|r| summary(&r))
            .map_err(intake_error)
    }
    async fn ingest_batch(&self, raws: Vec<Vec<u8>>) -> Vec<Result<String, SinkError>> {
        Handle::ingest_batch(self, raws)
            .await
            .into_iter()
            .map(|r| r.map(|r| summary(&r)).map_err(intake_error))
            .collect()
    }
    async fn reject_oversize(
        &self,
        headers: Vec<u8>,
        size: u64,
        limit: u64,
    ) -> Result<String, SinkError> {
        Handle::reject_oversize(self, headers, size, limit)
            .await
            .map(|r| summary(&r))
            .map_err(intake_error)
    }
    /// The source's keys are kept per mailbox (`mailbox.<name>.<key>`).
    async fn state_get(&self, key: &str) -> Result<Option<String>, SinkError> {
        Handle::state_get(self, &self.mailbox_key(key))
            .await
            .map_err(intake_error)
    }
    async fn state_set(&self, key: &str, value: &str) -> Result<(), SinkError> {
        Handle::state_set(self, &self.mailbox_key(key), value)
            .await
            .map_err(intake_error)
    }
    async fn letter_limit(&self) -> Result<u64, SinkError> {
        // This handle's mailbox's own `max_letter_mb` (several mailboxes:
        // each its own).
        Ok((self.mailbox_max_letter_mb().max(0.0) * 1024.0 * 1024.0) as u64)
    }
    fn clock(&self) -> Arc<dyn Clock> {
        Handle::clock(self)
    }
}

fn summary(r: &IngestReport) -> String {
    format!(
        "{} {} ticket={} {}",
        r.message_id.as_deref().unwrap_or("(no Message-ID)"),
        r.outcome.as_str(),
        r.ticket.as_deref().unwrap_or("-"),
        r.reason.as_deref().unwrap_or("")
    )
}

fn intake_error(e: IngestError) -> SinkError {
    SinkError {
        transient: e.is_transient(),
        message: e.to_string(),
    }
}
