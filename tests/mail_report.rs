//! A scheduled report letter read back over IMAP (issue 16, "Must show"
//! 3, the real-server part): `ticketd run` with a `[[reports]]` entry whose
//! last period was never sent sends it on start through Postfix into the
//! recipient's Dovecot mailbox — HTML, text and the CSV attached — and a
//! restart does not send it again.

mod support;

use mail_parser::{MessageParser, MimeHeaders};
use std::time::Duration;

use support::daemon::Daemon;
use support::{imap, servers, ConfigOpts, SUPPORT};

const BOSS: &str = "user2@example.com";

fn reports_in_inbox() -> Vec<Vec<u8>> {
    imap::list(BOSS, "INBOX")
        .into_iter()
        .filter(|l| {
            MessageParser::default()
                .parse(&l.raw)
                .and_then(|m| {
                    m.subject()
                        .map(|s| s.starts_with("Отчёт о работе службы поддержки"))
                })
                .unwrap_or(false)
        })
        .map(|l| l.raw)
        .collect()
}

#[test]
fn the_missed_weekly_report_arrives_once_over_imap() {
    let opts = ConfigOpts::named("mail-report");
    imap::create(SUPPORT, &opts.folder);
    let dir = servers().test_dir("mail-report");
    let path = servers().write_config(&dir, &opts);
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        format!("{text}\n[[reports]]\nevery = \"week\"\nto = [\"{BOSS}\"]\nat = \"00:00\"\nformat = \"html\"\n"),
    )
    .expect("write config");
    let before = reports_in_inbox().len();

    let daemon = Daemon::start(&path);
    assert!(
        daemon.wait_log("report letter queued", Duration::from_secs(15)),
        "{}",
        daemon.log_text()
    );
    let letters = imap::wait_until(
        BOSS,
        "INBOX",
        Duration::from_secs(30),
        "the report letter",
        |_| reports_in_inbox().len() > before,
    );
    drop(letters);
    daemon.stop();
    let got = reports_in_inbox();
    assert_eq!(got.len(), before + 1);
    let msg = MessageParser::default()
        .parse(&got[got.len() - 1])
        .expect("parses");
    assert!(msg
        .body_text(0)
        .is_some_and(|t| t.contains("Поступило обращений")));
    assert!(msg.body_html(0).is_some_and(|h| h.contains("<svg")));
    assert!(msg.attachments().any(|a| a
        .attachment_name()
        .is_some_and(|n| n.starts_with("tickets-") && n.ends_with(".csv"))));

    // Started again: the week is recorded as sent; nothing more arrives.
    let daemon = Daemon::start(&path);
    assert!(
        daemon.wait_log("ticketd running", Duration::from_secs(15)),
        "{}",
        daemon.log_text()
    );
    std::thread::sleep(Duration::from_secs(3));
    daemon.stop();
    assert_eq!(reports_in_inbox().len(), before + 1, "sent once");
}
