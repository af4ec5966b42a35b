//! The copy's writers: one table's rows in committed chunks (binary
//! `COPY`), and the attachment files into `attachment_blobs`, each chunk
//! with its progress row so a second run resumes after it.

use super::super::digest::{Cell, ColKind};
use super::super::{describe, PgError, Result};
use super::{Table, BLOBS};
use futures::pin_mut;
use rusqlite::{Connection, OptionalExtension};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

/// The target's column kinds of `columns` in `table`.
pub(super) async fn pg_kinds(
    client: &tokio_postgres::Client,
    table: &str,
    columns: &[String],
) -> Result<(Vec<Type>, Vec<ColKind>)> {
    let stmt = client
        .prepare(&format!(
            "SELECT {} FROM {table} LIMIT 0",
            columns.join(", ")
        ))
        .await
        .map_err(|e| {
            PgError::Copy(format!(
                "db copy: table `{table}` differs between the engines: {}",
                describe(&e)
            ))
        })?;
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    let kinds = types
        .iter()
        .zip(columns)
        .map(|(ty, c)| {
            ColKind::of(ty).ok_or_else(|| {
                PgError::Copy(format!(
                    "db copy: `{table}.{c}` has type {ty}, not one the copy knows"
                ))
            })
        })
        .collect::<Result<_>>()?;
    Ok((types, kinds))
}

/// SQLite's columns of `table`, in order.
pub(super) fn columns(src: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = src.prepare(&format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    ))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// Copy one table from its recorded progress on; the rows written.
pub(super) async fn copy_table(
    src: &Connection,
    client: &mut tokio_postgres::Client,
    table: &Table,
    chunk_rows: usize,
    stop: &mut dyn FnMut(u64) -> bool,
    progress: &mut dyn FnMut(&str),
) -> Result<u64> {
    let name = table.name;
    let row: Option<(Option<String>, i64, bool)> = client
        .query_opt(
            "SELECT last_key, rows, done FROM ticketd_copy_progress WHERE tbl = $1",
            &[&name],
        )
        .await?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    let (mut last, mut done_rows) = match row {
        Some((_, rows, true)) => {
            progress(&format!("db copy: {name}: {rows} rows (copied before)"));
            return Ok(0);
        }
        Some((last, rows, false)) => (last, rows as u64),
        None => (None, 0),
    };
    let total: i64 = src.query_row(&format!("SELECT count(*) FROM {name}"), [], |r| r.get(0))?;
    let cols = columns(src, name)?;
    let (types, kinds) = pg_kinds(client, name, &cols).await?;
    // The key the chunks follow: the rowid, or the table's one-column key.
    let (key_sql, key_kind) = if table.rowid {
        ("rowid".to_string(), ColKind::Int)
    } else {
        let k = table.key[0];
        let i = cols.iter().position(|c| c == k).unwrap_or(0);
        (k.to_string(), kinds[i])
    };
    let select = |filter: &str| {
        format!(
            "SELECT {key_sql}, {} FROM {name} {filter} ORDER BY {key_sql} LIMIT {chunk_rows}",
            cols.join(", ")
        )
    };
    let mut first = src.prepare(&select(""))?;
    let mut next = src.prepare(&select(&format!("WHERE {key_sql} > ?1")))?;
    let mut written = 0u64;
    loop {
        let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(chunk_rows);
        let mut chunk_last = None;
        {
            let key_param: Option<rusqlite::types::Value> = match (&last, key_kind) {
                (Some(k), ColKind::Int) => {
                    Some(rusqlite::types::Value::Integer(k.parse().map_err(
                        |_| PgError::Copy(format!("db copy: bad progress key `{k}` for {name}")),
                    )?))
                }
                (Some(k), _) => Some(rusqlite::types::Value::Text(k.clone())),
                (None, _) => None,
            };
            let mut rows = match &key_param {
                Some(p) => next.query([p])?,
                None => first.query([])?,
            };
            while let Some(r) = rows.next()? {
                let key = Cell::from_sqlite(r.get_ref(0)?, key_kind)
                    .map_err(|e| PgError::Copy(format!("db copy: {name}: key: {e}")))?;
                let mut cells = Vec::with_capacity(cols.len());
                for (i, kind) in kinds.iter().enumerate() {
                    cells.push(Cell::from_sqlite(r.get_ref(i + 1)?, *kind).map_err(|e| {
                        PgError::Copy(format!(
                            "db copy: {name} (key {}), column `{}`: {e}",
                            key.key_text(),
                            cols[i]
                        ))
                    })?);
                }
                chunk_last = Some(key.key_text());
                chunk.push(cells);
            }
        }
        let tx = client.transaction().await?;
        if !chunk.is_empty() {
            let sink = tx
                .copy_in(&format!(
                    "COPY {name} ({}) FROM STDIN BINARY",
                    cols.join(", ")
                ))
                .await?;
            let writer = BinaryCopyInWriter::new(sink, &types);
            pin_mut!(writer);
            for cells in &chunk {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    cells.iter().map(Cell::as_sql).collect();
                writer
                    .as_mut()
                    .write(&refs)
                    .await
                    .map_err(|e| PgError::Copy(format!("db copy: {name}: {}", describe(&e))))?;
            }
            writer
                .finish()
                .await
                .map_err(|e| PgError::Copy(format!("db copy: {name}: {}", describe(&e))))?;
        }
        let n = chunk.len() as u64;
        let finished = (n as usize) < chunk_rows;
        if chunk_last.is_some() {
            last = chunk_last;
        }
        done_rows += n;
        tx.execute(
            "INSERT INTO ticketd_copy_progress(tbl, last_key, rows, done) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tbl) DO UPDATE SET last_key = EXCLUDED.last_key, rows = EXCLUDED.rows,
                                             done = EXCLUDED.done",
            &[&name, &last, &(done_rows as i64), &finished],
        )
        .await?;
        tx.commit().await?;
        written += n;
        progress(&format!("db copy: {name}: {done_rows}/{total} rows"));
        if finished {
            return Ok(written);
        }
        if stop(written) {
            return Err(PgError::Copy(format!(
                "db copy: stopped in {name} after {written} rows of this run (test limit); run it again to resume"
            )));
        }
    }
}

/// Copy the attachment files the rows name; the blobs written.
pub(super) async fn copy_blobs(
    src: &Connection,
    client: &mut tokio_postgres::Client,
    read_blob: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    chunk_rows: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<u64> {
    let last: Option<(Option<String>, bool)> = client
        .query_opt(
            "SELECT last_key, done FROM ticketd_copy_progress WHERE tbl = $1",
            &[&BLOBS],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)));
    let mut last = match last {
        Some((_, true)) => return Ok(0),
        Some((k, false)) => k.unwrap_or_default(),
        None => String::new(),
    };
    let total: i64 = src.query_row("SELECT count(DISTINCT sha256) FROM attachments", [], |r| {
        r.get(0)
    })?;
    let mut written = 0u64;
    // Bounded by count and by bytes per transaction.
    const MAX_CHUNK_BYTES: usize = 32 << 20;
    loop {
        let names: Vec<String> = src
            .prepare_cached(
                "SELECT DISTINCT sha256 FROM attachments WHERE sha256 > ?1 ORDER BY sha256 LIMIT ?2",
            )?
            .query_map(rusqlite::params![last, chunk_rows as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let tx = client.transaction().await?;
        let insert = tx
            .prepare(
                "INSERT INTO attachment_blobs(sha256, size, content) VALUES ($1, $2, $3)
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .await?;
        let mut bytes = 0usize;
        let mut n = 0usize;
        for sha in &names {
            let data = read_blob(sha).map_err(|e| {
                let ticket: Option<String> = src
                    .query_row(
                        "SELECT ticket_id FROM attachments WHERE sha256 = ?1 LIMIT 1",
                        [sha],
                        |r| r.get(0),
                    )
                    .optional()
                    .ok()
                    .flatten();
                PgError::Copy(format!(
                    "db copy: attachment {sha} (ticket {}) cannot be read: {e}; restore the file under [attachments] dir and run the copy again",
                    ticket.unwrap_or_default()
                ))
            })?;
            tx.execute(&insert, &[sha, &(data.len() as i64), &data])
                .await?;
            bytes += data.len();
            n += 1;
            last = sha.clone();
            if bytes >= MAX_CHUNK_BYTES {
                break;
            }
        }
        let finished = names.len() < chunk_rows && n == names.len();
        tx.execute(
            "INSERT INTO ticketd_copy_progress(tbl, last_key, rows, done) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tbl) DO UPDATE SET last_key = EXCLUDED.last_key,
                 rows = ticketd_copy_progress.rows + $3, done = EXCLUDED.done",
            &[&BLOBS, &last, &(n as i64), &finished],
        )
        .await?;
        tx.commit().await?;
        written += n as u64;
        progress(&format!(
            "db copy: attachment files: {written}/{total} this run"
        ));
        if finished {
            return Ok(written);
        }
    }
}
