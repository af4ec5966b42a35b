//! Delivering the outbox: due rows → transport → marked sent, retried or
//! failed.
//!
//! One dispatcher ([`dispatch`]) reads the due rows and hands each to one of
//! at most `outgoing.connections` concurrent sends, marking every outcome as
//! it arrives; the store is touched only by the dispatcher. The retry policy
//! is a pure function ([`next_attempt`]); the loop asks the transport's
//! error whether it is transient, never its internals.

use super::file::FileTransport;
use super::{QueuedLetter, SendError};
use crate::clock::Clock;
use crate::config::Outgoing;
use crate::store::outbox::Mark;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// The ways a letter can leave.
pub enum Transport {
    File(FileTransport),
    Smtp(Box<super::smtp::SmtpTransport>),
}

impl Transport {
    pub fn from_config(cfg: &Outgoing) -> Result<Transport, SendError> {
        Transport::with_token_status(cfg, None, crate::clock::system())
    }

    /// [`Transport::from_config`]; with `auth = "oauth2"` the token source
    /// reports its failures to `token_status` (`ticketd status`); outages
    /// are dated by `clock`.
    pub fn with_token_status(
        cfg: &Outgoing,
        token_status: Option<crate::oauth2::StatusSink>,
        clock: Arc<dyn Clock>,
    ) -> Result<Transport, SendError> {
        match cfg.kind {
            crate::config::OutgoingKind::File => {
                let dir = cfg
                    .dir
                    .clone()
                    .ok_or_else(|| SendError::permanent("outgoing.dir is not set"))?;
                Ok(Transport::File(FileTransport::new(dir)))
            }
            crate::config::OutgoingKind::Smtp => {
                let tokens = crate::outbox::smtp::oauth2::SmtpTokens::from_config(
                    cfg,
                    token_status,
                    clock.clone(),
                )?;
                let smtp = match tokens {
                    Some(tokens) => super::smtp::SmtpTransport::with_credentials(cfg, tokens)?,
                    None => super::smtp::SmtpTransport::new(cfg)?,
                };
                let smtp = smtp.with_clock(clock);
                Ok(Transport::Smtp(Box::new(smtp)))
            }
        }
    }

    /// How many letters may be sent at once: `outgoing.connections` for
    /// SMTP; the file transport writes one at a time.
    pub fn connections(&self) -> usize {
        match self {
            Transport::File(_) => 1,
            Transport::Smtp(s) => s.connections(),
        }
    }

    pub async fn send(&self, letter: &QueuedLetter) -> Result<(), SendError> {
        match self {
            Transport::File(f) => f.send(letter),
            Transport::Smtp(s) => s.send(letter).await,
        }
    }

    /// Whether the server cannot be used now (no connection could be set
    /// up), since when and why.
    pub fn blocked(&self) -> Option<super::smtp::Blocked> {
        match self {
            Transport::File(_) => None,
            Transport::Smtp(s) => s.blocked(),
        }
    }
}

/// The state key under which the outbox's blockage is kept for `ticketd
/// status`: a JSON `{"message", "since"}` (the shape of `imap_error`), or empty when the server works.
pub const BLOCKED_STATE: &str = "outbox.blocked";

/// Write the transport's blockage (or its end) for `ticketd status`, when
/// it changed.
fn record_blocked(store: &Store, transport: &Transport) -> Result<(), StoreError> {
    let now = match transport.blocked() {
        Some(b) => {
            serde_json::json!({"since": crate::store::ts(b.since), "message": b.reason}).to_string()
        }
        None => String::new(),
    };
    let before = store.state_get(BLOCKED_STATE)?.unwrap_or_default();
    if before != now {
        store.state_set(BLOCKED_STATE, &now)?;
    }
    Ok(())
}

/// What a delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Retry schedule: `base * 2^attempts`, capped; `None` once the letter is
/// older than the give-up age (it is then marked failed).
pub fn next_attempt(
    now: DateTime<Utc>,
    created: DateTime<Utc>,
    attempts: i64,
    cfg: &Outgoing,
) -> Option<DateTime<Utc>> {
    if now - created >= Duration::hours(cfg.give_up_hours as i64) {
        return None;
    }
    let exp = attempts.clamp(0, 30) as u32;
    let wait = cfg
        .retry_base_secs
        .saturating_mul(1u64 << exp)
        .min(cfg.retry_cap_secs);
    Some(now + Duration::seconds(wait as i64))
}

/// Due rows read from the store at a time (bounds the letters held in memory).
const BATCH: usize = 64;
/// How soon owed marks are tried again while intake holds the write lock.
const MARK_RETRY: std::time::Duration = std::time::Duration::from_millis(2);

/// Send everything due now on `clock`, until nothing due is left.
pub async fn deliver_due(
    store: &mut Store,
    transport: &Transport,
    cfg: &Outgoing,
    clock: &dyn Clock,
) -> Result<DeliveryReport, StoreError> {
    let (_keep, never) = watch::channel(false);
    deliver_due_until(store, transport, cfg, clock, &never).await
}

/// [`deliver_due`] that stops handing out letters once `stop` turns true
/// (the letters already in flight are finished and marked).
pub async fn deliver_due_until(
    store: &mut Store,
    transport: &Transport,
    cfg: &Outgoing,
    clock: &dyn Clock,
    stop: &watch::Receiver<bool>,
) -> Result<DeliveryReport, StoreError> {
    let report = dispatch(
        store,
        transport.connections(),
        cfg,
        clock,
        stop,
        |letter| async move {
            let result = transport.send(&letter).await;
            (letter, result)
        },
    )
    .await?;
    if report.sent + report.retried + report.failed > 0 {
        record_blocked(store, transport)?;
    }
    Ok(report)
}

/// The dispatcher: reads due rows (the only reader) and hands each to one
/// of at most `width` concurrent sends. Outcomes are written in groups, one
/// transaction each, without waiting while intake holds the write lock
/// (the connections go on sending meanwhile); once `width` are owed, no new
/// letter is handed out, the letters in flight are finished and the marks
/// tried again every 2 ms (the runtime thread is never blocked
/// while there is sending to do), and all are written before the pass
/// returns. A row is handed
/// out at most once per pass (rows in flight and rows already tried are
/// skipped when the store is read again), so no row is ever sent by two
/// connections at once, and a retry due at once waits for the next pass. A
/// crash between a send and its mark resends at most the letters in flight
/// and those owed: one with `width` 1, at most 2 × `width` − 1.
///
/// `send` takes the letter and gives it back with the outcome.
pub async fn dispatch<F, Fut>(
    store: &mut Store,
    width: usize,
    cfg: &Outgoing,
    clock: &dyn Clock,
    stop: &watch::Receiver<bool>,
    send: F,
) -> Result<DeliveryReport, StoreError>
where
    F: Fn(QueuedLetter) -> Fut,
    Fut: Future<Output = (QueuedLetter, Result<(), SendError>)>,
{
    let width = width.max(1);
    let mut report = DeliveryReport::default();
    let mut handed_out: HashSet<i64> = HashSet::new();
    let mut queue: VecDeque<QueuedLetter> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    // Outcomes not written yet (intake's transaction held the lock).
    let mut marks: Vec<Mark> = Vec::new();
    // Whether reading the store again may find rows not handed out yet.
    let mut may_find = true;
    loop {
        // Keep the connections busy first: reading never waits for a writer.
        // No new letter while `width` outcomes are owed (the resend bound).
        while in_flight.len() < width && marks.len() < width && !*stop.borrow() {
            if queue.is_empty() && may_find {
                queue = fresh(
                    store.outbox_due(clock.now(), BATCH + width, width)?,
                    &handed_out,
                );
                may_find = !queue.is_empty();
            }
            let Some(letter) = queue.pop_front() else {
                break;
            };
            handed_out.insert(letter.id);
            in_flight.push(send(letter));
        }
        // Then write the outcomes, all at once, without waiting for the
        // lock — unless `width` are owed already or nothing else is left to
        // do. A crash resends the letters in flight and those whose outcome
        // is not written: at most 2 × width − 1 (one letter with width 1,
        // where every outcome is written before the next send).
        let owed_full = marks.len() >= width;
        if store.outbox_marks(&marks, in_flight.is_empty())? {
            marks.clear();
            if owed_full && in_flight.is_empty() && !*stop.borrow() {
                // Handing out waited for these marks: go on.
                continue;
            }
        } else if owed_full {
            // Intake holds the write lock (a batch, some milliseconds): the
            // letters in flight go on meanwhile, and the marks are tried
            // again shortly; no new letter is handed out until they land.
            if let Ok(Some((letter, result))) =
                tokio::time::timeout(MARK_RETRY, in_flight.next()).await
            {
                marks.push(outcome(cfg, clock.now(), &letter, result, &mut report));
            }
            continue;
        }
        let Some((letter, result)) = in_flight.next().await else {
            return Ok(report);
        };
        marks.push(outcome(cfg, clock.now(), &letter, result, &mut report));
        while let Some(Some((letter, result))) = in_flight.next().now_or_never() {
            marks.push(outcome(cfg, clock.now(), &letter, result, &mut report));
        }
        may_find = true;
    }
}

/// The due rows not handed out yet in this pass, in the store's order.
pub fn fresh(due: Vec<QueuedLetter>, handed_out: &HashSet<i64>) -> VecDeque<QueuedLetter> {
    due.into_iter()
        .filter(|l| !handed_out.contains(&l.id))
        .collect()
}

/// One outcome — sent, retry later, or failed — logged and counted now,
/// written with the next group of marks.
fn outcome(
    cfg: &Outgoing,
    now: DateTime<Utc>,
    letter: &QueuedLetter,
    result: Result<(), SendError>,
    report: &mut DeliveryReport,
) -> Mark {
    match result {
        Ok(()) => {
            tracing::info!(message_id = %letter.message_id, "letter sent");
            report.sent += 1;
            Mark::Sent {
                id: letter.id,
                at: now,
            }
        }
        Err(e) if e.is_transient() => {
            match next_attempt(now, letter.created_at, letter.attempts, cfg) {
                Some(next) => {
                    if e.is_connection() {
                        // The transport logs the outage once, not per letter.
                        tracing::debug!(message_id = %letter.message_id, error = %e, retry_at = %next, "server unusable, will retry");
                    } else {
                        tracing::warn!(message_id = %letter.message_id, error = %e, retry_at = %next, "delivery failed, will retry");
                    }
                    report.retried += 1;
                    Mark::Retry {
                        id: letter.id,
                        next,
                        error: e.to_string(),
                    }
                }
                None => {
                    tracing::error!(message_id = %letter.message_id, error = %e, "delivery failed for too long, giving up");
                    report.failed += 1;
                    Mark::Failed {
                        id: letter.id,
                        error: format!("gave up: {e}"),
                    }
                }
            }
        }
        Err(e) => {
            tracing::error!(message_id = %letter.message_id, error = %e, "delivery refused");
            report.failed += 1;
            Mark::Failed {
                id: letter.id,
                error: e.to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: crate::clock::SystemClock = crate::clock::SystemClock;

    fn cfg() -> Outgoing {
        toml::from_str("kind = \"file\"\ndir = \"x\"\nretry_base_secs = 5\nretry_cap_secs = 60\ngive_up_hours = 1").unwrap()
    }

    fn store_with(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(
            &dir.path().join("db.sqlite3"),
            std::time::Duration::from_millis(500),
        )
        .unwrap();
        let at = SYSTEM.now() - Duration::seconds(1);
        let tx = store.begin().unwrap();
        for i in 0..n {
            let l = crate::outbox::OutgoingLetter {
                message_id: format!("m{i}@test"),
                ticket_id: None,
                kind: "confirmation".into(),
                from: "support@sed.example.org".into(),
                to: vec![format!("user{i}@example.com")],
                raw: format!("Subject: {i}\r\n\r\nbody\r\n").into_bytes(),
            };
            crate::store::outbox::enqueue(&tx, &l, at).unwrap();
        }
        tx.commit().unwrap();
        (dir, store)
    }

    fn statuses(store: &Store) -> Vec<(String, i64)> {
        let mut st = store
            .conn()
            .prepare("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A fake server: counts sends per row and the most sends at once;
    /// rows whose id is divisible by `transient_every` fail temporarily,
    /// by `permanent_every` permanently.
    #[derive(Default)]
    struct Fake {
        sends: std::sync::Mutex<std::collections::HashMap<i64, usize>>,
        now: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
        /// Set while another connection holds the write lock; sends started
        /// and finished meanwhile are counted.
        locked: std::sync::Arc<std::sync::atomic::AtomicBool>,
        started_locked: std::sync::atomic::AtomicUsize,
        finished_locked: std::sync::atomic::AtomicUsize,
    }

    impl Fake {
        async fn send(
            &self,
            l: QueuedLetter,
            transient_every: i64,
            permanent_every: i64,
        ) -> (QueuedLetter, Result<(), SendError>) {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.now.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            if self.locked.load(SeqCst) {
                self.started_locked.fetch_add(1, SeqCst);
            }
            *self.sends.lock().unwrap().entry(l.id).or_default() += 1;
            // Vary the time each send takes so completions interleave.
            tokio::time::sleep(std::time::Duration::from_millis(1 + (l.id % 5) as u64)).await;
            self.now.fetch_sub(1, SeqCst);
            if self.locked.load(SeqCst) {
                self.finished_locked.fetch_add(1, SeqCst);
            }
            let r = if l.id % permanent_every == 0 {
                Err(SendError::permanent("550 no such user"))
            } else if l.id % transient_every == 0 {
                Err(SendError::transient("421 try later"))
            } else {
                Ok(())
            };
            (l, r)
        }
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn dispatch_sends_each_row_once_with_bounded_width() {
        // (rows, width, transient_every, permanent_every)
        let cases = [
            (150, 4, 1000, 1000),
            (150, 1, 1000, 1000),
            (10, 32, 1000, 1000),
            (100, 4, 7, 11),
            (0, 4, 1000, 1000),
        ];
        for (rows, width, te, pe) in cases {
            let (_dir, mut store) = store_with(rows);
            let fake = Fake::default();
            let (_keep, never) = watch::channel(false);
            let report = run(dispatch(&mut store, width, &cfg(), &SYSTEM, &never, |l| {
                fake.send(l, te, pe)
            }))
            .unwrap();
            let sends = fake.sends.lock().unwrap();
            assert_eq!(sends.len(), rows, "every row handed out ({rows}, {width})");
            assert!(sends.values().all(|&n| n == 1), "no row twice in one pass");
            let peak = fake.peak.load(std::sync::atomic::Ordering::SeqCst);
            assert!(peak <= width, "peak {peak} > width {width}");
            if rows >= 2 * width {
                assert_eq!(peak, width, "all {width} connections used");
            }
            let failed = (1..=rows as i64).filter(|id| id % pe == 0).count();
            let retried = (1..=rows as i64)
                .filter(|id| id % pe != 0 && id % te == 0)
                .count();
            assert_eq!(
                report,
                DeliveryReport {
                    sent: rows - failed - retried,
                    retried,
                    failed
                }
            );
            let mut want = Vec::new();
            if failed > 0 {
                want.push(("failed".to_string(), failed as i64));
            }
            if retried > 0 {
                want.push(("pending".to_string(), retried as i64));
            }
            if rows - failed - retried > 0 {
                want.push(("sent".to_string(), (rows - failed - retried) as i64));
            }
            assert_eq!(statuses(&store), want);
        }
    }

    #[test]
    fn marks_do_not_wait_for_intake_and_all_land() {
        // Another connection holds the write lock (intake's transaction)
        // while the pass runs: sending goes on, the outcomes are written
        // once the lock is free, none is lost or written twice.
        let (dir, mut store) = store_with(40);
        let other = Store::open(
            &dir.path().join("db.sqlite3"),
            std::time::Duration::from_millis(500),
        )
        .unwrap();
        other.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
        let pending = [Mark::Sent {
            id: 1,
            at: SYSTEM.now(),
        }];
        assert!(
            !store.outbox_marks(&pending, false).unwrap(),
            "a locked database is reported, not waited for"
        );
        assert_eq!(statuses(&store), vec![("pending".to_string(), 40)]);
        let fake = Fake::default();
        fake.locked.store(true, std::sync::atomic::Ordering::SeqCst);
        let locked = fake.locked.clone();
        let (_keep, never) = watch::channel(false);
        // Intake commits on its own thread, as in the daemon.
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            locked.store(false, std::sync::atomic::Ordering::SeqCst);
            other.conn().execute_batch("COMMIT").unwrap();
        });
        let cfg = cfg();
        let report = run(dispatch(&mut store, 4, &cfg, &SYSTEM, &never, |l| {
            fake.send(l, 1000, 1000)
        }))
        .unwrap();
        release.join().unwrap();
        // While the lock was held: the connections were kept busy up to the
        // resend bound (no more than 2 × 4 − 1 letters sent and not marked),
        // and the letters in flight were finished, not left waiting.
        let started = fake
            .started_locked
            .load(std::sync::atomic::Ordering::SeqCst);
        let finished = fake
            .finished_locked
            .load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            (4..=7).contains(&started),
            "{started} sends started while locked"
        );
        assert_eq!(finished, started, "sends in flight finished while locked");
        assert_eq!(report.sent, 40);
        assert!(fake.sends.lock().unwrap().values().all(|&n| n == 1));
        assert_eq!(statuses(&store), vec![("sent".to_string(), 40)]);
    }

    #[test]
    fn dispatch_stops_handing_out_when_told() {
        let (_dir, mut store) = store_with(20);
        let fake = Fake::default();
        let (tx, stop) = watch::channel(false);
        tx.send(true).unwrap();
        let report = run(dispatch(&mut store, 4, &cfg(), &SYSTEM, &stop, |l| {
            fake.send(l, 1000, 1000)
        }))
        .unwrap();
        assert_eq!(report, DeliveryReport::default());
        assert_eq!(statuses(&store), vec![("pending".to_string(), 20)]);
    }

    #[test]
    fn fresh_skips_rows_handed_out() {
        let letter = |id| QueuedLetter {
            id,
            message_id: format!("m{id}"),
            from: String::new(),
            to: vec![],
            raw: vec![],
            attempts: 0,
            created_at: SYSTEM.now(),
        };
        // (due ids, handed out, expected)
        let cases: &[(&[i64], &[i64], &[i64])] = &[
            (&[1, 2, 3], &[], &[1, 2, 3]),
            (&[1, 2, 3], &[2], &[1, 3]),
            (&[3, 1, 2], &[1, 2, 3], &[]),
            (&[], &[1], &[]),
            (&[5, 4], &[9], &[5, 4]),
        ];
        for (due, out, want) in cases {
            let handed: HashSet<i64> = out.iter().copied().collect();
            let got: Vec<i64> = fresh(due.iter().map(|&i| letter(i)).collect(), &handed)
                .into_iter()
                .map(|l| l.id)
                .collect();
            assert_eq!(&got, want, "due {due:?} handed out {out:?}");
        }
    }

    #[test]
    fn retry_schedule() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cases = [
            (0, 0, Some(5)),
            (1, 0, Some(10)),
            (3, 0, Some(40)),
            (4, 0, Some(60)),
            (40, 0, Some(60)),
            (2, 3600, None),
        ];
        for (attempts, age, want) in cases {
            let now = t0 + Duration::seconds(age);
            let got = next_attempt(now, t0, attempts, &cfg()).map(|t| (t - now).num_seconds());
            assert_eq!(got, want, "attempts {attempts} age {age}");
        }
    }
}
