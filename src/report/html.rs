//! The report as one self-contained HTML page: inline styles (with print
//! styles for paper), inline SVG charts ([`super::charts`]), tables; no
//! script, no external resource, so it reads the same in a browser, a
//! mail client and on paper.

use super::render::{display, sections, time_rows};
use super::{charts, Report};
use std::fmt::Write as _;

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "
body { font-family: sans-serif; color: #222; max-width: 760px; margin: 1em auto; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.4em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.chart svg { max-width: 100%; height: auto; }
.grid { display: flex; flex-wrap: wrap; gap: 1.5em; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { max-width: none; margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, .chart { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
";

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>");
    for r in rows {
        out.push_str("<tr>");
        for (i, v) in r.iter().enumerate() {
            let class = if i > 0 { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", esc(v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
}

fn hours(h: Option<f64>) -> String {
    h.map_or_else(|| "—".into(), |h| format!("{h:.2}"))
}

pub fn page(r: &Report) -> String {
    let title = format!(
        "Отчёт о работе службы поддержки за {} — {}",
        r.period.from.format("%d.%m.%Y"),
        r.period.to.format("%d.%m.%Y")
    );
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n\
         <p>Время — {tz}. Поступило обращений: <b>{n}</b>. Открытых: на начало периода {b0}, на конец {b1}.</p>\n",
        t = esc(&title),
        tz = esc(&r.period.time_zone),
        n = r.totals.received,
        b0 = r.backlog.start,
        b1 = r.backlog.end,
    );
    let _ = writeln!(o, "<div class=\"chart\">{}</div>", charts::per_day(r));
    o.push_str("<h2>Обращения</h2><div class=\"grid\">");
    for (key, title, counts) in sections(r, false) {
        let rows: Vec<Vec<String>> = counts
            .0
            .iter()
            .map(|(k, n)| vec![display(key, k), n.to_string()])
            .collect();
        o.push_str("<div>");
        table(&mut o, &[title, "число"], &rows);
        o.push_str("</div>");
    }
    o.push_str("</div>\n");
    let _ = writeln!(o, "<div class=\"chart\">{}</div>", charts::by_kind(r));
    o.push_str("<h2>Сроки</h2>");
    let d = &r.deadlines;
    let mut rows = vec![vec![
        "все".to_string(),
        d.met.to_string(),
        d.breached.to_string(),
        d.open_overdue.to_string(),
    ]];
    rows.extend(r.deadlines_by_priority.iter().map(|(p, d)| {
        vec![
            p.clone(),
            d.met.to_string(),
            d.breached.to_string(),
            d.open_overdue.to_string(),
        ]
    }));
    table(
        &mut o,
        &[
            "приоритет",
            "соблюдены",
            "нарушены",
            "просрочены на конец периода",
        ],
        &rows,
    );
    let _ = writeln!(o, "<div class=\"chart\">{}</div>", charts::compliance(r));
    o.push_str("<h2>Время в рабочих часах</h2>");
    let rows: Vec<Vec<String>> = time_rows(r)
        .into_iter()
        .map(|(what, group, s)| {
            vec![
                format!("{what}: {group}"),
                hours(s.median_hours),
                hours(s.p90_hours),
                s.count.to_string(),
            ]
        })
        .collect();
    table(&mut o, &["", "медиана", "90-й процентиль", "число"], &rows);
    if !r.engineers.is_empty() {
        o.push_str("<h2>Инженеры</h2>");
        let rows: Vec<Vec<String>> = r
            .engineers
            .iter()
            .map(|e| {
                vec![
                    e.address.clone(),
                    e.commands.to_string(),
                    e.closed.to_string(),
                    hours(e.median_hours_to_solution),
                ]
            })
            .collect();
        table(
            &mut o,
            &["инженер", "команд", "решено", "медиана часов до решения"],
            &rows,
        );
    }
    o.push_str("</body></html>\n");
    o
}
