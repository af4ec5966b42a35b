//! The SMTP servers of the interoperability matrix beside the default
//! Postfix: OpenSMTPD (Debian's 6.8, unpacked from its .deb by
//! `scripts/servers/install-opensmtpd`, since it conflicts with postfix as
//! a package) started privately on two loopback ports and relaying into
//! the test Dovecot over LMTP, and the test Postfix's listener with a
//! per-session message limit (`scripts/servers/setup-postfix-limit`).
//! Plus what the tests of both need: pointing a ticketd config at one of
//! them, and sending a burst of letters through it.

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::{run, scripts, servers};

/// The private OpenSMTPD of this test binary.
pub struct OpenSmtpd {
    /// Plain SMTP with STARTTLS offered.
    pub port: u16,
    /// SMTP over implicit TLS.
    pub smtps_port: u16,
    child: Mutex<Option<std::process::Child>>,
}

static OPENSMTPD: OnceLock<OpenSmtpd> = OnceLock::new();

/// OpenSMTPD, started on first use (after the default servers, whose
/// Dovecot it delivers to).
pub fn opensmtpd() -> &'static OpenSmtpd {
    OPENSMTPD.get_or_init(|| {
        let s = servers();
        run(&mut Command::new(scripts().join("install-opensmtpd")))
            .unwrap_or_else(|e| panic!("installing OpenSMTPD: {e}"));
        run(Command::new(scripts().join("setup-opensmtpd")).arg(&s.dir))
            .unwrap_or_else(|e| panic!("setting up OpenSMTPD: {e}"));
        let env = std::fs::read_to_string(s.dir.join("ports.env")).unwrap_or_default();
        let port = |key: &str| -> u16 {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{key} missing from ports.env"))
        };
        let o = OpenSmtpd {
            port: port("OPENSMTPD_PORT"),
            smtps_port: port("OPENSMTPD_SMTPS_PORT"),
            child: Mutex::new(None),
        };
        o.start();
        o
    })
}

impl OpenSmtpd {
    pub fn start(&self) {
        let mut guard = self.child.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let s = servers();
            *guard = Some(
                s.spawn(
                    "opensmtpd",
                    Command::new("sh")
                        .arg(scripts().join("opensmtpd-run"))
                        .arg(&s.dir),
                    &[self.port, self.smtps_port],
                ),
            );
        }
    }

    /// What smtpd logged so far (it runs in the foreground, logging to
    /// stderr): one `smtp connected` line per session.
    pub fn log_text(&self) -> String {
        let dir = &servers().dir;
        ["opensmtpd.err", "opensmtpd.out"]
            .iter()
            .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default())
            .collect()
    }

    /// Sessions OpenSMTPD has accepted so far.
    pub fn sessions(&self) -> usize {
        self.log_text().matches("smtp connected").count()
    }
}

/// The test Postfix's listener that answers MAIL with 452 after
/// [`postfix_limit`] letters in one session.
pub fn postfix_limited_port() -> u16 {
    env_value("POSTFIX_LIMITED_PORT")
}

pub fn postfix_limit() -> usize {
    env_value("POSTFIX_LIMIT") as usize
}

fn env_value(key: &str) -> u16 {
    let env = std::fs::read_to_string(servers().dir.join("ports.env")).unwrap_or_default();
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing from ports.env"))
}

/// Sessions the limited Postfix listener has accepted so far.
pub fn postfix_limited_sessions() -> usize {
    let log =
        std::fs::read_to_string(servers().dir.join("postfix").join("maillog")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("postfix/limited/smtpd[") && l.contains(": connect from"))
        .count()
}

/// Point the `[outgoing]` section of a config written by
/// [`Servers::write_config`](super::Servers::write_config) at `port` with
/// `tls`, adding `extra` lines (e.g. `retry_base_secs = 5`).
pub fn retarget(config: &Path, port: u16, tls: &str, extra: &str) {
    let text = std::fs::read_to_string(config).unwrap_or_else(|e| panic!("{e}"));
    let start = text.find("[outgoing]\n").expect("an [outgoing] section");
    let (head, section) = text.split_at(start);
    let mut out = String::from(head);
    for line in section.lines() {
        if line.starts_with("port = ") {
            out.push_str(&format!("port = {port}\n"));
        } else if line.starts_with("tls = ") {
            out.push_str(&format!("tls = \"{tls}\"\n"));
        } else if line.starts_with("retry_base_secs") && extra.contains("retry_base_secs") {
            // replaced by `extra`
        } else {
            out.push_str(line);
            out.push('\n');
        }
        if line == "[outgoing]" {
            out.push_str(extra);
        }
    }
    std::fs::write(config, out).unwrap_or_else(|e| panic!("{e}"));
}

/// One outbox row as the burst test reads it.
#[derive(Debug)]
pub struct SentRow {
    pub status: String,
    pub attempts: i64,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every outbox row of a ticketd database.
pub fn outbox_rows(db: &Path) -> Vec<SentRow> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("{}: {e}", db.display()));
    let mut st = conn
        .prepare("SELECT status, attempts, sent_at FROM outbox ORDER BY id")
        .expect("outbox query");
    st.query_map([], |r| {
        let at: Option<String> = r.get(2)?;
        Ok(SentRow {
            status: r.get(0)?,
            attempts: r.get(1)?,
            sent_at: at
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&chrono::Utc)),
        })
    })
    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
    .expect("outbox rows")
}

/// The longest pause between two consecutive letters accepted, over all
/// rows; panics unless every row was sent.
pub fn longest_gap(rows: &[SentRow]) -> Duration {
    let mut at: Vec<_> = rows
        .iter()
        .map(|r| r.sent_at.unwrap_or_else(|| panic!("a row not sent: {r:?}")))
        .collect();
    at.sort();
    at.windows(2)
        .map(|w| (w[1] - w[0]).to_std().unwrap_or_default())
        .max()
        .unwrap_or_default()
}

/// What a burst through one server showed.
#[derive(Debug)]
pub struct Burst {
    pub rows: Vec<SentRow>,
    /// `ticketd run --once`, start to exit.
    pub took: Duration,
    pub log: String,
    pub config: std::path::PathBuf,
}

/// `n` appeals from `user` in a fresh folder, then one `ticketd run
/// --once` sending the replies through `port` (plain SMTP, loopback) with
/// a 5 s retry base, so a letter held back by a retry would stand out
/// against the gaps of a reconnect; waits until every reply is in the
/// user's mailbox.
pub fn burst(name: &str, user: &str, port: u16, n: usize) -> Burst {
    use super::{imap, letters, ConfigOpts, SUPPORT};
    let opts = ConfigOpts {
        log_level: "info".into(),
        ..ConfigOpts::named(name)
    };
    imap::create(SUPPORT, &opts.folder);
    let before = imap::count(user, "INBOX") as usize;
    let raws: Vec<Vec<u8>> = (0..n)
        .map(|i| letters::appeal(user, &format!("{name}-{i:04}")))
        .collect();
    imap::append_many(SUPPORT, &opts.folder, &raws);
    let dir = servers().test_dir(name);
    let config = servers().write_config(&dir, &opts);
    retarget(&config, port, "none", "retry_base_secs = 5\n");
    let t = std::time::Instant::now();
    let out = super::daemon::ticketd(&config, &["run", "--once"]);
    let took = t.elapsed();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "run --once: {log}");
    let rows = outbox_rows(&dir.join("ticketd.sqlite3"));
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while (imap::count(user, "INBOX") as usize) < before + n {
        assert!(
            std::time::Instant::now() < deadline,
            "{name}: {} of {n} replies delivered to {user} in 120 s",
            imap::count(user, "INBOX") as usize - before
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Burst {
        rows,
        took,
        log,
        config,
    }
}
