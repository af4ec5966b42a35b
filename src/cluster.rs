//! The daemon's part among several daemons on one database (issue 17):
//! the keeper task that beats the daemons registry's heartbeat and takes,
//! renews or loses the leases, starting the work each lease guards when it
//! is taken and stopping it when it is lost.
//!
//! A [`Gate`] is a lease and the tasks it guards: the mailbox's intake
//! (lease `mailbox.<name>`, with the fence set on the pipeline handle so a
//! stale holder's letter commit is refused) and the timers (lease
//! `leader`: escalation, report letters). One daemon alone takes every
//! lease at its first look, at start. The leases are looked at every third
//! of `[cluster] lease_secs`, never per letter. A daemon of this host found
//! dead (its pid gone: `kill -9`, a crash) is removed from the registry at
//! once, so its leases need not run out (a restart after a crash reads the
//! mailbox at once). The decision is
//! [`crate::workflow::lease::decide`]; the rows are written by
//! [`crate::store::cluster`].

use crate::clock::Clock;
use crate::pipeline::Handle;
use crate::store::cluster::{DaemonInfo, Fence};
use crate::store::Store;
use crate::workflow::lease::LeaseStep;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Starts the guarded tasks, which stop when the receiver turns true.
pub type Starter = Box<dyn FnMut(watch::Receiver<bool>) -> Vec<JoinHandle<()>> + Send>;

/// A lease and the work it guards.
pub struct Gate {
    /// The lease's name (`mailbox.main`, `leader`).
    pub lease: String,
    /// Set the fence of this handle's intake when the lease is taken.
    pub fence: Option<Handle>,
    pub start: Starter,
}

/// How long the guarded tasks get to stop when a lease is lost.
const STOP_GRACE: Duration = Duration::from_secs(8);

/// One gate's state in the keeper.
struct Held {
    gate: Gate,
    /// The generation this daemon holds, if any.
    mine: Option<i64>,
    /// When the lease was last written by this daemon (taken or renewed).
    renewed: Option<DateTime<Utc>>,
    running: Option<(watch::Sender<bool>, Vec<JoinHandle<()>>)>,
    /// "Held by another daemon" was logged (once per wait).
    told_wait: bool,
}

impl Held {
    async fn stop(&mut self) {
        if let Some((stop, tasks)) = self.running.take() {
            let _ = stop.send(true);
            let all = futures::future::join_all(tasks);
            if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
                tracing::warn!(lease = %self.gate.lease, "the lease's tasks did not stop in time");
            }
        }
    }
}

/// The keeper: until `stop`, beat the heartbeat and look at every gate's
/// lease every `[cluster] lease_secs` / 3; at `stop`, stop the guarded
/// tasks, give the leases back (another daemon takes them at its next
/// look) and leave the registry.
pub async fn keep(
    mut store: Store,
    me: DaemonInfo,
    lease_secs: u64,
    clock: Arc<dyn Clock>,
    gates: Vec<Gate>,
    mut stop: watch::Receiver<bool>,
) {
    let lease = chrono::Duration::seconds(lease_secs as i64);
    let every = Duration::from_millis(lease_secs.max(1) * 1000 / 3);
    let mut held: Vec<Held> = gates
        .into_iter()
        .map(|gate| Held {
            gate,
            mine: None,
            renewed: None,
            running: None,
            told_wait: false,
        })
        .collect();
    loop {
        let now = clock.now();
        if let Err(e) = store.daemon_beat(&me, now, now + lease) {
            tracing::warn!(error = %e, "cannot write this daemon's heartbeat");
        }
        reap(&store, &me);
        for h in held.iter_mut() {
            look(&mut store, &me, lease, now, h).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => break,
        }
    }
    for h in held.iter_mut() {
        h.stop().await;
    }
    let now = clock.now();
    if let Err(e) = store
        .leases_release(&me.id, now)
        .and_then(|()| store.daemon_leave(&me.id, now))
    {
        tracing::warn!(error = %e, "cannot give the leases back; they expire by themselves");
    }
}

/// Remove the daemons of this host found dead (killed) from the registry:
/// their leases and outbox claims are free at once, not after lease_secs.
pub fn reap(store: &Store, me: &DaemonInfo) {
    match store.daemons_reap(me) {
        Ok(gone) => {
            for id in gone {
                tracing::info!(daemon = %id, "a daemon of this host is gone; its leases are free");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot look for daemons gone"),
    }
}

/// One look at one lease, and what follows from it.
async fn look(
    store: &mut Store,
    me: &DaemonInfo,
    lease: chrono::Duration,
    now: DateTime<Utc>,
    h: &mut Held,
) {
    let name = h.gate.lease.clone();
    match store.lease_step(&name, &me.id, h.mine, now, lease) {
        Ok(LeaseStep::Take { generation }) => {
            h.stop().await;
            tracing::info!(lease = %name, generation, daemon = %me.id, "lease taken");
            if let Some(handle) = &h.gate.fence {
                handle.set_fence(Fence {
                    lease: name.clone(),
                    holder: me.id.clone(),
                    generation,
                });
            }
            let (tx, rx) = watch::channel(false);
            h.running = Some((tx, (h.gate.start)(rx)));
            h.mine = Some(generation);
            h.renewed = Some(now);
            h.told_wait = false;
        }
        Ok(LeaseStep::Renew) => h.renewed = Some(now),
        Ok(LeaseStep::Wait { holder, until }) => {
            if !h.told_wait {
                tracing::info!(lease = %name, %holder, until = %crate::store::ts(until), "held by another daemon; waiting");
                h.told_wait = true;
            }
        }
        Ok(LeaseStep::Lost { holder }) => {
            tracing::warn!(lease = %name, %holder, "lease lost to another daemon; stopping its work");
            h.mine = None;
            h.renewed = None;
            h.stop().await;
        }
        Err(e) => {
            tracing::warn!(lease = %name, error = %e, "cannot look at the lease");
            // Not renewed in time: another daemon may take it now; stop
            // touching what it guards (the fence refuses the commits anyway).
            if h.renewed.is_some_and(|t| now >= t + lease) {
                tracing::warn!(lease = %name, "lease not renewed in time; stopping its work");
                h.mine = None;
                h.renewed = None;
                h.stop().await;
            }
        }
    }
}
