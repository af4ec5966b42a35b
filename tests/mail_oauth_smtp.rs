//! SMTP AUTH XOAUTH2 (issue 11, "Must show" 3) against the test Postfix's
//! submission port, whose SASL goes through the test Dovecot, so Dovecot's
//! `oauth2` passdb judges the token (`support::oauth`): replies are
//! delivered with a token; a token that dies early is refused with 535 and
//! the next connection carries a refreshed one, no letter lost; a refused
//! refresh is named, with `outgoing.refresh_token_file`, in `ticketd status`
//! and once in the log. The tests restart Postfix, so they take turns.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::daemon::{ticketd, Daemon};
use support::oauth::TokenServer;
use support::{imap, letters, servers, ConfigOpts, SUPPORT};

static TURN: Mutex<()> = Mutex::new(());

/// The test config sending through the AUTH port as the support address,
/// logging in with tokens from `server`.
fn config(name: &str, server: &TokenServer) -> PathBuf {
    let opts = ConfigOpts::named(name);
    imap::create(SUPPORT, &opts.folder);
    let dir = servers().test_dir(name);
    let path = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&path).unwrap();
    let smtp = format!("port = {}\n", servers().smtp_port);
    assert!(text.contains(&smtp), "{text}");
    let oauth = format!(
        "port = {}\nuser = \"{SUPPORT}\"\n{}",
        servers().submit_port,
        server.config_keys(&dir, "outgoing")
    );
    std::fs::write(&path, text.replace(&smtp, &oauth)).unwrap();
    path
}

fn folder(name: &str) -> String {
    ConfigOpts::named(name).folder
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

fn status_json(config: &Path) -> serde_json::Value {
    let out = ticketd(config, &["status", "--json"]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("status --json")
}

fn assert_no_token_logged(daemon: &Daemon, server: &TokenServer) {
    let log = daemon.log_text();
    for t in server.issued() {
        let sig = t.rsplit('.').next().unwrap_or(&t);
        assert!(!log.contains(sig), "a token reached the log:\n{log}");
    }
    assert!(
        !log.contains("rtok-"),
        "a refresh token reached the log:\n{log}"
    );
}

#[test]
fn smtp_xoauth2_delivers_and_an_expired_token_is_refreshed() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let server = TokenServer::start(SUPPORT);
    server.set_jwt_life(3);
    let name = "oauth-smtp";
    let config = config(name, &server);
    let daemon = start(&config);

    imap::append(
        SUPPORT,
        &folder(name),
        &letters::appeal("user1@example.com", "oauth-smtp-1"),
    );
    imap::wait_reply("user1@example.com", "oauth-smtp-1", Duration::from_secs(20));
    let issued = Instant::now();
    assert_eq!(server.grants(), 1);

    // The token dies (it claimed an hour); the pooled connection goes with
    // the restart; the next letter needs a new login.
    server.set_jwt_life(3600);
    std::thread::sleep(Duration::from_secs(4).saturating_sub(issued.elapsed()));
    servers().restart_smtp();
    let t0 = Instant::now();
    imap::append(
        SUPPORT,
        &folder(name),
        &letters::appeal("user2@example.com", "oauth-smtp-2"),
    );
    imap::wait_reply("user2@example.com", "oauth-smtp-2", Duration::from_secs(30));
    eprintln!("second reply delivered {:?} after the append", t0.elapsed());
    assert_eq!(server.grants(), 2, "one refresh after the refusal");
    let log = daemon.log_text();
    assert!(
        log.contains("the server refused the OAuth2 access token; refreshing it"),
        "{log}"
    );
    assert_no_token_logged(&daemon, &server);
    assert!(status_json(&config)["oauth2"]["outgoing"].is_null());
    daemon.stop();
}

#[test]
fn smtp_refused_refresh_is_named_in_status_and_logged_once() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let server = TokenServer::start(SUPPORT);
    server.refuse(true);
    let name = "oauth-smtp-refused";
    let config = config(name, &server);
    let daemon = start(&config);
    imap::append(
        SUPPORT,
        &folder(name),
        &letters::appeal("user1@example.com", "oauth-smtp-refused-1"),
    );
    // retry_base_secs = 1, cap 2 in the test config: several refusals soon.
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.refusals() < 3 {
        assert!(
            Instant::now() < deadline,
            "no retries; log:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = daemon.log_text();
    // Once by the token source, and once in the outbox's own "blocked"
    // line (which quotes it); the retries are DEBUG.
    let named: Vec<_> = log
        .lines()
        .filter(|l| l.contains("ERROR OAuth2 token refresh for [outgoing] refused"))
        .collect();
    assert_eq!(named.len(), 1, "logged once:\n{log}");
    let blocked = log
        .lines()
        .filter(|l| !l.contains(" DEBUG ") && l.contains("SMTP login: OAuth2 token refresh"))
        .count();
    assert_eq!(blocked, 1, "the outbox's outage line, once:\n{log}");
    assert!(
        named[0].contains("outgoing.refresh_token_file"),
        "{}",
        named[0]
    );
    let v = status_json(&config);
    let err = v["oauth2"]["outgoing"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        err.contains("invalid_grant") && err.contains("outgoing.refresh_token_file"),
        "{v}"
    );
    let text = String::from_utf8_lossy(&ticketd(&config, &["status"]).stdout).into_owned();
    assert!(text.contains("OAuth2 [outgoing]"), "{text}");

    // A new refresh token in the file: the waiting reply goes out.
    server.reissue_refresh_token("rt-admin");
    server.refuse(false);
    std::fs::write(
        server.refresh_token_file(config.parent().unwrap(), "outgoing"),
        "rt-admin\n",
    )
    .unwrap();
    imap::wait_reply(
        "user1@example.com",
        "oauth-smtp-refused-1",
        Duration::from_secs(30),
    );
    assert!(status_json(&config)["oauth2"]["outgoing"].is_null());
    assert_no_token_logged(&daemon, &server);
    daemon.stop();
}
