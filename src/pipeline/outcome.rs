//! What became of a letter ([`Outcome`], [`IngestReport`], the contract's
//! `ingest` line) and why it could not be stored ([`IngestError`]).

use crate::outbox::compose::ComposeError;
use crate::store::StoreError;
use serde::Serialize;

/// What happened to a letter (the contract's `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Duplicate,
    Ignored,
    Quarantined,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Quarantined => "quarantined",
        }
    }
}

/// One line of `ingest` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    pub message_id: Option<String>,
    pub outcome: Outcome,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    /// Whether outgoing letters were queued (the sender should wake).
    #[serde(skip)]
    pub queued_mail: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot store attachment in `{}`: {cause}", path.display())]
    Attachment {
        path: std::path::PathBuf,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("the pipeline worker stopped")]
    Gone,
    #[error("command key: {0}")]
    Key(String),
    /// A letter of a batch not stored because the batch's transaction did
    /// not commit (or an earlier letter stopped the batch); retried later.
    #[error("not stored: {0}")]
    Batch(String),
    /// An appeal from another channel that cannot be registered as given.
    #[error("appeal not registered: {0}")]
    Appeal(String),
}

impl IngestError {
    /// True when trying the same letter later may succeed (database locked
    /// or read-only, disk full): the source must keep the letter.
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Store(e) => e.is_transient(),
            IngestError::Attachment { .. } | IngestError::Gone | IngestError::Batch(_) => true,
            IngestError::Compose(_) | IngestError::Key(_) | IngestError::Appeal(_) => false,
        }
    }
}
