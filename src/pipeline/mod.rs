//! One letter through parse → workflow → store, exactly once.
//!
//! Shared by `ingest`, the Maildir watcher and the IMAP watcher so all three
//! behave the same. For every letter, in this order: its identity
//! ([`crate::workflow::thread::identity`]) → already seen? `duplicate` →
//! parse → decide ([`crate::workflow::intake`]) → attachment files written
//! and fsynced (content-addressed, so a rerun rewrites the same file) → ONE
//! transaction with the raw letter, the ticket or its update, attachment
//! rows, history, and the outgoing letters as outbox rows. Only after that
//! commit may the source acknowledge the letter.
//!
//! [`Pipeline::ingest_batch`] takes several letters at once (a fetched IMAP
//! batch): identities and parses first, without the write lock; then one
//! write transaction with a savepoint per letter, so a letter that fails
//! rolls back only its own rows, and one commit for all. The source
//! acknowledges the batch's letters only after that commit.

mod apply;
#[cfg(test)]
mod batch_tests;
mod carry;
mod copies;
mod create;
mod digest;
mod escalation;
pub mod files;
mod handle;
mod key;
pub mod link;
mod outcome;
mod phone;
mod reply;
mod sink;
pub mod submission;

#[cfg(test)]
mod machine_tests;
mod user_reply;

pub use user_reply::ticket_facts;

pub use handle::Handle;
pub use outcome::{IngestError, IngestReport, Outcome};

use crate::desk::Desk;
use crate::outbox::compose::Composer;
use crate::parse::{parse_letter, ParseOptions};
use crate::store::Store;
use crate::workflow::intake::{self, Intake, IntakeFacts};
use crate::workflow::token::ReplyKey;
use crate::workflow::{commands, thread, token};
use chrono::Utc;
use std::sync::Arc;

/// The synchronous pipeline: one database connection, the composer, the
/// parse options. Not shared between threads; see [`Handle`] for async use.
pub struct Pipeline {
    cfg: Arc<Desk>,
    store: Store,
    composer: Composer,
    opts: ParseOptions,
    own_addresses: Vec<String>,
    key: ReplyKey,
    clock: Arc<dyn crate::clock::Clock>,
    /// The mailbox the letter in hand came through (set by intake's
    /// [`Handle`]; `None` for `ingest`, the web form, the timers).
    intake_mailbox: Option<String>,
    /// PostgreSQL: the connection attachment files are written and read
    /// through (outside the letter's transaction, as the folder's files
    /// are); `None`: the folder.
    blobs: Option<Store>,
}

/// The read-only parts of the pipeline that decisions and letters need,
/// borrowed beside the store's write transaction.
pub(crate) struct Parts<'a> {
    pub cfg: &'a Desk,
    pub composer: &'a Composer,
    pub own_addresses: &'a [String],
    pub key: &'a ReplyKey,
    /// The mailbox the letter in hand came through, if any.
    pub mailbox: Option<&'a str>,
    /// Where attachment files are kept.
    pub files: files::Files<'a>,
}

/// The folder of `[attachments]`, or the database when it keeps them.
fn files_of<'a>(cfg: &'a Desk, blobs: Option<&'a Store>) -> files::Files<'a> {
    match blobs {
        Some(s) => files::Files::Database(s),
        None => files::Files::Folder(&cfg.attachments.dir),
    }
}

/// Prepared statements kept by the pipeline's connection.
const STATEMENT_CACHE: usize = 48;

impl Pipeline {
    pub fn open(cfg: Arc<Desk>) -> Result<Pipeline, IngestError> {
        let at = cfg.database.store_at()?;
        let mut store = at.open()?;
        let blobs = match store.engine() {
            crate::store::engine::Engine::Postgres => Some(at.open()?),
            crate::store::engine::Engine::Sqlite => None,
        };
        // Response and solution times in the desk's working time.
        store.set_calendar(&cfg.workflow.calendar)?;
        // Every statement a letter runs stays compiled.
        store.keep_statements(STATEMENT_CACHE);
        let mut composer = Composer::new(&cfg)?;
        let opts = cfg.parse_options();
        let mut own_addresses = cfg.workflow.own_addresses();
        own_addresses.push(cfg.desk.support_address.to_lowercase());
        // A mailbox's own address is the desk's too: never answered.
        own_addresses.extend(
            cfg.mailboxes
                .iter()
                .filter_map(|m| m.support_address())
                .map(|a| a.trim().to_lowercase()),
        );
        let key = key::reply_key(&cfg, &store)?;
        if let Some(w) = &cfg.web {
            composer.set_status_link(w.base_url(), key.clone());
        }
        Ok(Pipeline {
            cfg,
            store,
            composer,
            opts,
            own_addresses,
            key,
            clock: crate::clock::system(),
            intake_mailbox: None,
            blobs,
        })
    }

    /// The store for writing, and the rest for reading, at once.
    pub(crate) fn split(&mut self) -> (&mut Store, Parts<'_>) {
        (
            &mut self.store,
            Parts {
                cfg: &self.cfg,
                composer: &self.composer,
                own_addresses: &self.own_addresses,
                key: &self.key,
                mailbox: self.intake_mailbox.as_deref(),
                files: files_of(&self.cfg, self.blobs.as_ref()),
            },
        )
    }

    /// The read-only parts alone.
    fn desk(&self) -> Parts<'_> {
        Parts {
            cfg: &self.cfg,
            composer: &self.composer,
            own_addresses: &self.own_addresses,
            key: &self.key,
            mailbox: self.intake_mailbox.as_deref(),
            files: files_of(&self.cfg, self.blobs.as_ref()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn config(&self) -> &Arc<Desk> {
        &self.cfg
    }

    /// The desk's key (proofs of receipt, status links, form tokens).
    pub fn key(&self) -> &ReplyKey {
        &self.key
    }

    /// The mailbox the next letters come through (`None`: none, as for
    /// `ticketd ingest`): new tickets record it, routing rules may match it.
    pub fn set_intake_mailbox(&mut self, mailbox: Option<String>) {
        self.intake_mailbox = mailbox;
    }

    /// Read the time from `clock` from now on (tests: a manual clock).
    pub fn set_clock(&mut self, clock: Arc<dyn crate::clock::Clock>) {
        self.clock = clock;
    }

    /// The current time on the pipeline's clock.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    /// The pipeline's clock, shared.
    pub fn clock(&self) -> Arc<dyn crate::clock::Clock> {
        self.clock.clone()
    }

    /// Process one raw letter.
    pub fn ingest(&mut self, raw: &[u8]) -> Result<IngestReport, IngestError> {
        let prepared = self.prepare(raw)?;
        self.apply(raw, prepared)
    }

    /// Process several letters in one write transaction; one result per
    /// letter, in order. A letter that fails rolls back only its own rows
    /// (its savepoint). A transient failure stops the batch: the letters
    /// before it are committed, it and the rest are returned as
    /// [`IngestError::Batch`] or its own error, to be tried again. When the
    /// commit itself fails, every letter is reported not stored.
    pub fn ingest_batch(&mut self, raws: &[Vec<u8>]) -> Vec<Result<IngestReport, IngestError>> {
        if raws.len() <= 1 {
            return raws.iter().map(|raw| self.ingest(raw)).collect();
        }
        // Identities and parses without the write lock (the sender marks
        // its letters meanwhile).
        let prepared: Vec<_> = raws.iter().map(|raw| self.prepare(raw)).collect();
        if let Err(e) = self.store.batch_begin() {
            let why = e.to_string();
            return raws
                .iter()
                .map(|_| Err(IngestError::Batch(why.clone())))
                .collect();
        }
        // A panic must not leave the batch open under later letters.
        let locked = std::time::Instant::now();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.apply_batch(raws, prepared)
        }));
        tracing::debug!(
            letters = raws.len(),
            held = ?locked.elapsed(),
            "batch written; the write lock was held this long"
        );
        match run {
            Ok(results) => results,
            Err(panic) => {
                self.store.batch_rollback();
                std::panic::resume_unwind(panic)
            }
        }
    }

    fn apply_batch(
        &mut self,
        raws: &[Vec<u8>],
        prepared: Vec<Result<Prepared, IngestError>>,
    ) -> Vec<Result<IngestReport, IngestError>> {
        let mut out: Vec<Result<IngestReport, IngestError>> = Vec::with_capacity(raws.len());
        let mut stopped: Option<String> = None;
        for (raw, prep) in raws.iter().zip(prepared) {
            if let Some(why) = &stopped {
                out.push(Err(IngestError::Batch(why.clone())));
                continue;
            }
            let r = prep.and_then(|p| self.apply(raw, p));
            if !self.store.batch_open() {
                // SQLite rolled the whole transaction back (disk full, I/O
                // error): nothing of the batch is stored.
                let why = match &r {
                    Err(e) => format!("the batch's transaction was rolled back: {e}"),
                    Ok(_) => "the batch's transaction was rolled back".to_string(),
                };
                unstore(&mut out, &why);
                out.push(Err(IngestError::Batch(why.clone())));
                stopped = Some(why);
                continue;
            }
            if let Err(e) = &r {
                if e.is_transient() {
                    stopped = Some(format!("an earlier letter of the batch failed: {e}"));
                }
            }
            out.push(r);
        }
        if self.store.batch_open() {
            if let Err(e) = self.store.batch_commit() {
                self.store.batch_rollback();
                unstore(&mut out, &format!("the batch did not commit: {e}"));
            }
        }
        out
    }

    /// The work before the write lock: identity, a first duplicate check
    /// (to skip parsing a letter already stored) and the parse.
    fn prepare(&self, raw: &[u8]) -> Result<Prepared, IngestError> {
        let identity = thread::identity(raw);
        if self.store.seen(&identity)?.is_some() {
            return Ok(Prepared {
                identity,
                parsed: None,
                kept: None,
            });
        }
        let parsed = self.parse(raw);
        let kept = match &parsed {
            Ok(p) if !p.attachments.is_empty() && self.keeps_files(p) => {
                Some(apply::store_files(&self.desk(), &p.attachments)?)
            }
            _ => None,
        };
        Ok(Prepared {
            identity,
            parsed: Some(parsed),
            kept,
        })
    }

    /// Will the letter's attachments be kept whatever the database says?
    /// True when it is not ignored or quarantined and not a status request
    /// (those depend on its sender alone); a follow-up keeps them too.
    fn keeps_files(&self, parsed: &crate::parse::ParsedLetter) -> bool {
        let facts = IntakeFacts {
            from: parsed.from.as_ref().map(|a| a.email.as_str()),
            machine: parsed.machine.as_deref(),
            own_addresses: &self.own_addresses,
            line_mailboxes: &[],
            tagged_ticket: None,
            threaded_ticket: None,
        };
        intake::decide(&facts) == Intake::New && !is_status_request(parsed)
    }

    /// The reader is bounded and must never panic; should it anyway, the
    /// letter is kept aside instead of being retried forever (`Err`).
    fn parse(&self, raw: &[u8]) -> Result<crate::parse::ParsedLetter, ()> {
        let opts = &self.opts;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_letter(raw, opts)))
            .map_err(|_| ())
    }

    /// Decide and store one prepared letter (its own transaction, or a
    /// savepoint in the open batch).
    ///
    /// The duplicate check runs before the write lock: another process
    /// (a second `ingest` of the same letter, another daemon) may commit
    /// the same identity between the check and this letter's commit. Its
    /// unique key then refuses this commit, which rolls back whole; the
    /// letter is a duplicate, answered as one (not an error an MTA would
    /// bounce).
    fn apply(&mut self, raw: &[u8], prepared: Prepared) -> Result<IngestReport, IngestError> {
        let identity = prepared.identity.clone();
        match self.apply_unseen(raw, prepared) {
            Err(IngestError::Store(e)) if e.is_unique_violation() => {
                match self.duplicate(raw, &identity)? {
                    Some(report) => Ok(report),
                    None => Err(IngestError::Store(e)),
                }
            }
            r => r,
        }
    }

    /// The report of a letter whose identity is stored already, if it is.
    fn duplicate(&self, raw: &[u8], identity: &str) -> Result<Option<IngestReport>, IngestError> {
        let Some(seen) = self.store.seen(identity)? else {
            return Ok(None);
        };
        let message_id = quick_message_id(raw);
        tracing::info!(
            message_id = message_id.as_deref().unwrap_or("-"),
            "duplicate letter, already processed"
        );
        Ok(Some(IngestReport {
            message_id,
            outcome: Outcome::Duplicate,
            ticket: seen.ticket_id,
            reason: Some(format!("already processed as {}", seen.outcome)),
            queued_mail: false,
        }))
    }

    fn apply_unseen(
        &mut self,
        raw: &[u8],
        prepared: Prepared,
    ) -> Result<IngestReport, IngestError> {
        let identity = prepared.identity;
        if let Some(report) = self.duplicate(raw, &identity)? {
            return Ok(report);
        }
        let parsed = match prepared.parsed {
            Some(p) => p,
            None => self.parse(raw),
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(()) => {
                let parsed = crate::parse::ParsedLetter {
                    message_id: quick_message_id(raw),
                    ..Default::default()
                };
                let ctx = apply::Ctx {
                    identity: &identity,
                    raw,
                    parsed: &parsed,
                    now: self.clock.now(),
                    kept: None,
                    channel: crate::workflow::channel::Channel::Email,
                    registered_by: None,
                    mailbox: self.intake_mailbox.clone(),
                };
                tracing::error!(
                    message_id = parsed.message_id.as_deref().unwrap_or("-"),
                    "the letter reader failed on this letter; quarantined"
                );
                return apply::quarantine(
                    self,
                    &ctx,
                    "internal error while reading the letter (kept for a bug report)",
                );
            }
        };
        if let Some(r) = self.phone_letter(&identity, raw, &parsed, prepared.kept.as_deref())? {
            return Ok(r);
        }
        let prefix = &self.cfg.tickets.prefix;
        let mut tagged = None;
        // The subject's tag, else the ticket of a proof-of-receipt address.
        let to_cc: Vec<&str> = parsed
            .to
            .iter()
            .chain(parsed.cc.iter())
            .map(|a| a.email.as_str())
            .collect();
        let in_addresses = token::proof_addresses(
            &self.cfg.workflow.support_address,
            parsed.trace.delivered_to.as_deref(),
            &to_cc,
        )
        .into_iter()
        .filter_map(token::ticket_of);
        // A bare number of this desk («По заявке TP-2026-000008») last.
        for tag in thread::tags(&parsed.subject, prefix)
            .into_iter()
            .chain(in_addresses)
            .chain(thread::bare_numbers(&parsed.subject, prefix))
        {
            if self.store.ticket(&tag)?.is_some() {
                tagged = Some(tag);
                break;
            }
        }
        let mut threaded = None;
        for mid in parsed.in_reply_to.iter().chain(parsed.references.iter()) {
            if let Some(t) = self.store.ticket_by_message_id(mid)? {
                threaded = Some(t);
                break;
            }
        }
        let from = parsed.from.as_ref().map(|a| a.email.as_str());
        let line_mailboxes: Vec<String> = self
            .cfg
            .workflow
            .lines
            .iter()
            .map(|l| l.mailbox.to_lowercase())
            .collect();
        let decision = intake::decide(&IntakeFacts {
            from,
            machine: parsed.machine.as_deref(),
            own_addresses: &self.own_addresses,
            line_mailboxes: &line_mailboxes,
            tagged_ticket: tagged.as_deref(),
            threaded_ticket: threaded.as_deref(),
        });
        let now = self.clock.now();
        let ctx = apply::Ctx {
            identity: &identity,
            raw,
            parsed: &parsed,
            now,
            kept: prepared.kept.as_deref(),
            channel: crate::workflow::channel::Channel::Email,
            registered_by: None,
            mailbox: self.intake_mailbox.clone(),
        };
        let report = match decision {
            Intake::Quarantine(reason) => apply::quarantine(self, &ctx, &reason)?,
            Intake::Ignore(reason) => apply::ignore(self, &ctx, &reason)?,
            Intake::New if is_status_request(&parsed) => create::status_request(self, &ctx)?,
            Intake::New => create::create(self, &ctx)?,
            Intake::FollowUp(ticket) => reply::follow_up(self, &ctx, &ticket)?,
        };
        match report.outcome {
            Outcome::Quarantined => tracing::warn!(
                message_id = report.message_id.as_deref().unwrap_or("-"),
                reason = report.reason.as_deref().unwrap_or("-"),
                "letter quarantined"
            ),
            _ => tracing::info!(
                message_id = report.message_id.as_deref().unwrap_or("-"),
                outcome = report.outcome.as_str(),
                ticket = report.ticket.as_deref().unwrap_or("-"),
                "letter processed"
            ),
        }
        Ok(report)
    }

    /// A letter too large to download: quarantine its headers and tell the
    /// sender what the limit is.
    pub fn reject_oversize(
        &mut self,
        headers: &[u8],
        size: u64,
        limit: u64,
    ) -> Result<IngestReport, IngestError> {
        let identity = format!("oversize:{}:{size}", thread::identity(headers));
        if let Some(seen) = self.store.seen(&identity)? {
            return Ok(IngestReport {
                message_id: quick_message_id(headers),
                outcome: Outcome::Duplicate,
                ticket: seen.ticket_id,
                reason: Some("already processed".into()),
                queued_mail: false,
            });
        }
        let parsed = parse_letter(headers, &self.opts);
        let ctx = apply::Ctx {
            identity: &identity,
            raw: headers,
            parsed: &parsed,
            now: self.clock.now(),
            kept: None,
            channel: crate::workflow::channel::Channel::Email,
            registered_by: None,
            mailbox: self.intake_mailbox.clone(),
        };
        apply::oversize(self, &ctx, size, limit)
    }
}

/// A letter's work done before the write lock.
struct Prepared {
    identity: String,
    /// `None` when the letter looked like a duplicate (not parsed).
    parsed: Option<Result<crate::parse::ParsedLetter, ()>>,
    /// The attachments' files, written here when the letter will become or
    /// update a ticket (fsync outside the write lock).
    kept: Option<Vec<crate::store::tickets::AttachmentRow>>,
}

/// Turn the letters reported stored into "not stored": their batch did not
/// commit.
fn unstore(out: &mut [Result<IngestReport, IngestError>], why: &str) {
    for r in out.iter_mut().filter(|r| r.is_ok()) {
        *r = Err(IngestError::Batch(why.to_string()));
    }
}

/// A `статус` letter: the word alone in the subject or on the first line,
/// and nothing of an appeal in it (no form field, a short body) — a real
/// appeal titled «Статус» is registered, not answered with a list.
fn is_status_request(parsed: &crate::parse::ParsedLetter) -> bool {
    let f = &parsed.form;
    let has_form = [&f.full_name, &f.phone, &f.room, &f.floor, &f.organization]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    !has_form
        && parsed.text.trim().chars().count() <= 200
        && commands::is_status_request(&parsed.subject, &parsed.text)
}

/// The Message-ID from the header, cheaply (for duplicate reports).
pub fn quick_message_id(raw: &[u8]) -> Option<String> {
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.len() > 11 && line[..11].eq_ignore_ascii_case(b"message-id:") {
            let v = String::from_utf8_lossy(&line[11..]);
            let v = v
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim();
            if !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Machine names of the mandatory fields a stored ticket still lacks.
pub fn form_missing(t: &crate::store::tickets::Ticket) -> Vec<&'static str> {
    apply::form_of(t)
        .missing()
        .into_iter()
        .map(|f| f.machine_name())
        .collect()
}
