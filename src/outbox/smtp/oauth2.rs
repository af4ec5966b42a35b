//! The SMTP transport's credentials for `[outgoing] auth = "oauth2"`: a
//! [`TokenSource`] behind the transport's per-connection
//! [`SmtpCredentials`] hook (AUTH XOAUTH2), so each new connection carries
//! a fresh token and a token the server refused (535) is refreshed before
//! the transport's one retry.

use std::sync::{Arc, Mutex};

use super::{Credentials, CredentialsFuture, SmtpCredentials};
use crate::config::Outgoing;
use crate::oauth2::{Secret, StatusSink, TokenSource};
use crate::outbox::SendError;

/// `outgoing.user` with tokens from `outgoing.token_url`.
pub struct SmtpTokens {
    user: String,
    tokens: Arc<TokenSource>,
    /// The token the last connection was given, for [`SmtpCredentials::rejected`].
    last: Mutex<Option<Secret>>,
}

impl SmtpTokens {
    /// For `auth = "oauth2"` in `[outgoing]`: the credentials source, with
    /// failures reported to `status` (when given); `None` for passwords.
    pub fn from_config(
        cfg: &Outgoing,
        status: Option<StatusSink>,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Result<Option<Arc<SmtpTokens>>, SendError> {
        let settings = crate::config::oauth2::outgoing_settings(cfg)
            .map_err(|e| SendError::permanent(e.to_string()))?;
        let Some(settings) = settings else {
            return Ok(None);
        };
        let user = cfg.user.clone().ok_or_else(|| {
            SendError::permanent("outgoing.user is required with auth = \"oauth2\"")
        })?;
        let tokens = TokenSource::new(settings)
            .map_err(|e| SendError::permanent(e.to_string()))?
            .with_clock(clock);
        if let Some(sink) = status {
            tokens.set_status_sink(sink);
        }
        Ok(Some(Arc::new(SmtpTokens {
            user,
            tokens: Arc::new(tokens),
            last: Mutex::new(None),
        })))
    }
}

impl SmtpCredentials for SmtpTokens {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            // Refused or unreachable, the letter waits (transient) and the
            // transport shows the outbox as blocked; the error names the key.
            let token = self
                .tokens
                .access_token()
                .await
                .map_err(|e| SendError::transient(e.to_string()))?;
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
            Ok(Credentials::XOAuth2 {
                user: self.user.clone(),
                token: token.expose().to_string(),
            })
        })
    }

    fn rejected(&self) {
        if let Some(t) = self.last.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            self.tokens.rejected(t);
        }
    }
}
