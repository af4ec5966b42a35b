//! The daemon's vital signs (`[metrics]`): `GET /metrics` in the
//! Prometheus text format, `GET /healthz` and `GET /readyz`.
//!
//! Nothing a request does waits on a mail server or the database: a
//! refresher task re-reads the counts on its own connection every
//! `refresh_secs` (and proves the database takes a write) into a
//! [`Snapshot`] in memory; requests read that snapshot. `/healthz` says
//! only that the process serves; `/readyz` judges the snapshot
//! ([`readiness`], a pure function) against the clock.

pub mod http;
pub mod text;

use crate::clock::Clock;
use crate::config::vitals::Metrics;
use crate::store::vitals::Counts;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// What the refresher last saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// When the counts were read (None: not yet).
    pub refreshed_at: Option<DateTime<Utc>>,
    pub counts: Counts,
    /// The last heartbeat write: `Err(why)` when the database refused it.
    pub database: Result<(), String>,
    /// Mailboxes whose syncs are watched (IMAP), with their last sync.
    pub last_sync: Vec<(String, Option<DateTime<Utc>>)>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            refreshed_at: None,
            counts: Counts::default(),
            database: Ok(()),
            last_sync: Vec::new(),
        }
    }
}

/// The thresholds `/readyz` judges by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub stale_sync_secs: i64,
    pub stale_outbox_secs: i64,
    /// The snapshot itself is stale after this (the refresher is stuck).
    pub stale_snapshot_secs: i64,
}

impl Limits {
    pub fn of(m: &Metrics) -> Limits {
        Limits {
            stale_sync_secs: m.stale_sync_secs as i64,
            stale_outbox_secs: m.stale_outbox_secs as i64,
            stale_snapshot_secs: (m.refresh_secs as i64 * 3).max(30),
        }
    }
}

/// Why the daemon is not ready (empty: ready). `started` is when the
/// daemon started: a mailbox never synced counts from then.
pub fn readiness(
    s: &Snapshot,
    now: DateTime<Utc>,
    started: DateTime<Utc>,
    l: Limits,
) -> Vec<String> {
    let mut why = Vec::new();
    let Some(at) = s.refreshed_at else {
        why.push("starting: the database has not been read yet".into());
        return why;
    };
    if let Err(e) = &s.database {
        why.push(format!("database not writable: {e}"));
    }
    let age = (now - at).num_seconds();
    if age > l.stale_snapshot_secs {
        why.push(format!(
            "the database was last read {age} s ago (locked or slow; limit {} s)",
            l.stale_snapshot_secs
        ));
    }
    for (name, last) in &s.last_sync {
        let since = (now - last.unwrap_or(started)).num_seconds();
        if since > l.stale_sync_secs {
            let what = if last.is_some() {
                format!("not synced for {since} s")
            } else {
                format!("never synced in {since} s")
            };
            why.push(format!(
                "mailbox `{name}`: {what} (metrics.stale_sync_secs = {})",
                l.stale_sync_secs
            ));
        }
    }
    if let Some(oldest) = s.counts.outbox_oldest_pending {
        let waits = (now - oldest).num_seconds();
        if waits > l.stale_outbox_secs {
            why.push(format!(
                "outbox: the oldest pending letter waits {waits} s (metrics.stale_outbox_secs = {})",
                l.stale_outbox_secs
            ));
        }
    }
    why
}

/// The shared state of the vital signs.
#[derive(Debug)]
pub struct Vitals {
    snapshot: RwLock<Snapshot>,
    pub limits: Limits,
    pub started: DateTime<Utc>,
    pub clock: Arc<dyn Clock>,
    /// The configured mailboxes' names (`ticketd_letters_total` lists
    /// each, at 0 before its first letter).
    pub mailboxes: Vec<String>,
}

impl Vitals {
    pub fn new(m: &Metrics, clock: Arc<dyn Clock>) -> Vitals {
        Vitals {
            snapshot: RwLock::new(Snapshot::default()),
            limits: Limits::of(m),
            started: clock.now(),
            clock,
            mailboxes: Vec::new(),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn set(&self, s: Snapshot) {
        match self.snapshot.write() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }

    /// Why not ready now (empty: ready).
    pub fn reasons(&self) -> Vec<String> {
        readiness(
            &self.snapshot(),
            self.clock.now(),
            self.started,
            self.limits,
        )
    }
}

/// Read the counts, write the heartbeat, read the watched mailboxes' last
/// syncs (`(name, state key)`).
fn read(store: &Store, now: DateTime<Utc>, mailboxes: &[(String, String)]) -> Snapshot {
    let database = store.heartbeat(now).map_err(|e| e.to_string());
    let counts = store.vital_counts().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics: cannot read the counts");
        Counts::default()
    });
    let last_sync = mailboxes
        .iter()
        .map(|(name, key)| {
            let t = store
                .state_get(key)
                .ok()
                .flatten()
                .and_then(|v| crate::store::parse_ts(&v));
            (name.clone(), t)
        })
        .collect();
    Snapshot {
        refreshed_at: Some(now),
        counts,
        database,
        last_sync,
    }
}

/// The refresher: re-read every `every` until `stop`.
pub async fn refresh(
    vitals: Arc<Vitals>,
    mut store: Store,
    mailboxes: Vec<(String, String)>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let now = vitals.clock.now();
        let mb = mailboxes.clone();
        let done = tokio::task::spawn_blocking(move || {
            let s = read(&store, now, &mb);
            (store, s)
        })
        .await;
        match done {
            Ok((s, snap)) => {
                store = s;
                vitals.set(snap);
            }
            Err(e) => {
                tracing::error!(error = %e, "metrics refresher failed");
                return;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests;

/// Start the vital signs of `cfg` (nothing without `[metrics] listen`):
/// the refresher on its own database connection and the listener. Fails
/// when the address cannot be bound.
pub fn start(
    cfg: &crate::config::Config,
    clock: Arc<dyn Clock>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    use anyhow::Context;
    let m = &cfg.metrics;
    let Some(listen) = &m.listen else {
        return Ok(Vec::new());
    };
    let addr = crate::config::vitals::check_listen(listen, m.allow_remote)
        .map_err(|e| anyhow::anyhow!("metrics.listen in `{}`: {e}", cfg.source_path.display()))?;
    let listener = http::Listener::bind(addr).with_context(|| {
        format!("metrics.listen: cannot listen on {addr} (is another program using that port?)")
    })?;
    let at = cfg.database.store_at()?;
    let store = at
        .open()
        .with_context(|| format!("database `{}` (metrics)", at.shown()))?;
    let mailboxes = cfg
        .mailboxes
        .iter()
        .filter(|m| m.imap().is_some())
        .map(|m| {
            (
                m.name().to_string(),
                m.state_key(crate::source::imap::KEY_LAST_SYNC),
            )
        })
        .collect();
    let mut vitals = Vitals::new(m, clock);
    vitals.mailboxes = cfg.mailboxes.iter().map(|b| b.name().to_string()).collect();
    let vitals = Arc::new(vitals);
    tracing::info!(%addr, "metrics listening (/metrics, /healthz, /readyz)");
    Ok(vec![
        tokio::spawn(refresh(
            vitals.clone(),
            store,
            mailboxes,
            Duration::from_secs(m.refresh_secs.max(1)),
            stop.clone(),
        )),
        tokio::spawn(listener.serve(vitals, stop)),
    ])
}
