//! Outgoing mail: composing letters and delivering the outbox.
//!
//! Every letter ticketd sends is first composed ([`compose`]) and stored as
//! an outbox row in the same transaction as the change that caused it; a
//! sender then delivers due rows through a [`Transport`] and marks them. A
//! crash between delivery and marking may send a letter twice, never lose it.

pub mod template;

/// Why a delivery failed, and whether trying again later may help
/// (lettre's split: the retry logic asks, it never matches on internals).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    message: String,
    transient: bool,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        SendError { message: message.into(), transient: true }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        SendError { message: message.into(), transient: false }
    }
    pub fn is_transient(&self) -> bool {
        self.transient
    }
    pub fn is_permanent(&self) -> bool {
        !self.transient
    }
}
