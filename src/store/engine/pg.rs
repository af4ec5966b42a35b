//! One PostgreSQL connection behind the synchronous store API.
//!
//! The store is synchronous (its callers are the pipeline under
//! `spawn_blocking`, the CLI, and a few tokio tasks that call it directly
//! on a runtime worker: the sender, the lease keeper, the metrics). A
//! tokio `Runtime::block_on` there panics, and so does the synchronous
//! `postgres` crate (it is that `block_on` over tokio-postgres). So:
//!
//! - the connection's I/O (the socket, TLS, the protocol's
//!   `Connection` future) runs on a thread of its own, a current-thread
//!   runtime driven for as long as the handle lives;
//! - the caller drives its own requests (`Client::query`, which talk to the
//!   connection through channels, not through tokio) with a minimal
//!   executor of its own ([`block_on`]: poll, park the thread until woken).
//!   That is allowed on any thread, a runtime worker too: it blocks that
//!   thread as a SQLite call does, and each statement costs one round trip
//!   and two thread wake-ups, not a hop to another thread and back.
//!
//! Statements are prepared once per connection and kept; a connection the
//! server closed is made again before the next call outside a transaction.

use super::value::Value;
use crate::config::{PgTarget, SslMode};
use crate::store::{Result, StoreError};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake};

/// Run `f` to its end on this thread: poll it, and park the thread until
/// its waker is called (by the connection's I/O thread).
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            // A spurious wake-up only polls again.
            Poll::Pending => std::thread::park(),
        }
    }
}

type Connected = std::result::Result<tokio_postgres::Client, String>;
/// A request to the I/O thread: connect, and answer with the client.
type ConnectJob = mpsc::SyncSender<Connected>;

/// One connection: its client (used on the caller's thread) and the I/O
/// thread that keeps the socket.
pub struct PgConn {
    io: tokio::sync::mpsc::UnboundedSender<ConnectJob>,
    client: RefCell<tokio_postgres::Client>,
    statements: RefCell<HashMap<String, tokio_postgres::Statement>>,
    /// Is a transaction open (`BEGIN` sent, no `COMMIT`/`ROLLBACK` yet)?
    pub(super) in_tx: Cell<bool>,
    /// Shown in errors: the URL without its password.
    pub(super) shown: String,
    /// The desk's calendar for working times (SQLite has it as a SQL
    /// function, `store::facts`; PostgreSQL's are computed here).
    pub calendar: RefCell<crate::workflow::Calendar>,
}

impl PgConn {
    /// Connect to `target` (the I/O on a thread of its own) and bring the
    /// schema to this ticketd's version.
    pub fn open(target: &PgTarget) -> Result<PgConn> {
        let shown = crate::config::database::redact(&target.url);
        let fail = |reason: String| StoreError::PgConnect {
            url: shown.clone(),
            reason,
        };
        let mut cfg: tokio_postgres::Config = target
            .url
            .parse()
            .map_err(|e| fail(format!("not a PostgreSQL URL: {e}")))?;
        if let Some(p) = &target.password {
            cfg.password(p.as_bytes());
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("ticketd");
        }
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(std::time::Duration::from_secs(10));
        }
        let tls = match target.sslmode {
            SslMode::Disable => {
                cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
                None
            }
            mode => {
                cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
                Some(crate::store::pg::tls_config(mode, target.ca_file.as_deref()).map_err(fail)?)
            }
        };
        let given_by = target.given_by;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start its runtime: {e}")))?;
        let (io, mut jobs) = tokio::sync::mpsc::unbounded_channel::<ConnectJob>();
        std::thread::Builder::new()
            .name("ticketd-pg".into())
            .spawn(move || {
                // Until every handle is dropped; the connections' tasks run
                // meanwhile.
                rt.block_on(async move {
                    while let Some(answer) = jobs.recv().await {
                        let connected = match &tls {
                            None => cfg.connect(tokio_postgres::NoTls).await.map(|(c, conn)| {
                                tokio::spawn(conn);
                                c
                            }),
                            Some(tls) => cfg
                                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone()))
                                .await
                                .map(|(c, conn)| {
                                    tokio::spawn(conn);
                                    c
                                }),
                        };
                        let _ = answer.send(connected.map_err(|e| {
                            format!("{}; check {given_by}", crate::store::pg::describe(&e))
                        }));
                    }
                });
            })
            .map_err(|e| fail(format!("cannot start its thread: {e}")))?;
        let mut client = connect(&io).map_err(fail)?;
        block_on(crate::store::pg::migrate::migrate_pg(&mut client))
            .map_err(|e| fail(e.to_string()))?;
        Ok(PgConn {
            io,
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            in_tx: Cell::new(false),
            shown,
            calendar: RefCell::new(crate::workflow::Calendar::always()),
        })
    }

    /// A connection the server closed (restart, failover) is made again
    /// before the next call outside a transaction: that call and the later
    /// ones work once the server is back. The calls that found it closed
    /// have failed (a transient error): their transaction was rolled back
    /// by the server, and the caller retries the letter. Never inside a
    /// transaction: its statements must not go on in autocommit on a new
    /// connection.
    fn reconnect_if_lost(&self) -> Result<()> {
        if self.in_tx.get() || !self.client.borrow().is_closed() {
            return Ok(());
        }
        let client = connect(&self.io).map_err(|reason| StoreError::PgConnect {
            url: self.shown.clone(),
            reason,
        })?;
        tracing::info!("PostgreSQL connection made again");
        *self.client.borrow_mut() = client;
        self.statements.borrow_mut().clear();
        Ok(())
    }

    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        self.reconnect_if_lost()?;
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let translated = placeholders(sql);
        let s = block_on(self.client.borrow().prepare(&translated))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Rows of `sql` (SQLite spelling of placeholders allowed).
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<tokio_postgres::Row>> {
        let st = self.statement(sql)?;
        let refs = refs(params);
        Ok(block_on(self.client.borrow().query(&st, &refs))?)
    }

    /// Rows changed by `sql`.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let st = self.statement(sql)?;
        let refs = refs(params);
        Ok(block_on(self.client.borrow().execute(&st, &refs))?)
    }

    /// Statements without parameters, in one round trip.
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.reconnect_if_lost()?;
        Ok(block_on(self.client.borrow().batch_execute(sql))?)
    }
}

/// A new connection made on the I/O thread.
fn connect(io: &tokio::sync::mpsc::UnboundedSender<ConnectJob>) -> Connected {
    let (tx, rx) = mpsc::sync_channel(1);
    io.send(tx)
        .map_err(|_| "its I/O thread has ended; restart ticketd".to_string())?;
    rx.recv()
        .map_err(|_| "its I/O thread ended while connecting".to_string())?
}

fn refs<'a>(params: &'a [Value<'_>]) -> Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// SQLite's placeholders (`?1`, `?`) in PostgreSQL's spelling (`$1`);
/// quoted text and identifiers are left alone.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1u32;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c = ?12 OR d = '?1' AND \"?\" = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 OR d = '?1' AND \"?\" = $1"
        );
        assert_eq!(placeholders("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
    }
}
