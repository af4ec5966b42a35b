//! The seam between the store's use-case methods and the two database
//! engines (issue 17): SQLite (`rusqlite`, in-process) and PostgreSQL
//! (`tokio-postgres`, its I/O on a thread of its own, the caller's
//! requests driven on the caller's thread: see [`pg`] for why).
//!
//! Why a small connection type and not a trait with a second copy of
//! every method: the store's SQL is portable in nearly every statement
//! (PostgreSQL's baseline mirrors SQLite's types: BIGINT, BYTEA, times as
//! RFC 3339 text, and both speak `ON CONFLICT`, `RETURNING`, savepoints).
//! So each method is written once against [`Conn`], with neutral
//! parameters ([`Value`], [`params!`]) and rows ([`Row`]); placeholders are
//! written SQLite's way (`?1`) and translated for PostgreSQL. Where the
//! dialects differ (`json_each`, `julianday`, PRAGMAs, the outbox claim's
//! `FOR UPDATE SKIP LOCKED`, the ticket number function), the method picks
//! its statement with [`Conn::engine`]. Nothing outside `store` sees a
//! driver type.

pub mod pg;
pub mod value;

pub use value::{Cell, FromCell, Row, ToValue, Value};

use super::Result;

/// The neutral parameters of a statement: `params![a, b, c]`.
macro_rules! params {
    () => { [] as [$crate::store::engine::Value; 0] };
    ($($e:expr),+ $(,)?) => {
        [$($crate::store::engine::ToValue::to_value(&$e)),+]
    };
}
pub(crate) use params;

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// One connection of either engine.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(Box<pg::PgConn>),
}

impl Conn {
    pub fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Pg(_) => Engine::Postgres,
        }
    }

    /// `sqlite` on SQLite, `pg` on PostgreSQL: a statement whose dialects
    /// differ.
    pub fn pick<'s>(&self, sqlite: &'s str, pg: &'s str) -> &'s str {
        match self {
            Conn::Sqlite(_) => sqlite,
            Conn::Pg(_) => pg,
        }
    }

    /// Run a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, p: &[Value]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(p.iter()))?),
            Conn::Pg(c) => Ok(usize::try_from(c.execute(sql, p)?).unwrap_or(usize::MAX)),
        }
    }

    /// Hand every row to `each`, in order, until it returns an error.
    pub fn query_each<E: From<super::StoreError>>(
        &self,
        sql: &str,
        p: &[Value],
        mut each: impl FnMut(&Row<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).map_err(super::StoreError::from)?;
                let mut rows = st
                    .query(rusqlite::params_from_iter(p.iter()))
                    .map_err(super::StoreError::from)?;
                while let Some(r) = rows.next().map_err(super::StoreError::from)? {
                    each(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Conn::Pg(c) => {
                for r in c.query(sql, p)? {
                    each(&Row::Pg(&r))?;
                }
                Ok(())
            }
        }
    }

    /// Every row, read by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        p: &[Value],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, p, |r| {
            out.push(f(r)?);
            Ok::<(), super::StoreError>(())
        })?;
        Ok(out)
    }

    /// The first row, read by `f`; `None` when there is none.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        p: &[Value],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(rusqlite::params_from_iter(p.iter()))?;
                match rows.next()? {
                    Some(r) => Ok(Some(f(&Row::Sqlite(r))?)),
                    None => Ok(None),
                }
            }
            Conn::Pg(c) => match c.query(sql, p)?.first() {
                Some(r) => Ok(Some(f(&Row::Pg(r))?)),
                None => Ok(None),
            },
        }
    }

    /// The first row, read by `f`; an error when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        p: &[Value],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, p, f)?
            .ok_or_else(|| super::StoreError::NoRow(sql.split_whitespace().take(6).collect()))
    }

    /// The first column of the first row.
    pub fn one<T: for<'a> FromCell<'a>>(&self, sql: &str, p: &[Value]) -> Result<T> {
        self.query_row(sql, p, |r| r.get(0))
    }

    /// Statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => c.batch(sql),
        }
    }

    /// Is a transaction open?
    pub fn in_transaction(&self) -> bool {
        match self {
            Conn::Sqlite(c) => !c.is_autocommit(),
            Conn::Pg(c) => c.in_tx.get(),
        }
    }

    /// Start a write transaction: on SQLite IMMEDIATE (the write lock now,
    /// so a busy database fails here); on PostgreSQL READ COMMITTED with
    /// row locks where a statement needs them.
    pub fn begin(&self) -> Result<Tx<'_>> {
        self.begin_raw()?;
        Ok(Tx {
            conn: self,
            savepoint: false,
            done: false,
        })
    }

    pub(crate) fn begin_raw(&self) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch("BEGIN IMMEDIATE")?),
            Conn::Pg(c) => {
                c.batch("BEGIN")?;
                c.in_tx.set(true);
                Ok(())
            }
        }
    }

    pub(crate) fn commit_raw(&self) -> Result<()> {
        let r = self.batch("COMMIT");
        if let Conn::Pg(c) = self {
            // A failed COMMIT ends the transaction too (rolled back).
            c.in_tx.set(false);
        }
        r
    }

    pub(crate) fn rollback_raw(&self) -> Result<()> {
        let r = self.batch("ROLLBACK");
        if let Conn::Pg(c) = self {
            c.in_tx.set(false);
        }
        r
    }

    /// A savepoint inside the open transaction.
    pub fn savepoint(&self) -> Result<Tx<'_>> {
        self.batch("SAVEPOINT unit")?;
        Ok(Tx {
            conn: self,
            savepoint: true,
            done: false,
        })
    }

    /// The SQLite connection (in-crate tests and SQLite-only settings).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }
}

/// An open transaction or savepoint; dropped without [`Tx::commit`], it
/// is rolled back.
pub struct Tx<'a> {
    conn: &'a Conn,
    savepoint: bool,
    done: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        if self.savepoint {
            self.conn.batch("RELEASE unit")
        } else {
            self.conn.commit_raw()
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let r = if self.savepoint {
            self.conn.batch("ROLLBACK TO unit; RELEASE unit")
        } else if self.conn.in_transaction() {
            self.conn.rollback_raw()
        } else {
            Ok(())
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "rolling back failed");
        }
    }
}
