//! The wake hook: a tiny HTTP listener (`[mailbox] wake_listen`) that makes
//! the IMAP watcher leave IDLE and sync at once.
//!
//! Why: IDLE alone is only as quick as the server's notification. Dovecot
//! 2.3 holds every IDLE notification back by a fixed 500 ms
//! (`NOTIFY_DELAY_MSECS` in lib-storage), which is most of the latency from
//! a letter's arrival to its auto-reply. Dovecot can instead tell us at
//! once: its event exporter POSTs the `mail_delivery_finished` (LMTP, LDA)
//! and `imap_command_finished` APPEND events to this address (the settings
//! and their timing are in docs/wake-hook.md). Any other program that can
//! make an HTTP request works the same way (`curl -X POST`).
//!
//! What it does: each well-formed `POST` or `PUT` request (any path; the
//! body is read and ignored) is answered `204 No Content` and notifies the
//! watcher; requests that arrive while the watcher is busy coalesce into one
//! sync after it (a [`Notify`] holds at most one permit). Nothing in the
//! request is trusted or used, so a forged request costs one sync — a
//! NOOP-sized `UID FETCH` when nothing is new — and nothing else: no
//! authentication is needed, and the listener is loopback-only unless
//! `mailbox.wake_allow_remote = true` (see [`check_listen`]).
//!
//! Bounds: at most [`MAX_CONNECTIONS`] connections at once (a new one
//! closes the oldest, so slow or stalled peers never delay a real request:
//! it is accepted and served at once), one request per connection (`Connection: close`, so
//! no idle keep-alive connection holds a slot or races our close), the whole
//! request within [`REQUEST_TIMEOUT`], a head of at most [`MAX_HEAD`] bytes
//! and a body of at most [`MAX_BODY`] bytes (`Content-Length` only; chunked
//! bodies are refused with 411).
//!
//! Why no HTTP crate: the hook reads one bounded request and writes one
//! fixed answer. The request-head reader below is a pure function with
//! table tests; a server framework (hyper and its tree) would add far more
//! code and build time than it saves, and nothing here needs HTTP/2,
//! keep-alive, streaming or TLS (the hook carries no data worth protecting).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use std::collections::VecDeque;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Time for a whole request (head and body) and for writing the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request line plus headers, bytes.
pub const MAX_HEAD: usize = 8 * 1024;
/// Largest body, bytes (Dovecot's event JSON is well under 1 KiB).
pub const MAX_BODY: u64 = 64 * 1024;
/// After refusing a request, unread input is drained for at most this long.
const LINGER: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum WakeError {
    #[error("mailbox.wake_listen: cannot listen on {addr}: {cause} (is another program, or another ticketd, using that port?)")]
    Bind { addr: SocketAddr, cause: io::Error },
}

/// Validate `mailbox.wake_listen` (the check lives with the config).
pub use crate::config::check_wake_listen as check_listen;

/// Why a request was refused; each maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Malformed request line or header.
    BadRequest,
    /// Not POST or PUT.
    MethodNotAllowed,
    /// No way to know where the body ends (`Transfer-Encoding`).
    LengthRequired,
    /// Body over [`MAX_BODY`].
    BodyTooLarge,
    /// Head over [`MAX_HEAD`].
    HeadTooLarge,
    /// Not HTTP/1.0 or HTTP/1.1.
    Version,
    /// Not complete within [`REQUEST_TIMEOUT`].
    Timeout,
}

impl Reject {
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Reject::BadRequest => (400, "Bad Request"),
            Reject::MethodNotAllowed => (405, "Method Not Allowed"),
            Reject::Timeout => (408, "Request Timeout"),
            Reject::LengthRequired => (411, "Length Required"),
            Reject::BodyTooLarge => (413, "Content Too Large"),
            Reject::HeadTooLarge => (431, "Request Header Fields Too Large"),
            Reject::Version => (505, "HTTP Version Not Supported"),
        }
    }
}

/// The answer to a request: 204 when it wakes the watcher, else the error.
pub fn response(verdict: Result<(), Reject>) -> Vec<u8> {
    match verdict {
        Ok(()) => b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec(),
        Err(r) => {
            let (code, reason) = r.status();
            let allow = if r == Reject::MethodNotAllowed {
                "Allow: POST, PUT\r\n"
            } else {
                ""
            };
            format!(
                "HTTP/1.1 {code} {reason}\r\n{allow}Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes()
        }
    }
}

/// Where the head in `buf` ends (just past the empty line), once complete.
/// Lines may end in CRLF or a bare LF.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(pos) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + pos;
        let next = &buf[nl + 1..];
        if next.starts_with(b"\n") {
            return Some(nl + 2);
        }
        if next.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        i = nl + 1;
    }
    None
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Judge a complete request head (request line and headers, up to and
/// including the empty line): `Ok(body length)` for a POST or PUT the hook
/// accepts, or why not.
pub fn judge(head: &[u8]) -> Result<u64, Reject> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request = lines.next().ok_or(Reject::BadRequest)?;
    let parts: Vec<&[u8]> = request.split(|&b| b == b' ').collect();
    let [method, target, version] = parts.as_slice() else {
        return Err(Reject::BadRequest);
    };
    if !is_token(method) || target.is_empty() || target.iter().any(|b| b.is_ascii_control()) {
        return Err(Reject::BadRequest);
    }
    match *version {
        b"HTTP/1.1" | b"HTTP/1.0" => {}
        v if v.starts_with(b"HTTP/") => return Err(Reject::Version),
        _ => return Err(Reject::BadRequest),
    }
    let mut length: Option<u64> = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(Reject::BadRequest)?;
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if !is_token(name) {
            // Also refuses obsolete line folding (a line starting with a space).
            return Err(Reject::BadRequest);
        }
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(Reject::LengthRequired);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
                return Err(Reject::BadRequest);
            }
            let n: u64 = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or(Reject::BadRequest)?;
            if length.is_some_and(|l| l != n) {
                return Err(Reject::BadRequest);
            }
            length = Some(n);
        }
    }
    if !(*method == b"POST" || *method == b"PUT") {
        return Err(Reject::MethodNotAllowed);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY {
        return Err(Reject::BodyTooLarge);
    }
    Ok(length)
}

/// Read one request from `stream` and judge it; the body is read and
/// dropped. `Err` is a connection problem (nothing to answer).
async fn read_request<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
) -> io::Result<Result<(), Reject>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Err(Reject::HeadTooLarge));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    if end > MAX_HEAD {
        return Ok(Err(Reject::HeadTooLarge));
    }
    let length = match judge(&buf[..end]) {
        Ok(n) => n,
        Err(r) => return Ok(Err(r)),
    };
    let mut left = length.saturating_sub((buf.len() - end) as u64);
    while left > 0 {
        let want = chunk
            .len()
            .min(usize::try_from(left).unwrap_or(chunk.len()));
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        left -= n as u64;
    }
    Ok(Ok(()))
}

/// Serve one connection: read the request (bounded in time and size), wake
/// the watcher if it is a POST or PUT, answer, close. The outer `Err` is a
/// peer that went away before a whole request (nothing is answered).
pub async fn handle<S>(stream: S, wake: &Notify) -> io::Result<Result<(), Reject>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    handle_within(stream, wake, REQUEST_TIMEOUT).await
}

async fn handle_within<S>(
    mut stream: S,
    wake: &Notify,
    limit: Duration,
) -> io::Result<Result<(), Reject>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let verdict = match tokio::time::timeout(limit, read_request(&mut stream)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(e),
        Err(_) => Err(Reject::Timeout),
    };
    if verdict.is_ok() {
        wake.notify_one();
    }
    let answer = response(verdict);
    let _ = tokio::time::timeout(limit, async {
        stream.write_all(&answer).await?;
        stream.shutdown().await
    })
    .await;
    if verdict.is_err() {
        // Closing with unread input would reset the connection, and the
        // client might lose the answer: drain a little first (bounded).
        let _ = tokio::time::timeout(limit.min(LINGER), async {
            let mut sink = [0u8; 2048];
            let mut left = MAX_BODY;
            while left > 0 {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n as u64),
                }
            }
        })
        .await;
    }
    Ok(verdict)
}

/// The bound listening socket; [`Listener::serve`] runs it.
pub struct Listener {
    inner: TcpListener,
}

impl Listener {
    /// Bind `addr` now, so a port in use fails the daemon's start (or a
    /// reload) with a message naming the key. Needs a tokio runtime.
    pub fn bind(addr: SocketAddr) -> Result<Listener, WakeError> {
        let bind = || -> io::Result<TcpListener> {
            let std = std::net::TcpListener::bind(addr)?;
            std.set_nonblocking(true)?;
            TcpListener::from_std(std)
        };
        bind()
            .map(|inner| Listener { inner })
            .map_err(|cause| WakeError::Bind { addr, cause })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Accept connections until `shutdown` turns true (or its sender is
    /// dropped), each served on its own task, at most [`MAX_CONNECTIONS`]
    /// at once (the oldest closed to make room); every accepted request
    /// notifies `wake`.
    pub async fn serve(self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let addr = self.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(%addr, "wake hook listening");
        let mut active: VecDeque<tokio::task::AbortHandle> = VecDeque::new();
        loop {
            if *shutdown.borrow() {
                return;
            }
            let stream = tokio::select! {
                r = self.inner.accept() => match r {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors and the like: pause, do not spin.
                        tracing::warn!(error = %e, "wake hook: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                r = shutdown.changed() => {
                    if r.is_err() { return; }
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            // Full: the oldest connection gives way. A request from the mail
            // server completes within milliseconds, so what is oldest is a
            // slow or stalled peer; a new request is served at once, never
            // queued behind them until they time out.
            active.retain(|h| !h.is_finished());
            while active.len() >= MAX_CONNECTIONS {
                if let Some(oldest) = active.pop_front() {
                    oldest.abort();
                    tracing::debug!("wake hook: full, the oldest connection closed");
                }
            }
            let wake = wake.clone();
            let task = tokio::spawn(async move {
                let result = handle(stream, &wake).await;
                match result {
                    Ok(Ok(())) => tracing::debug!("wake hook: sync requested"),
                    Ok(Err(r)) => {
                        tracing::debug!(status = r.status().0, "wake hook: request refused")
                    }
                    Err(e) => tracing::debug!(error = %e, "wake hook: connection closed early"),
                }
            });
            active.push_back(task.abort_handle());
        }
    }
}

/// Resolves when the hook has been called (never without a hook).
pub async fn woken(wake: Option<&Notify>) {
    match wake {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

/// Take a wake-up that arrived while the watcher was busy, if any.
pub fn take(wake: Option<&Notify>) -> bool {
    wake.is_some_and(|n| n.notified().now_or_never().is_some())
}

#[cfg(test)]
mod tests;
