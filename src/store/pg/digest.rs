//! One value in both engines' terms, and the per-table digest `db copy`
//! compares.
//!
//! A table's digest is SHA-256 over its rows in the order of the table's
//! key (text keys in byte order: SQLite's BINARY collation, PostgreSQL's
//! `COLLATE "C"`), every column of a row in turn, each value encoded as a
//! tag byte (0 NULL, 1 integer, 2 text, 3 bytes) followed by, for an
//! integer, its 8 bytes big-endian, for text and bytes their length (8
//! bytes big-endian) and the bytes. SQLite's values are first read as the
//! PostgreSQL column's type ([`Cell::from_sqlite`]), so both sides hash
//! the same typed values and any difference in any byte shows.

use sha2::{Digest as _, Sha256};
use tokio_postgres::types::{ToSql, Type};

/// A value typed by its PostgreSQL column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// The kinds of column ticketd's schema uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    Int,
    Text,
    Bytes,
}

impl ColKind {
    pub fn of(ty: &Type) -> Option<ColKind> {
        if *ty == Type::INT8 {
            Some(ColKind::Int)
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
            Some(ColKind::Text)
        } else if *ty == Type::BYTEA {
            Some(ColKind::Bytes)
        } else {
            None
        }
    }
}

impl Cell {
    /// A SQLite value read as a column of `kind`; a reason when it cannot
    /// be (an integer in a text column, text that is not UTF-8, …).
    pub fn from_sqlite(v: rusqlite::types::ValueRef<'_>, kind: ColKind) -> Result<Cell, String> {
        use rusqlite::types::ValueRef as V;
        Ok(match (kind, v) {
            (ColKind::Int, V::Null) => Cell::Int(None),
            (ColKind::Int, V::Integer(i)) => Cell::Int(Some(i)),
            (ColKind::Text, V::Null) => Cell::Text(None),
            (ColKind::Text, V::Text(b)) => Cell::Text(Some(
                String::from_utf8(b.to_vec()).map_err(|_| "text is not UTF-8".to_string())?,
            )),
            (ColKind::Bytes, V::Null) => Cell::Bytes(None),
            (ColKind::Bytes, V::Blob(b) | V::Text(b)) => Cell::Bytes(Some(b.to_vec())),
            (kind, v) => {
                return Err(format!(
                    "a {:?} value where PostgreSQL has a {kind:?} column",
                    v.data_type()
                ))
            }
        })
    }

    /// Column `i` of a PostgreSQL row.
    pub fn from_pg(row: &tokio_postgres::Row, i: usize, kind: ColKind) -> Result<Cell, String> {
        let e = |e: tokio_postgres::Error| e.to_string();
        Ok(match kind {
            ColKind::Int => Cell::Int(row.try_get(i).map_err(e)?),
            ColKind::Text => Cell::Text(row.try_get(i).map_err(e)?),
            ColKind::Bytes => Cell::Bytes(row.try_get(i).map_err(e)?),
        })
    }

    pub fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Int(v) => v,
            Cell::Text(v) => v,
            Cell::Bytes(v) => v,
        }
    }

    /// The key as `db copy` records its progress.
    pub fn key_text(&self) -> String {
        match self {
            Cell::Int(Some(i)) => i.to_string(),
            Cell::Text(Some(s)) => s.clone(),
            Cell::Bytes(Some(b)) => hex::encode(b),
            _ => String::new(),
        }
    }
}

/// Rows in, a count and a hex digest out.
#[derive(Default)]
pub struct TableDigest {
    hash: Sha256,
    pub rows: u64,
}

impl TableDigest {
    pub fn add_row(&mut self, cells: &[Cell]) {
        for c in cells {
            match c {
                Cell::Int(None) | Cell::Text(None) | Cell::Bytes(None) => self.hash.update([0u8]),
                Cell::Int(Some(i)) => {
                    self.hash.update([1u8]);
                    self.hash.update(i.to_be_bytes());
                }
                Cell::Text(Some(s)) => self.bytes(2, s.as_bytes()),
                Cell::Bytes(Some(b)) => self.bytes(3, b),
            }
        }
        self.rows += 1;
    }

    fn bytes(&mut self, tag: u8, b: &[u8]) {
        self.hash.update([tag]);
        self.hash.update((b.len() as u64).to_be_bytes());
        self.hash.update(b);
    }

    pub fn finish(self) -> (u64, String) {
        (self.rows, hex::encode(self.hash.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::ValueRef;

    #[test]
    fn values_read_as_the_column_type_and_hash_apart() {
        // (SQLite value, column kind, read as)
        let ok = [
            (ValueRef::Integer(7), ColKind::Int, Cell::Int(Some(7))),
            (ValueRef::Null, ColKind::Text, Cell::Text(None)),
            (
                ValueRef::Text(b"x"),
                ColKind::Text,
                Cell::Text(Some("x".into())),
            ),
            (
                ValueRef::Blob(b"\0\xff"),
                ColKind::Bytes,
                Cell::Bytes(Some(vec![0, 255])),
            ),
        ];
        for (v, k, want) in ok {
            assert_eq!(Cell::from_sqlite(v, k).unwrap(), want);
        }
        assert!(Cell::from_sqlite(ValueRef::Integer(1), ColKind::Text).is_err());
        assert!(Cell::from_sqlite(ValueRef::Text(b"\xff"), ColKind::Text).is_err());
        // Neighbouring rows never hash alike when a byte moves between
        // columns, and NULL differs from empty text.
        let d = |rows: &[&[Cell]]| {
            let mut t = TableDigest::default();
            for r in rows {
                t.add_row(r);
            }
            t.finish()
        };
        let t = |s: &str| Cell::Text(Some(s.into()));
        assert_ne!(d(&[&[t("ab"), t("c")]]), d(&[&[t("a"), t("bc")]]));
        assert_ne!(d(&[&[Cell::Text(None)]]), d(&[&[t("")]]));
        assert_eq!(d(&[&[t("a")], &[t("b")]]).0, 2);
        assert_ne!(d(&[&[t("a")], &[t("b")]]), d(&[&[t("b")], &[t("a")]]));
    }
}
