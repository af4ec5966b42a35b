//! Maildir intake: letters in `new/` are processed in name order, in
//! batches of one transaction each, and moved to `cur/` with the `S` flag
//! after their batch's commit.
//!
//! Watched with inotify (a letter is answered as soon as the MTA renames it
//! into `new/`), with a slow rescan as a safety net in case an event is
//! missed (inotify queue overflow, a folder replaced under us).

use super::{LetterSink, SinkError};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// Create `new/`, `cur/`, `tmp/` under `root` if missing.
pub fn ensure(root: &Path) -> std::io::Result<()> {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    Ok(())
}

/// Letters waiting in `new/`, oldest name first (Maildir names start with
/// the delivery time). Dot files are skipped.
pub fn pending(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.join("new"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

/// Move a processed letter to `cur/` with the Seen flag.
pub fn acknowledge(root: &Path, path: &Path) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let base = name.split(":2,").next().unwrap_or(&name).to_string();
    std::fs::rename(path, root.join("cur").join(format!("{base}:2,S")))
}

/// What one pass over `new/` did.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassReport {
    pub processed: usize,
    /// Letters left in `new/` because they could not be stored now.
    pub deferred: usize,
}

/// At most this many letters, and about this many bytes, go to the
/// pipeline at once (one transaction); a larger letter goes alone. Small:
/// a batch's first letter waits for its last one's parse before its
/// commit, and most of the saving (shared index pages, one commit) is had
/// by then.
const BATCH_LETTERS: usize = 16;
const BATCH_BYTES: usize = 256 * 1024;

/// Process every letter now in `new/`, in batches committed in one
/// transaction each; a letter moves to `cur/` only after its batch commits.
/// Stops early (leaving the rest) when `stop` turns true; the batch in hand
/// is always finished.
pub async fn pass<S: LetterSink>(
    root: &Path,
    handle: &S,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<PassReport, SinkError> {
    let mut report = PassReport::default();
    let files = pending(root).map_err(|e| SinkError {
        message: format!("cannot list `{}`: {e}", root.join("new").display()),
        transient: true,
    })?;
    let limit = handle.letter_limit().await?;
    let mut files = files.into_iter().peekable();
    while files.peek().is_some() {
        if stop.is_some_and(|s| *s.borrow()) {
            break;
        }
        let mut paths = Vec::new();
        let mut raws = Vec::new();
        let mut bytes = 0;
        while raws.len() < BATCH_LETTERS && (raws.is_empty() || bytes < BATCH_BYTES) {
            let Some(path) = files.next() else { break };
            if let Some(size) = too_large(&path, limit).await {
                match oversize(&path, size, limit, handle).await {
                    Ok(()) => {
                        if let Err(e) = acknowledge(root, &path) {
                            tracing::warn!(file = %path.display(), error = %e, "cannot move letter to cur/");
                        }
                        report.processed += 1;
                    }
                    Err(e) => {
                        tracing::warn!(file = %path.display(), error = %e, "too-large letter not recorded now, will retry");
                        report.deferred += 1;
                    }
                }
                continue;
            }
            match tokio::fs::read(&path).await {
                Ok(raw) => {
                    bytes += raw.len();
                    raws.push(raw);
                    paths.push(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {} // taken by another instance
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot read letter, will retry");
                    report.deferred += 1;
                }
            }
        }
        if raws.is_empty() {
            continue;
        }
        let results = handle.ingest_batch(raws).await;
        let mut transient = false;
        for (path, result) in paths.iter().zip(results) {
            match result {
                Ok(_) => {
                    if let Err(e) = acknowledge(root, path) {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            tracing::warn!(file = %path.display(), error = %e, "cannot move letter to cur/");
                        }
                    }
                    report.processed += 1;
                }
                Err(e) if e.transient => {
                    if !transient {
                        tracing::warn!(file = %path.display(), error = %e, "letter not stored now, will retry");
                    }
                    transient = true;
                    report.deferred += 1;
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "letter cannot be processed; left in new/");
                    report.deferred += 1;
                }
            }
        }
        if transient {
            break;
        }
    }
    Ok(report)
}

/// The letter's size when it is over `[mailbox] max_letter_mb`.
async fn too_large(path: &Path, limit: u64) -> Option<u64> {
    let size = tokio::fs::metadata(path).await.ok()?.len();
    (size > limit).then_some(size)
}

/// A letter over the limit: quarantine its headers and tell the sender,
/// as IMAP does; never read whole, never truncated silently.
async fn oversize<S: LetterSink>(
    path: &Path,
    size: u64,
    limit: u64,
    handle: &S,
) -> Result<(), SinkError> {
    use tokio::io::AsyncReadExt;
    let io = |e: std::io::Error| SinkError {
        message: format!("cannot read `{}`: {e}", path.display()),
        transient: true,
    };
    let mut prefix = Vec::new();
    tokio::fs::File::open(path)
        .await
        .map_err(io)?
        .take(super::MAX_HEADER_BYTES as u64)
        .read_to_end(&mut prefix)
        .await
        .map_err(io)?;
    let r = handle
        .reject_oversize(super::header_block(&prefix), size, limit)
        .await?;
    tracing::warn!(file = %path.display(), size, limit, outcome = %r, "letter over [mailbox] max_letter_mb quarantined");
    Ok(())
}

/// Watch `new/` until `stop` turns true.
pub async fn watch<S: LetterSink>(
    root: PathBuf,
    handle: S,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut events = match inotify_stream(&root) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(folder = %root.display(), error = %e, "inotify unavailable, polling only");
            None
        }
    };
    loop {
        match pass(&root, &handle, Some(&stop)).await {
            Ok(r) if r.deferred > 0 => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "Maildir pass failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if *stop.borrow() {
            return;
        }
        let next_event = async {
            match events.as_mut() {
                Some(s) => {
                    s.next().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = next_event => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}

fn inotify_stream(root: &Path) -> std::io::Result<inotify::EventStream<Vec<u8>>> {
    use inotify::{Inotify, WatchMask};
    let inotify = Inotify::init()?;
    inotify.watches().add(
        root.join("new"),
        WatchMask::MOVED_TO | WatchMask::CLOSE_WRITE,
    )?;
    inotify.into_event_stream(vec![0u8; 4096])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_and_acknowledge() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path()).unwrap();
        for n in ["2.b", "1.a", ".hidden"] {
            std::fs::write(dir.path().join("new").join(n), b"x").unwrap();
        }
        let p = pending(dir.path()).unwrap();
        let names: Vec<_> = p
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["1.a", "2.b"]);
        acknowledge(dir.path(), &p[0]).unwrap();
        assert!(dir.path().join("cur/1.a:2,S").exists());
    }
}
