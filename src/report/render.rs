//! A [`Report`] as text (Russian, for people), JSON (the contract's keys)
//! and CSV (one figure per row: section, name, value).

use super::{csv, Counts, Report, Stat, TimeStats};
use crate::workflow::status::{Kind, Status};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Output formats of `ticketd report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Json,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            _ => Err(format!("format `{s}`: use text, csv, json or html")),
        }
    }
}

/// A status, kind or line as people read it.
pub fn display(section: &str, name: &str) -> String {
    match section {
        "by_status" => Status::parse(name)
            .map_or(name, |s| s.display_name())
            .to_string(),
        "by_kind" => Kind::parse(name)
            .map_or(name, |k| k.display_name())
            .to_string(),
        "by_line" => format!("{name}-я линия"),
        _ => name.to_string(),
    }
}

fn hours(h: Option<f64>) -> String {
    h.map_or_else(|| "—".to_string(), |h| format!("{h:.2}"))
}

/// The counts of the report, by section, for every format. The mailboxes
/// are listed when `every` (CSV, as JSON always) or when worth showing
/// ([`super::Totals::shows_mailboxes`]: text, HTML).
pub fn sections(r: &Report, every: bool) -> Vec<(&'static str, &'static str, &Counts)> {
    let t = &r.totals;
    let mut v = vec![
        ("by_status", "Статус сейчас", &t.by_status),
        ("by_kind", "Вид", &t.by_kind),
        ("by_priority", "Приоритет", &t.by_priority),
        ("by_channel", "Канал", &t.by_channel),
    ];
    if every || t.shows_mailboxes() {
        v.push(("by_mailbox", "Почтовый ящик", &t.by_mailbox));
    }
    v.extend([
        ("by_line", "Линия", &t.by_line),
        ("by_organization", "Организация", &t.by_organization),
    ]);
    v
}

/// The time statistics as rows: (what, group, stat).
pub fn time_rows(r: &Report) -> Vec<(&'static str, String, Stat)> {
    let mut rows = Vec::new();
    let mut add = |what: &'static str, ts: &TimeStats| {
        rows.push((what, "все".to_string(), ts.all));
        for (p, s) in &ts.by_priority {
            rows.push((what, format!("приоритет {p}"), *s));
        }
        for (l, s) in &ts.by_line {
            rows.push((what, format!("{l}-я линия"), *s));
        }
    };
    add("первый ответ", &r.times.first_response);
    add("решение", &r.times.solution);
    rows
}

pub fn text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Отчёт о работе службы поддержки за {} — {} ({})\n",
        r.period.from.format("%d.%m.%Y"),
        r.period.to.format("%d.%m.%Y"),
        r.period.time_zone
    );
    let _ = writeln!(s, "Поступило обращений: {}", r.totals.received);
    for (key, title, counts) in sections(r, false) {
        let _ = writeln!(s, "\n{title}:");
        for (name, n) in &counts.0 {
            let _ = writeln!(s, "  {:<40} {n:>8}", display(key, name));
        }
    }
    let d = &r.deadlines;
    let _ = writeln!(
        s,
        "\nСроки: соблюдены {}, нарушены {}, открыты с истёкшим сроком на конец периода {}",
        d.met, d.breached, d.open_overdue
    );
    for (p, d) in &r.deadlines_by_priority {
        let _ = writeln!(
            s,
            "  {p:<20} соблюдены {:>6}, нарушены {:>6}, просрочены {:>6}",
            d.met, d.breached, d.open_overdue
        );
    }
    let _ = writeln!(
        s,
        "\nВремя в рабочих часах (медиана / 90-й процентиль, число):"
    );
    for (what, group, st) in time_rows(r) {
        let _ = writeln!(
            s,
            "  {what:<14} {group:<24} {:>8} / {:>8}  ({})",
            hours(st.median_hours),
            hours(st.p90_hours),
            st.count
        );
    }
    let _ = writeln!(
        s,
        "\nОткрытых обращений: на начало периода {}, на конец {}",
        r.backlog.start, r.backlog.end
    );
    if !r.engineers.is_empty() {
        let _ = writeln!(s, "\nИнженеры (команд, решено, медиана часов до решения):");
        for e in &r.engineers {
            let _ = writeln!(
                s,
                "  {:<36} {:>6} {:>6} {:>8}",
                e.address,
                e.commands,
                e.closed,
                hours(e.median_hours_to_solution)
            );
        }
    }
    s
}

pub fn json(r: &Report) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default() + "\n"
}

/// Every figure as a row `section,name,value` (with a BOM and a header).
pub fn csv<W: Write>(r: &Report, w: &mut W) -> io::Result<()> {
    w.write_all(csv::BOM)?;
    csv::record(w, &["section", "name", "value"])?;
    let row = |w: &mut W, a: &str, b: &str, c: String| csv::record(w, &[a, b, &c]);
    row(w, "period", "from", r.period.from.to_string())?;
    row(w, "period", "to", r.period.to.to_string())?;
    row(w, "totals", "received", r.totals.received.to_string())?;
    for (key, _, counts) in sections(r, true) {
        for (name, n) in &counts.0 {
            row(w, key, name, n.to_string())?;
        }
    }
    let d = &r.deadlines;
    row(w, "deadlines", "met", d.met.to_string())?;
    row(w, "deadlines", "breached", d.breached.to_string())?;
    row(w, "deadlines", "open_overdue", d.open_overdue.to_string())?;
    for (what, ts) in [
        ("first_response", &r.times.first_response),
        ("solution", &r.times.solution),
    ] {
        let mut groups = vec![("all".to_string(), ts.all)];
        groups.extend(
            ts.by_priority
                .iter()
                .map(|(k, v)| (format!("priority:{k}"), *v)),
        );
        groups.extend(ts.by_line.iter().map(|(k, v)| (format!("line:{k}"), *v)));
        for (g, st) in groups {
            let f = |h: Option<f64>| h.map(|h| format!("{h:.2}")).unwrap_or_default();
            row(w, &format!("{what}_median_hours"), &g, f(st.median_hours))?;
            row(w, &format!("{what}_p90_hours"), &g, f(st.p90_hours))?;
        }
    }
    row(w, "backlog", "start", r.backlog.start.to_string())?;
    row(w, "backlog", "end", r.backlog.end.to_string())?;
    for e in &r.engineers {
        row(w, "engineer_commands", &e.address, e.commands.to_string())?;
        row(w, "engineer_closed", &e.address, e.closed.to_string())?;
    }
    for d in &r.per_day {
        row(
            w,
            "received_per_day",
            &d.date.to_string(),
            d.received.to_string(),
        )?;
    }
    Ok(())
}
