//! The vital signs in-process (issue 16, "Must show" 4, the part without
//! mail servers): `/metrics` parsed by a Prometheus text-format parser with
//! the counters moving as letters arrive; `/readyz` 200, then 503 with its
//! reason when the oldest outgoing letter waits too long (the SMTP server
//! is unreachable) on a manual clock; `/healthz` 200 throughout; the
//! letters counted by mailbox (issue 17), on SQLite and on PostgreSQL,
//! with the report's `totals.by_mailbox` from the same letters.
//! The IMAP cases (server stopped, server hanging) are in
//! `tests/mail_metrics.rs`.

mod common;
#[path = "common/engines.rs"]
mod engines;
#[path = "support/pg.rs"]
mod pg;

use chrono::{DateTime, Duration, Utc};
use common::TestDesk;
use engines::{Engine, EngineDesk};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;
use ticketd::clock::{Clock, ManualClock};
use ticketd::desk::Desk;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `GET path`: the status code and the body.
pub fn get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new()); // not listening yet
    };
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (code, body)
}

/// The samples of `/metrics`, parsed: (name, labels) → value.
pub fn scrape(port: u16) -> prometheus_parse::Scrape {
    let (code, body) = get(port, "/metrics");
    assert_eq!(code, 200, "{body}");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

pub fn value(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

fn appeal(n: u32) -> Vec<u8> {
    format!(
        "From: user{n}@example.com\r\nTo: support@sed.example.org\r\nSubject: Принтер {n}\r\n\
         Message-ID: <metrics-{n}@test.example>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0200\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n\
         Организация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\n\
         Кабинет 305, 3 этаж\r\nТелефон: 8 (4012) 55-12-34\r\n\
         Описание проблемы: не открывается карточка документа\r\n"
    )
    .into_bytes()
}

async fn until<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_letters_and_readyz_names_a_stale_outbox() {
    let port = free_port();
    let smtp = free_port(); // nothing listens there: letters stay pending
    let desk = TestDesk::with(|cfg| {
        let m: toml::Table = toml::from_str(&format!(
            "listen = \"127.0.0.1:{port}\"\nrefresh_secs = 1\nstale_outbox_secs = 600"
        ))
        .expect("metrics");
        cfg.insert("metrics".into(), toml::Value::Table(m));
        let o: toml::Table = toml::from_str(&format!(
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {smtp}\ntls = \"none\"\nretry_base_secs = 3600"
        ))
        .expect("outgoing");
        cfg.insert("outgoing".into(), toml::Value::Table(o));
    });
    let config = Desk::load(&desk.config).expect("config loads");
    let t0: DateTime<Utc> = "2026-12-07T08:00:00Z".parse().expect("time");
    let clock = ManualClock::new(t0);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(ticketd::daemon::serve(
        config,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        async move {
            let _ = stopped.await;
        },
    ));
    let p = port;
    until("ready", 10, || (get(p, "/readyz").0 == 200).then_some(())).await;
    assert_eq!(get(p, "/healthz"), (200, "ok\n".to_string()));
    let before = scrape(p);
    let created =
        |s: &prometheus_parse::Scrape| value(s, "ticketd_letters_total", &[("outcome", "created")]);
    assert_eq!(created(&before), Some(0.0));
    assert_eq!(value(&before, "ticketd_outbox_backlog", &[]), Some(0.0));
    assert!(value(&before, "process_resident_memory_bytes", &[]).is_some_and(|v| v > 0.0));

    desk.drop_letter("1.metrics.test", &appeal(1));
    desk.drop_letter("2.metrics.test", &appeal(2));
    let after = until("two letters counted", 10, || {
        let s = scrape(p);
        (created(&s) == Some(2.0)).then_some(s)
    })
    .await;
    let tickets: f64 = after
        .samples
        .iter()
        .filter(|x| x.metric == "ticketd_tickets")
        .filter_map(|x| match x.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
        .sum();
    assert_eq!(tickets, 2.0);
    assert!(value(&after, "ticketd_outbox_backlog", &[]).is_some_and(|v| v >= 2.0));
    assert_eq!(get(p, "/readyz").0, 200, "letters pending, not yet too old");

    // Eleven minutes later the replies still wait: not ready, and why.
    clock.advance(Duration::minutes(11));
    let body = until("readyz 503", 10, || {
        let (code, body) = get(p, "/readyz");
        (code == 503 && body.contains("outbox")).then_some(body)
    })
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).expect("readyz JSON");
    assert_eq!(v["ready"], false);
    let reasons = v["reasons"].as_array().expect("reasons");
    assert!(
        reasons.iter().any(|r| r
            .as_str()
            .is_some_and(|r| r.starts_with("outbox: the oldest pending letter waits"))),
        "{v}"
    );
    assert_eq!(get(p, "/healthz").0, 200, "healthy all the same");
    let s = scrape(p);
    assert!(value(&s, "ticketd_outbox_oldest_age_seconds", &[]).is_some_and(|v| v >= 660.0));
    assert_eq!(value(&s, "ticketd_ready", &[]), Some(0.0));
    assert_eq!(get(p, "/nothing").0, 404);

    let _ = stop.send(());
    daemon
        .await
        .expect("joined")
        .expect("the daemon stops cleanly");
}

/// Issue 17: `ticketd_letters_total` by outcome and mailbox. Two Maildir
/// mailboxes, `main` and `north`: both listed at 0 before any letter; a
/// letter into `north` moves `north`'s counter and not `main`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_are_counted_by_mailbox() {
    counted_by_mailbox(Engine::Sqlite).await;
}

/// The same on PostgreSQL (migration 9's twin: `letters.mailbox`, and
/// `report_rows.mailbox` kept by its triggers for the report).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_are_counted_by_mailbox_on_postgres() {
    counted_by_mailbox(Engine::Postgres).await;
}

async fn counted_by_mailbox(engine: Engine) {
    let port = free_port();
    let desk = EngineDesk::with(engine, |cfg| {
        let m: toml::Table =
            toml::from_str(&format!("listen = \"127.0.0.1:{port}\"\nrefresh_secs = 1"))
                .expect("metrics");
        cfg.insert("metrics".into(), toml::Value::Table(m));
        let Some(toml::Value::Table(mut main)) = cfg.remove("mailbox") else {
            panic!("[mailbox]")
        };
        let mut north = main.clone();
        main.insert("name".into(), "main".into());
        north.insert("name".into(), "north".into());
        let path = main["path"].as_str().expect("path").to_string();
        north.insert("path".into(), format!("{path}-north").into());
        cfg.insert(
            "mailboxes".into(),
            toml::Value::Array(vec![main.into(), north.into()]),
        );
    });
    let north = desk.root().join("maildir-north");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(north.join(sub)).expect("north maildir");
    }
    let config = Desk::load(&desk.config).expect("config loads");
    let clock = ManualClock::new("2026-12-07T08:00:00Z".parse().expect("time"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(ticketd::daemon::serve(
        config,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        async move {
            let _ = stopped.await;
        },
    ));
    let p = port;
    until("ready", 10, || (get(p, "/readyz").0 == 200).then_some(())).await;
    let created = |s: &prometheus_parse::Scrape, m: &str| {
        value(
            s,
            "ticketd_letters_total",
            &[("outcome", "created"), ("mailbox", m)],
        )
    };
    let before = scrape(p);
    assert_eq!(
        (created(&before, "main"), created(&before, "north")),
        (Some(0.0), Some(0.0))
    );
    std::fs::write(north.join("tmp/1.metrics.test"), appeal(7)).expect("write");
    std::fs::rename(
        north.join("tmp/1.metrics.test"),
        north.join("new/1.metrics.test"),
    )
    .expect("deliver");
    let after = until("the north letter counted", 15, || {
        let s = scrape(p);
        (created(&s, "north") == Some(1.0)).then_some(s)
    })
    .await;
    assert_eq!(created(&after, "main"), Some(0.0), "{engine:?}");
    assert_eq!(desk.query("SELECT mailbox FROM letters"), "north");
    // The report counts the ticket under its mailbox, `main` listed at 0.
    let out = desk.run(
        &[
            "report",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--format",
            "json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{engine:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(
        report["totals"]["by_mailbox"],
        serde_json::json!({"main": 0, "north": 1}),
        "{engine:?}"
    );

    let _ = stop.send(());
    daemon
        .await
        .expect("joined")
        .expect("the daemon stops cleanly");
}
