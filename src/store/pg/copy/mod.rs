//! `ticketd db copy`: a SQLite desk into PostgreSQL, every table and every
//! attachment file, resumable, verified.
//!
//! - **What**: the tables of [`TABLES`] in foreign-key order, each read in
//!   the order of its key and written in chunks (binary `COPY`), then the
//!   attachment files the `attachments` rows name into `attachment_blobs`
//!   (content-addressed: sha256 → bytes). `report_rows` and the
//!   engineers' figures (`engineer_days`, `engineer_recloses`,
//!   `engineer_solutions`) are not copied: the PostgreSQL triggers rebuild
//!   them from `tickets`, `history` and `ticket_facts`, and the
//!   verification compares them with SQLite's like any other table (so it
//!   also proves the two engines' triggers agree). Row ids are kept,
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

mod tables;
mod verify;

pub use verify::verify;

use super::{PgError, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use tables::{copy_blobs, copy_table};

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

/// Every table of schema version 9, parents before children. The
/// engineers are copied before the history, so that PostgreSQL's triggers
/// derive the engineers' figures (migration 7) with SQLite's numbers.
pub const TABLES: &[Table] = &[
    t("letters", &["id"], true),
    t("ticket_seq", &["prefix", "year"], true),
    t("tickets", &["id"], true),
    t("ticket_messages", &["message_id"], true),
    t("attachments", &["id"], true),
    t("rejected_attachments", &["id"], true),
    t("engineers", &["id"], true),
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
    derived("report_rows", &["ticket_id"]),
    derived("engineer_days", &["day", "engineer"]),
    derived("engineer_recloses", &["at_ms", "history_id"]),
    derived("engineer_solutions", &["at_ms", "history_id"]),
];

/// A table PostgreSQL's triggers fill from the copied ones.
const fn derived(name: &'static str, key: &'static [&'static str]) -> Table {
    Table {
        name,
        key,
        rowid: false,
        derived: true,
    }
}

/// Tables whose `id` is an identity column (moved past the copied ids).
const IDENTITY: [&str; 7] = [
    "letters",
    "engineers",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A table a new SQLite migration adds must be copied (or derived):
    /// the list of [`TABLES`] is every table of the current schema.
    #[test]
    fn every_sqlite_table_is_copied_or_derived() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sqlite3");
        drop(crate::store::Store::open(&path, std::time::Duration::from_secs(5)).unwrap());
        let db = Connection::open(&path).unwrap();
        let mut in_sqlite: Vec<String> = db
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        in_sqlite.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|t| t.name.to_string()).collect();
        listed.sort();
        assert_eq!(in_sqlite, listed, "add the new table to copy::TABLES");
        // Each table once.
        listed.dedup();
        assert_eq!(listed.len(), TABLES.len());
        // Only tables keyed by `id` can have an identity sequence to move.
        for name in IDENTITY {
            let t = TABLES.iter().find(|t| t.name == name).unwrap();
            assert_eq!(t.key, ["id"], "{name}");
        }
    }
}
