//! A configured desk for the workflow tests: three lines, routing rules,
//! short deadlines, its own folder and ticket prefix; letters as users and
//! engineers write them; SMTP submission as a mail client does it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::daemon::{ticketd, Daemon};
use super::imap::{self, Stored};
use super::{servers, ConfigOpts, SUPPORT};

pub const WAIT: Duration = Duration::from_secs(20);

/// The desk: three lines, printers to the 2nd line, everything else to the
/// 1st; deadlines of `deadline` round the clock.
pub fn desk_sections(prefix: &str, deadline: &str) -> String {
    format!(
        r#"
[tickets]
prefix = "{prefix}"

[[lines]]
number = 1
mailbox = "line1@sed.example.org"
engineers = ["op1@sed.example.org"]

[[lines]]
number = 2
mailbox = "line2@sed.example.org"
engineers = ["eng1@sed.example.org", "eng2@sed.example.org"]

[[lines]]
number = 3
mailbox = "line3@dev.example.org"
engineers = ["dev1@dev.example.org"]

[[priorities]]
name = "normal"
deadline = "{deadline}"
default = true

[calendar]
time_zone = "Europe/Kaliningrad"
working_hours = "00:00-24:00"
weekends = []

[[routes]]
name = "printers to the 2nd line"
words = ["принтер"]
line = 2

[[routes]]
name = "default: the 1st line"
line = 1
"#
    )
}

pub struct TestDesk {
    pub config: PathBuf,
    pub daemon: Daemon,
    pub folder: String,
    pub prefix: String,
}

pub fn start(name: &str, prefix: &str, folder: &str, deadline: &str, max_auto: u32) -> TestDesk {
    let dir = servers().test_dir(name);
    if folder != "INBOX" {
        imap::create(SUPPORT, folder);
    }
    let opts = ConfigOpts {
        folder: folder.into(),
        processed_folder: format!("Processed-{name}"),
        ..ConfigOpts::default()
    };
    let config = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&config).expect("config");
    // `write_config` ends with the `[loops]` section.
    let mut text = text.replace(
        "[loops]\n",
        &format!("[loops]\nmax_auto_per_day = {max_auto}\n"),
    );
    text.push_str(&desk_sections(prefix, deadline));
    std::fs::write(&config, text).expect("write config");
    let out = ticketd(&config, &["check-config"]);
    assert!(
        out.status.success(),
        "check-config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", WAIT),
        "daemon did not connect:\n{}",
        daemon.log_text()
    );
    TestDesk {
        config,
        daemon,
        folder: folder.into(),
        prefix: prefix.into(),
    }
}

impl TestDesk {
    pub fn show(&self, id: &str) -> serde_json::Value {
        let out = ticketd(&self.config, &["tickets", "show", id, "--json"]);
        assert!(
            out.status.success(),
            "show {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("show JSON")
    }

    pub fn wait_status(&self, id: &str, status: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let t = self.show(id);
            if t["status"] == status {
                return t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{id} never became {status}: {t}\n{}",
                self.daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_history(&self, id: &str, action: &str, n: usize) -> serde_json::Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let t = self.show(id);
            let count = t["history"]
                .as_array()
                .map_or(0, |h| h.iter().filter(|e| e["action"] == action).count());
            if count >= n {
                return t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{id}: fewer than {n} `{action}`: {t}\n{}",
                self.daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A letter delivered into this desk's folder, as the MTA would file it.
    pub fn deliver(&self, raw: &[u8]) {
        imap::append(SUPPORT, &self.folder, raw);
    }

    /// The ticket ID in a letter's subject.
    pub fn id_in(&self, l: &Stored) -> Option<String> {
        let re = regex::Regex::new(&format!(r"{}-\d{{4}}-\d{{6}}", self.prefix)).expect("regex");
        re.find(&l.header("Subject").unwrap_or_default())
            .map(|m| m.as_str().to_string())
    }
}

/// Letters of `user` that concern ticket `id` (tag in the subject).
pub fn about(user: &str, id: &str, min: usize, what: &str) -> Vec<Stored> {
    let tag = format!("[{id}]");
    imap::wait_until(user, "INBOX", WAIT, what, |l| {
        l.iter()
            .filter(|m| m.header("Subject").unwrap_or_default().contains(&tag))
            .count()
            >= min
    })
    .into_iter()
    .filter(|m| m.header("Subject").unwrap_or_default().contains(&tag))
    .collect()
}

pub fn body(l: &Stored) -> String {
    mail_parser::MessageParser::default()
        .parse(&l.raw)
        .and_then(|m| m.body_text(0).map(|t| t.to_string()))
        .unwrap_or_default()
}

pub fn appeal(from: &str, msgid: &str, what: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@sed.example.org\r\nSubject: {what}\r\nMessage-ID: <{msgid}@test.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Организация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\nКабинет 305, 3 этаж\r\n\
         Телефон: 8 (4012) 55-12-34\r\nОписание проблемы: {what}\r\n"
    )
    .into_bytes()
}

pub fn reply(
    from: &str,
    to: &str,
    subject: &str,
    in_reply_to: Option<String>,
    text: &str,
) -> Vec<u8> {
    let irt = in_reply_to
        .map(|m| format!("In-Reply-To: {m}\r\n"))
        .unwrap_or_default();
    let r: u64 = rand::random();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <r{r:x}@test.example>\r\n{irt}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

/// Submit a letter to the test Postfix over plain SMTP, as a mail client would.
pub fn smtp_send(from: &str, to: &str, raw: &[u8]) {
    let port = servers().smtp_port;
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect smtp");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut w = stream.try_clone().expect("clone");
    let mut r = BufReader::new(stream);
    let mut expect = |code: &str| loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("smtp read");
        assert!(
            line.starts_with(code),
            "SMTP: expected {code}, got {line:?}"
        );
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    };
    expect("220");
    for (cmd, code) in [
        ("EHLO test.example".to_string(), "250"),
        (format!("MAIL FROM:<{from}>"), "250"),
        (format!("RCPT TO:<{to}>"), "250"),
        ("DATA".to_string(), "354"),
    ] {
        write!(w, "{cmd}\r\n").expect("smtp write");
        expect(code);
    }
    for line in String::from_utf8_lossy(raw).split("\r\n") {
        let line = if line.starts_with('.') {
            format!(".{line}")
        } else {
            line.to_string()
        };
        write!(w, "{line}\r\n").expect("smtp write");
    }
    write!(w, ".\r\n").expect("smtp write");
    expect("250");
    write!(w, "QUIT\r\n").ok();
}

/// The HMAC key the desk generated (kept in its database).
pub fn desk_key(config: &Path) -> ticketd::workflow::token::ReplyKey {
    let db = config.parent().unwrap().join("ticketd.sqlite3");
    let conn = rusqlite::Connection::open(db).unwrap();
    let hexkey: String = conn
        .query_row(
            "SELECT value FROM state WHERE key = 'commands.key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    ticketd::workflow::token::ReplyKey::from_bytes(&hex::decode(hexkey).unwrap()).unwrap()
}

/// The first letter of `user` whose subject contains `needle`.
pub fn about_prefix(user: &str, needle: &str, what: &str) -> Stored {
    imap::wait_until(user, "INBOX", WAIT, what, |l| {
        l.iter()
            .any(|m| m.header("Subject").unwrap_or_default().contains(needle))
    })
    .into_iter()
    .find(|m| m.header("Subject").unwrap_or_default().contains(needle))
    .unwrap()
}
