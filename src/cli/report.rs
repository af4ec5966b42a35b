//! `ticketd report`: the report of a period, or with `--tickets` the
//! per-ticket listing (streamed, no row cap), to stdout or `--out FILE`.

use super::ReportArgs;
use crate::desk::Desk;
use crate::report::render::{self, Format};
use crate::report::{make, Period};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use std::io::Write;

/// The period the arguments name: `--period`, `--from`/`--to`, or by
/// default the last finished month (`--tickets`: every ticket).
fn period(cfg: &Desk, a: &ReportArgs, now: DateTime<Utc>) -> anyhow::Result<Option<Period>> {
    let tz = cfg.workflow.calendar.time_zone();
    let day = |s: &str, key: &str| -> anyhow::Result<chrono::NaiveDate> {
        let t = super::dates::parse_since(s, tz).map_err(|e| anyhow::anyhow!("{key}: {e}"))?;
        Ok(t.with_timezone(&tz).date_naive())
    };
    Ok(match (&a.period, &a.from, &a.to) {
        (Some(p), None, None) => Some(Period::parse_month(p, tz).map_err(anyhow::Error::msg)?),
        (None, from, to) if from.is_some() || to.is_some() => {
            let today = now.with_timezone(&tz).date_naive();
            let first = match from {
                Some(f) => day(f, "--from")?,
                None => bail!("--to needs --from"),
            };
            let last = match to {
                Some(t) => day(t, "--to")?,
                None => today,
            };
            Some(Period::days(first, last, tz).map_err(anyhow::Error::msg)?)
        }
        (Some(_), _, _) => bail!("--period and --from/--to exclude each other"),
        (None, _, _) if a.tickets => None,
        (None, _, _) => {
            let today = now.with_timezone(&tz).date_naive();
            Some(
                Period::month_of(today, tz)
                    .and_then(|m| m.previous())
                    .map_err(anyhow::Error::msg)?,
            )
        }
    })
}

pub(super) fn run(cfg: &Desk, a: ReportArgs, now: DateTime<Utc>) -> anyhow::Result<i32> {
    let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
    let period = period(cfg, &a, now)?;
    let store = super::tickets::open(cfg)?;
    let out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .with_context(|| format!("--out `{}`: cannot create the file", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    if a.tickets {
        if format == Format::Html {
            bail!("--tickets lists tickets as text, csv or json, not html");
        }
        make::listing(
            &store,
            period.map(|p| p.from),
            period.map(|p| p.to),
            format,
            &mut out,
        )?;
        out.flush()?;
        return Ok(0);
    }
    let Some(period) = period else {
        bail!("no period");
    };
    let r = make::report(&store, cfg, period, now)?;
    match format {
        Format::Text => out.write_all(render::text(&r).as_bytes())?,
        Format::Json => out.write_all(render::json(&r).as_bytes())?,
        Format::Csv => render::csv(&r, &mut out)?,
        Format::Html => out.write_all(crate::report::html::page(&r).as_bytes())?,
    }
    out.flush()?;
    Ok(0)
}
