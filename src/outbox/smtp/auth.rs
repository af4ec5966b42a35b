//! SMTP AUTH: what the client logs in with, where it comes from, and the
//! SASL strings of the mechanisms ticketd speaks (PLAIN and LOGIN with a
//! password, XOAUTH2 with an OAuth2 access token). No I/O.
//!
//! Credentials are asked for once per connection through
//! [`SmtpCredentials`], so a source whose secret changes (an OAuth2 token
//! refreshed before it expires) hands the fresh one to the next
//! connection; when the server refuses a token the transport calls
//! [`SmtpCredentials::rejected`] and tries once more on a new connection.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use super::super::SendError;

/// What one connection logs in with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// AUTH PLAIN, or LOGIN where the server offers no PLAIN.
    Password { user: String, pass: String },
    /// AUTH XOAUTH2 with an OAuth2 access token (Gmail, Microsoft 365,
    /// Yandex 360).
    XOAuth2 { user: String, token: String },
}

/// Never prints a secret.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password { user, .. } => write!(f, "Password({user}, ***)"),
            Credentials::XOAuth2 { user, .. } => write!(f, "XOAuth2({user}, ***)"),
        }
    }
}

impl Credentials {
    pub fn user(&self) -> &str {
        match self {
            Credentials::Password { user, .. } | Credentials::XOAuth2 { user, .. } => user,
        }
    }
}

/// The future [`SmtpCredentials::credentials`] returns.
pub type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, SendError>> + Send + 'a>>;

/// Where a connection's credentials come from: asked once per new
/// connection. A password from the config answers the same every time; an
/// OAuth2 source refreshes its token when it is about to expire, and again
/// after [`SmtpCredentials::rejected`]. An error from `credentials` is
/// reported like a refused login (the letter waits, `status` shows it).
pub trait SmtpCredentials: Send + Sync {
    fn credentials(&self) -> CredentialsFuture<'_>;
    /// The server refused the last credentials (535 to XOAUTH2): the next
    /// call must not hand out the same token.
    fn rejected(&self) {}
}

/// `outgoing.user` with its password: the same every time.
pub struct StaticCredentials(pub Credentials);

impl SmtpCredentials for StaticCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        let c = self.0.clone();
        Box::pin(async move { Ok(c) })
    }
}

/// AUTH PLAIN's initial response (RFC 4616): `\0user\0pass`, base64.
pub fn plain(user: &str, pass: &str) -> String {
    base64(format!("\0{user}\0{pass}").as_bytes())
}

/// AUTH XOAUTH2's initial response: `user=U^Aauth=Bearer T^A^A`, base64.
pub fn xoauth2(user: &str, token: &str) -> String {
    base64(format!("user={user}\x01auth=Bearer {token}\x01\x01").as_bytes())
}

const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, one line.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(TABLE[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard base64 (a server's SASL challenge); `None` when it is
/// not base64.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in text.bytes() {
        let v = TABLE.iter().position(|&t| t == b)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_ways() {
        // (bytes, base64) — RFC 4648 §10
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
            (b"\0\xff\x01", "AP8B"),
        ];
        for (bytes, text) in cases {
            assert_eq!(base64(bytes), *text);
            assert_eq!(unbase64(text).as_deref(), Some(*bytes), "{text}");
        }
        assert_eq!(unbase64("not base64!"), None);
    }

    #[test]
    fn sasl_initial_responses() {
        assert_eq!(
            unbase64(&plain("support@sed.example.org", "secret")).unwrap(),
            b"\0support@sed.example.org\0secret"
        );
        // The example of Google's XOAUTH2 documentation.
        assert_eq!(
            xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let p = Credentials::Password {
            user: "u".into(),
            pass: "hunter2".into(),
        };
        let t = Credentials::XOAuth2 {
            user: "u".into(),
            token: "ya29.token".into(),
        };
        let text = format!("{p:?} {t:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("ya29"),
            "{text}"
        );
    }
}
