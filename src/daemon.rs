//! The daemon's composition root: [`serve`] starts the tasks of one
//! configuration on a [`Clock`] and runs until a shutdown future completes.
//!
//! Tokio tasks per configuration: one intake per mailbox (Maildir watcher
//! or IMAP IDLE; each `[[mailboxes]]` entry its own connection, backoff,
//! position and lease, so a broken one delays no other), the sender (woken the moment intake queues mail, and at the next
//! retry time; the outbox table is never polled for new rows) and the
//! escalation timer (sleeps until the next deadline on the clock), and with
//! `[web]` the form and status links ([`crate::web`]). Intake
//! runs under its mailbox's lease and the timers (escalation, report
//! letters) under the leader lease, kept by [`crate::cluster::keep`]: one
//! daemon alone takes both at start; several on one database share the
//! work, and the sender claims outbox rows one by one. Shutdown
//! stops intake after the letter in hand, lets the sender finish the letter
//! it is sending, and returns within 10 s. A new config sent to
//! [`serve_with`] replaces the running one; one that cannot start is logged
//! and the old one stays in force. Signals (SIGTERM/SIGINT stop, SIGHUP
//! reload) and systemd notifications live at the CLI edge (`cli/run.rs`).

use crate::clock::Clock;
use crate::config::{Mailbox, MaildirMailbox};
use crate::desk::Desk;
use crate::outbox::sender::{deliver_due, deliver_due_until, DeliveryReport};
use crate::outbox::Transport;
use crate::pipeline::{Handle, Pipeline};
use crate::source::maildir;
use crate::store::Store;
use anyhow::Context;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

/// How long shutdown waits for the tasks before giving up on them.
const STOP_GRACE: Duration = Duration::from_secs(8);

/// What `run --once` did.
#[derive(Debug, Default)]
pub struct OnceReport {
    pub letters: usize,
    pub deferred: usize,
    pub escalated: usize,
    pub delivery: DeliveryReport,
}

fn open_handle(cfg: &Arc<Desk>, clock: &Arc<dyn Clock>) -> anyhow::Result<Handle> {
    let mut p = Pipeline::open(cfg.clone()).with_context(|| {
        format!(
            "opening the desk from config `{}`",
            cfg.source_path.display()
        )
    })?;
    p.set_clock(clock.clone());
    Ok(Handle::new(p))
}

fn open_store(cfg: &Desk) -> anyhow::Result<Store> {
    let at = cfg.database.store_at()?;
    at.open()
        .with_context(|| format!("database `{}`", at.shown()))
}

fn transport(cfg: &Desk, clock: &Arc<dyn Clock>) -> anyhow::Result<Transport> {
    let token_status = crate::oauth2::store_sink(cfg.database.store_at()?);
    Transport::with_token_status(&cfg.outgoing, Some(token_status), clock.clone())
        .map_err(|e| anyhow::anyhow!("[outgoing] in `{}`: {e}", cfg.source_path.display()))
}

fn maildir_root(m: &MaildirMailbox) -> anyhow::Result<&Path> {
    let root = m.path.as_path();
    maildir::ensure(root).with_context(|| format!("creating Maildir `{}`", root.display()))?;
    Ok(root)
}

/// Process everything waiting (letters, outgoing mail), then return.
/// Among daemons on the same database it behaves as one of them for the
/// moment: it reads the mailbox only when it can take the mailbox's lease
/// (fencing its letters by it), escalates only under the leader lease,
/// claims the outbox rows it sends, and gives everything back at the end.
pub async fn run_once(cfg: Arc<Desk>, clock: Arc<dyn Clock>) -> anyhow::Result<OnceReport> {
    use crate::store::cluster::{mailbox_lease, DaemonInfo, Fence, LEADER};
    use crate::workflow::lease::LeaseStep;
    let handle = open_handle(&cfg, &clock)?;
    let mut report = OnceReport::default();
    let me = DaemonInfo::new(clock.now());
    let lease = chrono::Duration::seconds(cfg.cluster.lease_secs as i64);
    let mut leases = open_store(&cfg)?;
    let now = clock.now();
    leases.daemon_beat(&me, now, now + lease)?;
    crate::cluster::reap(&leases, &me);
    let mut failed: Option<anyhow::Error> = None;
    let result = async {
        for mb in &cfg.mailboxes {
            let lease_name = mailbox_lease(mb.name());
            let now = clock.now();
            match leases.lease_step(&lease_name, &me.id, None, now, lease)? {
                LeaseStep::Take { generation } => {
                    let handle = handle.for_mailbox(mb.clone());
                    handle.set_fence(Fence {
                        lease: lease_name.clone(),
                        holder: me.id.clone(),
                        generation,
                    });
                    // A broken mailbox does not keep the others from being read.
                    let read = async {
                        match mb {
                            Mailbox::Maildir(m) => {
                                let r = maildir::pass(maildir_root(m)?, &handle, None).await?;
                                report.letters += r.processed;
                                report.deferred += r.deferred;
                            }
                            Mailbox::Imap(m) => {
                                let r = crate::source::imap::sync_mailbox(&cfg, m, &handle).await?;
                                report.letters += r.letters;
                            }
                        }
                        anyhow::Ok(())
                    };
                    if let Err(e) = read.await {
                        let e = e.context(format!("mailbox `{}`", mb.name()));
                        tracing::error!(error = %format!("{e:#}"), "mailbox not read");
                        failed.get_or_insert(e);
                    }
                }
                step => {
                    tracing::info!(lease = %lease_name, ?step, "the mailbox is another daemon's; not read")
                }
            }
        }
        if let LeaseStep::Take { .. } =
            leases.lease_step(LEADER, &me.id, None, clock.now(), lease)?
        {
            report.escalated = handle.escalate_due().await?;
        }
        let mut store = open_store(&cfg)?;
        store.set_owner(&me.id);
        report.delivery = deliver_due(
            &mut store,
            &transport(&cfg, &clock)?,
            &cfg.outgoing,
            clock.as_ref(),
        )
        .await?;
        anyhow::Ok(())
    }
    .await;
    let now = clock.now();
    leases.leases_release(&me.id, now)?;
    leases.daemon_leave(&me.id, now)?;
    result?;
    match failed {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// The running tasks of one configuration.
struct Services {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Services {
    fn start(cfg: Arc<Desk>, clock: Arc<dyn Clock>) -> anyhow::Result<Services> {
        let handle = open_handle(&cfg, &clock)?;
        let store = open_store(&cfg)?;
        // The pipeline's connection checkpoints on its commits, on its
        // blocking thread, and after delivery passes; the sender's never.
        store
            .configure_for_sender()
            .context("configuring the sender's database connection")?;
        let transport = transport(&cfg, &clock)?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = crate::vitals::start(&cfg, clock.clone(), stop_rx.clone())?;
        let wake = handle.outbox_wake();
        let me = crate::store::cluster::DaemonInfo::new(clock.now());
        let mut store = store;
        store.set_owner(&me.id);
        tasks.push(tokio::spawn(sender(
            store,
            transport,
            cfg.clone(),
            wake.clone(),
            handle.clone(),
            clock.clone(),
            stop_rx.clone(),
        )));
        if let Some(web) = &cfg.web {
            let addr = web
                .listen_addr()
                .map_err(|e| anyhow::anyhow!("web.listen: {e}"))?;
            let listener = crate::web::bind(addr)
                .with_context(|| format!("web.listen: cannot listen on {addr}"))?;
            let mut stop = stop_rx.clone();
            let (handle, cfg) = (handle.clone(), cfg.clone());
            tasks.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stop.changed().await;
                };
                if let Err(e) = crate::web::serve(listener, handle, cfg, shutdown).await {
                    tracing::error!(error = %format!("{e:#}"), "web server stopped");
                }
            }));
        }
        // The work under leases: each mailbox's intake (its own handle,
        // fence, connection and position), and the timers.
        let mut gates = Vec::new();
        for mb in &cfg.mailboxes {
            let handle = handle.for_mailbox(mb.clone());
            gates.push(crate::cluster::Gate {
                lease: crate::store::cluster::mailbox_lease(mb.name()),
                start: intake_starter(&cfg, mb, &handle, &mut tasks, &stop_rx)?,
                fence: Some(handle),
            });
        }
        gates.push(crate::cluster::Gate {
            lease: crate::store::cluster::LEADER.to_string(),
            fence: None,
            start: timers_starter(&cfg, &handle, &clock, wake),
        });
        // The keeper's writes (heartbeat, renewals, every few seconds) need
        // not reach the disk before the next: the sender's settings.
        let keeper = open_store(&cfg)?;
        keeper
            .configure_for_sender()
            .context("configuring the lease keeper's database connection")?;
        tasks.push(tokio::spawn(crate::cluster::keep(
            keeper,
            me,
            cfg.cluster.lease_secs,
            clock.clone(),
            gates,
            stop_rx,
        )));
        Ok(Services { stop, tasks })
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let all = futures::future::join_all(self.tasks);
        if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
            tracing::warn!("tasks did not stop in time");
        }
    }
}

/// One mailbox's intake, started when this daemon takes the mailbox's
/// lease. The wake listener (a port) is bound at start by every daemon and
/// rings the intake of whichever holds the lease.
fn intake_starter(
    cfg: &Arc<Desk>,
    mailbox: &Mailbox,
    handle: &Handle,
    tasks: &mut Vec<JoinHandle<()>>,
    stop_rx: &watch::Receiver<bool>,
) -> anyhow::Result<crate::cluster::Starter> {
    let handle = handle.clone();
    match mailbox {
        Mailbox::Maildir(m) => {
            let root = maildir_root(m)?.to_path_buf();
            let poll = Duration::from_secs(m.poll_interval_secs.max(1));
            Ok(Box::new(move |stop| {
                vec![tokio::spawn(maildir::watch(
                    root.clone(),
                    handle.clone(),
                    poll,
                    stop,
                ))]
            }))
        }
        Mailbox::Imap(m) => {
            let hook = match m.wake_listen.as_deref() {
                Some(addr) => {
                    let addr = crate::config::check_wake_listen(addr, m.wake_allow_remote)
                        .map_err(|e| anyhow::anyhow!("mailbox.wake_listen: {e}"))?;
                    let listener = crate::source::wake::Listener::bind(addr)?;
                    let notify = Arc::new(Notify::new());
                    tasks.push(tokio::spawn(
                        listener.serve(notify.clone(), stop_rx.clone()),
                    ));
                    Some(notify)
                }
                None => None,
            };
            let (cfg, m) = (cfg.clone(), m.clone());
            Ok(Box::new(move |stop| {
                let (cfg, m, handle, hook) = (cfg.clone(), m.clone(), handle.clone(), hook.clone());
                vec![tokio::spawn(async move {
                    let name = m.name.clone();
                    if let Err(e) =
                        crate::source::imap::watch_mailbox(&cfg, &m, handle, stop, hook).await
                    {
                        tracing::error!(mailbox = %name, error = %e, "IMAP intake stopped");
                    }
                })]
            }))
        }
    }
}

/// The timers (escalation, report letters), started when this daemon
/// takes the leader lease.
fn timers_starter(
    cfg: &Arc<Desk>,
    handle: &Handle,
    clock: &Arc<dyn Clock>,
    wake: Arc<Notify>,
) -> crate::cluster::Starter {
    let (cfg, handle, clock) = (cfg.clone(), handle.clone(), clock.clone());
    Box::new(move |stop| {
        let mut tasks = vec![tokio::spawn(escalator(
            handle.clone(),
            clock.clone(),
            stop.clone(),
        ))];
        if !cfg.reports.is_empty() {
            match open_store(&cfg) {
                Ok(store) => tasks.push(tokio::spawn(crate::report::letters::run(
                    cfg.clone(),
                    store,
                    clock.clone(),
                    wake.clone(),
                    stop,
                ))),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "report letters cannot start")
                }
            }
        }
        tasks
    })
}

/// The sender's longest sleep. Intake wakes it at once; but a letter
/// requeued by `ticketd outbox retry` (another process, which cannot wake
/// this one) is found by this re-read of the schedule — one indexed query.
const SENDER_RECHECK: Duration = Duration::from_secs(30);

/// The sender task: deliver what is due, then sleep until woken by intake,
/// by the next retry time (re-read at least every [`SENDER_RECHECK`]), or by
/// shutdown.
async fn sender(
    mut store: Store,
    transport: Transport,
    cfg: Arc<Desk>,
    wake: Arc<Notify>,
    handle: Handle,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match deliver_due_until(&mut store, &transport, &cfg.outgoing, clock.as_ref(), &stop).await
        {
            Ok(r) if r.sent + r.retried + r.failed > 0 => checkpoint(&handle),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox delivery pass failed"),
        }
        if *stop.borrow() {
            return;
        }
        let (next, max) = match store.outbox_next_due(clock.now()) {
            Ok(next) => (next, SENDER_RECHECK),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read outbox schedule");
                (None, Duration::from_secs(5))
            }
        };
        let sleep = crate::clock::sleep_until(clock.as_ref(), next, Duration::from_millis(50), max);
        tokio::select! {
            _ = wake.notified() => {}
            _ = sleep => {}
            _ = stop.changed() => return,
        }
    }
}

/// Checkpoint the WAL (PASSIVE: never waits for readers or the writer) on
/// the pipeline's blocking thread, in the background: the sender's own
/// connection does not checkpoint. At most one is queued at a time.
fn checkpoint(handle: &Handle) {
    static QUEUED: AtomicBool = AtomicBool::new(false);
    if QUEUED.swap(true, Ordering::AcqRel) {
        return;
    }
    let handle = handle.clone();
    tokio::spawn(async move {
        let r = handle
            .with(|p| {
                QUEUED.store(false, Ordering::Release);
                p.store().checkpoint().map_err(Into::into)
            })
            .await;
        if let Err(e) = r {
            QUEUED.store(false, Ordering::Release);
            tracing::debug!(error = %e, "WAL checkpoint skipped");
        }
    });
}

/// The escalation timer's longest sleep (the deadline is re-read after it):
/// a letter taken in by another daemon (several on one database) does not
/// wake this one's timer, so its earlier deadline is seen within this.
const ESCALATION_RECHECK: Duration = Duration::from_secs(60);

/// The escalation timer: escalate what is due, then sleep until the next
/// deadline (not a periodic scan), or until a letter changes tickets.
async fn escalator(handle: Handle, clock: Arc<dyn Clock>, mut stop: watch::Receiver<bool>) {
    let changed = handle.tickets_changed();
    loop {
        if let Err(e) = handle.escalate_due().await {
            tracing::error!(error = %e, "escalation pass failed");
        }
        let next = handle.with(|p| p.next_escalation()).await;
        let (next, max) = match next {
            Ok(Some(t)) => (Some(t), ESCALATION_RECHECK),
            Ok(None) => (None, SENDER_RECHECK),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the next deadline");
                (None, Duration::from_secs(30))
            }
        };
        let sleep =
            crate::clock::sleep_until(clock.as_ref(), next, Duration::from_millis(100), max);
        tokio::select! {
            _ = changed.notified() => {}
            _ = sleep => {}
            _ = stop.changed() => return,
        }
    }
}

/// What the daemon tells its supervisor (systemd, at the CLI edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Running (after the start, and after every reload, failed or not).
    Ready,
    /// Stopping (shutdown was asked for).
    Stopping,
}

/// Run the daemon on `config` and `clock` until `shutdown` completes: the
/// composition root. Signals are not handled here (see `ticketd run` in
/// the CLI), so a test starts it in-process.
pub async fn serve(
    config: Desk,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (_keep, reloads) = mpsc::channel(1);
    serve_with(config, clock, shutdown, reloads, |_| {}).await
}

/// [`serve`] that also takes new configs from `reloads` (the old one stays
/// in force when a new one cannot start) and reports to `tell`.
pub async fn serve_with(
    config: Desk,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
    mut reloads: mpsc::Receiver<Desk>,
    tell: impl Fn(Lifecycle),
) -> anyhow::Result<()> {
    let mut cfg = Arc::new(config);
    let mut services = Services::start(cfg.clone(), clock.clone())?;
    tracing::info!(config = %cfg.source_path.display(), "ticketd running");
    tell(Lifecycle::Ready);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(new) = reloads.recv() => {
                let new = Arc::new(new);
                services.stop().await;
                match Services::start(new.clone(), clock.clone()) {
                    Ok(s) => {
                        services = s;
                        cfg = new;
                        tracing::info!("config reloaded");
                    }
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "new config cannot start; keeping the old config");
                        services = Services::start(cfg.clone(), clock.clone())?;
                    }
                }
                tell(Lifecycle::Ready);
            }
        }
    }
    tracing::info!("stopping");
    tell(Lifecycle::Stopping);
    services.stop().await;
    tracing::info!("stopped");
    Ok(())
}
