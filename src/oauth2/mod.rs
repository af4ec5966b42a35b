//! OAuth2 access tokens for the IMAP and SMTP logins (`auth = "oauth2"` in
//! `[mailbox]` / `[outgoing]`), as Microsoft 365, Gmail and Yandex 360
//! require: SASL XOAUTH2 with a short-lived access token obtained from
//! `token_url` with the long-lived refresh token in `refresh_token_file`.
//!
//! * [`grant`]: the pure parts — form body, the endpoint's JSON answer,
//!   the freshness decision, the SASL strings; a [`Secret`] never prints.
//! * [`http`]: a one-request HTTP/1.1 POST over tokio and tokio-rustls.
//! * [`crate::outbox::smtp::oauth2`] (kept with the SMTP transport): its
//!   per-connection credentials hook (AUTH XOAUTH2) over a [`TokenSource`].
//! * [`TokenSource`] (here): one per section; caches the access token and
//!   refreshes it [`grant::MARGIN`] before it expires, and at once when a
//!   server refuses it ([`TokenSource::rejected`]: the login refreshes
//!   once and retries). Concurrent logins (several SMTP connections) share
//!   one refresh: the cache sits behind an async mutex. A rotated refresh
//!   token is written back to `refresh_token_file` atomically (a 0600
//!   temporary file renamed over it). The refresh token file and the client
//!   secret are re-read at every refresh, so an admin who puts a new token
//!   there is heard without a restart.
//! * A failed refresh is an [`OAuthError`] naming the key to fix; it is
//!   logged once per outage (the next success logs the recovery) and handed
//!   to a [`StatusSink`] that the daemon points at the store, where
//!   `ticketd status` shows it (key `oauth2.mailbox` / `oauth2.outgoing`).
//!
//! **Why our own small HTTP client.** The token endpoint is one form POST
//! every hour or so. The daemon already links tokio, rustls with the webpki
//! roots, and serde_json; a general client (hyper + hyper-util + http +
//! tower pieces, or reqwest on top) would add a few hundred kilobytes of
//! code and its own connection pool to a binary whose resident size counts
//! against the benchmark's RSS budget, and `ureq` would bring a second TLS
//! setup and a blocking thread. So [`http`] speaks just what a token
//! endpoint needs: `Connection: close`, a `Content-Length` or chunked body,
//! a 64 KiB bound on the answer, a 30 s timeout, TLS trusted as the rest of
//! ticketd trusts it. `http://` is accepted only for a loopback host (the
//! tests' endpoint).

pub mod grant;
pub mod http;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub use grant::Secret;
use grant::{Answer, Grant};

/// Bound on one refresh request (connect, TLS, answer).
const REFRESH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why no access token could be had. Every message names the config key
/// an admin changes to fix it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OAuthError {
    /// A key is missing or a file unreadable.
    #[error("OAuth2 for [{section}]: {key}: {reason}")]
    Config {
        section: &'static str,
        key: String,
        reason: String,
    },
    /// The token endpoint refused the refresh (RFC 6749 §5.2).
    #[error("OAuth2 token refresh for [{section}] refused by {url}: {error}{}; {hint}",
        description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        section: &'static str,
        url: String,
        error: String,
        description: Option<String>,
        hint: String,
    },
    /// The endpoint could not be reached or answered nonsense; retried.
    #[error("OAuth2 token endpoint {url} for [{section}] unavailable: {reason} (check {section}.token_url; retried with backoff)")]
    Unavailable {
        section: &'static str,
        url: String,
        reason: String,
    },
}

impl OAuthError {
    /// Whether trying again later may help without an admin.
    pub fn is_transient(&self) -> bool {
        matches!(self, OAuthError::Unavailable { .. })
    }
}

/// What to tell an admin for an RFC 6749 error code.
fn hint(section: &str, error: &str) -> String {
    match error {
        "invalid_grant" => format!(
            "the refresh token is expired or revoked: sign in again and put the new refresh token in {section}.refresh_token_file"
        ),
        "invalid_client" | "unauthorized_client" => format!(
            "the client is not accepted: check {section}.client_id and {section}.client_secret_file"
        ),
        "invalid_scope" => format!("check {section}.scope"),
        _ => format!(
            "check {section}.refresh_token_file, {section}.client_id and {section}.token_url"
        ),
    }
}

/// The `[mailbox]` or `[outgoing]` OAuth2 keys, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `mailbox` or `outgoing`: the section the keys live in.
    pub section: &'static str,
    pub token_url: http::Url,
    pub token_url_text: String,
    pub client_id: String,
    pub client_secret_file: Option<PathBuf>,
    pub refresh_token_file: PathBuf,
    pub scope: Option<String>,
}

impl Settings {
    /// Build from the section's keys; errors name the missing key.
    pub fn new(
        section: &'static str,
        token_url: Option<&str>,
        client_id: Option<&str>,
        client_secret_file: Option<&Path>,
        refresh_token_file: Option<&Path>,
        scope: Option<&str>,
    ) -> Result<Settings, OAuthError> {
        let missing = |key: &str| OAuthError::Config {
            section,
            key: format!("{section}.{key}"),
            reason: "auth = \"oauth2\" needs this key".into(),
        };
        let text = token_url.ok_or_else(|| missing("token_url"))?;
        let url = http::Url::parse(text).map_err(|reason| OAuthError::Config {
            section,
            key: format!("{section}.token_url"),
            reason,
        })?;
        Ok(Settings {
            section,
            token_url: url,
            token_url_text: text.to_string(),
            client_id: client_id.ok_or_else(|| missing("client_id"))?.to_string(),
            client_secret_file: client_secret_file.map(Path::to_path_buf),
            refresh_token_file: refresh_token_file
                .ok_or_else(|| missing("refresh_token_file"))?
                .to_path_buf(),
            scope: scope.map(str::to_string),
        })
    }

    fn key(&self, k: &str) -> String {
        format!("{}.{k}", self.section)
    }
}

/// A failure as `ticketd status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    pub error: String,
    pub since: DateTime<Utc>,
}

/// Where the token source reports a failure (`Some`) or its end (`None`);
/// called on a blocking thread, only when the state changes.
pub type StatusSink = Arc<dyn Fn(&'static str, Option<&Problem>) + Send + Sync>;

/// The state key under which `ticketd status` finds a section's problem.
pub fn state_key(section: &str) -> String {
    format!("oauth2.{section}")
}

/// A [`StatusSink`] writing into the database's state table (JSON, or an
/// empty value when all is well again).
pub fn store_sink(db: crate::store::Reopen) -> StatusSink {
    Arc::new(move |section, problem| {
        let value = problem
            .and_then(|p| serde_json::to_string(p).ok())
            .unwrap_or_default();
        let r = db
            .open()
            .and_then(|s| s.state_set(&state_key(section), &value));
        if let Err(e) = r {
            tracing::warn!(error = %e, "cannot record the OAuth2 state for `ticketd status`");
        }
    })
}

/// Read a section's recorded problem (for `ticketd status`).
pub fn read_problem(value: Option<&str>) -> Option<Problem> {
    value
        .filter(|v| !v.is_empty())
        .and_then(|v| serde_json::from_str(v).ok())
}

struct Cached {
    token: Secret,
    obtained: Instant,
    lifetime: Option<Duration>,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    /// A rotated refresh token that could not be written back: used
    /// instead of the file's until a write succeeds.
    unsaved_refresh: Option<Secret>,
    /// The current failure, if refreshes fail.
    problem: Option<Problem>,
}

/// Access tokens for one section's logins.
pub struct TokenSource {
    settings: Settings,
    tls: Option<Arc<rustls::ClientConfig>>,
    state: tokio::sync::Mutex<State>,
    /// A token a server refused ([`TokenSource::rejected`]), dropped from
    /// the cache by the next [`TokenSource::access_token`].
    refused: std::sync::Mutex<Option<Secret>>,
    sink: OnceLock<StatusSink>,
    clock: Arc<dyn crate::clock::Clock>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TokenSource([{}] {})",
            self.settings.section, self.settings.token_url_text
        )
    }
}

impl TokenSource {
    pub fn new(settings: Settings) -> Result<TokenSource, OAuthError> {
        let tls = if settings.token_url.https {
            Some(
                crate::tls::client_config(None, "token_url").map_err(|e| OAuthError::Config {
                    section: settings.section,
                    key: settings.key("token_url"),
                    reason: e.to_string(),
                })?,
            )
        } else {
            None
        };
        Ok(TokenSource {
            settings,
            tls,
            state: tokio::sync::Mutex::new(State::default()),
            refused: std::sync::Mutex::new(None),
            sink: OnceLock::new(),
            clock: crate::clock::system(),
        })
    }

    /// Date failures (`ticketd status`) by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> TokenSource {
        self.clock = clock;
        self
    }

    /// Report failures and recoveries to `sink` (once; later calls are ignored).
    pub fn set_status_sink(&self, sink: StatusSink) {
        let _ = self.sink.set(sink);
    }

    pub fn section(&self) -> &'static str {
        self.settings.section
    }

    /// A token for a login: the cached one while fresh (and not refused),
    /// else a new one.
    pub async fn access_token(&self) -> Result<Secret, OAuthError> {
        let mut st = self.state.lock().await;
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(c) = &st.cached {
            if refused.as_ref() == Some(&c.token) {
                tracing::info!(
                    section = self.settings.section,
                    "the server refused the OAuth2 access token; refreshing it"
                );
            } else if grant::still_fresh(c.obtained.elapsed(), c.lifetime) {
                return Ok(c.token.clone());
            }
        }
        st.cached = None;
        let result = self.refresh(&mut st).await;
        self.note(&mut st, result.as_ref().err()).await;
        let g = result?;
        st.cached = Some(Cached {
            token: g.access_token.clone(),
            obtained: Instant::now(),
            lifetime: g.lifetime,
        });
        Ok(g.access_token)
    }

    /// A server refused `token`: the next [`access_token`](Self::access_token)
    /// refreshes, unless another login has already replaced that token.
    /// Not async, so an SMTP "rejected" hook can call it.
    pub fn rejected(&self, token: &Secret) {
        *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
    }

    async fn refresh(&self, st: &mut State) -> Result<Grant, OAuthError> {
        let s = &self.settings;
        let refresh_token = match &st.unsaved_refresh {
            Some(t) => t.clone(),
            None => read_file(s, "refresh_token_file", &s.refresh_token_file).await?,
        };
        let secret = match &s.client_secret_file {
            Some(p) => Some(read_file(s, "client_secret_file", p).await?),
            None => None,
        };
        let body = grant::refresh_body(
            &grant::Client {
                client_id: &s.client_id,
                client_secret: secret.as_ref(),
                scope: s.scope.as_deref(),
            },
            &refresh_token,
        );
        let unavailable = |reason: String| OAuthError::Unavailable {
            section: s.section,
            url: s.token_url_text.clone(),
            reason,
        };
        let resp = http::post_form(&s.token_url, self.tls.clone(), &body, REFRESH_TIMEOUT)
            .await
            .map_err(unavailable)?;
        let g = match grant::parse_answer(resp.status, &resp.body) {
            Answer::Granted(g) => g,
            Answer::Refused { error, description } => {
                return Err(OAuthError::Refused {
                    section: s.section,
                    url: s.token_url_text.clone(),
                    hint: hint(s.section, &error),
                    error,
                    description,
                })
            }
            Answer::Unavailable(reason) => return Err(unavailable(reason)),
        };
        tracing::debug!(
            section = s.section,
            lifetime = ?g.lifetime,
            rotated = g.refresh_token.is_some(),
            "OAuth2 access token refreshed"
        );
        if let Some(new) = g.refresh_token.as_ref().filter(|t| **t != refresh_token) {
            match write_back(&s.refresh_token_file, new).await {
                Ok(()) => st.unsaved_refresh = None,
                Err(e) => {
                    tracing::error!(
                        "OAuth2: cannot write the new refresh token to {} (`{}`): {e}; \
                         it is kept in memory until a write succeeds, but a restart will \
                         need a new one",
                        s.key("refresh_token_file"),
                        s.refresh_token_file.display()
                    );
                    st.unsaved_refresh = Some(new.clone());
                }
            }
        }
        Ok(g)
    }

    /// Log and report a change of state: the first failure of an outage
    /// (or a different one) at error level, the recovery at info.
    async fn note(&self, st: &mut State, err: Option<&OAuthError>) {
        let section = self.settings.section;
        let next = match (err, &st.problem) {
            (None, None) => return,
            (None, Some(p)) => {
                let secs = (self.clock.now() - p.since).num_seconds().max(0);
                tracing::info!(section, "OAuth2 token refresh works again after {secs} s");
                None
            }
            (Some(e), Some(p)) if p.error == e.to_string() => {
                tracing::debug!(
                    section,
                    "OAuth2 token refresh still failing, as logged at {}",
                    p.since
                );
                return;
            }
            (Some(e), old) => {
                tracing::error!(section, "{e}");
                Some(Problem {
                    error: e.to_string(),
                    since: old.as_ref().map_or_else(|| self.clock.now(), |p| p.since),
                })
            }
        };
        st.problem = next.clone();
        if let Some(sink) = self.sink.get().cloned() {
            let _ = tokio::task::spawn_blocking(move || sink(section, next.as_ref())).await;
        }
    }
}

async fn read_file(s: &Settings, key: &str, path: &Path) -> Result<Secret, OAuthError> {
    let cfg_err = |reason: String| OAuthError::Config {
        section: s.section,
        key: s.key(key),
        reason,
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| cfg_err(format!("cannot read `{}`: {e}", path.display())))?;
    grant::read_refresh_token(&text).map_err(|why| cfg_err(format!("`{}` {why}", path.display())))
}

/// Replace `path` with `token` atomically: a 0600 temporary file in the same
/// folder, synced, renamed over it, the folder synced.
async fn write_back(path: &Path, token: &Secret) -> std::io::Result<()> {
    let path = path.to_path_buf();
    let text = format!("{}\n", token.expose());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        let r = write();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests;
