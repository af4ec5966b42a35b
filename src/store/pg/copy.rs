//! `ticketd db copy`: a SQLite desk into PostgreSQL, every table and every
//! attachment file, resumable, verified.
//!
//! - **What**: the tables of [`TABLES`] in foreign-key order, each read in
//!   the order of its key and written in chunks (binary `COPY`), then the
//!   attachment files the `attachments` rows name into `attachment_blobs`
//!   (content-addressed: sha256 → bytes). `report_rows` is not copied: the
//!   PostgreSQL triggers rebuild it from `tickets` and `ticket_facts`, and
//!   the verification compares it with SQLite's like any other table (so
//!   it also proves the two engines' triggers agree). Row ids are kept,
//!   so ticket numbers, ids in history and outbox stay; the identity
//!   sequences are moved past the copied ids at the end.
//! - **Resumable**: every chunk is committed in one transaction with the
//!   table's progress (`ticketd_copy_progress`: last key copied, rows), so
//!   a copy killed at any moment restarts after the last committed chunk:
//!   nothing twice, nothing skipped. The source reads one snapshot (a read
//!   transaction held from start to verification); stop the daemon first.
//! - **Whose copy**: the source gets a random id (state key
//!   `copy.source_id`, written once); the target records it in
//!   `ticketd_copy_source`. A target that holds rows and is not a partial
//!   copy of this source is refused, untouched.
//! - **Verified**: per table, the row count and the digest of
//!   `super::digest` (ordered by the table's key) on both sides; for the
//!   attachments, the sorted SHA-256 names on the SQLite side against
//!   SHA-256 recomputed by PostgreSQL over each blob's bytes (files are
//!   checked against their name when read). Any difference fails the
//!   command, naming the table.

use super::digest::{Cell, ColKind, TableDigest};
use super::{describe, PgError, Result};
use futures::{pin_mut, TryStreamExt};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

/// A table: its name, the columns that order it (a unique key, or every
/// column), whether SQLite keeps it by rowid (then chunks follow the
/// rowid) and whether PostgreSQL derives it (not copied, still verified).
pub struct Table {
    pub name: &'static str,
    pub key: &'static [&'static str],
    rowid: bool,
    derived: bool,
}

const fn t(name: &'static str, key: &'static [&'static str], rowid: bool) -> Table {
    Table {
        name,
        key,
        rowid,
        derived: false,
    }
}

/// Every table of schema version 6, parents before children.
pub const TABLES: &[Table] = &[
    t("letters", &["id"], true),
    t("ticket_seq", &["prefix", "year"], true),
    t("tickets", &["id"], true),
    t("ticket_messages", &["message_id"], true),
    t("attachments", &["id"], true),
    t("rejected_attachments", &["id"], true),
    t("history", &["id"], true),
    t("outbox", &["id"], true),
    t(
        "outbox_recipients",
        &["outbox_id", "address", "created_at"],
        true,
    ),
    t("quarantine", &["id"], true),
    t("state", &["key"], true),
    t("command_replays", &["key"], true),
    t("ticket_facts", &["ticket_id"], false),
    t("leases", &["name"], false),
    t("daemons", &["id"], false),
    Table {
        name: "report_rows",
        key: &["ticket_id"],
        rowid: false,
        derived: true,
    },
];

/// Tables whose `id` is an identity column (moved past the copied ids).
const IDENTITY: [&str; 6] = [
    "letters",
    "attachments",
    "rejected_attachments",
    "history",
    "outbox",
    "quarantine",
];

/// The pseudo-table of the attachment bytes in the progress table.
const BLOBS: &str = "attachment_blobs";
/// The state key naming the source desk.
const SOURCE_KEY: &str = "copy.source_id";

/// How a copy runs.
pub struct CopyOptions<'a> {
    /// Rows per committed chunk.
    pub chunk_rows: usize,
    /// Stop (with an error) once this many rows were committed in this
    /// run: a test's stand-in for a crash between two chunks.
    pub stop_after_rows: Option<u64>,
    /// Attachment bytes by SHA-256, checked against the name.
    pub read_blob: &'a dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    /// One line per step (stderr for the CLI).
    pub progress: &'a mut dyn FnMut(&str),
}

/// One table's figures on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    pub table: String,
    pub rows: u64,
    pub digest: String,
}

/// What a finished copy verified.
#[derive(Debug)]
pub struct CopyReport {
    pub source_id: String,
    /// Rows written by this run (0 when an earlier run had finished).
    pub rows_copied: u64,
    pub tables: Vec<Compared>,
}

/// Copy the SQLite desk at `source` into the PostgreSQL database behind
/// `client` (migrated to the current version first).
pub async fn copy(
    source: &Path,
    client: &mut tokio_postgres::Client,
    opts: CopyOptions<'_>,
) -> Result<CopyReport> {
    let CopyOptions {
        chunk_rows,
        stop_after_rows,
        read_blob,
        progress,
    } = opts;
    // The source at the current version, with its id.
    let source_id = {
        let store = super::super::Store::open(source, std::time::Duration::from_secs(30))?;
        match store.state_get(SOURCE_KEY)? {
            Some(id) => id,
            None => {
                let id = hex::encode(rand::random::<[u8; 16]>());
                store.state_set(SOURCE_KEY, &id)?;
                id
            }
        }
    };
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // One snapshot for the copy and its verification.
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT count(*) FROM state", [], |_| Ok(()))?;

    let m = super::migrate::migrate_pg(client).await?;
    progress(&format!(
        "db copy: target schema version {} (was {})",
        m.to, m.from
    ));
    let finished = claim_target(client, &source_id).await?;
    let mut copied = 0u64;
    if !finished {
        for table in TABLES.iter().filter(|t| !t.derived) {
            copied += copy_table(
                &src,
                client,
                table,
                chunk_rows,
                &mut |n| stop_after_rows.is_some_and(|max| copied + n >= max),
                progress,
            )
            .await?;
        }
        copied += copy_blobs(&src, client, read_blob, chunk_rows, progress).await?;
        if let Some(max) = stop_after_rows.filter(|max| copied >= *max) {
            return Err(PgError::Copy(format!(
                "db copy: stopped after {copied} rows (limit {max}); run it again to resume"
            )));
        }
        for name in IDENTITY {
            client
                .execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{name}', 'id'),
                                coalesce((SELECT max(id) FROM {name}), 1),
                                (SELECT max(id) FROM {name}) IS NOT NULL)"
                    ),
                    &[],
                )
                .await?;
        }
    } else {
        progress("db copy: this source was copied here before; verifying");
    }
    let tables = verify(&src, client, progress).await?;
    client
        .execute(
            "UPDATE ticketd_copy_source SET finished_at = now() WHERE finished_at IS NULL",
            &[],
        )
        .await?;
    progress(&format!(
        "db copy: done, {} tables and the attachments verified",
        tables.len() - 1
    ));
    Ok(CopyReport {
        source_id,
        rows_copied: copied,
        tables,
    })
}

/// Make sure the target is empty or a copy of `source_id`; true when that
/// copy has finished.
async fn claim_target(client: &mut tokio_postgres::Client, source_id: &str) -> Result<bool> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS ticketd_copy_source (
                 id          TEXT PRIMARY KEY,
                 started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                 finished_at TIMESTAMPTZ
             );
             CREATE TABLE IF NOT EXISTS ticketd_copy_progress (
                 tbl      TEXT PRIMARY KEY,
                 last_key TEXT,
                 rows     BIGINT NOT NULL DEFAULT 0,
                 done     BOOLEAN NOT NULL DEFAULT false
             );",
        )
        .await?;
    let tx = client.transaction().await?;
    tx.execute("LOCK TABLE ticketd_copy_source IN EXCLUSIVE MODE", &[])
        .await?;
    let recorded: Option<(String, bool)> = tx
        .query_opt(
            "SELECT id, finished_at IS NOT NULL FROM ticketd_copy_source",
            &[],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)));
    match recorded {
        Some((id, finished)) if id == source_id => return Ok(finished),
        _ => {}
    }
    let mut holding = Vec::new();
    for name in TABLES.iter().map(|t| t.name).chain([BLOBS]) {
        let any: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {name})"), &[])
            .await?
            .get(0);
        if any {
            holding.push(name);
        }
    }
    if !holding.is_empty() {
        let whose = match &recorded {
            Some((id, _)) => format!("a copy of another desk (source id {id})"),
            None => "not a copy made by `ticketd db copy`".to_string(),
        };
        return Err(PgError::Copy(format!(
            "db copy: the target database is not empty ({} hold rows) and is {whose}, not of this desk (source id {source_id}); nothing was written. Copy into an empty database (createdb), or drop this one",
            holding.join(", ")
        )));
    }
    tx.batch_execute("DELETE FROM ticketd_copy_source; DELETE FROM ticketd_copy_progress;")
        .await?;
    tx.execute(
        "INSERT INTO ticketd_copy_source(id) VALUES ($1)",
        &[&source_id],
    )
    .await?;
    tx.commit().await?;
    Ok(false)
}

/// The target's column kinds of `columns` in `table`.
async fn pg_kinds(
    client: &tokio_postgres::Client,
    table: &str,
    columns: &[String],
) -> Result<(Vec<Type>, Vec<ColKind>)> {
    let stmt = client
        .prepare(&format!(
            "SELECT {} FROM {table} LIMIT 0",
            columns.join(", ")
        ))
        .await
        .map_err(|e| {
            PgError::Copy(format!(
                "db copy: table `{table}` differs between the engines: {}",
                describe(&e)
            ))
        })?;
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    let kinds = types
        .iter()
        .zip(columns)
        .map(|(ty, c)| {
            ColKind::of(ty).ok_or_else(|| {
                PgError::Copy(format!(
                    "db copy: `{table}.{c}` has type {ty}, not one the copy knows"
                ))
            })
        })
        .collect::<Result<_>>()?;
    Ok((types, kinds))
}

/// SQLite's columns of `table`, in order.
fn columns(src: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = src.prepare(&format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    ))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// Copy one table from its recorded progress on; the rows written.
async fn copy_table(
    src: &Connection,
    client: &mut tokio_postgres::Client,
    table: &Table,
    chunk_rows: usize,
    stop: &mut dyn FnMut(u64) -> bool,
    progress: &mut dyn FnMut(&str),
) -> Result<u64> {
    let name = table.name;
    let row: Option<(Option<String>, i64, bool)> = client
        .query_opt(
            "SELECT last_key, rows, done FROM ticketd_copy_progress WHERE tbl = $1",
            &[&name],
        )
        .await?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    let (mut last, mut done_rows) = match row {
        Some((_, rows, true)) => {
            progress(&format!("db copy: {name}: {rows} rows (copied before)"));
            return Ok(0);
        }
        Some((last, rows, false)) => (last, rows as u64),
        None => (None, 0),
    };
    let total: i64 = src.query_row(&format!("SELECT count(*) FROM {name}"), [], |r| r.get(0))?;
    let cols = columns(src, name)?;
    let (types, kinds) = pg_kinds(client, name, &cols).await?;
    // The key the chunks follow: the rowid, or the table's one-column key.
    let (key_sql, key_kind) = if table.rowid {
        ("rowid".to_string(), ColKind::Int)
    } else {
        let k = table.key[0];
        let i = cols.iter().position(|c| c == k).unwrap_or(0);
        (k.to_string(), kinds[i])
    };
    let select = |filter: &str| {
        format!(
            "SELECT {key_sql}, {} FROM {name} {filter} ORDER BY {key_sql} LIMIT {chunk_rows}",
            cols.join(", ")
        )
    };
    let mut first = src.prepare(&select(""))?;
    let mut next = src.prepare(&select(&format!("WHERE {key_sql} > ?1")))?;
    let mut written = 0u64;
    loop {
        let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(chunk_rows);
        let mut chunk_last = None;
        {
            let key_param: Option<rusqlite::types::Value> = match (&last, key_kind) {
                (Some(k), ColKind::Int) => {
                    Some(rusqlite::types::Value::Integer(k.parse().map_err(
                        |_| PgError::Copy(format!("db copy: bad progress key `{k}` for {name}")),
                    )?))
                }
                (Some(k), _) => Some(rusqlite::types::Value::Text(k.clone())),
                (None, _) => None,
            };
            let mut rows = match &key_param {
                Some(p) => next.query([p])?,
                None => first.query([])?,
            };
            while let Some(r) = rows.next()? {
                let key = Cell::from_sqlite(r.get_ref(0)?, key_kind)
                    .map_err(|e| PgError::Copy(format!("db copy: {name}: key: {e}")))?;
                let mut cells = Vec::with_capacity(cols.len());
                for (i, kind) in kinds.iter().enumerate() {
                    cells.push(Cell::from_sqlite(r.get_ref(i + 1)?, *kind).map_err(|e| {
                        PgError::Copy(format!(
                            "db copy: {name} (key {}), column `{}`: {e}",
                            key.key_text(),
                            cols[i]
                        ))
                    })?);
                }
                chunk_last = Some(key.key_text());
                chunk.push(cells);
            }
        }
        let tx = client.transaction().await?;
        if !chunk.is_empty() {
            let sink = tx
                .copy_in(&format!(
                    "COPY {name} ({}) FROM STDIN BINARY",
                    cols.join(", ")
                ))
                .await?;
            let writer = BinaryCopyInWriter::new(sink, &types);
            pin_mut!(writer);
            for cells in &chunk {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    cells.iter().map(Cell::as_sql).collect();
                writer
                    .as_mut()
                    .write(&refs)
                    .await
                    .map_err(|e| PgError::Copy(format!("db copy: {name}: {}", describe(&e))))?;
            }
            writer
                .finish()
                .await
                .map_err(|e| PgError::Copy(format!("db copy: {name}: {}", describe(&e))))?;
        }
        let n = chunk.len() as u64;
        let finished = (n as usize) < chunk_rows;
        if chunk_last.is_some() {
            last = chunk_last;
        }
        done_rows += n;
        tx.execute(
            "INSERT INTO ticketd_copy_progress(tbl, last_key, rows, done) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tbl) DO UPDATE SET last_key = EXCLUDED.last_key, rows = EXCLUDED.rows,
                                             done = EXCLUDED.done",
            &[&name, &last, &(done_rows as i64), &finished],
        )
        .await?;
        tx.commit().await?;
        written += n;
        progress(&format!("db copy: {name}: {done_rows}/{total} rows"));
        if finished {
            return Ok(written);
        }
        if stop(written) {
            return Err(PgError::Copy(format!(
                "db copy: stopped in {name} after {written} rows of this run (test limit); run it again to resume"
            )));
        }
    }
}

/// Copy the attachment files the rows name; the blobs written.
async fn copy_blobs(
    src: &Connection,
    client: &mut tokio_postgres::Client,
    read_blob: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    chunk_rows: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<u64> {
    let last: Option<(Option<String>, bool)> = client
        .query_opt(
            "SELECT last_key, done FROM ticketd_copy_progress WHERE tbl = $1",
            &[&BLOBS],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)));
    let mut last = match last {
        Some((_, true)) => return Ok(0),
        Some((k, false)) => k.unwrap_or_default(),
        None => String::new(),
    };
    let total: i64 = src.query_row("SELECT count(DISTINCT sha256) FROM attachments", [], |r| {
        r.get(0)
    })?;
    let mut written = 0u64;
    // Bounded by count and by bytes per transaction.
    const MAX_CHUNK_BYTES: usize = 32 << 20;
    loop {
        let names: Vec<String> = src
            .prepare_cached(
                "SELECT DISTINCT sha256 FROM attachments WHERE sha256 > ?1 ORDER BY sha256 LIMIT ?2",
            )?
            .query_map(rusqlite::params![last, chunk_rows as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let tx = client.transaction().await?;
        let insert = tx
            .prepare(
                "INSERT INTO attachment_blobs(sha256, size, content) VALUES ($1, $2, $3)
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .await?;
        let mut bytes = 0usize;
        let mut n = 0usize;
        for sha in &names {
            let data = read_blob(sha).map_err(|e| {
                let ticket: Option<String> = src
                    .query_row(
                        "SELECT ticket_id FROM attachments WHERE sha256 = ?1 LIMIT 1",
                        [sha],
                        |r| r.get(0),
                    )
                    .optional()
                    .ok()
                    .flatten();
                PgError::Copy(format!(
                    "db copy: attachment {sha} (ticket {}) cannot be read: {e}; restore the file under [attachments] dir and run the copy again",
                    ticket.unwrap_or_default()
                ))
            })?;
            tx.execute(&insert, &[sha, &(data.len() as i64), &data])
                .await?;
            bytes += data.len();
            n += 1;
            last = sha.clone();
            if bytes >= MAX_CHUNK_BYTES {
                break;
            }
        }
        let finished = names.len() < chunk_rows && n == names.len();
        tx.execute(
            "INSERT INTO ticketd_copy_progress(tbl, last_key, rows, done) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tbl) DO UPDATE SET last_key = EXCLUDED.last_key,
                 rows = ticketd_copy_progress.rows + $3, done = EXCLUDED.done",
            &[&BLOBS, &last, &(n as i64), &finished],
        )
        .await?;
        tx.commit().await?;
        written += n as u64;
        progress(&format!(
            "db copy: attachment files: {written}/{total} this run"
        ));
        if finished {
            return Ok(written);
        }
    }
}

/// Counts and digests of every table (and the attachments) on both sides;
/// an error naming the first table that differs.
pub async fn verify(
    src: &Connection,
    client: &tokio_postgres::Client,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Compared>> {
    let mut out = Vec::new();
    for table in TABLES {
        let cols = columns(src, table.name)?;
        let (_, kinds) = pg_kinds(client, table.name, &cols).await?;
        let order_pg = table
            .key
            .iter()
            .map(|k| {
                let i = cols.iter().position(|c| c == k).unwrap_or(0);
                if kinds[i] == ColKind::Text {
                    format!("{k} COLLATE \"C\"")
                } else {
                    k.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let list = cols.join(", ");
        let mut s = TableDigest::default();
        {
            let mut stmt = src.prepare(&format!(
                "SELECT {list} FROM {} ORDER BY {}",
                table.name,
                table.key.join(", ")
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let cells = (0..cols.len())
                    .map(|i| Cell::from_sqlite(r.get_ref(i)?, kinds[i]).map_err(PgError::Copy))
                    .collect::<Result<Vec<_>>>()?;
                s.add_row(&cells);
            }
        }
        let mut p = TableDigest::default();
        let stream = client
            .query_raw(
                &format!("SELECT {list} FROM {} ORDER BY {order_pg}", table.name),
                std::iter::empty::<i64>(),
            )
            .await?;
        pin_mut!(stream);
        while let Some(r) = stream.try_next().await? {
            let cells = (0..cols.len())
                .map(|i| Cell::from_pg(&r, i, kinds[i]).map_err(PgError::Copy))
                .collect::<Result<Vec<_>>>()?;
            p.add_row(&cells);
        }
        out.push(compare(table.name, s.finish(), p.finish(), progress)?);
    }
    // Attachments: the names SQLite's rows reference, against the hashes
    // PostgreSQL computes over the bytes it holds.
    let mut s = TableDigest::default();
    {
        let mut stmt = src.prepare("SELECT DISTINCT sha256 FROM attachments ORDER BY sha256")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            s.add_row(&[Cell::Text(Some(r.get(0)?))]);
        }
    }
    let mut p = TableDigest::default();
    let stream = client
        .query_raw(
            "SELECT encode(sha256(content), 'hex') FROM attachment_blobs ORDER BY sha256 COLLATE \"C\"",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(stream);
    while let Some(r) = stream.try_next().await? {
        p.add_row(&[Cell::Text(Some(r.get(0)))]);
    }
    out.push(compare(BLOBS, s.finish(), p.finish(), progress)?);
    Ok(out)
}

fn compare(
    table: &str,
    sqlite: (u64, String),
    pg: (u64, String),
    progress: &mut dyn FnMut(&str),
) -> Result<Compared> {
    if sqlite != pg {
        return Err(PgError::Copy(format!(
            "db copy: verification failed for {table}: SQLite {} rows (sha256 {}), PostgreSQL {} rows (sha256 {}); the target is left as it is for inspection",
            sqlite.0, sqlite.1, pg.0, pg.1
        )));
    }
    progress(&format!(
        "db copy: verified {table}: {} rows, sha256 {}",
        sqlite.0, sqlite.1
    ));
    Ok(Compared {
        table: table.to_string(),
        rows: sqlite.0,
        digest: sqlite.1,
    })
}
