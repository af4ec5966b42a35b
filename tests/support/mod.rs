//! Real mail servers for the integration tests (`tests/mail_*.rs`).
//!
//! [`servers()`] starts, once per test binary, a private Dovecot (IMAP on a
//! plain/STARTTLS port and an implicit-TLS port, LMTP) and a private Postfix
//! (SMTP with STARTTLS offered, and SMTP over implicit TLS on its own port)
//! that delivers every domain into Dovecot over LMTP, all on free 127.0.0.1
//! ports in a temporary directory with a per-run test CA
//! (`scripts/servers/setup` writes the configs). Dovecot also POSTs a
//! wake-up to [`Servers::wake_port`] whenever a letter for the support
//! mailbox is stored (ticketd's wake hook). A watchdog process kills
//! both and removes the directory as soon as the test binary exits, however
//! it exits; instances left by a crashed run are reaped at the next start.
//!
//! Around the servers: IMAP helpers to APPEND and read letters back with a
//! wait-until predicate ([`imap`]), outage controls (stop/start/restart),
//! a config writer for ticketd ([`Servers::write_config`]), the daemon under
//! test ([`daemon`]) and Table 2 letters ([`letters`]). Apart from the mail
//! servers: a private PostgreSQL cluster per test ([`pg`]).
#![allow(dead_code)]

pub mod cyrus;
pub mod daemon;
pub mod db;
pub mod desk;
pub mod exactly_once;
pub mod imap;
pub mod letters;
pub mod mta;
pub mod oauth;
pub mod pg;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Every test mailbox has this password (see `scripts/servers/setup`).
pub const PASSWORD: &str = "secret";
/// The support mailbox ticketd reads.
pub const SUPPORT: &str = "support@sed.example.org";

const DIR_PREFIX: &str = "ticketd-mailtest-";

/// Where the servers keep their spools (Dovecot's mailboxes, Postfix's
/// queue, sockets, logs): a tmpfs (`/dev/shm`) when there is one, unless
/// `TICKETD_TEST_SPOOL=disk`. On this project's VMs the disk is ext4 without
/// a journal, where every file created after many deletions walks the
/// recently deleted inodes; Postfix and Dovecot create and delete files for
/// every letter, so on disk Dovecot's LMTP spent about a fifth of its CPU
/// there and Postfix's cleanup about a third. ticketd's
/// own files (its database, attachments, logs: [`Servers::test_dir`]) stay
/// on the disk, under the temporary directory, so its fsyncs cost what they
/// cost.
fn spool_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let wanted = std::env::var("TICKETD_TEST_SPOOL").map_or(true, |v| v != "disk");
    let writable = tempfile::tempdir_in(shm).is_ok();
    if wanted && writable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

pub struct Servers {
    /// The servers' directory (ports.env, configs, spools, pid files, logs).
    pub dir: PathBuf,
    /// ticketd's working directories, one per test ([`Servers::test_dir`]),
    /// on the disk.
    work: PathBuf,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub lmtp_port: u16,
    pub smtp_port: u16,
    /// Postfix's implicit-TLS ("wrapper mode", smtps) port.
    pub smtps_port: u16,
    /// Postfix with SMTP AUTH required (STARTTLS, passwords checked by Dovecot).
    pub submit_port: u16,
    /// Where the test Dovecot POSTs its wake-up events for the support
    /// mailbox (a ticketd with [`ConfigOpts::wake`] listens there).
    pub wake_port: u16,
    pub ca_file: PathBuf,
    dovecot_conf: PathBuf,
    postfix_conf: PathBuf,
    dovecot: Mutex<Option<Child>>,
    postfix: Mutex<Option<Child>>,
}

static SERVERS: OnceLock<Servers> = OnceLock::new();

/// The servers of this test binary, started on first use.
pub fn servers() -> &'static Servers {
    SERVERS.get_or_init(|| match Servers::start() {
        Ok(s) => s,
        Err(e) => panic!("test mail servers did not start: {e}"),
    })
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/servers")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Servers {
    fn start() -> Result<Servers, String> {
        reap_stale();
        run(&mut Command::new(scripts().join("install")))?;
        let make = |root: &Path| -> Result<PathBuf, String> {
            let dir = tempfile::Builder::new()
                .prefix(DIR_PREFIX)
                .tempdir_in(root)
                .map_err(|e| format!("{}: {e}", root.display()))?
                .keep();
            fs::write(dir.join("owner.pid"), std::process::id().to_string())
                .map_err(|e| e.to_string())?;
            Ok(dir)
        };
        let dir = make(&spool_root())?;
        let work = make(&std::env::temp_dir())?;
        spawn_reaper(&dir, &work)?;
        run(Command::new(scripts().join("setup")).arg(&dir))?;
        let env = fs::read_to_string(dir.join("ports.env")).map_err(|e| e.to_string())?;
        let get = |key: &str| -> Result<String, String> {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .map(str::to_string)
                .ok_or_else(|| format!("{key} missing from ports.env"))
        };
        let port = |key: &str| -> Result<u16, String> {
            get(key)?.parse().map_err(|e| format!("{key}: {e}"))
        };
        let s = Servers {
            imap_port: port("IMAP_PORT")?,
            imaps_port: port("IMAPS_PORT")?,
            lmtp_port: port("LMTP_PORT")?,
            smtp_port: port("SMTP_PORT")?,
            smtps_port: port("SMTPS_PORT")?,
            submit_port: port("SUBMIT_PORT")?,
            wake_port: port("WAKE_PORT")?,
            ca_file: PathBuf::from(get("CA_FILE")?),
            dovecot_conf: PathBuf::from(get("DOVECOT_CONF")?),
            postfix_conf: PathBuf::from(get("POSTFIX_CONF")?),
            dovecot: Mutex::new(None),
            postfix: Mutex::new(None),
            dir,
            work,
        };
        s.start_dovecot();
        s.start_smtp();
        Ok(s)
    }

    fn spawn(&self, name: &str, cmd: &mut Command, ports: &[u16]) -> Child {
        use std::os::unix::process::CommandExt;
        let log = |suffix: &str| {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(format!("{name}.{suffix}")))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null())
        };
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log("out"))
            .stderr(log("err"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let _ = fs::write(self.dir.join(format!("{name}.pid")), child.id().to_string());
        for &port in ports {
            wait_port(port, true, Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("{name}: {e}; see {}", self.dir.display()));
        }
        child
    }

    fn stop(&self, name: &str, slot: &Mutex<Option<Child>>, ports: &[u16]) {
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = guard.take() {
            kill_group(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            kill_group(child.id(), "KILL");
            let _ = child.wait();
            let _ = fs::remove_file(self.dir.join(format!("{name}.pid")));
        }
        for &port in ports {
            let _ = wait_port(port, false, Duration::from_secs(10));
        }
    }

    pub fn start_dovecot(&self) {
        let mut guard = self.dovecot.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let child = self.spawn(
                "dovecot",
                Command::new("dovecot")
                    .arg("-F")
                    .arg("-c")
                    .arg(&self.dovecot_conf),
                &[self.imap_port, self.imaps_port, self.lmtp_port],
            );
            *guard = Some(child);
        }
    }

    pub fn stop_dovecot(&self) {
        self.stop(
            "dovecot",
            &self.dovecot,
            &[self.imap_port, self.imaps_port, self.lmtp_port],
        );
    }

    pub fn restart_dovecot(&self) {
        self.stop_dovecot();
        self.start_dovecot();
    }

    pub fn start_smtp(&self) {
        let mut guard = self.postfix.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let child = self.spawn(
                "postfix",
                Command::new("/usr/lib/postfix/sbin/master")
                    .arg("-c")
                    .arg(&self.postfix_conf)
                    .arg("-d"),
                &[self.smtp_port, self.smtps_port, self.submit_port],
            );
            *guard = Some(child);
        }
    }

    pub fn stop_smtp(&self) {
        self.stop(
            "postfix",
            &self.postfix,
            &[self.smtp_port, self.smtps_port, self.submit_port],
        );
    }

    pub fn restart_smtp(&self) {
        self.stop_smtp();
        self.start_smtp();
    }

    /// A fresh directory for one test's ticketd (database, logs, config).
    pub fn test_dir(&self, name: &str) -> PathBuf {
        let dir = self.work.join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        dir
    }

    /// Write a ticketd config for one test into `dir` and return its path.
    pub fn write_config(&self, dir: &Path, opts: &ConfigOpts) -> PathBuf {
        let pw = dir.join("imap-password");
        fs::write(&pw, PASSWORD).unwrap_or_else(|e| panic!("{}: {e}", pw.display()));
        let (imap_port, imap_tls) = match opts.imap_tls {
            TestTls::Implicit => (self.imaps_port, "implicit"),
            TestTls::Starttls => (self.imap_port, "starttls"),
            TestTls::None => (self.imap_port, "none"),
        };
        let (smtp_port, smtp_tls) = match opts.smtp_tls {
            TestTls::Implicit => (self.smtps_port, "implicit"),
            TestTls::Starttls => (self.smtp_port, "starttls"),
            TestTls::None => (self.smtp_port, "none"),
        };
        let ca = |with: bool| {
            if with {
                format!("ca_file = {:?}\n", self.ca_file.display().to_string())
            } else {
                String::new()
            }
        };
        let q = |p: PathBuf| format!("{:?}", p.display().to_string());
        let text = format!(
            r#"[desk]
support_address = "{SUPPORT}"

[log]
level = "{log}"

[database]
path = {db}

[attachments]
dir = {att}

[mailbox]
kind = "imap"
host = "{host}"
port = {imap_port}
user = "{SUPPORT}"
password_file = {pw}
tls = "{imap_tls}"
{imap_ca}folder = "{folder}"
processed_folder = "{processed}"
after_processing = "{after}"
idle_refresh_secs = {idle}
poll_interval_secs = {poll}
max_letter_mb = {max_mb}
{wake}
[outgoing]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
tls = "{smtp_tls}"
{smtp_ca}retry_base_secs = 1
retry_cap_secs = 2

[loops]
# Load tests send hundreds of letters from the two test users.
max_auto_per_address_per_day = 1000000
max_new_tickets_per_sender_per_hour = 0
"#,
            log = opts.log_level,
            db = q(dir.join("ticketd.sqlite3")),
            att = q(dir.join("attachments")),
            host = opts.imap_host,
            pw = q(pw.clone()),
            imap_ca = ca(opts.imap_ca),
            folder = opts.folder,
            processed = opts.processed_folder,
            after = opts.after_processing,
            idle = opts.idle_refresh_secs,
            poll = opts.poll_interval_secs,
            max_mb = opts.max_letter_mb,
            smtp_ca = ca(opts.smtp_ca),
            wake = if opts.wake {
                format!("wake_listen = \"127.0.0.1:{}\"\n", self.wake_port)
            } else {
                String::new()
            },
        );
        let path = dir.join("config.toml");
        fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestTls {
    Implicit,
    Starttls,
    None,
}

/// What a test's ticketd config says; [`Default`] is a working setup.
#[derive(Debug, Clone)]
pub struct ConfigOpts {
    pub imap_host: String,
    pub imap_tls: TestTls,
    pub imap_ca: bool,
    pub smtp_tls: TestTls,
    pub smtp_ca: bool,
    pub folder: String,
    pub processed_folder: String,
    pub after_processing: String,
    pub idle_refresh_secs: u64,
    pub poll_interval_secs: u64,
    pub max_letter_mb: f64,
    pub log_level: String,
    /// Listen for the test Dovecot's wake-up POSTs (`mailbox.wake_listen`
    /// on [`Servers::wake_port`]; one such ticketd at a time per binary).
    pub wake: bool,
}

impl ConfigOpts {
    /// The defaults with a folder pair of the test's own: ticketd watches
    /// `{name}-in` and moves letters to `{name}-done`, so tests sharing the
    /// servers do not see each other's letters.
    pub fn named(name: &str) -> ConfigOpts {
        ConfigOpts {
            folder: format!("{name}-in"),
            processed_folder: format!("{name}-done"),
            ..ConfigOpts::default()
        }
    }
}

impl Default for ConfigOpts {
    fn default() -> Self {
        ConfigOpts {
            imap_host: "127.0.0.1".into(),
            imap_tls: TestTls::Implicit,
            imap_ca: true,
            smtp_tls: TestTls::Starttls,
            smtp_ca: true,
            folder: "INBOX".into(),
            processed_folder: "Processed".into(),
            after_processing: "move".into(),
            idle_refresh_secs: 300,
            poll_interval_secs: 60,
            max_letter_mb: 25.0,
            log_level: "info,ticketd=debug".into(),
            wake: false,
        }
    }
}

/// Wait until `port` on 127.0.0.1 accepts connections (`open`) or refuses them.
pub fn wait_port(port: u16, open: bool, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let up = std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(200),
        )
        .is_ok();
        if up == open {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "port {port} still {}",
                if open { "closed" } else { "open" }
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill_group(pgid: u32, signal: &str) {
    if pgid > 1 {
        signal_pid(&format!("-{pgid}"), signal);
    }
}

/// Send `signal` to `target` (a pid, or `-pgid` for a group). Always the
/// `-s SIG -- TARGET` form: procps' `kill -SIG -PGID` misreads the group as
/// a signal number and may signal every process (`kill(-1)`).
pub fn signal_pid(target: &str, signal: &str) {
    if target
        .trim_start_matches('-')
        .parse::<u32>()
        .map_or(true, |n| n <= 1)
    {
        return;
    }
    let _ = Command::new("kill")
        .args(["-s", signal, "--", target])
        .stderr(Stdio::null())
        .status();
}

/// A watchdog outside the test process: when the test binary exits (passed,
/// panicked, killed), it stops every server whose pid file is in `dir` and
/// removes `dir` and `work`.
fn spawn_reaper(dir: &Path, work: &Path) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let script = r#"
owner=$1; dir=$2; work=$3
while [ -d "/proc/$owner" ]; do sleep 0.2; done
signal_all() {
    for f in "$dir"/*.pid; do
        [ "$f" != "$dir/owner.pid" ] && [ -f "$f" ] || continue
        p=$(cat "$f")
        case "$p" in ''|*[!0-9]*) continue ;; esac
        [ "$p" -gt 1 ] && kill "-$1" "-$p" 2>/dev/null
    done
}
signal_all TERM
sleep 1
signal_all KILL
[ -n "${TICKETD_KEEP_MAILTEST:-}" ] || rm -rf "$dir" "$work"
"#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("reaper")
        .arg(std::process::id().to_string())
        .arg(dir)
        .arg(work)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the reaper: {e}"))
}

/// Kill servers left by test runs whose process is gone (e.g. its reaper
/// was killed too) and remove their directories.
fn reap_stale() {
    let mut roots = vec![std::env::temp_dir()];
    if Path::new("/dev/shm").is_dir() {
        roots.push(PathBuf::from("/dev/shm"));
    }
    for entry in roots
        .iter()
        .filter_map(|r| fs::read_dir(r).ok())
        .flat_map(|e| e.flatten())
    {
        let dir = entry.path();
        let is_ours = entry.file_name().to_string_lossy().starts_with(DIR_PREFIX);
        let owner = fs::read_to_string(dir.join("owner.pid")).unwrap_or_default();
        let owner = owner.trim();
        if !is_ours || owner.is_empty() || Path::new("/proc").join(owner).exists() {
            continue;
        }
        for pidfile in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = pidfile.path();
            if path.extension().is_some_and(|e| e == "pid") && !path.ends_with("owner.pid") {
                if let Ok(pid) = fs::read_to_string(&path)
                    .unwrap_or_default()
                    .trim()
                    .parse::<u32>()
                {
                    kill_group(pid, "KILL");
                }
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
