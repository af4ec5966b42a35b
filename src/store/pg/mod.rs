//! PostgreSQL as a second store: the connection settings, the schema's
//! migrations and the copy of a SQLite desk (issue 17). The daemon's own
//! queries run through `super::engine` (one connection per store handle,
//! `super::engine::pg`); here:
//!
//! - [`connect`]: a pool of connections for `ticketd db copy --to …` and
//!   `db migrate`, TLS by rustls ([`tls_config`], shared with the engine).
//! - [`migrate`]: the schema, versioned in `schema_version` with the same
//!   numbers as SQLite's `PRAGMA user_version`, applied by `ticketd db
//!   migrate` (and by every command that opens the store).
//! - [`copy`]: `ticketd db copy`, a SQLite desk and its attachment files
//!   into PostgreSQL, resumable, verified by counts and hashes.
//!
//! ## The driver
//!
//! `tokio-postgres` with a `deadpool-postgres` pool and
//! `tokio-postgres-rustls` for TLS. Why these and not `sqlx`:
//! - the daemon is already tokio; tokio-postgres is the maintained
//!   protocol implementation under most of the Rust PostgreSQL stack,
//!   with binary `COPY` (the copy's bulk path) and pipelining;
//! - plain SQL strings like the SQLite store's, no compile-time checking
//!   against a live database (sqlx's macros need one at build time, or a
//!   checked-in cache per query), no second query builder;
//! - TLS through the rustls 0.23 the IMAP and SMTP sides already use (one
//!   TLS stack, ring provider, no OpenSSL): tokio-postgres-rustls 0.14 is
//!   built on that version, so Cargo.lock holds one rustls;
//! - deadpool is a small, runtime-agnostic pool whose size is the one
//!   knob an admin needs (`pool_size`).
//!
//! ## TLS (`sslmode`)
//!
//! `disable`: plain TCP, allowed only to loopback hosts and Unix sockets
//! (checked by the config). `require`: TLS without checking the server's
//! certificate (encrypted, not authenticated). `verify-full`: the chain is
//! checked against the webpki roots, or only the CAs of `ca_file`, and the
//! certificate must name the host (the default for a non-loopback host).

pub mod copy;
mod digest;
pub mod migrate;

use crate::config::{PgTarget, SslMode};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::sync::Arc;

/// What can go wrong talking to PostgreSQL, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL `{url}`: {reason}")]
    Connect { url: String, reason: String },
    #[error("PostgreSQL database has schema version {found}, newer than this ticketd knows ({known}); upgrade ticketd")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    Copy(String),
    #[error("PostgreSQL: {0}")]
    Sql(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => PgError::Sql(e),
            other => PgError::Connect {
                url: String::new(),
                reason: other.to_string(),
            },
        }
    }
}

impl From<rusqlite::Error> for PgError {
    fn from(e: rusqlite::Error) -> Self {
        PgError::Store(super::StoreError::Sql(e))
    }
}

pub type Result<T> = std::result::Result<T, PgError>;

/// The driver's error in full: its own text, then the server's message
/// and hint when there is one (tokio-postgres's Display says only "db
/// error").
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.hint() {
            Some(h) => format!("{}: {} (hint: {h})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(c) = src {
                s.push_str(": ");
                s.push_str(&c.to_string());
                src = c.source();
            }
            s
        }
    }
}

/// A pool of connections to `target`; one connection is made here, so a
/// wrong address, password or certificate is reported now, with the URL
/// (never the password) and the key to change.
pub async fn connect(target: &PgTarget) -> Result<Pool> {
    let shown = crate::config::database::redact(&target.url);
    let fail = |reason: String| PgError::Connect {
        url: shown.clone(),
        reason,
    };
    let mut cfg: tokio_postgres::Config = target
        .url
        .parse()
        .map_err(|e| fail(format!("not a PostgreSQL URL: {e}")))?;
    if let Some(p) = &target.password {
        cfg.password(p.as_bytes());
    }
    if cfg.get_application_name().is_none() {
        cfg.application_name("ticketd");
    }
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(std::time::Duration::from_secs(10));
    }
    let mgr_cfg = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let mgr = match target.sslmode {
        SslMode::Disable => {
            cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
            Manager::from_config(cfg, tokio_postgres::NoTls, mgr_cfg)
        }
        mode => {
            cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
            let tls = tls_config(mode, target.ca_file.as_deref()).map_err(fail)?;
            Manager::from_config(
                cfg,
                tokio_postgres_rustls::MakeRustlsConnect::new(tls),
                mgr_cfg,
            )
        }
    };
    let pool = Pool::builder(mgr)
        .max_size(target.pool_size.max(1))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    match pool.get().await {
        Ok(_) => Ok(pool),
        Err(deadpool_postgres::PoolError::Backend(e)) => {
            Err(fail(format!("{}; check {}", describe(&e), target.given_by)))
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// The rustls client settings of `mode` (`require` or `verify-full`).
pub(crate) fn tls_config(
    mode: SslMode,
    ca_file: Option<&std::path::Path>,
) -> std::result::Result<rustls::ClientConfig, String> {
    let base = crate::tls::client_config(ca_file, "database.ca_file").map_err(|e| e.to_string())?;
    let mut cfg = (*base).clone();
    if mode == SslMode::Require {
        cfg.dangerous()
            .set_certificate_verifier(Arc::new(NoCertificateCheck(
                rustls::crypto::ring::default_provider(),
            )));
    }
    Ok(cfg)
}

/// `sslmode = "require"`: the handshake's signatures are checked (the
/// session is encrypted to whoever holds the key), the certificate is not.
#[derive(Debug)]
struct NoCertificateCheck(rustls::crypto::CryptoProvider);

impl rustls::client::danger::ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
