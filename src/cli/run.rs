//! `ticketd run`: the daemon ([`crate::daemon::serve_with`]) under the
//! process's signals and systemd. SIGTERM or SIGINT stops it (within 10 s);
//! SIGHUP reloads the config file: a broken new config is logged and the
//! old one stays in force.

use crate::clock::Clock;
use crate::daemon::{serve_with, Lifecycle};
use crate::desk::Desk;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

fn notify(state: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(false, state);
}

fn tell_systemd(event: Lifecycle) {
    match event {
        Lifecycle::Ready => notify(&[sd_notify::NotifyState::Ready]),
        Lifecycle::Stopping => notify(&[sd_notify::NotifyState::Stopping]),
    }
}

/// Run until SIGTERM/SIGINT; reload on SIGHUP.
pub(super) async fn run(
    config_path: &Path,
    cfg: Desk,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    for w in &cfg.set_aside {
        tracing::warn!("{w}");
    }
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    let (reload, reloads) = mpsc::channel(1);
    let hangups = async move {
        while hup.recv().await.is_some() {
            notify(&[sd_notify::NotifyState::Reloading]);
            match Desk::load(config_path) {
                Err(e) => {
                    tracing::error!(error = %e, "config reload failed; keeping the old config");
                    notify(&[sd_notify::NotifyState::Ready]);
                }
                Ok(new) => {
                    if reload.send(new).await.is_err() {
                        break;
                    }
                }
            }
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        r = serve_with(cfg, clock, shutdown, reloads, tell_systemd) => r,
        _ = hangups => Ok(()),
    }
}
