//! Read-only peeks into a ticketd database while the daemon works on it
//! (counts for waits and benchmarks); 0 while the file does not exist yet.

use std::path::Path;

fn count(db: &Path, sql: &str) -> usize {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
        .unwrap_or(0)
}

/// Outbox rows the SMTP server has accepted.
pub fn sent_count(db: &Path) -> usize {
    count(db, "SELECT count(*) FROM outbox WHERE status = 'sent'")
}

/// Tickets committed.
pub fn ticket_count(db: &Path) -> usize {
    count(db, "SELECT count(*) FROM tickets")
}
