//! SMTP AUTH (`[outgoing] user` + `password_file`) against the real Postfix
//! submission port, whose passwords Dovecot checks: with the right password
//! the reply lands in the user's mailbox; with a wrong one the letters wait
//! in the outbox (retried, never given up as failed: the password is the
//! admin's to fix) with an error that names the keys; a server that demands
//! AUTH from a ticketd without credentials refuses the letter at RCPT, and
//! the letter is marked failed with the server's answer.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::daemon::{ticketd, Daemon};
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

/// The test config sending through the AUTH port; `password` None leaves
/// out the credentials.
fn config(name: &str, password: Option<&str>) -> PathBuf {
    let opts = ConfigOpts::named(name);
    imap::create(SUPPORT, &opts.folder);
    let dir = servers().test_dir(name);
    let path = servers().write_config(&dir, &opts);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let smtp = format!("port = {}\n", servers().smtp_port);
    assert!(text.contains(&smtp), "{text}");
    let mut auth = format!("port = {}\n", servers().submit_port);
    if let Some(pw) = password {
        let file = dir.join("smtp-password");
        std::fs::write(&file, pw).unwrap_or_else(|e| panic!("{e}"));
        auth.push_str(&format!(
            "user = \"{SUPPORT}\"\npassword_file = {:?}\n",
            file.display().to_string()
        ));
    }
    text = text.replace(&smtp, &auth);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn outbox_rows(config: &Path) -> Vec<serde_json::Value> {
    let out = ticketd(config, &["outbox", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

fn start(config: &Path) -> Daemon {
    let daemon = Daemon::start(config);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "no connection; log:\n{}",
        daemon.log_text()
    );
    daemon
}

#[test]
fn auth_with_the_right_password_delivers() {
    let config = config("auth-ok", Some(support::PASSWORD));
    let daemon = start(&config);
    imap::append(
        SUPPORT,
        "auth-ok-in",
        &letters::appeal("user1@example.com", "auth-ok-1"),
    );
    imap::wait_reply("user1@example.com", "auth-ok-1", Duration::from_secs(15));
    daemon.stop();
}

#[test]
fn wrong_password_keeps_letters_queued_with_the_fix() {
    let config = config("auth-bad", Some("wrong-password"));
    let daemon = start(&config);
    imap::append(
        SUPPORT,
        "auth-bad-in",
        &letters::appeal("user2@example.com", "auth-bad-1"),
    );
    let t0 = Instant::now();
    let row = loop {
        let rows = outbox_rows(&config);
        if let Some(r) = rows
            .iter()
            .find(|r| r["attempts"].as_i64().unwrap_or(0) >= 2)
        {
            break r.clone();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no retried row: {rows:#?}\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(row["status"], "pending", "not given up: {row:#}");
    let err = row["last_error"].as_str().unwrap_or_default();
    assert!(
        err.contains("535") && err.contains("outgoing.user") && err.contains("password_file"),
        "the server's answer and the keys to check: {err}"
    );
    assert_eq!(
        imap::replies_to(&imap::list("user2@example.com", "INBOX"), "auth-bad-1"),
        0
    );
    daemon.stop();
}

#[test]
fn server_demanding_auth_refuses_a_ticketd_without_credentials() {
    let config = config("auth-none", None);
    let daemon = start(&config);
    imap::append(
        SUPPORT,
        "auth-none-in",
        &letters::appeal("user2@example.com", "auth-none-1"),
    );
    let t0 = Instant::now();
    let row = loop {
        let rows = outbox_rows(&config);
        if let Some(r) = rows.iter().find(|r| r["last_error"].is_string()) {
            break r.clone();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no refused row: {rows:#?}\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // The answer came to the letter's own RCPT: a 5xx there marks the
    // letter failed with the server's words; once the admin has set the
    // credentials, `ticketd outbox retry --all` sends it again.
    let err = row["last_error"].as_str().unwrap_or_default();
    assert_eq!(row["status"], "failed", "{row:#}");
    assert!(
        err.contains("554") && err.contains("Access denied"),
        "the server's refusal is kept: {row:#}"
    );
    daemon.stop();
}
