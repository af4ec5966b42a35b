//! The same test on both engines (issue 17): a [`TestDesk`] whose
//! `[database]` is the SQLite file (as always) or a database of a private
//! PostgreSQL cluster (`support/pg.rs`), and an engine-neutral view of the
//! store for the checks ([`EngineDesk::store`]).
//!
//! Include with `#[path = "common/engines.rs"] mod engines;` next to
//! `mod common;` and `#[path = "support/pg.rs"] mod pg;`.
#![allow(dead_code)]

use super::common::TestDesk;
use super::pg::Cluster;

/// The engines a parameterised test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub const BOTH: [Engine; 2] = [Engine::Sqlite, Engine::Postgres];

/// A test desk on one engine; the PostgreSQL cluster lives as long as it.
pub struct EngineDesk {
    pub desk: TestDesk,
    pub engine: Engine,
    pub cluster: Option<Cluster>,
}

impl std::ops::Deref for EngineDesk {
    type Target = TestDesk;
    fn deref(&self) -> &TestDesk {
        &self.desk
    }
}

/// Point `cfg`'s `[database]` at database `db` of `pg`.
pub fn use_postgres(cfg: &mut toml::Table, pg: &Cluster, db: &str) {
    if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
        t.insert("kind".into(), "postgres".into());
        t.insert("url".into(), pg.url(db).into());
        t.insert(
            "password_file".into(),
            pg.password_file.display().to_string().into(),
        );
    }
}

impl EngineDesk {
    /// [`TestDesk::with`] on `engine` (PostgreSQL: a new cluster and an
    /// empty database `desk`, the schema made by ticketd on first open).
    pub fn with(engine: Engine, change: impl FnOnce(&mut toml::Table)) -> EngineDesk {
        match engine {
            Engine::Sqlite => EngineDesk {
                desk: TestDesk::with(change),
                engine,
                cluster: None,
            },
            Engine::Postgres => {
                let pg = Cluster::start();
                pg.createdb("desk");
                let desk = TestDesk::with(|cfg| {
                    change(cfg);
                    use_postgres(cfg, &pg, "desk");
                });
                EngineDesk {
                    desk,
                    engine,
                    cluster: Some(pg),
                }
            }
        }
    }

    /// The desk's store, opened as ticketd opens it.
    pub fn store(&self) -> ticketd::store::Store {
        let cfg = ticketd::desk::Desk::load(&self.desk.config).expect("the test desk loads");
        cfg.database
            .store_at()
            .and_then(|at| at.open())
            .unwrap_or_else(|e| panic!("open the {:?} store: {e}", self.engine))
    }
}

impl EngineDesk {
    /// The rows of `sql` (one statement, no parameters), a line each,
    /// columns joined by `|`, NULL as empty (psql's unaligned output, the
    /// same on both engines).
    pub fn query(&self, sql: &str) -> String {
        match &self.cluster {
            Some(pg) => pg.query("desk", sql),
            None => {
                let db = self.desk.db();
                let mut st = db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = st.column_count();
                let rows = st
                    .query_map([], |r| {
                        (0..n)
                            .map(|i| {
                                use rusqlite::types::ValueRef;
                                Ok(match r.get_ref(i)? {
                                    ValueRef::Null => String::new(),
                                    ValueRef::Integer(v) => v.to_string(),
                                    ValueRef::Real(v) => v.to_string(),
                                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                                        String::from_utf8_lossy(t).to_string()
                                    }
                                })
                            })
                            .collect::<rusqlite::Result<Vec<_>>>()
                            .map(|c| c.join("|"))
                    })
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .join("\n")
            }
        }
    }

    /// The one integer `sql` gives.
    pub fn scalar(&self, sql: &str) -> i64 {
        let v = self.query(sql);
        v.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{sql}: {v:?}: {e}"))
    }
}
