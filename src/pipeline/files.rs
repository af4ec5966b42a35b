//! Attachment files, stored by content: `<dir>/<sha[0..2]>/<sha256>`.
//!
//! Written (temporary name, fsync, rename, fsync of the folder) before the
//! transaction that references them commits, so a committed row always has
//! its file; a crash before the commit leaves at most an unreferenced file,
//! which the same letter's rerun rewrites with the same name.
//!
//! The store never follows a symbolic link: files are opened with
//! `O_NOFOLLOW`, a new file is created under a fresh temporary name
//! (`O_EXCL`) and renamed over whatever stood at its name (a rename
//! replaces a link, it does not write through it), a shard folder that is
//! a link is replaced by a real one, and an existing file is trusted only
//! when its content hashes to its name. Folders are created `0700` and
//! files `0600` whatever the umask (the umask can only take bits away).

use crate::store::Store;
use sha2::{Digest, Sha256};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Where a desk keeps its attachment files: the folder (`[attachments]
/// dir`, SQLite desks) or the database (`attachment_blobs`, PostgreSQL:
/// [`crate::store::blobs`], through a connection of its own).
#[derive(Clone, Copy)]
pub enum Files<'a> {
    Folder(&'a Path),
    Database(&'a Store),
}

impl Files<'_> {
    /// Keep `data`; its SHA-256.
    pub fn store(&self, data: &[u8]) -> std::io::Result<String> {
        match self {
            Files::Folder(dir) => store(dir, data),
            Files::Database(s) => s.blob_put(data).map_err(std::io::Error::other),
        }
    }

    /// The bytes kept under `sha256`, checked against it.
    pub fn read_verified(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Files::Folder(dir) => read_verified(dir, sha256),
            Files::Database(s) => s
                .blob_get(sha256)
                .map_err(std::io::Error::other)?
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such attachment in the database",
                    )
                }),
        }
    }

    /// Where they are, for messages.
    pub fn shown(&self) -> PathBuf {
        match self {
            Files::Folder(dir) => dir.to_path_buf(),
            Files::Database(_) => PathBuf::from("the database (attachment_blobs)"),
        }
    }
}

/// Path of the file holding bytes with this SHA-256.
pub fn path_for(dir: &Path, sha256: &str) -> PathBuf {
    let shard = sha256.get(..2).unwrap_or("xx");
    dir.join(shard).join(sha256)
}

/// Open a file for reading without following a symbolic link.
fn open_nofollow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// The SHA-256 (hex) of a regular file, read without following links;
/// `None` when it is absent, a link, or unreadable.
fn hash_of(path: &Path) -> Option<String> {
    let mut f = open_nofollow(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Some(hex::encode(h.finalize()))
}

/// Create `dir` (and parents) `0700`; a shard folder that is a symbolic
/// link is replaced by a real folder.
fn ensure_folder(dir: &Path) -> std::io::Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(dir) {
        if m.file_type().is_symlink() {
            std::fs::remove_file(dir)?;
        } else if m.is_dir() {
            return Ok(());
        }
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Store `data`; returns its SHA-256 (hex). Idempotent.
pub fn store(dir: &Path, data: &[u8]) -> std::io::Result<String> {
    let sha = hex::encode(Sha256::digest(data));
    let path = path_for(dir, &sha);
    if hash_of(&path).as_deref() == Some(sha.as_str()) {
        return Ok(sha);
    }
    if !dir.exists() {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let folder = path.parent().unwrap_or(dir);
    ensure_folder(folder)?;
    let r: u64 = rand::random();
    let tmp = folder.join(format!(".{sha}.{}.{r:x}.tmp", std::process::id()));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    if let Ok(d) = File::open(folder) {
        let _ = d.sync_all();
    }
    Ok(sha)
}

/// The bytes stored under `sha256`, read without following a link and
/// only when they still hash to it.
pub fn read_verified(dir: &Path, sha256: &str) -> std::io::Result<Vec<u8>> {
    let path = path_for(dir, sha256);
    let mut f = open_nofollow(&path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    if hex::encode(Sha256::digest(&bytes)) != sha256.to_ascii_lowercase() {
        return Err(std::io::Error::other(
            "the content does not match its SHA-256 (changed on disk)",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let a = store(dir.path(), b"%PDF-1.4 x").unwrap();
        let b = store(dir.path(), b"%PDF-1.4 x").unwrap();
        assert_eq!(a, b);
        assert_eq!(read_verified(dir.path(), &a).unwrap(), b"%PDF-1.4 x");
    }

    #[test]
    fn never_follows_links_and_checks_the_hash() {
        let data = b"%PDF-1.4 secret report";
        let sha = hex::encode(Sha256::digest(data));
        // (what is planted at the file's name, the case)
        type Plant = fn(&Path, &Path, &Path);
        let cases: Vec<(Plant, &str)> = vec![
            (
                |path, outside, _| std::os::unix::fs::symlink(outside, path).unwrap(),
                "a link to a same-size file elsewhere",
            ),
            (
                |path, _, _| std::fs::write(path, b"%PDF-1.4 OTHER report").unwrap(),
                "a same-size file with other content",
            ),
            (
                |path, _, elsewhere| {
                    std::fs::remove_dir(path.parent().unwrap()).unwrap();
                    std::os::unix::fs::symlink(elsewhere, path.parent().unwrap()).unwrap();
                },
                "the shard folder is a link",
            ),
        ];
        for (plant, what) in cases {
            let dir = tempfile::tempdir().unwrap();
            let outside = dir.path().join("outside");
            std::fs::write(&outside, b"%PDF-1.4 OTHER report").unwrap();
            let elsewhere = dir.path().join("elsewhere");
            std::fs::create_dir(&elsewhere).unwrap();
            let store_dir = dir.path().join("att");
            let path = path_for(&store_dir, &sha);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            plant(&path, &outside, &elsewhere);
            assert!(
                read_verified(&store_dir, &sha).is_err(),
                "{what}: not trusted before storing"
            );
            assert_eq!(store(&store_dir, data).unwrap(), sha, "{what}");
            assert_eq!(read_verified(&store_dir, &sha).unwrap(), data, "{what}");
            assert_eq!(
                std::fs::read(&outside).unwrap(),
                b"%PDF-1.4 OTHER report",
                "{what}: nothing written through the link"
            );
            assert_eq!(
                std::fs::read_dir(&elsewhere).unwrap().count(),
                0,
                "{what}: nothing written into the linked folder"
            );
            let mode = std::fs::symlink_metadata(&path)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{what}: file mode");
        }
    }
}
