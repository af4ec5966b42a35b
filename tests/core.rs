//! The core pipeline through the real binary: exactly once across paths and
//! crashes, exit 75 when the database cannot take a letter, config errors,
//! the contract's JSON.

mod common;

use common::{body_text, header, TestDesk};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A complete Table 2 letter from `n`.
fn letter(n: usize) -> Vec<u8> {
    format!(
        "From: User {n} <user{n}@example.com>\r
To: support@sed.example.org\r
Subject: =?utf-8?b?0J3QtSDRgNCw0LHQvtGC0LDQtdGCINC/0L7Rh9GC0LA=?= {n}\r
Message-ID: <letter-{n}@example.com>\r
Date: Mon, 02 Mar 2026 10:00:00 +0300\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 8bit\r
\r
Наименование органа исполнительной власти: Министерство финансов\r
Ф.И.О. пользователя: Петров Пётр Петрович {n}\r
Местонахождение: каб. {room}, {floor} этаж\r
Номер контактного телефона: +7 (4012) 55-00-{tail:02}\r
Описание возникшей проблемы: Не открывается карточка документа № {n}.\r
",
        room = 100 + n,
        floor = 1 + n % 5,
        tail = n % 100
    )
    .into_bytes()
}

#[test]
fn same_letter_by_stdin_then_maildir_is_one_ticket_one_reply() {
    let desk = TestDesk::plain();
    let raw = letter(1);
    let (first, code) = desk.ingest(&raw);
    assert_eq!(code, 0);
    assert_eq!(first["outcome"], "created");
    let id = first["ticket"].as_str().expect("ticket id").to_string();
    assert!(
        regex::Regex::new(r"^TP-\d{4}-\d{6}$")
            .unwrap()
            .is_match(&id),
        "{id}"
    );
    // The same letter again through the Maildir, with a trace header added by
    // the other delivery path.
    let mut again = b"Received: from mx by support; Mon, 02 Mar 2026 10:00:01 +0300\r\n".to_vec();
    again.extend_from_slice(&raw);
    desk.drop_letter("1700000000.M1P1.host", &again);
    let out = desk.run_once();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(desk.list_json().len(), 1, "one ticket");
    let outbox = desk.outbox();
    assert_eq!(outbox.len(), 1, "one reply");
    let reply = &outbox[0];
    assert_eq!(header(reply, "to").as_deref(), Some("user1@example.com"));
    assert!(header(reply, "subject")
        .unwrap_or_default()
        .starts_with(&format!("[{id}]")));
    assert_eq!(
        header(reply, "auto-submitted").as_deref(),
        Some("auto-replied")
    );
    assert_eq!(
        header(reply, "in-reply-to").as_deref(),
        Some("letter-1@example.com")
    );
    assert!(body_text(reply).contains(&id), "reply names the ticket");
    // The Maildir letter was acknowledged: moved to cur/ with the S flag.
    assert!(std::fs::read_dir(desk.root().join("maildir/new"))
        .unwrap()
        .next()
        .is_none());
    let cur: Vec<String> = std::fs::read_dir(desk.root().join("maildir/cur"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(cur, ["1700000000.M1P1.host:2,S"]);
    // And stdin once more: duplicate, naming the ticket.
    let (third, _) = desk.ingest(&raw);
    assert_eq!(third["outcome"], "duplicate");
    assert_eq!(third["ticket"], first["ticket"]);
}

#[test]
fn kill_minus_nine_loses_nothing_and_duplicates_nothing() {
    let desk = TestDesk::with(|cfg| {
        cfg.remove("lines");
        cfg.remove("routes");
        cfg["mailbox"]["poll_interval_secs"] = toml::Value::Integer(1);
    });
    const N: usize = 300;
    for n in 0..N {
        desk.drop_letter(
            &format!("{:010}.M{n}P1.host", 1_700_000_000 + n),
            &letter(n),
        );
    }
    let mut kills = 0;
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let done = || -> i64 {
        rusqlite::Connection::open(desk.root().join("db.sqlite3"))
            .and_then(|c| c.query_row("SELECT count(*) FROM letters", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    const KILLS: usize = 12;
    while kills < KILLS && Instant::now() < deadline {
        // Kill at a random point of progress, spread over the load, so that
        // kills land between parse, commit, acknowledge and delivery.
        let now_done = done();
        let room = (N as i64 - now_done) / (KILLS - kills + 1) as i64;
        let target = now_done + 1 + (rand() % room.max(1) as u64) as i64;
        let mut child = desk
            .command()
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn run");
        let give_up = Instant::now() + Duration::from_secs(10);
        while done() < target && Instant::now() < give_up {
            std::thread::sleep(Duration::from_micros(500));
        }
        // A few more random microseconds, so the kill is not always right after a commit.
        std::thread::sleep(Duration::from_micros(rand() % 3000));
        child.kill().expect("kill -9");
        let _ = child.wait();
        kills += 1;
    }
    assert!(kills >= 10, "killed {kills} times");
    let done_before = done();
    eprintln!("letters processed by the killed daemons: {done_before}/{N}");
    assert!(
        done_before > 0,
        "the killed daemons processed letters before being killed"
    );
    // Then let it finish.
    let out = desk.run_once();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = desk.db();
    let q = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        q("SELECT count(*) FROM tickets"),
        N as i64,
        "one ticket per letter"
    );
    assert_eq!(
        q("SELECT count(*) FROM letters"),
        N as i64,
        "each letter processed once"
    );
    assert_eq!(q("SELECT count(DISTINCT ticket_id) FROM letters"), N as i64);
    assert_eq!(
        q("SELECT count(*) FROM outbox WHERE ticket_id IS NULL OR ticket_id NOT IN (SELECT id FROM tickets)"),
        0,
        "no orphan outbox rows"
    );
    assert_eq!(
        q("SELECT count(*) FROM outbox"),
        N as i64,
        "one reply per ticket"
    );
    assert_eq!(
        q("SELECT count(*) FROM outbox WHERE status <> 'sent'"),
        0,
        "all replies sent"
    );
    // Ticket numbers are unique and dense enough: no reuse.
    assert_eq!(q("SELECT count(DISTINCT id) FROM tickets"), N as i64);
    assert!(
        std::fs::read_dir(desk.root().join("maildir/new"))
            .unwrap()
            .next()
            .is_none(),
        "new/ is empty"
    );
    assert_eq!(desk.outbox().len(), N, "one reply file per ticket");
}

#[test]
fn locked_database_exits_75_and_the_letter_is_accepted_on_retry() {
    let desk = TestDesk::with(|cfg| {
        cfg["database"]["busy_timeout_ms"] = toml::Value::Integer(200);
    });
    // Create the database, then hold its write lock from another connection.
    let (first, _) = desk.ingest(&letter(1));
    assert_eq!(first["outcome"], "created");
    let db = desk.db();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = desk.run(&["ingest"], Some(&letter(2)));
    assert_eq!(out.status.code(), Some(75), "EX_TEMPFAIL while locked");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("retry"), "says to retry: {err}");
    assert!(
        out.stdout.is_empty(),
        "no JSON line for a letter not accepted"
    );
    db.execute_batch("ROLLBACK").unwrap();
    let (again, code) = desk.ingest(&letter(2));
    assert_eq!(code, 0);
    assert_eq!(again["outcome"], "created");
}

#[test]
fn read_only_database_exits_75_and_the_letter_is_accepted_on_retry() {
    let desk = TestDesk::plain();
    let (first, _) = desk.ingest(&letter(1));
    assert_eq!(first["outcome"], "created");
    // Root ignores file modes; the immutable attribute holds even for root.
    let db = desk.root().join("db.sqlite3");
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(&db)
            .status()
    };
    // Checkpoint so the database is self-contained, then freeze it.
    desk.db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    assert!(
        chattr("+i").expect("chattr").success(),
        "chattr +i works on this file system"
    );
    let out = desk.run(&["ingest"], Some(&letter(2)));
    let _ = chattr("-i");
    assert_eq!(
        out.status.code(),
        Some(75),
        "EX_TEMPFAIL when read-only: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (again, code) = desk.ingest(&letter(2));
    assert_eq!(code, 0);
    assert_eq!(again["outcome"], "created");
}

#[test]
fn show_json_has_every_contract_key_and_list_is_readable() {
    let desk = TestDesk::plain();
    let (r, _) = desk.ingest(&letter(7));
    let id = r["ticket"].as_str().unwrap();
    let t = desk.show(id);
    for key in [
        "id",
        "status",
        "kind",
        "priority",
        "line",
        "requester",
        "subject",
        "organization",
        "full_name",
        "location",
        "room",
        "floor",
        "phone",
        "phone_ext",
        "description",
        "note",
        "missing_fields",
        "attachments",
        "rejected_attachments",
        "created_at",
        "deadline",
        "history",
    ] {
        assert!(
            t.get(key).is_some(),
            "tickets show --json lacks `{key}`: {t}"
        );
    }
    assert_eq!(t["requester"], "user7@example.com");
    assert!(t["history"].as_array().is_some_and(|h| !h.is_empty()));
    for key in ["at", "actor", "action", "from", "to"] {
        assert!(
            t["history"][0].get(key).is_some(),
            "history entry lacks {key}"
        );
    }
    let out = desk.run(&["tickets", "list"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(id) && text.contains("Статус"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    // Aligned: the id column starts the status column at the same place.
    let col = |l: &str, needle: &str| {
        l.chars()
            .collect::<String>()
            .find(needle)
            .map(|b| l[..b].chars().count())
    };
    assert_eq!(
        col(lines[0], "Статус"),
        col(
            lines[2],
            if t["status"] == "new" {
                "Новое"
            } else {
                "Действие"
            }
        )
    );
    // Unknown ticket: a clear error.
    let out = desk.run(&["tickets", "show", "TP-2026-999999"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no ticket `TP-2026-999999`"));
}

#[test]
fn check_config_names_file_line_key_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(common::repo().join("config.example.toml")).unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "typo",
            example.replacen(
                "path = \"var/ticketd.sqlite3\"",
                "pth = \"var/ticketd.sqlite3\"",
                1,
            ),
            vec!["config.toml:", "pth", "did you mean `path`"],
        ),
        (
            "bad value",
            example.replacen("kind = \"maildir\"", "kind = \"pop3\"", 1),
            vec!["config.toml:", "pop3"],
        ),
        (
            "missing template",
            example.replacen(
                "# confirmation = \"/etc/ticketd/templates/confirmation.txt\"",
                "confirmation = \"nope/confirmation.txt\"",
                1,
            ),
            vec![
                "config.toml:",
                "templates.confirmation",
                "nope/confirmation.txt",
            ],
        ),
        (
            "broken template",
            example.replacen(
                "# confirmation = \"/etc/ticketd/templates/confirmation.txt\"",
                "confirmation = \"broken.txt\"",
                1,
            ),
            vec!["templates.confirmation", "unknown placeholder `{tiket}`"],
        ),
        (
            "bad path",
            example.replacen(
                "path = \"var/ticketd.sqlite3\"",
                "path = \"afile/ticketd.sqlite3\"",
                1,
            ),
            vec!["config.toml:", "database.path", "is not a folder"],
        ),
        (
            "tls none to a remote host",
            example.replacen(
                "kind = \"maildir\"",
                "kind = \"imap\"\nhost = \"imap.example.org\"\nuser = \"u\"\ntls = \"none\"",
                1,
            ),
            vec!["mailbox.tls", "loopback"],
        ),
        (
            "mailbox name with a dot",
            example.replacen(
                "kind = \"maildir\"",
                "name = \"a.b\"\nkind = \"maildir\"",
                1,
            ),
            vec!["mailbox.name", "`a.b`", "letters, digits"],
        ),
    ];
    std::fs::write(dir.path().join("broken.txt"), "Заявка {tiket}").unwrap();
    std::fs::write(dir.path().join("afile"), "not a folder").unwrap();
    let file_line = regex::Regex::new(r"config\.toml:\d+:").unwrap();
    for (what, text, needles) in cases {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).unwrap();
        let out = std::process::Command::new(common::BIN)
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{what}: check-config must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        for n in needles {
            assert!(err.contains(n), "{what}: error lacks `{n}`: {err}");
        }
        // The line number is the key's line.
        assert!(file_line.is_match(&err), "{what}: no file:line in {err}");
    }
    // A missing config file suggests --config.
    let out = std::process::Command::new(common::BIN)
        .args(["--config", "/nonexistent/ticketd.toml", "check-config"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
    // And the example itself is fine.
    let out = std::process::Command::new(common::BIN)
        .arg("--config")
        .arg(common::repo().join("config.example.toml"))
        .arg("check-config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn quarantine_is_listed_counted_and_released() {
    let desk = TestDesk::plain();
    let raw = b"To: support@sed.example.org\r\nSubject: scan\r\nMessage-ID: <scan-1@scanner>\r\n\r\nscanned document\r\n";
    let (r, code) = desk.ingest(raw);
    assert_eq!((r["outcome"].as_str(), code), (Some("quarantined"), 0));
    assert!(r["reason"].as_str().unwrap_or("").contains("sender"));
    let out = desk.run(&["quarantine", "list"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("scan-1@scanner"));
    let out = desk.run(&["status"], None);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("В карантине: 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = desk.run(&["quarantine", "show", "1", "--raw"], None);
    assert_eq!(out.stdout, raw.to_vec(), "kept whole");
    // Released, it goes through the pipeline again (and is quarantined again:
    // still no sender), instead of being a duplicate.
    let out = desk.run(&["quarantine", "release", "1"], None);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"quarantined\""),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn an_appeal_titled_status_is_registered_a_bare_status_letter_is_answered() {
    let desk = TestDesk::plain();
    let appeal = String::from_utf8(letter(3)).unwrap().replacen(
        "Subject: =?utf-8?b?0J3QtSDRgNCw0LHQvtGC0LDQtdGCINC/0L7Rh9GC0LA=?= 3",
        "Subject: =?utf-8?b?0KHRgtCw0YLRg9GB?=",
        1,
    );
    assert!(appeal.contains("0KHRgtCw0YLRg9GB"), "subject «Статус»");
    let (r, _) = desk.ingest(appeal.as_bytes());
    assert_eq!(
        r["outcome"], "created",
        "a Table 2 appeal titled «Статус» is an appeal: {r}"
    );
    let bare = "From: user3@example.com\r\nTo: support@sed.example.org\r\nSubject: =?utf-8?b?0KHRgtCw0YLRg9GB?=\r\nMessage-ID: <st-3@example.com>\r\n\r\n\r\n";
    let (r, _) = desk.ingest(bare.as_bytes());
    assert_eq!(r["outcome"], "ignored", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("status request"),
        "{r}"
    );
    desk.run_once();
    let out = desk.outbox();
    let list = out
        .iter()
        .find(|m| {
            header(m, "subject")
                .unwrap_or_default()
                .contains("Статус ваших обращений")
        })
        .expect("the status list");
    assert!(
        body_text(list).contains("TP-2026-000001"),
        "the appeal above is listed: {}",
        body_text(list)
    );
}
