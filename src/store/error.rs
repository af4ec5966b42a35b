//! What can go wrong in the store, each error saying what to do, and
//! which errors may pass by themselves ([`StoreError::is_transient`]: the
//! letter is kept and retried).

use super::{pg, VERSION};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database `{}`: {cause}", path.display())]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("cannot create folder `{}` for the database: {cause}", path.display())]
    Folder {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot create database file `{}`: {cause}", path.display())]
    Create {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("database `{}` has schema version {found}, newer than this ticketd knows ({VERSION}); upgrade ticketd", path.display())]
    TooNew { path: PathBuf, found: i64 },
    #[error("the lease `{lease}` is another daemon's now; the letter is left for it")]
    Fenced { lease: String },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", pg::describe(.0))]
    Pg(#[from] tokio_postgres::Error),
    #[error("PostgreSQL `{url}`: {reason}")]
    PgConnect { url: String, reason: String },
    #[error("column {column} holds {found}, not a {want}; is the database from a newer ticketd?")]
    Column {
        column: usize,
        want: &'static str,
        found: String,
    },
    #[error("no row from `{0} …`: the database lost a row ticketd wrote; check it")]
    NoRow(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Errors that may go away by themselves: the database is locked by
    /// another process, read-only for now, or the disk is full. The letter
    /// must be retried later, not dropped (`ingest` exits 75).
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode::*;
        let sql = match self {
            StoreError::Sql(e) | StoreError::Open { cause: e, .. } => e,
            StoreError::Io(_) | StoreError::Folder { .. } | StoreError::Create { .. } => {
                return true
            }
            StoreError::TooNew { .. } | StoreError::Column { .. } | StoreError::NoRow(_) => {
                return false
            }
            // A lost server or connection, a serialization failure or a
            // deadlock: the next try may work; a constraint never will.
            StoreError::PgConnect { .. } => return true,
            StoreError::Pg(e) => return pg_transient(e),
            // Left where it is, for the lease's new holder.
            StoreError::Fenced { .. } => return true,
        };
        matches!(
            sql.sqlite_error_code(),
            Some(
                DatabaseBusy | DatabaseLocked | ReadOnly | DiskFull | CannotOpen | SystemIoFailure
            )
        )
    }
}

impl StoreError {
    /// A unique key refused the statement (on either engine): for a
    /// letter's identity, another process stored the same letter first.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sql(e) => matches!(
                e,
                rusqlite::Error::SqliteFailure(f, _)
                    if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            StoreError::Pg(e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }
}

/// Is a PostgreSQL error one that may pass by itself?
fn pg_transient(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    match e.code() {
        None => true,
        Some(c) => {
            let class = &c.code()[..2];
            // 08 connection, 53 resources, 57 operator intervention
            // (shutdown, failover), 40 rollback (serialization, deadlock).
            // A unique key taken by a transaction that committed first (the
            // same letter through two paths at once, e.g. two `ingest`
            // processes): the retry finds the letter seen, a duplicate.
            matches!(class, "08" | "53" | "57" | "40")
                || *c == SqlState::LOCK_NOT_AVAILABLE
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION
                || *c == SqlState::UNIQUE_VIOLATION
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;
