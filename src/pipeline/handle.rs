//! An async, cheaply cloned handle over the synchronous pipeline.
//!
//! The store is blocking (SQLite), so the pipeline runs under `spawn_blocking`, one
//! letter — or one batch of letters ([`Handle::ingest_batch`], one hop and
//! one transaction) — at a time (a mutex): SQLite has one writer anyway,
//! and serial processing keeps "exactly once" simple. After a commit that queued mail
//! the handle wakes the sender ([`Handle::outbox_wake`]) at once — the outbox
//! is never polled for new rows.

use super::{IngestError, IngestReport, Pipeline};
use crate::store::cluster::Fence;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct Handle {
    inner: Arc<Mutex<Pipeline>>,
    wake: Arc<Notify>,
    changed: Arc<Notify>,
    clock: Arc<dyn crate::clock::Clock>,
    mailbox: crate::config::Mailbox,
    /// The mailbox lease intake reads under (several daemons on one
    /// database): checked inside every letter's transaction.
    fence: Arc<Mutex<Option<Fence>>>,
}

impl Handle {
    pub fn new(p: Pipeline) -> Handle {
        Handle {
            clock: p.clock(),
            mailbox: p.config().mailbox.clone(),
            inner: Arc::new(Mutex::new(p)),
            wake: Arc::new(Notify::new()),
            changed: Arc::new(Notify::new()),
            fence: Arc::new(Mutex::new(None)),
        }
    }

    /// A handle on the same pipeline for intake from `mailbox` (several
    /// mailboxes in one daemon): its own state keys and its own fence, and
    /// the tickets its letters create record it.
    pub fn for_mailbox(&self, mailbox: crate::config::Mailbox) -> Handle {
        Handle {
            inner: self.inner.clone(),
            wake: self.wake.clone(),
            changed: self.changed.clone(),
            clock: self.clock.clone(),
            mailbox,
            fence: Arc::new(Mutex::new(None)),
        }
    }

    /// `max_letter_mb` of the mailbox this handle takes letters in from.
    pub fn mailbox_max_letter_mb(&self) -> f64 {
        self.mailbox.max_letter_mb()
    }

    /// The name of the mailbox this handle takes letters in from.
    pub fn mailbox_name(&self) -> &str {
        self.mailbox.name()
    }

    /// Fence intake's letters by this mailbox lease from now on (set when
    /// the daemon takes the lease; a lost lease's fence stays, refusing).
    pub fn set_fence(&self, fence: Fence) {
        *self.fence.lock().unwrap_or_else(|e| e.into_inner()) = Some(fence);
    }

    /// Run `f` on the pipeline with intake's fence set for its writes and
    /// its mailbox recorded on the tickets it creates (only intake's: the
    /// web form and the timers are not a mailbox's).
    async fn fenced<R, F>(&self, f: F) -> Result<R, IngestError>
    where
        F: FnOnce(&mut Pipeline) -> Result<R, IngestError> + Send + 'static,
        R: Send + 'static,
    {
        let fence = self.fence.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mailbox = self.mailbox.name().to_string();
        self.with(move |p| {
            p.store_mut().set_fence(fence);
            p.set_intake_mailbox(Some(mailbox));
            let r = f(p);
            p.set_intake_mailbox(None);
            p.store_mut().set_fence(None);
            r
        })
        .await
    }

    /// The pipeline's clock (set before the handle was made).
    pub fn clock(&self) -> Arc<dyn crate::clock::Clock> {
        self.clock.clone()
    }

    /// The state key of the source's `key` for this handle's mailbox
    /// (`mailbox.<name>.<key>`).
    pub fn mailbox_key(&self, key: &str) -> String {
        self.mailbox.state_key(key)
    }

    /// Notified whenever outgoing mail was queued.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Notified whenever a letter created or changed a ticket (deadlines may
    /// have moved: the escalation timer re-reads its next wake).
    pub fn tickets_changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// Escalate what is due now; wakes the sender when letters were queued.
    pub async fn escalate_due(&self) -> Result<usize, IngestError> {
        let (n, queued) = self.with(|p| p.escalate_due(p.now())).await?;
        if queued {
            self.wake.notify_one();
        }
        Ok(n)
    }

    /// Run `f` on the pipeline on a blocking thread.
    pub async fn with<R, F>(&self, f: F) -> Result<R, IngestError>
    where
        F: FnOnce(&mut Pipeline) -> Result<R, IngestError> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave the database
            // half-written (the transaction rolls back), so go on.
            let mut p = inner.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut p)
        })
        .await
        .map_err(|_| IngestError::Gone)?
    }

    pub async fn ingest(&self, raw: Vec<u8>) -> Result<IngestReport, IngestError> {
        let r = self.fenced(move |p| p.ingest(&raw)).await?;
        if r.queued_mail {
            self.wake.notify_one();
        }
        if matches!(r.outcome, super::Outcome::Created | super::Outcome::Updated) {
            self.changed.notify_one();
        }
        Ok(r)
    }

    /// Process several letters in one transaction ([`Pipeline::ingest_batch`]);
    /// one result per letter, in order. The sender is woken once, after the
    /// commit.
    pub async fn ingest_batch(&self, raws: Vec<Vec<u8>>) -> Vec<Result<IngestReport, IngestError>> {
        let n = raws.len();
        let results = match self.fenced(move |p| Ok(p.ingest_batch(&raws))).await {
            Ok(r) => r,
            Err(e) => {
                let why = e.to_string();
                (0..n)
                    .map(|_| Err(IngestError::Batch(why.clone())))
                    .collect()
            }
        };
        let ok = || results.iter().filter_map(|r| r.as_ref().ok());
        if ok().any(|r| r.queued_mail) {
            self.wake.notify_one();
        }
        if ok().any(|r| matches!(r.outcome, super::Outcome::Created | super::Outcome::Updated)) {
            self.changed.notify_one();
        }
        results
    }

    pub async fn reject_oversize(
        &self,
        headers: Vec<u8>,
        size: u64,
        limit: u64,
    ) -> Result<IngestReport, IngestError> {
        let r = self
            .fenced(move |p| p.reject_oversize(&headers, size, limit))
            .await?;
        if r.queued_mail {
            self.wake.notify_one();
        }
        Ok(r)
    }

    /// Take in an appeal or a letter ([`Pipeline::submit`]); wakes the
    /// sender and the escalation timer as [`Handle::ingest`] does.
    pub async fn submit(
        &self,
        s: super::submission::Submission,
    ) -> Result<IngestReport, IngestError> {
        let r = self.with(move |p| p.submit(s)).await?;
        self.woken(&r);
        Ok(r)
    }

    /// A status link's button ([`Pipeline::link_action`]).
    pub async fn link_action(
        &self,
        ticket: String,
        action: super::link::LinkAction,
    ) -> Result<super::link::LinkOutcome, IngestError> {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let r = self
            .with(move |p| p.link_action(&ticket, &action, &nonce))
            .await?;
        if r == super::link::LinkOutcome::Done {
            self.wake.notify_one();
            self.changed.notify_one();
        }
        Ok(r)
    }

    fn woken(&self, r: &IngestReport) {
        if r.queued_mail {
            self.wake.notify_one();
        }
        if matches!(r.outcome, super::Outcome::Created | super::Outcome::Updated) {
            self.changed.notify_one();
        }
    }

    pub async fn state_get(&self, key: &str) -> Result<Option<String>, IngestError> {
        let key = key.to_string();
        self.with(move |p| Ok(p.store().state_get(&key)?)).await
    }

    pub async fn state_set(&self, key: &str, value: &str) -> Result<(), IngestError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.with(move |p| Ok(p.store().state_set(&key, &value)?))
            .await
    }
}
