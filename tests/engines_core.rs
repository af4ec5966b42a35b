//! The core pipeline through the real binary on both engines (issue 17):
//! the same letter by two paths is one ticket and one reply, the commands
//! read what the daemon wrote, and a SQLite desk copied to PostgreSQL
//! (`ticketd db copy`) carries on there with the next ticket numbers.

mod common;
#[path = "common/engines.rs"]
mod engines;
#[path = "support/pg.rs"]
mod pg;

use common::{body_text, header, TestDesk};
use engines::{use_postgres, Engine, EngineDesk, BOTH};
use serde_json::Value;
use std::process::Output;

/// A complete Table 2 letter from `n`, with a PNG attached when `file`.
fn letter(n: usize, file: bool) -> Vec<u8> {
    let text = format!(
        "Наименование органа исполнительной власти: Министерство финансов\r
Ф.И.О. пользователя: Петров Пётр Петрович {n}\r
Местонахождение: каб. {room}, {floor} этаж\r
Номер контактного телефона: +7 (4012) 55-00-{tail:02}\r
Описание возникшей проблемы: Не открывается карточка документа № {n}.\r
",
        room = 100 + n,
        floor = 1 + n % 5,
        tail = n % 100
    );
    let head = format!(
        "From: User {n} <user{n}@example.com>\r
To: support@sed.example.org\r
Subject: Не работает почта {n}\r
Message-ID: <letter-{n}@example.com>\r
Date: Mon, 02 Mar 2026 10:00:00 +0300\r
MIME-Version: 1.0\r
"
    );
    if !file {
        return format!(
            "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
        )
        .into_bytes();
    }
    format!(
        "{head}Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r
--b\r\nContent-Type: image/png; name=\"screen{n}.png\"\r
Content-Disposition: attachment; filename=\"screen{n}.png\"\r
Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n--b--\r\n",
        png = common::base64(common::PNG)
    )
    .into_bytes()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn json(out: &Output, what: &str) -> Value {
    serde_json::from_str(&ok(out, what)).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// One engine's run of the core path: stdin, then the same letter through
/// the Maildir (`run --once`) is a duplicate; a second letter with a file;
/// every reading command answers from the same rows.
fn core_path(engine: Engine) {
    let desk = EngineDesk::with(engine, |cfg| {
        cfg.remove("lines");
        cfg.remove("routes");
    });
    let raw = letter(1, false);
    let (first, code) = desk.ingest(&raw);
    assert_eq!(code, 0, "{engine:?}: {first}");
    assert_eq!(first["outcome"], "created", "{engine:?}");
    let id = first["ticket"].as_str().expect("ticket id").to_string();
    assert!(id.ends_with("-000001"), "{engine:?}: {id}");

    let mut again = b"Received: from mx by support; Mon, 02 Mar 2026 10:00:01 +0300\r\n".to_vec();
    again.extend_from_slice(&raw);
    desk.drop_letter("1700000000.M1P1.host", &again);
    ok(&desk.run_once(), "run --once");
    assert_eq!(desk.list_json().len(), 1, "{engine:?}: one ticket");
    let outbox = desk.outbox();
    assert_eq!(outbox.len(), 1, "{engine:?}: one reply");
    assert_eq!(
        header(&outbox[0], "to").as_deref(),
        Some("user1@example.com")
    );
    assert!(body_text(&outbox[0]).contains(&id));
    assert!(std::fs::read_dir(desk.root().join("maildir/new"))
        .expect("maildir")
        .next()
        .is_none());
    let (third, _) = desk.ingest(&raw);
    assert_eq!(third["outcome"], "duplicate", "{engine:?}");
    assert_eq!(third["ticket"], first["ticket"]);

    // A second letter, with a picture: the next number, the file kept.
    let (second, code) = desk.ingest(&letter(2, true));
    assert_eq!(code, 0, "{engine:?}: {second}");
    let id2 = second["ticket"]
        .as_str()
        .expect("second ticket")
        .to_string();
    assert!(id2.ends_with("-000002"), "{engine:?}: {id2}");
    let shown = desk.show(&id2);
    assert_eq!(shown["id"], id2.as_str());
    assert_eq!(
        shown["attachments"][0]["filename"], "screen2.png",
        "{shown}"
    );
    assert!(shown["history"].as_array().is_some_and(|h| !h.is_empty()));

    // The readers: list, status, outbox, quarantine, report.
    let list = desk.list_json();
    assert_eq!(list.len(), 2, "{engine:?}");
    assert_eq!(list[0]["id"], id2.as_str(), "newest first");
    let status = json(&desk.run(&["status", "--json"], None), "status");
    assert!(status.to_string().contains("new"), "{engine:?}: {status}");
    let outbox = json(
        &desk.run(&["outbox", "list", "--json"], None),
        "outbox list",
    );
    assert_eq!(
        outbox.as_array().map(Vec::len),
        Some(2),
        "{engine:?}: {outbox}"
    );
    ok(&desk.run(&["quarantine", "list"], None), "quarantine list");
    let report = json(
        &desk.run(
            &[
                "report",
                "--from",
                "2026-01-01",
                "--to",
                "2026-12-31",
                "--format",
                "json",
            ],
            None,
        ),
        "report",
    );
    assert!(!report.is_null(), "{engine:?}");
    // Schema 9 on both engines: both letters came through no recorded
    // mailbox (`ingest`) and are shown under `main`.
    assert_eq!(
        report["totals"]["by_mailbox"],
        serde_json::json!({"main": 2}),
        "{engine:?}: {report}"
    );

    // The store itself, through the engine seam: the same rows.
    let store = desk.store();
    let t = store
        .ticket_full(&id2)
        .expect("read")
        .expect("the second ticket");
    assert_eq!(t.attachments.len(), 1);
    assert_eq!(
        store.count_by_status().expect("counts"),
        vec![("new".to_string(), 2)]
    );
    // The metrics' letters by outcome and mailbox (none recorded: `main`).
    let counts = store.vital_counts().expect("vital counts");
    let created: Vec<_> = counts
        .letters
        .iter()
        .filter(|(o, _, _)| o == "created")
        .collect();
    assert_eq!(
        created,
        [&("created".to_string(), "main".to_string(), 2)],
        "{engine:?}: {:?}",
        counts.letters
    );
}

#[test]
fn core_path_on_sqlite_and_postgres() {
    for engine in BOTH {
        core_path(engine);
    }
}

/// A SQLite desk with tickets, copied to PostgreSQL by `ticketd db copy`,
/// then run from PostgreSQL: the old tickets are there, duplicates are
/// still recognised, and the next letter gets the next number.
#[test]
fn after_db_copy_the_daemon_carries_on_with_the_same_numbers() {
    let pg = pg::Cluster::start();
    pg.createdb("moved");
    let lite = TestDesk::plain();
    let mut ids = Vec::new();
    for n in 1..=3 {
        let (v, code) = lite.ingest(&letter(n, n == 2));
        assert_eq!(code, 0, "{v}");
        ids.push(v["ticket"].as_str().expect("id").to_string());
    }
    let url = pg.url("moved");
    let pw = pg.password_file.display().to_string();
    ok(
        &lite.run(&["db", "copy", "--to", &url, "--password-file", &pw], None),
        "db copy",
    );
    // The same desk, its database now PostgreSQL.
    let text = std::fs::read_to_string(&lite.config).expect("config");
    let mut cfg: toml::Table = text.parse().expect("config parses");
    use_postgres(&mut cfg, &pg, "moved");
    std::fs::write(&lite.config, toml::to_string(&cfg).expect("toml")).expect("write config");

    let listed = lite.list_json();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        lite.show(&ids[1])["attachments"][0]["filename"],
        "screen2.png"
    );
    let (dup, _) = lite.ingest(&letter(1, false));
    assert_eq!(dup["outcome"], "duplicate", "{dup}");
    assert_eq!(dup["ticket"], ids[0].as_str());
    let (next, code) = lite.ingest(&letter(4, false));
    assert_eq!(code, 0, "{next}");
    let last: u32 = ids[2]
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("number");
    let want = format!(
        "{}-{:06}",
        ids[2].rsplit_once('-').expect("prefix").0,
        last + 1
    );
    assert_eq!(next["ticket"], want.as_str(), "{next}");
    assert_eq!(
        pg.query("moved", "SELECT count(*) FROM tickets"),
        "4",
        "the new ticket is in PostgreSQL"
    );
}

/// Files under the folder `dir` (recursively), by name.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with(".web-upload") {
                out.extend(files_in(&p));
            }
        } else {
            out.push(e.file_name().to_string_lossy().to_string());
        }
    }
    out
}

/// A kept attachment is in the folder on SQLite and in the database on
/// PostgreSQL (none in the folder), and is forwarded from there with the
/// routed letter.
#[test]
fn attachments_live_in_the_folder_on_sqlite_and_in_the_database_on_postgres() {
    for engine in BOTH {
        let desk = EngineDesk::with(engine, |_| {});
        let (v, code) = desk.ingest(&letter(7, true));
        assert_eq!(code, 0, "{engine:?}: {v}");
        let cfg = ticketd::desk::Desk::load(&desk.config).expect("config");
        let on_disk = files_in(&cfg.attachments.dir);
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(common::PNG))
        };
        match &desk.cluster {
            None => assert_eq!(on_disk, vec![sha.clone()], "SQLite: the folder"),
            Some(pg) => {
                assert!(
                    on_disk.is_empty(),
                    "PostgreSQL: nothing in the folder: {on_disk:?}"
                );
                assert_eq!(
                    pg.query("desk", "SELECT sha256, size FROM attachment_blobs"),
                    format!("{sha}|{}", common::PNG.len())
                );
            }
        }
        // The routed letter carries the file, read back from where it is.
        ok(&desk.run_once(), "run --once");
        let routed: Vec<Vec<u8>> = desk
            .outbox()
            .into_iter()
            .filter(|l| header(l, "to").is_some_and(|t| !t.contains("user7@")))
            .collect();
        assert!(!routed.is_empty(), "{engine:?}: a letter to a line");
        let b64 = common::base64(common::PNG);
        assert!(
            routed.iter().any(|l| String::from_utf8_lossy(l)
                .replace("\r\n", "")
                .contains(&b64)),
            "{engine:?}: the file is attached to the routed letter"
        );
    }
}

/// The same letter through several `ingest` processes at once (an MTA
/// delivering it twice beside itself), on both engines: exactly one is
/// `created`, the others `duplicate` — at once, or after exit 75 and the
/// MTA's retry — and there is one ticket. A process that finds the
/// identity stored between its duplicate check and its commit (the unique
/// key refuses the commit) answers `duplicate`, not exit 1 (which an MTA
/// would bounce): on SQLite that race is lost in most rounds.
#[test]
fn the_same_letter_ingested_at_once_is_one_ticket_on_both_engines() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let desk = EngineDesk::with(engine, |cfg| {
            cfg.remove("lines");
            cfg.remove("routes");
        });
        // The schema first, so that the processes race on the letter only.
        drop(desk.store());
        for round in 0..8 {
            let raw = letter(100 + round, false);
            let outcomes: Vec<String> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| loop {
                            let (v, code) = desk.ingest(&raw);
                            match code {
                                0 => return v["outcome"].as_str().unwrap_or_default().to_string(),
                                75 => continue,
                                other => panic!("{engine:?}: exit {other}: {v}"),
                            }
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().expect("ingest thread"))
                    .collect()
            });
            let created = outcomes.iter().filter(|o| *o == "created").count();
            let duplicate = outcomes.iter().filter(|o| *o == "duplicate").count();
            assert_eq!((created, duplicate), (1, 3), "{engine:?}: {outcomes:?}");
        }
        assert_eq!(
            desk.list_json().len(),
            8,
            "{engine:?}: one ticket per letter"
        );
    }
}

/// `ticketd run` on PostgreSQL while the server restarts (every connection
/// closed, as in a failover): the daemon makes its connections again and a
/// letter delivered after the restart becomes a ticket and is answered.
#[test]
fn the_daemon_carries_on_after_the_postgres_server_restarts() {
    let desk = EngineDesk::with(Engine::Postgres, |cfg| {
        cfg.remove("lines");
        cfg.remove("routes");
    });
    let pg = desk.cluster.as_ref().expect("a PostgreSQL desk");
    /// The daemon, killed when the test ends, however it ends.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let daemon = Running(
        desk.command()
            .arg("run")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ticketd run"),
    );
    let tickets =
        |n: &str| pg.try_query("desk", "SELECT count(*) FROM tickets").ok() == Some(n.into());
    let replies = || desk.outbox().len();
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done() {
            assert!(
                std::time::Instant::now() < until,
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    desk.drop_letter("1700000001.before.host", &letter(1, false));
    wait("the first ticket and its reply", &|| {
        tickets("1") && replies() == 1
    });
    pg.restart();
    desk.drop_letter("1700000002.after.host", &letter(2, true));
    wait("the ticket after the restart and its reply", &|| {
        tickets("2") && replies() == 2
    });
    drop(daemon);
    let list = desk.list_json();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(std::fs::read_dir(desk.root().join("maildir/new"))
        .expect("maildir")
        .next()
        .is_none());
}
