//! The values that cross the engine seam: parameters ([`Value`], built by
//! [`params!`](crate::store::engine::params)) and columns ([`Row`], read
//! into Rust types by [`FromCell`]), the same for SQLite and PostgreSQL.
//!
//! The two engines store the same things (integers, text, bytes; times as
//! RFC 3339 text), but PostgreSQL types its parameters from the statement
//! and its results by column. A parameter is therefore converted to
//! whatever type the server asks for (an integer where a `BOOLEAN` is
//! expected becomes `false`/`true`, as SQLite reads it), and a column is
//! read by its type into one neutral [`Cell`].

use super::super::{Result, StoreError};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};

/// A parameter, borrowed from the caller's values (a raw letter is not
/// copied to be bound).
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be a parameter.
pub trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value<'_> {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_value!(i64, i32, u8, u32, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value<'_> {
        Value::Bool(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        let mismatch = || -> BoxError {
            format!("parameter {self:?} cannot be sent as PostgreSQL type {ty}").into()
        };
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (Value::Int(n), &Type::INT4) => i32::try_from(*n)?.to_sql(ty, out),
            (Value::Int(n), &Type::INT2) => i16::try_from(*n)?.to_sql(ty, out),
            (Value::Int(n), &Type::BOOL) => (*n != 0).to_sql(ty, out),
            (Value::Int(n), &Type::FLOAT8) => (*n as f64).to_sql(ty, out),
            (Value::Int(n), &Type::TEXT | &Type::VARCHAR) => n.to_string().to_sql(ty, out),
            (Value::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (Value::Bool(b), &Type::INT8) => i64::from(*b).to_sql(ty, out),
            (Value::Bool(b), &Type::INT4) => i32::from(*b).to_sql(ty, out),
            (Value::Text(s), &Type::BYTEA) => s.as_bytes().to_sql(ty, out),
            (Value::Text(s), &Type::JSONB) => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            (Value::Text(s), _) if is_text(ty) => s.to_sql(ty, out),
            (Value::Blob(b), &Type::BYTEA) => b.to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
    )
}

/// One column's value as either engine gives it, borrowed from the row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> FromSql<'a> for Cell<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Cell::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Cell::Bool(bool::from_sql(ty, raw)?),
            Type::FLOAT8 => Cell::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Cell::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Cell::Blob(raw),
            Type::JSONB => Cell::Text(raw.get(1..).unwrap_or_default()),
            _ if is_text(ty) => Cell::Text(raw),
            _ => {
                return Err(format!(
                    "PostgreSQL type {ty} is not read by ticketd (cast it to BIGINT or TEXT)"
                )
                .into())
            }
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Cell::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl<'a> From<rusqlite::types::ValueRef<'a>> for Cell<'a> {
    fn from(v: rusqlite::types::ValueRef<'a>) -> Self {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(n) => Cell::Int(n),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => Cell::Text(t),
            ValueRef::Blob(b) => Cell::Blob(b),
        }
    }
}

/// A result row of either engine.
#[derive(Clone, Copy)]
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Pg(&'r tokio_postgres::Row),
}

impl<'r> Row<'r> {
    /// Column `i` as it came.
    pub fn cell(&self, i: usize) -> Result<Cell<'r>> {
        match *self {
            Row::Sqlite(r) => Ok(r.get_ref(i)?.into()),
            Row::Pg(r) => r.try_get::<_, Cell<'r>>(i).map_err(StoreError::from),
        }
    }

    /// Column `i` as a `T`.
    pub fn get<T: FromCell<'r>>(&self, i: usize) -> Result<T> {
        let c = self.cell(i)?;
        T::from_cell(c).ok_or_else(|| StoreError::Column {
            column: i,
            want: std::any::type_name::<T>(),
            found: format!("{c:?}"),
        })
    }

    /// Column `i`'s bytes (text or blob), `None` when NULL.
    pub fn bytes(&self, i: usize) -> Result<Option<&'r [u8]>> {
        self.get(i)
    }
}

/// A Rust value read from a [`Cell`]; `None` when the cell holds another
/// kind of value.
pub trait FromCell<'a>: Sized {
    fn from_cell(c: Cell<'a>) -> Option<Self>;
}

impl FromCell<'_> for i64 {
    fn from_cell(c: Cell<'_>) -> Option<Self> {
        match c {
            Cell::Int(n) => Some(n),
            Cell::Bool(b) => Some(i64::from(b)),
            _ => None,
        }
    }
}

macro_rules! int_cell {
    ($($t:ty),*) => {$(
        impl FromCell<'_> for $t {
            fn from_cell(c: Cell<'_>) -> Option<Self> {
                i64::from_cell(c).and_then(|n| <$t>::try_from(n).ok())
            }
        }
    )*};
}
int_cell!(i32, u8, u32, u64, usize);

impl FromCell<'_> for bool {
    fn from_cell(c: Cell<'_>) -> Option<Self> {
        match c {
            Cell::Bool(b) => Some(b),
            Cell::Int(n) => Some(n != 0),
            _ => None,
        }
    }
}

impl FromCell<'_> for f64 {
    fn from_cell(c: Cell<'_>) -> Option<Self> {
        match c {
            Cell::Real(f) => Some(f),
            Cell::Int(n) => Some(n as f64),
            _ => None,
        }
    }
}

impl FromCell<'_> for String {
    fn from_cell(c: Cell<'_>) -> Option<Self> {
        match c {
            Cell::Text(t) => String::from_utf8(t.to_vec()).ok(),
            _ => None,
        }
    }
}

impl<'a> FromCell<'a> for &'a str {
    fn from_cell(c: Cell<'a>) -> Option<Self> {
        match c {
            Cell::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }
}

impl<'a> FromCell<'a> for &'a [u8] {
    fn from_cell(c: Cell<'a>) -> Option<Self> {
        match c {
            Cell::Text(b) | Cell::Blob(b) => Some(b),
            _ => None,
        }
    }
}

impl FromCell<'_> for Vec<u8> {
    fn from_cell(c: Cell<'_>) -> Option<Self> {
        <&[u8]>::from_cell(c).map(<[u8]>::to_vec)
    }
}

impl<'a, T: FromCell<'a>> FromCell<'a> for Option<T> {
    fn from_cell(c: Cell<'a>) -> Option<Self> {
        match c {
            Cell::Null => Some(None),
            c => T::from_cell(c).map(Some),
        }
    }
}
