//! Attachment files, stored by content: `<dir>/<sha[0..2]>/<sha256>`.
//!
//! Written (temporary name, fsync, rename, fsync of the folder) before the
//! transaction that references them commits, so a committed row always has
//! its file; a crash before the commit leaves at most an unreferenced file,
//! which the same letter's rerun rewrites with the same name.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Path of the file holding bytes with this SHA-256.
pub fn path_for(dir: &Path, sha256: &str) -> PathBuf {
    let shard = sha256.get(..2).unwrap_or("xx");
    dir.join(shard).join(sha256)
}

/// Store `data`; returns its SHA-256 (hex). Idempotent.
pub fn store(dir: &Path, data: &[u8]) -> std::io::Result<String> {
    let sha = hex::encode(Sha256::digest(data));
    let path = path_for(dir, &sha);
    if let Ok(meta) = std::fs::metadata(&path) {
        if meta.len() == data.len() as u64 {
            return Ok(sha);
        }
    }
    let folder = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(".{sha}.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    if let Ok(d) = std::fs::File::open(folder) {
        let _ = d.sync_all();
    }
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let a = store(dir.path(), b"%PDF-1.4 x").unwrap();
        let b = store(dir.path(), b"%PDF-1.4 x").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            std::fs::read(path_for(dir.path(), &a)).unwrap(),
            b"%PDF-1.4 x"
        );
    }
}
