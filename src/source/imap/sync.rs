//! One pass over the watched folder.
//!
//! 1. `UID FETCH n:* (UID RFC822.SIZE)`: what is there and how big.
//! 2. Letters over the size limit: only `BODY.PEEK[HEADER]` is fetched and
//!    handed to the pipeline's oversize path.
//! 3. The rest in UID order, in batches bounded by count and bytes (so
//!    memory stays near the largest letter), `BODY.PEEK[]` by UID; the next
//!    batch is fetched while the pipeline works on the current one.
//! 4. A batch's letters are committed by the pipeline in one transaction
//!    (a savepoint per letter); the committed ones are then acknowledged
//!    together ([`super::ack`]: MOVE, or COPY + `\Deleted` + UID EXPUNGE,
//!    or `+FLAGS (\Seen)`, also when the server refuses the move), and the
//!    last UID is recorded. The session does this while the pipeline
//!    commits the next batch.
//!
//! A crash anywhere leaves uncommitted letters on the server; a committed
//! but unacknowledged letter comes back as a duplicate and is acknowledged
//! then. A transient pipeline failure ends the pass with the letter left.

use std::collections::HashSet;

use futures::TryStreamExt;
use tokio::sync::watch;

use super::ack::{self, AckState};
use super::conn::{proto, Caps, Session};
use super::Carry;
use super::{timed, ImapError, LetterSink, Position, Settings, KEY_LAST_SYNC, KEY_LAST_UID};

/// How often the last UID is written while a pass goes on.
const RECORD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// At most this many letters per body FETCH.
const BATCH_LETTERS: usize = 64;
/// At most this many bytes per body FETCH; a larger letter goes alone, so
/// a batch holds at most max(512 KiB, the largest letter). The FETCH
/// responses of a batch are in memory at once (async-imap's read blocks,
/// up to twice the letters' size), so this bounds intake's memory.
const BATCH_BYTES: u64 = 512 * 1024;

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Letters committed by the pipeline and acknowledged on the server.
    pub letters: usize,
    /// Of those, letters over the size limit handled from their headers.
    pub oversize: usize,
    /// Letters the pipeline refused permanently (left on the server, skipped).
    pub failed: usize,
}

impl SyncReport {
    fn add(&mut self, o: SyncReport) {
        self.letters += o.letters;
        self.oversize += o.oversize;
        self.failed += o.failed;
    }
}

/// A UID set in IMAP syntax, consecutive runs collapsed: `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// The work of a pass, decided from `(uid, size)` pairs: oversize letters,
/// and batches of the rest bounded by `max_letters` and `max_bytes`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub oversize: Vec<(u32, u64)>,
    pub batches: Vec<Vec<u32>>,
}

pub fn plan(mut items: Vec<(u32, u64)>, limit: u64, max_letters: usize, max_bytes: u64) -> Plan {
    items.sort_unstable();
    let mut p = Plan::default();
    let mut cur: Vec<u32> = Vec::new();
    let mut cur_bytes = 0u64;
    for (uid, size) in items {
        if size > limit {
            p.oversize.push((uid, size));
            continue;
        }
        if !cur.is_empty() && (cur.len() >= max_letters || cur_bytes + size > max_bytes) {
            p.batches.push(std::mem::take(&mut cur));
            cur_bytes = 0;
        }
        cur.push(uid);
        cur_bytes += size;
    }
    if !cur.is_empty() {
        p.batches.push(cur);
    }
    p
}

/// True when the server announced new letters that a pass may not have
/// seen (unsolicited `EXISTS`/`RECENT`); empties the queue.
pub fn drain_exists(session: &Session) -> bool {
    let mut seen = false;
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        if matches!(
            r,
            async_imap::types::UnsolicitedResponse::Exists(_)
                | async_imap::types::UnsolicitedResponse::Recent(_)
        ) {
            seen = true;
        }
    }
    seen
}

/// Passes until one finds nothing new; records the time of the sync.
pub async fn until_quiet<I: LetterSink>(
    session: &mut Session,
    caps: Caps,
    s: &Settings,
    intake: &I,
    pos: &mut Position,
    carry: &mut Carry,
    shutdown: &watch::Receiver<bool>,
) -> Result<SyncReport, ImapError> {
    let mut total = SyncReport::default();
    loop {
        let result = pass(session, caps, s, intake, pos, carry, shutdown).await;
        carry.ack.persist(intake).await?;
        let (report, found) = result?;
        total.add(report);
        if found == 0 || *shutdown.borrow() {
            break;
        }
    }
    let now = intake
        .clock()
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    intake
        .state_set(KEY_LAST_SYNC, &now)
        .await
        .map_err(ImapError::Sink)?;
    Ok(total)
}

/// One pass; returns the report and how many letters it found to work on.
async fn pass<I: LetterSink>(
    session: &mut Session,
    caps: Caps,
    s: &Settings,
    intake: &I,
    pos: &mut Position,
    carry: &mut Carry,
    shutdown: &watch::Receiver<bool>,
) -> Result<(SyncReport, usize), ImapError> {
    let Carry { skip, ack, .. } = carry;
    // Moved letters leave the folder, so everything there is unfinished
    // (a crash may leave a committed one: it returns as a duplicate).
    // Flagged letters stay, so only UIDs above the last one count.
    let from = ack.scan_from(pos.last_uid);
    // Each FETCH response keeps its ~4 KB read block: only (uid, size) is
    // kept from each as it arrives, so listing a backlog of thousands of
    // letters costs bytes per letter, not kilobytes.
    let listed: Vec<(u32, u64)> = timed("UID FETCH sizes", async {
        session
            .uid_fetch(format!("{from}:*"), "(UID RFC822.SIZE)")
            .await?
            .try_filter_map(|f| async move {
                Ok(f.uid.map(|uid| (uid, u64::from(f.size.unwrap_or(0)))))
            })
            .try_collect::<Vec<_>>()
            .await
    })
    .await?
    .map_err(proto("UID FETCH (RFC822.SIZE)"))?;
    let items: Vec<(u32, u64)> = listed
        .into_iter()
        .filter(|(uid, _)| *uid >= from && !skip.contains(&(pos.uidvalidity, *uid)))
        .collect();
    let found = items.len();
    let work = plan(items, s.limit_bytes, BATCH_LETTERS, BATCH_BYTES);
    let mut report = SyncReport::default();

    for (uid, size) in work.oversize {
        if *shutdown.borrow() {
            return Ok((report, found));
        }
        let fetched: Vec<_> = timed("UID FETCH header", async {
            session
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[HEADER])")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?
        .map_err(proto("UID FETCH (BODY.PEEK[HEADER])"))?;
        let Some(headers) = fetched
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.header())
        else {
            continue; // expunged meanwhile
        };
        match intake
            .reject_oversize(headers.to_vec(), size, s.limit_bytes)
            .await
        {
            Ok(summary) => {
                tracing::info!(
                    uid,
                    size,
                    limit = s.limit_bytes,
                    "oversize letter: {summary}"
                );
                ack::acknowledge(session, caps, ack, &[uid]).await?;
                record(intake, pos, uid).await?;
                report.letters += 1;
                report.oversize += 1;
            }
            Err(e) => failed(e, uid, pos, skip, &mut report)?,
        }
    }

    // Three things overlap: the pipeline commits batch k while the session
    // acknowledges batch k-1 (committed in the previous round) and fetches
    // batch k+1. A letter is still acknowledged only after its own commit.
    let mut batches = work.batches.into_iter();
    let mut next = match batches.next() {
        Some(b) if !*shutdown.borrow() => {
            let f = fetch_bodies(session, &b).await?;
            Some((b, f))
        }
        _ => None,
    };
    let mut committed: Vec<u32> = Vec::new();
    // The last UID is written at most once a second during a pass and at
    // its end: each write is a commit of its own, and a crash before it only
    // brings acknowledged letters back when they were flagged, not moved,
    // and then as duplicates.
    // The highest UID acknowledged in this pass (written by `record`).
    let mut acked_max = 0u32;
    let mut last_record = std::time::Instant::now();
    while let Some((batch, fetched)) = next.take() {
        let following = if *shutdown.borrow() {
            None
        } else {
            batches.next()
        };
        let uidvalidity = pos.uidvalidity;
        let previous = std::mem::take(&mut committed);
        let started = std::time::Instant::now();
        let (ingested, session_side) = tokio::join!(
            async {
                let r = ingest_batch(intake, &batch, fetched, uidvalidity, skip, &mut report).await;
                (r, started.elapsed())
            },
            async {
                let acked = done_with(session, caps, ack, &previous).await;
                let fetched = match (&acked, following) {
                    (Ok(()), Some(b)) => Some(fetch_bodies(session, &b).await.map(|f| (b, f))),
                    _ => None,
                };
                (acked, fetched, started.elapsed())
            }
        );
        let ((done, stop), ingest_time) = ingested;
        let (acked, prefetched, session_time) = session_side;
        acked?;
        report.letters += previous.len();
        if let Some(&last) = previous.iter().max() {
            acked_max = acked_max.max(last);
            if last_record.elapsed() >= RECORD_EVERY {
                record(intake, pos, acked_max).await?;
                last_record = std::time::Instant::now();
            }
        }
        tracing::debug!(
            letters = done.len(),
            ?ingest_time,
            ?session_time,
            "batch committed; the previous one acknowledged and the next fetched meanwhile"
        );
        committed = done;
        if let Some(e) = stop {
            finish(session, caps, ack, intake, pos, &committed, acked_max).await?;
            return Err(e);
        }
        next = match prefetched.transpose() {
            Ok(n) => n,
            Err(e) => {
                record(intake, pos, acked_max).await?;
                return Err(e);
            }
        };
    }
    finish(session, caps, ack, intake, pos, &committed, acked_max).await?;
    report.letters += committed.len();
    Ok((report, found))
}

/// The end of a pass: acknowledge the last committed batch and record the
/// highest UID acknowledged.
async fn finish<I: LetterSink>(
    session: &mut Session,
    caps: Caps,
    ack: &mut AckState,
    intake: &I,
    pos: &mut Position,
    committed: &[u32],
    acked_max: u32,
) -> Result<(), ImapError> {
    done_with(session, caps, ack, committed).await?;
    let last = committed.iter().copied().max().unwrap_or(0);
    record(intake, pos, acked_max.max(last)).await
}

/// Acknowledge committed letters on the server (nothing to do for none).
async fn done_with(
    session: &mut Session,
    caps: Caps,
    ack: &mut AckState,
    uids: &[u32],
) -> Result<(), ImapError> {
    if uids.is_empty() {
        return Ok(());
    }
    ack::acknowledge(session, caps, ack, uids).await
}

/// `UID FETCH` the bodies of one batch.
async fn fetch_bodies(
    session: &mut Session,
    batch: &[u32],
) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
    timed("UID FETCH body", async {
        session
            .uid_fetch(uid_set(batch), "(UID BODY.PEEK[])")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?
    .map_err(proto("UID FETCH (BODY.PEEK[])"))
}

/// Hand a fetched batch to the pipeline in UID order, in one call (one
/// transaction). Returns the UIDs committed and, when a transient failure
/// stopped the batch, the error (that letter and the rest stay on the
/// server). Each letter's bytes are copied out of its FETCH response and the
/// response freed at once: the batch is held once, not twice.
async fn ingest_batch<I: LetterSink>(
    intake: &I,
    batch: &[u32],
    fetched: Vec<async_imap::types::Fetch>,
    uidvalidity: u32,
    skip: &mut HashSet<(u32, u32)>,
    report: &mut SyncReport,
) -> (Vec<u32>, Option<ImapError>) {
    let mut fetched: Vec<_> = fetched
        .into_iter()
        .filter(|f| f.uid.is_some_and(|uid| batch.contains(&uid)) && f.body().is_some())
        .collect();
    fetched.sort_by_key(|f| std::cmp::Reverse(f.uid));
    let mut uids = Vec::with_capacity(fetched.len());
    let mut raws = Vec::with_capacity(fetched.len());
    while let Some(f) = fetched.pop() {
        let (Some(uid), Some(body)) = (f.uid, f.body()) else {
            continue;
        };
        raws.push(body.to_vec());
        uids.push(uid);
        drop(f);
    }
    let results = intake.ingest_batch(raws).await;
    let mut done = Vec::with_capacity(uids.len());
    for (uid, result) in uids.into_iter().zip(results) {
        match result {
            Ok(summary) => {
                tracing::debug!(uid, "{summary}");
                done.push(uid);
            }
            Err(e) if e.transient => return (done, Some(ImapError::Sink(e))),
            Err(e) => {
                tracing::error!(
                    uid,
                    "the pipeline refused the letter: {e}; it stays on the server and is skipped until restart"
                );
                skip.insert((uidvalidity, uid));
                report.failed += 1;
            }
        }
    }
    (done, None)
}

fn failed(
    e: super::SinkError,
    uid: u32,
    pos: &Position,
    skip: &mut HashSet<(u32, u32)>,
    report: &mut SyncReport,
) -> Result<(), ImapError> {
    if e.transient {
        return Err(ImapError::Sink(e));
    }
    tracing::error!(
        uid,
        "the pipeline refused the letter: {e}; it stays on the server and is skipped until restart"
    );
    skip.insert((pos.uidvalidity, uid));
    report.failed += 1;
    Ok(())
}

async fn record<I: LetterSink>(intake: &I, pos: &mut Position, uid: u32) -> Result<(), ImapError> {
    if uid > pos.last_uid {
        pos.last_uid = uid;
        intake
            .state_set(KEY_LAST_UID, &uid.to_string())
            .await
            .map_err(ImapError::Sink)?;
    }
    Ok(())
}
