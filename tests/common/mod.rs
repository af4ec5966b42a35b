//! Test support: a private desk (config, database, Maildir, outbox) in a
//! temporary folder, driven through the real `ticketd` binary.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_ticketd");

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0xf8,
    0x0f, 0x00, 0x01, 0x04, 0x01, 0x00, 0xc1, 0x2d, 0x8e, 0x50, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct TestDesk {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl TestDesk {
    /// A desk on `config.example.toml` with every path inside a temp dir.
    pub fn new() -> TestDesk {
        TestDesk::with(|_| {})
    }

    /// The example desk without lines and routing rules: tickets are
    /// registered and answered, nothing is routed.
    pub fn plain() -> TestDesk {
        TestDesk::with(|cfg| {
            cfg.remove("lines");
            cfg.remove("routes");
        })
    }

    /// Like [`TestDesk::new`], letting the test change the config table first.
    pub fn with(change: impl FnOnce(&mut toml::Table)) -> TestDesk {
        let dir = tempfile::tempdir().expect("tempdir");
        let text =
            std::fs::read_to_string(repo().join("config.example.toml")).expect("example config");
        let mut cfg: toml::Table = text.parse().expect("example config parses");
        let root = dir.path();
        let set = |cfg: &mut toml::Table, section: &str, key: &str, v: &Path| {
            let t = cfg
                .entry(section)
                .or_insert_with(|| toml::Value::Table(Default::default()));
            if let toml::Value::Table(t) = t {
                t.insert(key.into(), toml::Value::String(v.display().to_string()));
            }
        };
        set(&mut cfg, "database", "path", &root.join("db.sqlite3"));
        set(&mut cfg, "attachments", "dir", &root.join("attachments"));
        set(&mut cfg, "mailbox", "path", &root.join("maildir"));
        set(&mut cfg, "outgoing", "dir", &root.join("outbox"));
        change(&mut cfg);
        let config = root.join("config.toml");
        std::fs::write(&config, toml::to_string(&cfg).expect("serialise config"))
            .expect("write config");
        for sub in ["maildir/new", "maildir/cur", "maildir/tmp", "outbox"] {
            std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        TestDesk { dir, config }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config").arg(&self.config).env("RUST_LOG", "warn");
        c
    }

    /// Run a command, optionally with stdin.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = self.command();
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn ticketd");
        if let Some(mut si) = child.stdin.take() {
            if let Some(data) = stdin {
                let _ = si.write_all(data);
            }
        }
        child.wait_with_output().expect("wait ticketd")
    }

    /// `ingest` from stdin: the last JSON line and the exit code.
    pub fn ingest(&self, raw: &[u8]) -> (Value, i32) {
        let out = self.run(&["ingest"], Some(raw));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'));
        let v = match line {
            Some(l) => serde_json::from_str(l).expect("ingest JSON"),
            None => Value::Null,
        };
        (v, out.status.code().unwrap_or(-1))
    }

    pub fn run_once(&self) -> Output {
        self.run(&["run", "--once"], None)
    }

    pub fn show(&self, id: &str) -> Value {
        let out = self.run(&["tickets", "show", id, "--json"], None);
        assert!(
            out.status.success(),
            "tickets show {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("show JSON")
    }

    pub fn list_json(&self) -> Vec<Value> {
        let out = self.run(&["tickets", "list", "--json"], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("list JSON")
    }

    /// Outgoing letters written by the file transport, in order.
    pub fn outbox(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.root().join("outbox"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read(p).expect("read outbox"))
            .collect()
    }

    /// Deliver a letter into the Maildir as an MTA would (tmp/ then new/).
    pub fn drop_letter(&self, name: &str, raw: &[u8]) {
        let tmp = self.root().join("maildir/tmp").join(name);
        std::fs::write(&tmp, raw).expect("write tmp");
        std::fs::rename(&tmp, self.root().join("maildir/new").join(name)).expect("rename into new");
    }

    /// SQL query through the database file (read-only checks).
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.root().join("db.sqlite3")).expect("open db")
    }
}

/// Header values of a raw letter (decoded), by lower-case name.
pub fn headers(raw: &[u8]) -> Vec<(String, String)> {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parse outgoing");
    msg.headers()
        .iter()
        .map(|h| {
            let name = h.name().to_lowercase();
            let v = match h.value() {
                mail_parser::HeaderValue::Text(t) => t.to_string(),
                mail_parser::HeaderValue::Address(a) => a
                    .iter()
                    .filter_map(|x| x.address.as_ref().map(|s| s.to_lowercase()))
                    .collect::<Vec<_>>()
                    .join(", "),
                mail_parser::HeaderValue::TextList(l) => l.join(" "),
                _ => String::new(),
            };
            (name, v)
        })
        .collect()
}

pub fn header(raw: &[u8], name: &str) -> Option<String> {
    headers(raw)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Plain-text body of a raw letter.
pub fn body_text(raw: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|m| m.body_text(0).map(|t| t.to_string()))
        .unwrap_or_default()
}

/// Standard base64 with padding, for building test letters' attachments.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            out.push(if k <= c.len() {
                ABC[((n >> (18 - 6 * k)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}
