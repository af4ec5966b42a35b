//! A one-request HTTP/1.1 client: `POST` a form to the token endpoint over
//! the tokio + tokio-rustls the daemon already carries, read one bounded
//! answer, close. See the module doc of [`crate::oauth2`] for why not a
//! general HTTP crate. The byte-level parts (URL, request, response with
//! `Content-Length` or chunked body) are pure functions, unit-tested.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on the token endpoint's whole answer (head and body): a token
/// answer is a few kilobytes; anything larger is not one.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// A parsed `token_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

impl Url {
    /// Parse `https://host[:port]/path?query` (or `http://` for a loopback
    /// host only: the refresh token and client secret travel in the body).
    pub fn parse(s: &str) -> Result<Url, String> {
        let (https, rest) = if let Some(r) = strip_prefix_ci(s, "https://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(s, "http://") {
            (false, r)
        } else {
            return Err(format!("`{s}` is not an https:// URL"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if path.contains('#') || path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(format!(
                "`{s}`: the path has a fragment, spaces or non-ASCII characters"
            ));
        }
        if authority.contains('@') {
            return Err(format!(
                "`{s}`: credentials in the URL are not supported; use client_id and client_secret_file"
            ));
        }
        let default_port = if https { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{s}`: unclosed [ in the host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p, s)?,
                None if after.is_empty() => default_port,
                None => return Err(format!("`{s}`: junk after the host")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), parse_port(p, s)?),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'))
        {
            return Err(format!("`{s}`: `{host}` is not a host name"));
        }
        if !https && !crate::address::is_loopback(&host) {
            return Err(format!(
                "`{s}`: http:// is allowed only for a loopback host (tests); use https://"
            ));
        }
        Ok(Url {
            https,
            host,
            port,
            path,
        })
    }

    /// The `Host:` header value.
    fn host_header(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (self.https, self.port) {
            (true, 443) | (false, 80) => h,
            (_, p) => format!("{h}:{p}"),
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

fn parse_port(p: &str, s: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("`{s}`: `{p}` is not a port"))
}

/// The request's bytes: a form POST that asks for JSON and closes after.
pub fn request(url: &Url, body: &str) -> Vec<u8> {
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ticketd/{}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        url.path,
        url.host_header(),
        env!("CARGO_PKG_VERSION"),
        body.len()
    )
    .into_bytes()
}

/// One HTTP answer: status and (de-chunked) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Try to read a complete answer from `buf`. `Ok(None)`: more bytes are
/// needed (unless the peer has closed: `eof`, then a body without a length
/// ends there).
pub fn parse_response(buf: &[u8], eof: bool) -> Result<Option<Response>, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if eof {
            Err("the connection closed before the answer's header ended".into())
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| "the answer's header is not text".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| format!("not an HTTP answer: `{}`", clip(status_line)))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length `{}`", clip(value)))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let rest = &buf[head_end + 4..];
    if chunked {
        return match dechunk(rest)? {
            Some(body) => Ok(Some(Response { status, body })),
            None if eof => Err("the connection closed inside a chunked body".into()),
            None => Ok(None),
        };
    }
    match length {
        Some(n) if rest.len() >= n => Ok(Some(Response {
            status,
            body: rest[..n].to_vec(),
        })),
        Some(_) if eof => Err("the connection closed before the body ended".into()),
        Some(_) => Ok(None),
        None if eof => Ok(Some(Response {
            status,
            body: rest.to_vec(),
        })),
        None => Ok(None),
    }
}

/// Decode a chunked body; `Ok(None)` until the last (zero) chunk is in.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = find(rest, b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&rest[..eol]).unwrap_or("?");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size `{}`", clip(size_text)))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if size > MAX_RESPONSE || rest.len() < size + 2 {
            return if size > MAX_RESPONSE {
                Err("a chunk larger than the answer's bound".into())
            } else {
                Ok(None)
            };
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// POST `body` to `url` and read the answer, all within `timeout`.
pub async fn post_form(
    url: &Url,
    tls: Option<Arc<rustls::ClientConfig>>,
    body: &str,
    timeout: Duration,
) -> Result<Response, String> {
    tokio::time::timeout(timeout, post_inner(url, tls, body))
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}

async fn post_inner(
    url: &Url,
    tls: Option<Arc<rustls::ClientConfig>>,
    body: &str,
) -> Result<Response, String> {
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| format!("connecting to {}:{}: {e}", url.host, url.port))?;
    let _ = tcp.set_nodelay(true);
    if !url.https {
        return exchange(tcp, url, body).await;
    }
    let config = tls.ok_or("https without TLS settings")?;
    let name = crate::tls::server_name(&url.host).map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| match crate::tls::find_rustls_error(&e) {
            Some(r) => format!("TLS with {}: {r}", url.host),
            None => format!("TLS handshake with {}:{}: {e}", url.host, url.port),
        })?;
    exchange(stream, url, body).await
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    url: &Url,
    body: &str,
) -> Result<Response, String> {
    s.write_all(&request(url, body))
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    s.flush()
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS peer that closes without close_notify: the end, as far
            // as a Connection: close answer goes.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(format!("reading the answer: {e}")),
        };
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_RESPONSE {
            return Err(format!("the answer is larger than {MAX_RESPONSE} bytes"));
        }
        if let Some(r) = parse_response(&buf, n == 0)? {
            return Ok(r);
        }
    }
}
