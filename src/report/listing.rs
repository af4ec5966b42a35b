//! `report --tickets`: one row per ticket with every field and every
//! stored time, written as the store streams them (no cap, flat memory).

use super::{csv, solved_at};
use crate::store::facts::Facts;
use crate::store::tickets::Ticket;
use crate::store::ts;
use std::io::{self, Write};

/// The columns, in order.
pub const COLUMNS: [&str; 30] = [
    "id",
    "created_at",
    "status",
    "kind",
    "priority",
    "line",
    "lines",
    "channel",
    "mailbox",
    "assignee",
    "requester",
    "subject",
    "organization",
    "full_name",
    "location",
    "room",
    "floor",
    "phone",
    "phone_ext",
    "description",
    "note",
    "deadline",
    "first_response_at",
    "first_response_hours",
    "solution_proposed_at",
    "solution_hours",
    "confirmed_at",
    "solved_at",
    "deadline_breached_at",
    "updated_at",
];

fn hours(secs: Option<i64>) -> String {
    secs.map(|s| format!("{:.2}", s as f64 / 3600.0))
        .unwrap_or_default()
}

/// One ticket's values in [`COLUMNS`] order (absent: empty).
pub fn values(t: &Ticket, f: &Facts) -> Vec<String> {
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    let time = |x: Option<chrono::DateTime<chrono::Utc>>| x.map(ts).unwrap_or_default();
    let lines: Vec<String> = f.lines.iter().map(u8::to_string).collect();
    vec![
        t.id.clone(),
        ts(t.created_at),
        t.status().machine_name().into(),
        t.kind.machine_name().into(),
        t.priority.clone(),
        t.line.number().to_string(),
        lines.join(" "),
        f.channel.clone(),
        t.mailbox_shown().unwrap_or_default().to_string(),
        o(&t.assignee),
        t.requester.clone(),
        t.subject.clone(),
        o(&t.form.organization),
        o(&t.form.full_name),
        o(&t.form.location),
        o(&t.form.room),
        o(&t.form.floor),
        o(&t.form.phone),
        o(&t.form.phone_ext),
        o(&t.form.description),
        o(&t.form.note),
        time(t.deadline),
        time(f.first_response_at),
        hours(f.first_response_secs),
        time(f.solution_proposed_at),
        hours(f.solution_secs),
        time(f.confirmed_at),
        time(solved_at(f)),
        time(f.deadline_breached_at),
        ts(t.updated_at),
    ]
}

/// Writes the listing row by row in one format.
pub struct Listing<W: Write> {
    w: W,
    format: super::render::Format,
    rows: u64,
}

impl<W: Write> Listing<W> {
    /// Start the listing (the BOM and header of CSV, `[` of JSON).
    pub fn start(mut w: W, format: super::render::Format) -> io::Result<Listing<W>> {
        use super::render::Format::*;
        match format {
            Csv => {
                w.write_all(csv::BOM)?;
                csv::record(&mut w, &COLUMNS)?;
            }
            Json => w.write_all(b"[")?,
            Text | Html => writeln!(w, "{}", COLUMNS.join("\t"))?,
        }
        Ok(Listing { w, format, rows: 0 })
    }

    pub fn row(&mut self, t: &Ticket, f: &Facts) -> io::Result<()> {
        use super::render::Format::*;
        let v = values(t, f);
        match self.format {
            Csv => csv::record(&mut self.w, &v)?,
            Json => {
                let obj: serde_json::Map<String, serde_json::Value> = COLUMNS
                    .iter()
                    .zip(v)
                    .map(|(k, v)| {
                        let v = if v.is_empty() {
                            serde_json::Value::Null
                        } else {
                            serde_json::Value::String(v)
                        };
                        (k.to_string(), v)
                    })
                    .collect();
                let sep = if self.rows == 0 { "\n" } else { ",\n" };
                self.w.write_all(sep.as_bytes())?;
                serde_json::to_writer(&mut self.w, &obj)?;
            }
            Text | Html => {
                let clean: Vec<String> = v
                    .iter()
                    .map(|x| x.replace(['\t', '\r', '\n'], " "))
                    .collect();
                writeln!(self.w, "{}", clean.join("\t"))?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Close the listing; the number of rows.
    pub fn finish(mut self) -> io::Result<u64> {
        if self.format == super::render::Format::Json {
            self.w.write_all(b"\n]\n")?;
        }
        self.w.flush()?;
        Ok(self.rows)
    }
}
