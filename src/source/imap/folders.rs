//! Where `processed_folder` lives on this server: RFC 2342 `NAMESPACE`.
//!
//! Dovecot's default personal namespace has no prefix and `/` as its
//! separator, so a folder called `Processed` is simply `Processed`. Cyrus
//! (by default), Courier and many hosted servers put every personal folder
//! under `INBOX` with `.` as the separator (`NAMESPACE (("INBOX." "."))`):
//! there `CREATE Processed` is refused and the folder is `INBOX.Processed`.
//! [`resolve`] turns the configured name into the server's name; a name
//! that already contains the server's separator (or the prefix) is taken as
//! written, so an admin can always spell out the exact folder.
//!
//! imap-proto (under async-imap) has no parser for the `NAMESPACE`
//! response, and an unparsable line would break async-imap's stream, so
//! [`namespace`] speaks that one command on the raw stream itself, right
//! after login (before SELECT, when nothing else is in flight), reading byte
//! by byte so that nothing after its own tagged answer is consumed.

use std::fmt::Write as _;

use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::conn::Session;
use super::ImapError;

/// Bound on the whole `NAMESPACE` answer.
const MAX_ANSWER: usize = 64 * 1024;
/// Our own tag; async-imap's are `A` + digits, so they never collide.
const TAG: &str = "TNS1";

/// One namespace of RFC 2342: a prefix and its hierarchy separator (none
/// for a flat namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub prefix: String,
    pub separator: Option<char>,
}

/// The server's name for the configured folder `configured` in the
/// personal namespace `personal` (None: the server has no NAMESPACE, or
/// did not answer it; the name is taken as written).
///
/// * `INBOX` is INBOX everywhere.
/// * A name containing the namespace's separator is a full path: as written.
/// * A name already starting with the prefix: as written.
/// * Otherwise the prefix goes in front: `Processed` → `INBOX.Processed`.
pub fn resolve(configured: &str, personal: Option<&Namespace>) -> String {
    let Some(ns) = personal else {
        return configured.to_string();
    };
    if configured.eq_ignore_ascii_case("INBOX")
        || ns.prefix.is_empty()
        || ns.separator.is_some_and(|sep| configured.contains(sep))
        || starts_with_ignore_case(configured, &ns.prefix)
    {
        return configured.to_string();
    }
    format!("{}{configured}", ns.prefix)
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Str(String),
    Nil,
    Atom(String),
}

fn tokens(s: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next()? {
                        '\\' => v.push(chars.next()?),
                        '"' => break,
                        ch => v.push(ch),
                    }
                }
                out.push(Token::Str(v));
            }
            _ => {
                let mut v = String::new();
                while let Some(&ch) = chars.peek() {
                    if matches!(ch, ' ' | '(' | ')' | '"') {
                        break;
                    }
                    v.push(ch);
                    chars.next();
                }
                if v.eq_ignore_ascii_case("NIL") {
                    out.push(Token::Nil);
                } else {
                    out.push(Token::Atom(v));
                }
            }
        }
    }
    Some(out)
}

/// The first personal namespace of an untagged `NAMESPACE` line
/// (`* NAMESPACE (("INBOX." ".")) NIL NIL`); None when the server lists
/// no personal namespace or the line is not one.
pub fn parse_personal(line: &str) -> Option<Namespace> {
    let line = line.trim_end_matches(['\r', '\n']);
    let rest = line.strip_prefix("* ")?;
    let (word, rest) = rest.split_once(' ')?;
    if !word.eq_ignore_ascii_case("NAMESPACE") {
        return None;
    }
    let toks = tokens(rest)?;
    match toks.as_slice() {
        [Token::Open, Token::Open, Token::Str(prefix), sep, ..] => {
            let separator = match sep {
                Token::Nil => None,
                Token::Str(s) => {
                    let mut it = s.chars();
                    match (it.next(), it.next()) {
                        (Some(c), None) => Some(c),
                        _ => return None,
                    }
                }
                _ => return None,
            };
            Some(Namespace {
                prefix: prefix.clone(),
                separator,
            })
        }
        _ => None,
    }
}

/// The tagged status word of a line that ends our command (`TNS1 OK ...`).
fn tagged_status(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(TAG)?.strip_prefix(' ')?;
    Some(rest.split(' ').next().unwrap_or(""))
}

/// The length of a literal announced at the end of a line (`{12}` or `{12+}`).
fn literal_len(line: &str) -> Option<usize> {
    let body = line.strip_suffix('}')?;
    let open = body.rfind('{')?;
    body[open + 1..].trim_end_matches('+').parse().ok()
}

/// Ask the server for its personal namespace. `Ok(None)`: the server
/// answered but lists none (or NO/BAD): names are used as written.
pub async fn namespace(session: &mut Session) -> Result<Option<Namespace>, ImapError> {
    let stream = session.as_mut();
    let io = |e: std::io::Error| ImapError::Connect(format!("NAMESPACE: {e}"));
    stream
        .write_all(format!("{TAG} NAMESPACE\r\n").as_bytes())
        .await
        .map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut total = 0usize;
    let mut found = None;
    loop {
        // One logical line; a literal's bytes are folded in as a quoted string.
        let mut line = String::new();
        loop {
            let mut raw = Vec::new();
            loop {
                let b = stream.read_u8().await.map_err(io)?;
                total += 1;
                if total > MAX_ANSWER {
                    return Err(ImapError::Protocol(format!(
                        "NAMESPACE: the answer is over {MAX_ANSWER} bytes"
                    )));
                }
                if b == b'\n' && raw.last() == Some(&b'\r') {
                    raw.pop();
                    break;
                }
                raw.push(b);
            }
            let part = String::from_utf8_lossy(&raw).into_owned();
            match literal_len(&part) {
                Some(n) if total + n <= MAX_ANSWER => {
                    let mut bytes = vec![0u8; n];
                    stream.read_exact(&mut bytes).await.map_err(io)?;
                    total += n;
                    let open = part.rfind('{').unwrap_or(part.len());
                    line.push_str(&part[..open]);
                    line.push('"');
                    for ch in String::from_utf8_lossy(&bytes).chars() {
                        if ch == '"' || ch == '\\' {
                            line.push('\\');
                        }
                        line.push(ch);
                    }
                    line.push('"');
                }
                Some(_) => {
                    return Err(ImapError::Protocol(format!(
                        "NAMESPACE: the answer is over {MAX_ANSWER} bytes"
                    )))
                }
                None => {
                    line.push_str(&part);
                    break;
                }
            }
        }
        if let Some(status) = tagged_status(&line) {
            if status.eq_ignore_ascii_case("OK") {
                return Ok(found);
            }
            tracing::debug!("NAMESPACE answered {line:?}: folder names are used as written");
            return Ok(None);
        }
        if found.is_none() {
            found = parse_personal(&line);
        }
    }
}

/// Quote a mailbox name for a command argument.
fn quoted(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for ch in name.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// Does `name` exist (selectable) on the server?
pub async fn exists(session: &mut Session, name: &str) -> Result<bool, async_imap::error::Error> {
    let names: Vec<_> = session
        .list(Some(""), Some(&quoted(name)))
        .await?
        .try_collect()
        .await?;
    Ok(names.iter().any(|n| {
        n.name().eq_ignore_ascii_case(name)
            && !n.attributes().iter().any(|a| {
                matches!(a, async_imap::types::NameAttribute::NoSelect)
                    || matches!(a, async_imap::types::NameAttribute::Extension(e) if e.eq_ignore_ascii_case("\\NonExistent"))
            })
    }))
}

/// Make sure `name` exists: LIST, then CREATE when missing. `Err` carries
/// the server's answer to a refused CREATE (or the failure of the exchange).
pub async fn ensure(session: &mut Session, name: &str) -> Result<(), async_imap::error::Error> {
    if exists(session, name).await? {
        return Ok(());
    }
    match session.create(name).await {
        Ok(()) => Ok(()),
        // Created meanwhile by someone else ("already exists") is fine.
        Err(e) => match exists(session, name).await {
            Ok(true) => Ok(()),
            _ => Err(e),
        },
    }
}

/// The server's own words in an async-imap error (`code: Some(..), info:
/// Some("Permission denied")` → `Permission denied`), for logs and status.
pub fn server_answer(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error;
    match e {
        Error::No(m) => format!("NO {}", answer_text(m)),
        Error::Bad(m) => format!("BAD {}", answer_text(m)),
        other => other.to_string(),
    }
}

/// async-imap formats a NO/BAD as `code: {code:?}, info: {info:?}`.
pub fn answer_text(m: &str) -> String {
    let info = m
        .split_once("info: Some(\"")
        .map(|(_, rest)| rest.strip_suffix("\")").unwrap_or(rest))
        .map(|s| s.replace("\\\"", "\"").replace("\\\\", "\\"));
    let code = m
        .strip_prefix("code: Some(")
        .and_then(|rest| rest.split_once("), info:"))
        .map(|(c, _)| c.to_string());
    let mut out = String::new();
    if let Some(c) = code {
        let _ = write!(out, "[{c}] ");
    }
    match info {
        Some(i) => out.push_str(&i),
        None if out.is_empty() => out.push_str(m),
        None => {}
    }
    out.trim_end().to_string()
}
