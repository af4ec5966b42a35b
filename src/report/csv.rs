//! CSV as RFC 4180 says: fields separated by commas, records by CRLF, a
//! field quoted when it holds a comma, a quote, CR or LF (quotes doubled).
//! Files start with the UTF-8 byte order mark: without it Excel reads the
//! Cyrillic as Windows-1251; LibreOffice reads it either way.

use std::io::{self, Write};

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One field, quoted when it must be.
pub fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Write one record.
pub fn record<W: Write, S: AsRef<str>>(w: &mut W, fields: &[S]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(field(f.as_ref()).as_bytes())?;
    }
    w.write_all(b"\r\n")
}

/// Read records back (for tests and the report letter's checks): quoted
/// fields with doubled quotes and line breaks inside.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut cur)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                rec.push(std::mem::take(&mut cur));
                out.push(std::mem::take(&mut rec));
            }
            (false, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || !rec.is_empty() {
        rec.push(cur);
        out.push(rec);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_must_be_quoted_and_reads_it_back() {
        let fields = ["plain", "с запятой, да", "\"кавычки\"", "две\r\nстроки", ""];
        let mut out = Vec::new();
        record(&mut out, &fields).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "plain,\"с запятой, да\",\"\"\"кавычки\"\"\",\"две\r\nстроки\",\r\n"
        );
        assert_eq!(parse(&text), vec![fields.map(String::from).to_vec()]);
    }
}
