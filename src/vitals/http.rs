//! The metrics listener: `GET /metrics`, `/healthz`, `/readyz`, one
//! request per connection, answered from memory.
//!
//! Why no HTTP crate: as with the wake hook (`source::wake`), three fixed
//! GET answers need a bounded head reader and a write, not a framework.
//! Bounds: [`MAX_CONNECTIONS`] at once (more are closed at once), the head
//! within [`MAX_HEAD`] bytes and [`REQUEST_TIMEOUT`].

use super::{text, Vitals};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

pub const MAX_CONNECTIONS: usize = 32;
pub const MAX_HEAD: usize = 8 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// An answer: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// The request line's method and path, once the head is complete.
pub fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    Some((method, target.split('?').next().unwrap_or(target)))
}

/// The answer to `method path`.
pub fn answer(v: &Vitals, method: &str, path: &str) -> Answer {
    if method != "GET" && method != "HEAD" {
        return (405, "text/plain", "GET only\n".into());
    }
    match path {
        "/healthz" => (200, "text/plain", "ok\n".into()),
        "/readyz" => {
            let reasons = v.reasons();
            let body = serde_json::json!({"ready": reasons.is_empty(), "reasons": reasons});
            let code = if reasons.is_empty() { 200 } else { 503 };
            (code, "application/json", format!("{body}\n"))
        }
        "/metrics" => {
            let ready = v.reasons().is_empty();
            let page = text::page(&v.snapshot(), &v.mailboxes, v.clock.now(), ready);
            (200, text::CONTENT_TYPE, page)
        }
        _ => (
            404,
            "text/plain",
            "not found: /metrics, /healthz, /readyz\n".into(),
        ),
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    }
}

async fn serve_one(v: Arc<Vitals>, mut s: TcpStream) {
    let mut head = Vec::with_capacity(512);
    let read = async {
        let mut buf = [0u8; 1024];
        loop {
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                return Ok(());
            }
            if head.len() > MAX_HEAD {
                return Err(431);
            }
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return Err(400),
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    };
    let got = tokio::time::timeout(REQUEST_TIMEOUT, read)
        .await
        .unwrap_or(Err(408));
    let (code, ctype, body) = match got.map(|_| request_line(&head)) {
        Ok(Some((m, p))) => {
            let head_only = m == "HEAD";
            let (c, t, b) = answer(&v, m, p);
            (c, t, if head_only { String::new() } else { b })
        }
        Ok(None) => (400, "text/plain", String::new()),
        Err(code) => (code, "text/plain", String::new()),
    };
    let out = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        reason(code),
        body.len()
    );
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let _ = s.write_all(out.as_bytes()).await;
        let _ = s.shutdown().await;
    })
    .await;
}

/// A bound metrics listener.
pub struct Listener {
    inner: TcpListener,
}

impl Listener {
    pub fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let std = std::net::TcpListener::bind(addr)?;
        std.set_nonblocking(true)?;
        Ok(Listener {
            inner: TcpListener::from_std(std)?,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Serve until `stop`.
    pub async fn serve(self, v: Arc<Vitals>, mut stop: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let conn = tokio::select! {
                c = self.inner.accept() => c,
                _ = stop.changed() => return,
            };
            let Ok((stream, _)) = conn else { continue };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let v = v.clone();
            tokio::spawn(async move {
                serve_one(v, stream).await;
                drop(permit);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        type Case<'a> = (&'a [u8], Option<(&'a str, &'a str)>);
        let cases: [Case; 5] = [
            (
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(("GET", "/metrics")),
            ),
            (b"GET /readyz?x=1 HTTP/1.0\n\n", Some(("GET", "/readyz"))),
            (b"GET /metrics\r\n\r\n", None),
            (b"GET /a b HTTP/1.1\r\n\r\n", None),
            (b"\xff\xfe\r\n\r\n", None),
        ];
        for (head, want) in cases {
            assert_eq!(
                request_line(head),
                want,
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }
}
