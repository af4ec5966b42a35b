//! Outgoing mail: composing letters and delivering the outbox.
//!
//! Every letter ticketd sends is first composed ([`compose`]) and stored as
//! an outbox row in the same transaction as the change that caused it; the
//! sender ([`sender`]) then delivers due rows through a [`Transport`] and
//! marks them. A crash between delivery and marking may send a letter twice,
//! never lose it.

pub mod compose;
pub mod digest;
pub mod file;
pub mod header;
pub mod notices;
pub mod reply_to_notice;
pub mod sender;
pub mod smtp;
pub mod template;
pub mod texts;
pub mod thread;

use chrono::{DateTime, Utc};

pub use sender::Transport;

/// A letter composed and ready to be queued.
#[derive(Debug, Clone)]
pub struct OutgoingLetter {
    /// Message-ID without angle brackets, generated at compose time.
    pub message_id: String,
    pub ticket_id: Option<String>,
    /// What the letter is (`confirmation`, `clarification`, ...): for the
    /// admin's outbox listing.
    pub kind: String,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The whole RFC 5322 letter.
    pub raw: Vec<u8>,
}

/// A queued letter as the sender sees it.
#[derive(Debug, Clone)]
pub struct QueuedLetter {
    pub id: i64,
    pub message_id: String,
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// Why a delivery failed, and whether trying again later may help
/// (lettre's split: the retry logic asks, it never matches on internals).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    message: String,
    transient: bool,
    /// No connection could be set up: the same for every letter, logged
    /// once by the transport rather than once per letter.
    connection: bool,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            transient: true,
            connection: false,
        }
    }
    /// Transient: the server cannot be used at all now (refused
    /// connection, greeting, EHLO, TLS, login).
    pub fn connection(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            transient: true,
            connection: true,
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            transient: false,
            connection: false,
        }
    }
    pub fn is_transient(&self) -> bool {
        self.transient
    }
    pub fn is_permanent(&self) -> bool {
        !self.transient
    }
    pub fn is_connection(&self) -> bool {
        self.connection
    }
}
