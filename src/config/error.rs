//! Config errors that tell an admin where and what: file, line, key, reason.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{}`: {cause}{}", path.display(), hint_missing(path, cause))]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}:{line}: {key}: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        reason: String,
    },
    #[error("secret for {what}: {reason}")]
    Secret { what: String, reason: String },
}

fn hint_missing(path: &Path, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!(
            "\n  hint: pass another file with `--config FILE` (e.g. `--config config.example.toml`), or create `{}`",
            path.display()
        )
    } else {
        String::new()
    }
}

impl ConfigError {
    /// An error about `key` (dotted path); the line is where the key (or its
    /// section) stands in `text`, 1 if it cannot be found.
    pub fn invalid(path: &Path, text: &str, key: &str, reason: String) -> ConfigError {
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, key),
            key: key.to_string(),
            reason,
        }
    }

    pub(crate) fn from_toml(path: &Path, text: &str, e: toml::de::Error) -> ConfigError {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        let msg = e.message().to_string();
        let key = e
            .span()
            .map(|s| {
                text[s.start.min(text.len())..s.end.min(text.len())]
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        let key = key.trim_matches(['[', ']', '"']).to_string();
        let reason = match suggestion(&msg) {
            Some(near) => format!("{msg}; did you mean `{near}`?"),
            None => msg,
        };
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key: if key.is_empty() { "(file)".into() } else { key },
            reason,
        }
    }
}

impl ConfigError {
    /// A toml error met while reading `[section]` as one `kind` (see
    /// `config::mailbox::locate`): the key is named with its section, a
    /// missing key at the section's header, a key of another kind said so.
    pub(crate) fn from_toml_in(
        path: &Path,
        text: &str,
        e: toml::de::Error,
        section: &str,
        kind: &str,
    ) -> ConfigError {
        let msg = e.message().to_string();
        let field = |prefix: &str| {
            msg.strip_prefix(prefix)
                .and_then(|r| r.split_once('`'))
                .map(|(f, _)| f.to_string())
        };
        if let Some(f) = field("missing field `") {
            return ConfigError::invalid(
                path,
                text,
                &format!("{section}.{f}"),
                format!("missing key `{f}`: kind = \"{kind}\" needs it"),
            );
        }
        let other = match kind {
            "imap" => "maildir",
            _ => "imap",
        };
        match ConfigError::from_toml(path, text, e) {
            ConfigError::Invalid {
                path,
                line,
                key,
                mut reason,
            } => {
                if let Some(f) = field("unknown field `") {
                    if super::mailbox::key_of_kind(other, &f) {
                        reason = format!(
                            "`{f}` is a key of kind = \"{other}\", not of kind = \"{kind}\"; remove it ({reason})"
                        );
                    }
                }
                // The key written on the error's line (the span may be
                // the value: `port = "993"`).
                let written = text
                    .lines()
                    .nth(line.saturating_sub(1))
                    .and_then(|l| l.split_once('='))
                    .map(|(k, _)| k.trim().trim_matches('"').to_string())
                    .filter(|k| !k.is_empty() && !k.starts_with('['));
                let key = written.unwrap_or(key);
                let key = if key.starts_with(&format!("{section}.")) {
                    key
                } else {
                    format!("{section}.{key}")
                };
                ConfigError::Invalid {
                    path,
                    line,
                    key,
                    reason,
                }
            }
            other => other,
        }
    }
}

/// For "unknown field `x`, expected one of `a`, `b`": the nearest of the
/// expected names by edit distance, if reasonably near.
fn suggestion(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (bad, rest) = rest.split_once('`')?;
    let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    names
        .into_iter()
        .map(|n| (edit_distance(bad, n), n))
        .filter(|(d, n)| *d <= (n.len() / 2).max(2))
        .min()
        .map(|(_, n)| n.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Line (1-based) where `section.key` is written: the key inside its
/// `[section]`, else the section header, else 1.
pub(crate) fn line_of_key(text: &str, dotted: &str) -> usize {
    let (section, key) = match dotted.rsplit_once('.') {
        Some((s, k)) => (s, k),
        None => ("", dotted),
    };
    let mut current = String::new();
    let mut section_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            current = line.trim_matches(['[', ']']).trim().to_string();
            if current == section && section_line.is_none() {
                section_line = Some(i + 1);
            }
            continue;
        }
        if current == section {
            if let Some((k, _)) = line.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return i + 1;
                }
            }
        }
    }
    section_line.unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_nearest_key() {
        let cases = [
            (
                "unknown field `pth`, expected one of `path`, `busy_timeout_ms`",
                Some("path"),
            ),
            (
                "unknown field `kidn`, expected one of `kind`, `path`",
                Some("kind"),
            ),
            ("unknown field `zzzzzzzz`, expected `path`", None),
            ("missing field `path`", None),
        ];
        for (msg, want) in cases {
            assert_eq!(suggestion(msg).as_deref(), want, "{msg}");
        }
    }

    #[test]
    fn finds_line_of_key() {
        let text = "[a]\nx = 1\n[b]\ny = 2\nz = 3\n";
        assert_eq!(line_of_key(text, "b.z"), 5);
        assert_eq!(line_of_key(text, "b.q"), 3);
        assert_eq!(line_of_key(text, "c.q"), 1);
    }
}
