//! Cyrus IMAP, the second IMAP server of the interoperability tests.
//!
//! [`cyrus()`] starts, once per test binary, a private Cyrus (Debian's
//! cyrus-imapd: `master` with imapd on a plain/STARTTLS port and an
//! implicit-TLS port, lmtpd) in `servers().dir/cyrus`, configured by
//! `scripts/servers/setup-cyrus` with the run's test certificate. Its pid
//! file sits in the servers' directory, so the same watchdog stops it when
//! the test binary exits. Replies ticketd sends still go through the test
//! Postfix into Dovecot ([`super::imap`] reads them); letters reach Cyrus
//! by IMAP APPEND ([`append`]).
//!
//! Cyrus keeps its defaults where clients notice them: the personal
//! namespace is `INBOX.` with `.` as the separator.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::TryStreamExt;

use super::imap::Stored;
use super::{run, scripts, servers, ConfigOpts, TestTls, PASSWORD};

pub struct Cyrus {
    pub dir: PathBuf,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub lmtp_port: u16,
    conf: PathBuf,
    master_conf: PathBuf,
    pidfile: PathBuf,
    child: Mutex<Option<std::process::Child>>,
}

static CYRUS: OnceLock<Cyrus> = OnceLock::new();

/// The Cyrus of this test binary, started on first use (after the
/// Dovecot/Postfix pair, whose certificate and watchdog it shares).
pub fn cyrus() -> &'static Cyrus {
    CYRUS.get_or_init(|| match Cyrus::start() {
        Ok(c) => c,
        Err(e) => panic!("test Cyrus IMAP did not start: {e}"),
    })
}

impl Cyrus {
    fn start() -> Result<Cyrus, String> {
        let s = servers();
        let dir = s.dir.join("cyrus");
        run(Command::new(scripts().join("setup-cyrus"))
            .arg(&dir)
            .arg(s.dir.join("tls")))?;
        let env = fs::read_to_string(dir.join("cyrus.env")).map_err(|e| e.to_string())?;
        let get = |key: &str| -> Result<String, String> {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .map(str::to_string)
                .ok_or_else(|| format!("{key} missing from cyrus.env"))
        };
        let port = |key: &str| -> Result<u16, String> {
            get(key)?.parse().map_err(|e| format!("{key}: {e}"))
        };
        let c = Cyrus {
            imap_port: port("CYRUS_IMAP_PORT")?,
            imaps_port: port("CYRUS_IMAPS_PORT")?,
            lmtp_port: port("CYRUS_LMTP_PORT")?,
            conf: PathBuf::from(get("CYRUS_CONF")?),
            master_conf: PathBuf::from(get("CYRUS_MASTER_CONF")?),
            pidfile: PathBuf::from(get("CYRUS_PIDFILE")?),
            child: Mutex::new(None),
            dir,
        };
        let child = s.spawn(
            "cyrus",
            Command::new("/usr/lib/cyrus/bin/master")
                .arg("-C")
                .arg(&c.conf)
                .arg("-M")
                .arg(&c.master_conf)
                .arg("-p")
                .arg(&c.pidfile),
            &[c.imap_port, c.imaps_port, c.lmtp_port],
        );
        *c.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        Ok(c)
    }

    /// Write a ticketd config for one test into `dir` that reads `user`'s
    /// mailbox on this Cyrus (TLS as `opts.imap_tls`, the test CA) and
    /// sends through the test Postfix; returns its path.
    pub fn write_config(&self, dir: &Path, opts: &ConfigOpts, user: &str) -> PathBuf {
        let path = servers().write_config(dir, opts);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let s = servers();
        let (dovecot_port, port) = match opts.imap_tls {
            TestTls::Implicit => (s.imaps_port, self.imaps_port),
            TestTls::Starttls | TestTls::None => (s.imap_port, self.imap_port),
        };
        let text = retarget(&text, dovecot_port, port, user);
        fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

/// The `[mailbox]` of a config written for the test Dovecot, pointed at
/// `port` and `user` instead (the `[outgoing]` part is left alone).
pub fn retarget(config: &str, from_port: u16, port: u16, user: &str) -> String {
    let (head, tail) = config
        .split_once("\n[outgoing]")
        .unwrap_or_else(|| panic!("no [outgoing] in the test config"));
    let head = head
        .replace(
            &format!("\nport = {from_port}\n"),
            &format!("\nport = {port}\n"),
        )
        .replace(
            &format!("\nuser = \"{}\"\n", super::SUPPORT),
            &format!("\nuser = \"{user}\"\n"),
        );
    format!("{head}\n[outgoing]{tail}")
}

type Session = async_imap::Session<tokio::net::TcpStream>;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
        .block_on(f)
}

async fn login(user: &str) -> Result<Session, String> {
    let port = cyrus().imap_port;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect cyrus imap {port}: {e}"))?;
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .map_err(|e| format!("greeting: {e}"))?;
    client
        .login(user, PASSWORD)
        .await
        .map_err(|(e, _)| format!("login {user}: {e}"))
}

/// APPEND `raw` to `folder` (a Cyrus name: `INBOX`, `INBOX.x`) of `user`;
/// the folder is created if missing.
pub fn append(user: &str, folder: &str, raw: &[u8]) {
    let r: Result<(), String> = block_on(async {
        let mut s = login(user).await?;
        let _ = s.create(folder).await;
        s.append(folder, None, None, raw)
            .await
            .map_err(|e| format!("append: {e}"))?;
        let _ = s.logout().await;
        Ok(())
    });
    r.unwrap_or_else(|e| panic!("cyrus append to {user}/{folder}: {e}"));
}

/// Every letter in `folder` of `user` on Cyrus; empty when it does not exist.
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
    r.unwrap_or_else(|e| panic!("cyrus list {user}/{folder}: {e}"))
}

/// Poll `folder` on Cyrus until `pred` holds; panics after `timeout`.
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
            panic!(
                "timed out after {timeout:?} waiting for {what} in cyrus {user}/{folder}; it holds {} letters",
                letters.len()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Run one command (e.g. `SETACL …`) as `user` on Cyrus; panics on NO/BAD.
pub fn command(user: &str, cmd: &str) {
    let r: Result<(), String> = block_on(async {
        let mut s = login(user).await?;
        s.run_command_and_check_ok(cmd)
            .await
            .map_err(|e| format!("{cmd}: {e}"))?;
        let _ = s.logout().await;
        Ok(())
    });
    r.unwrap_or_else(|e| panic!("cyrus {user}: {e}"));
}
