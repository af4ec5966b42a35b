//! The daemon started in-process through its composition root
//! (`daemon::serve`): a Maildir source, a manual clock and the file outbox;
//! no mail servers, no sleeping until deadlines. A letter becomes a ticket,
//! is routed to the 1st line, and escalates twice as the test moves the
//! clock past each deadline — on SQLite and on PostgreSQL (issue 17).

mod common;
#[path = "common/engines.rs"]
mod engines;
#[path = "support/pg.rs"]
mod pg;

use chrono::{DateTime, Duration, Utc};
use common::TestDesk;
use engines::{Engine, EngineDesk};
use std::sync::Arc;
use std::time::Instant;
use ticketd::clock::{Clock, ManualClock};

/// Monday 7 December 2026, 10:00 in Kaliningrad (the example desk's zone):
/// inside working hours, so the deadline is counted from now.
fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("valid time")
}

fn appeal() -> Vec<u8> {
    "From: user1@example.com\r\nTo: support@sed.example.org\r\n\
     Subject: Не открывается карточка документа\r\n\
     Message-ID: <inprocess-1@test.example>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0200\r\n\
     MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
     Content-Transfer-Encoding: 8bit\r\n\r\n\
     Организация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\n\
     Кабинет 305, 3 этаж\r\nТелефон: 8 (4012) 55-12-34\r\n\
     Описание проблемы: не открывается карточка документа\r\n"
        .as_bytes()
        .to_vec()
}

/// The ticket's line and its history actions, read through the store
/// (either engine).
fn state(store: &ticketd::store::Store) -> Option<(String, i64, Vec<String>)> {
    let list = store.tickets(&Default::default()).ok()?;
    let id = list.first()?.id.clone();
    let t = store.ticket_full(&id).ok()??;
    let actions = t.history.iter().map(|h| h.action.clone()).collect();
    // The line read after the history: at least as new as what it shows
    // (the daemon may commit between the two reads).
    let line = store.ticket(&id).ok()??.line.number();
    Some((id, i64::from(line), actions))
}

fn count(actions: &[String], action: &str) -> usize {
    actions.iter().filter(|a| *a == action).count()
}

/// Poll (every 5 ms, at most 1.5 s) until `done` holds.
async fn wait_for<T>(what: &str, mut done: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + std::time::Duration::from_millis(1500);
    loop {
        if let Some(v) = done() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The recipients (To) of the letters in the file outbox.
fn recipients(desk: &TestDesk) -> Vec<String> {
    desk.outbox()
        .iter()
        .filter_map(|l| common::header(l, "to"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letter_to_ticket_routed_escalated_twice_on_a_manual_clock() {
    routed_escalated_twice(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letter_to_ticket_routed_escalated_twice_on_postgres() {
    routed_escalated_twice(Engine::Postgres).await;
}

async fn routed_escalated_twice(engine: Engine) {
    let desk = EngineDesk::with(engine, |cfg| {
        // Every appeal goes to the 1st line first.
        let route: toml::Table =
            toml::from_str("name = \"all to the 1st line\"\nline = 1").expect("route");
        cfg.insert(
            "routes".into(),
            toml::Value::Array(vec![toml::Value::Table(route)]),
        );
    });
    // The wall time counts from here (a PostgreSQL cluster is started).
    let started = Instant::now();
    let config = ticketd::desk::Desk::load(&desk.config).expect("the test desk's config loads");
    let clock = ManualClock::new(monday_morning());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(ticketd::daemon::serve(
        config,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        async move {
            let _ = stopped.await;
        },
    ));
    let store = desk.store();

    desk.drop_letter("1733565600.inprocess.test", &appeal());
    let (id, line, actions) = wait_for("the ticket, routed", || {
        state(&store).filter(|(_, _, a)| count(a, "routed") >= 1)
    })
    .await;
    assert_eq!(line, 1, "routed to the 1st line: {actions:?}");
    assert_eq!(count(&actions, "escalated"), 0, "nothing is due yet");

    // Past the first deadline: line 2.
    clock.advance(Duration::days(30));
    let (_, line, _) = wait_for("the first escalation", || {
        state(&store).filter(|(_, _, a)| count(a, "escalated") >= 1)
    })
    .await;
    assert_eq!(line, 2, "{id} escalated to the 2nd line");

    // Past the deadline extended at the escalation: line 3.
    clock.advance(Duration::days(30));
    let (_, line, actions) = wait_for("the second escalation", || {
        state(&store).filter(|(_, _, a)| count(a, "escalated") >= 2)
    })
    .await;
    assert_eq!(line, 3, "{id} escalated to the 3rd line: {actions:?}");
    assert_eq!(count(&actions, "escalated"), 2, "once per deadline");

    // The letters reach the file outbox: the registration to the user and
    // the routed letters to the 2nd and 3rd lines.
    let to = wait_for("the letters in the outbox", || {
        let to = recipients(&desk);
        let has = |who: &str| to.iter().any(|t| t.contains(who));
        (has("user1@example.com") && has("line2@sed.example.org") && has("line3@")).then_some(to)
    })
    .await;
    assert!(
        to.iter().any(|t| t.contains("line1@sed.example.org")),
        "{to:?}"
    );
    // The reply to the user: the automatic answer about this ticket.
    let reply = desk
        .outbox()
        .into_iter()
        .find(|l| common::header(l, "to").is_some_and(|t| t.contains("user1@example.com")))
        .expect("the reply to the user is in the outbox");
    assert_eq!(
        common::header(&reply, "x-ticketd-ticket").as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        common::header(&reply, "auto-submitted").as_deref(),
        Some("auto-replied")
    );
    assert!(common::body_text(&reply).contains(&id));

    stop.send(()).expect("the daemon is running");
    tokio::time::timeout(std::time::Duration::from_secs(5), daemon)
        .await
        .expect("the daemon stops when told")
        .expect("no panic")
        .expect("serve returns Ok");
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "took {took:?} of wall time"
    );
}

/// With `[web]`, the composition root serves the form beside intake
/// (as `ticketd run` does), and shutdown frees the port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_the_web_form_until_shutdown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let desk = TestDesk::with(|cfg| {
        let web: toml::Table = toml::from_str(&format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n"
        ))
        .expect("web");
        cfg.insert("web".into(), toml::Value::Table(web));
    });
    let config = ticketd::desk::Desk::load(&desk.config).expect("config loads");
    let clock = ManualClock::new(monday_morning());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(ticketd::daemon::serve(
        config,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        async move {
            let _ = stopped.await;
        },
    ));
    let get = || async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.ok()?;
        Some(String::from_utf8_lossy(&out).to_string())
    };
    let mut page = None;
    for _ in 0..300 {
        page = get().await;
        if page.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let page = page.expect("the form is served");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("name=\"token\""));
    stop.send(()).expect("running");
    tokio::time::timeout(std::time::Duration::from_secs(5), daemon)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("Ok");
    assert!(get().await.is_none(), "the port is closed after shutdown");
}
