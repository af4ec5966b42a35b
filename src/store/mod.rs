//! SQLite storage (rusqlite, bundled SQLite, WAL).
