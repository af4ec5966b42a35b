//! Read-only peeks into a ticketd database while the daemon works on it
//! (counts for waits and benchmarks); 0 while the file does not exist yet.

use std::path::Path;

/// Outbox rows the SMTP server has accepted.
pub fn sent_count(db: &Path) -> usize {
    Peek::default().sent_count(db)
}

/// Tickets committed.
pub fn ticket_count(db: &Path) -> usize {
    Peek::default().ticket_count(db)
}

/// The same counts over one connection kept open, for loops that poll
/// often (the benchmark): opening the database for every look costs more
/// than the look. [`Peek::postgres`] looks into a PostgreSQL database
/// instead (the `db` path of each call is then not used).
#[derive(Default)]
pub struct Peek {
    conn: Option<rusqlite::Connection>,
    pg: Option<(tokio::runtime::Runtime, tokio_postgres::Client)>,
}

impl Peek {
    /// Peeks into PostgreSQL `url` (no TLS: a private test cluster).
    pub fn postgres(url: &str, password: &str) -> Peek {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut cfg: tokio_postgres::Config = url.parse().expect("PostgreSQL URL");
        cfg.password(password);
        let client = rt.block_on(async {
            let (client, conn) = cfg
                .connect(tokio_postgres::NoTls)
                .await
                .expect("connect to PostgreSQL");
            tokio::spawn(conn);
            client
        });
        Peek {
            conn: None,
            pg: Some((rt, client)),
        }
    }

    fn count(&mut self, db: &Path, sql: &str) -> usize {
        if let Some((rt, client)) = &self.pg {
            // 0 until ticketd has made the schema.
            return rt
                .block_on(client.query_one(sql, &[]))
                .map(|r| r.get::<_, i64>(0) as usize)
                .unwrap_or(0);
        }
        if self.conn.is_none() && db.exists() {
            self.conn = rusqlite::Connection::open_with_flags(
                db,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .ok();
        }
        let Some(conn) = &self.conn else {
            return 0;
        };
        conn.prepare_cached(sql)
            .and_then(|mut st| st.query_row([], |r| r.get::<_, i64>(0)))
            .map(|n| n as usize)
            .unwrap_or(0)
    }

    /// Outbox rows the SMTP server has accepted.
    pub fn sent_count(&mut self, db: &Path) -> usize {
        self.count(db, "SELECT count(*) FROM outbox WHERE status = 'sent'")
    }

    /// Tickets committed.
    pub fn ticket_count(&mut self, db: &Path) -> usize {
        self.count(db, "SELECT count(*) FROM tickets")
    }
}
