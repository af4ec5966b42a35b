//! TLS client settings shared by the IMAP source and the SMTP outbox.
//!
//! One place decides whom ticketd trusts: the webpki roots (Mozilla's list,
//! compiled in) by default, or only the CA certificates in a configured
//! `ca_file` (PEM) for a server whose certificate a private CA signed. rustls
//! with the ring provider; no OpenSSL. Handshake failures are turned into
//! messages that tell the admin which config key to change.

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key}: cannot read CA file `{}`: {cause}", path.display())]
    ReadCa {
        key: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{key}: `{}` holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificates { key: &'static str, path: PathBuf },
    #[error("{key}: certificate in `{}` rejected: {reason}", path.display())]
    BadCertificate {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("`{host}` is not a valid host name for TLS")]
    BadHost { host: String },
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// The CA certificates in `path` (PEM), DER-encoded.
pub fn load_ca(path: &Path, key: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::ReadCa {
        key,
        path: path.to_path_buf(),
        cause: source,
    })?;
    let mut reader = std::io::BufReader::new(bytes.as_slice());
    let certs: Vec<_> = rustls_pemfile::certs(&mut reader)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::BadCertificate {
            key,
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificates {
            key,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// A rustls client config trusting the webpki roots, or only the CAs in
/// `ca_file` when given. `key` names the config key in error messages.
pub fn client_config(
    ca_file: Option<&Path>,
    key: &'static str,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in load_ca(path, key)? {
                roots.add(cert).map_err(|e| TlsError::BadCertificate {
                    key,
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry (an IP address works too).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(h.to_string()).map_err(|_| TlsError::BadHost {
        host: host.to_string(),
    })
}

/// The rustls error somewhere in `err`'s source chain (directly, or inside
/// an `io::Error` as tokio-rustls reports it).
pub fn find_rustls_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(r) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Some(r);
            }
        }
        cur = e.source();
    }
    None
}

/// What to tell the admin when the TLS handshake with `host` failed with
/// `err`; `key` is the `ca_file` key of the section (`mailbox.ca_file`).
pub fn explain(err: &rustls::Error, host: &str, key: &str, ca_file: Option<&Path>) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => match ca_file {
                None => format!(
                    "the certificate of `{host}` is not signed by a publicly trusted CA (self-signed or a private CA): set {key} to the CA that signed the server's certificate"
                ),
                Some(path) => format!(
                    "the certificate of `{host}` is not signed by the CA in `{}`: set {key} to the CA that signed the server's certificate",
                    path.display()
                ),
            },
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => format!(
                "the certificate of `{host}` is not issued for that name: set the host to a name the certificate carries"
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("the certificate of `{host}` has expired: renew it on the server (or check this machine's clock)")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("the certificate of `{host}` is not valid yet: check this machine's clock")
            }
            other => format!("the certificate of `{host}` was refused: {other:?}"),
        },
        other => format!("TLS handshake with `{host}` failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_name_the_key_to_change() {
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let cases: &[(&rustls::Error, Option<&Path>, &str)] = &[
            (
                &unknown,
                None,
                "set mailbox.ca_file to the CA that signed the server's certificate",
            ),
            (
                &unknown,
                Some(Path::new("/etc/ca.pem")),
                "not signed by the CA in `/etc/ca.pem`",
            ),
            (
                &rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
                None,
                "not issued for that name",
            ),
            (
                &rustls::Error::InvalidCertificate(CertificateError::Expired),
                None,
                "has expired",
            ),
        ];
        for (err, ca, want) in cases {
            let text = explain(err, "mail.example.org", "mailbox.ca_file", *ca);
            assert!(text.contains(want), "{text:?} lacks {want:?}");
        }
    }

    #[test]
    fn rustls_error_found_inside_io_error() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert!(matches!(
            find_rustls_error(&io),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(find_rustls_error(&plain).is_none());
    }

    #[test]
    fn ca_file_errors_name_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = client_config(Some(&empty), "outgoing.ca_file").expect_err("no certs");
        assert!(e.to_string().starts_with("outgoing.ca_file:"), "{e}");
        let missing = dir.path().join("missing.pem");
        let e = client_config(Some(&missing), "mailbox.ca_file").expect_err("missing");
        assert!(e.to_string().contains("cannot read CA file"), "{e}");
        assert!(client_config(None, "mailbox.ca_file").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("[::1]").is_ok());
        assert!(server_name("bad host!").is_err());
    }
}
