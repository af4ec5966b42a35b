//! A plain IMAP client for tests: APPEND a letter, read a folder back, wait
//! until a folder satisfies a predicate. Synchronous on the outside (each
//! call runs async-imap on its own current-thread runtime) so tests stay
//! simple; connects to the plain port with LOGIN (loopback only).

use futures::TryStreamExt;
use std::time::{Duration, Instant};

use super::{servers, PASSWORD};

/// One letter as stored on the server.
#[derive(Debug, Clone)]
pub struct Stored {
    pub uid: u32,
    pub raw: Vec<u8>,
    pub seen: bool,
}

impl Stored {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The unfolded value of the first header `name` (raw, not decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        let text = self.text();
        let head = text
            .split("\r\n\r\n")
            .next()
            .unwrap_or("")
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        let want = format!("{}:", name.to_ascii_lowercase());
        head.lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&want))
            .map(|l| l[want.len()..].trim().to_string())
    }
}

type Session = async_imap::Session<tokio::net::TcpStream>;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
        .block_on(f)
}

/// Passwords changed by a test ([`set_password`]); every other mailbox
/// has [`PASSWORD`].
static CHANGED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

fn password_of(user: &str) -> String {
    CHANGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .rev()
        .find(|(u, _)| u == user)
        .map_or_else(|| PASSWORD.to_string(), |(_, p)| p.clone())
}

/// Change `user`'s password on the server (Dovecot's passwd-file, re-read
/// at the next login; open sessions stay until kicked). This client logs
/// in with the new one from now on.
pub fn set_password(user: &str, password: &str) {
    let path = servers().dir.join("dovecot/users");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let prefix = format!("{user}:{{PLAIN}}");
    let mut found = false;
    let out: Vec<String> = text
        .lines()
        .map(
            |l| match l.strip_prefix(&prefix).and_then(|r| r.split_once(':')) {
                Some((_, rest)) => {
                    found = true;
                    format!("{prefix}{password}:{rest}")
                }
                None => l.to_string(),
            },
        )
        .collect();
    assert!(found, "{user} is no test mailbox (scripts/servers/setup)");
    std::fs::write(&path, out.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    CHANGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((user.to_string(), password.to_string()));
    // Dovecot looks at the file at most once a second: wait until the new
    // password is the one that counts.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match block_on(login(user)) {
            Ok(mut s) => {
                block_on(async move {
                    let _ = s.logout().await;
                });
                return;
            }
            Err(e) if Instant::now() > deadline => panic!("{user}: new password refused: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

async fn login(user: &str) -> Result<Session, String> {
    let port = servers().imap_port;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect imap {port}: {e}"))?;
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .map_err(|e| format!("greeting: {e}"))?;
    client
        .login(user, password_of(user))
        .await
        .map_err(|(e, _)| format!("login {user}: {e}"))
}

/// APPEND `raw` to `folder` of `user` (the folder is created if missing).
pub fn append(user: &str, folder: &str, raw: &[u8]) {
    append_many(user, folder, &[raw.to_vec()]);
}

/// APPEND every letter in `raws`, in order, over one connection.
pub fn append_many(user: &str, folder: &str, raws: &[Vec<u8>]) {
    let r: Result<(), String> = block_on(async {
        let mut s = login(user).await?;
        let _ = s.create(folder).await;
        for raw in raws {
            s.append(folder, None, None, raw)
                .await
                .map_err(|e| format!("append: {e}"))?;
        }
        let _ = s.logout().await;
        Ok(())
    });
    r.unwrap_or_else(|e| panic!("append to {user}/{folder}: {e}"));
}

/// Every letter in `folder` of `user`, by UID; empty when the folder does not exist.
pub fn list(user: &str, folder: &str) -> Vec<Stored> {
    let r: Result<Vec<Stored>, String> = block_on(async {
        let mut s = login(user).await?;
        let mailbox = match s.examine(folder).await {
            Ok(m) => m,
            Err(_) => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        if mailbox.exists > 0 {
            let fetches: Vec<_> = s
                .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[])")
                .await
                .map_err(|e| format!("fetch: {e}"))?
                .try_collect()
                .await
                .map_err(|e| format!("fetch: {e}"))?;
            for f in fetches {
                out.push(Stored {
                    uid: f.uid.unwrap_or(0),
                    raw: f.body().unwrap_or_default().to_vec(),
                    seen: f
                        .flags()
                        .any(|fl| matches!(fl, async_imap::types::Flag::Seen)),
                });
            }
        }
        let _ = s.logout().await;
        out.sort_by_key(|l| l.uid);
        Ok(out)
    });
    r.unwrap_or_else(|e| panic!("list {user}/{folder}: {e}"))
}

/// Number of letters in `folder` (0 when it does not exist).
pub fn count(user: &str, folder: &str) -> u32 {
    let r: Result<u32, String> = block_on(async {
        let mut s = login(user).await?;
        let n = match s.examine(folder).await {
            Ok(m) => m.exists,
            Err(_) => 0,
        };
        let _ = s.logout().await;
        Ok(n)
    });
    r.unwrap_or_else(|e| panic!("count {user}/{folder}: {e}"))
}

/// Poll `folder` until `pred` holds for its letters; returns them, or
/// panics after `timeout` naming `what` and showing what was there.
pub fn wait_until(
    user: &str,
    folder: &str,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&[Stored]) -> bool,
) -> Vec<Stored> {
    let deadline = Instant::now() + timeout;
    loop {
        let letters = list(user, folder);
        if pred(&letters) {
            return letters;
        }
        if Instant::now() > deadline {
            let subjects: Vec<_> = letters.iter().map(|l| l.header("Subject")).collect();
            panic!(
                "timed out after {timeout:?} waiting for {what} in {user}/{folder}; it holds {} letters: {subjects:?}",
                letters.len()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Delete every letter in `folder` (test setup).
pub fn clear(user: &str, folder: &str) {
    let r: Result<(), String> = block_on(async {
        let mut s = login(user).await?;
        if let Ok(m) = s.select(folder).await {
            if m.exists > 0 {
                let _: Vec<_> = s
                    .store("1:*", "+FLAGS (\\Deleted)")
                    .await
                    .map_err(|e| e.to_string())?
                    .try_collect()
                    .await
                    .map_err(|e| e.to_string())?;
                let _: Vec<_> = s
                    .expunge()
                    .await
                    .map_err(|e| e.to_string())?
                    .try_collect()
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        let _ = s.logout().await;
        Ok(())
    });
    r.unwrap_or_else(|e| panic!("clear {user}/{folder}: {e}"));
}

/// Create `folder` of `user` (no error when it exists).
pub fn create(user: &str, folder: &str) {
    let r: Result<(), String> = block_on(async {
        let mut s = login(user).await?;
        let _ = s.create(folder).await;
        let _ = s.logout().await;
        Ok(())
    });
    r.unwrap_or_else(|e| panic!("create {user}/{folder}: {e}"));
}

/// Delete `folder` of `user` and create it again: the server gives the new
/// folder a new UIDVALIDITY and starts its UIDs from 1.
pub fn recreate(user: &str, folder: &str) {
    let r: Result<(), String> = block_on(async {
        let mut s = login(user).await?;
        s.delete(folder).await.map_err(|e| format!("DELETE: {e}"))?;
        s.create(folder).await.map_err(|e| format!("CREATE: {e}"))?;
        let _ = s.logout().await;
        Ok(())
    });
    r.unwrap_or_else(|e| panic!("recreate {user}/{folder}: {e}"));
}

/// How many of `letters` answer the test letter tagged `tag` (In-Reply-To).
pub fn replies_to(letters: &[Stored], tag: &str) -> usize {
    let want = format!("<{tag}@test.example>");
    letters
        .iter()
        .filter(|l| l.header("In-Reply-To").is_some_and(|v| v.contains(&want)))
        .count()
}

/// Wait for the auto-reply to the letter tagged `tag` in `user`'s INBOX.
pub fn wait_reply(user: &str, tag: &str, timeout: Duration) -> Stored {
    let letters = wait_until(
        user,
        "INBOX",
        timeout,
        &format!("the reply to {tag}"),
        |l| replies_to(l, tag) > 0,
    );
    let want = format!("<{tag}@test.example>");
    letters
        .into_iter()
        .find(|l| l.header("In-Reply-To").is_some_and(|v| v.contains(&want)))
        .unwrap_or_else(|| panic!("reply to {tag} vanished"))
}
