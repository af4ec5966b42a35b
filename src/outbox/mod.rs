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
pub mod identity;
pub mod notices;
pub mod phone_notice;
pub mod reply_to_notice;
pub mod sender;
pub mod smtp;
pub use crate::template;
pub mod texts;
pub mod thread;

pub use sender::Transport;

/// The letters the outbox table holds: defined with the table (the store
/// knows nothing of composing or sending).
pub use crate::store::outbox::{OutgoingLetter, QueuedLetter};

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
