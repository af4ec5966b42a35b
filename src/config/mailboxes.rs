//! `[[mailboxes]]`: several mailboxes in one daemon (issue 17). Each entry
//! has a `name` and the keys of a `[mailbox]` of its `kind`, and may have
//! its own `support_address` and `desk_name` (a territorial body answers
//! from its own address). `[mailbox]` stays the one-mailbox shorthand;
//! giving both is an error, as are two entries of one name.
//!
//! Errors name `file:line: mailboxes[N].key` like the other arrays of
//! tables (`routes[2].line`).

use super::sections::array_entry_line;
use super::{Config, ConfigError, ImapMailbox, Mailbox, MaildirMailbox};
use serde::Deserialize;
use std::path::Path;

/// An error about `key` of the `index`-th (0-based) entry.
pub(super) fn entry_error(
    path: &Path,
    text: &str,
    index: usize,
    key: &str,
    reason: String,
) -> ConfigError {
    let key_line = (!key.is_empty()).then_some(key);
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line: array_entry_line(text, "mailboxes", index, key_line),
        key: if key.is_empty() {
            format!("mailboxes[{}]", index + 1)
        } else {
            format!("mailboxes[{}].{key}", index + 1)
        },
        reason,
    }
}

/// Read `[mailbox]` or `[[mailboxes]]` into [`Config::mailboxes`] (and
/// [`Config::mailbox`], the first): exactly one of the two, every entry
/// named, no name twice.
pub(super) fn gather(cfg: &mut Config, path: &Path, text: &str) -> Result<(), ConfigError> {
    let list = std::mem::take(&mut cfg.mailbox_list);
    let all = match (cfg.mailbox_section.take(), list.is_empty()) {
        (Some(_), false) => {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: array_entry_line(text, "mailboxes", 0, None),
                key: "mailboxes".into(),
                reason: "[mailbox] and [[mailboxes]] are both given: keep [mailbox] for one mailbox, or move it into a [[mailboxes]] entry (with name = \"main\" its state and lease carry on)".into(),
            });
        }
        (None, true) => {
            return Err(ConfigError::invalid(
                path,
                text,
                "mailbox",
                "missing: give [mailbox] (one mailbox) or one [[mailboxes]] entry per mailbox"
                    .into(),
            ));
        }
        (Some(m), true) => {
            cfg.mailboxes_listed = false;
            vec![m]
        }
        (None, false) => {
            let named: Vec<bool> = toml::from_str::<toml::Table>(text)
                .ok()
                .and_then(|t| t.get("mailboxes")?.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|e| e.get("name").is_some())
                .collect();
            for (i, m) in list.iter().enumerate() {
                if !named.get(i).copied().unwrap_or(true) {
                    return Err(entry_error(
                        path,
                        text,
                        i,
                        "",
                        "missing key `name`: every [[mailboxes]] entry is named (e.g. name = \"tula\"); its state and lease are kept under it".into(),
                    ));
                }
                if m.name().chars().any(|c| c.is_ascii_uppercase()) {
                    return Err(entry_error(
                        path,
                        text,
                        i,
                        "name",
                        format!(
                            "`{}` has capital letters: a [[mailboxes]] name is a-z, 0-9, `-`, `_` (e.g. \"{}\")",
                            m.name(),
                            m.name().to_ascii_lowercase()
                        ),
                    ));
                }
                if let Some(j) = list[..i].iter().position(|o| o.name() == m.name()) {
                    return Err(entry_error(
                        path,
                        text,
                        i,
                        "name",
                        format!(
                            "`{}` is already the name of entry {}: each mailbox needs its own name",
                            m.name(),
                            j + 1
                        ),
                    ));
                }
            }
            cfg.mailboxes_listed = true;
            list
        }
    };
    cfg.mailbox = all[0].clone();
    cfg.mailboxes = all;
    Ok(())
}

/// Where a `[[mailboxes]]` error really is (serde reads the tagged enum
/// through a buffer and loses the position): each entry read again as the
/// kind it names. `None` when every entry reads.
pub(super) fn locate(path: &Path, text: &str) -> Option<ConfigError> {
    let table: toml::Table = toml::from_str(text).ok()?;
    let entries = table.get("mailboxes")?.as_array()?;
    for (i, e) in entries.iter().enumerate() {
        let bad = |key: &str, reason: String| Some(entry_error(path, text, i, key, reason));
        let Some(t) = e.as_table() else {
            return bad("", "must be a table: write [[mailboxes]] entries".into());
        };
        let mut t = t.clone();
        let kind = match t.remove("kind") {
            None => {
                return bad(
                    "kind",
                    "missing key `kind`: set kind = \"maildir\" or kind = \"imap\"".into(),
                )
            }
            Some(toml::Value::String(k)) => k,
            Some(other) => {
                return bad(
                    "kind",
                    format!("`{other}` is not a mailbox kind: expected \"maildir\" or \"imap\""),
                )
            }
        };
        let value = toml::Value::Table(t);
        let result = match kind.as_str() {
            "maildir" => MaildirMailbox::deserialize(value).map(|_| ()),
            "imap" => ImapMailbox::deserialize(value).map(|_| ()),
            other => {
                return bad(
                    "kind",
                    format!("`{other}` is not a mailbox kind: expected \"maildir\" or \"imap\""),
                )
            }
        };
        if let Err(e) = result {
            let msg = e.message().to_string();
            let field = |prefix: &str| {
                msg.strip_prefix(prefix)
                    .and_then(|r| r.split_once('`'))
                    .map(|(f, _)| f.to_string())
            };
            if let Some(f) = field("missing field `") {
                return bad(&f, format!("missing key `{f}`: kind = \"{kind}\" needs it"));
            }
            if let Some(f) = field("unknown field `") {
                let other = if kind == "imap" { "maildir" } else { "imap" };
                let reason = if super::mailbox::key_of_kind(other, &f) {
                    format!(
                        "`{f}` is a key of kind = \"{other}\", not of kind = \"{kind}\"; remove it"
                    )
                } else {
                    format!("unknown key `{f}` for kind = \"{kind}\"")
                };
                return bad(&f, reason);
            }
            return bad("", msg);
        }
    }
    None
}

/// [`Mailbox::check`] of every mailbox, the key named where it stands.
pub(super) fn check_all(cfg: &Config, text: &str) -> Result<(), ConfigError> {
    let listed = cfg.mailbox_section_was_list();
    for (i, m) in cfg.mailboxes.iter().enumerate() {
        if let Err((key, reason)) = m.check() {
            return Err(at(cfg, text, listed, i, key, reason));
        }
        let wake = |m: &Mailbox| m.imap().and_then(|i| i.wake_listen.clone());
        if let Some(addr) = wake(m) {
            if let Some(j) = cfg.mailboxes[..i]
                .iter()
                .position(|o| wake(o).as_deref() == Some(addr.as_str()))
            {
                return Err(at(
                    cfg,
                    text,
                    listed,
                    i,
                    "mailbox.wake_listen",
                    format!(
                        "`{addr}` is already the wake_listen of mailbox `{}`: each mailbox needs its own port",
                        cfg.mailboxes[j].name()
                    ),
                ));
            }
        }
        if let Some(d) = m.templates_dir().filter(|d| !d.is_dir()) {
            return Err(at(
                cfg,
                text,
                listed,
                i,
                "mailbox.templates_dir",
                format!(
                    "`{}` is not a directory; create it with this mailbox's confirmation.txt / clarification.txt, or remove the key",
                    d.display()
                ),
            ));
        }
        if let Mailbox::Imap(imap) = m {
            for (key, p) in [
                ("mailbox.password_file", &imap.password_file),
                ("mailbox.ca_file", &imap.ca_file),
            ] {
                if let Some(p) = p.as_ref().filter(|p| !p.is_file()) {
                    return Err(at(
                        cfg,
                        text,
                        listed,
                        i,
                        key,
                        format!("file `{}` does not exist or is not a file", p.display()),
                    ));
                }
            }
            if let (Some(var), None) = (&imap.password_env, &imap.password_file) {
                if std::env::var_os(var).is_none() {
                    return Err(at(
                        cfg,
                        text,
                        listed,
                        i,
                        "mailbox.password_env",
                        format!(
                            "environment variable `{var}` is not set; set it where ticketd runs \
                             (systemd: Environment= or EnvironmentFile= in the unit) or use the \
                             password_file key instead"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// An error about `key` (`mailbox.x`) of mailbox `i`: in `[mailbox]`, or
/// in the `i`-th `[[mailboxes]]` entry.
fn at(cfg: &Config, text: &str, listed: bool, i: usize, key: &str, reason: String) -> ConfigError {
    if listed {
        let k = key.strip_prefix("mailbox.").unwrap_or(key);
        entry_error(&cfg.source_path, text, i, k, reason)
    } else {
        ConfigError::invalid(&cfg.source_path, text, key, reason)
    }
}

impl Config {
    /// Were the mailboxes given as `[[mailboxes]]` (not `[mailbox]`)?
    fn mailbox_section_was_list(&self) -> bool {
        self.mailboxes_listed
    }

    /// The mailbox named `name`.
    pub fn mailbox_named(&self, name: &str) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| m.name() == name)
    }
}
