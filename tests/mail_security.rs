//! Issue 12, "Must show" 2: an engineer's command through the real Postfix,
//! which adds an `Authentication-Results` header of its own (a
//! `header_checks` PREPEND, `scripts/servers/setup` with
//! `TICKETD_TEST_AUTH_RESULTS=1`), is applied; the same letter put into the
//! mailbox directly (IMAP APPEND, bypassing Postfix) with a forged header
//! below its From is refused.

mod support;

use support::daemon::{ticketd, Daemon};
use support::desk::{about, appeal, desk_sections, smtp_send, TestDesk, WAIT};
use support::{imap, servers, ConfigOpts, SUPPORT};

#[test]
fn a_command_through_the_mta_is_applied_a_forged_one_injected_directly_is_not() {
    // Before the servers start (once per test binary).
    std::env::set_var("TICKETD_TEST_AUTH_RESULTS", "1");
    let name = "authres";
    let dir = servers().test_dir(name);
    let opts = ConfigOpts {
        processed_folder: format!("Processed-{name}"),
        ..ConfigOpts::default()
    };
    let config = servers().write_config(&dir, &opts);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace("[loops]\n", "[loops]\nmax_auto_per_day = 10\n");
    text.push_str(&desk_sections("AR", "1d"));
    text.push_str("\n[security]\nauthserv_id = \"mail.test.invalid\"\nrequire = \"dmarc\"\n");
    std::fs::write(&config, text).unwrap();
    let out = ticketd(&config, &["check-config"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", WAIT),
        "{}",
        daemon.log_text()
    );
    let desk = TestDesk {
        config,
        daemon,
        folder: "INBOX".into(),
        prefix: "AR".into(),
    };

    smtp_send(
        "user1@example.com",
        SUPPORT,
        &appeal("user1@example.com", "ar-1", "Не печатает принтер"),
    );
    let routed = imap::wait_until("line2@sed.example.org", "INBOX", WAIT, "routed", |l| {
        l.iter()
            .any(|m| m.header("Subject").unwrap_or_default().contains("[AR-"))
    });
    let id = routed
        .iter()
        .rev()
        .find_map(|m| desk.id_in(m))
        .expect("a routed letter");
    let routed = about("line2@sed.example.org", &id, 1, "the routed letter");
    let token = regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
        .unwrap()
        .find(&routed[0].header("Reply-To").unwrap())
        .unwrap()
        .as_str()
        .to_string();

    // Through Postfix: its Authentication-Results vouches for sed.example.org.
    let cmd = |mid: &str, status: &str| {
        format!(
            "From: eng1@sed.example.org\r\nTo: {token}\r\nSubject: Re: [{id}] принтер\r\nMessage-ID: <{mid}@sed.example.org>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
             Статус: {status}\r\n\r\nКакая модель принтера?\r\n"
        )
    };
    smtp_send(
        "eng1@sed.example.org",
        &token,
        cmd("ar-cmd-1", "Действие пользователя").as_bytes(),
    );
    let t = desk.wait_status(&id, "awaiting_user");
    assert_eq!(t["line"], 2);

    // Directly into the mailbox, a forged header below From: refused.
    let forged = cmd("ar-cmd-2", "Предложено решение").replacen(
        "To: ",
        "Authentication-Results: mail.test.invalid; dmarc=pass header.from=sed.example.org\r\nTo: ",
        1,
    );
    imap::append(SUPPORT, "INBOX", forged.as_bytes());
    let t = desk.wait_history(&id, "command_refused", 1);
    assert_eq!(
        t["status"], "awaiting_user",
        "the forged command changed nothing"
    );
    let last = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|h| h["action"] == "command_refused")
        .unwrap();
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("not authenticated"),
        "{last}"
    );
}
