//! Checks of the `auth` keys of `[mailbox]` and `[outgoing]`: with
//! `auth = "oauth2"` the token endpoint, client and refresh token file must
//! be there (and the password keys must not), so `check-config` names what
//! is missing before the daemon's first login does.

use super::{Auth, Config, ConfigError, ImapMailbox, Outgoing, OutgoingKind};
use crate::oauth2::{OAuthError, Settings};
use std::path::Path;

/// One section's OAuth2-relevant keys.
struct Keys<'a> {
    section: &'static str,
    /// Whether the section logs in at all (IMAP; SMTP).
    logs_in: bool,
    auth: Auth,
    user: Option<&'a str>,
    password_keys: bool,
    token_url: Option<&'a str>,
    client_id: Option<&'a str>,
    client_secret_file: Option<&'a Path>,
    refresh_token_file: Option<&'a Path>,
    scope: Option<&'a str>,
}

pub(super) fn check(cfg: &Config, text: &str) -> Result<(), ConfigError> {
    let o = &cfg.outgoing;
    let mut sections = Vec::new();
    for m in cfg.mailboxes.iter().filter_map(|m| m.imap()) {
        sections.push(Keys {
            section: "mailbox",
            logs_in: true,
            auth: m.auth,
            user: Some(m.user.as_str()),
            password_keys: m.password_file.is_some() || m.password_env.is_some(),
            token_url: m.token_url.as_deref(),
            client_id: m.client_id.as_deref(),
            client_secret_file: m.client_secret_file.as_deref(),
            refresh_token_file: m.refresh_token_file.as_deref(),
            scope: m.scope.as_deref(),
        });
    }
    sections.push(Keys {
        section: "outgoing",
        logs_in: o.kind == OutgoingKind::Smtp,
        auth: o.auth,
        user: o.user.as_deref(),
        password_keys: o.password_file.is_some() || o.password_env.is_some(),
        token_url: o.token_url.as_deref(),
        client_id: o.client_id.as_deref(),
        client_secret_file: o.client_secret_file.as_deref(),
        refresh_token_file: o.refresh_token_file.as_deref(),
        scope: o.scope.as_deref(),
    });
    for k in &sections {
        check_section(k).map_err(|(key, reason)| {
            ConfigError::invalid(
                &cfg.source_path,
                text,
                &format!("{}.{key}", k.section),
                reason,
            )
        })?;
    }
    Ok(())
}

fn check_section(k: &Keys<'_>) -> Result<(), (&'static str, String)> {
    let oauth_keys = [
        ("token_url", k.token_url.is_some()),
        ("client_id", k.client_id.is_some()),
        ("client_secret_file", k.client_secret_file.is_some()),
        ("refresh_token_file", k.refresh_token_file.is_some()),
        ("scope", k.scope.is_some()),
    ];
    if k.auth == Auth::Password {
        if let Some((key, _)) = oauth_keys.iter().find(|(_, set)| *set) {
            return Err((
                key,
                "is used only with auth = \"oauth2\"; set that or remove the key".into(),
            ));
        }
        return Ok(());
    }
    if !k.logs_in {
        return Err((
            "auth",
            format!(
                "auth = \"oauth2\" is for a server login (kind = \"{}\"); remove the key",
                if k.section == "mailbox" {
                    "imap"
                } else {
                    "smtp"
                }
            ),
        ));
    }
    if k.password_keys {
        return Err((
            "auth",
            "auth = \"oauth2\" logs in with a token, not a password: remove password_file / password_env"
                .into(),
        ));
    }
    if k.user.is_none() {
        return Err((
            "user",
            "auth = \"oauth2\" needs the account's address in `user`".into(),
        ));
    }
    for (key, set) in oauth_keys {
        if !set && matches!(key, "token_url" | "client_id" | "refresh_token_file") {
            return Err((key, "auth = \"oauth2\" needs this key".into()));
        }
    }
    crate::oauth2::http::Url::parse(k.token_url.unwrap_or_default())
        .map_err(|reason| ("token_url", reason))?;
    if k.client_id.is_some_and(|c| c.trim().is_empty()) {
        return Err(("client_id", "is empty".into()));
    }
    for (key, path) in [
        ("refresh_token_file", k.refresh_token_file),
        ("client_secret_file", k.client_secret_file),
    ] {
        let Some(p) = path else { continue };
        let text = std::fs::read_to_string(p).map_err(|e| {
            (
                key,
                format!(
                    "cannot read `{}`: {e} (put the {} there, one line)",
                    p.display(),
                    key.trim_end_matches("_file").replace('_', " ")
                ),
            )
        })?;
        crate::oauth2::grant::read_refresh_token(&text)
            .map_err(|why| (key, format!("`{}` {why}", p.display())))?;
    }
    if let Some(p) = k.refresh_token_file {
        // A rotated refresh token is written back next to it.
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let writable = std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly());
        if !writable {
            return Err((
                "refresh_token_file",
                format!(
                    "folder `{}` is not writable; ticketd writes a renewed refresh token back there",
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The OAuth2 client settings of `[mailbox]` (the IMAP login), or `None`
/// for `auth = "password"`.
pub fn mailbox_settings(m: &ImapMailbox) -> Result<Option<Settings>, OAuthError> {
    if m.auth != Auth::Oauth2 {
        return Ok(None);
    }
    Settings::new(
        "mailbox",
        m.token_url.as_deref(),
        m.client_id.as_deref(),
        m.client_secret_file.as_deref(),
        m.refresh_token_file.as_deref(),
        m.scope.as_deref(),
    )
    .map(Some)
}

/// The OAuth2 client settings of `[outgoing]` (the SMTP login), or `None`
/// for `auth = "password"`.
pub fn outgoing_settings(o: &Outgoing) -> Result<Option<Settings>, OAuthError> {
    if o.auth != Auth::Oauth2 {
        return Ok(None);
    }
    Settings::new(
        "outgoing",
        o.token_url.as_deref(),
        o.client_id.as_deref(),
        o.client_secret_file.as_deref(),
        o.refresh_token_file.as_deref(),
        o.scope.as_deref(),
    )
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::super::{Config, EXAMPLE};
    use std::path::Path;

    const IMAP: &str =
        "kind = \"imap\"\nhost = \"imap.example.org\"\nuser = \"support@sed.example.org\"\n";

    /// The example with `[mailbox]`'s kind line replaced by `mailbox`.
    fn with_mailbox(mailbox: &str) -> String {
        EXAMPLE.replacen("kind = \"maildir\"\n", mailbox, 1)
    }

    #[test]
    fn oauth2_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("rt"), "1//refresh\n").unwrap();
        std::fs::write(d.join("empty"), "\n").unwrap();
        let oauth = |extra: &str| {
            format!(
                "{IMAP}auth = \"oauth2\"\ntoken_url = \"https://login.example.org/token\"\nclient_id = \"ticketd\"\n{extra}"
            )
        };
        // (mailbox section text, Ok or the key and a piece of the reason)
        type Want = Result<(), (&'static str, &'static str)>;
        let cases: Vec<(String, Want)> = vec![
            (oauth("refresh_token_file = \"rt\"\n"), Ok(())),
            (
                oauth("refresh_token_file = \"rt\"\nclient_secret_file = \"rt\"\nscope = \"https://outlook.office.com/IMAP.AccessAsUser.All offline_access\"\n"),
                Ok(()),
            ),
            (
                oauth(""),
                Err(("mailbox.refresh_token_file", "needs this key")),
            ),
            (
                oauth("refresh_token_file = \"nope\"\n"),
                Err(("mailbox.refresh_token_file", "cannot read")),
            ),
            (
                oauth("refresh_token_file = \"empty\"\n"),
                Err(("mailbox.refresh_token_file", "is empty")),
            ),
            (
                oauth("refresh_token_file = \"rt\"\nclient_secret_file = \"nope\"\n"),
                Err(("mailbox.client_secret_file", "cannot read")),
            ),
            (
                oauth("refresh_token_file = \"rt\"\npassword_file = \"rt\"\n"),
                Err(("mailbox.auth", "remove password_file")),
            ),
            (
                format!("{IMAP}auth = \"oauth2\"\nclient_id = \"c\"\nrefresh_token_file = \"rt\"\n"),
                Err(("mailbox.token_url", "needs this key")),
            ),
            (
                format!("{IMAP}auth = \"oauth2\"\ntoken_url = \"https://h/t\"\nrefresh_token_file = \"rt\"\n"),
                Err(("mailbox.client_id", "needs this key")),
            ),
            (
                oauth("refresh_token_file = \"rt\"\n")
                    .replace("https://login.example.org/token", "http://login.example.org/token"),
                Err(("mailbox.token_url", "loopback")),
            ),
            (
                format!("{IMAP}token_url = \"https://h/t\"\n"),
                Err(("mailbox.token_url", "auth = \"oauth2\"")),
            ),
            (
                "kind = \"maildir\"\nauth = \"oauth2\"\n".to_string(),
                Err(("mailbox.auth", "a key of kind = \"imap\"")),
            ),
        ];
        for (mailbox, want) in cases {
            let text = with_mailbox(&mailbox);
            let got = Config::from_str_at(&text, &d.join("config.toml"), d);
            match (got, want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err((key, reason))) => {
                    let msg = e.to_string();
                    assert!(msg.contains(&format!(": {key}: ")), "{mailbox}\n→ {msg}");
                    assert!(msg.contains(reason), "{mailbox}\n→ {msg}");
                    // file:line of the key itself (or its section)
                    let line: usize = msg.split(':').nth(1).unwrap().parse().unwrap();
                    let at = text.lines().nth(line - 1).unwrap();
                    let bare = key.rsplit('.').next().unwrap();
                    assert!(
                        at.starts_with(bare) || at == "[mailbox]",
                        "{msg}: line {line} is `{at}`"
                    );
                }
                (got, want) => panic!("{mailbox}: got {:?}, want {want:?}", got.err()),
            }
        }
    }

    #[test]
    fn outgoing_oauth2_needs_a_user() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("rt"), "r").unwrap();
        let smtp = "kind = \"smtp\"\nhost = \"smtp.example.org\"\nauth = \"oauth2\"\ntoken_url = \"https://h/t\"\nclient_id = \"c\"\nrefresh_token_file = \"rt\"\n";
        let text = EXAMPLE.replacen("kind = \"file\"\ndir = \"var/outbox\"\n", smtp, 1);
        let e = Config::from_str_at(&text, Path::new("c.toml"), d).unwrap_err();
        assert!(e.to_string().contains("outgoing.user"), "{e}");
        let text = text.replacen(
            "auth = \"oauth2\"",
            "user = \"support@sed.example.org\"\nauth = \"oauth2\"",
            1,
        );
        let cfg = Config::from_str_at(&text, Path::new("c.toml"), d).unwrap();
        assert_eq!(
            cfg.outgoing.refresh_token_file.as_deref(),
            Some(d.join("rt").as_path())
        );
    }
}
