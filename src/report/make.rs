//! Reading a report out of the store: the one place that asks the store
//! for a report's data and hands it to the pure [`super::Builder`].

use super::listing::Listing;
use super::render::Format;
use super::{Backlog, Builder, Period, Report};
use crate::store::report::EngineerRow;
use crate::store::{Store, StoreError};
use crate::workflow::Workflow;
use chrono::{DateTime, Utc};
use std::io::Write;

/// The report of `period` as known at `now`. The tickets are walked on
/// this connection while the engineers' figures and the backlog are read
/// on another one, on another thread (one connection when the database
/// has no file).
pub fn report(
    store: &Store,
    wf: &Workflow,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let priorities: Vec<String> = wf.priorities.iter().map(|p| p.name.clone()).collect();
    let mut b = Builder::new(period, now, &wf.calendar, &priorities);
    let (backlog, engineers) = match store.reopener() {
        Some(again) => std::thread::scope(|s| {
            let side = s.spawn(move || side(&again.open()?, period, now));
            let walk = store.each_report_row(period.from, period.to, |row| b.add(row));
            let side = side.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            walk.and(side)
        })?,
        None => {
            store.each_report_row(period.from, period.to, |row| b.add(row))?;
            side(store, period, now)?
        }
    };
    Ok(b.finish(backlog, engineers))
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
