//! PostgreSQL as the second store (issue 17), against a private cluster
//! (`support::pg`): `ticketd db migrate` and `ticketd db copy`, the real
//! binary each time. The desk copied is built fast: a few letters with
//! attachments through `ticketd ingest` (the pipeline's own rows), then
//! thousands of tickets through the store's interface, as
//! `examples/fill_tickets.rs` does, some with attachment files.
//!
//! Every copy is checked twice: by the copy's own verification (its
//! `verified TABLE: N rows, sha256 D` lines) and independently here
//! (`psql`: counts, ticket numbers, SHA-256 of the blobs against the files
//! on disk, a row-text fingerprint of every table).

mod common;
mod support;

use chrono::{Duration, TimeZone, Utc};
use common::{TestDesk, BIN, PNG};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::pg::Cluster;
use ticketd::store::letters::LetterRecord;
use ticketd::store::tickets::{AttachmentRow, HistoryRow, Ticket};
use ticketd::store::{ts, Store};
use ticketd::workflow::status::{Actor, Line, Status};

/// `ticketd ARGS` with the desk's config; the output.
fn ticketd(desk: &TestDesk, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(&desk.config)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run ticketd")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A desk whose database is PostgreSQL `db` of `pg` (password from the
/// cluster's password file), its SQLite path kept for `db copy`.
fn pg_desk(pg: &Cluster, db: &str, password_file: &Path) -> TestDesk {
    let url = pg.url(db);
    let pw = password_file.display().to_string();
    TestDesk::with(move |cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
            t.insert("kind".into(), "postgres".into());
            t.insert("url".into(), url.into());
            t.insert("password_file".into(), pw.into());
        }
    })
}

/// A letter from a user with two attachments: a picture (kept) and a
/// text file whose bytes differ per `i` (refused by type: a row of
/// `rejected_attachments`).
fn letter_with_files(i: usize) -> Vec<u8> {
    let b64 = common::base64;
    let note = format!("журнал ошибок {i}\n").repeat(50 + i * 7);
    format!(
        "From: user{i}@minfin.example.org\r\nTo: support@sed.example.org\r\n\
         Subject: Ошибка {i}\r\nMessage-ID: <pg-{i}@minfin.example.org>\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Наименование органа исполнительной власти: Министерство финансов\r\n\
         Ф.И.О. пользователя: Петров Пётр {i}\r\nМестонахождение: каб. {i}\r\n\
         Номер контактного телефона: +7 4012 55-00-{i:02}\r\n\
         Описание возникшей проблемы: не открывается документ {i}\r\n--bb\r\n\
         Content-Type: image/png; name=\"screen.png\"\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb\r\n\
         Content-Type: text/plain; name=\"log{i}.txt\"\r\nContent-Disposition: attachment; filename=\"log{i}.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb--\r\n",
        b64(PNG),
        b64(note.as_bytes())
    )
    .into_bytes()
}

/// Deterministic bytes of `len` for attachment `k` (xorshift).
fn file_bytes(k: u64, len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (k + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The desk: `letters` ingested letters with attachments, then `n`
/// tickets through the store spread over 400 days before 2026-12-01 (two
/// calendar years of numbers), every 25th with an attachment file (every
/// fourth of those the bytes of an earlier one: shared blobs).
fn build_desk(desk: &TestDesk, letters: usize, n: usize) {
    for i in 0..letters {
        let (v, code) = desk.ingest(&letter_with_files(i));
        assert_eq!(code, 0, "ingest {i}: {v}");
    }
    let cfg = ticketd::desk::Desk::load(&desk.config).expect("config");
    let mut store = Store::open(&cfg.database.path, std::time::Duration::from_secs(30)).unwrap();
    let prefix = cfg.tickets.prefix.clone();
    let priority = cfg.workflow.priorities[0].name.clone();
    let end = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let start = end - Duration::days(400);
    let step = 400 * 86_400_000 / n as i64;
    store.batch_begin().unwrap();
    for i in 0..n {
        let created = start + Duration::milliseconds(step * i as i64);
        let unit = store.unit().unwrap();
        let id = unit.allocate_id(&prefix, created).unwrap();
        let user = format!("user{}@agency{}.example.org", i % 997, i % 31);
        let mut t = Ticket::default();
        t.id = id.clone();
        t.priority = priority.clone();
        t.requester = user.clone();
        t.reply_to = user;
        t.subject = format!("Обращение {i}: «Объект не найден»");
        t.created_at = created;
        t.updated_at = created;
        t.deadline = Some(created + Duration::hours(8));
        unit.insert_ticket(&t).unwrap();
        let hist =
            |at: chrono::DateTime<Utc>, action: &str, from: Option<&str>, to: &str| HistoryRow {
                at: ts(at),
                actor: "system".into(),
                action: action.into(),
                from: from.map(Into::into),
                to: Some(to.into()),
                detail: Some(format!("строка {i}")),
            };
        unit.add_history(&id, &hist(created, "created", None, "new"), None)
            .unwrap();
        if i % 3 == 0 {
            let at = created + Duration::minutes(90);
            let eng = Actor::Engineer {
                line: Line::First,
                address: "eng1@sed.example.org".into(),
            };
            if t.move_to(Status::SolutionProposed, &eng).is_ok() {
                unit.add_history(
                    &id,
                    &hist(at, "command", Some("new"), "solution_proposed"),
                    None,
                )
                .unwrap();
                t.updated_at = at;
                unit.update_ticket(&t).unwrap();
            }
        }
        if i % 25 == 0 {
            let k = (i / 25) as u64;
            let k = if k % 4 == 3 { k - 1 } else { k };
            let data = file_bytes(k, 1000 + (k as usize * 7919) % 60_000);
            let sha = ticketd::pipeline::files::store(&cfg.attachments.dir, &data).unwrap();
            let raw = format!("Subject: filled {i}\r\n\r\nbody").into_bytes();
            let letter = unit
                .insert_letter(&LetterRecord {
                    identity: &format!("fill-{i}"),
                    message_id: Some(&format!("<fill-{i}@example.org>")),
                    sender: Some("user@example.org"),
                    outcome: "created",
                    ticket_id: Some(&id),
                    reason: None,
                    raw: &raw,
                    at: created,
                })
                .unwrap();
            let row = AttachmentRow {
                filename: format!("скан-{k}.bin"),
                content_type: "application/octet-stream".into(),
                size: data.len() as i64,
                sha256: sha,
            };
            unit.add_attachment(&id, letter, &row).unwrap();
        }
        unit.commit().unwrap();
    }
    store.batch_commit().unwrap();
    store.checkpoint().unwrap();
}

/// The copy's own verification lines: table → (rows, sha256).
fn verified(out: &Output) -> BTreeMap<String, (u64, String)> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("db copy: verified "))
        .filter_map(|l| {
            let (table, rest) = l.split_once(": ")?;
            let (rows, sha) = rest.split_once(" rows, sha256 ")?;
            Some((table.to_string(), (rows.parse().ok()?, sha.to_string())))
        })
        .collect()
}

/// The ticketd tables of the PostgreSQL database (not the copy's
/// bookkeeping).
fn pg_tables(pg: &Cluster, db: &str) -> Vec<String> {
    pg.query(
        db,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' \
         AND tablename NOT LIKE 'ticketd_copy_%' ORDER BY tablename",
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// Every table's row count and an md5 over its rows' text in a fixed
/// order: two databases with the same fingerprint hold the same rows,
/// each once.
fn fingerprint(pg: &Cluster, db: &str) -> BTreeMap<String, String> {
    pg_tables(pg, db)
        .into_iter()
        .filter(|t| t != "schema_version")
        .map(|t| {
            let f = pg.query(
                db,
                &format!(
                    "SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, E'\\n' \
                     ORDER BY x::text COLLATE \"C\")), '-') FROM {t} x"
                ),
            );
            (t, f)
        })
        .collect()
}

fn sqlite_count(db: &rusqlite::Connection, table: &str) -> i64 {
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// The SHA-256 of every file under `dir`, computed here from the bytes.
fn files_on_disk(dir: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(hex::encode(Sha256::digest(&bytes)), bytes.len());
            }
        }
    }
    out
}

#[test]
fn migrate_creates_the_latest_schema_once_and_matches_sqlite() {
    let pg = Cluster::start();
    pg.createdb("desk");
    let desk = pg_desk(&pg, "desk", &pg.password_file);
    let first = ticketd(&desk, &["db", "migrate"]);
    assert!(first.status.success(), "{}", text(&first));
    let v = ticketd::store::pg::migrate::VERSION;
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(
        said.contains(&format!("schema version {v} (was 0)")),
        "{}",
        text(&first)
    );
    assert_eq!(
        pg.query("desk", "SELECT max(version) FROM schema_version"),
        v.to_string()
    );
    let tables = pg_tables(&pg, "desk");
    for t in [
        "tickets",
        "history",
        "attachments",
        "attachment_blobs",
        "ticket_seq",
        "outbox",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing: {tables:?}");
    }
    let before = fingerprint(&pg, "desk");
    let again = ticketd(&desk, &["db", "migrate"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains(&format!("schema version {v} (up to date)")),
        "{}",
        text(&again)
    );
    assert_eq!(pg.query("desk", "SELECT count(*) FROM schema_version"), "1");
    assert_eq!(
        fingerprint(&pg, "desk"),
        before,
        "a second migrate changed rows"
    );

    // The same number as SQLite's latest, by the same command.
    let lite = TestDesk::new();
    let out = ticketd(&lite, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let user_version: i64 = lite
        .db()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, v);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("schema version {v}")));
    assert_eq!(
        pg.query("desk", "SELECT max(version) FROM schema_version"),
        user_version.to_string()
    );
}

#[test]
fn copy_of_ten_thousand_tickets_is_identical_and_numbering_continues() {
    let pg = Cluster::start();
    pg.createdb("desk");
    let desk = TestDesk::new();
    let t0 = std::time::Instant::now();
    build_desk(&desk, 5, 10_000);
    eprintln!("desk built in {:.1} s", t0.elapsed().as_secs_f64());
    let lite = desk.db();
    assert!(sqlite_count(&lite, "tickets") >= 10_005);
    let from_letters: i64 = lite
        .query_row("SELECT count(*) FROM attachments WHERE letter_id IN (SELECT id FROM letters WHERE identity NOT LIKE 'fill-%')", [], |r| r.get(0))
        .unwrap();
    let rejected = sqlite_count(&lite, "rejected_attachments");
    // Pictures are kept, the text files refused: both tables have rows.
    assert!(
        from_letters >= 5 && rejected >= 5,
        "{from_letters} attachments from letters, {rejected} rejected"
    );
    assert!(sqlite_count(&lite, "attachments") >= 405);

    let t1 = std::time::Instant::now();
    let url = pg.url("desk");
    let pw = pg.password_file.display().to_string();
    let out = ticketd(&desk, &["db", "copy", "--to", &url, "--password-file", &pw]);
    eprintln!("db copy in {:.1} s", t1.elapsed().as_secs_f64());
    assert!(out.status.success(), "{}", text(&out));

    // The copy's own verification: every table, the attachments last,
    // with SQLite's counts.
    let v = verified(&out);
    for (table, (rows, _)) in &v {
        if table == "attachment_blobs" {
            let distinct: i64 = lite
                .query_row("SELECT count(DISTINCT sha256) FROM attachments", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(*rows as i64, distinct);
        } else {
            assert_eq!(*rows as i64, sqlite_count(&lite, table), "{table}");
        }
    }
    for t in [
        "tickets",
        "history",
        "attachments",
        "letters",
        "report_rows",
        "attachment_blobs",
    ] {
        assert!(v.contains_key(t), "no verification of {t}: {}", text(&out));
    }

    // Independently: every ticketd table in PostgreSQL has SQLite's count.
    for t in pg_tables(&pg, "desk") {
        if t == "schema_version" || t == "attachment_blobs" {
            continue;
        }
        assert_eq!(
            pg.query("desk", &format!("SELECT count(*) FROM {t}")),
            sqlite_count(&lite, &t).to_string(),
            "rows of {t}"
        );
    }
    // The ticket numbers, the same in both.
    let ids_pg = pg.query("desk", "SELECT id FROM tickets ORDER BY id COLLATE \"C\"");
    let ids_lite: Vec<String> = lite
        .prepare("SELECT id FROM tickets ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids_pg, ids_lite.join("\n"));
    assert!(ids_lite.iter().any(|i| i.starts_with("TP-2025-")));
    assert!(ids_lite.iter().any(|i| i.starts_with("TP-2026-")));
    // The attachments: what PostgreSQL holds hashes to the files on disk.
    let cfg = ticketd::desk::Desk::load(&desk.config).unwrap();
    let disk = files_on_disk(&cfg.attachments.dir);
    let blobs: BTreeMap<String, usize> = pg
        .query(
            "desk",
            "SELECT encode(sha256(content), 'hex'), length(content), sha256 FROM attachment_blobs",
        )
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            assert_eq!(f[0], f[2], "blob stored under another name");
            (f[0].to_string(), f[1].parse().unwrap())
        })
        .collect();
    assert_eq!(blobs, disk);
    // Run again: nothing copied twice, verified again.
    let before = fingerprint(&pg, "desk");
    let again = ticketd(&desk, &["db", "copy", "--to", &url, "--password-file", &pw]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(": 0 rows copied in this run"),
        "{}",
        text(&again)
    );
    assert_eq!(verified(&again), v);
    let after = fingerprint(&pg, "desk");
    assert_eq!(after, before);

    // The per-year numbers go on after the highest copied one.
    for year in [2025, 2026] {
        let top: i64 = ids_lite
            .iter()
            .filter_map(|i| i.strip_prefix(&format!("TP-{year}-")))
            .map(|n| n.parse::<i64>().unwrap())
            .max()
            .unwrap();
        assert_eq!(
            pg.query(
                "desk",
                &format!("SELECT ticketd_next_ticket_number('TP', {year})")
            ),
            (top + 1).to_string(),
            "{year}"
        );
    }
    // Identity columns go on after the copied ids too.
    let max_hist = pg.query("desk", "SELECT max(id) FROM history");
    let next = pg.query(
        "desk",
        "SELECT nextval(pg_get_serial_sequence('history', 'id'))",
    );
    assert_eq!(
        next.parse::<i64>().unwrap(),
        max_hist.parse::<i64>().unwrap() + 1
    );
}

#[test]
fn interrupted_copies_resume_to_the_same_database() {
    let pg = Cluster::start();
    pg.createdb("whole");
    pg.createdb("resumed");
    let desk = TestDesk::new();
    build_desk(&desk, 2, 3_000);
    let pw = pg.password_file.display().to_string();
    let copy = |db: &str, extra: &[&str]| {
        let url = pg.url(db);
        let mut args = vec!["db", "copy", "--to", &url, "--password-file", &pw];
        args.extend_from_slice(extra);
        ticketd(&desk, &args)
    };
    let whole = copy("whole", &["--chunk-rows", "500"]);
    assert!(whole.status.success(), "{}", text(&whole));

    // 1. Stopped between two chunks by the test limit.
    let stopped = copy(
        "resumed",
        &["--chunk-rows", "500", "--stop-after-rows", "1200"],
    );
    assert!(!stopped.status.success(), "{}", text(&stopped));
    assert!(
        String::from_utf8_lossy(&stopped.stderr).contains("run it again to resume"),
        "{}",
        text(&stopped)
    );
    let partial: i64 = pg
        .query(
            "resumed",
            "SELECT coalesce(sum(rows), 0) FROM ticketd_copy_progress",
        )
        .parse()
        .unwrap();
    assert!(
        (1200..1700).contains(&partial),
        "{partial} rows after the stop"
    );

    // 2. Killed (SIGKILL) in the middle of the tickets.
    let url = pg.url("resumed");
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&desk.config)
        .args([
            "db",
            "copy",
            "--to",
            &url,
            "--password-file",
            &pw,
            "--chunk-rows",
            "200",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    {
        use std::io::BufRead;
        let err = std::io::BufReader::new(child.stderr.take().unwrap());
        for line in err.lines() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("db copy: history: ") {
                child.kill().unwrap();
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the copy finished before the kill:\n{seen}"
    );
    let killed_at: i64 = pg
        .query(
            "resumed",
            "SELECT coalesce(sum(rows), 0) FROM ticketd_copy_progress",
        )
        .parse()
        .unwrap();
    assert!(
        killed_at > partial,
        "no progress in the killed run:\n{seen}"
    );

    // 3. The last run finishes; both databases hold the same rows.
    let last = copy("resumed", &["--chunk-rows", "700"]);
    assert!(last.status.success(), "{}", text(&last));
    assert_eq!(verified(&last), verified(&whole));
    assert_eq!(fingerprint(&pg, "resumed"), fingerprint(&pg, "whole"));
    let lite = desk.db();
    assert_eq!(
        pg.query("resumed", "SELECT count(*) FROM history"),
        sqlite_count(&lite, "history").to_string()
    );
    // Counts of this run and the earlier ones add up to the whole copy.
    let total_rows: i64 = pg
        .query("whole", "SELECT sum(rows) FROM ticketd_copy_progress")
        .parse()
        .unwrap();
    let resumed_rows: i64 = pg
        .query("resumed", "SELECT sum(rows) FROM ticketd_copy_progress")
        .parse()
        .unwrap();
    assert_eq!(resumed_rows, total_rows);
}

#[test]
fn connection_errors_name_the_key_to_fix() {
    let pg = Cluster::start();
    pg.createdb("desk");
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.pw");
    std::fs::write(&wrong, "not-the-password").unwrap();
    let desk = pg_desk(&pg, "desk", &wrong);
    let out = ticketd(&desk, &["db", "migrate"]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(
        err.contains("[database]") && err.contains("password_file"),
        "{err}"
    );
    assert!(err.contains(&pg.url("desk")), "{err}");
    assert!(
        !err.contains("not-the-password"),
        "the password leaked: {err}"
    );

    // The same through `db copy --to`: the flags are named, not the keys.
    let lite = TestDesk::new();
    let (v, code) = lite.ingest(&letter_with_files(1));
    assert_eq!(code, 0, "{v}");
    let url = pg.url("desk");
    let wrong_s = wrong.display().to_string();
    let out = ticketd(
        &lite,
        &["db", "copy", "--to", &url, "--password-file", &wrong_s],
    );
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(
        err.contains("--password-file") && err.contains("--to"),
        "{err}"
    );
    assert!(!err.contains("[database]"), "{err}");
    assert_eq!(
        pg.query(
            "desk",
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "0"
    );

    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://ticketd@127.0.0.1:{closed}/desk");
    let desk = TestDesk::with(|cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
            t.insert("kind".into(), "postgres".into());
            t.insert("url".into(), url.clone().into());
            t.insert(
                "password_file".into(),
                pg.password_file.display().to_string().into(),
            );
        }
    });
    let out = ticketd(&desk, &["db", "migrate"]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("[database] url"), "{err}");

    // The right password works against the same cluster.
    let desk = pg_desk(&pg, "desk", &pg.password_file);
    let out = ticketd(&desk, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
}
