//! OAuth2 for the real-server tests (`tests/mail_oauth*.rs`): a token
//! endpoint and the JWTs the test Dovecot accepts.
//!
//! The test Dovecot's second passdb (`scripts/servers/setup`) validates
//! XOAUTH2 / OAUTHBEARER tokens locally (`introspection_mode = local`,
//! Dovecot 2.3.16+): HS256 JWTs signed with the per-run key in ports.env
//! (`OAUTH2_KEY_HEX`), issuer `OAUTH2_ISSUER`, the login in `email`. Since
//! Dovecot judges the token alone, no introspection endpoint is needed.
//!
//! [`TokenServer`] is the authorization server's token endpoint (RFC 6749
//! §6, refresh-token grant) on 127.0.0.1:0, a small tokio HTTP server on its
//! own thread. It accepts only the current refresh token and rotates it on
//! every grant (so ticketd must write the new one back), and a test can make
//! it issue tokens that die early while claiming an hour, or refuse every
//! refresh with `invalid_grant`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::servers;

/// The client id ticketd's config names; the server checks it.
pub const CLIENT_ID: &str = "ticketd-test-client";
/// The client secret (in `client_secret_file`); the server checks it.
pub const CLIENT_SECRET: &str = "client-secret-of-the-test";

fn env_value(key: &str) -> String {
    let env = std::fs::read_to_string(servers().dir.join("ports.env")).unwrap_or_default();
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{key} missing from ports.env (scripts/servers/setup)"))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A JWT the test Dovecot accepts for `user` until `life` seconds from now.
pub fn jwt(user: &str, life: u64) -> String {
    let key = hex::decode(env_value("OAUTH2_KEY_HEX")).expect("OAUTH2_KEY_HEX is hex");
    let t = now();
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": env_value("OAUTH2_ISSUER"),
        "sub": user,
        "email": user,
        "iat": t,
        "exp": t + life,
        // unique per token, so two tokens of the same second differ
        "jti": format!("{:x}", rand_u64()),
    });
    let payload = b64url(claims.to_string().as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{header}.{payload}").as_bytes());
    let sig = b64url(&mac.finalize().into_bytes());
    format!("{header}.{payload}.{sig}")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now());
    h.finish()
}

#[derive(Debug, Default)]
struct State {
    user: String,
    /// The one refresh token accepted now.
    refresh_token: String,
    generation: u32,
    refuse: bool,
    /// How long issued tokens really live (Dovecot checks `exp`).
    jwt_life: u64,
    /// What `expires_in` tells the client.
    claimed_life: u64,
    grants: usize,
    refusals: usize,
    issued: Vec<String>,
}

/// The token endpoint; stops when the test binary exits.
pub struct TokenServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl TokenServer {
    /// An endpoint issuing hour-long tokens for `user`, accepting the
    /// refresh token `rtok-0` first (then `rtok-1`, `rtok-2`, … as it rotates).
    pub fn start(user: &str) -> TokenServer {
        let state = Arc::new(Mutex::new(State {
            user: user.to_string(),
            refresh_token: "rtok-0".into(),
            jwt_life: 3600,
            claimed_life: 3600,
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind token endpoint");
        let url = format!(
            "http://{}/oauth2/token",
            listener.local_addr().expect("local addr")
        );
        listener.set_nonblocking(true).expect("nonblocking");
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).expect("listener");
                while let Ok((s, _)) = l.accept().await {
                    let st = st.clone();
                    tokio::spawn(async move {
                        let _ = serve(s, st).await;
                    });
                }
            });
        });
        TokenServer { url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Refuse (or again accept) every refresh with `invalid_grant`.
    pub fn refuse(&self, on: bool) {
        self.with(|s| s.refuse = on);
    }

    /// Tokens issued from now on really live `secs` seconds, whatever
    /// `expires_in` says.
    pub fn set_jwt_life(&self, secs: u64) {
        self.with(|s| s.jwt_life = secs);
    }

    /// What `expires_in` says from now on.
    pub fn set_claimed_life(&self, secs: u64) {
        self.with(|s| s.claimed_life = secs);
    }

    /// The refresh token the server accepts now (the last one it issued).
    pub fn refresh_token(&self) -> String {
        self.with(|s| s.refresh_token.clone())
    }

    /// Put a new refresh token in force (an admin signing in again).
    pub fn reissue_refresh_token(&self, rt: &str) {
        self.with(|s| s.refresh_token = rt.to_string());
    }

    /// Successful grants so far.
    pub fn grants(&self) -> usize {
        self.with(|s| s.grants)
    }

    /// Refused grants so far.
    pub fn refusals(&self) -> usize {
        self.with(|s| s.refusals)
    }

    /// Every access token issued.
    pub fn issued(&self) -> Vec<String> {
        self.with(|s| s.issued.clone())
    }

    /// Write the client secret and the current refresh token into `dir`;
    /// returns the TOML lines of a section's `auth = "oauth2"` keys.
    pub fn config_keys(&self, dir: &Path, section: &str) -> String {
        let secret = dir.join(format!("{section}-client-secret"));
        std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).expect("client secret");
        let rt = self.refresh_token_file(dir, section);
        std::fs::write(&rt, format!("{}\n", self.refresh_token())).expect("refresh token");
        format!(
            "auth = \"oauth2\"\ntoken_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = {:?}\nrefresh_token_file = {:?}\n",
            self.url,
            secret.display().to_string(),
            rt.display().to_string()
        )
    }

    /// Where [`config_keys`](Self::config_keys) puts the refresh token.
    pub fn refresh_token_file(&self, dir: &Path, section: &str) -> PathBuf {
        dir.join(format!("{section}-refresh-token"))
    }
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hexd = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hexd, 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn serve(mut s: tokio::net::TcpStream, st: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let body = loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                break body.to_string();
            }
        }
        if buf.len() > 65536 {
            return Ok(());
        }
    };
    let form: HashMap<String, String> = body
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    let (status, answer) = {
        let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
        let get = |k: &str| form.get(k).map(String::as_str);
        if get("grant_type") != Some("refresh_token") {
            (400, r#"{"error":"unsupported_grant_type"}"#.to_string())
        } else if get("client_id") != Some(CLIENT_ID) || get("client_secret") != Some(CLIENT_SECRET)
        {
            (401, r#"{"error":"invalid_client"}"#.to_string())
        } else if st.refuse || get("refresh_token") != Some(st.refresh_token.as_str()) {
            st.refusals += 1;
            (
                400,
                r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#
                    .to_string(),
            )
        } else {
            st.grants += 1;
            st.generation += 1;
            st.refresh_token = format!("rtok-{}", st.generation);
            let token = jwt(&st.user, st.jwt_life);
            st.issued.push(token.clone());
            (
                200,
                serde_json::json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": st.claimed_life,
                    "refresh_token": st.refresh_token,
                })
                .to_string(),
            )
        }
    };
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        _ => "Bad Request",
    };
    let reply = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    s.write_all(reply.as_bytes()).await?;
    s.shutdown().await
}

/// Cut every IMAP connection of `user` (`doveadm kick`), so that ticketd
/// logs in again.
pub fn kick(user: &str) {
    let out = std::process::Command::new("doveadm")
        .arg("-c")
        .arg(env_value("DOVECOT_CONF"))
        .args(["kick", user])
        .output()
        .expect("doveadm");
    // 0: kicked; 68 (EX_NOUSER): nobody was connected.
    assert!(
        matches!(out.status.code(), Some(0 | 68)),
        "doveadm kick: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
