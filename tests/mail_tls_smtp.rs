//! SMTP over implicit TLS (`[outgoing] tls = "implicit"`, the smtps/465
//! kind) against the test Postfix's wrapper-mode port: with the test CA in
//! `outgoing.ca_file` the auto-reply really lands in the user's mailbox;
//! without it the self-signed server is refused, the reply stays queued and
//! its error says which key to set — the same as for STARTTLS, which is
//! checked alongside so the two modes cannot drift apart.

mod support;

use std::time::Duration;

use support::daemon::ticketd;
use support::{imap, letters, servers, ConfigOpts, TestTls, SUPPORT};

const FIX: &str = "set outgoing.ca_file to the CA that signed the server's certificate";

fn opts(name: &str, smtp_tls: TestTls, smtp_ca: bool) -> ConfigOpts {
    ConfigOpts {
        smtp_tls,
        smtp_ca,
        ..ConfigOpts::named(name)
    }
}

/// The outbox rows of the ticketd behind `config`, as `outbox list --json`.
fn outbox(config: &std::path::Path) -> Vec<serde_json::Value> {
    let out = ticketd(config, &["outbox", "list", "--json"]);
    assert!(
        out.status.success(),
        "outbox list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("outbox list --json: {e}: {:?}", out.stdout))
}

#[test]
fn implicit_tls_with_the_test_ca_delivers_the_reply() {
    let name = "smtps-ca";
    let opts = opts(name, TestTls::Implicit, true);
    let dir = servers().test_dir(name);
    imap::append(
        SUPPORT,
        &opts.folder,
        &letters::appeal("user2@example.com", name),
    );
    let config = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.contains(&format!(
            "port = {}\ntls = \"implicit\"",
            servers().smtps_port
        )),
        "the config must point at the wrapper-mode port:\n{text}"
    );
    let out = ticketd(&config, &["run", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply = imap::wait_reply("user2@example.com", name, Duration::from_secs(10));
    assert!(reply.header("Auto-Submitted").is_some(), "{}", reply.text());
    let rows = outbox(&config);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "sent", "{rows:?}");
}

#[test]
fn self_signed_smtp_server_without_ca_file_is_refused_with_the_fix() {
    for (name, tls) in [
        ("smtps-noca", TestTls::Implicit),
        ("smtp-starttls-noca", TestTls::Starttls),
    ] {
        let opts = opts(name, tls, false);
        let dir = servers().test_dir(name);
        imap::append(
            SUPPORT,
            &opts.folder,
            &letters::appeal("user1@example.com", name),
        );
        let config = servers().write_config(&dir, &opts);
        let out = ticketd(&config, &["run", "--once"]);
        let log = String::from_utf8_lossy(&out.stderr);
        // The letter is still taken: a ticket does not wait for the mail server.
        assert!(out.status.success(), "{name}: {log}");
        assert!(log.contains(FIX), "{name}: the log names the fix:\n{log}");
        let rows = outbox(&config);
        assert_eq!(rows.len(), 1, "{name}: {rows:?}");
        let row = &rows[0];
        assert_ne!(row["status"], "sent", "{name}: {row}");
        assert_ne!(
            row["status"], "failed",
            "{name}: an admin can fix TLS trust, so the reply waits for a retry: {row}"
        );
        let error = row["last_error"].as_str().unwrap_or_default();
        assert!(error.contains(FIX), "{name}: last_error {error:?}");
        assert!(
            error.contains("127.0.0.1"),
            "{name}: names the server: {error:?}"
        );
        assert_eq!(
            imap::replies_to(&imap::list("user1@example.com", "INBOX"), name),
            0,
            "{name}: nothing delivered"
        );
    }
}
