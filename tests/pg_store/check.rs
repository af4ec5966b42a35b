//! Independent looks at both sides of a copy: the copy's own
//! verification lines, `psql` counts and fingerprints, files on disk.

use crate::support::pg::Cluster;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// The copy's own verification lines: table → (rows, sha256).
pub fn verified(out: &Output) -> BTreeMap<String, (u64, String)> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("db copy: verified "))
        .filter_map(|l| {
            let (table, rest) = l.split_once(": ")?;
            let (rows, sha) = rest.split_once(" rows, sha256 ")?;
            Some((table.to_string(), (rows.parse().ok()?, sha.to_string())))
        })
        .collect()
}

/// The ticketd tables of the PostgreSQL database (not the copy's
/// bookkeeping).
pub fn pg_tables(pg: &Cluster, db: &str) -> Vec<String> {
    pg.query(
        db,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' \
         AND tablename NOT LIKE 'ticketd_copy_%' ORDER BY tablename",
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// Every table's row count and an md5 over its rows' text in a fixed
/// order: two databases with the same fingerprint hold the same rows,
/// each once.
pub fn fingerprint(pg: &Cluster, db: &str) -> BTreeMap<String, String> {
    pg_tables(pg, db)
        .into_iter()
        .filter(|t| t != "schema_version")
        .map(|t| {
            let f = pg.query(
                db,
                &format!(
                    "SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, E'\\n' \
                     ORDER BY x::text COLLATE \"C\")), '-') FROM {t} x"
                ),
            );
            (t, f)
        })
        .collect()
}

pub fn sqlite_count(db: &rusqlite::Connection, table: &str) -> i64 {
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// The SHA-256 of every file under `dir`, computed here from the bytes.
pub fn files_on_disk(dir: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(hex::encode(Sha256::digest(&bytes)), bytes.len());
            }
        }
    }
    out
}
