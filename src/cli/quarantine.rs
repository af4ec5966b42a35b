//! `ticketd quarantine list|show|release`: letters kept aside.

use super::tickets::open;
use super::QuarantineCmd;
use crate::clock::Clock;
use crate::desk::Desk;
use crate::pipeline::Pipeline;
use anyhow::bail;
use mail_parser::{Address, HeaderValue, MessageParser};
use std::io::Write;
use std::sync::Arc;

/// How much of a quarantined letter's header block `show` prints.
const MAX_HEAD: usize = 8192;

pub(super) fn quarantine(
    cfg: Desk,
    cmd: QuarantineCmd,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<i32> {
    match cmd {
        QuarantineCmd::List { all, json } => {
            let rows = open(&cfg)?.quarantine_list(all)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("Карантин пуст.");
            } else {
                for r in rows {
                    say!(
                        "{:>5}  {}  {:>9} B  {}  {}{}",
                        r.id,
                        r.created_at,
                        r.size,
                        r.message_id.as_deref().unwrap_or("(no Message-ID)"),
                        r.reason,
                        if r.released_at.is_some() {
                            "  [released]"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(0)
        }
        QuarantineCmd::Show { id, raw } => {
            let Some((row, bytes)) = open(&cfg)?.quarantine_get(id)? else {
                bail!("no quarantined letter {id}; `ticketd quarantine list` shows them");
            };
            if raw {
                std::io::stdout().write_all(&bytes)?;
            } else {
                say!("id: {}\nreceived: {}\nmessage-id: {}\nreason: {}\nsize: {} bytes\nreleased: {}\n",
                    row.id, row.created_at, row.message_id.as_deref().unwrap_or("-"), row.reason, row.size,
                    row.released_at.as_deref().unwrap_or("no"));
                say_part!("{}", readable_headers(&bytes));
            }
            Ok(0)
        }
        QuarantineCmd::Release { id } => {
            let mut p = Pipeline::open(Arc::new(cfg))?;
            p.set_clock(clock);
            let Some((_, bytes)) = p.store().quarantine_get(id)? else {
                bail!("no quarantined letter {id}; `ticketd quarantine list` shows them");
            };
            let now = p.now();
            if !p.store_mut().quarantine_release(id, now)? {
                bail!("quarantined letter {id} was already released");
            }
            let report = p.ingest(&bytes)?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(0)
        }
    }
}

/// The header block of a letter as people read it: one line per field,
/// folded lines joined, RFC 2047 encoded words (`=?utf-8?b?...?=`) in
/// Subject, From, To and the like decoded. A letter whose headers cannot be
/// read is shown as its bytes (the reason it is in quarantine may be that).
fn readable_headers(bytes: &[u8]) -> String {
    let end = head_end(bytes).min(MAX_HEAD);
    let head = &bytes[..end];
    let raw = || String::from_utf8_lossy(head).replace("\r\n", "\n") + "\n";
    let Some(msg) = MessageParser::new().parse_headers(head) else {
        return raw();
    };
    if msg.headers().is_empty() {
        return raw();
    }
    let mut out = String::new();
    for h in msg.headers() {
        let (from, to) = (h.offset_start as usize, h.offset_end as usize);
        let written = head
            .get(from..to)
            .map(|v| String::from_utf8_lossy(v).to_string())
            .unwrap_or_default();
        // Unfolded, as written; decoded where it was encoded.
        let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
        let value = if written.contains("=?") {
            decoded(h.value()).unwrap_or(written)
        } else {
            written
        };
        out.push_str(&format!("{}: {value}\n", h.name.as_str()));
    }
    out
}

/// Where the header block ends (after its last line's end, before the
/// blank line), or the whole buffer.
fn head_end(bytes: &[u8]) -> usize {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|p| p + 1);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(bytes.len()),
    }
}

/// A decoded header value as text; `None` for kinds shown as written.
fn decoded(v: &HeaderValue<'_>) -> Option<String> {
    let addr = |a: &mail_parser::Addr<'_>| match (&a.name, &a.address) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (None, Some(e)) => e.to_string(),
        (Some(n), None) => n.to_string(),
        (None, None) => String::new(),
    };
    match v {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => Some(l.join(", ")),
        HeaderValue::Address(Address::List(l)) => {
            Some(l.iter().map(addr).collect::<Vec<_>>().join(", "))
        }
        HeaderValue::Address(Address::Group(g)) => Some(
            g.iter()
                .map(|g| {
                    let members = g.addresses.iter().map(addr).collect::<Vec<_>>().join(", ");
                    match &g.name {
                        Some(n) => format!("{n}: {members};"),
                        None => members,
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_headers_are_shown_decoded() {
        let cases = [
            (
                "Subject: =?utf-8?b?0J/RgNC40L3RgtC10YA=?=\r\nX: y\r\n\r\nbody",
                "Subject: Принтер\nX: y\n",
            ),
            (
                "From: =?utf-8?q?=D0=98=D0=B2=D0=B0=D0=BD=D0=BE=D0=B2=D0=B0?= <iv@ex.org>\n\n",
                "From: Иванова <iv@ex.org>\n",
            ),
            // Folded plain lines are joined, kept as written.
            (
                "Subject: a long\r\n subject\r\nReceived: from x\r\n\tby y\r\n\r\n",
                "Subject: a long subject\nReceived: from x by y\n",
            ),
            // Encoded words split over a fold.
            (
                "Subject: =?utf-8?b?0J/RgNC4?=\r\n =?utf-8?b?0L3RgtC10YA=?=\r\n\r\n",
                "Subject: Принтер\n",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(readable_headers(raw.as_bytes()), want, "{raw:?}");
        }
    }
}
