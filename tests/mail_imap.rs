//! The IMAP source (`ticketd::source::imap`) against the real test Dovecot,
//! driven through a recording [`LetterSink`] instead of the pipeline: what it
//! fetches, when it acknowledges, how it handles size, TLS and IDLE.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{imap, letters, servers, ConfigOpts, TestTls, SUPPORT};
use ticketd::source::imap::{self as source, LetterSink, SinkError};

/// Headers, size and limit handed to `reject_oversize`.
type Oversize = (Vec<u8>, u64, u64);

#[derive(Clone, Default)]
struct Recorder {
    letters: Arc<Mutex<Vec<Vec<u8>>>>,
    oversize: Arc<Mutex<Vec<Oversize>>>,
    state: Arc<Mutex<HashMap<String, String>>>,
    /// Fail this many ingests transiently before accepting.
    fail_transient: Arc<Mutex<usize>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LetterSink for Recorder {
    /// The IMAP source reads its own `[mailbox] max_letter_mb`.
    async fn letter_limit(&self) -> Result<u64, SinkError> {
        Ok(u64::MAX)
    }
    async fn ingest(&self, raw: Vec<u8>) -> Result<String, SinkError> {
        {
            let mut f = lock(&self.fail_transient);
            if *f > 0 {
                *f -= 1;
                return Err(SinkError {
                    message: "database is locked".into(),
                    transient: true,
                });
            }
        }
        lock(&self.letters).push(raw);
        Ok("created".into())
    }
    async fn reject_oversize(
        &self,
        headers: Vec<u8>,
        size: u64,
        limit: u64,
    ) -> Result<String, SinkError> {
        lock(&self.oversize).push((headers, size, limit));
        Ok("quarantined".into())
    }
    async fn state_get(&self, key: &str) -> Result<Option<String>, SinkError> {
        Ok(lock(&self.state).get(key).cloned())
    }
    async fn state_set(&self, key: &str, value: &str) -> Result<(), SinkError> {
        lock(&self.state).insert(key.into(), value.into());
        Ok(())
    }
}

fn config(name: &str, opts: ConfigOpts) -> ticketd::desk::Desk {
    let dir = servers().test_dir(name);
    let path = servers().write_config(&dir, &opts);
    ticketd::desk::Desk::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn opts(folder: &str) -> ConfigOpts {
    ConfigOpts {
        folder: folder.into(),
        processed_folder: format!("{folder}-done"),
        ..ConfigOpts::default()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn sync_once_commits_then_moves_and_keeps_position() {
    let folder = "t-move";
    let cfg = config("move", opts(folder));
    let raws: Vec<Vec<u8>> = (0..5)
        .map(|i| letters::appeal("user1@example.com", &format!("move-{i}")))
        .collect();
    imap::append_many(SUPPORT, folder, &raws);
    let rec = Recorder::default();
    let report = rt().block_on(source::sync_once(&cfg, &rec)).expect("sync");
    assert_eq!(report.letters, 5);
    assert_eq!(
        *lock(&rec.letters),
        raws,
        "every letter, in UID order, byte for byte"
    );
    assert_eq!(
        imap::count(SUPPORT, folder),
        0,
        "acknowledged letters leave the folder"
    );
    assert_eq!(
        imap::count(SUPPORT, &format!("{folder}-done")),
        5,
        "and land in processed_folder"
    );
    let state = lock(&rec.state).clone();
    assert_eq!(
        state.get(source::KEY_LAST_UID).map(String::as_str),
        Some("5")
    );
    assert!(state.contains_key(source::KEY_UIDVALIDITY));
    assert!(state
        .get(source::KEY_LAST_SYNC)
        .is_some_and(|t| t.starts_with("20")));
}

#[test]
fn flag_mode_marks_seen_and_never_refetches() {
    let folder = "t-flag";
    let cfg = config(
        "flag",
        ConfigOpts {
            after_processing: "flag".into(),
            ..opts(folder)
        },
    );
    imap::append_many(
        SUPPORT,
        folder,
        &[
            letters::appeal("user1@example.com", "flag-1"),
            letters::appeal("user1@example.com", "flag-2"),
        ],
    );
    let rec = Recorder::default();
    let rt = rt();
    assert_eq!(
        rt.block_on(source::sync_once(&cfg, &rec))
            .expect("sync")
            .letters,
        2
    );
    let stored = imap::list(SUPPORT, folder);
    assert_eq!(stored.len(), 2, "flag mode leaves letters in place");
    assert!(stored.iter().all(|l| l.seen), "but marks them \\Seen");
    imap::append(
        SUPPORT,
        folder,
        &letters::appeal("user1@example.com", "flag-3"),
    );
    assert_eq!(
        rt.block_on(source::sync_once(&cfg, &rec))
            .expect("sync")
            .letters,
        1,
        "only the new one"
    );
    assert_eq!(lock(&rec.letters).len(), 3);
}

#[test]
fn transient_pipeline_failure_leaves_the_letter() {
    let folder = "t-transient";
    let cfg = config("transient", opts(folder));
    imap::append(
        SUPPORT,
        folder,
        &letters::appeal("user1@example.com", "transient-1"),
    );
    let rec = Recorder::default();
    *lock(&rec.fail_transient) = 1;
    let rt = rt();
    let err = rt
        .block_on(source::sync_once(&cfg, &rec))
        .expect_err("transient error surfaces");
    assert!(err.to_string().contains("tried again"), "{err}");
    assert_eq!(
        imap::count(SUPPORT, folder),
        1,
        "nothing moved before its commit"
    );
    assert_eq!(
        rt.block_on(source::sync_once(&cfg, &rec))
            .expect("sync")
            .letters,
        1
    );
    assert_eq!(imap::count(SUPPORT, folder), 0);
}

#[test]
fn oversize_letter_is_not_downloaded_whole() {
    let folder = "t-big";
    // 0.02 MB ≈ 20 KB limit; the letter is ~60 KB.
    let cfg = config(
        "big",
        ConfigOpts {
            max_letter_mb: 0.02,
            ..opts(folder)
        },
    );
    let big = letters::big_appeal("user2@example.com", "big-1", 60_000);
    imap::append(SUPPORT, folder, &big);
    imap::append(
        SUPPORT,
        folder,
        &letters::appeal("user2@example.com", "small-1"),
    );
    let rec = Recorder::default();
    let report = rt().block_on(source::sync_once(&cfg, &rec)).expect("sync");
    assert_eq!((report.letters, report.oversize), (2, 1));
    let over = lock(&rec.oversize).clone();
    assert_eq!(over.len(), 1);
    let (headers, size, limit) = &over[0];
    assert!(
        headers.len() < 1000,
        "headers only, got {} bytes",
        headers.len()
    );
    assert!(String::from_utf8_lossy(headers).contains("Message-ID: <big-1@test.example>"));
    assert_eq!(*size, big.len() as u64);
    assert_eq!(*limit, (0.02 * 1024.0 * 1024.0) as u64);
    assert_eq!(
        lock(&rec.letters).len(),
        1,
        "the small one went through normally"
    );
    assert_eq!(imap::count(SUPPORT, folder), 0);
}

#[test]
fn starttls_and_implicit_tls_with_the_test_ca() {
    for (name, tls) in [
        ("tls-implicit", TestTls::Implicit),
        ("tls-starttls", TestTls::Starttls),
    ] {
        let folder = format!("t-{name}");
        let cfg = config(
            name,
            ConfigOpts {
                imap_tls: tls,
                ..opts(&folder)
            },
        );
        imap::append(
            SUPPORT,
            &folder,
            &letters::appeal("user1@example.com", name),
        );
        let rec = Recorder::default();
        let report = rt()
            .block_on(source::sync_once(&cfg, &rec))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.letters, 1, "{name}");
    }
}

#[test]
fn self_signed_server_without_ca_file_is_refused_with_the_fix() {
    for (name, tls) in [
        ("noca-implicit", TestTls::Implicit),
        ("noca-starttls", TestTls::Starttls),
    ] {
        let cfg = config(
            name,
            ConfigOpts {
                imap_tls: tls,
                imap_ca: false,
                ..opts("t-noca")
            },
        );
        let err = rt()
            .block_on(source::sync_once(&cfg, &Recorder::default()))
            .expect_err("must refuse");
        let text = err.to_string();
        assert!(
            text.contains("set mailbox.ca_file to the CA that signed the server's certificate"),
            "{name}: {text}"
        );
    }
}

#[test]
fn idle_wakes_on_a_new_letter_and_stops_on_shutdown() {
    let folder = "t-idle";
    let cfg = config("idle", opts(folder));
    imap::create(SUPPORT, folder);
    let rec = Recorder::default();
    let rt = rt();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = {
        let rec = rec.clone();
        let cfg = cfg.clone();
        rt.spawn(async move { source::watch(&cfg, rec, rx).await })
    };
    // Wait for the first sync (the source records it) so the letter arrives during IDLE.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lock(&rec.state).contains_key(source::KEY_LAST_SYNC) {
        assert!(Instant::now() < deadline, "no first sync");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    imap::append(
        SUPPORT,
        folder,
        &letters::appeal("user1@example.com", "idle-1"),
    );
    while lock(&rec.letters).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "IDLE did not deliver the letter within 2 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let latency = t0.elapsed();
    eprintln!("IDLE append → intake: {latency:?}");
    tx.send(true).expect("signal");
    let res = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), task).await });
    assert!(
        matches!(res, Ok(Ok(Ok(())))),
        "watch must stop cleanly on shutdown: {res:?}"
    );
}
