//! The SMTP transport: the stored raw bytes of a queued letter go to the
//! configured server with an envelope built from the row's sender and
//! recipients.
//!
//! # Why ticketd speaks SMTP itself
//!
//! The client's half of SMTP that ticketd needs is short: greeting, EHLO,
//! STARTTLS, AUTH, then MAIL/RCPT/DATA per letter. lettre's connection
//! hides the EHLO answer except for the keywords it knows, so learning
//! PIPELINING took a second EHLO, which RFC 5321 defines as a reset and
//! OpenSMTPD refuses (`503 Already identified`) — no reply left ticketd
//! through it. Its errors also do not tell a session's end (421, a
//! per-session message limit) from a refusal of the letter. So the
//! dialogue is ours, as sans-IO state machines in [`dialogue`] (bytes in,
//! commands out, unit-tested without sockets) with a thin tokio +
//! tokio-rustls adapter in `conn`; lettre stays for building letters and
//! parsing addresses. The code is smaller than lettre's transport was,
//! which the RSS budget of issue 4 likes.
//!
//! # Behaviour
//!
//! TLS as for IMAP: `implicit` (port 465), `starttls` (required, port 587)
//! or `none` (loopback only; config validation refuses anything else),
//! trusting the webpki roots or only `outgoing.ca_file`. The client greets
//! with `outgoing.helo_name` (default: the support address's domain).
//! Connections are kept open between letters in a small pool (TCP_NODELAY:
//! without it every letter waits ~40 ms for a delayed ACK): each
//! [`SmtpTransport::send`] takes one (or opens one), so as many letters
//! travel at once as the caller sends concurrently (the sender bounds that
//! by `outgoing.connections`); a connection idle for a while is checked
//! with NOOP before reuse.
//!
//! Failures are split for the sender's retry logic:
//! * The session's end is not the letter's fault: a 421, or a 4xx to MAIL
//!   after letters were sent on this connection (OpenSMTPD's 100 per
//!   session, Exchange's and others' limits), closes the connection and
//!   the letter goes at once on a new one, neither delayed nor counted.
//! * Only answers about the letter itself count against it: 5xx to its
//!   MAIL, RCPT or DATA and malformed addresses are permanent (the row is
//!   marked failed with the server's answer); 4xx are retried with backoff.
//! * A connection that cannot be set up (refused, greeting, EHLO, TLS,
//!   AUTH) is the same for every letter and an admin can fix it: transient
//!   for the letters, logged once per outage with the server's words, and
//!   kept as [`SmtpTransport::blocked`] for `ticketd status`.
//!
//! Credentials come from an [`SmtpCredentials`] per connection (the
//! configured password, or an OAuth2 token source); a token refused with
//! 535 is reported through [`SmtpCredentials::rejected`] and tried once
//! more on a new connection.

pub mod auth;
mod conn;
pub mod dialogue;
pub mod oauth2;
pub mod reply;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::net::TcpStream;

pub use auth::{Credentials, CredentialsFuture, SmtpCredentials, StaticCredentials};
use conn::{Conn, IoFail, OpenFail, SendFail, Tls};
use dialogue::{SetupError, TxError};

use super::{QueuedLetter, SendError};
use crate::config::{self, Outgoing};

/// Bound on connecting and on one letter's SMTP conversation.
const TIMEOUT: Duration = Duration::from_secs(60);
/// A connection idle longer than this is checked with NOOP before reuse.
const IDLE_CHECK: Duration = Duration::from_secs(20);
/// New connections one letter may take after the server ended a session
/// (a limit crossed once needs one; more means the server is unwell).
const MAX_RECONNECTS: u32 = 3;
/// The greeting name when the config gives none (a bare `Outgoing` in
/// tests; a loaded config always has one).
const FALLBACK_HELO: &str = "localhost";

/// How the connection is secured, resolved from the config.
enum Security {
    None,
    Starttls(Arc<rustls::ClientConfig>),
    Implicit(Arc<rustls::ClientConfig>),
}

/// The server cannot be used: since when, and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub since: DateTime<Utc>,
    pub reason: String,
}

/// Delivers queued letters over kept-open SMTP connections, reconnecting
/// when the server has dropped or ended one.
pub struct SmtpTransport {
    host: String,
    port: u16,
    security: Security,
    helo: String,
    credentials: Option<Arc<dyn SmtpCredentials>>,
    ca_file: Option<std::path::PathBuf>,
    /// Idle connections; at most `keep` are kept.
    idle: Mutex<Vec<Conn>>,
    keep: usize,
    blocked: Mutex<Option<Blocked>>,
    clock: Arc<dyn crate::clock::Clock>,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpTransport({}:{})", self.host, self.port)
    }
}

impl SmtpTransport {
    /// Build the transport from `[outgoing]`, logging in with
    /// `outgoing.user` and its password when set; errors name the key to
    /// fix.
    pub fn new(cfg: &Outgoing) -> Result<SmtpTransport, SendError> {
        let password = config::read_secret(
            cfg.password_file.as_deref(),
            cfg.password_env.as_deref(),
            "outgoing password",
        )
        .map_err(|e| SendError::permanent(e.to_string()))?;
        let credentials: Option<Arc<dyn SmtpCredentials>> = match (&cfg.user, password) {
            (Some(user), Some(pass)) => Some(Arc::new(StaticCredentials(Credentials::Password {
                user: user.clone(),
                pass,
            }))),
            (Some(_), None) => return Err(SendError::permanent(
                "outgoing.user is set but neither outgoing.password_file nor outgoing.password_env",
            )),
            _ => None,
        };
        SmtpTransport::build(cfg, credentials)
    }

    /// Build the transport from `[outgoing]` with credentials from
    /// `source`, asked once per new connection (an OAuth2 token source).
    pub fn with_credentials(
        cfg: &Outgoing,
        source: Arc<dyn SmtpCredentials>,
    ) -> Result<SmtpTransport, SendError> {
        SmtpTransport::build(cfg, Some(source))
    }

    fn build(
        cfg: &Outgoing,
        credentials: Option<Arc<dyn SmtpCredentials>>,
    ) -> Result<SmtpTransport, SendError> {
        let host = cfg
            .host
            .clone()
            .ok_or_else(|| SendError::permanent("outgoing.host is required for kind = \"smtp\""))?;
        let port = cfg.port.unwrap_or(match cfg.tls {
            config::Tls::Implicit => 465,
            config::Tls::Starttls => 587,
            config::Tls::None => 25,
        });
        let tls_config = || {
            crate::tls::client_config(cfg.ca_file.as_deref(), "outgoing.ca_file")
                .map_err(|e| SendError::permanent(e.to_string()))
        };
        let security = match cfg.tls {
            config::Tls::None => Security::None,
            config::Tls::Starttls => Security::Starttls(tls_config()?),
            config::Tls::Implicit => Security::Implicit(tls_config()?),
        };
        crate::tls::server_name(&host).map_err(|e| SendError::permanent(e.to_string()))?;
        Ok(SmtpTransport {
            host,
            port,
            security,
            helo: cfg
                .helo_name
                .clone()
                .unwrap_or_else(|| FALLBACK_HELO.to_string()),
            credentials,
            ca_file: cfg.ca_file.clone(),
            idle: Mutex::new(Vec::new()),
            keep: cfg.connections.max(1) as usize,
            blocked: Mutex::new(None),
            clock: crate::clock::system(),
        })
    }

    /// Date outages ([`SmtpTransport::blocked`]) by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> SmtpTransport {
        self.clock = clock;
        self
    }

    /// How many letters the caller may send at once (`outgoing.connections`).
    pub fn connections(&self) -> usize {
        self.keep
    }

    /// Whether the server cannot be used now, since when and why (the last
    /// attempt to open a connection failed).
    pub fn blocked(&self) -> Option<Blocked> {
        self.blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn put_idle(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.keep {
            idle.push(conn);
        }
        // else: dropped; the server sees the socket close.
    }

    /// An idle connection that still answers, or a new one; and whether
    /// it was reused.
    async fn take(&self) -> Result<(Conn, bool), SendError> {
        loop {
            let next = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(mut conn) = next else {
                return Ok((self.connect().await?, false));
            };
            if conn.last_used.elapsed() <= IDLE_CHECK {
                return Ok((conn, true));
            }
            if let Ok(true) = tokio::time::timeout(Duration::from_secs(10), conn.alive()).await {
                return Ok((conn, true));
            }
        }
    }

    /// Hand one queued letter to the server, over an idle pooled connection
    /// or a new one; concurrent calls use different connections.
    pub async fn send(&self, letter: &QueuedLetter) -> Result<(), SendError> {
        let (from, to) = envelope(&letter.from, &letter.to)?;
        let mut reconnects = 0;
        loop {
            let (mut conn, reused) = self.take().await?;
            let result = tokio::time::timeout(TIMEOUT, conn.send(&from, &to, &letter.raw)).await;
            let fail = match result {
                Ok(Ok(())) => {
                    self.put_idle(conn);
                    return Ok(());
                }
                Ok(Err(fail)) => fail,
                Err(_) => {
                    return Err(SendError::transient(format!(
                        "SMTP {}:{}: no answer within {TIMEOUT:?}",
                        self.host, self.port
                    )))
                }
            };
            match fail {
                // The server ended the session (421, or its per-session
                // limit): not the letter's fault; at once on a new one.
                SendFail::Tx(TxError::Session(reply)) if reconnects < MAX_RECONNECTS => {
                    tracing::debug!(
                        server = %self.host,
                        after = conn.sent,
                        answer = %reply,
                        message_id = %letter.message_id,
                        "SMTP session ended by the server; going on over a new connection"
                    );
                    reconnects += 1;
                    if reply.code != 421 {
                        let _ = tokio::time::timeout(Duration::from_secs(1), conn.quit()).await;
                    }
                }
                // A pooled connection the server had closed meanwhile:
                // nothing of the letter was taken.
                SendFail::Io {
                    before_any_reply: true,
                    ..
                } if reused && reconnects < MAX_RECONNECTS => {
                    reconnects += 1;
                }
                fail => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), conn.quit()).await;
                    return Err(self.classify(fail));
                }
            }
        }
    }

    /// A new session, logged in; records the outage (or its end).
    async fn connect(&self) -> Result<Conn, SendError> {
        let mut retried = false;
        loop {
            let credentials = match &self.credentials {
                Some(source) => match source.credentials().await {
                    Ok(c) => Some(c),
                    Err(e) => return Err(self.blocked_by(format!("SMTP login: {e}"))),
                },
                None => None,
            };
            let xoauth2 = matches!(credentials, Some(Credentials::XOAuth2 { .. }));
            let fail = match tokio::time::timeout(TIMEOUT, self.open(credentials)).await {
                Ok(Ok(conn)) => {
                    self.unblocked();
                    return Ok(conn);
                }
                Ok(Err(fail)) => fail,
                Err(_) => {
                    return Err(self.blocked_by(format!(
                        "SMTP {}:{}: connecting timed out after {TIMEOUT:?}",
                        self.host, self.port
                    )))
                }
            };
            if let OpenFail::Setup(SetupError::AuthRejected { .. }) = &fail {
                if xoauth2 {
                    if let Some(source) = &self.credentials {
                        source.rejected();
                    }
                    if !retried {
                        retried = true;
                        tracing::info!(server = %self.host, "SMTP refused the OAuth2 token; trying once more with a fresh one");
                        continue;
                    }
                }
            }
            return Err(self.blocked_by(self.explain(&fail)));
        }
    }

    async fn open(&self, credentials: Option<Credentials>) -> Result<Conn, OpenFail> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| OpenFail::Io(IoFail::Io(e)))?;
        let tls = match &self.security {
            Security::None => Tls::None,
            Security::Starttls(c) => Tls::Starttls(c),
            Security::Implicit(c) => Tls::Implicit(c),
        };
        Conn::open(tcp, &self.host, tls, &self.helo, credentials).await
    }

    /// Record that no connection can be set up (logged once per outage and
    /// reason) and make the letter's transient error.
    fn blocked_by(&self, reason: String) -> SendError {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.as_mut() {
            Some(b) if b.reason == reason => {}
            Some(b) => {
                tracing::error!(server = %self.host, since = %b.since, "SMTP server still unusable, now: {reason}; letters wait in the outbox");
                b.reason = reason.clone();
            }
            None => {
                tracing::error!(server = %self.host, "SMTP server unusable: {reason}; letters wait in the outbox");
                *blocked = Some(Blocked {
                    since: self.clock.now(),
                    reason: reason.clone(),
                });
            }
        }
        SendError::connection(reason)
    }

    fn unblocked(&self) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = blocked.take() {
            tracing::info!(server = %self.host, since = %b.since, "SMTP server usable again");
        }
    }

    /// An admin's sentence for a connection that could not be set up.
    fn explain(&self, fail: &OpenFail) -> String {
        let at = format!("SMTP {}:{}", self.host, self.port);
        match fail {
            OpenFail::Io(IoFail::Io(e)) => format!("{at}: {e}"),
            OpenFail::Io(e) => format!("{at}: {e}"),
            OpenFail::Tls(e) => match crate::tls::find_rustls_error(e) {
                Some(r) => format!(
                    "{at}: {}",
                    crate::tls::explain(r, &self.host, "outgoing.ca_file", self.ca_file.as_deref())
                ),
                None => format!("{at}: TLS handshake failed: {e}"),
            },
            OpenFail::Setup(e @ SetupError::AuthRejected { xoauth2: true, .. }) => {
                format!("{at}: {e} (the OAuth2 token was refused twice; check [outgoing]'s OAuth2 keys; letters wait in the outbox meanwhile)")
            }
            OpenFail::Setup(e @ SetupError::AuthRejected { .. }) => format!(
                "{at}: {e} (check outgoing.user and outgoing.password_file / \
                 outgoing.password_env; letters wait in the outbox meanwhile)"
            ),
            OpenFail::Setup(e) => format!("{at}: {e}"),
        }
    }

    fn classify(&self, fail: SendFail) -> SendError {
        let at = format!("SMTP {}:{}", self.host, self.port);
        match fail {
            SendFail::Tx(TxError::Letter { stage, reply }) if reply.is_permanent() => {
                SendError::permanent(format!("{at}: {reply} (answer to {stage})"))
            }
            SendFail::Tx(TxError::Refused(why)) => SendError::permanent(format!("{at}: {why}")),
            SendFail::Tx(e) => SendError::transient(format!("{at}: {e}")),
            SendFail::Io { fail, .. } => SendError::transient(format!("{at}: {fail}")),
        }
    }
}

/// The SMTP envelope of a queued letter as the addresses MAIL and RCPT
/// carry; bad addresses are permanent. Parsed with lettre's address
/// grammar; nothing that could end a command line or bracket gets through.
pub fn envelope(from: &str, to: &[String]) -> Result<(String, Vec<String>), SendError> {
    let check = |what: &str, a: &str| -> Result<String, SendError> {
        let a = a.trim();
        if a.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
        {
            return Err(SendError::permanent(format!(
                "{what} `{}`: not an address",
                a.escape_debug()
            )));
        }
        a.parse::<lettre::Address>()
            .map(|_| a.to_string())
            .map_err(|e| SendError::permanent(format!("{what} `{a}`: {e}")))
    };
    let from = if from.trim().is_empty() {
        String::new() // null reverse-path
    } else {
        check("envelope sender", from)?
    };
    if to.is_empty() {
        return Err(SendError::permanent("envelope: no recipients"));
    }
    let to = to
        .iter()
        .map(|a| check("recipient", a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_from_rows() {
        // (from, to, ok)
        let cases: &[(&str, &[&str], bool)] = &[
            ("support@sed.example.org", &["user1@example.com"], true),
            ("", &["user1@example.com"], true),
            (
                "support@sed.example.org",
                &["a@example.com", "b@example.com"],
                true,
            ),
            ("support@sed.example.org", &[], false),
            ("not an address", &["user1@example.com"], false),
            ("support@sed.example.org", &["broken@"], false),
            (
                "support@sed.example.org",
                &["a@example.com>\r\nRSET"],
                false,
            ),
            ("a@b.example\r\nDATA", &["user1@example.com"], false),
        ];
        for (from, to, ok) in cases {
            let to: Vec<String> = to.iter().map(|s| s.to_string()).collect();
            let r = envelope(from, &to);
            assert_eq!(r.is_ok(), *ok, "{from} {to:?}: {r:?}");
            if let Err(e) = r {
                assert!(e.is_permanent(), "{e}");
            }
        }
    }
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod transport_tests;
