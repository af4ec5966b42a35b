//! Smoke test of the test mail servers themselves (tests/support): a letter
//! APPENDed over IMAP reads back; a letter sent over SMTP (STARTTLS, test CA)
//! to any domain is delivered by Postfix over LMTP into Dovecot.

mod support;

use std::time::Duration;
use support::{imap, servers, SUPPORT};

#[test]
fn append_reads_back() {
    let raw = support::letters::appeal("user1@example.com", "smoke-append");
    imap::append(SUPPORT, "smoke", &raw);
    let got = imap::list(SUPPORT, "smoke");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].raw, raw);
    assert_eq!(imap::count(SUPPORT, "no-such-folder"), 0);
}

#[test]
fn smtp_delivers_into_imap_over_lmtp() {
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{address::Envelope, Address, SmtpTransport, Transport};
    let s = servers();
    let pem = std::fs::read(&s.ca_file).expect("test CA");
    let cert = lettre::transport::smtp::client::Certificate::from_pem(&pem).expect("CA pem");
    let tls = TlsParameters::builder("localhost".into())
        .add_root_certificate(cert)
        .build_rustls()
        .expect("tls params");
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(s.smtp_port)
        .tls(Tls::Required(tls))
        .build();
    let envelope = Envelope::new(
        Some("support@sed.example.org".parse::<Address>().expect("addr")),
        vec!["user2@example.com".parse::<Address>().expect("addr")],
    )
    .expect("envelope");
    let raw = b"From: support@sed.example.org\r\nTo: user2@example.com\r\nSubject: smoke-smtp\r\n\r\nhello\r\n";
    mailer.send_raw(&envelope, raw).expect("smtp send");
    let got = imap::wait_until(
        "user2@example.com",
        "INBOX",
        Duration::from_secs(10),
        "smoke-smtp",
        |l| {
            l.iter()
                .any(|m| m.header("Subject").as_deref() == Some("smoke-smtp"))
        },
    );
    assert!(got.iter().any(|m| m.text().contains("hello")));
}
