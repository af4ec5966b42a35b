//! `[mailbox]`: where letters come from, one type per `kind`.
//!
//! The section is a tagged enum (`kind = "maildir"` or `"imap"`): each kind
//! has its own keys, the required ones are required by the type (a Maildir
//! has a `path`, an IMAP mailbox a `host` and a `user`), and a key of one
//! kind in the other is an unknown key with the nearest valid name.
//!
//! serde reads a tagged enum through a buffer, which loses the position of
//! the key at fault; [`locate`] reads the section again as the one kind it
//! names, so an error still points at `file:line: mailbox.key`.

use super::error::line_of_key;
use super::{AfterProcessing, Auth, ConfigError, Tls};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The name of a mailbox that does not set one, and the spelling of
/// per-mailbox state keys: kept with the state table.
pub use crate::store::{mailbox_state_key, DEFAULT_MAILBOX};

/// `[mailbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)] // one per config; boxing buys nothing
pub enum Mailbox {
    /// A Maildir on this machine, filled by the local mail server.
    Maildir(MaildirMailbox),
    /// An IMAP account.
    Imap(ImapMailbox),
}

/// The kind of a [`Mailbox`], for messages and `match`es that need no keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxKind {
    Maildir,
    Imap,
}

/// `[mailbox] kind = "maildir"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaildirMailbox {
    /// The mailbox's name: its daemon state is kept under `mailbox.<name>.`.
    #[serde(default = "default_mailbox_name")]
    pub name: String,
    /// The Maildir root (`cur`, `new`, `tmp` are created when missing).
    pub path: PathBuf,
    /// Safety-net rescan interval, seconds.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Letters larger than this are not read whole but quarantined.
    #[serde(default = "default_max_letter_mb")]
    pub max_letter_mb: f64,
    /// This mailbox's own `From` for its tickets' letters (else `[desk]`'s).
    pub support_address: Option<String>,
    /// This mailbox's own display name on them (else `[desk] name`).
    pub desk_name: Option<String>,
    /// A directory of this mailbox's own templates (`confirmation.txt`,
    /// `clarification.txt`; each missing one is `[templates]`'s).
    pub templates_dir: Option<PathBuf>,
}

/// `[mailbox] kind = "imap"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapMailbox {
    /// The mailbox's name: its daemon state (IMAP position, last sync) is
    /// kept under `mailbox.<name>.`.
    #[serde(default = "default_mailbox_name")]
    pub name: String,
    /// Poll interval when the server has no IDLE, seconds.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Letters larger than this are not downloaded whole but quarantined.
    #[serde(default = "default_max_letter_mb")]
    pub max_letter_mb: f64,
    pub host: String,
    /// 993 with implicit TLS, else 143.
    pub port: Option<u16>,
    pub user: String,
    pub password_file: Option<PathBuf>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<String>,
    #[serde(default)]
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default = "default_processed")]
    pub processed_folder: String,
    #[serde(default)]
    pub after_processing: AfterProcessing,
    /// Re-issue IDLE after this many seconds.
    #[serde(default = "default_idle_refresh")]
    pub idle_refresh_secs: u64,
    /// `IP:PORT` of the wake hook (`source::wake`): an HTTP POST/PUT there
    /// makes the IMAP watcher leave IDLE and sync at once.
    pub wake_listen: Option<String>,
    /// Allow a non-loopback `wake_listen` address.
    #[serde(default)]
    pub wake_allow_remote: bool,
    // --- OAuth2 (`auth = "oauth2"`; checked in config/oauth2.rs) ---
    #[serde(default)]
    pub auth: Auth,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub refresh_token_file: Option<PathBuf>,
    pub scope: Option<String>,
    /// This mailbox's own `From` for its tickets' letters (else `[desk]`'s).
    pub support_address: Option<String>,
    /// This mailbox's own display name on them (else `[desk] name`).
    pub desk_name: Option<String>,
    /// A directory of this mailbox's own templates (`confirmation.txt`,
    /// `clarification.txt`; each missing one is `[templates]`'s).
    pub templates_dir: Option<PathBuf>,
}

impl Default for Mailbox {
    /// A placeholder until the config is read (`[mailbox]` or
    /// `[[mailboxes]]` is required; see `config::mailboxes`).
    fn default() -> Mailbox {
        Mailbox::Maildir(MaildirMailbox {
            name: default_mailbox_name(),
            path: PathBuf::from("var/mail/support"),
            poll_interval_secs: default_poll(),
            max_letter_mb: default_max_letter_mb(),
            support_address: None,
            desk_name: None,
            templates_dir: None,
        })
    }
}

impl Mailbox {
    /// This mailbox's own `support_address`, if it has one.
    pub fn support_address(&self) -> Option<&str> {
        match self {
            Mailbox::Maildir(m) => m.support_address.as_deref(),
            Mailbox::Imap(m) => m.support_address.as_deref(),
        }
    }

    /// This mailbox's own templates directory, if it has one.
    pub fn templates_dir(&self) -> Option<&std::path::Path> {
        match self {
            Mailbox::Maildir(m) => m.templates_dir.as_deref(),
            Mailbox::Imap(m) => m.templates_dir.as_deref(),
        }
    }

    /// This mailbox's own `desk_name`, if it has one.
    pub fn desk_name(&self) -> Option<&str> {
        match self {
            Mailbox::Maildir(m) => m.desk_name.as_deref(),
            Mailbox::Imap(m) => m.desk_name.as_deref(),
        }
    }

    pub fn kind(&self) -> MailboxKind {
        match self {
            Mailbox::Maildir(_) => MailboxKind::Maildir,
            Mailbox::Imap(_) => MailboxKind::Imap,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Mailbox::Maildir(m) => &m.name,
            Mailbox::Imap(m) => &m.name,
        }
    }

    /// This mailbox's state key for `key` (see [`mailbox_state_key`]).
    pub fn state_key(&self, key: &str) -> String {
        mailbox_state_key(self.name(), key)
    }

    pub fn poll_interval_secs(&self) -> u64 {
        match self {
            Mailbox::Maildir(m) => m.poll_interval_secs,
            Mailbox::Imap(m) => m.poll_interval_secs,
        }
    }

    pub fn max_letter_mb(&self) -> f64 {
        match self {
            Mailbox::Maildir(m) => m.max_letter_mb,
            Mailbox::Imap(m) => m.max_letter_mb,
        }
    }

    /// The IMAP keys, when this is an IMAP mailbox.
    pub fn imap(&self) -> Option<&ImapMailbox> {
        match self {
            Mailbox::Imap(m) => Some(m),
            Mailbox::Maildir(_) => None,
        }
    }

    /// Relative paths against the config file's folder.
    pub(super) fn resolve_paths(&mut self, abs: impl Fn(&mut PathBuf)) {
        match self {
            Mailbox::Maildir(m) => {
                abs(&mut m.path);
                if let Some(p) = m.templates_dir.as_mut() {
                    abs(p);
                }
            }
            Mailbox::Imap(m) => {
                for p in [
                    &mut m.templates_dir,
                    &mut m.password_file,
                    &mut m.ca_file,
                    &mut m.client_secret_file,
                    &mut m.refresh_token_file,
                ] {
                    if let Some(p) = p.as_mut() {
                        abs(p);
                    }
                }
            }
        }
    }

    /// The checks beyond the types: `(key, reason)` of the first problem.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        let name = self.name();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err((
                "mailbox.name",
                format!("`{name}` must be ASCII letters, digits, `-` or `_` (e.g. \"main\"): it names the mailbox's state in the database"),
            ));
        }
        if let Some(a) = self.support_address() {
            if !crate::workflow::rules::is_address(a.trim()) {
                return Err((
                    "mailbox.support_address",
                    format!("`{a}` is not an e-mail address (e.g. \"support@tula.example.org\")"),
                ));
            }
        }
        if self.desk_name().is_some_and(|n| n.trim().is_empty()) {
            return Err((
                "mailbox.desk_name",
                "is empty: remove it to use [desk] name, or give the name letters are signed with"
                    .into(),
            ));
        }
        let Mailbox::Imap(m) = self else {
            return Ok(());
        };
        for (key, value) in [("mailbox.host", &m.host), ("mailbox.user", &m.user)] {
            if value.trim().is_empty() {
                return Err((key, "is empty: kind = \"imap\" needs it".into()));
            }
        }
        if m.tls == Tls::None && !super::is_loopback(&m.host) {
            return Err((
                "mailbox.tls",
                format!("tls = \"none\" sends the password in clear and is allowed only for a loopback host, not `{}`; use \"implicit\" or \"starttls\"", m.host),
            ));
        }
        if let Some(addr) = &m.wake_listen {
            check_wake_listen(addr, m.wake_allow_remote).map_err(|r| ("mailbox.wake_listen", r))?;
        }
        Ok(())
    }
}

/// Where a `[mailbox]` error really is. Called when reading the file
/// failed: `None` when `[mailbox]` itself reads (the error is elsewhere),
/// else the error at the line of the key at fault.
pub(super) fn locate(path: &Path, text: &str) -> Option<ConfigError> {
    let table: toml::Table = toml::from_str(text).ok()?;
    let section = table.get("mailbox")?.as_table()?;
    let bad = |key: &str, reason: String| ConfigError::invalid(path, text, key, reason);
    let kind = match section.get("kind") {
        None => {
            return Some(bad(
                "mailbox.kind",
                "missing key `kind`: set kind = \"maildir\" or kind = \"imap\"".into(),
            ))
        }
        Some(toml::Value::String(k)) => k.clone(),
        Some(other) => {
            return Some(bad(
                "mailbox.kind",
                format!("`{other}` is not a mailbox kind: expected \"maildir\" or \"imap\""),
            ))
        }
    };
    // The section read again as its one kind, with the `kind` line blanked
    // byte for byte so that every position stays where it was.
    let line = line_of_key(text, "mailbox.kind");
    let blanked: String = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line && l.trim_start().starts_with("kind") {
                let body = l.trim_end_matches(['\r', '\n']);
                format!("{}{}", " ".repeat(body.len()), &l[body.len()..])
            } else {
                l.to_string()
            }
        })
        .collect();
    #[derive(Deserialize)]
    struct Probe<T> {
        #[allow(dead_code)] // read for its errors only
        mailbox: T,
    }
    let result = match kind.as_str() {
        "maildir" => toml::from_str::<Probe<MaildirMailbox>>(&blanked).map(|_| ()),
        "imap" => toml::from_str::<Probe<ImapMailbox>>(&blanked).map(|_| ()),
        other => {
            return Some(bad(
                "mailbox.kind",
                format!("`{other}` is not a mailbox kind: expected \"maildir\" or \"imap\""),
            ))
        }
    };
    result
        .err()
        .map(|e| ConfigError::from_toml_in(path, text, e, "mailbox", &kind))
}

fn default_mailbox_name() -> String {
    DEFAULT_MAILBOX.into()
}
fn default_poll() -> u64 {
    60
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_processed() -> String {
    "Processed".into()
}
fn default_idle_refresh() -> u64 {
    300
}
fn default_max_letter_mb() -> f64 {
    25.0
}

/// Check `mailbox.wake_listen`: an `IP:PORT` with a fixed port, on a
/// loopback address unless `allow_remote`. The reason is for the admin.
pub fn check_wake_listen(value: &str, allow_remote: bool) -> Result<std::net::SocketAddr, String> {
    let addr: std::net::SocketAddr = value.trim().parse().map_err(|_| {
        format!("`{value}` is not IP:PORT (e.g. \"127.0.0.1:8025\", \"[::1]:8025\"; a host name is not accepted)")
    })?;
    if addr.port() == 0 {
        return Err(format!(
            "`{value}` needs a fixed port: the mail server is told where to send"
        ));
    }
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "`{value}` is not a loopback address; the hook has no authentication, so listening beyond this machine needs mailbox.wake_allow_remote = true (a forged request costs one sync, nothing else)"
        ));
    }
    Ok(addr)
}

/// Is `key` one of the keys of `[mailbox] kind = "<kind>"`?
pub(super) fn key_of_kind(kind: &str, key: &str) -> bool {
    const MAILDIR: &[&str] = &[
        "name",
        "path",
        "poll_interval_secs",
        "max_letter_mb",
        "support_address",
        "desk_name",
        "templates_dir",
    ];
    const IMAP: &[&str] = &[
        "name",
        "poll_interval_secs",
        "max_letter_mb",
        "host",
        "port",
        "user",
        "password_file",
        "password_env",
        "tls",
        "ca_file",
        "folder",
        "processed_folder",
        "after_processing",
        "idle_refresh_secs",
        "wake_listen",
        "wake_allow_remote",
        "auth",
        "token_url",
        "client_id",
        "client_secret_file",
        "refresh_token_file",
        "scope",
        "support_address",
        "desk_name",
        "templates_dir",
    ];
    match kind {
        "maildir" => MAILDIR.contains(&key),
        "imap" => IMAP.contains(&key),
        _ => false,
    }
}

/// Keys of the other kind that the flat `[mailbox]` of earlier versions
/// accepted and ignored (a Maildir desk that was once on IMAP keeps its
/// `host`): still ignored, with a warning, so that an upgrade does not stop
/// a working desk. Any other key of the other kind is an error.
const SET_ASIDE: &[(&str, &str)] = &[
    ("maildir", "host"),
    ("maildir", "port"),
    ("maildir", "user"),
    ("maildir", "password_file"),
    ("maildir", "password_env"),
    ("maildir", "tls"),
    ("maildir", "ca_file"),
    ("maildir", "folder"),
    ("maildir", "processed_folder"),
    ("maildir", "after_processing"),
    ("maildir", "idle_refresh_secs"),
    ("maildir", "wake_allow_remote"),
    ("imap", "path"),
];

/// `text` with the set-aside keys' lines blanked byte for byte (positions
/// stay), and a warning for each.
pub(super) fn set_aside(path: &Path, text: &str) -> (String, Vec<String>) {
    let Some(kind) = toml::from_str::<toml::Table>(text).ok().and_then(|t| {
        let m = t.get("mailbox")?.as_table()?;
        Some((m.get("kind")?.as_str()?.to_string(), m.clone()))
    }) else {
        return (text.to_string(), Vec::new());
    };
    let (kind, section) = kind;
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut warnings = Vec::new();
    for (key, value) in &section {
        let scalar = !matches!(value, toml::Value::Table(_) | toml::Value::Array(_));
        if !scalar || !SET_ASIDE.contains(&(kind.as_str(), key.as_str())) {
            continue;
        }
        let n = line_of_key(text, &format!("mailbox.{key}"));
        let Some(line) = lines.get_mut(n - 1) else {
            continue;
        };
        let body = line.trim_end_matches(['\r', '\n']);
        if !body.trim_start().starts_with(key.as_str()) {
            continue;
        }
        *line = format!("{}{}", " ".repeat(body.len()), &line[body.len()..]);
        warnings.push(format!(
            "{}:{n}: mailbox.{key} is not a key of kind = \"{kind}\" and is ignored; remove it",
            path.display()
        ));
    }
    (lines.concat(), warnings)
}
