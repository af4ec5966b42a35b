//! Attachment files in the database (`attachment_blobs`, PostgreSQL only:
//! `[database] kind = "postgres"`): content-addressed by SHA-256, so one
//! backup holds everything and every daemon on the database sees every
//! file. SQLite desks keep their files in the folder
//! (`crate::pipeline::files`).
//!
//! Written like the folder's files: before the letter's transaction, on a
//! connection of their own, so a committed attachment row always has its
//! bytes and a crash leaves at most an unreferenced blob, which the same
//! letter's rerun finds already there.

use super::engine::params;
use super::{Result, Store, StoreError};
use sha2::{Digest, Sha256};

impl Store {
    /// Keep `data` under its SHA-256 (lower-case hex), which is returned;
    /// the same bytes twice are one row.
    pub fn blob_put(&self, data: &[u8]) -> Result<String> {
        let sha = hex::encode(Sha256::digest(data));
        self.conn.execute(
            "INSERT INTO attachment_blobs(sha256, size, content) VALUES (?1, ?2, ?3)
             ON CONFLICT (sha256) DO NOTHING",
            &params![sha, data.len(), data],
        )?;
        Ok(sha)
    }

    /// The bytes kept under `sha256`, only when they still hash to it.
    pub fn blob_get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let sha = sha256.to_ascii_lowercase();
        let bytes: Option<Vec<u8>> = self.conn.query_opt(
            "SELECT content FROM attachment_blobs WHERE sha256 = ?1",
            &params![sha],
            |r| r.get(0),
        )?;
        match bytes {
            Some(b) if hex::encode(Sha256::digest(&b)) != sha => Err(StoreError::Column {
                column: 0,
                want: "attachment whose bytes match its SHA-256",
                found: format!("other bytes under {sha}; restore attachment_blobs from a backup"),
            }),
            other => Ok(other),
        }
    }
}
