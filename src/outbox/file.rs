//! The file transport: one `.eml` file per letter in a folder.
//!
//! Files are named by the outbox row id, so a letter delivered again after a
//! crash overwrites its own file instead of appearing twice; each is written
//! to a temporary name, fsynced and renamed, so a reader never sees half a
//! letter.

use super::{QueuedLetter, SendError};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: PathBuf) -> Self {
        FileTransport { dir }
    }

    /// The file a queued letter is written to.
    pub fn path_for(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id:010}.eml"))
    }

    pub fn send(&self, letter: &QueuedLetter) -> Result<(), SendError> {
        let fail = |what: &str, e: std::io::Error| {
            SendError::transient(format!(
                "{what} in outbox folder `{}`: {e}",
                self.dir.display()
            ))
        };
        // 0700 / 0600 whatever the umask: letters hold personal data.
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| fail("cannot create folder", e))?;
        let path = self.path_for(letter.id);
        let tmp = self.dir.join(format!(".{:010}.eml.tmp", letter.id));
        // A stale temporary file (a crash mid-write) or a planted link at
        // its name is removed; the new one is created, never opened through.
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| fail("cannot create file", e))?;
        f.write_all(&letter.raw)
            .map_err(|e| fail("cannot write", e))?;
        f.sync_all().map_err(|e| fail("cannot sync", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| fail("cannot rename", e))?;
        Ok(())
    }
}
