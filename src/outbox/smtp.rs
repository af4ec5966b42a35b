//! The SMTP transport: the stored raw bytes of a queued letter go to the
//! configured server (lettre on tokio, rustls) with an envelope built from
//! the row's sender and recipients.
//!
//! TLS as for IMAP: `implicit` (port 465), `starttls` (required, port 587)
//! or `none` (loopback only; config validation refuses anything else),
//! trusting the webpki roots or only `outgoing.ca_file`. Failures are split
//! for the sender's retry logic: 5xx answers and malformed addresses are
//! permanent (the row is marked failed with the server's answer), everything
//! else — refused connections, timeouts, 4xx, TLS trouble that an admin can
//! fix — is transient and retried with backoff.

use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{QueuedLetter, SendError};
use crate::config::{self, Outgoing};

/// Bound on one SMTP conversation step.
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpTransport({})", self.host)
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
        let tls = match cfg.tls {
            config::Tls::None => Tls::None,
            config::Tls::Implicit => Tls::Wrapper(tls_parameters(&host, cfg)?),
            config::Tls::Starttls => Tls::Required(tls_parameters(&host, cfg)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        let password = config::read_secret(
            cfg.password_file.as_deref(),
            cfg.password_env.as_deref(),
            "outgoing password",
        )
        .map_err(|e| SendError::permanent(e.to_string()))?;
        match (&cfg.user, password) {
            (Some(user), Some(pw)) => {
                builder = builder.credentials(Credentials::new(user.clone(), pw))
            }
            (Some(_), None) => return Err(SendError::permanent(
                "outgoing.user is set but neither outgoing.password_file nor outgoing.password_env",
            )),
            _ => {}
        }
        Ok(SmtpTransport {
            mailer: builder.build(),
            host,
            ca_file: cfg.ca_file.clone(),
        })
    }

    /// Hand one queued letter to the server.
    pub async fn send(&self, letter: &QueuedLetter) -> Result<(), SendError> {
        let envelope = envelope(&letter.from, &letter.to)?;
        match self.mailer.send_raw(&envelope, &letter.raw).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.classify(&e)),
        }
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> SendError {
        if let Some(r) = crate::tls::find_rustls_error(e) {
            return SendError::transient(format!(
                "SMTP {}: {}",
                self.host,
                crate::tls::explain(r, &self.host, "outgoing.ca_file", self.ca_file.as_deref())
            ));
        }
        let text = format!("SMTP {}: {e}", self.host);
        if e.is_permanent() || e.is_client() {
            SendError::permanent(text)
        } else {
            SendError::transient(text)
        }
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
