//! Two daemons started in-process (`daemon::serve`) on one SQLite file and
//! one Maildir (issue 17): the first takes the mailbox and the timers, the
//! second waits and is listed in the registry; every letter becomes one
//! ticket, every outbox row is sent once; when the first stops, the second
//! takes the mailbox and the timers and carries on — on SQLite and on
//! PostgreSQL (where the outbox is claimed with `FOR UPDATE SKIP LOCKED`
//! and a letter's transaction holds the lease row's lock).

mod common;
#[path = "common/engines.rs"]
mod engines;
#[path = "support/pg.rs"]
mod pg;

use common::TestDesk;
use engines::{Engine, EngineDesk};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ticketd::clock::{Clock, SystemClock};
use ticketd::store::cluster::DaemonRow;
use ticketd::store::Store;

fn appeal(i: usize) -> Vec<u8> {
    format!(
        "From: user{i}@example.com\r\nTo: support@sed.example.org\r\n\
         Subject: Не открывается карточка документа {i}\r\n\
         Message-ID: <cluster-{i}@test.example>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0200\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n\
         Организация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\n\
         Кабинет 305, 3 этаж\r\nТелефон: 8 (4012) 55-12-34\r\n\
         Описание проблемы: не открывается карточка документа номер {i}\r\n"
    )
    .into_bytes()
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn start(desk: &TestDesk) -> Running {
    let config = ticketd::desk::Desk::load(&desk.config).expect("the test desk's config loads");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(ticketd::daemon::serve(
        config,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        async move {
            let _ = stopped.await;
        },
    ));
    Running { stop, done }
}

async fn wait_for<T>(what: &str, secs: u64, mut done: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = done() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn daemons(desk: &EngineDesk) -> Vec<DaemonRow> {
    desk.store()
        .daemons_alive(chrono::Utc::now())
        .expect("daemons")
}

/// (holder, generation) of a lease.
fn lease(desk: &EngineDesk, name: &str) -> Option<(String, i64)> {
    let row = desk.query(&format!(
        "SELECT holder, generation FROM leases WHERE name = '{name}'"
    ));
    let (holder, generation) = row.split_once('|')?;
    Some((holder.to_string(), generation.parse().ok()?))
}

fn scalar(desk: &EngineDesk, sql: &str) -> i64 {
    desk.scalar(sql)
}

/// (holder, generation) of a lease, in the SQLite file.
fn lease_lite(desk: &TestDesk, name: &str) -> Option<(String, i64)> {
    desk.db()
        .query_row(
            "SELECT holder, generation FROM leases WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
}

fn scalar_lite(desk: &TestDesk, sql: &str) -> i64 {
    desk.db().query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_daemons_share_one_database_and_mailbox_and_fail_over() {
    two_daemons(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_daemons_share_one_postgres_database_and_mailbox_and_fail_over() {
    two_daemons(Engine::Postgres).await;
}

async fn two_daemons(engine: Engine) {
    let desk = EngineDesk::with(engine, |cfg| {
        cfg.remove("lines");
        cfg.remove("routes");
        let mut c = toml::Table::new();
        c.insert("lease_secs".into(), toml::Value::Integer(2));
        cfg.insert("cluster".into(), toml::Value::Table(c));
    });
    // The schema, for the checks' first reads.
    drop(desk.store());
    let a = start(&desk);
    let (a_id, _) = wait_for("the first daemon's mailbox lease", 5, || {
        lease(&desk, "mailbox.main")
    })
    .await;
    let b = start(&desk);
    // Both registered; the first holds the mailbox and the timers.
    let listed = wait_for("two daemons in the registry", 5, || {
        let d = daemons(&desk);
        (d.len() == 2).then_some(d)
    })
    .await;
    let first = listed.iter().find(|d| d.id == a_id).expect("a listed");
    assert_eq!(first.mailboxes.len(), 1, "{listed:?}");
    assert_eq!(first.mailboxes[0].name, "main");
    assert!(first.leader, "{listed:?}");
    let second = listed.iter().find(|d| d.id != a_id).expect("b listed");
    assert!(second.mailboxes.is_empty() && !second.leader, "{listed:?}");
    assert_eq!(second.pid, i64::from(std::process::id()));

    for i in 0..60 {
        desk.drop_letter(&format!("17000000{i:02}.cluster.test"), &appeal(i));
    }
    wait_for("60 tickets, their replies sent", 20, || {
        let t = scalar(&desk, "SELECT count(*) FROM tickets");
        let pending = scalar(
            &desk,
            "SELECT count(*) FROM outbox WHERE status = 'pending'",
        );
        (t == 60 && pending == 0).then_some(())
    })
    .await;
    // Read by the first daemon alone: the lease never changed hands.
    assert_eq!(lease(&desk, "mailbox.main"), Some((a_id.clone(), 1)));
    let sent = scalar(&desk, "SELECT count(*) FROM outbox WHERE status = 'sent'");
    assert!(sent >= 60, "a reply per ticket: {sent}");
    assert_eq!(
        scalar(&desk, "SELECT count(*) FROM outbox WHERE attempts <> 1"),
        0,
        "every row sent once, by one daemon"
    );
    assert_eq!(
        scalar(
            &desk,
            "SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL"
        ),
        0,
        "a mark frees the claim"
    );

    // The first stops: the second takes the mailbox (given back at once,
    // taken at its next look, a third of lease_secs) and the timers.
    let stopped = Instant::now();
    let _ = a.stop.send(());
    a.done.await.expect("joined").expect("a stopped cleanly");
    let (holder, generation) = wait_for("the survivor's lease", 5, || {
        lease(&desk, "mailbox.main").filter(|(h, _)| *h != a_id)
    })
    .await;
    assert_eq!(generation, 2);
    assert!(
        stopped.elapsed() < Duration::from_secs(4),
        "{:?}",
        stopped.elapsed()
    );
    let listed = daemons(&desk);
    assert_eq!(listed.len(), 1, "the stopped daemon left: {listed:?}");
    assert_eq!(listed[0].id, holder);
    wait_for("the survivor leads the timers", 5, || {
        daemons(&desk)
            .first()
            .filter(|d| d.leader && d.mailboxes.len() == 1)
            .map(|_| ())
    })
    .await;
    for i in 60..80 {
        desk.drop_letter(&format!("17000000{i:02}.cluster.test"), &appeal(i));
    }
    wait_for("80 tickets", 20, || {
        (scalar(&desk, "SELECT count(*) FROM tickets") == 80
            && scalar(
                &desk,
                "SELECT count(*) FROM outbox WHERE status = 'pending'",
            ) == 0)
            .then_some(())
    })
    .await;
    assert_eq!(
        scalar(&desk, "SELECT count(*) FROM outbox WHERE attempts <> 1"),
        0
    );
    assert_eq!(
        std::fs::read_dir(desk.root().join("maildir/new"))
            .expect("new/")
            .count(),
        0,
        "none left in new/"
    );
    let _ = b.stop.send(());
    b.done.await.expect("joined").expect("b stopped cleanly");
    assert!(daemons(&desk).is_empty(), "both left the registry");
}

/// `ticketd run --once` beside a daemon: it leaves a mailbox another
/// daemon holds alone (the letter stays in new/), reads it once the lease
/// has run out, and gives the lease back when done.
#[test]
fn run_once_reads_the_mailbox_only_under_its_lease() {
    let desk = TestDesk::with(|cfg| {
        cfg.remove("lines");
        cfg.remove("routes");
    });
    drop(Store::open(&desk.root().join("db.sqlite3"), Duration::from_secs(2)).expect("migrate"));
    let later = ticketd::store::ts(chrono::Utc::now() + chrono::Duration::hours(1));
    desk.db()
        .execute(
            "INSERT INTO leases(name, holder, generation, since, expires_at)
             VALUES ('mailbox.main', 'other-daemon', 7, ?1, ?1)",
            [&later],
        )
        .expect("a lease of another daemon");
    desk.db()
        .execute(
            "INSERT INTO daemons(id, host, pid, pid_ns, started_at, expires_at)
             VALUES ('other-daemon', 'another-host', 1, '', ?1, ?1)",
            [&later],
        )
        .expect("alive in the registry, on another host");
    desk.drop_letter("1700000000.once.test", &appeal(1));
    let out = desk.run_once();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_count = || {
        std::fs::read_dir(desk.root().join("maildir/new"))
            .expect("new/")
            .count()
    };
    assert_eq!(new_count(), 1, "left for the lease's holder");
    assert_eq!(scalar_lite(&desk, "SELECT count(*) FROM tickets"), 0);
    assert_eq!(
        lease_lite(&desk, "mailbox.main"),
        Some(("other-daemon".into(), 7))
    );

    // The holder went silent: its lease and heartbeat ran out.
    let past = ticketd::store::ts(chrono::Utc::now() - chrono::Duration::seconds(1));
    for table in ["leases", "daemons"] {
        desk.db()
            .execute(&format!("UPDATE {table} SET expires_at = ?1"), [&past])
            .expect("expire");
    }
    let out = desk.run_once();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(new_count(), 0);
    assert_eq!(scalar_lite(&desk, "SELECT count(*) FROM tickets"), 1);
    let (holder, generation) = lease_lite(&desk, "mailbox.main").expect("lease");
    assert_ne!(holder, "other-daemon");
    assert_eq!(generation, 8, "taken under the next generation");
    assert_eq!(
        scalar_lite(
            &desk,
            "SELECT count(*) FROM leases WHERE expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        ),
        0,
        "given back at the end"
    );
    assert_eq!(
        scalar_lite(
            &desk,
            "SELECT count(*) FROM daemons WHERE id <> 'other-daemon'"
        ),
        0,
        "left the registry"
    );
}
