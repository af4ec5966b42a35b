//! Tickets, their attachments, history and the Message-IDs that thread them.

use super::engine::{params, Conn, FromCell, Row};
use super::{parse_ts, ts, Result, Store};
use crate::parse::Form;
use crate::workflow::channel::Channel;
use crate::workflow::status::{self, Actor, Kind, Line, Refusal, Status};
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

/// A ticket as stored; serialises to the contract's `tickets show --json`
/// keys (with `attachments`, `rejected_attachments`, `history` filled by
/// [`Store::ticket_full`]).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Ticket {
    pub id: String,
    /// Read with [`Ticket::status`]; changed only by [`Ticket::move_to`],
    /// through the transition table.
    status: Status,
    pub kind: Kind,
    pub priority: String,
    pub line: Line,
    pub assignee: Option<String>,
    pub requester: String,
    pub reply_to: String,
    pub subject: String,
    /// The Table 2 form as the ticket holds it (its own
    /// [`Form::missing`]); in JSON its fields sit beside the others.
    #[serde(flatten)]
    pub form: Form,
    pub missing_fields: Vec<String>,
    /// Where the appeal came from (`email`, `web`, `phone`).
    pub channel: Channel,
    /// The engineer who registered a phone appeal.
    pub registered_by: Option<String>,
    /// The mailbox (config name) a letter-borne appeal came through; its
    /// letters leave from that mailbox's address.
    pub mailbox: Option<String>,
    pub attachments: Vec<AttachmentRow>,
    pub rejected_attachments: Vec<RejectedRow>,
    #[serde(serialize_with = "super::serialize_ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::serialize_ts")]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "super::serialize_opt_ts")]
    pub deadline: Option<DateTime<Utc>>,
    /// The deadline for which the ticket was last escalated.
    #[serde(serialize_with = "super::serialize_opt_ts")]
    pub escalated_for: Option<DateTime<Utc>>,
    pub history: Vec<HistoryRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttachmentRow {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RejectedRow {
    pub filename: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub detail: Option<String>,
}

pub(super) const COLUMNS: &str =
    "id, status, kind, priority, line, assignee, requester, reply_to, subject,
    organization, full_name, location, room, floor, phone, phone_ext, description, note,
    created_at, updated_at, deadline, escalated_for, channel, registered_by, mailbox";
/// How many columns [`COLUMNS`] names.
pub(super) const COLUMN_COUNT: usize = 25;

/// The mailbox a ticket is shown under: its own, or "main" for a letter
/// from before several mailboxes were recorded (schema 8); `NULL` for the
/// web form and phone calls. Kept equal to [`Ticket::mailbox_shown`].
const MAILBOX_SHOWN: &str = "COALESCE(mailbox, CASE WHEN channel = 'email' THEN 'main' END)";

impl Ticket {
    /// The mailbox this ticket is shown under (as `MAILBOX_SHOWN` in SQL).
    pub fn mailbox_shown(&self) -> Option<&str> {
        match (&self.mailbox, self.channel) {
            (Some(m), _) => Some(m),
            (None, Channel::Email) => Some(crate::config::DEFAULT_MAILBOX),
            (None, _) => None,
        }
    }

    /// The ticket's status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The one writer of a ticket's status: `actor` moves it to `to` if the
    /// transition table ([`status::transition`]) allows. `Ok(Some(from))`
    /// when the status changed, `Ok(None)` when it already was `to`.
    pub fn move_to(
        &mut self,
        to: Status,
        actor: &Actor,
    ) -> std::result::Result<Option<Status>, Refusal> {
        status::transition(self.status, to, actor)?;
        let from = self.status;
        self.status = to;
        Ok((from != to).then_some(from))
    }
}

/// Column `i` read as `T` and turned into the domain's type by `conv`; a
/// value the domain does not know is a conversion error naming it.
fn named<'r, T, V>(r: &Row<'r>, i: usize, conv: impl Fn(V) -> Option<T>) -> Result<T>
where
    V: FromCell<'r> + std::fmt::Debug + Clone,
{
    let v: V = r.get(i)?;
    conv(v.clone()).ok_or_else(|| super::StoreError::Column {
        column: i,
        want: "value ticketd knows in tickets",
        found: format!("{v:?}"),
    })
}

/// An optional stored time: `Some(None)` when the column is NULL, `None`
/// when it holds something that is not a time.
fn opt_ts(s: Option<String>) -> Option<Option<DateTime<Utc>>> {
    match s {
        None => Some(None),
        Some(s) => parse_ts(&s).map(Some),
    }
}

pub(super) fn from_row(r: &Row<'_>) -> Result<Ticket> {
    Ok(Ticket {
        id: r.get(0)?,
        status: named(r, 1, |s: String| Status::parse(&s))?,
        kind: named(r, 2, |s: String| Kind::parse(&s))?,
        priority: r.get(3)?,
        line: named(r, 4, |n: i64| {
            u8::try_from(n).ok().and_then(Line::from_number)
        })?,
        assignee: r.get(5)?,
        requester: r.get(6)?,
        reply_to: r.get(7)?,
        subject: r.get(8)?,
        form: Form {
            organization: r.get(9)?,
            full_name: r.get(10)?,
            location: r.get(11)?,
            room: r.get(12)?,
            floor: r.get(13)?,
            phone: r.get(14)?,
            phone_ext: r.get(15)?,
            description: r.get(16)?,
            note: r.get(17)?,
        },
        created_at: named(r, 18, |s: String| parse_ts(&s))?,
        updated_at: named(r, 19, |s: String| parse_ts(&s))?,
        deadline: named(r, 20, |s: Option<String>| opt_ts(s))?,
        escalated_for: named(r, 21, |s: Option<String>| opt_ts(s))?,
        channel: named(r, 22, |s: String| Channel::parse(&s))?,
        registered_by: r.get(23)?,
        mailbox: r.get(24)?,
        ..Default::default()
    })
}

/// Filters for `tickets list`.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub requester: Option<String>,
    /// Only the tickets that came through this mailbox.
    pub mailbox: Option<String>,
    pub open_only: bool,
    pub limit: Option<usize>,
}

impl Store {
    /// The ticket's own row (no attachments or history).
    pub fn ticket(&self, id: &str) -> Result<Option<Ticket>> {
        self.conn.query_opt(
            &format!("SELECT {COLUMNS} FROM tickets WHERE id = ?1"),
            &params![id],
            from_row,
        )
    }

    /// The ticket with attachments, rejections and history.
    pub fn ticket_full(&self, id: &str) -> Result<Option<Ticket>> {
        let Some(mut t) = self.ticket(id)? else {
            return Ok(None);
        };
        t.attachments = self.conn.query_map(
            "SELECT filename, content_type, size, sha256 FROM attachments WHERE ticket_id = ?1 ORDER BY id",
            &params![id],
            |r| {
                Ok(AttachmentRow {
                    filename: r.get(0)?,
                    content_type: r.get(1)?,
                    size: r.get(2)?,
                    sha256: r.get(3)?,
                })
            },
        )?;
        t.rejected_attachments = self.conn.query_map(
            "SELECT filename, reason FROM rejected_attachments WHERE ticket_id = ?1 ORDER BY id",
            &params![id],
            |r| {
                Ok(RejectedRow {
                    filename: r.get(0)?,
                    reason: r.get(1)?,
                })
            },
        )?;
        t.history = self.conn.query_map(
            "SELECT at, actor, action, from_status, to_status, detail FROM history WHERE ticket_id = ?1 ORDER BY id",
            &params![id],
            |r| {
                Ok(HistoryRow {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    from: r.get(3)?,
                    to: r.get(4)?,
                    detail: r.get(5)?,
                })
            },
        )?;
        Ok(Some(t))
    }

    /// Tickets, newest first.
    pub fn tickets(&self, f: &ListFilter) -> Result<Vec<Ticket>> {
        let since = f.since.map(ts);
        // No limit: -1 for SQLite, NULL for PostgreSQL (which refuses -1).
        let limit = match (f.limit, self.engine()) {
            (Some(l), _) => Some(i64::try_from(l).unwrap_or(i64::MAX)),
            (None, super::engine::Engine::Sqlite) => Some(-1),
            (None, super::engine::Engine::Postgres) => None,
        };
        self.conn.query_map(
            &format!(
                "SELECT {COLUMNS} FROM tickets
                 WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1)
                   AND (CAST(?2 AS TEXT) IS NULL OR created_at >= ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR requester = ?3) AND (NOT ?4 OR status <> 'confirmed')
                   AND (CAST(?6 AS TEXT) IS NULL OR {MAILBOX_SHOWN} = ?6)
                 ORDER BY created_at DESC, id DESC LIMIT ?5"
            ),
            &params![f.status, since, f.requester, f.open_only, limit, f.mailbox],
            from_row,
        )
    }

    /// Ticket a Message-ID belongs to (a letter in or out of that ticket).
    pub fn ticket_by_message_id(&self, message_id: &str) -> Result<Option<String>> {
        self.conn.query_opt(
            "SELECT ticket_id FROM ticket_messages WHERE message_id = ?1",
            &params![message_id],
            |r| r.get(0),
        )
    }

    /// Open tickets of a requester, newest first.
    pub fn tickets_of(&self, requester: &str) -> Result<Vec<Ticket>> {
        self.tickets(&ListFilter {
            requester: Some(requester.to_lowercase()),
            open_only: true,
            ..Default::default()
        })
    }

    /// Has the ticket ever been routed to a line?
    pub fn was_routed(&self, id: &str) -> Result<bool> {
        self.conn.one(
            "SELECT EXISTS(SELECT 1 FROM history WHERE ticket_id = ?1 AND action IN ('routed', 'escalated'))",
            &params![id],
        )
    }

    /// Tickets that can escalate: `new` or `assigned` with a deadline; with
    /// `due_by`, only those whose deadline has passed by then.
    pub fn escalation_candidates(&self, due_by: Option<DateTime<Utc>>) -> Result<Vec<Ticket>> {
        self.conn.query_map(
            &format!(
                "SELECT {COLUMNS} FROM tickets
                 WHERE status IN ('new', 'assigned') AND deadline IS NOT NULL
                   AND (CAST(?1 AS TEXT) IS NULL OR deadline <= ?1)
                 ORDER BY deadline"
            ),
            &params![due_by.map(ts)],
            from_row,
        )
    }

    /// Number of tickets per status.
    pub fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        self.conn.query_map(
            "SELECT status, count(*) FROM tickets GROUP BY status",
            &params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}

/// Allocate the next ticket ID for `prefix` in the year of `at`, inside the
/// letter's transaction: a crash before commit leaves no trace, a committed
/// number is never handed out again.
pub fn allocate_id(tx: &Conn, prefix: &str, at: DateTime<Utc>) -> Result<String> {
    let year = at.year();
    let n: i64 = tx.one(
        tx.pick(
            "INSERT INTO ticket_seq(prefix, year, last) VALUES (?1, ?2, 1)
             ON CONFLICT(prefix, year) DO UPDATE SET last = last + 1 RETURNING last",
            // The baseline's function (m006): the same upsert, in one place.
            "SELECT ticketd_next_ticket_number(?1, ?2)",
        ),
        &params![prefix, year],
    )?;
    Ok(format!("{prefix}-{year}-{n:06}"))
}

pub fn insert_ticket(tx: &Conn, t: &Ticket) -> Result<()> {
    let sql = format!(
        "INSERT INTO tickets({COLUMNS}) VALUES
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
    );
    tx.execute(
        &sql,
        &params![
            t.id,
            t.status.machine_name(),
            t.kind.machine_name(),
            t.priority,
            t.line.number(),
            t.assignee,
            t.requester,
            t.reply_to,
            t.subject,
            t.form.organization,
            t.form.full_name,
            t.form.location,
            t.form.room,
            t.form.floor,
            t.form.phone,
            t.form.phone_ext,
            t.form.description,
            t.form.note,
            ts(t.created_at),
            ts(t.updated_at),
            t.deadline.map(ts),
            t.escalated_for.map(ts),
            t.channel.machine_name(),
            t.registered_by,
            t.mailbox
        ],
    )?;
    super::facts::on_insert(tx, &t.id, t.line.number())
}

/// The mailbox a ticket came through (inside a unit: sees its own rows).
pub fn ticket_mailbox(tx: &Conn, id: &str) -> Result<Option<String>> {
    Ok(tx
        .query_opt(
            "SELECT mailbox FROM tickets WHERE id = ?1",
            &params![id],
            |r| r.get(0),
        )?
        .flatten())
}

/// Write back every mutable column of a ticket.
pub fn update_ticket(tx: &Conn, t: &Ticket) -> Result<()> {
    tx.execute(
        "UPDATE tickets SET status = ?2, kind = ?3, priority = ?4, line = ?5, assignee = ?6,
            organization = ?7, full_name = ?8, location = ?9, room = ?10, floor = ?11, phone = ?12,
            phone_ext = ?13, description = ?14, note = ?15, updated_at = ?16, deadline = ?17,
            escalated_for = ?18
         WHERE id = ?1",
        &params![
            t.id,
            t.status.machine_name(),
            t.kind.machine_name(),
            t.priority,
            t.line.number(),
            t.assignee,
            t.form.organization,
            t.form.full_name,
            t.form.location,
            t.form.room,
            t.form.floor,
            t.form.phone,
            t.form.phone_ext,
            t.form.description,
            t.form.note,
            ts(t.updated_at),
            t.deadline.map(ts),
            t.escalated_for.map(ts)
        ],
    )?;
    super::facts::on_line(tx, &t.id, t.line.number())
}

pub fn add_history(tx: &Conn, ticket: &str, h: &HistoryRow, letter_id: Option<i64>) -> Result<()> {
    tx.execute(
        "INSERT INTO history(ticket_id, at, actor, action, from_status, to_status, detail, letter_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &params![ticket, h.at, h.actor, h.action, h.from, h.to, h.detail, letter_id],
    )?;
    super::facts::on_history(tx, ticket, h)
}

pub fn add_attachment(tx: &Conn, ticket: &str, letter_id: i64, a: &AttachmentRow) -> Result<()> {
    tx.execute(
        "INSERT INTO attachments(ticket_id, letter_id, filename, content_type, size, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &params![
            ticket,
            letter_id,
            a.filename,
            a.content_type,
            a.size,
            a.sha256
        ],
    )?;
    Ok(())
}

pub fn add_rejected(tx: &Conn, ticket: &str, letter_id: i64, r: &RejectedRow) -> Result<()> {
    tx.execute(
        "INSERT INTO rejected_attachments(ticket_id, letter_id, filename, reason) VALUES (?1, ?2, ?3, ?4)",
        &params![ticket, letter_id, r.filename, r.reason],
    )?;
    Ok(())
}

/// Remember that `message_id` belongs to `ticket` (first writer wins).
pub fn link_message(tx: &Conn, message_id: &str, ticket: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO ticket_messages(message_id, ticket_id) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
        &params![message_id, ticket],
    )?;
    Ok(())
}
