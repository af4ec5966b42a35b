//! One PostgreSQL connection behind the synchronous store API.
//!
//! The store is synchronous (its callers are the pipeline under
//! `spawn_blocking`, the CLI, and a few tokio tasks that call it directly
//! on a runtime worker: the sender, the lease keeper, the metrics). A
//! `Runtime::block_on` on a runtime worker panics, and so does the
//! synchronous `postgres` crate (it is `block_on` over tokio-postgres).
//! So each PostgreSQL store handle owns a thread of its own with a
//! current-thread runtime, the tokio-postgres client and its connection
//! task; a call sends the work there and waits on a plain channel, which
//! is allowed anywhere (it blocks the caller's thread as a SQLite call
//! does). Statements are prepared once per connection and kept; a
//! connection the server closed is made again before the next call.

use super::value::Value;
use crate::config::{PgTarget, SslMode};
use crate::store::{Result, StoreError};
use std::collections::HashMap;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Worker) + Send>;
/// Makes the connection (again, after a lost one).
type Connect = Box<
    dyn Fn(&tokio::runtime::Runtime) -> std::result::Result<tokio_postgres::Client, String> + Send,
>;

/// The caller's side: where the work goes.
pub struct PgConn {
    jobs: mpsc::Sender<Job>,
    /// Is a transaction open (`BEGIN` sent, no `COMMIT`/`ROLLBACK` yet)?
    pub(super) in_tx: std::cell::Cell<bool>,
    /// Shown in errors: the URL without its password.
    pub(super) shown: String,
    /// The desk's calendar for working times (SQLite has it as a SQL
    /// function, `store::facts`; PostgreSQL's are computed here).
    pub calendar: std::cell::RefCell<crate::workflow::Calendar>,
}

/// The connection's thread: the runtime, the client and its statements.
pub struct Worker {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    connect: Connect,
    statements: HashMap<String, tokio_postgres::Statement>,
}

impl PgConn {
    /// Connect to `target` on a thread of its own and bring the schema to
    /// this ticketd's version.
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
        let (jobs, incoming) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::sync_channel::<std::result::Result<(), String>>(1);
        std::thread::Builder::new()
            .name("ticketd-pg".into())
            .spawn(move || {
                let started = (|| -> std::result::Result<Worker, String> {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    let connect: Connect = Box::new(move |rt| {
                        let connected = rt.block_on(async {
                            match &tls {
                                None => {
                                    cfg.connect(tokio_postgres::NoTls).await.map(|(c, conn)| {
                                        tokio::spawn(conn);
                                        c
                                    })
                                }
                                Some(tls) => cfg
                                    .connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                                        tls.clone(),
                                    ))
                                    .await
                                    .map(|(c, conn)| {
                                        tokio::spawn(conn);
                                        c
                                    }),
                            }
                        });
                        connected.map_err(|e| {
                            format!("{}; check {given_by}", crate::store::pg::describe(&e))
                        })
                    });
                    let mut client = connect(&rt)?;
                    rt.block_on(crate::store::pg::migrate::migrate_pg(&mut client))
                        .map_err(|e| e.to_string())?;
                    Ok(Worker {
                        rt,
                        client,
                        connect,
                        statements: HashMap::new(),
                    })
                })();
                let mut worker = match started {
                    Ok(w) => {
                        let _ = ready_tx.send(Ok(()));
                        w
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Until every handle is dropped.
                while let Ok(job) = incoming.recv() {
                    job(&mut worker);
                }
            })
            .map_err(|e| fail(format!("cannot start its thread: {e}")))?;
        match ready.recv() {
            Ok(Ok(())) => Ok(PgConn {
                jobs,
                in_tx: std::cell::Cell::new(false),
                shown,
                calendar: std::cell::RefCell::new(crate::workflow::Calendar::always()),
            }),
            Ok(Err(reason)) => Err(fail(reason)),
            Err(_) => Err(fail("its thread ended while connecting".into())),
        }
    }

    /// Run `f` on the connection's thread and wait for its answer.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Worker) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let gone = || StoreError::PgConnect {
            url: self.shown.clone(),
            reason: "the connection's thread has ended (connection lost); restart ticketd".into(),
        };
        // Never inside a transaction: its statements must not go on in
        // autocommit on a new connection; it fails, and the next one
        // begins on the new connection.
        let may_reconnect = !self.in_tx.get();
        self.jobs
            .send(Box::new(move |w: &mut Worker| {
                if may_reconnect {
                    w.reconnect_if_lost();
                }
                let _ = tx.send(f(w));
            }))
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())
    }

    /// Rows of `sql` (SQLite spelling of placeholders allowed).
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<tokio_postgres::Row>> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(move |w| w.query(&sql, &params))?
            .map_err(StoreError::from)
    }

    /// Rows changed by `sql`.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(move |w| w.execute(&sql, &params))?
            .map_err(StoreError::from)
    }

    /// Statements without parameters, in one round trip.
    pub fn batch(&self, sql: &str) -> Result<()> {
        let sql = sql.to_string();
        self.call(move |w| w.rt.block_on(w.client.batch_execute(&sql)))?
            .map_err(StoreError::from)
    }
}

impl Worker {
    /// A connection the server closed (restart, failover) is made again
    /// before the next call outside a transaction: that call and the later
    /// ones work once the server is back. The calls that found it closed
    /// have failed (a transient error): their transaction was rolled back
    /// by the server, and the caller retries the letter.
    fn reconnect_if_lost(&mut self) {
        if !self.client.is_closed() {
            return;
        }
        match (self.connect)(&self.rt) {
            Ok(c) => {
                tracing::info!("PostgreSQL connection made again");
                self.client = c;
                self.statements.clear();
            }
            Err(e) => tracing::warn!(error = %e, "PostgreSQL connection still lost"),
        }
    }

    fn statement(
        &mut self,
        sql: &str,
    ) -> std::result::Result<tokio_postgres::Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let translated = placeholders(sql);
        let s = self.rt.block_on(self.client.prepare(&translated))?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> std::result::Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        let st = self.statement(sql)?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        self.rt.block_on(self.client.query(&st, &refs))
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        let st = self.statement(sql)?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        self.rt.block_on(self.client.execute(&st, &refs))
    }
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
