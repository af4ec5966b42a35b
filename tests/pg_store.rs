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

#[path = "pg_store/backfill.rs"]
mod backfill;
#[path = "pg_store/check.rs"]
mod check;
mod common;
#[path = "pg_store/fill.rs"]
mod fill;
mod support;

use check::{files_on_disk, fingerprint, pg_tables, sqlite_count, verified};
use common::{TestDesk, BIN};
use fill::{build_desk, letter_with_files};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::pg::Cluster;

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
    // One row per version applied by the first migrate, none by the second.
    assert_eq!(
        pg.query("desk", "SELECT count(*) FROM schema_version"),
        ticketd::store::pg::migrate::PG_MIGRATIONS.len().to_string()
    );
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

    // Every table PostgreSQL has (but its version) was verified.
    let mut verified_tables: Vec<&String> = v.keys().collect();
    verified_tables.sort();
    let mut in_pg = pg_tables(&pg, "desk");
    in_pg.retain(|t| t != "schema_version");
    assert_eq!(verified_tables, in_pg.iter().collect::<Vec<_>>());
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
    // Schema 9's columns came over with their values.
    for t in ["letters", "report_rows"] {
        let sql = format!("SELECT count(*) FROM {t} WHERE mailbox = 'north'");
        let n: i64 = lite.query_row(&sql, [], |r| r.get(0)).unwrap();
        assert!(n > 0, "{t}");
        assert_eq!(pg.query("desk", &sql), n.to_string(), "{t}.mailbox");
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

/// Without PostgreSQL's programs the tests fail (never skip), saying how
/// to install them.
#[test]
fn missing_server_programs_fail_naming_scripts_test() {
    let empty = tempfile::tempdir().unwrap();
    let e = support::pg::find_bindir(vec![empty.path().to_path_buf()]).unwrap_err();
    assert!(
        e.contains("scripts/test") && e.contains("postgresql"),
        "{e}"
    );
    let found = support::pg::bindir().unwrap();
    assert!(found.join("initdb").is_file(), "{}", found.display());
}

/// A desk on `url` with `[database]` keys `extra` (sslmode, ca_file).
fn pg_desk_with(pg: &Cluster, url: &str, extra: &[(&str, String)]) -> TestDesk {
    let pw = pg.password_file.display().to_string();
    TestDesk::with(|cfg| {
        if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
            t.insert("kind".into(), "postgres".into());
            t.insert("url".into(), url.into());
            t.insert("password_file".into(), pw.into());
            for (k, v) in extra {
                t.insert((*k).into(), v.clone().into());
            }
        }
    })
}

/// TLS against a server that refuses ticketd's role without it: `require`
/// and `verify-full` with the CA of `ca_file` connect; plain TCP and
/// `verify-full` against the public roots fail, naming what to check.
#[test]
fn tls_modes_against_a_server_that_requires_tls() {
    let pg = Cluster::start_tls();
    pg.createdb("desk");
    let url = pg.url("desk");
    let ca = pg.ca_file.clone().unwrap().display().to_string();

    let plain = pg_desk_with(&pg, &url, &[("sslmode", "disable".into())]);
    let out = ticketd(&plain, &["db", "migrate"]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no encryption") && err.contains("sslmode"),
        "{err}"
    );

    let unchecked = pg_desk_with(&pg, &url, &[("sslmode", "require".into())]);
    let out = ticketd(&unchecked, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));

    let public_roots = pg_desk_with(&pg, &url, &[("sslmode", "verify-full".into())]);
    let out = ticketd(&public_roots, &["db", "migrate"]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certificate") && err.contains("ca_file"),
        "{err}"
    );

    let checked = pg_desk_with(
        &pg,
        &url,
        &[("sslmode", "verify-full".into()), ("ca_file", ca.clone())],
    );
    let out = ticketd(&checked, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(up to date)"),
        "{}",
        text(&out)
    );
    // The server saw TLS from ticketd's role (psql's own session too).
    assert_eq!(
        pg.query(
            "desk",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        "t"
    );

    // The copy over verify-full, its flags.
    let lite = TestDesk::new();
    let (v, code) = lite.ingest(&letter_with_files(3));
    assert_eq!(code, 0, "{v}");
    pg.createdb("copy");
    let pw = pg.password_file.display().to_string();
    let to = pg.url("copy");
    let args = [
        "db",
        "copy",
        "--to",
        &to,
        "--password-file",
        &pw,
        "--sslmode",
        "verify-full",
        "--ca-file",
        &ca,
    ];
    let out = ticketd(&lite, &args);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(pg.query("copy", "SELECT count(*) FROM tickets"), "1");
}
