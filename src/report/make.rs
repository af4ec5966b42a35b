//! Reading a report out of the store: the one place that asks the store
//! for a report's data and hands it to the pure [`super::Builder`].

use super::listing::Listing;
use super::render::Format;
use super::{Backlog, Builder, Period, Report};
use crate::desk::Desk;
use crate::store::report::EngineerRow;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::io::Write;

/// The report of `period` as known at `now`. The period's tickets are
/// walked in two halves (by time) on two connections, each on its thread,
/// while the engineers' figures and the backlog are read on a third; the
/// halves' folds are joined in order. One connection when the database has
/// no file.
pub fn report(
    store: &Store,
    cfg: &Desk,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let wf = &cfg.workflow;
    let priorities: Vec<String> = wf.priorities.iter().map(|p| p.name.clone()).collect();
    let mailboxes: Vec<String> = cfg.mailboxes.iter().map(|m| m.name().to_string()).collect();
    let fold = || Builder::new(period, now, &wf.calendar, &priorities, &mailboxes);
    let Some(again) = store.reopener() else {
        let mut b = fold();
        store.each_report_row(period.from, period.to, |row| b.add(row))?;
        let (backlog, engineers) = side(store, period, now)?;
        return Ok(b.finish(backlog, engineers));
    };
    let mid = period.from + (period.to - period.from) / 2;
    std::thread::scope(|s| {
        let side = s.spawn(|| side(&again.open()?, period, now));
        let later = s.spawn(|| -> Result<Builder<'_>, StoreError> {
            let mut b = fold();
            again
                .open()?
                .each_report_row(mid, period.to, |row| b.add(row))?;
            Ok(b)
        });
        let mut b = fold();
        let walk = store.each_report_row(period.from, mid, |row| b.add(row));
        let later = join(later);
        let side = join(side);
        walk?;
        let (backlog, engineers) = side?;
        Ok(b.then(later?).finish(backlog, engineers))
    })
}

/// What a thread returned; its panic goes on here.
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// The backlog at the period's ends and the engineers' figures.
fn side(
    store: &Store,
    period: Period,
    now: DateTime<Utc>,
) -> Result<(Backlog, Vec<EngineerRow>), StoreError> {
    let end = period.to.min(now);
    let backlog = Backlog {
        start: store.backlog_at(period.from)?.max(0) as u64,
        end: store.backlog_at(end)?.max(0) as u64,
    };
    Ok((backlog, store.engineers_between(period.from, period.to)?))
}

/// Why writing a listing stopped.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the listing: {0}")]
    Io(#[from] std::io::Error),
}

/// Write every ticket registered in `[from, to)` to `w`, row by row; the
/// number of rows.
pub fn listing<W: Write>(
    store: &Store,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    format: Format,
    w: W,
) -> Result<u64, ListingError> {
    let mut l = Listing::start(w, format)?;
    store.each_ticket_with_facts(from, to, |t, f| l.row(&t, &f).map_err(ListingError::from))?;
    Ok(l.finish()?)
}
