//! The letter's top trace headers, read from the raw bytes in order.
//!
//! What the receiving MTA adds (`Received`, `Authentication-Results`,
//! `Delivered-To`, ...) sits at the top of the header block, newest first.
//! mail-parser keeps headers, but order and position matter here: the
//! authentication results that count are the topmost ones
//! (`workflow::auth`), and the delivered-to address is the topmost
//! `Delivered-To`/`X-Original-To`. Bounded: at most [`MAX_TRACE`] headers of
//! at most [`MAX_VALUE`] bytes each.

/// Most trace headers kept.
pub const MAX_TRACE: usize = 64;
/// Longest header value kept, bytes.
pub const MAX_VALUE: usize = 2048;

/// What the top of the header block says about delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The top block of trace headers, top first: (lower-case name,
    /// unfolded value). Ends at the first header that is not a trace header.
    pub headers: Vec<(String, String)>,
    /// The topmost `Delivered-To` or `X-Original-To` address, lower-cased
    /// (ASCII), angle brackets removed.
    pub delivered_to: Option<String>,
    /// How many `From` headers the letter has.
    pub from_headers: usize,
}

/// Unfolded header fields of the top-level header block, in order.
fn fields(raw: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    let mut lines = raw
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .peekable();
    std::iter::from_fn(move || loop {
        let line = lines.next()?;
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue; // a stray continuation
        }
        let mut value: Vec<u8> = Vec::new();
        let (name, first) = match line.iter().position(|b| *b == b':') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        value.extend_from_slice(&first[..first.len().min(MAX_VALUE)]);
        while let Some(next) = lines.peek() {
            if !next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                break;
            }
            if value.len() < MAX_VALUE {
                // Unfolding removes the line break only (RFC 5322 2.2.3).
                let room = MAX_VALUE - value.len();
                value.extend_from_slice(&next[..next.len().min(room)]);
            }
            lines.next();
        }
        let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
        let value = String::from_utf8_lossy(&value).trim().to_string();
        return Some((name, value));
    })
}

/// The address of a `Delivered-To` value: `<a@b>` or `a@b`.
fn address_of(v: &str) -> Option<String> {
    let v = v.trim();
    let v = match (v.find('<'), v.rfind('>')) {
        (Some(s), Some(e)) if s < e => &v[s + 1..e],
        _ => v,
    };
    let v = v.trim();
    (v.contains('@') && !v.contains(char::is_whitespace)).then(|| v.to_ascii_lowercase())
}

/// Read the trace of a raw letter.
pub fn read(raw: &[u8]) -> Trace {
    let mut t = Trace::default();
    let mut in_top = true;
    for (name, value) in fields(raw) {
        if name == "from" {
            t.from_headers += 1;
        }
        if t.delivered_to.is_none() && (name == "delivered-to" || name == "x-original-to") {
            t.delivered_to = address_of(&value);
        }
        if in_top {
            if is_trace_header(&name) && t.headers.len() < MAX_TRACE {
                t.headers.push((name, value));
            } else {
                in_top = false;
            }
        }
    }
    t
}

/// Headers that an MTA adds on the way in (trace and results). The block
/// of these at the top of a letter is where the receiving MTA writes.
pub fn is_trace_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "received"
            | "return-path"
            | "delivered-to"
            | "x-original-to"
            | "authentication-results"
            | "received-spf"
            | "dkim-signature"
            | "x-envelope-to"
            | "envelope-to"
    ) || n.starts_with("arc-")
        || n.starts_with("x-spam")
        || n.starts_with("x-virus")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_top() {
        let raw = b"Return-Path: <eng1@sed.example.org>\r\nDelivered-To: support+TP-2026-000001-00@sed.example.org\r\nReceived: from mx by imap\r\n\tfor <support@sed.example.org>\r\nAuthentication-Results: mx.test;\r\n dmarc=pass header.from=sed.example.org\r\nX-Original-To: other@sed.example.org\r\nFrom: a@b.org\r\nAuthentication-Results: mx.test; dmarc=pass\r\nFrom: c@d.org\r\nDelivered-To: x@y.org\r\n\r\nFrom: body@x.org\r\n";
        let t = read(raw);
        let names: Vec<&str> = t.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "return-path",
                "delivered-to",
                "received",
                "authentication-results",
                "x-original-to"
            ]
        );
        assert_eq!(
            t.headers[3].1,
            "mx.test; dmarc=pass header.from=sed.example.org"
        );
        assert_eq!(
            t.delivered_to.as_deref(),
            Some("support+tp-2026-000001-00@sed.example.org")
        );
        assert_eq!(t.from_headers, 2);
        assert_eq!(read(b"Subject: x\n\n").headers, vec![]);
    }
}
