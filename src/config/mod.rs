//! The TOML configuration: types, loading, validation.
//!
//! Owns the shape of `config.toml` and every error an admin can make in it.
//! Every section denies unknown keys; errors name the file, the line, the key
//! and what is wrong, and a mistyped key names the nearest valid one. Paths
//! are relative to the folder of the config file. Secrets are never read from
//! the file itself: only `*_file` keys or environment variables name them.
//!
//! `config.example.toml` at the top of the repository documents every key and
//! is embedded in the binary ([`EXAMPLE`]) as the default configuration.

pub mod database;
mod error;
pub mod examples;
mod mailbox;
pub mod oauth2;
pub mod sections;
mod types;
pub mod vitals;
pub mod web;

pub use database::{Database, DatabaseKind, PgTarget, SslMode};
pub use error::ConfigError;
pub use mailbox::*;
pub use types::*;

use std::path::{Path, PathBuf};

/// The example configuration, embedded: `ticketd --config config.example.toml`
/// and the tests use it as the default desk.
pub const EXAMPLE: &str = include_str!("../../config.example.toml");

/// Default location of the config file.
pub const DEFAULT_PATH: &str = "/etc/ticketd/config.toml";

impl Config {
    /// Parse and check `text` as if read from `path`; relative paths
    /// resolve against `base`. The workflow's sections are checked when
    /// they are compiled: load a [`crate::desk::Desk`] to have both.
    pub fn from_str_at(text: &str, path: &Path, base: &Path) -> Result<Config, ConfigError> {
        let (readable, set_aside) = mailbox::set_aside(path, text);
        let mut cfg: Config = toml::from_str(&readable).map_err(|e| {
            mailbox::locate(path, &readable)
                .unwrap_or_else(|| ConfigError::from_toml(path, &readable, e))
        })?;
        cfg.set_aside = set_aside;
        cfg.source_path = path.to_path_buf();
        cfg.resolve_paths(base);
        cfg.validate(text)?;
        if cfg.outgoing.helo_name.is_none() {
            cfg.outgoing.helo_name = Some(default_helo_name(&cfg.desk.support_address));
        }
        Ok(cfg)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.database.resolve_paths(base);
        abs(&mut self.attachments.dir);
        self.mailbox.resolve_paths(abs);
        if let Some(p) = self.outgoing.dir.as_mut() {
            abs(p);
        }
        for p in [
            &mut self.outgoing.password_file,
            &mut self.outgoing.ca_file,
            &mut self.templates.confirmation,
            &mut self.templates.clarification,
            &mut self.templates.too_large,
            &mut self.commands.secret_file,
            &mut self.outgoing.client_secret_file,
            &mut self.outgoing.refresh_token_file,
        ] {
            if let Some(p) = p.as_mut() {
                abs(p);
            }
        }
    }

    /// Checks that go beyond the types: values, files, cross references.
    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        let bad =
            |key: &str, reason: String| ConfigError::invalid(&self.source_path, text, key, reason);
        if !self.desk.support_address.contains('@') {
            return Err(bad(
                "desk.support_address",
                format!("`{}` is not an e-mail address", self.desk.support_address),
            ));
        }
        if self.tickets.prefix.is_empty()
            || !self
                .tickets
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        {
            return Err(bad(
                "tickets.prefix",
                "must be non-empty ASCII letters or digits (e.g. \"TP\")".into(),
            ));
        }
        if !self
            .desk
            .default_area_code
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            return Err(bad(
                "desk.default_area_code",
                "must be digits only (e.g. \"4012\")".into(),
            ));
        }
        if !LEASE_SECS_RANGE.contains(&self.cluster.lease_secs) {
            return Err(bad(
                "cluster.lease_secs",
                format!(
                    "{} is out of range: between {} and {} seconds, e.g. {DEFAULT_LEASE_SECS}",
                    self.cluster.lease_secs,
                    LEASE_SECS_RANGE.start(),
                    LEASE_SECS_RANGE.end()
                ),
            ));
        }
        if !(60..=7 * 24 * 3600).contains(&self.desk.digest_interval_secs) {
            return Err(bad(
                "desk.digest_interval_secs",
                format!(
                    "{} is out of range: between 60 (a minute) and 604800 (a week), e.g. 3600",
                    self.desk.digest_interval_secs
                ),
            ));
        }
        self.mailbox
            .check()
            .map_err(|(key, reason)| bad(key, reason))?;
        vitals::check(&self.metrics, &self.reports).map_err(|(key, reason)| bad(&key, reason))?;
        let imap = self.mailbox.imap();
        match self.outgoing.kind {
            OutgoingKind::File if self.outgoing.dir.is_none() => {
                return Err(bad(
                    "outgoing.dir",
                    "kind = \"file\" needs the folder in `dir`".into(),
                ))
            }
            OutgoingKind::Smtp => {
                let Some(host) = self.outgoing.host.as_deref() else {
                    return Err(bad(
                        "outgoing.host",
                        "kind = \"smtp\" needs this key".into(),
                    ));
                };
                if self.outgoing.tls == Tls::None && !is_loopback(host) {
                    return Err(bad(
                        "outgoing.tls",
                        format!("tls = \"none\" is allowed only for a loopback host, not `{host}`; use \"implicit\" or \"starttls\""),
                    ));
                }
            }
            _ => {}
        }
        if let Some(name) = &self.outgoing.helo_name {
            check_helo_name(name).map_err(|reason| bad("outgoing.helo_name", reason))?;
        }
        if !(1..=32).contains(&self.outgoing.connections) {
            return Err(bad(
                "outgoing.connections",
                format!("must be 1 to 32, not {}", self.outgoing.connections),
            ));
        }
        for (key, p) in [
            (
                "mailbox.password_file",
                &imap.and_then(|m| m.password_file.clone()),
            ),
            ("mailbox.ca_file", &imap.and_then(|m| m.ca_file.clone())),
            ("outgoing.password_file", &self.outgoing.password_file),
            ("outgoing.ca_file", &self.outgoing.ca_file),
        ] {
            if let Some(p) = p {
                if !p.is_file() {
                    return Err(bad(
                        key,
                        format!("file `{}` does not exist or is not a file", p.display()),
                    ));
                }
            }
        }
        for (key, var, used) in [
            (
                "mailbox.password_env",
                &imap.and_then(|m| m.password_env.clone()),
                imap.is_some_and(|m| m.password_file.is_none()),
            ),
            (
                "outgoing.password_env",
                &self.outgoing.password_env,
                self.outgoing.kind == OutgoingKind::Smtp
                    && self.outgoing.user.is_some()
                    && self.outgoing.password_file.is_none(),
            ),
        ] {
            if let (Some(var), true) = (var, used) {
                if std::env::var_os(var).is_none() {
                    return Err(bad(
                        key,
                        format!(
                            "environment variable `{var}` is not set; set it where ticketd runs \
                             (systemd: Environment= or EnvironmentFile= in the unit) or use the \
                             password_file key instead"
                        ),
                    ));
                }
            }
        }
        for (key, p) in [
            ("templates.confirmation", &self.templates.confirmation),
            ("templates.clarification", &self.templates.clarification),
            ("templates.too_large", &self.templates.too_large),
        ] {
            if let Some(p) = p {
                let body = std::fs::read_to_string(p).map_err(|e| {
                    bad(key, format!("cannot read template `{}`: {e}", p.display()))
                })?;
                crate::template::check(&body)
                    .map_err(|e| bad(key, format!("template `{}`: {e}", p.display())))?;
            }
        }
        oauth2::check(self, text)?;
        if let Some(w) = &self.web {
            web::check(w).map_err(|(key, reason)| bad(key, reason))?;
        }
        if let Some(id) = &self.security.authserv_id {
            if id.trim().is_empty() || id.contains([';', ' ', '\t', '(', ')']) {
                return Err(bad(
                    "security.authserv_id",
                    format!("`{id}` is not an authserv-id: give the name your MTA writes first in its Authentication-Results headers (e.g. \"mx.example.org\")"),
                ));
            }
        }
        self.database
            .check()
            .map_err(|(key, reason)| bad(&key, reason))?;
        Ok(())
    }

    /// Check the desk's sections (lines, priorities, calendar, rules) and
    /// build the workflow the pipeline uses; errors name rule and line.
    pub fn compile_workflow(&self, text: &str) -> Result<crate::workflow::Workflow, ConfigError> {
        let sections = sections::WorkflowSections {
            support_address: &self.desk.support_address,
            desk_time_zone: &self.desk.time_zone,
            lines: &self.lines,
            priorities: &self.priorities,
            calendar: &self.calendar,
            classify: &self.classify,
            routes: &self.routes,
            commands: &self.commands,
            escalation: &self.escalation,
            loops: &self.loops,
        };
        sections::compile(&sections, &self.source_path, text)
    }

    /// `[mailbox] max_letter_mb` in bytes: the bound of every source (IMAP,
    /// Maildir, `ingest`).
    pub fn max_letter_bytes(&self) -> u64 {
        (self.mailbox.max_letter_mb().max(0.0) * 1024.0 * 1024.0) as u64
    }

    /// The `[security]` policy for [`crate::workflow::auth::sender_trust`].
    pub fn security_policy(&self) -> crate::workflow::auth::SecurityPolicy {
        crate::workflow::auth::SecurityPolicy {
            authserv_id: self
                .security
                .authserv_id
                .as_deref()
                .map(|s| s.trim().to_ascii_lowercase()),
            require: self.security.require,
        }
    }

    /// Warnings `check-config` prints (the config works, but is weaker
    /// than it could be).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.set_aside.clone();
        if self.security.authserv_id.is_none() {
            w.push(format!(
                "{}: security.authserv_id is not set: engineers' commands, confirmations, form completions and `статус` requests rely on the From header alone (set it to your MTA's authserv-id; README, \"Security model\")",
                self.source_path.display()
            ));
        }
        w
    }

    /// Parse options derived from the config.
    pub fn parse_options(&self) -> crate::parse::ParseOptions {
        crate::parse::ParseOptions {
            default_area_code: self.desk.default_area_code.clone(),
            limits: crate::parse::ParseLimits {
                max_attachment_bytes: (self.attachments.max_size_mb * 1024.0 * 1024.0) as usize,
                max_attachments: self.attachments.max_count,
                ..Default::default()
            },
        }
    }
}

/// True for `localhost`, 127.0.0.0/8 and ::1 (with the address helpers).
pub use crate::address::is_loopback;

/// Read a secret from a file (trailing newline dropped) or an environment
/// variable; the file wins when both are set.
pub fn read_secret(
    file: Option<&Path>,
    env: Option<&str>,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    if let Some(f) = file {
        let s = std::fs::read_to_string(f).map_err(|e| ConfigError::Secret {
            what: what.to_string(),
            reason: format!("cannot read `{}`: {e}", f.display()),
        })?;
        return Ok(Some(s.trim_end_matches(['\n', '\r']).to_string()));
    }
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(ConfigError::Secret {
                what: what.to_string(),
                reason: format!("environment variable `{var}` is not set"),
            }),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests;

/// `[outgoing] helo_name`'s default: the domain of the support address
/// (servers that want a fully qualified name refuse a bare host name).
pub fn default_helo_name(support_address: &str) -> String {
    support_address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| check_helo_name(d).is_ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// A name EHLO may carry (RFC 5321 §4.1.1.1): a domain of letters, digits
/// and hyphens in dot-separated labels, or an address literal in brackets.
pub fn check_helo_name(name: &str) -> Result<(), String> {
    let literal = name.starts_with('[') && name.ends_with(']') && name.len() > 2;
    let ok = if literal {
        name[1..name.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':') || c.is_ascii_alphanumeric())
    } else {
        name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a domain name or address literal; use this machine's fully qualified name (e.g. \"mail.example.org\") or \"[192.0.2.1]\""
        ))
    }
}
