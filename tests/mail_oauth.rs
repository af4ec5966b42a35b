//! OAuth2 logins against the real Dovecot (issue 11, "Must show" 3): its
//! `oauth2` passdb validates the JWTs that the test token endpoint
//! (`support::oauth::TokenServer`) issues. IMAP logs in with SASL XOAUTH2;
//! a token that dies early is refreshed on the refusal and no letter is
//! lost; a refused refresh is named, with the key to fix, in `ticketd
//! status` and once in the log. The tests cut ticketd's IMAP connection
//! (`doveadm kick`), so they take turns.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::daemon::{ticketd, Daemon};
use support::oauth::{kick, TokenServer};
use support::{db, imap, letters, servers, ConfigOpts, SUPPORT};

static TURN: Mutex<()> = Mutex::new(());

/// The test config with `[mailbox]` logging in by OAuth2 instead of a password.
fn oauth_config(name: &str, opts: &ConfigOpts, server: &TokenServer) -> PathBuf {
    imap::create(SUPPORT, &opts.folder);
    let dir = servers().test_dir(name);
    let config = servers().write_config(&dir, opts);
    let text = std::fs::read_to_string(&config).unwrap();
    let pw_line = text
        .lines()
        .find(|l| l.starts_with("password_file = "))
        .expect("the [mailbox] password line")
        .to_string();
    let text = text.replacen(&pw_line, &server.config_keys(&dir, "mailbox"), 1);
    std::fs::write(&config, text).unwrap();
    config
}

fn status_json(config: &Path) -> serde_json::Value {
    let out = ticketd(config, &["status", "--json"]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("status --json")
}

fn start(config: &Path) -> Daemon {
    let daemon = Daemon::start(config);
    assert!(
        daemon.wait_log("IMAP connected", Duration::from_secs(15)),
        "daemon did not connect with OAuth2; log:\n{}",
        daemon.log_text()
    );
    daemon
}

/// Every access token the server issued is absent from the log.
fn assert_no_token_logged(daemon: &Daemon, server: &TokenServer) {
    let log = daemon.log_text();
    for t in server.issued() {
        let sig = t.rsplit('.').next().unwrap_or(&t);
        assert!(!log.contains(sig), "a token reached the log:\n{log}");
    }
    for rt in ["rtok-", "rt-admin"] {
        assert!(!log.contains(rt), "a refresh token reached the log:\n{log}");
    }
}

/// Login with a token; the token then dies (it claimed an hour, lived 3 s);
/// on the next login Dovecot refuses it, ticketd refreshes once, logs in,
/// and the letter that arrived meanwhile becomes a ticket like the first.
#[test]
fn imap_xoauth2_login_and_an_expired_token_refreshed_without_losing_a_letter() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let server = TokenServer::start(SUPPORT);
    server.set_jwt_life(3);
    let opts = ConfigOpts::named("oauth-imap");
    let config = oauth_config("oauth-imap", &opts, &server);
    let issued_at = Instant::now();
    let daemon = start(&config);
    assert_eq!(server.grants(), 1, "one refresh for the first login");
    let rt_file = server.refresh_token_file(config.parent().unwrap(), "mailbox");
    assert_eq!(
        std::fs::read_to_string(&rt_file).unwrap().trim(),
        server.refresh_token(),
        "the rotated refresh token is written back"
    );

    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user1@example.com", "oauth-1"),
    );
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(20),
        "oauth-1 processed",
        |l| l.len() == 1,
    );

    // The token dies; the connection is cut; a letter arrives meanwhile.
    server.set_jwt_life(3600);
    if let Some(rest) = Duration::from_secs(4).checked_sub(issued_at.elapsed()) {
        std::thread::sleep(rest);
    }
    kick(SUPPORT);
    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user2@example.com", "oauth-2"),
    );
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(30),
        "oauth-2 processed after the refresh",
        |l| l.len() == 2,
    );
    let db_path = config.parent().unwrap().join("ticketd.sqlite3");
    assert_eq!(db::ticket_count(&db_path), 2, "both letters are tickets");
    assert_eq!(server.grants(), 2, "exactly one refresh after the refusal");
    assert_eq!(
        std::fs::read_to_string(&rt_file).unwrap().trim(),
        server.refresh_token()
    );
    let log = daemon.log_text();
    assert!(
        log.contains("the server refused the OAuth2 access token; refreshing it"),
        "{log}"
    );
    assert_no_token_logged(&daemon, &server);
    assert!(status_json(&config)["oauth2"]["mailbox"].is_null());
    daemon.stop();
}

/// The refresh token is revoked: ticketd says so once, naming
/// `mailbox.refresh_token_file`, `status` shows it while it lasts; when the
/// admin puts a new refresh token in the file, intake resumes by itself and
/// the letter that waited is processed.
#[test]
fn a_refused_refresh_is_named_in_status_and_logged_once() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let server = TokenServer::start(SUPPORT);
    server.set_jwt_life(3);
    let opts = ConfigOpts::named("oauth-refused");
    let config = oauth_config("oauth-refused", &opts, &server);
    let issued_at = Instant::now();
    let daemon = start(&config);

    server.refuse(true);
    if let Some(rest) = Duration::from_secs(4).checked_sub(issued_at.elapsed()) {
        std::thread::sleep(rest);
    }
    kick(SUPPORT);
    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user1@example.com", "oauth-refused-1"),
    );
    // Several attempts (backoff), all refused.
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.refusals() < 3 {
        assert!(
            Instant::now() < deadline,
            "ticketd did not retry the refresh; log:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = daemon.log_text();
    // Once at a level an admin sees (the retries are DEBUG).
    let named = log
        .lines()
        .filter(|l| l.contains("OAuth2 token refresh for [mailbox] refused"))
        .filter(|l| !l.contains(" DEBUG "))
        .collect::<Vec<_>>();
    assert_eq!(named.len(), 1, "logged once per outage:\n{log}");
    assert!(named[0].contains(" ERROR "), "{}", named[0]);
    assert!(named[0].contains("invalid_grant"), "{}", named[0]);
    assert!(
        named[0].contains("mailbox.refresh_token_file"),
        "{}",
        named[0]
    );

    let out = ticketd(&config, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("OAuth2 [mailbox]"), "{text}");
    assert!(text.contains("mailbox.refresh_token_file"), "{text}");
    let v = status_json(&config);
    let err = v["oauth2"]["mailbox"]["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("invalid_grant") && err.contains("mailbox.refresh_token_file"),
        "{v}"
    );
    assert!(v["oauth2"]["mailbox"]["since"].is_string(), "{v}");
    assert_eq!(
        imap::count(SUPPORT, &opts.processed_folder),
        0,
        "nothing processed without a token"
    );

    // The admin signs in again and puts the new refresh token in the file.
    server.set_jwt_life(3600);
    server.reissue_refresh_token("rt-admin");
    server.refuse(false);
    std::fs::write(
        server.refresh_token_file(config.parent().unwrap(), "mailbox"),
        "rt-admin\n",
    )
    .unwrap();
    imap::wait_until(
        SUPPORT,
        &opts.processed_folder,
        Duration::from_secs(40),
        "the waiting letter processed after the fix",
        |l| l.len() == 1,
    );
    assert!(
        daemon.wait_log("OAuth2 token refresh works again", Duration::from_secs(5)),
        "{}",
        daemon.log_text()
    );
    assert!(
        status_json(&config)["oauth2"]["mailbox"].is_null(),
        "status clears when the refresh works again"
    );
    assert_no_token_logged(&daemon, &server);
    daemon.stop();
}
