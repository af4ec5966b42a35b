//! The unit of work the pipeline writes through: one letter's (or one
//! timer event's) rows, committed together. The pipeline holds a [`Unit`]
//! and calls its use-case methods; the SQL and the SQLite transaction stay
//! in `store/` (a second engine implements the same methods).

use super::letters::{self, LetterRecord};
use super::outbox::OutgoingLetter;
use super::tickets::{self, AttachmentRow, HistoryRow, RejectedRow, Ticket};
use super::{outbox, security, Result, Store};
use chrono::{DateTime, Utc};

/// One letter's writes: its own transaction, or a savepoint inside the
/// batch transaction ([`Store::batch_begin`]).
pub use super::letters::Unit;

impl Unit<'_> {
    /// A new ticket number (`TP-2026-000042`), inside this unit.
    pub fn allocate_id(&self, prefix: &str, at: DateTime<Utc>) -> Result<String> {
        tickets::allocate_id(self.conn(), prefix, at)
    }

    pub fn insert_ticket(&self, t: &Ticket) -> Result<()> {
        tickets::insert_ticket(self.conn(), t)
    }

    /// The mailbox the ticket came through, if recorded.
    pub fn ticket_mailbox(&self, id: &str) -> Result<Option<String>> {
        tickets::ticket_mailbox(self.conn(), id)
    }

    pub fn update_ticket(&self, t: &Ticket) -> Result<()> {
        tickets::update_ticket(self.conn(), t)
    }

    /// Record a processed letter; its row id.
    pub fn insert_letter(&self, l: &LetterRecord<'_>) -> Result<i64> {
        letters::insert_letter(self.conn(), l)
    }

    pub fn insert_quarantine(
        &self,
        letter_id: Option<i64>,
        message_id: Option<&str>,
        reason: &str,
        raw: &[u8],
        at: DateTime<Utc>,
    ) -> Result<i64> {
        letters::insert_quarantine(self.conn(), letter_id, message_id, reason, raw, at)
    }

    pub fn add_history(&self, ticket: &str, h: &HistoryRow, letter_id: Option<i64>) -> Result<()> {
        tickets::add_history(self.conn(), ticket, h, letter_id)
    }

    pub fn add_attachment(&self, ticket: &str, letter_id: i64, a: &AttachmentRow) -> Result<()> {
        tickets::add_attachment(self.conn(), ticket, letter_id, a)
    }

    pub fn add_rejected(&self, ticket: &str, letter_id: i64, r: &RejectedRow) -> Result<()> {
        tickets::add_rejected(self.conn(), ticket, letter_id, r)
    }

    /// Thread `message_id` to `ticket`.
    pub fn link_message(&self, message_id: &str, ticket: &str) -> Result<()> {
        tickets::link_message(self.conn(), message_id, ticket)
    }

    /// Queue a composed letter; its outbox row id.
    pub fn enqueue(&self, l: &OutgoingLetter, at: DateTime<Utc>) -> Result<i64> {
        outbox::enqueue(self.conn(), l, at)
    }

    /// Automatic letters to `addr` about `ticket` since `since`.
    pub fn count_auto_to(&self, ticket: &str, addr: &str, since: DateTime<Utc>) -> Result<i64> {
        outbox::count_auto_to(self.conn(), ticket, addr, since)
    }

    /// Automatic letters to `addr` about any ticket since `since`.
    pub fn count_to_address(&self, addr: &str, since: DateTime<Utc>) -> Result<i64> {
        security::count_to_address(self.conn(), addr, since)
    }

    /// Set a daemon state value inside this unit (e.g. the period a report
    /// letter was queued for, together with the letter).
    pub fn state_set(&self, key: &str, value: &str) -> Result<()> {
        letters::state_set_in(self.conn(), key, value)
    }

    pub fn replay_record(&self, key: &str, ticket: &str, at: DateTime<Utc>) -> Result<()> {
        security::replay_record(self.conn(), key, ticket, at)
    }
}

impl Store {
    /// When the command letter with this replay key was last applied.
    pub fn replay_last(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        security::replay_last(&self.conn, key)
    }

    /// The Message-ID of the letter that opened `ticket`.
    pub fn opening_letter_id(&self, ticket: &str) -> Result<Option<String>> {
        letters::opening_letter_id(&self.conn, ticket)
    }

    /// The latest letter `sender` wrote about `ticket`: its Message-ID and
    /// raw bytes.
    pub fn last_letter_from(
        &self,
        ticket: &str,
        sender: &str,
    ) -> Result<Option<(String, Vec<u8>)>> {
        letters::last_letter_from(&self.conn, ticket, sender)
    }

    /// New tickets by `requester` (and by `reply_to`) since `since`.
    pub fn count_new_tickets(
        &self,
        requester: &str,
        reply_to: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(i64, i64)> {
        security::count_new_tickets(&self.conn, requester, reply_to, since)
    }
}
