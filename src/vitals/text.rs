//! The `/metrics` page: a [`Snapshot`] and the process's own figures
//! encoded by `prometheus-client` (the official Rust client) in the
//! OpenMetrics text format, which Prometheus reads.

use super::Snapshot;
use crate::workflow::status::Status;
use chrono::{DateTime, Utc};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

/// The content type of the page.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;

fn gauge(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
}

fn fgauge(v: f64) -> Gauge<f64, AtomicU64> {
    let g = Gauge::<f64, AtomicU64>::default();
    g.set(v);
    g
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

/// The page for `s` at `now`, with `ready` (1 or 0). `mailboxes`: the
/// configured ones, listed at 0 before their first letter.
pub fn page(s: &Snapshot, mailboxes: &[String], now: DateTime<Utc>, ready: bool) -> String {
    let mut r = Registry::default();
    let c = &s.counts;
    let letters = Family::<Labels, Counter>::default();
    let mut names: Vec<&str> = mailboxes.iter().map(String::as_str).collect();
    for (_, m, _) in &c.letters {
        if !names.contains(&m.as_str()) {
            names.push(m);
        }
    }
    if names.is_empty() {
        names.push(crate::store::DEFAULT_MAILBOX);
    }
    for outcome in ["created", "updated", "ignored", "quarantined"] {
        for m in &names {
            let n = c
                .letters
                .iter()
                .find(|(o, b, _)| o == outcome && b == m)
                .map_or(0, |x| x.2);
            letters
                .get_or_create(&vec![
                    ("outcome".into(), outcome.into()),
                    ("mailbox".into(), m.to_string()),
                ])
                .inc_by(n);
        }
    }
    r.register(
        "ticketd_letters",
        "Letters taken in, by outcome and mailbox (since the database began)",
        letters,
    );
    let tickets = Family::<Labels, Gauge>::default();
    for st in Status::ALL {
        for line in 1..=3u8 {
            let n = c
                .tickets
                .iter()
                .find(|(s, l, _)| s == st.machine_name() && *l == line)
                .map_or(0, |x| x.2);
            tickets
                .get_or_create(&vec![
                    ("status".into(), st.machine_name().into()),
                    ("line".into(), line.to_string()),
                ])
                .set(n as i64);
        }
    }
    r.register("ticketd_tickets", "Tickets by status and line", tickets);
    r.register(
        "ticketd_outbox_backlog",
        "Outgoing letters waiting to be sent",
        gauge(c.outbox_pending as i64),
    );
    let age = c
        .outbox_oldest_pending
        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    r.register_with_unit(
        "ticketd_outbox_oldest_age",
        "Age of the oldest pending outgoing letter (0: none)",
        Unit::Seconds,
        fgauge(age),
    );
    let sync = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    for (name, t) in &s.last_sync {
        let v = t.map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0);
        sync.get_or_create(&vec![("mailbox".into(), name.clone())])
            .set(v);
    }
    r.register(
        "ticketd_intake_last_sync_timestamp_seconds",
        "When the mailbox was last synced (Unix time; 0: never)",
        sync,
    );
    r.register(
        "ticketd_quarantine_letters",
        "Letters in quarantine, not released",
        gauge(c.quarantine as i64),
    );
    r.register(
        "ticketd_escalations",
        "Escalations for a missed deadline",
        counter(c.escalations),
    );
    r.register(
        "ticketd_deadlines_breached",
        "Tickets whose deadline was missed",
        counter(c.deadlines_breached),
    );
    r.register(
        "ticketd_ready",
        "1 when /readyz answers 200",
        gauge(i64::from(ready)),
    );
    process(&mut r);
    let mut out = String::new();
    if let Err(e) = encode(&mut out, &r) {
        tracing::warn!(error = %e, "metrics: encoding failed");
    }
    out
}

/// The process's figures from /proc (Linux): memory, CPU, open files,
/// threads, start time.
fn process(r: &mut Registry) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // The fields after the command name, which is in parentheses.
    let Some(rest) = stat.rsplit_once(')').map(|x| x.1) else {
        return;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf reads a constant.
    let (tick, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64,
            libc::sysconf(libc::_SC_PAGESIZE).max(1) as f64,
        )
    };
    // (utime, stime, threads, starttime, vsize, rss) are fields 14, 15,
    // 20, 22, 23, 24 of stat; `rest` starts at field 3.
    let cpu = (field(11) + field(12)) / tick;
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()) as i64;
    let c = Counter::<f64, AtomicU64>::default();
    c.inc_by(cpu);
    r.register_with_unit("process_cpu", "CPU time used", Unit::Seconds, c);
    r.register_with_unit(
        "process_resident_memory",
        "Resident memory",
        Unit::Bytes,
        fgauge(field(21) * page),
    );
    r.register_with_unit(
        "process_virtual_memory",
        "Virtual memory",
        Unit::Bytes,
        fgauge(field(20)),
    );
    r.register("process_open_fds", "Open file descriptors", gauge(fds));
    r.register("process_threads", "Threads", gauge(field(17) as i64));
    r.register_with_unit(
        "process_start_time",
        "Start time (Unix time)",
        Unit::Seconds,
        fgauge(boot + field(19) / tick),
    );
}
