//! SQLite storage: the one place where ticketd's state lives.
//!
//! Owns the schema (`schema.sql`, embedded, versioned by `PRAGMA
//! user_version`), the connection settings (WAL, busy timeout, foreign keys)
//! and every query. The exactly-once rule is kept here: a letter's identity,
//! its raw bytes, the ticket it created or changed, history rows and the
//! outgoing letters it caused are written in ONE transaction
//! ([`Store::unit`], a [`unit::Unit`]), so after a crash either all of it exists or none.
//!
//! Submodules by table group: [`letters`] (identity, raw letters, quarantine,
//! state), [`tickets`] (tickets, attachments, history, threading),
//! [`outbox`] (the queue of outgoing letters, claimed row by row),
//! [`cluster`] (leases, the daemons registry, the fence a letter's
//! transaction checks when several daemons share the database).
//! [`engine`]: the seam between these methods and the two engines — SQLite
//! in-process, or PostgreSQL ([`Store::open_pg`]); every method is written
//! once against [`engine::Conn`], with the engine's own statement only where
//! the dialects differ. [`pg`]: PostgreSQL's connection settings, schema
//! versions, `db migrate`, `db copy`.

pub mod blobs;
pub mod cluster;
#[cfg(test)]
mod cluster_tests;
pub mod digest;
pub mod engine;
pub mod engineers;
#[cfg(test)]
mod engineers_tests;
mod error;
pub mod facts;
pub mod letters;
pub mod outbox;
pub mod pg;
pub mod report;
#[cfg(test)]
mod report_rows_tests;
pub mod security;
pub mod suppressed;
pub mod tickets;
pub mod unit;
pub mod vitals;

use chrono::{DateTime, SecondsFormat, Utc};
use engine::{params, Conn};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCHEMA: &str = include_str!("../../schema.sql");
/// Current schema version; bump with a new entry in [`MIGRATIONS`].
const VERSION: i64 = 9;
/// Migrations from version `i` to `i + 1` (index 0: empty database → 1).
const MIGRATIONS: &[&str] = &[
    SCHEMA,
    include_str!("m002_security.sql"),
    include_str!("m003_channel.sql"),
    include_str!("m004_facts.sql"),
    include_str!("m005_cluster.sql"),
    include_str!("m006_indexed_reads.sql"),
    include_str!("m007_engineer_figures.sql"),
    include_str!("m008_mailbox.sql"),
    include_str!("m009_mailbox_figures.sql"),
];

pub use error::{Result, StoreError};

/// The name of a mailbox that does not set one (`[mailbox] name`); the
/// daemon state of versions before mailbox names is adopted under it.
pub const DEFAULT_MAILBOX: &str = "main";

/// The state key of `key` (e.g. `imap.last_sync`) for the mailbox named
/// `mailbox`: `mailbox.<mailbox>.<key>`. The one spelling of per-mailbox
/// state keys.
pub fn mailbox_state_key(mailbox: &str, key: &str) -> String {
    format!("mailbox.{mailbox}.{key}")
}

/// Timestamps are stored as RFC 3339 UTC with milliseconds: sortable as text.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serialise a time as it is stored (`tickets show --json`).
pub fn serialize_ts<S: serde::Serializer>(
    t: &DateTime<Utc>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&ts(*t))
}

/// [`serialize_ts`] for an optional time (`null` when absent).
pub fn serialize_opt_ts<S: serde::Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&ts(*t)),
        None => s.serialize_none(),
    }
}

/// Read a stored timestamp: the form [`ts`] writes read directly (reports
/// read millions), anything else as RFC 3339.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_stored(s.as_bytes()) {
        return Some(t);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly, as [`ts`] writes it.
fn parse_stored(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
        num(20, 23)?,
    )?;
    Some(DateTime::from_naive_utc_and_offset(
        date.and_time(time),
        Utc,
    ))
}

/// An open database.
pub struct Store {
    conn: Conn,
    /// How to open it again ([`Store::reopener`]).
    at: Option<Reopen>,
    /// How long a write waits for another writer's lock.
    busy: Duration,
    /// Checked inside every letter's write transaction ([`cluster::Fence`]).
    fence: Option<cluster::Fence>,
    /// Who claims outbox rows through this connection (the daemon's id).
    owner: String,
}

/// Where a store's database is ([`Store::reopener`], and the config's
/// `[database]`): plain data, to be sent to another thread.
#[derive(Debug, Clone)]
pub enum Reopen {
    Sqlite { path: PathBuf, busy: Duration },
    Postgres(crate::config::PgTarget),
}

impl Reopen {
    /// The database opened (and migrated when needed).
    pub fn open(&self) -> Result<Store> {
        match self {
            Reopen::Sqlite { path, busy } => Store::open(path, *busy),
            Reopen::Postgres(t) => Store::open_pg(t),
        }
    }

    /// What to show of it in messages (a PostgreSQL URL without password).
    pub fn shown(&self) -> String {
        match self {
            Reopen::Sqlite { path, .. } => path.display().to_string(),
            Reopen::Postgres(t) => crate::config::database::redact(&t.url),
        }
    }
}

impl Store {
    /// Open (creating file and folder if needed) and migrate.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| StoreError::Folder {
                    path: dir.to_path_buf(),
                    cause: source,
                })?;
        }
        // The database holds letters and the generated key of the proofs of
        // receipt: created 0600 whatever the umask (SQLite gives its -wal
        // and -shm files the database file's mode).
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(StoreError::Create {
                        path: path.to_path_buf(),
                        cause: e,
                    })
                }
            }
        }
        let open = |flags| {
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                cause: source,
            })
        };
        // NO_MUTEX: a `Connection` is never used by two threads at once
        // (it is not `Sync`), so SQLite's own lock around every call (one
        // per column read: 12 % of a year's report) is not needed.
        let conn = open(
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        // Working times in wall-clock time until the desk's calendar is set.
        facts::register(&conn, crate::workflow::Calendar::always())?;
        let mut store = Store {
            conn: Conn::Sqlite(conn),
            at: Some(Reopen::Sqlite {
                path: path.to_path_buf(),
                busy: busy_timeout,
            }),
            busy: busy_timeout,
            fence: None,
            owner: cluster::process_owner(),
        };
        store.setup(path)?;
        Ok(store)
    }

    /// Connect to PostgreSQL (a connection of this handle's own, on a
    /// thread of its own: [`engine::pg`]) and bring its schema to this
    /// ticketd's version.
    pub fn open_pg(target: &crate::config::PgTarget) -> Result<Store> {
        let conn = engine::pg::PgConn::open(target)?;
        let mut store = Store {
            conn: Conn::Pg(Box::new(conn)),
            at: Some(Reopen::Postgres(target.clone())),
            busy: Duration::from_secs(5),
            fence: None,
            owner: cluster::process_owner(),
        };
        store.adopt_global_mailbox_state()?;
        Ok(store)
    }

    /// The engine this store runs on.
    pub fn engine(&self) -> engine::Engine {
        self.conn.engine()
    }

    /// SQLite's settings and schema versions on a connection just opened.
    fn setup(&mut self, path: &Path) -> Result<()> {
        let Conn::Sqlite(conn) = &mut self.conn else {
            return Ok(());
        };
        // WAL: readers (tickets list) never block the daemon's writer.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" {
            tracing::debug!(%mode, "database not in WAL mode");
        }
        // cache_size: 1 MiB per connection (SQLite's default is 2 MiB); the
        // daemon keeps two connections (pipeline, sender) and its hot pages
        // (indexes, the latest rows) fit; the OS page cache holds the rest.
        // synchronous = FULL: a commit is on disk before the source is told
        // to let the letter go (MOVE, cur/), even across a power loss; with
        // NORMAL a WAL commit may roll back after one. Intake commits a
        // whole batch at once, so this is one fsync per batch. The daemon's
        // sender lowers it for its own marks (a lost mark resends a letter,
        // it loses none).
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -1024;",
        )?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > VERSION {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
            });
        }
        if found < VERSION {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Re-read under the write lock: another process may have migrated.
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for m in MIGRATIONS.iter().skip(now.max(0) as usize) {
                tx.execute_batch(m)?;
            }
            tx.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
            tx.commit()?;
        }
        self.adopt_global_mailbox_state()
    }

    /// Daemon state from before mailbox names (`imap.last_uid`, …) belongs
    /// to the one mailbox there was: renamed once to the default mailbox's
    /// keys (`mailbox.main.imap.last_uid`). A read, and a write only when
    /// such keys are found.
    fn adopt_global_mailbox_state(&mut self) -> Result<()> {
        const LEGACY: &str = "imap.%";
        let found: Option<i64> = self.conn.query_opt(
            "SELECT 1 FROM state WHERE key LIKE ?1 LIMIT 1",
            &params![LEGACY],
            |r| r.get(0),
        )?;
        if found.is_none() {
            return Ok(());
        }
        let prefix = mailbox_state_key(DEFAULT_MAILBOX, "");
        let tx = self.conn.begin()?;
        // A key already under the new name wins (written by a newer daemon).
        tx.execute(
            "DELETE FROM state WHERE key LIKE ?1 AND CAST(?2 AS TEXT) || key IN (SELECT key FROM state)",
            &params![LEGACY, prefix],
        )?;
        tx.execute(
            "UPDATE state SET key = CAST(?2 AS TEXT) || key WHERE key LIKE ?1",
            &params![LEGACY, prefix],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Start the write transaction for one letter (SQLite: IMMEDIATE, takes
    /// the write lock now, so a busy database fails here, before any work
    /// is done). Under a fence ([`Store::set_fence`]) the lease is checked
    /// inside it: SQLite's write lock, PostgreSQL's share lock on the lease
    /// row, is held until the commit, so no other daemon can take the
    /// lease in between.
    pub(crate) fn begin(&mut self) -> Result<engine::Tx<'_>> {
        let tx = self.conn.begin()?;
        if let Some(f) = &self.fence {
            cluster::check_fence(&tx, f)?;
        }
        Ok(tx)
    }

    /// The SQLite connection itself, for in-crate tests; everything else
    /// goes through the store's methods.
    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        self.conn.sqlite().expect("an in-crate test on SQLite")
    }

    /// The engine's connection, for in-crate tests.
    #[cfg(test)]
    pub(crate) fn db(&self) -> &Conn {
        &self.conn
    }

    /// How to open another connection to this database, for reading on
    /// another thread; `None` for a SQLite database without a file.
    pub fn reopener(&self) -> Option<Reopen> {
        if let Conn::Sqlite(c) = &self.conn {
            c.path().filter(|p| !p.is_empty())?;
        }
        self.at.clone()
    }

    /// Keep `n` prepared statements (the pipeline's letter paths use
    /// about twenty; SQLite's default cache is 16). PostgreSQL keeps every
    /// statement a connection prepared.
    pub fn keep_statements(&self, n: usize) {
        if let Conn::Sqlite(c) = &self.conn {
            c.set_prepared_statement_cache_capacity(n);
        }
    }

    /// Settings of the outbox sender's own connection: it never
    /// checkpoints the WAL itself (it runs on a runtime worker, and a
    /// checkpoint's two fsyncs there hold up the SMTP connections; the
    /// pipeline's connection checkpoints), and its marks need not reach
    /// the disk before the next send (after a power loss a lost "sent"
    /// mark resends that letter, nothing more). On PostgreSQL the same
    /// trade: its marks commit without waiting for the WAL flush.
    pub fn configure_for_sender(&self) -> Result<()> {
        match &self.conn {
            Conn::Sqlite(c) => {
                c.pragma_update(None, "wal_autocheckpoint", 0)?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
            }
            Conn::Pg(_) => self.conn.batch("SET synchronous_commit = off")?,
        }
        Ok(())
    }

    /// A passive WAL checkpoint (never waits for readers); PostgreSQL
    /// checkpoints by itself.
    pub fn checkpoint(&self) -> Result<()> {
        if let Conn::Sqlite(c) = &self.conn {
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_and_migrates_idempotently() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/db.sqlite3");
        drop(Store::open(&p, Duration::from_millis(100)).unwrap());
        let s = Store::open(&p, Duration::from_millis(100)).unwrap();
        let v: i64 = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
    }

    #[test]
    fn a_version_1_database_migrates_on_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite3");
        {
            let c = Connection::open(&p).unwrap();
            c.execute_batch(SCHEMA).unwrap();
            c.execute_batch("PRAGMA user_version = 1").unwrap();
        }
        let s = Store::open(&p, Duration::from_millis(100)).unwrap();
        let v: i64 = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM command_replays", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // Version 3: the ticket's channel, a letter's for tickets before.
        let (channel, by): (String, Option<String>) = s
            .conn()
            .query_row(
                "SELECT dflt_value, (SELECT name FROM pragma_table_info('tickets') WHERE name = 'registered_by') FROM pragma_table_info('tickets') WHERE name = 'channel'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (channel.as_str(), by.as_deref()),
            ("'email'", Some("registered_by"))
        );
    }

    #[test]
    fn stored_times_read_back_as_rfc_3339_reads_them() {
        for s in [
            "2026-12-05T11:37:18.680Z",
            "1999-01-01T00:00:00.000Z",
            "2026-02-28T23:59:59.999Z",
        ] {
            let fast = parse_stored(s.as_bytes()).unwrap();
            let slow = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert_eq!(fast, slow, "{s}");
            assert_eq!(ts(fast), s);
        }
        for other in [
            "2026-12-05T11:37:18Z",
            "2026-12-05T11:37:18.680+02:00",
            "2026-02-30T00:00:00.000Z",
            "2026-1x-05T11:37:18.680Z",
        ] {
            assert_eq!(parse_stored(other.as_bytes()), None, "{other}");
        }
        assert_eq!(
            parse_ts("2026-12-05T13:37:18.680+02:00"),
            parse_ts("2026-12-05T11:37:18.680Z")
        );
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite3");
        let s = Store::open(&p, Duration::from_millis(100)).unwrap();
        s.conn().execute_batch("PRAGMA user_version = 99").unwrap();
        drop(s);
        let e = Store::open(&p, Duration::from_millis(100)).err().unwrap();
        assert!(e.to_string().contains("newer"), "{e}");
    }
}

#[cfg(test)]
mod mailbox_state_tests {
    use super::*;

    /// A database written before mailbox names: its IMAP position moves to
    /// the default mailbox's keys on open; other state stays; a key the
    /// newer daemon wrote already wins; a second open changes nothing.
    #[test]
    fn old_global_imap_keys_move_under_the_default_mailbox_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite3");
        {
            let s = Store::open(&p, Duration::from_millis(100)).unwrap();
            for (k, v) in [
                ("imap.uidvalidity", "7"),
                ("imap.last_uid", "42"),
                ("imap.last_sync", "2026-12-01T10:00:00.000Z"),
                ("imap.ack_error", "MOVE refused"),
                ("commands.key", "abcd"),
                ("mailbox.main.imap.last_sync", "2026-12-02T10:00:00.000Z"),
            ] {
                s.conn()
                    .execute("INSERT INTO state(key, value) VALUES (?1, ?2)", [k, v])
                    .unwrap();
            }
        }
        for _ in 0..2 {
            let s = Store::open(&p, Duration::from_millis(100)).unwrap();
            let get = |k: &str| s.state_get(k).unwrap();
            let key = |k: &str| mailbox_state_key(DEFAULT_MAILBOX, k);
            assert_eq!(get(&key("imap.uidvalidity")).as_deref(), Some("7"));
            assert_eq!(get(&key("imap.last_uid")).as_deref(), Some("42"));
            assert_eq!(get(&key("imap.ack_error")).as_deref(), Some("MOVE refused"));
            assert_eq!(
                get(&key("imap.last_sync")).as_deref(),
                Some("2026-12-02T10:00:00.000Z"),
                "the newer key wins"
            );
            assert_eq!(
                get("commands.key").as_deref(),
                Some("abcd"),
                "not a mailbox key"
            );
            let left: i64 = s
                .conn()
                .query_row(
                    "SELECT count(*) FROM state WHERE key LIKE 'imap.%'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(left, 0, "no global IMAP keys left");
        }
    }
}
