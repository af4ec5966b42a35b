//! The vital signs against real and misbehaving IMAP servers (issue 16,
//! "Must show" 4): `/readyz` turns 503 when Dovecot is stopped and 200
//! again after it returns; `/healthz` (and `/metrics`) answer at once while
//! the IMAP server hangs (a server that accepts and never greets).

mod support;

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::daemon::Daemon;
use support::{imap, servers, ConfigOpts, TestTls, SUPPORT};

static TURN: Mutex<()> = Mutex::new(());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `GET path`: status and body, or (0, "") when nothing answers.
fn get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(s, "GET {path} HTTP/1.1\r\n\r\n").is_err() {
        return (0, String::new());
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (code, body)
}

fn until(what: &str, secs: u64, daemon: &Daemon, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}; log:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A config for `name` with `[metrics]` on a free port; `change` edits
/// the text first.
fn config(
    name: &str,
    opts: &ConfigOpts,
    change: impl FnOnce(String) -> String,
) -> (std::path::PathBuf, u16) {
    let dir = servers().test_dir(name);
    let path = servers().write_config(&dir, opts);
    let port = free_port();
    let text = std::fs::read_to_string(&path).expect("config");
    let text = format!(
        "{}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\nrefresh_secs = 1\nstale_sync_secs = 4\n",
        change(text)
    );
    std::fs::write(&path, text).expect("write config");
    (path, port)
}

#[test]
fn readyz_turns_503_while_dovecot_is_stopped_and_200_when_it_returns() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let mut opts = ConfigOpts::named("metrics-stop");
    // IDLE is re-issued every second, and every return records a sync.
    opts.idle_refresh_secs = 1;
    imap::create(SUPPORT, &opts.folder);
    let (path, port) = config("metrics-stop", &opts, |t| t);
    let daemon = Daemon::start(&path);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "{}",
        daemon.log_text()
    );
    until("ready", 15, &daemon, || get(port, "/readyz").0 == 200);

    servers().stop_dovecot();
    let mut body = String::new();
    until("not ready without Dovecot", 20, &daemon, || {
        let (code, b) = get(port, "/readyz");
        body = b;
        code == 503
    });
    servers().start_dovecot();
    let v: serde_json::Value = serde_json::from_str(&body).expect("readyz JSON");
    assert!(
        v["reasons"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("mailbox `main`: not synced for")),
        "{v}"
    );
    until("ready again", 60, &daemon, || get(port, "/readyz").0 == 200);
    daemon.stop();
}

#[test]
fn healthz_answers_while_the_imap_server_hangs() {
    // A server that accepts connections and never says a word.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hang_port = hang.local_addr().expect("addr").port();
    let held = std::sync::Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for c in hang.incoming().flatten() {
            keep.lock().unwrap_or_else(|p| p.into_inner()).push(c);
        }
    });
    let mut opts = ConfigOpts::named("metrics-hang");
    opts.imap_tls = TestTls::None;
    opts.imap_ca = false;
    let imap_port = servers().imap_port;
    let (path, port) = config("metrics-hang", &opts, |t| {
        t.replacen(
            &format!("port = {imap_port}\n"),
            &format!("port = {hang_port}\n"),
            1,
        )
    });
    let daemon = Daemon::start(&path);
    until("ticketd connects to the silent server", 15, &daemon, || {
        !held.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    });
    // While the connection hangs every answer comes at once.
    for _ in 0..20 {
        let t0 = Instant::now();
        assert_eq!(get(port, "/healthz"), (200, "ok\n".to_string()));
        assert!(
            t0.elapsed() < Duration::from_millis(500),
            "{:?}",
            t0.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let t0 = Instant::now();
    assert_eq!(get(port, "/metrics").0, 200);
    assert!(t0.elapsed() < Duration::from_millis(500));
    until("not ready: never synced", 15, &daemon, || {
        let (code, body) = get(port, "/readyz");
        code == 503 && body.contains("never synced")
    });
    assert_eq!(get(port, "/healthz").0, 200);
    daemon.stop();
}
