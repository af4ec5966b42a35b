//! A desk with `[web]`, served in-process on a real listener on
//! 127.0.0.1:0 (`ticketd::web::serve`), a manual clock, and a plain
//! HTTP/1.1 client over a TCP socket (the tests see status, headers and
//! the page as a browser would receive them).
#![allow(dead_code)]

use super::common::TestDesk;
use chrono::{DateTime, Duration, Utc};
use std::net::SocketAddr;
use std::sync::Arc;
use ticketd::clock::{Clock, ManualClock};
use ticketd::pipeline::{Handle, Pipeline};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const USER: &str = "ivanova@minfin.example.org";

/// Wednesday 2 December 2026, 10:00 at the desk: working time.
pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("time")
}

pub struct Site {
    pub desk: TestDesk,
    pub handle: Handle,
    pub clock: ManualClock,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The form's one-time token.
    pub fn token(&self) -> String {
        let re = regex::Regex::new(r#"name="token" value="([^"]+)""#).expect("re");
        re.captures(&self.body)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no token in the page:\n{}", self.body))
    }

    /// The ticket number on a result or status page.
    pub fn ticket(&self) -> Option<String> {
        let re = regex::Regex::new(r#"id="ticket">([A-Z]+-\d{4}-\d{6})<"#).expect("re");
        re.captures(&self.body).map(|c| c[1].to_string())
    }

    /// The status link's path (`/t/…`).
    pub fn link_path(&self) -> Option<String> {
        let re =
            regex::Regex::new(r#"id="status-link" href="https?://[^/"]+(/t/[^"]+)""#).expect("re");
        re.captures(&self.body).map(|c| c[1].to_string())
    }
}

/// One part of a multipart form.
pub enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

/// Every field of the form, filled in.
pub fn full_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("organization", "Министерство финансов"),
        ("full_name", "Иванова Мария Сергеевна"),
        ("location", "каб. 305, 3 этаж"),
        ("phone", "8 (4012) 55-12-34, доб. 123"),
        ("email", USER),
        (
            "description",
            "Не открывается карточка документа: ошибка 500.",
        ),
        ("note", "Работаю до 18:00"),
    ]
}

pub const BOUNDARY: &str = "----ticketdTestBoundary7MA4YWxk";

/// A multipart body.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut b = Vec::new();
    for p in parts {
        b.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::Text(k, v) => {
                b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(k, name, data) => {
                b.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n"
                    )
                    .as_bytes(),
                );
                b.extend_from_slice(data);
                b.extend_from_slice(b"\r\n");
            }
        }
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

impl Site {
    /// A site on the example desk; `change` edits the config table
    /// (`[web]` is set already, `min_fill_secs` 3).
    pub async fn start(change: impl FnOnce(&mut toml::Table)) -> Site {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let desk = TestDesk::with(|cfg| {
            let web: toml::Table = toml::from_str(&format!(
                "listen = \"127.0.0.1:1\"\npublic_url = \"http://{addr}\"\nmin_fill_secs = 3\nmax_appeals_per_ip_per_hour = 20\n"
            ))
            .expect("web");
            cfg.insert("web".into(), toml::Value::Table(web));
            change(cfg);
        });
        let cfg = Arc::new(ticketd::desk::Desk::load(&desk.config).expect("config loads"));
        let mut p = Pipeline::open(cfg.clone()).expect("pipeline");
        let clock = ManualClock::new(start());
        p.set_clock(Arc::new(clock.clone()) as Arc<dyn Clock>);
        let handle = Handle::new(p);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let h = handle.clone();
        tokio::spawn(async move {
            ticketd::web::serve(listener, h, cfg, async move {
                let _ = stopped.await;
            })
            .await
            .expect("web server");
        });
        Site {
            desk,
            handle,
            clock,
            addr,
            stop: Some(stop),
        }
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }

    /// Send a request (head lines without the request line) and body.
    pub async fn request(&self, method: &str, path: &str, head: &str, body: &[u8]) -> Resp {
        let mut s = TcpStream::connect(self.addr).await.expect("connect");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n{head}\r\n",
            self.addr,
            body.len()
        );
        s.write_all(req.as_bytes()).await.expect("write head");
        s.write_all(body).await.expect("write body");
        read_response(s).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request("GET", path, "", b"").await
    }

    /// POST /appeal with `parts`, from the client address `ip` (told by
    /// the "proxy" on loopback).
    pub async fn post_appeal(&self, parts: &[Part<'_>], ip: &str) -> Resp {
        let head = format!(
            "Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nX-Forwarded-For: {ip}\r\n"
        );
        self.request("POST", "/appeal", &head, &multipart(parts))
            .await
    }

    /// Open the form, wait past the minimum fill time, send `fields` and
    /// `files`.
    pub async fn appeal(&self, fields: &[(&str, &str)], files: &[(&str, &[u8])], ip: &str) -> Resp {
        let token = self.get("/").await.token();
        self.advance(5);
        let mut parts = vec![Part::Text("token", &token)];
        parts.extend(fields.iter().map(|(k, v)| Part::Text(k, v)));
        parts.extend(files.iter().map(|(n, d)| Part::File("attachments", n, d)));
        self.post_appeal(&parts, ip).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        self.request(
            "POST",
            path,
            "Content-Type: application/x-www-form-urlencoded\r\n",
            body.join("&").as_bytes(),
        )
        .await
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.desk
            .db()
            .query_row(sql, [], |r| r.get(0))
            .expect("count")
    }

    /// `tickets show ID --json` through the binary.
    pub fn show(&self, id: &str) -> serde_json::Value {
        self.desk.show(id)
    }

    /// Outbox rows (kind, recipients JSON, raw).
    pub fn outbox(&self) -> Vec<(String, String, Vec<u8>)> {
        let db = self.desk.db();
        let mut st = db
            .prepare("SELECT kind, recipients, raw FROM outbox ORDER BY id")
            .expect("prepare");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Percent-encoding for a urlencoded form.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Read a whole response (the server closes: `Connection: close`).
pub async fn read_response(mut s: TcpStream) -> Resp {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..(i + 2 + n).min(b.len())]);
        b = &b[(i + 4 + n).min(b.len())..];
    }
    out
}
