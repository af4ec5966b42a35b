//! Maildir intake: letters in `new/` are processed in name order and moved
//! to `cur/` with the `S` flag after their commit.
//!
//! Watched with inotify (a letter is answered as soon as the MTA renames it
//! into `new/`), with a slow rescan as a safety net in case an event is
//! missed (inotify queue overflow, a folder replaced under us).

use crate::pipeline::{Handle, IngestError, IngestReport};
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

/// Process every letter now in `new/`. Stops early (leaving the rest) when
/// `stop` turns true; the letter in hand is always finished.
pub async fn pass(
    root: &Path,
    handle: &Handle,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<PassReport, IngestError> {
    let mut report = PassReport::default();
    let files = pending(root).map_err(|source| IngestError::Attachment {
        path: root.join("new"),
        cause: source,
    })?;
    for path in files {
        if stop.is_some_and(|s| *s.borrow()) {
            break;
        }
        let raw = match tokio::fs::read(&path).await {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // taken by another instance
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read letter, will retry");
                report.deferred += 1;
                continue;
            }
        };
        match handle.ingest(raw).await {
            Ok(IngestReport { .. }) => {
                if let Err(e) = acknowledge(root, &path) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(file = %path.display(), error = %e, "cannot move letter to cur/");
                    }
                }
                report.processed += 1;
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(file = %path.display(), error = %e, "letter not stored now, will retry");
                report.deferred += 1;
                break;
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "letter cannot be processed; left in new/");
                report.deferred += 1;
            }
        }
    }
    Ok(report)
}

/// Watch `new/` until `stop` turns true.
pub async fn watch(root: PathBuf, handle: Handle, poll: Duration, mut stop: watch::Receiver<bool>) {
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
