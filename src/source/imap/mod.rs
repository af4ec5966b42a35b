//! IMAP intake: watch a mailbox folder (IDLE when offered, polling when
//! not), hand every new letter to the pipeline, and acknowledge it on the
//! server — MOVE to `processed_folder` or set `\Seen` — only after the
//! pipeline has committed it.
//!
//! * [`conn`]: connecting, TLS (implicit / STARTTLS / none), login, capabilities.
//! * [`sync`]: one pass over the folder: sizes first, oversize letters as
//!   headers only, the rest fetched by UID in bounded batches, committed,
//!   then acknowledged.
//! * [`folders`]: the server's name for `processed_folder` (RFC 2342
//!   NAMESPACE: `Processed` is `INBOX.Processed` on Cyrus), LIST/CREATE.
//! * [`ack`]: MOVE / COPY / `\Seen`, and a refused CREATE/COPY/MOVE: named
//!   once, shown in `ticketd status`, letters flagged instead.
//!
//! The pipeline is reached through the [`LetterSink`] trait so this module can
//! be driven by `pipeline::Handle` in the daemon and by a recorder in tests.
//! Position (UIDVALIDITY, last UID) and the time of the last successful
//! sync live in the store's daemon state under the `imap.*` keys, which the
//! daemon's sink keeps per mailbox (`mailbox.<name>.imap.*`).
//! Connection loss is retried with backoff capped at 30 s and logged once
//! per outage; a connection counts as restored only after a complete sync,
//! so a session that connects and then fails again does not reconnect in a
//! tight loop.

pub mod ack;
pub mod conn;
pub mod folders;
pub mod sync;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use crate::config::{Config, ImapMailbox};
use ack::AckState;
use conn::{proto, Caps, Session, Target};
pub use sync::{uid_set, SyncReport};

// The state keys below are the source's own; the daemon's intake keeps
// them per mailbox, as `mailbox.<name>.<key>` (`config::Mailbox::state_key`).

/// State key: UIDVALIDITY of the watched folder.
pub const KEY_UIDVALIDITY: &str = "imap.uidvalidity";
/// State key: highest UID committed and acknowledged.
pub const KEY_LAST_UID: &str = "imap.last_uid";
/// State key: RFC 3339 time of the last complete sync (for `ticketd status`).
pub const KEY_LAST_SYNC: &str = "imap.last_sync";
/// State key: the connection's last failure, `{"at": RFC 3339, "message"}`
/// as JSON, written once per outage and emptied by the next complete sync
/// (for `ticketd status`).
pub const KEY_LAST_ERROR: &str = "imap.last_error";

/// Longest wait between reconnection attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// Bound on any single IMAP command round trip outside IDLE.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

pub use super::{LetterSink, SinkError};

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("IMAP configuration: {0}")]
    Config(String),
    #[error("IMAP TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    TlsSetup(#[from] crate::tls::TlsError),
    #[error("IMAP connection: {0}")]
    Connect(String),
    #[error("IMAP login as `{user}` refused: {message} (check mailbox.user and the password in mailbox.password_file / mailbox.password_env)")]
    Login { user: String, message: String },
    #[error("IMAP login as `{user}` with an OAuth2 token refused, also with a freshly refreshed one: {message} (check mailbox.user and that the token's scope, mailbox.scope, grants IMAP access)")]
    OAuthLogin { user: String, message: String },
    /// No access token (logged by `crate::oauth2` once per outage).
    #[error(transparent)]
    Token(#[from] crate::oauth2::OAuthError),
    #[error("IMAP: {0}")]
    Protocol(String),
    #[error("IMAP: timed out {0}")]
    Timeout(String),
    #[error("pipeline: {0} (the letter stays on the server and is tried again)")]
    Sink(SinkError),
}

/// What a watcher carries from one connection to the next.
#[derive(Debug, Default)]
pub struct Carry {
    /// Letters the pipeline refused for good: (UIDVALIDITY, UID), skipped
    /// until restart.
    pub skip: HashSet<(u32, u32)>,
    /// How letters are acknowledged, and a refusal of the processed folder.
    pub ack: AckState,
    /// The failure recorded under [`KEY_LAST_ERROR`] (emptied by the next
    /// complete sync); a different one replaces it (a cut connection, then
    /// a refused login: the login is what the admin must fix).
    pub error_shown: Option<String>,
    /// [`KEY_LAST_ERROR`] was emptied since this watcher started.
    pub error_cleared: bool,
}

/// Per-connection settings derived from `[mailbox]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub folder: String,
    pub processed_folder: String,
    pub move_after: bool,
    pub limit_bytes: u64,
    pub idle_refresh: Duration,
    pub poll_interval: Duration,
    /// The wake hook ([`crate::source::wake`]): leave IDLE and sync at once.
    pub wake: Option<Arc<Notify>>,
}

impl Settings {
    pub fn from_config(m: &ImapMailbox) -> Settings {
        Settings {
            folder: m.folder.clone(),
            processed_folder: m.processed_folder.clone(),
            move_after: m.after_processing == crate::config::AfterProcessing::Move,
            limit_bytes: (m.max_letter_mb.max(0.0) * 1024.0 * 1024.0) as u64,
            idle_refresh: Duration::from_secs(m.idle_refresh_secs.max(1)),
            poll_interval: Duration::from_secs(m.poll_interval_secs.max(1)),
            wake: None,
        }
    }
}

/// Delay before reconnection attempt `attempt` (0-based): 1, 2, 4, … s, capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    let secs = 1u64.checked_shl(attempt.min(16)).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(BACKOFF_CAP)
}

/// The `[mailbox]` of an IMAP desk.
fn imap_of(cfg: &Config) -> Result<&ImapMailbox, ImapError> {
    cfg.mailbox.imap().ok_or_else(|| {
        ImapError::Config(format!(
            "[mailbox] in `{}` is kind = \"maildir\", not \"imap\"",
            cfg.source_path.display()
        ))
    })
}

/// One complete pass for `ticketd run --once`: connect, process everything
/// waiting in the folder, log out.
pub async fn sync_once<I: LetterSink>(cfg: &Config, intake: &I) -> Result<SyncReport, ImapError> {
    sync_mailbox(cfg, imap_of(cfg)?, intake).await
}

/// [`sync_once`] of the IMAP mailbox `m` (one of `[[mailboxes]]`).
pub async fn sync_mailbox<I: LetterSink>(
    cfg: &Config,
    m: &ImapMailbox,
    intake: &I,
) -> Result<SyncReport, ImapError> {
    let target = Target::from_config(m, intake.clock())?;
    target.report_token_status(cfg);
    let settings = Settings::from_config(m);
    let (mut session, caps) = target.open().await?;
    let mut carry = Carry {
        ack: AckState::new(settings.move_after, &settings.processed_folder)
            .with_clock(intake.clock()),
        ..Carry::default()
    };
    let mut pos = open_folder(&mut session, &settings, intake, &mut carry.ack).await?;
    let (_, never) = watch::channel(false);
    let report = sync::until_quiet(
        &mut session,
        caps,
        &settings,
        intake,
        &mut pos,
        &mut carry,
        &never,
    )
    .await?;
    let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
    Ok(report)
}

/// The daemon's intake task: runs until `shutdown` turns true (or its
/// sender is dropped). Returns an error only for a config that cannot
/// work (missing keys, unreadable password or CA file); everything on the
/// network is retried.
pub async fn watch<I: LetterSink>(
    cfg: &Config,
    intake: I,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ImapError> {
    watch_woken(cfg, intake, shutdown, None).await
}

/// [`watch()`] that also leaves IDLE (or its poll sleep) and syncs at once
/// whenever `wake` is notified (the wake hook).
pub async fn watch_woken<I: LetterSink>(
    cfg: &Config,
    intake: I,
    shutdown: watch::Receiver<bool>,
    wake: Option<Arc<Notify>>,
) -> Result<(), ImapError> {
    watch_mailbox(cfg, imap_of(cfg)?, intake, shutdown, wake).await
}

/// [`watch_woken`] of the IMAP mailbox `m` (one of `[[mailboxes]]`): its
/// own connection, backoff and position; its failures are recorded under
/// its state ([`KEY_LAST_ERROR`]).
pub async fn watch_mailbox<I: LetterSink>(
    cfg: &Config,
    m: &ImapMailbox,
    intake: I,
    mut shutdown: watch::Receiver<bool>,
    wake: Option<Arc<Notify>>,
) -> Result<(), ImapError> {
    let target = Target::from_config(m, intake.clock())?;
    target.report_token_status(cfg);
    let settings = Settings {
        wake,
        ..Settings::from_config(m)
    };
    let mut outage: Option<Instant> = None;
    let mut attempt = 0u32;
    let mut carry = Carry {
        ack: AckState::new(settings.move_after, &settings.processed_folder)
            .with_clock(intake.clock()),
        ..Carry::default()
    };
    loop {
        if stopping(&shutdown) {
            return Ok(());
        }
        match session_loop(
            &target,
            &settings,
            &intake,
            &mut shutdown,
            &mut outage,
            &mut carry,
        )
        .await
        {
            Ok(()) => return Ok(()),
            Err(e) => {
                if outage.is_none() && matches!(e, ImapError::Token(_)) {
                    // crate::oauth2 has logged it, once per outage.
                    tracing::debug!(mailbox = ?target, "{e}; reconnecting with backoff");
                    outage = Some(Instant::now());
                    attempt = 0;
                } else if outage.is_none() {
                    tracing::warn!(mailbox = ?target, "{e}; reconnecting (backoff up to 30 s, logged again when restored)");
                    outage = Some(Instant::now());
                    attempt = 0;
                } else {
                    tracing::debug!(mailbox = ?target, attempt, "still failing: {e}");
                }
                let message = e.to_string();
                if carry.error_shown.as_deref() != Some(message.as_str()) {
                    let at = crate::store::ts(intake.clock().now());
                    let v = serde_json::json!({"at": at, "message": message}).to_string();
                    if intake.state_set(KEY_LAST_ERROR, &v).await.is_ok() {
                        carry.error_shown = Some(message);
                    }
                }
                let delay = backoff(attempt);
                attempt = attempt.saturating_add(1);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// Folder position as kept in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// Decide the position after SELECT: a changed UIDVALIDITY restarts from
/// UID 0 (the pipeline's Message-ID/content dedupe absorbs letters seen
/// before); the same one keeps the stored last UID.
pub fn resume(stored: Option<Position>, uidvalidity: u32) -> (Position, bool) {
    match stored {
        Some(p) if p.uidvalidity == uidvalidity => (p, false),
        Some(_) => (
            Position {
                uidvalidity,
                last_uid: 0,
            },
            true,
        ),
        None => (
            Position {
                uidvalidity,
                last_uid: 0,
            },
            false,
        ),
    }
}

async fn open_folder<I: LetterSink>(
    session: &mut Session,
    s: &Settings,
    intake: &I,
    ack: &mut AckState,
) -> Result<Position, ImapError> {
    if s.move_after {
        // The server's name for the folder, then make sure it exists before
        // the first commit. A refusal is noted (letters are then flagged);
        // a fresh connection always tries again.
        let personal = timed("NAMESPACE", folders::namespace(session)).await??;
        let folder = folders::resolve(&s.processed_folder, personal.as_ref());
        if folder != ack.folder {
            tracing::info!(
                configured = %s.processed_folder,
                namespace = ?personal,
                "processed letters go to {folder}"
            );
            ack.folder = folder;
        }
        let stored = intake
            .state_get(ack::KEY_ACK_ERROR)
            .await
            .map_err(ImapError::Sink)?;
        let since = intake
            .state_get(ack::KEY_ACK_ERROR_SINCE)
            .await
            .map_err(ImapError::Sink)?;
        ack.restore(stored, since);
        ack.retry_at = None;
        ack::prepare(session, ack).await?;
        ack.persist(intake).await?;
    } else if intake
        .state_get(ack::KEY_ACK_ERROR)
        .await
        .map_err(ImapError::Sink)?
        .is_some_and(|m| !m.is_empty())
    {
        // Switched to flag mode: a refusal of the move is history.
        ack.dirty = true;
        ack.persist(intake).await?;
    }
    let mailbox = timed("SELECT", session.select(folders::encode_mutf7(&s.folder)))
        .await?
        .map_err(|e| {
            ImapError::Protocol(format!("SELECT {}: {e} (check mailbox.folder)", s.folder))
        })?;
    let uidvalidity = mailbox.uid_validity.unwrap_or(0);
    let stored_v = intake
        .state_get(KEY_UIDVALIDITY)
        .await
        .map_err(ImapError::Sink)?;
    let stored_u = intake
        .state_get(KEY_LAST_UID)
        .await
        .map_err(ImapError::Sink)?;
    let stored = match (
        stored_v.and_then(|v| v.parse().ok()),
        stored_u.and_then(|v| v.parse().ok()),
    ) {
        (Some(v), Some(u)) => Some(Position {
            uidvalidity: v,
            last_uid: u,
        }),
        (Some(v), None) => Some(Position {
            uidvalidity: v,
            last_uid: 0,
        }),
        _ => None,
    };
    let (pos, changed) = resume(stored, uidvalidity);
    if changed {
        tracing::warn!(folder = %s.folder, uidvalidity, "UIDVALIDITY changed: rescanning the folder; letters already processed are recognised as duplicates");
    }
    if stored != Some(pos) {
        intake
            .state_set(KEY_UIDVALIDITY, &pos.uidvalidity.to_string())
            .await
            .map_err(ImapError::Sink)?;
        intake
            .state_set(KEY_LAST_UID, &pos.last_uid.to_string())
            .await
            .map_err(ImapError::Sink)?;
    }
    Ok(pos)
}

/// Bound a command that should answer promptly.
pub async fn timed<T>(what: &'static str, fut: impl Future<Output = T>) -> Result<T, ImapError> {
    tokio::time::timeout(COMMAND_TIMEOUT, fut)
        .await
        .map_err(|_| ImapError::Timeout(what.to_string()))
}

enum Wake {
    Data(Result<async_imap::extensions::idle::IdleResponse, async_imap::error::Error>),
    Refresh,
    Shutdown,
    Hook,
}

/// One connection's life: sync, then IDLE (or sleep) until something
/// changes, repeat. `Ok` only on shutdown.
async fn session_loop<I: LetterSink>(
    target: &Target,
    s: &Settings,
    intake: &I,
    shutdown: &mut watch::Receiver<bool>,
    outage: &mut Option<Instant>,
    carry: &mut Carry,
) -> Result<(), ImapError> {
    let (mut session, caps) = target.open().await?;
    let mut pos = open_folder(&mut session, s, intake, &mut carry.ack).await?;
    if outage.is_none() {
        tracing::info!(mailbox = ?target, folder = %s.folder, idle = caps.idle, "IMAP connected");
    }
    loop {
        sync::until_quiet(&mut session, caps, s, intake, &mut pos, carry, shutdown).await?;
        // Restored only once a whole sync went through: a session that
        // fails right after connecting keeps the outage's backoff.
        if let Some(since) = outage.take() {
            tracing::info!(mailbox = ?target, "IMAP connection restored after {:.0?}", since.elapsed());
        }
        if carry.error_shown.is_some() || !carry.error_cleared {
            intake
                .state_set(KEY_LAST_ERROR, "")
                .await
                .map_err(ImapError::Sink)?;
            carry.error_shown = None;
            carry.error_cleared = true;
        }
        if stopping(shutdown) {
            let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
            return Ok(());
        }
        if sync::drain_exists(&session) {
            continue;
        }
        session = wait_for_change(session, caps, s, shutdown).await?;
        if stopping(shutdown) {
            let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
            return Ok(());
        }
    }
}

async fn wait_for_change(
    session: Session,
    caps: Caps,
    s: &Settings,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Session, ImapError> {
    if !caps.idle {
        let mut session = session;
        tokio::select! {
            _ = tokio::time::sleep(s.poll_interval) => {}
            _ = shutdown.changed() => {}
            _ = crate::source::wake::woken(s.wake.as_deref()) => {}
        }
        timed("NOOP", session.noop())
            .await?
            .map_err(proto("NOOP"))?;
        return Ok(session);
    }
    if crate::source::wake::take(s.wake.as_deref()) {
        return Ok(session); // woken while syncing: sync again, skip IDLE
    }
    let mut idle = session.idle();
    timed("IDLE", idle.init()).await?.map_err(proto("IDLE"))?;
    {
        // Our own bound (the refresh) decides when to re-issue IDLE; the
        // library's timeout is only a backstop since keepalives reset it.
        let (fut, stop) = idle.wait_with_timeout(s.idle_refresh + Duration::from_secs(60));
        tokio::pin!(fut);
        let wake = tokio::select! {
            r = &mut fut => Wake::Data(r),
            _ = tokio::time::sleep(s.idle_refresh) => Wake::Refresh,
            _ = shutdown.changed() => Wake::Shutdown,
            _ = crate::source::wake::woken(s.wake.as_deref()) => Wake::Hook,
        };
        let result = match wake {
            Wake::Data(r) => r,
            Wake::Refresh | Wake::Shutdown | Wake::Hook => {
                if matches!(wake, Wake::Refresh) {
                    tracing::debug!(
                        "IDLE re-issued after {:?} without news (mailbox.idle_refresh_secs)",
                        s.idle_refresh
                    );
                }
                drop(stop);
                fut.await
            }
        };
        result.map_err(proto("IDLE"))?;
    }
    let session = timed("DONE", idle.done()).await?.map_err(proto("DONE"))?;
    Ok(session)
}

#[cfg(test)]
mod tests;
