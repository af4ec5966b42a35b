//! The SMTP transport: the stored raw bytes of a queued letter go to the
//! configured server (lettre on tokio, rustls) with an envelope built from
//! the row's sender and recipients.
//!
//! TLS as for IMAP: `implicit` (port 465), `starttls` (required, port 587)
//! or `none` (loopback only; config validation refuses anything else),
//! trusting the webpki roots or only `outgoing.ca_file`. Connections are
//! kept open between letters in a small pool: each [`SmtpTransport::send`]
//! takes one (or opens one), so as many letters travel at once as the caller
//! sends concurrently (the sender bounds that by `outgoing.connections`); a
//! connection the server has closed is re-opened. Failures are split
//! for the sender's retry logic: 5xx answers to a letter's own MAIL, RCPT or
//! DATA and malformed addresses are permanent (the row is marked failed with
//! the server's answer); everything else — refused connections, timeouts,
//! 4xx, and whatever goes wrong while opening a connection (greeting, EHLO,
//! STARTTLS, TLS trust, a refused login: the same for every letter, and an
//! admin can fix it) — is transient and retried with backoff.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, CertificateStore, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{QueuedLetter, SendError};
use crate::config::{self, Outgoing};

/// Bound on connecting and on one letter's SMTP conversation.
const TIMEOUT: Duration = Duration::from_secs(60);
/// A connection idle longer than this is checked with NOOP before reuse.
const IDLE_CHECK: Duration = Duration::from_secs(20);

/// How the connection is secured, resolved from the config.
enum Security {
    None,
    Starttls(TlsParameters),
    Implicit(Arc<rustls::ClientConfig>),
}

/// Delivers queued letters over kept-open SMTP connections (TCP_NODELAY:
/// without it every letter waits ~40 ms for a delayed ACK), reconnecting
/// when the server has dropped one.
pub struct SmtpTransport {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    ca_file: Option<std::path::PathBuf>,
    /// Idle connections with the time they were last used; at most
    /// `keep` are kept.
    idle: std::sync::Mutex<Vec<(Conn, Instant)>>,
    keep: usize,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpTransport({}:{})", self.host, self.port)
    }
}

impl SmtpTransport {
    /// Build the transport from `[outgoing]`; errors name the key to fix.
    pub fn new(cfg: &Outgoing) -> Result<SmtpTransport, SendError> {
        let host = cfg
            .host
            .clone()
            .ok_or_else(|| SendError::permanent("outgoing.host is required for kind = \"smtp\""))?;
        let port = cfg.port.unwrap_or(match cfg.tls {
            config::Tls::Implicit => 465,
            config::Tls::Starttls => 587,
            config::Tls::None => 25,
        });
        let security = match cfg.tls {
            config::Tls::None => Security::None,
            config::Tls::Starttls => Security::Starttls(tls_parameters(&host, cfg)?),
            config::Tls::Implicit => Security::Implicit(
                crate::tls::client_config(cfg.ca_file.as_deref(), "outgoing.ca_file")
                    .map_err(|e| SendError::permanent(e.to_string()))?,
            ),
        };
        let password = config::read_secret(
            cfg.password_file.as_deref(),
            cfg.password_env.as_deref(),
            "outgoing password",
        )
        .map_err(|e| SendError::permanent(e.to_string()))?;
        let credentials = match (&cfg.user, password) {
            (Some(user), Some(pw)) => Some(Credentials::new(user.clone(), pw)),
            (Some(_), None) => return Err(SendError::permanent(
                "outgoing.user is set but neither outgoing.password_file nor outgoing.password_env",
            )),
            _ => None,
        };
        Ok(SmtpTransport {
            host,
            port,
            security,
            credentials,
            ca_file: cfg.ca_file.clone(),
            idle: std::sync::Mutex::new(Vec::new()),
            keep: cfg.connections.max(1) as usize,
        })
    }

    /// How many letters the caller may send at once (`outgoing.connections`).
    pub fn connections(&self) -> usize {
        self.keep
    }

    fn take_idle(&self) -> Option<(Conn, Instant)> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put_idle(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.keep {
            idle.push((conn, Instant::now()));
        }
        // else: dropped; the server sees the socket close.
    }

    /// Hand one queued letter to the server, over an idle pooled connection
    /// or a new one; concurrent calls use different connections.
    pub async fn send(&self, letter: &QueuedLetter) -> Result<(), SendError> {
        let envelope = envelope(&letter.from, &letter.to)?;
        let mut conn = match self.take_idle() {
            Some((mut c, last)) if !c.smtp.has_broken() => {
                if last.elapsed() > IDLE_CHECK && !c.smtp.test_connected().await {
                    c.smtp.abort().await;
                    self.connect().await?
                } else {
                    c
                }
            }
            Some((mut c, _)) => {
                c.smtp.abort().await;
                self.connect().await?
            }
            None => self.connect().await?,
        };
        match tokio::time::timeout(TIMEOUT, conn.transact(&envelope, &letter.raw)).await {
            Ok(Ok(_)) => {
                self.put_idle(conn);
                Ok(())
            }
            Ok(Err(e)) => {
                conn.smtp.abort().await;
                Err(self.classify(&e))
            }
            Err(_) => {
                conn.smtp.abort().await;
                Err(SendError::transient(format!(
                    "SMTP {}:{}: no answer within {TIMEOUT:?}",
                    self.host, self.port
                )))
            }
        }
    }

    async fn connect(&self) -> Result<Conn, SendError> {
        tokio::time::timeout(TIMEOUT, self.connect_inner())
            .await
            .map_err(|_| {
                SendError::transient(format!(
                    "SMTP {}:{}: connecting timed out",
                    self.host, self.port
                ))
            })?
    }

    async fn connect_inner(&self) -> Result<Conn, SendError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| SendError::transient(format!("SMTP {}:{}: {e}", self.host, self.port)))?;
        let _ = tcp.set_nodelay(true);
        let hello = ClientId::default();
        let mut conn = match &self.security {
            Security::None => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                .await
                .map_err(|e| self.classify_connect(&e))?,
            Security::Starttls(params) => {
                let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                    .await
                    .map_err(|e| self.classify_connect(&e))?;
                c.starttls(params.clone(), &hello)
                    .await
                    .map_err(|e| self.classify_connect(&e))?;
                c
            }
            Security::Implicit(cfg) => {
                let name = crate::tls::server_name(&self.host)
                    .map_err(|e| SendError::permanent(e.to_string()))?;
                let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| match crate::tls::find_rustls_error(&e) {
                        Some(r) => SendError::transient(format!(
                            "SMTP {}: {}",
                            self.host,
                            crate::tls::explain(
                                r,
                                &self.host,
                                "outgoing.ca_file",
                                self.ca_file.as_deref()
                            )
                        )),
                        None => SendError::transient(format!(
                            "SMTP {}:{} TLS: {e}",
                            self.host, self.port
                        )),
                    })?;
                AsyncSmtpConnection::connect_with_transport(Box::new(TlsIo(tls)), &hello)
                    .await
                    .map_err(|e| self.classify_connect(&e))?
            }
        };
        // lettre has read the EHLO answer but keeps only the keywords it
        // uses; ask again for PIPELINING (before AUTH: EHLO resets a
        // session's state).
        let pipelining = conn
            .command(Ehlo::new(hello.clone()))
            .await
            .map_err(|e| self.classify_connect(&e))
            .map(|r| offers(&r, "PIPELINING"))?;
        if let Some(creds) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], creds)
                .await
                .map_err(|e| {
                    SendError::transient(format!(
                        "SMTP {}:{}: login refused: {e} (check outgoing.user and \
                         outgoing.password_file / outgoing.password_env; letters wait in \
                         the outbox meanwhile)",
                        self.host, self.port
                    ))
                })?;
        }
        Ok(Conn {
            smtp: conn,
            pipelining,
        })
    }

    /// Opening a connection (greeting, EHLO, STARTTLS) fails for every
    /// letter alike and is something an admin can fix, so it is never a
    /// reason to give a letter up: only answers to a letter's own MAIL,
    /// RCPT or DATA may be permanent.
    fn classify_connect(&self, e: &lettre::transport::smtp::Error) -> SendError {
        SendError::transient(self.classify(e).message)
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> SendError {
        if let Some(r) = crate::tls::find_rustls_error(e) {
            return SendError::transient(format!(
                "SMTP {}: {}",
                self.host,
                crate::tls::explain(r, &self.host, "outgoing.ca_file", self.ca_file.as_deref())
            ));
        }
        let text = format!("SMTP {}:{}: {e}", self.host, self.port);
        if e.is_permanent() || e.is_client() {
            SendError::permanent(text)
        } else {
            SendError::transient(text)
        }
    }
}

/// One open SMTP connection and what its server offers beyond what lettre
/// tracks.
struct Conn {
    smtp: AsyncSmtpConnection,
    pipelining: bool,
}

impl Conn {
    /// One letter: MAIL, RCPT…, DATA, the message. Pipelined when the
    /// server allows it (one write, then the answers in order), otherwise
    /// lettre's one command at a time. Any error leaves the connection to
    /// be aborted by the caller.
    async fn transact(
        &mut self,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<Response, lettre::transport::smtp::Error> {
        let info = self.smtp.server_info();
        let utf8_addresses = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        let eight_bit = !raw.is_ascii();
        // What lettre refuses (8-bit content or addresses the server cannot
        // take) goes its way, so the refusal reads the same.
        if !self.pipelining
            || (utf8_addresses && !info.supports_feature(Extension::SmtpUtfEight))
            || (eight_bit && !info.supports_feature(Extension::EightBitMime))
        {
            return self.smtp.send(envelope, raw).await;
        }
        let mut params = Vec::new();
        if utf8_addresses {
            params.push(MailParameter::SmtpUtfEight);
        }
        if eight_bit {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mut commands = Mail::new(envelope.from().cloned(), params).to_string();
        for to in envelope.to() {
            commands.push_str(&Rcpt::new(to.clone(), Vec::new()).to_string());
        }
        commands.push_str(&Data.to_string());
        // MAIL's answer, then one per recipient, then DATA's 354.
        self.smtp.command(commands).await?;
        for _ in envelope.to() {
            self.smtp.read_response().await?;
        }
        self.smtp.read_response().await?;
        self.smtp.message(raw).await
    }
}

/// True when an EHLO answer lists `keyword` (case-insensitive, first word of
/// a line).
fn offers(ehlo: &Response, keyword: &str) -> bool {
    ehlo.message().any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
    })
}

/// A rustls stream lettre can drive (implicit TLS on our own socket).
#[derive(Debug)]
struct TlsIo(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsIo {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

fn tls_parameters(host: &str, cfg: &Outgoing) -> Result<TlsParameters, SendError> {
    let mut b = TlsParameters::builder(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    );
    if let Some(path) = &cfg.ca_file {
        b = b.certificate_store(CertificateStore::None);
        let certs = crate::tls::load_ca(path, "outgoing.ca_file")
            .map_err(|e| SendError::permanent(e.to_string()))?;
        for der in certs {
            let cert = Certificate::from_der(der.as_ref().to_vec()).map_err(|e| {
                SendError::permanent(format!("outgoing.ca_file `{}`: {e}", path.display()))
            })?;
            b = b.add_root_certificate(cert);
        }
    }
    b.build_rustls()
        .map_err(|e| SendError::permanent(format!("[outgoing] TLS setup: {e}")))
}

/// The SMTP envelope of a queued letter; bad addresses are permanent.
pub fn envelope(from: &str, to: &[String]) -> Result<Envelope, SendError> {
    let from = if from.trim().is_empty() {
        None // null reverse-path
    } else {
        Some(
            from.trim()
                .parse::<Address>()
                .map_err(|e| SendError::permanent(format!("envelope sender `{from}`: {e}")))?,
        )
    };
    let to = to
        .iter()
        .map(|a| {
            a.trim()
                .parse::<Address>()
                .map_err(|e| SendError::permanent(format!("recipient `{a}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(from, to).map_err(|e| SendError::permanent(format!("envelope: {e}")))
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
#[path = "smtp_tests.rs"]
mod pipelining_tests;
