//! SMTP replies (RFC 5321 §4.2): bytes in, [`Reply`] values out, and the
//! extensions an EHLO answer offers ([`Capabilities`]). No I/O.

use std::fmt;

/// Longest reply line taken (RFC 5321 allows 512 octets; servers send
/// longer EHLO lines, none this long).
const MAX_LINE: usize = 4096;
/// Most lines in one reply (a long EHLO answer has about twenty).
const MAX_LINES: usize = 200;

/// One server reply: its code and the text of each line (after the code
/// and the `-`/space separator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
    /// 5xx: do not try again.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }
}

/// The server's words as an admin reads them: `452 4.5.3 Too many
/// messages sent`, the lines of a multi-line reply joined by ` / `.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == 0 { " " } else { " / " };
            if !line.is_empty() {
                write!(f, "{sep}{line}")?;
            }
        }
        Ok(())
    }
}

/// What the server sent that is not SMTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server's answer is not SMTP: {0}")]
pub struct ProtocolError(pub String);

/// Collects the bytes read from the server and cuts them into replies.
#[derive(Debug, Default)]
pub struct ReplyReader {
    buf: Vec<u8>,
    /// The lines of a multi-line reply read so far, with its code.
    partial: Option<Reply>,
}

impl ReplyReader {
    pub fn new() -> ReplyReader {
        ReplyReader::default()
    }

    /// Take bytes read from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether bytes are waiting that are not a whole reply yet.
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty() || self.partial.is_some()
    }

    /// The next whole reply, if the bytes fed so far hold one.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ProtocolError> {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_LINE {
                    return Err(ProtocolError(format!(
                        "a reply line longer than {MAX_LINE} bytes"
                    )));
                }
                return Ok(None);
            };
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.len() > MAX_LINE {
                return Err(ProtocolError(format!(
                    "a reply line longer than {MAX_LINE} bytes"
                )));
            }
            let (code, last, text) = parse_line(line)?;
            let reply = self.partial.get_or_insert_with(|| Reply {
                code,
                lines: Vec::new(),
            });
            if reply.code != code {
                return Err(ProtocolError(format!(
                    "a multi-line reply changes its code from {} to {code}",
                    reply.code
                )));
            }
            if reply.lines.len() >= MAX_LINES {
                return Err(ProtocolError(format!(
                    "a reply of more than {MAX_LINES} lines"
                )));
            }
            reply.lines.push(text.to_string());
            if last {
                return Ok(self.partial.take());
            }
        }
    }
}

/// `250-text`, `250 text` or `250`: the code, whether it is the last line,
/// and the text.
fn parse_line(line: &str) -> Result<(u16, bool, &str), ProtocolError> {
    let bad = || ProtocolError(format!("`{}`", line.chars().take(80).collect::<String>()));
    let digits = line.get(..3).ok_or_else(bad)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(b'1'..=b'5').contains(&digits.as_bytes()[0])
    {
        return Err(bad());
    }
    let code: u16 = digits.parse().map_err(|_| bad())?;
    match line.as_bytes().get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(bad()),
    }
}

/// The extensions an EHLO answer offers that ticketd uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub pipelining: bool,
    pub starttls: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    /// SIZE's limit in bytes; `None` when absent or 0 (no limit given).
    pub size: Option<u64>,
    /// SASL mechanisms after AUTH, upper case.
    pub auth: Vec<String>,
}

impl Capabilities {
    /// The keywords of an EHLO answer: every line but the first (the
    /// server's name and greeting), keyword first, case-insensitive.
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => caps.pipelining = true,
                "STARTTLS" => caps.starttls = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "SIZE" => caps.size = words.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0),
                "AUTH" => caps.auth.extend(words.map(|m| m.to_ascii_uppercase())),
                _ => {}
            }
        }
        caps
    }

    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m == mechanism)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Reply {
        let mut r = ReplyReader::new();
        r.feed(text.as_bytes());
        r.next_reply().expect("SMTP").expect("a whole reply")
    }

    fn caps(ehlo: &str) -> Capabilities {
        Capabilities::from_ehlo(&reply(ehlo))
    }

    #[test]
    fn replies_from_bytes() {
        let mut r = ReplyReader::new();
        // A multi-line reply fed in pieces, then a second one in the same read.
        r.feed(b"250-mx.example\r\n250-PIPE");
        assert_eq!(r.next_reply(), Ok(None));
        r.feed(b"LINING\r\n250 SIZE 10\r\n354 go ahead\r\n");
        let first = r.next_reply().expect("ok").expect("reply");
        assert_eq!(first.code, 250);
        assert_eq!(first.lines, ["mx.example", "PIPELINING", "SIZE 10"]);
        let second = r.next_reply().expect("ok").expect("reply");
        assert_eq!(second.to_string(), "354 go ahead");
        assert_eq!(r.next_reply(), Ok(None));
        assert!(!r.has_pending());
        // A bare code, LF only.
        r.feed(b"250\n");
        assert_eq!(
            r.next_reply().expect("ok").expect("reply").to_string(),
            "250"
        );
        // Not SMTP.
        for bad in [
            &b"HTTP/1.1 400\r\n"[..],
            b"25\r\n",
            b"250x\r\n",
            b"250-a\r\n251 b\r\n",
            b"650 x\r\n",
        ] {
            let mut r = ReplyReader::new();
            r.feed(bad);
            assert!(
                r.next_reply().is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Bounded: an endless line is refused, not collected.
        let mut r = ReplyReader::new();
        r.feed(&vec![b'2'; 10_000]);
        assert!(r.next_reply().is_err());
        let two = reply("550-5.1.1 no such user\r\n550 5.1.1 see https://example\r\n");
        assert_eq!(
            two.to_string(),
            "550 5.1.1 no such user / 5.1.1 see https://example"
        );
    }

    #[test]
    fn capabilities_of_ehlo_answers() {
        let c = caps("250-mx.example Hello\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250 SIZE 1000\r\n");
        assert!(c.pipelining && c.eight_bit_mime && !c.starttls && !c.smtputf8);
        assert_eq!(c.size, Some(1000));
        assert_eq!(c.auth, ["PLAIN", "LOGIN", "XOAUTH2"]);
        let c = caps("250-mx\r\n250-SIZE\r\n250-auth plain\r\n250 SMTPUTF8\r\n");
        assert_eq!(c.size, None);
        assert!(c.offers_auth("PLAIN") && c.smtputf8);
    }
}
