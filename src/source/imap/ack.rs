//! Acknowledging committed letters on the server, and what to do when the
//! server refuses to take them into `processed_folder`.
//!
//! A refused `CREATE`, `COPY` or `MOVE` (a tagged NO or BAD) is not a lost
//! connection: reconnecting would only download the same letters again
//! (they are still in the folder) and meet the same answer. So a refusal
//! is named once, with the server's words, kept in the store's daemon state
//! for `ticketd status`, and the letters are flagged `\Seen` instead: intake
//! goes on. While moving is refused the folder is read from the last
//! acknowledged UID on (as with `after_processing = "flag"`), so the flagged
//! letters are not fetched again; moving is tried again every
//! [`RETRY_MOVE`] and at every connection, and the error is cleared when it
//! works. The folder is then read from UID 1 again, so the letters flagged
//! meanwhile come back once, are recognised as already processed (the
//! pipeline's exactly-once identity) and moved. A lost connection (anything but NO/BAD) is still an error that
//! ends the session and is retried with backoff.

use std::time::{Duration, Instant};

use futures::TryStreamExt;

use super::conn::{proto, Caps, Session};
use super::folders;
use super::{timed, ImapError, LetterSink};

/// How long letters are only flagged after a refusal before moving is tried again.
pub const RETRY_MOVE: Duration = Duration::from_secs(300);
/// State key: the server's refusal of the processed folder (empty: none).
pub const KEY_ACK_ERROR: &str = "imap.ack_error";
/// State key: RFC 3339 time of the first such refusal.
pub const KEY_ACK_ERROR_SINCE: &str = "imap.ack_error_since";

/// What a failed command means for intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered NO or BAD: it refuses, the connection is fine.
    Refused(String),
    /// Anything else (I/O, connection lost, unparsable answer): reconnect.
    Lost(String),
}

/// Sort a failed command's error into [`Failure`].
pub fn classify(e: &async_imap::error::Error) -> Failure {
    use async_imap::error::Error;
    match e {
        Error::No(_) | Error::Bad(_) => Failure::Refused(folders::server_answer(e)),
        other => Failure::Lost(other.to_string()),
    }
}

/// How to acknowledge the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// MOVE (or COPY + EXPUNGE) into the processed folder.
    Move,
    /// Only `+FLAGS (\Seen)`.
    Flag,
}

/// The refusal being reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckError {
    pub message: String,
    /// RFC 3339, the first refusal with this message.
    pub since: String,
}

/// Acknowledgement state of one watcher, kept across reconnections.
#[derive(Debug, Clone, Default)]
pub struct AckState {
    /// `after_processing = "move"`.
    pub move_after: bool,
    /// The processed folder as the server names it (see [`folders::resolve`]).
    pub folder: String,
    /// The refusal in force, if any.
    pub error: Option<AckError>,
    /// While set and in the future, letters are flagged without trying to move.
    pub retry_at: Option<Instant>,
    /// The error changed since it was last written to the store.
    pub dirty: bool,
    /// The error in force was logged by this process (one taken over from
    /// an earlier run is logged again, once).
    logged: bool,
    /// Where the time of a refusal comes from (`None`: the system's clock).
    clock: Option<std::sync::Arc<dyn crate::clock::Clock>>,
}

impl AckState {
    pub fn new(move_after: bool, folder: &str) -> AckState {
        AckState {
            move_after,
            folder: folder.to_string(),
            ..AckState::default()
        }
    }

    /// Read the time of refusals from `clock`.
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn crate::clock::Clock>) -> AckState {
        self.clock = Some(clock);
        self
    }

    /// The first UID a pass looks at. Moved letters leave the folder, so
    /// everything there is unfinished: from 1. Flagged letters stay, so only
    /// UIDs above the last acknowledged one count; that includes moving
    /// while the server refuses it (the letters were flagged instead).
    pub fn scan_from(&self, last_uid: u32) -> u32 {
        if self.move_after && self.error.is_none() {
            1
        } else {
            last_uid.saturating_add(1)
        }
    }

    /// What to do with the next batch at `now`.
    pub fn step(&self, now: Instant) -> Step {
        if !self.move_after || self.retry_at.is_some_and(|t| now < t) {
            Step::Flag
        } else {
            Step::Move
        }
    }

    /// The server refused `what` with `answer` at `now` (`at`: RFC 3339).
    /// Returns true when this refusal is news and must be logged: the
    /// first one, or a different answer; the same answer again is not.
    pub fn refused(&mut self, what: &str, answer: &str, now: Instant, at: &str) -> bool {
        let message = format!("{what} {}: the server answered \"{answer}\"", self.folder);
        self.retry_at = Some(now + RETRY_MOVE);
        let same = self.error.as_ref().is_some_and(|e| e.message == message);
        if same && self.logged {
            return false;
        }
        if !same {
            self.error = Some(AckError {
                message,
                since: at.to_string(),
            });
            self.dirty = true;
        }
        self.logged = true;
        true
    }

    /// A move worked. Returns the error it clears (to log), if any.
    pub fn moved(&mut self) -> Option<AckError> {
        self.retry_at = None;
        self.logged = false;
        let was = self.error.take();
        if was.is_some() {
            self.dirty = true;
        }
        was
    }

    /// Take over a refusal recorded by an earlier run: flag from the last UID
    /// on, but try moving at the first batch.
    pub fn restore(&mut self, message: Option<String>, since: Option<String>) {
        if self.error.is_none() {
            if let Some(message) = message.filter(|m| !m.is_empty()) {
                self.error = Some(AckError {
                    message,
                    since: since.unwrap_or_default(),
                });
            }
        }
    }

    /// Write the error (or its absence) to the store when it changed.
    pub async fn persist<I: LetterSink>(&mut self, intake: &I) -> Result<(), ImapError> {
        if !self.dirty {
            return Ok(());
        }
        let (message, since) = match &self.error {
            Some(e) => (e.message.as_str(), e.since.as_str()),
            None => ("", ""),
        };
        intake
            .state_set(KEY_ACK_ERROR, message)
            .await
            .map_err(ImapError::Sink)?;
        intake
            .state_set(KEY_ACK_ERROR_SINCE, since)
            .await
            .map_err(ImapError::Sink)?;
        self.dirty = false;
        Ok(())
    }
}

fn now_rfc3339(ack: &AckState) -> String {
    use crate::clock::Clock;
    let now = match &ack.clock {
        Some(c) => c.now(),
        None => crate::clock::SystemClock.now(),
    };
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Note a refusal; a news one is logged as a warning, once.
pub fn note_refusal(ack: &mut AckState, what: &str, answer: &str) {
    let at = now_rfc3339(ack);
    if ack.refused(what, answer, Instant::now(), &at) {
        tracing::warn!(
            folder = %ack.folder,
            "{what} {} refused by the server: {answer}; letters are flagged \\Seen and left in the folder instead (intake goes on; moving is tried again every {} min; check mailbox.processed_folder and the mailbox's rights)",
            ack.folder,
            RETRY_MOVE.as_secs() / 60
        );
    }
}

/// Make sure the processed folder exists (at connection, and before moving
/// again after a refusal). A refusal is noted; a lost connection is an error.
pub async fn prepare(session: &mut Session, ack: &mut AckState) -> Result<(), ImapError> {
    if !ack.move_after {
        return Ok(());
    }
    let wire = folders::encode_mutf7(&ack.folder);
    match timed("CREATE", folders::ensure(session, &wire)).await? {
        Ok(()) => Ok(()),
        Err(e) => match classify(&e) {
            Failure::Refused(answer) => {
                note_refusal(ack, "CREATE", &answer);
                Ok(())
            }
            Failure::Lost(m) => Err(ImapError::Protocol(format!("CREATE {}: {m}", ack.folder))),
        },
    }
}

/// Acknowledge committed letters: move them to the processed folder or
/// flag them seen; a refused move falls back to the flag.
pub async fn acknowledge(
    session: &mut Session,
    caps: Caps,
    ack: &mut AckState,
    uids: &[u32],
) -> Result<(), ImapError> {
    let set = super::uid_set(uids);
    // Trying again after a refusal: the folder may be missing.
    if ack.step(Instant::now()) == Step::Move && (ack.retry_at.is_some() || ack.error.is_some()) {
        ack.retry_at = None;
        prepare(session, ack).await?;
    }
    if ack.step(Instant::now()) == Step::Flag {
        return store(session, &set, "+FLAGS.SILENT (\\Seen)").await;
    }
    let wire = folders::encode_mutf7(&ack.folder);
    match move_letters(session, caps, &wire, &set).await? {
        Ok(()) => {
            if let Some(was) = ack.moved() {
                tracing::info!(folder = %ack.folder, "letters are moved to {} again (the refusal since {} is over)", ack.folder, was.since);
            }
            Ok(())
        }
        Err((what, answer)) => {
            note_refusal(ack, what, &answer);
            store(session, &set, "+FLAGS.SILENT (\\Seen)").await
        }
    }
}

/// MOVE, or COPY + `\Deleted` + EXPUNGE. The inner `Err` is a refusal of
/// MOVE or COPY (command, server's answer); the outer one a lost connection.
async fn move_letters(
    session: &mut Session,
    caps: Caps,
    folder: &str,
    set: &str,
) -> Result<Result<(), (&'static str, String)>, ImapError> {
    let (what, result) = if caps.mv {
        (
            "UID MOVE",
            timed("UID MOVE", session.uid_mv(set, folder)).await?,
        )
    } else {
        (
            "UID COPY",
            timed("UID COPY", session.uid_copy(set, folder)).await?,
        )
    };
    if let Err(e) = result {
        return match classify(&e) {
            Failure::Refused(answer) => Ok(Err((what, answer))),
            Failure::Lost(m) => Err(ImapError::Protocol(format!("{what} to {folder}: {m}"))),
        };
    }
    if caps.mv {
        return Ok(Ok(()));
    }
    store(session, set, "+FLAGS.SILENT (\\Deleted)").await?;
    if caps.uidplus {
        timed("UID EXPUNGE", async {
            session
                .uid_expunge(set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?
        .map_err(proto("UID EXPUNGE"))?;
    } else {
        timed("EXPUNGE", async {
            session.expunge().await?.try_collect::<Vec<_>>().await
        })
        .await?
        .map_err(proto("EXPUNGE"))?;
    }
    Ok(Ok(()))
}

async fn store(session: &mut Session, set: &str, what: &str) -> Result<(), ImapError> {
    timed("UID STORE", async {
        session
            .uid_store(set, what)
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?
    .map_err(proto("UID STORE"))?;
    Ok(())
}
