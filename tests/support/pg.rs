//! A private PostgreSQL cluster for one test (`tests/pg_store.rs`).
//!
//! [`Cluster::start`] finds the server's programs (`pg_config --bindir`,
//! then `/usr/lib/postgresql/*/bin`, newest first, then `PATH`), makes a
//! cluster with `initdb` in a temporary directory and starts it on a free
//! 127.0.0.1 port, its Unix socket in that directory too, with `fsync=off`
//! (a test's data need not survive a power cut). Password authentication
//! (SCRAM) for every TCP connection, so ticketd's `password_file` is
//! exercised; the role [`ROLE`] owns the databases of [`Cluster::createdb`].
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the
//! server's programs run as `nobody` (`runuser`), the data folder chowned
//! to it. Dropping the [`Cluster`] stops the server (`pg_ctl stop -m
//! immediate`) and removes the folder; a watchdog process does the same
//! when the test binary dies without unwinding.
//!
//! Missing programs fail the test (never skip it), naming `scripts/test`,
//! which installs them (`scripts/servers/install`: the Debian package
//! `postgresql`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The role ticketd connects as.
pub const ROLE: &str = "ticketd";
/// Its password (what the tests write into `password_file`).
pub const ROLE_PASSWORD: &str = "pg-test-Secret-1";
/// The superuser's password.
const SUPER_PASSWORD: &str = "pg-test-super-2";
/// The unprivileged user the server runs as when the tests run as root.
const RUN_AS: &str = "nobody";

pub struct Cluster {
    /// The cluster's folder (data, socket, log, password files).
    dir: tempfile::TempDir,
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    /// A file holding [`ROLE_PASSWORD`], for `password_file`.
    pub password_file: PathBuf,
    /// With TLS ([`Cluster::start_tls`]): the test CA that signed the
    /// server's certificate (for `localhost` and 127.0.0.1).
    pub ca_file: Option<PathBuf>,
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`.
pub fn bindir() -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    candidates.extend(versions.into_iter().map(|v| v.1));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    find_bindir(candidates)
}

/// The first of `candidates` with all the server's programs, or what to
/// do (install them: `scripts/test`).
pub fn find_bindir(candidates: Vec<PathBuf>) -> Result<PathBuf, String> {
    let has_all = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    candidates.into_iter().find(|d| has_all(d)).ok_or_else(|| {
        "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed: \
         none in `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH. Run scripts/test \
         (as root it installs the Debian package `postgresql` through scripts/servers/install), \
         or `apt-get install postgresql`"
            .to_string()
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A free TCP port on 127.0.0.1 (free now; the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn output(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Cluster {
    /// A new cluster, running, with the role [`ROLE`]; panics (failing
    /// the test) with what to do when it cannot be made.
    pub fn start() -> Cluster {
        match Cluster::try_start(false, false) {
            Ok(c) => c,
            Err(e) => panic!("private PostgreSQL cluster: {e}"),
        }
    }

    /// Like [`Cluster::start`], with TLS (`ssl = on`, a certificate from a
    /// per-cluster CA: [`Cluster::ca_file`]) and [`ROLE`] refused on
    /// plain TCP, so its every connection is encrypted.
    pub fn start_tls() -> Cluster {
        match Cluster::try_start(true, false) {
            Ok(c) => c,
            Err(e) => panic!("private PostgreSQL cluster with TLS: {e}"),
        }
    }

    /// Like [`Cluster::start`], with the server's durability settings as
    /// shipped (`fsync`, `synchronous_commit`, `full_page_writes` on): for
    /// the benchmark, whose figures must hold on a real server.
    pub fn start_durable() -> Cluster {
        match Cluster::try_start(false, true) {
            Ok(c) => c,
            Err(e) => panic!("private PostgreSQL cluster: {e}"),
        }
    }

    fn try_start(tls: bool, durable: bool) -> Result<Cluster, String> {
        use std::os::unix::fs::PermissionsExt;
        let bin = bindir()?;
        let dir = tempfile::Builder::new()
            .prefix("ticketd-pgtest-")
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        // The server's user must reach its folder; nothing in it is secret
        // beyond the test's own passwords.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let run = dir.path().join("run");
        let super_pw = dir.path().join("super.pw");
        let password_file = dir.path().join("ticketd.pw");
        std::fs::write(&super_pw, SUPER_PASSWORD).map_err(|e| e.to_string())?;
        std::fs::write(&password_file, ROLE_PASSWORD).map_err(|e| e.to_string())?;
        for d in [&data, &run] {
            std::fs::create_dir(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| e.to_string())?;
        if is_root() {
            output(
                Command::new("chown")
                    .arg(format!("{RUN_AS}:"))
                    .args([&data, &run, &super_pw]),
            )?;
        }
        let mut cluster = Cluster {
            bin,
            data,
            port: 0,
            password_file,
            ca_file: None,
            dir,
        };
        cluster.spawn_watchdog()?;
        output(
            cluster
                .server_cmd("initdb")
                .arg("-D")
                .arg(&cluster.data)
                .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
                .arg(format!("--pwfile={}", super_pw.display()))
                .arg("--no-sync"),
        )?;
        let mut tls_opts = String::new();
        if tls {
            let (ca, cert, key) = cluster.make_certificates()?;
            tls_opts = format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert.display(),
                key.display()
            );
            cluster.ca_file = Some(ca);
            // ticketd's role only over TLS (rules are read in order).
            let hba = cluster.data.join("pg_hba.conf");
            let old = std::fs::read_to_string(&hba).map_err(|e| e.to_string())?;
            std::fs::write(
                &hba,
                format!("hostnossl all {ROLE} 127.0.0.1/32 reject\n{old}"),
            )
            .map_err(|e| e.to_string())?;
        }
        // Retried on another port if the one picked was taken meanwhile.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let fast = if durable {
                ""
            } else {
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            };
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} \
                 {fast}-c max_connections=40 -c shared_buffers=32MB{tls_opts}",
                run.display()
            );
            let started = output(
                cluster
                    .server_cmd("pg_ctl")
                    .arg("-D")
                    .arg(&cluster.data)
                    .arg("-l")
                    .arg(run.join("server.log"))
                    .args(["-w", "-t", "60", "-o", &opts, "start"]),
            );
            match started {
                Ok(_) => {
                    cluster.port = port;
                    cluster.superuser_sql(&format!(
                        "CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE_PASSWORD}'"
                    ))?;
                    return Ok(cluster);
                }
                Err(e) => {
                    let log = std::fs::read_to_string(run.join("server.log")).unwrap_or_default();
                    last = format!("{e}\nserver log:\n{log}");
                }
            }
        }
        Err(last)
    }

    /// A CA and the server's certificate and key signed by it (P-256),
    /// for `localhost` and 127.0.0.1; the key readable by the server only.
    fn make_certificates(&self) -> Result<(PathBuf, PathBuf, PathBuf), String> {
        use std::os::unix::fs::PermissionsExt;
        let d = self.dir.path().join("tls");
        std::fs::create_dir(&d).map_err(|e| e.to_string())?;
        let p = |name: &str| d.join(name);
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        output(
            Command::new("openssl")
                .args(["req", "-x509"])
                .args(ec)
                .arg("-keyout")
                .arg(p("ca.key"))
                .arg("-out")
                .arg(p("ca.pem"))
                .args(["-days", "2", "-subj", "/CN=ticketd test PostgreSQL CA"])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
        )?;
        output(
            Command::new("openssl")
                .arg("req")
                .args(ec)
                .arg("-keyout")
                .arg(p("server.key"))
                .arg("-out")
                .arg(p("server.csr"))
                .args(["-subj", "/CN=localhost"]),
        )?;
        std::fs::write(
            p("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| e.to_string())?;
        output(
            Command::new("openssl")
                .args(["x509", "-req", "-days", "2", "-in"])
                .arg(p("server.csr"))
                .arg("-CA")
                .arg(p("ca.pem"))
                .arg("-CAkey")
                .arg(p("ca.key"))
                .arg("-CAcreateserial")
                .arg("-extfile")
                .arg(p("server.ext"))
                .arg("-out")
                .arg(p("server.crt")),
        )?;
        std::fs::set_permissions(p("server.key"), std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        if is_root() {
            output(
                Command::new("chown")
                    .arg(format!("{RUN_AS}:"))
                    .args([p("server.key"), p("server.crt")]),
            )?;
        }
        Ok((p("ca.pem"), p("server.crt"), p("server.key")))
    }

    /// One of the server's programs, as the user the server runs as.
    fn server_cmd(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", RUN_AS, "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.current_dir(self.dir.path());
        c
    }

    /// A watchdog outside the test process: when the test binary exits
    /// without dropping the cluster (killed, aborted), it stops the
    /// server and removes the folder.
    fn spawn_watchdog(&self) -> Result<(), String> {
        use std::os::unix::process::CommandExt;
        let script = r#"
owner=$1; dir=$2
while [ -d "/proc/$owner" ]; do sleep 0.5; done
[ -d "$dir" ] || exit 0
pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
case "$pid" in ''|*[!0-9]*) ;; *) [ "$pid" -gt 1 ] && kill -s KILL -- "$pid" 2>/dev/null ;; esac
sleep 0.5
rm -rf "$dir"
"#;
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(self.dir.path())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("cannot start the watchdog: {e}"))
    }

    /// `psql` as the superuser over TCP (the password checked by SCRAM).
    fn superuser_sql(&self, sql: &str) -> Result<String, String> {
        self.psql_as("postgres", SUPER_PASSWORD, "postgres", sql)
    }

    fn psql_as(&self, user: &str, password: &str, db: &str, sql: &str) -> Result<String, String> {
        let out = output(
            Command::new(self.bin.join("psql"))
                .arg(format!(
                    "host=127.0.0.1 port={} user={user} dbname={db} sslmode=prefer",
                    self.port
                ))
                .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
                .env("PGPASSWORD", password)
                .env("PGCONNECT_TIMEOUT", "10"),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    /// A new empty database owned by [`ROLE`].
    pub fn createdb(&self, name: &str) {
        self.superuser_sql(&format!("CREATE DATABASE {name} OWNER {ROLE}"))
            .unwrap_or_else(|e| panic!("createdb {name}: {e}"));
    }

    /// `postgresql://ticketd@127.0.0.1:PORT/DB` (the password is not in it).
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://{ROLE}@127.0.0.1:{}/{db}", self.port)
    }

    /// The result of `sql` in `db` as [`ROLE`], rows on lines, columns
    /// split by `|` (psql's unaligned output); panics on an SQL error.
    pub fn query(&self, db: &str, sql: &str) -> String {
        self.psql_as(ROLE, ROLE_PASSWORD, db, sql)
            .unwrap_or_else(|e| panic!("psql {db}: {e}"))
    }

    /// Restart the server (`pg_ctl restart -m fast`, its options kept):
    /// every client's connection is closed, as in a failover.
    pub fn restart(&self) {
        output(
            self.server_cmd("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                // The new server's output to the log, not to this pipe
                // (which it would hold open).
                .arg("-l")
                .arg(self.dir.path().join("run/server.log"))
                .args(["-w", "-t", "60", "-m", "fast", "restart"]),
        )
        .unwrap_or_else(|e| panic!("pg_ctl restart: {e}"));
    }

    /// [`Cluster::query`], the error returned instead of failing the test.
    pub fn try_query(&self, db: &str, sql: &str) -> Result<String, String> {
        self.psql_as(ROLE, ROLE_PASSWORD, db, sql)
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("run/server.log")).unwrap_or_default()
    }

    /// The cluster's folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .server_cmd("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
