//! The report's charts as inline SVG, drawn with `plotters` (its SVG
//! backend writes plain `<svg>` text: no script, no font file, no external
//! reference; the viewer's sans-serif renders the labels).

use super::Report;
use plotters::prelude::*;

/// Bar colours: received, met, breached, open overdue.
const BLUE: RGBColor = RGBColor(0x2f, 0x6f, 0xb3);
const GREEN: RGBColor = RGBColor(0x3a, 0x9a, 0x4f);
const RED: RGBColor = RGBColor(0xc8, 0x3c, 0x3c);
const ORANGE: RGBColor = RGBColor(0xe0, 0x8a, 0x1e);

const SIZE: (u32, u32) = (720, 260);

/// The top of a count axis: a little above the largest count, at least 1.
fn top_of(counts: impl Iterator<Item = u64>) -> u64 {
    let max = counts.max().unwrap_or(0).max(1);
    max + max.div_ceil(10)
}

type Draw = Result<(), Box<dyn std::error::Error>>;

fn svg(draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Draw) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        if root.fill(&WHITE).is_err() {
            return String::new();
        }
        if let Err(e) = draw(root.clone()).and_then(|_| root.present().map_err(Into::into)) {
            tracing::warn!(error = %e, "report chart not drawn");
        }
    }
    out
}

/// Appeals received per day.
pub fn per_day(r: &Report) -> String {
    let days = r.per_day.len().max(1);
    let top = top_of(r.per_day.iter().map(|d| d.received));
    svg(|root| {
        let mut c = ChartBuilder::on(&root)
            .caption("Поступило обращений по дням", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0usize..days, 0u64..top)?;
        let label = |i: &usize| {
            r.per_day
                .get(*i)
                .map(|d| d.date.format("%d.%m").to_string())
                .unwrap_or_default()
        };
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(days.min(16))
            .x_label_formatter(&label)
            .y_labels((top as usize).min(10) + 1)
            .draw()?;
        c.draw_series(
            r.per_day
                .iter()
                .enumerate()
                .map(|(i, d)| Rectangle::new([(i, 0), (i + 1, d.received)], BLUE.filled())),
        )?;
        Ok(())
    })
}

/// Appeals by kind.
pub fn by_kind(r: &Report) -> String {
    let kinds = &r.totals.by_kind.0;
    let top = top_of(kinds.iter().map(|k| k.1));
    svg(|root| {
        let mut c = ChartBuilder::on(&root)
            .caption("Обращения по видам", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0usize..kinds.len().max(1), 0u64..top)?;
        let label = |i: &usize| {
            kinds
                .get(*i)
                .map(|(k, _)| super::render::display("by_kind", k))
                .unwrap_or_default()
        };
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(kinds.len().max(1))
            .x_label_formatter(&label)
            .y_labels((top as usize).min(10) + 1)
            .draw()?;
        c.draw_series(kinds.iter().enumerate().map(|(i, (_, n))| {
            let mut bar = Rectangle::new([(i, 0), (i + 1, *n)], BLUE.filled());
            bar.set_margin(0, 0, 30, 30);
            bar
        }))?;
        Ok(())
    })
}

/// Deadlines met, breached and open overdue, by priority.
pub fn compliance(r: &Report) -> String {
    let rows: Vec<(&String, &super::Deadlines)> = r.deadlines_by_priority.iter().collect();
    let top = top_of(
        rows.iter()
            .map(|(_, d)| d.met.max(d.breached).max(d.open_overdue)),
    );
    svg(|root| {
        let n = rows.len().max(1);
        let mut c = ChartBuilder::on(&root)
            .caption(
                "Сроки по приоритетам: соблюдены, нарушены, просрочены",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0usize..n * 3, 0u64..top)?;
        let label = |i: &usize| {
            if i % 3 == 1 {
                rows.get(i / 3)
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 3)
            .x_label_formatter(&label)
            .y_labels((top as usize).min(10) + 1)
            .draw()?;
        for (k, colour) in [GREEN, RED, ORANGE].into_iter().enumerate() {
            c.draw_series(rows.iter().enumerate().map(|(i, (_, d))| {
                let v = [d.met, d.breached, d.open_overdue][k];
                let mut bar = Rectangle::new([(i * 3 + k, 0), (i * 3 + k + 1, v)], colour.filled());
                bar.set_margin(0, 0, 4, 4);
                bar
            }))?;
        }
        Ok(())
    })
}
