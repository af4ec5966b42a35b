//! `[web]`: the appeal form on the site and the users' status links
//! (served by `ticketd run`, see `crate::web`).

use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Web {
    /// `IP:PORT` the HTTP server listens on (behind the organisation's
    /// reverse proxy), e.g. `"127.0.0.1:8080"`.
    pub listen: String,
    /// The address users see (`https://support.example.org`): the status
    /// links in letters start with it. Plain `http://` only for loopback.
    pub public_url: String,
    /// A form sent back sooner than this after it was shown is not taken
    /// (a person needs longer), seconds.
    #[serde(default = "default_min_fill")]
    pub min_fill_secs: u64,
    /// Appeals one client address may send per hour; more get HTTP 429.
    /// 0: no limit.
    #[serde(default = "default_per_ip")]
    pub max_appeals_per_ip_per_hour: u32,
}

fn default_min_fill() -> u64 {
    3
}
fn default_per_ip() -> u32 {
    20
}

impl Web {
    /// The checked listen address (after [`check`]).
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        check_listen(&self.listen)
    }

    /// `public_url` without a trailing `/`.
    pub fn base_url(&self) -> &str {
        self.public_url.trim().trim_end_matches('/')
    }
}

/// The section's values: `Err((key, reason))`.
pub fn check(w: &Web) -> Result<(), (&'static str, String)> {
    check_listen(&w.listen).map_err(|r| ("web.listen", r))?;
    check_public_url(&w.public_url).map_err(|r| ("web.public_url", r))?;
    if w.min_fill_secs > 3600 {
        return Err((
            "web.min_fill_secs",
            format!(
                "{} is longer than an hour; a person fills the form in within seconds (default 3)",
                w.min_fill_secs
            ),
        ));
    }
    Ok(())
}

fn check_listen(value: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value.trim().parse().map_err(|_| {
        format!("`{value}` is not IP:PORT (e.g. \"127.0.0.1:8080\", \"[::1]:8080\"; a host name is not accepted)")
    })?;
    if addr.port() == 0 {
        return Err(format!(
            "`{value}` needs a fixed port: the reverse proxy is told where to send"
        ));
    }
    Ok(addr)
}

/// `https://host[:port][/path]`, or `http://` for a loopback host; no
/// query, fragment or user.
pub fn check_public_url(value: &str) -> Result<(), String> {
    let v = value.trim();
    let (scheme, rest) = v.split_once("://").ok_or_else(|| {
        format!("`{value}` is not a URL; give the address users open, e.g. \"https://support.example.org\"")
    })?;
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(h) => h.split(']').next().unwrap_or_default(),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || "?#@\"<>\\".contains(c);
    if host.is_empty() || rest.chars().any(bad_char) {
        return Err(format!(
            "`{value}` needs a host and no query, fragment or user (e.g. \"https://support.example.org\")"
        ));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if crate::address::is_loopback(host) => Ok(()),
        "http" => Err(format!(
            "`{value}`: plain http:// is accepted only for a loopback host; users' links must be https://"
        )),
        _ => Err(format!("`{value}` must start with https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls() {
        // (value, accepted)
        for (v, ok) in [
            ("https://support.example.org", true),
            ("https://support.example.org/help/", true),
            ("https://support.example.org:8443", true),
            ("http://127.0.0.1:8080", true),
            ("http://localhost:8080", true),
            ("http://[::1]:8080", true),
            ("http://support.example.org", false),
            ("ftp://support.example.org", false),
            ("support.example.org", false),
            ("https://", false),
            ("https://support.example.org/?a=1", false),
            ("https://user@support.example.org", false),
            ("https://support example.org", false),
        ] {
            assert_eq!(check_public_url(v).is_ok(), ok, "{v}");
        }
    }

    #[test]
    fn listen_addresses() {
        for (v, ok) in [
            ("127.0.0.1:8080", true),
            ("[::1]:8080", true),
            ("0.0.0.0:80", true),
            ("127.0.0.1:0", false),
            ("localhost:8080", false),
            ("8080", false),
        ] {
            assert_eq!(check_listen(v).is_ok(), ok, "{v}");
        }
    }
}
