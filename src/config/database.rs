//! `[database]`: which engine keeps the desk's state.
//!
//! `kind = "sqlite"` (the default, as before: `path`, `busy_timeout_ms`) or
//! `kind = "postgres"` (`url`, `password_file` / `password_env`, `sslmode`,
//! `ca_file`, `pool_size`). The password is never read from this file nor
//! from the URL: only from `password_file` or `password_env`
//! ([`super::read_secret`], as every other secret). `sslmode` defaults to
//! `verify-full` for a host that is not loopback and to `disable` for a
//! loopback host or a Unix socket; `disable` towards another host is
//! refused, as `[outgoing] tls = "none"` is.
//!
//! Every command runs on either engine (`crate::store::engine`); the store
//! is opened through [`Database::store_at`].

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    #[default]
    Sqlite,
    Postgres,
}

/// `[database] sslmode` (the names libpq uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SslMode {
    /// No TLS (loopback hosts and Unix sockets only).
    #[serde(rename = "disable")]
    Disable,
    /// TLS, but the server's certificate is not checked: encrypted, not
    /// authenticated (a network you trust against active attackers).
    #[serde(rename = "require")]
    Require,
    /// TLS with the certificate checked against the webpki roots (or only
    /// `ca_file`) and the host name: the default for a non-loopback host.
    #[serde(rename = "verify-full")]
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Option<SslMode> {
        match s {
            "disable" => Some(SslMode::Disable),
            "require" => Some(SslMode::Require),
            "verify-full" => Some(SslMode::VerifyFull),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

pub const DEFAULT_POOL_SIZE: usize = 8;
pub const POOL_SIZE_RANGE: std::ops::RangeInclusive<usize> = 1..=64;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    #[serde(default)]
    pub kind: DatabaseKind,
    /// The SQLite file (`kind = "sqlite"`; with `"postgres"`, the desk
    /// `ticketd db copy` reads from by default).
    #[serde(default)]
    pub path: PathBuf,
    /// How long a writer waits for a lock before giving up, milliseconds.
    #[serde(default = "default_busy_timeout")]
    pub busy_timeout_ms: u64,
    /// `postgresql://user@host[:port]/dbname`, without a password.
    pub url: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub sslmode: Option<SslMode>,
    /// CA certificates (PEM) trusted instead of the webpki roots.
    pub ca_file: Option<PathBuf>,
    pub pool_size: Option<usize>,
}

fn default_busy_timeout() -> u64 {
    5000
}

/// Where a PostgreSQL store is and how to reach it: `[database]` with
/// `kind = "postgres"`, or `ticketd db copy --to …` with its flags.
#[derive(Clone)]
pub struct PgTarget {
    pub url: String,
    /// Read from `password_file` / `password_env`; `None`: none needed
    /// (trust or peer authentication).
    pub password: Option<String>,
    pub sslmode: SslMode,
    pub ca_file: Option<PathBuf>,
    pub pool_size: usize,
    /// Where these settings were given, for a connection error to name
    /// what to change ([`DATABASE_KEYS`] or the `db copy` flags).
    pub given_by: &'static str,
}

/// The keys a connection error asks to check, for a config's target.
pub const DATABASE_KEYS: &str = "[database] url, password_file/password_env, sslmode and ca_file";

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("sslmode", &self.sslmode)
            .field("ca_file", &self.ca_file)
            .field("pool_size", &self.pool_size)
            .field("given_by", &self.given_by)
            .finish()
    }
}

/// The keys of `kind = "postgres"` (an error under `kind = "sqlite"`).
const POSTGRES_KEYS: [&str; 6] = [
    "url",
    "password_file",
    "password_env",
    "sslmode",
    "ca_file",
    "pool_size",
];

/// What a PostgreSQL URL says, as far as the checks need: its hosts
/// (TCP names or socket folders) and whether it carries a password.
pub struct UrlFacts {
    /// `(host, is_unix_socket)`.
    pub hosts: Vec<(String, bool)>,
    pub has_password: bool,
}

/// Parse a `postgresql://` URL (or libpq `key=value` string) as the
/// driver will; a reason when it cannot.
pub fn url_facts(url: &str) -> Result<UrlFacts, String> {
    if url.contains("sslmode=") {
        return Err("do not put sslmode in the URL; use the `sslmode` key (disable, require or verify-full)".into());
    }
    let cfg: tokio_postgres::Config = url.parse().map_err(|e| {
        format!("`{}` is not a PostgreSQL URL ({e}); e.g. \"postgresql://ticketd@db.example.org/ticketd\"", redact(url))
    })?;
    if cfg.get_dbname().is_none() {
        return Err(format!(
            "`{}` names no database; add it, e.g. \"postgresql://ticketd@db.example.org/ticketd\"",
            redact(url)
        ));
    }
    let hosts = cfg
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(n) => (n.clone(), false),
            tokio_postgres::config::Host::Unix(p) => (p.display().to_string(), true),
        })
        .collect::<Vec<_>>();
    if hosts.is_empty() {
        return Err(format!(
            "`{}` names no host; e.g. \"postgresql://ticketd@db.example.org/ticketd\"",
            redact(url)
        ));
    }
    Ok(UrlFacts {
        hosts,
        has_password: cfg.get_password().is_some(),
    })
}

/// `url` with a password in it replaced by `***` (for messages).
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}

/// The sslmode in force: the key's, or the default for these hosts.
pub fn effective_sslmode(given: Option<SslMode>, hosts: &[(String, bool)]) -> SslMode {
    given.unwrap_or_else(|| {
        if hosts.iter().all(|(h, unix)| *unix || super::is_loopback(h)) {
            SslMode::Disable
        } else {
            SslMode::VerifyFull
        }
    })
}

/// The checks of a PostgreSQL target: `(key, reason)` on the first
/// problem. Shared by `[database]` and the flags of `db copy`.
pub fn check_postgres(
    url: &str,
    sslmode: Option<SslMode>,
    ca_file: Option<&Path>,
    pool_size: usize,
) -> Result<(), (&'static str, String)> {
    let facts = url_facts(url).map_err(|r| ("url", r))?;
    if facts.has_password {
        return Err((
            "url",
            "the URL carries a password; never write it there: put it in a file named by `password_file` (mode 0600) or an environment variable named by `password_env`".into(),
        ));
    }
    let mode = effective_sslmode(sslmode, &facts.hosts);
    if mode == SslMode::Disable {
        if let Some((h, _)) = facts
            .hosts
            .iter()
            .find(|(h, unix)| !*unix && !super::is_loopback(h))
        {
            return Err((
                "sslmode",
                format!("sslmode = \"disable\" is allowed only for a loopback host or a Unix socket, not `{h}`; use \"verify-full\" (or \"require\")"),
            ));
        }
    }
    if let Some(p) = ca_file {
        if mode != SslMode::VerifyFull {
            return Err((
                "ca_file",
                format!(
                    "ca_file is used only with sslmode = \"verify-full\" (sslmode is \"{}\")",
                    mode.as_str()
                ),
            ));
        }
        if !p.is_file() {
            return Err((
                "ca_file",
                format!("file `{}` does not exist or is not a file", p.display()),
            ));
        }
    }
    if !POOL_SIZE_RANGE.contains(&pool_size) {
        return Err((
            "pool_size",
            format!(
                "must be {} to {}, not {pool_size}",
                POOL_SIZE_RANGE.start(),
                POOL_SIZE_RANGE.end()
            ),
        ));
    }
    Ok(())
}

impl Database {
    /// Resolve relative paths against the config's folder.
    pub(super) fn resolve_paths(&mut self, base: &Path) {
        for p in [
            Some(&mut self.path),
            self.password_file.as_mut(),
            self.ca_file.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if !p.as_os_str().is_empty() && p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// `[database]`'s own checks: `(key under database., reason)`.
    pub(super) fn check(&self) -> Result<(), (String, String)> {
        let key = |k: &str| format!("database.{k}");
        match self.kind {
            DatabaseKind::Sqlite => {
                if self.path.as_os_str().is_empty() {
                    return Err((
                        key("path"),
                        "missing key `path`: kind = \"sqlite\" needs the database file (e.g. \"/var/lib/ticketd/ticketd.sqlite3\")".into(),
                    ));
                }
                let given = [
                    self.url.is_some(),
                    self.password_file.is_some(),
                    self.password_env.is_some(),
                    self.sslmode.is_some(),
                    self.ca_file.is_some(),
                    self.pool_size.is_some(),
                ];
                if let Some((k, _)) = POSTGRES_KEYS.iter().zip(given).find(|(_, g)| *g) {
                    return Err((
                        key(k),
                        format!("`{k}` is a key of kind = \"postgres\", not of kind = \"sqlite\"; set kind = \"postgres\" or remove it"),
                    ));
                }
                if let Some(dir) = self.path.parent() {
                    if dir.exists() && !dir.is_dir() {
                        return Err((key("path"), format!("`{}` is not a folder", dir.display())));
                    }
                }
                Ok(())
            }
            DatabaseKind::Postgres => {
                let Some(url) = &self.url else {
                    return Err((
                        key("url"),
                        "missing key `url`: kind = \"postgres\" needs it (e.g. \"postgresql://ticketd@db.example.org/ticketd\")".into(),
                    ));
                };
                check_postgres(
                    url,
                    self.sslmode,
                    self.ca_file.as_deref(),
                    self.pool_size.unwrap_or(DEFAULT_POOL_SIZE),
                )
                .map_err(|(k, r)| (key(k), r))?;
                if let Some(p) = &self.password_file {
                    if !p.is_file() {
                        return Err((
                            key("password_file"),
                            format!("file `{}` does not exist or is not a file", p.display()),
                        ));
                    }
                } else if let Some(var) = &self.password_env {
                    if std::env::var_os(var).is_none() {
                        return Err((
                            key("password_env"),
                            format!("environment variable `{var}` is not set; set it where ticketd runs (systemd: Environment= or EnvironmentFile= in the unit) or use the password_file key instead"),
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// Where the store is, for [`crate::store::Reopen::open`]: the SQLite
    /// file, or the PostgreSQL target with its password read (a password
    /// that cannot be read is a connection error naming the keys).
    pub fn store_at(&self) -> Result<crate::store::Reopen, crate::store::StoreError> {
        match self.postgres() {
            Ok(Some(t)) => Ok(crate::store::Reopen::Postgres(t)),
            Ok(None) => Ok(crate::store::Reopen::Sqlite {
                path: self.path.clone(),
                busy: std::time::Duration::from_millis(self.busy_timeout_ms),
            }),
            Err(e) => Err(crate::store::StoreError::PgConnect {
                url: redact(self.url.as_deref().unwrap_or_default()),
                reason: e.to_string(),
            }),
        }
    }

    /// The PostgreSQL target of `kind = "postgres"` with its password read;
    /// `None` for SQLite.
    pub fn postgres(&self) -> Result<Option<PgTarget>, super::ConfigError> {
        if self.kind != DatabaseKind::Postgres {
            return Ok(None);
        }
        let url = self.url.clone().unwrap_or_default();
        let hosts = url_facts(&url).map(|f| f.hosts).unwrap_or_default();
        Ok(Some(PgTarget {
            password: super::read_secret(
                self.password_file.as_deref(),
                self.password_env.as_deref(),
                "database (password_file / password_env)",
            )?,
            sslmode: effective_sslmode(self.sslmode, &hosts),
            ca_file: self.ca_file.clone(),
            pool_size: self.pool_size.unwrap_or(DEFAULT_POOL_SIZE),
            given_by: DATABASE_KEYS,
            url,
        }))
    }
}

#[cfg(test)]
#[path = "database_tests.rs"]
mod tests;
