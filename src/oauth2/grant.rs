//! The pure half of the OAuth2 refresh-token grant (RFC 6749 §6): the form
//! body ticketd POSTs, the token endpoint's answer read into a value, the
//! decision whether a cached access token is still good, and the SASL
//! initial responses (XOAUTH2, OAUTHBEARER) the IMAP and SMTP logins send.
//! No I/O here: bytes and times in, values out.

use std::time::Duration;

/// A token or client secret. Its `Debug` never shows the value, so a
/// `{:?}` of any struct holding one cannot leak it into the log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// What the refresh request carries besides the refresh token.
#[derive(Debug, Clone)]
pub struct Client<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    pub scope: Option<&'a str>,
}

/// The `application/x-www-form-urlencoded` body of a refresh-token grant.
/// The client authenticates in the body (`client_secret_post`), which
/// Microsoft, Google and Yandex all accept; a public client sends no secret.
pub fn refresh_body(client: &Client<'_>, refresh_token: &Secret) -> String {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", client.client_id),
    ];
    if let Some(s) = client.client_secret {
        pairs.push(("client_secret", s.expose()));
    }
    if let Some(s) = client.scope {
        pairs.push(("scope", s));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encode everything but RFC 3986's unreserved characters.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A successful answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: Secret,
    /// `expires_in`; `None` when the server does not say.
    pub lifetime: Option<Duration>,
    /// A rotated refresh token, to be written back to `refresh_token_file`.
    pub refresh_token: Option<Secret>,
}

/// What the token endpoint answered, read from its status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Granted(Grant),
    /// RFC 6749 §5.2: `{"error": "invalid_grant", "error_description": ...}`,
    /// a refusal that will not change until an admin acts.
    Refused {
        error: String,
        description: Option<String>,
    },
    /// Anything else (5xx, 429, a body that is not the expected JSON):
    /// worth trying again later.
    Unavailable(String),
}

/// Bound on the text of the server's error taken into messages.
const MAX_DESCRIPTION: usize = 300;

/// Read the token endpoint's answer.
pub fn parse_answer(status: u16, body: &[u8]) -> Answer {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(|s| clip(s, MAX_DESCRIPTION))
    };
    match (status, json) {
        (200, Some(v)) => {
            let Some(token) = v.get("access_token").and_then(|t| t.as_str()) else {
                return Answer::Unavailable("the answer has no access_token".into());
            };
            if token.is_empty() || token.bytes().any(|b| b.is_ascii_control()) {
                return Answer::Unavailable("the access_token is empty or malformed".into());
            }
            if let Some(t) = v.get("token_type").and_then(|t| t.as_str()) {
                if !t.eq_ignore_ascii_case("bearer") {
                    return Answer::Unavailable(format!(
                        "token_type `{}` is not Bearer",
                        clip(t, 40)
                    ));
                }
            }
            // Some servers send expires_in as a string ("3599").
            let lifetime = v.get("expires_in").and_then(|e| {
                e.as_u64()
                    .or_else(|| e.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                    .or_else(|| e.as_str().and_then(|s| s.trim().parse().ok()))
            });
            let refresh_token = v
                .get("refresh_token")
                .and_then(|t| t.as_str())
                .filter(|t| !t.is_empty() && !t.bytes().any(|b| b.is_ascii_control()))
                .map(Secret::new);
            Answer::Granted(Grant {
                access_token: Secret::new(token),
                lifetime: lifetime.map(Duration::from_secs),
                refresh_token,
            })
        }
        (400 | 401, Some(v)) if v.get("error").is_some() => Answer::Refused {
            error: text(&v, "error").unwrap_or_else(|| "error".into()),
            description: text(&v, "error_description"),
        },
        (200, None) => Answer::Unavailable("the answer is not JSON".into()),
        (s, _) => {
            let snippet = clip(&String::from_utf8_lossy(body), 120);
            Answer::Unavailable(format!("HTTP {s}: {snippet}"))
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// How long a token is used when the server does not say (`expires_in`
/// absent): an hour, the common lifetime; a rejection refreshes earlier.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Refresh this long before the token expires, so that a login started
/// just before expiry does not carry a token dead on arrival.
pub const MARGIN: Duration = Duration::from_secs(60);

/// Whether a token obtained `age` ago with `lifetime` should still be used:
/// until `MARGIN` before expiry, or half its life for a short-lived token.
pub fn still_fresh(age: Duration, lifetime: Option<Duration>) -> bool {
    let life = lifetime.unwrap_or(DEFAULT_LIFETIME);
    let margin = MARGIN.min(life / 2);
    age + margin < life
}

/// The refresh token file's text as a token: surrounding whitespace and
/// line ends dropped; empty or multi-line content is refused.
pub fn read_refresh_token(text: &str) -> Result<Secret, &'static str> {
    let t = text.trim();
    if t.is_empty() {
        return Err("is empty");
    }
    if t.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err("holds more than one token (spaces or several lines)");
    }
    Ok(Secret::new(t))
}

/// SASL XOAUTH2 initial response (before base64): Google's and
/// Microsoft's `user=U^Aauth=Bearer T^A^A`.
pub fn xoauth2(user: &str, token: &Secret) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes()
}

/// SASL OAUTHBEARER initial response (RFC 7628, before base64):
/// `n,a=U,^Aauth=Bearer T^A^A`, with `,` and `=` in the user escaped.
pub fn oauthbearer(user: &str, token: &Secret) -> Vec<u8> {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes()
}
