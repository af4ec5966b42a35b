//! Schema versions for both engines from one numbered set.
//!
//! SQLite keeps its version in `PRAGMA user_version` and its steps in
//! `crate::store` (`schema.sql`, `m002_…sql` … `m009_…sql`); PostgreSQL
//! keeps it in the table `schema_version` (one row per version applied)
//! and its steps in [`PG_MIGRATIONS`], numbered the same. PostgreSQL
//! starts at version 6 (`m006_baseline.sql`: the whole SQLite schema of
//! version 6), so an empty database goes straight there.
//!
//! **Adding version N** is two files with the same number: the SQLite step
//! `src/store/m00N_name.sql` (listed in `store::MIGRATIONS`, `VERSION =
//! N`) and its twin `src/store/pg/m00N_name.sql` (listed in
//! [`PG_MIGRATIONS`] as `(N, …)`). A unit test fails while the two
//! engines' latest versions differ.
//!
//! Applying is idempotent and safe to race: one transaction under an
//! advisory lock reads the version, applies the missing steps and records
//! them; a database newer than this ticketd is refused, never touched.

use super::{PgError, Result};
use std::path::Path;

/// PostgreSQL's steps: `(version, SQL)`, ascending.
pub const PG_MIGRATIONS: &[(i64, &str)] = &[
    (6, include_str!("m006_baseline.sql")),
    (7, include_str!("m007_engineer_figures.sql")),
    (8, include_str!("m008_mailbox.sql")),
    (9, include_str!("m009_mailbox_figures.sql")),
];

/// The version this ticketd brings (the same for both engines).
pub const VERSION: i64 = super::super::VERSION;

/// Key of the advisory lock that serialises migrations (any constant
/// ticketd alone uses: "tkd" in ASCII).
const LOCK_KEY: i64 = 0x0074_6b64;

/// The version a migration found and the one it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
}

/// The schema version of the database behind `client`: 0 when it has
/// no `schema_version` table (empty).
pub async fn pg_version(client: &tokio_postgres::Client) -> Result<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i64> = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await?
        .get(0);
    Ok(v.unwrap_or(0))
}

/// Bring PostgreSQL to [`VERSION`].
pub async fn migrate_pg(client: &mut tokio_postgres::Client) -> Result<Migrated> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let from: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    let known = PG_MIGRATIONS.last().map_or(0, |m| m.0);
    if from > known {
        return Err(PgError::TooNew { found: from, known });
    }
    for (version, sql) in PG_MIGRATIONS.iter().filter(|(v, _)| *v > from) {
        tx.batch_execute(sql).await.map_err(|e| {
            PgError::Copy(format!(
                "PostgreSQL schema version {version} failed: {}",
                super::describe(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_version(version) VALUES ($1)",
            &[version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Migrated { from, to: known })
}

/// Bring the SQLite file at `path` to [`VERSION`] (creating it when
/// absent): what every command does on open, with the versions reported.
pub fn migrate_sqlite(path: &Path, busy: std::time::Duration) -> Result<Migrated> {
    let from = if path.exists() {
        let c = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        c.query_row("PRAGMA user_version", [], |r| r.get(0))?
    } else {
        0
    };
    drop(super::super::Store::open(path, busy)?);
    Ok(Migrated { from, to: VERSION })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new SQLite version without its PostgreSQL twin (or the other way
    /// round) fails here, not in production.
    #[test]
    fn both_engines_end_at_the_same_version() {
        assert_eq!(
            PG_MIGRATIONS.last().map(|m| m.0),
            Some(VERSION),
            "add src/store/pg/m{VERSION:03}_….sql to PG_MIGRATIONS"
        );
        assert_eq!(super::super::super::MIGRATIONS.len() as i64, VERSION);
        assert!(PG_MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn sqlite_migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.sqlite3");
        let busy = std::time::Duration::from_millis(100);
        assert_eq!(
            migrate_sqlite(&p, busy).unwrap(),
            Migrated {
                from: 0,
                to: VERSION
            }
        );
        assert_eq!(
            migrate_sqlite(&p, busy).unwrap(),
            Migrated {
                from: VERSION,
                to: VERSION
            }
        );
        rusqlite::Connection::open(&p)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let e = migrate_sqlite(&p, busy).unwrap_err().to_string();
        assert!(e.contains("newer"), "{e}");
    }
}
