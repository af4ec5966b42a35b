//! Report letters on a schedule (`[[reports]]`): the report of the
//! finished period as an HTML letter with a plain-text part and the
//! per-ticket CSV attached.
//!
//! Exactly once per period and entry: the letter is queued in the outbox
//! in the same transaction that records the period as sent (state
//! `reports.<n>.<every>.sent`), so a crash leaves either both or neither,
//! and a restart finds the period sent. A daemon that was down when a
//! report fell due sends it when it starts ([`send_due`] looks at the
//! latest due period, whenever that was).

use super::render::{self, Format};
use super::{make, schedule, Period};
use crate::clock::Clock;
use crate::desk::Desk;
use crate::outbox::compose::{Composer, LetterSpec};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The state key recording the last period entry `i` was sent for.
pub fn sent_key(cfg: &Desk, i: usize) -> String {
    format!("{}.sent", cfg.reports[i].key(i))
}

/// Compose the report letter of `period` for `to`.
pub fn compose(
    store: &Store,
    cfg: &Desk,
    composer: &Composer,
    period: Period,
    to: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<crate::store::outbox::OutgoingLetter> {
    let r = make::report(store, cfg, period, now)?;
    let mut csv = Vec::new();
    make::listing(
        store,
        Some(period.from),
        Some(period.to),
        Format::Csv,
        &mut csv,
    )?;
    let subject = format!(
        "Отчёт о работе службы поддержки за {} — {}",
        period.first_day.format("%d.%m.%Y"),
        period.last_day.format("%d.%m.%Y")
    );
    Ok(composer.letter(LetterSpec {
        kind: "report".into(),
        to: to.to_vec(),
        subject,
        body: render::text(&r),
        html: Some(super::html::page(&r)),
        auto: "auto-generated",
        files: vec![(
            format!("tickets-{}.csv", period.name()),
            "text/csv; charset=utf-8".into(),
            csv,
        )],
        ..Default::default()
    })?)
}

/// Queue every report letter due at `now` and not yet sent; how many.
pub fn send_due(
    store: &mut Store,
    cfg: &Desk,
    composer: &Composer,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let cal = &cfg.workflow.calendar;
    let mut sent = 0;
    for (i, e) in cfg.reports.iter().enumerate() {
        let at = e.at_secs().map_err(anyhow::Error::msg)?;
        let (period, _) = schedule::due(e.every, at, cal, now).map_err(anyhow::Error::msg)?;
        let key = sent_key(cfg, i);
        if store.state_get(&key)?.as_deref() == Some(period.name().as_str()) {
            continue;
        }
        let letter = compose(store, cfg, composer, period, &e.to, now)?;
        let unit = store.unit()?;
        unit.enqueue(&letter, now)?;
        unit.state_set(&key, &period.name())?;
        unit.commit()?;
        tracing::info!(report = %key, period = %period.name(), to = ?e.to, "report letter queued");
        sent += 1;
    }
    Ok(sent)
}

/// The next time any entry falls due after `now`.
fn next_due(cfg: &Desk, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cfg.reports
        .iter()
        .filter_map(|e| {
            let at = e.at_secs().ok()?;
            schedule::next_send(e.every, at, &cfg.workflow.calendar, now).ok()
        })
        .min()
}

/// The daemon's report task: send what is due (at start too), then sleep
/// until the next report falls due. Queued letters wake the sender.
pub async fn run(
    cfg: Arc<Desk>,
    mut store: Store,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let composer = match Composer::new(&cfg) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "report letters: cannot compose; none will be sent");
            return;
        }
    };
    loop {
        let now = clock.now();
        let c = cfg.clone();
        let comp = composer.clone();
        let done = tokio::task::spawn_blocking(move || {
            let r = send_due(&mut store, &c, &comp, now);
            (store, r)
        })
        .await;
        let retry = match done {
            Ok((s, r)) => {
                store = s;
                match r {
                    Ok(n) => {
                        if n > 0 {
                            wake.notify_one();
                        }
                        false
                    }
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "report letter not sent; trying again in a minute");
                        true
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "report task failed");
                return;
            }
        };
        let next = if retry { None } else { next_due(&cfg, now) };
        let max = if retry {
            Duration::from_secs(60)
        } else {
            Duration::from_secs(3600)
        };
        let sleep =
            crate::clock::sleep_until(clock.as_ref(), next, Duration::from_millis(100), max);
        tokio::select! {
            _ = sleep => {}
            _ = stop.changed() => return,
        }
    }
}
