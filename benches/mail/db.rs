//! The database the benchmark runs ticketd on and peeks into: the SQLite
//! file of the round's folder, or with BENCH_DB=postgres a database of
//! its own in one private PostgreSQL cluster.

use super::support;
use std::path::Path;
use support::db::Peek;

/// The database the benchmark peeks into: the SQLite file, or with
/// BENCH_DB=postgres the round's PostgreSQL database (its URL).
pub struct Db {
    pub path: std::path::PathBuf,
    pg: Option<String>,
}

impl Db {
    pub fn peek(&self) -> Peek {
        match &self.pg {
            Some(url) => Peek::postgres(url, support::pg::ROLE_PASSWORD),
            None => Peek::default(),
        }
    }
}

impl Db {
    /// The round's SQLite file.
    pub fn sqlite(dir: &Path) -> Db {
        Db {
            path: dir.join("ticketd.sqlite3"),
            pg: None,
        }
    }

    /// A new database in `cluster` for the round of folder `dir`, and
    /// `config` pointed at it.
    pub fn postgres(cluster: &support::pg::Cluster, dir: &Path, config: &Path) -> Db {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().replace('-', "_"))
            .unwrap_or_else(|| "bench".into());
        cluster.createdb(&name);
        let mut cfg: toml::Table = std::fs::read_to_string(config)
            .expect("config")
            .parse()
            .expect("config parses");
        if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
            t.insert("kind".into(), "postgres".into());
            t.insert("url".into(), cluster.url(&name).into());
            t.insert(
                "password_file".into(),
                cluster.password_file.display().to_string().into(),
            );
        }
        std::fs::write(config, toml::to_string(&cfg).expect("toml")).expect("config");
        Db {
            path: dir.join("ticketd.sqlite3"),
            pg: Some(cluster.url(&name)),
        }
    }
}
