//! The copy's verification: per table, the row count and the digest of
//! `super::super::digest` on both engines, and the attachment names
//! against the hashes PostgreSQL computes over the bytes it holds.

use super::super::digest::{Cell, ColKind, TableDigest};
use super::super::{PgError, Result};
use super::tables::{columns, pg_kinds};
use super::{Compared, BLOBS, TABLES};
use futures::{pin_mut, TryStreamExt};
use rusqlite::Connection;

/// Counts and digests of every table (and the attachments) on both sides;
/// an error naming the first table that differs.
pub async fn verify(
    src: &Connection,
    client: &tokio_postgres::Client,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Compared>> {
    let mut out = Vec::new();
    for table in TABLES {
        let cols = columns(src, table.name)?;
        let (_, kinds) = pg_kinds(client, table.name, &cols).await?;
        let order_pg = table
            .key
            .iter()
            .map(|k| {
                let i = cols.iter().position(|c| c == k).unwrap_or(0);
                if kinds[i] == ColKind::Text {
                    format!("{k} COLLATE \"C\"")
                } else {
                    k.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let list = cols.join(", ");
        let mut s = TableDigest::default();
        {
            let mut stmt = src.prepare(&format!(
                "SELECT {list} FROM {} ORDER BY {}",
                table.name,
                table.key.join(", ")
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let cells = (0..cols.len())
                    .map(|i| Cell::from_sqlite(r.get_ref(i)?, kinds[i]).map_err(PgError::Copy))
                    .collect::<Result<Vec<_>>>()?;
                s.add_row(&cells);
            }
        }
        let mut p = TableDigest::default();
        let stream = client
            .query_raw(
                &format!("SELECT {list} FROM {} ORDER BY {order_pg}", table.name),
                std::iter::empty::<i64>(),
            )
            .await?;
        pin_mut!(stream);
        while let Some(r) = stream.try_next().await? {
            let cells = (0..cols.len())
                .map(|i| Cell::from_pg(&r, i, kinds[i]).map_err(PgError::Copy))
                .collect::<Result<Vec<_>>>()?;
            p.add_row(&cells);
        }
        out.push(compare(table.name, s.finish(), p.finish(), progress)?);
    }
    // Attachments: the names SQLite's rows reference, against the hashes
    // PostgreSQL computes over the bytes it holds.
    let mut s = TableDigest::default();
    {
        let mut stmt = src.prepare("SELECT DISTINCT sha256 FROM attachments ORDER BY sha256")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            s.add_row(&[Cell::Text(Some(r.get(0)?))]);
        }
    }
    let mut p = TableDigest::default();
    let stream = client
        .query_raw(
            "SELECT encode(sha256(content), 'hex') FROM attachment_blobs ORDER BY sha256 COLLATE \"C\"",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(stream);
    while let Some(r) = stream.try_next().await? {
        p.add_row(&[Cell::Text(Some(r.get(0)))]);
    }
    out.push(compare(BLOBS, s.finish(), p.finish(), progress)?);
    Ok(out)
}

fn compare(
    table: &str,
    sqlite: (u64, String),
    pg: (u64, String),
    progress: &mut dyn FnMut(&str),
) -> Result<Compared> {
    if sqlite != pg {
        return Err(PgError::Copy(format!(
            "db copy: verification failed for {table}: SQLite {} rows (sha256 {}), PostgreSQL {} rows (sha256 {}); the target is left as it is for inspection",
            sqlite.0, sqlite.1, pg.0, pg.1
        )));
    }
    progress(&format!(
        "db copy: verified {table}: {} rows, sha256 {}",
        sqlite.0, sqlite.1
    ));
    Ok(Compared {
        table: table.to_string(),
        rows: sqlite.0,
        digest: sqlite.1,
    })
}
