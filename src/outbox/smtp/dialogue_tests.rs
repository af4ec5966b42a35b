//! The dialogue with bytes in and commands out: no sockets.

use super::*;
use crate::outbox::smtp::reply::ReplyReader;

/// Parse one server reply from its wire text.
fn reply(text: &str) -> Reply {
    let mut r = ReplyReader::new();
    r.feed(text.as_bytes());
    r.next_reply().expect("SMTP").expect("a whole reply")
}

const EHLO_PLAIN: &str =
    "250-mx.example Hello\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 SIZE 1000\r\n";
const EHLO_TLS: &str = "250-mx.example Hello\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250 SIZE 1000\r\n";
/// OpenSMTPD 6.8's answer: no PIPELINING.
const EHLO_OPENSMTPD: &str = "250-opensmtpd.test Hello x [127.0.0.1], pleased to meet you\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SIZE 104857600\r\n250-DSN\r\n250-STARTTLS\r\n250 HELP\r\n";

/// Run a handshake against the server's replies in order; the client's
/// writes (one string per write, `<TLS>` where TLS starts) and the outcome.
fn drive(mut hs: Handshake, server: &[&str]) -> (Vec<String>, Result<Capabilities, SetupError>) {
    let mut sent = Vec::new();
    for text in server {
        match hs.on_reply(reply(text)) {
            Ok(Action::Send(b)) => sent.push(String::from_utf8(b).expect("utf-8")),
            Ok(Action::StartTls) => {
                sent.push("<TLS>".into());
                let Action::Send(b) = hs.on_tls() else {
                    panic!("EHLO after TLS")
                };
                sent.push(String::from_utf8(b).expect("utf-8"));
            }
            Ok(Action::Ready(caps)) => return (sent, Ok(caps)),
            Err(e) => return (sent, Err(e)),
        }
    }
    panic!("handshake not finished; client sent {sent:?}")
}

fn password() -> Option<Credentials> {
    Some(Credentials::Password {
        user: "support@sed.example.org".into(),
        pass: "secret".into(),
    })
}

#[test]
fn exactly_one_ehlo_per_session_state() {
    // Plain: greeting → EHLO → ready.
    let (sent, caps) = drive(
        Handshake::new("sed.example.org", false, None),
        &["220 mx ESMTP\r\n", EHLO_PLAIN],
    );
    assert_eq!(sent, ["EHLO sed.example.org\r\n"]);
    assert!(caps.expect("ready").pipelining);

    // STARTTLS: one EHLO before TLS, one after, nothing else twice.
    let (sent, caps) = drive(
        Handshake::new("sed.example.org", true, None),
        &[
            "220 mx ESMTP\r\n",
            EHLO_PLAIN,
            "220 2.0.0 go ahead\r\n",
            EHLO_TLS,
        ],
    );
    assert_eq!(
        sent,
        [
            "EHLO sed.example.org\r\n",
            "STARTTLS\r\n",
            "<TLS>",
            "EHLO sed.example.org\r\n"
        ]
    );
    let caps = caps.expect("ready");
    assert!(caps.auth.contains(&"XOAUTH2".to_string()), "{caps:?}");

    // STARTTLS + AUTH PLAIN: AUTH follows the EHLO after TLS directly.
    let (sent, caps) = drive(
        Handshake::new("sed.example.org", true, password()),
        &[
            "220 mx ESMTP\r\n",
            EHLO_PLAIN,
            "220 go ahead\r\n",
            EHLO_TLS,
            "235 2.7.0 Authentication successful\r\n",
        ],
    );
    assert!(caps.is_ok(), "{caps:?}");
    let ehlos = sent.iter().filter(|s| s.starts_with("EHLO")).count();
    assert_eq!(ehlos, 2, "{sent:?}");
    assert_eq!(
        sent.last().map(String::as_str),
        Some("AUTH PLAIN AHN1cHBvcnRAc2VkLmV4YW1wbGUub3JnAHNlY3JldA==\r\n")
    );
    // The PIPELINING learnt is the one of the EHLO after TLS.
    assert!(caps.expect("ready").pipelining);
}

#[test]
fn pipelining_is_learnt_from_the_one_ehlo() {
    // (EHLO answer, pipelining)
    let cases = [
        (EHLO_PLAIN, true),
        (EHLO_OPENSMTPD, false),
        ("250-mx\r\n250-pipelining\r\n250 8BITMIME\r\n", true),
        ("250-mx\r\n250-PIPELINING-NOT\r\n250 8BITMIME\r\n", false),
        ("250 mx PIPELINING\r\n", false),
        ("250 mx\r\n", false),
    ];
    for (ehlo, want) in cases {
        let (sent, caps) = drive(
            Handshake::new("h.example", false, None),
            &["220 mx\r\n", ehlo],
        );
        assert_eq!(sent.len(), 1, "one EHLO: {sent:?}");
        assert_eq!(caps.expect("ready").pipelining, want, "{ehlo:?}");
    }
}

#[test]
fn handshake_refusals_are_setup_errors_with_the_servers_words() {
    // (starttls, credentials?, server, expected error text part)
    let cases: &[(bool, bool, &[&str], &str)] = &[
        (
            false,
            false,
            &["554 5.3.2 no service for you\r\n"],
            "greeting: 554 5.3.2 no service for you",
        ),
        (false, false, &["421 4.3.2 busy\r\n"], "421 4.3.2 busy"),
        (
            true,
            false,
            &[
                "220 mx\r\n",
                EHLO_OPENSMTPD.replace("250-STARTTLS\r\n", "").leak(),
            ],
            "does not offer STARTTLS",
        ),
        (
            false,
            false,
            &["220 mx\r\n", "550 5.7.1 bad HELO name\r\n"],
            "EHLO: 550 5.7.1 bad HELO name",
        ),
        (
            true,
            false,
            &["220 mx\r\n", EHLO_PLAIN, "454 4.7.0 TLS not available\r\n"],
            "STARTTLS: 454",
        ),
        (
            false,
            true,
            &["220 mx\r\n", "250-mx\r\n250 8BITMIME\r\n"],
            "offers no AUTH",
        ),
        (
            false,
            true,
            &["220 mx\r\n", "250-mx\r\n250 AUTH CRAM-MD5\r\n"],
            "AUTH CRAM-MD5",
        ),
        (
            false,
            true,
            &["220 mx\r\n", EHLO_TLS, "535 5.7.8 bad credentials\r\n"],
            "login refused: 535 5.7.8 bad credentials",
        ),
        (
            false,
            true,
            &[
                "220 mx\r\n",
                EHLO_TLS,
                "454 4.7.0 temporary auth failure\r\n",
            ],
            "AUTH: 454",
        ),
    ];
    for (starttls, creds, server, want) in cases {
        let creds = if *creds { password() } else { None };
        let (_, r) = drive(Handshake::new("h.example", *starttls, creds), server);
        let e = r.expect_err("refused");
        assert!(e.to_string().contains(want), "{e} (wanted {want:?})");
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}

#[test]
fn auth_login_and_helo_fallback() {
    let (sent, r) = drive(
        Handshake::new("h.example", false, password()),
        &[
            "220 mx\r\n",
            "250-mx\r\n250 AUTH LOGIN\r\n",
            "334 VXNlcm5hbWU6\r\n",
            "334 UGFzc3dvcmQ6\r\n",
            "235 ok\r\n",
        ],
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        sent,
        [
            "EHLO h.example\r\n",
            "AUTH LOGIN\r\n",
            "c3VwcG9ydEBzZWQuZXhhbXBsZS5vcmc=\r\n",
            "c2VjcmV0\r\n"
        ]
    );
    // A server without EHLO: HELO once, no extensions.
    let (sent, r) = drive(
        Handshake::new("h.example", false, None),
        &[
            "220 old\r\n",
            "502 5.5.2 command not recognized\r\n",
            "250 old\r\n",
        ],
    );
    assert_eq!(sent, ["EHLO h.example\r\n", "HELO h.example\r\n"]);
    assert_eq!(r.expect("ready"), Capabilities::default());
}

fn token() -> Option<Credentials> {
    Some(Credentials::XOAuth2 {
        user: "support@sed.example.org".into(),
        token: "ya29.token".into(),
    })
}

#[test]
fn xoauth2_login_and_refusal() {
    let (sent, r) = drive(
        Handshake::new("h.example", false, token()),
        &["220 mx\r\n", EHLO_TLS, "235 2.7.0 Accepted\r\n"],
    );
    assert!(r.is_ok(), "{r:?}");
    let auth = sent.last().expect("AUTH");
    let b64 = auth
        .strip_prefix("AUTH XOAUTH2 ")
        .and_then(|s| s.strip_suffix("\r\n"))
        .expect(auth);
    assert_eq!(
        auth::unbase64(b64).expect("base64"),
        b"user=support@sed.example.org\x01auth=Bearer ya29.token\x01\x01"
    );

    // Refused: the server's JSON challenge, an empty line, then 535.
    let challenge =
        auth::base64(br#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#);
    let (sent, r) = drive(
        Handshake::new("h.example", false, token()),
        &[
            "220 mx\r\n",
            EHLO_TLS,
            &format!("334 {challenge}\r\n"),
            "535 5.7.8 Username and Password not accepted\r\n",
        ],
    );
    assert_eq!(sent.last().map(String::as_str), Some("\r\n"));
    match r {
        Err(SetupError::AuthRejected {
            xoauth2: true,
            detail: Some(d),
            reply,
        }) => {
            assert!(d.contains("\"status\":\"401\""), "{d}");
            assert_eq!(reply.code, 535);
        }
        other => panic!("{other:?}"),
    }
    // A password refused is not an XOAUTH2 refusal (no token retry).
    let (_, r) = drive(
        Handshake::new("h.example", false, password()),
        &["220 mx\r\n", EHLO_TLS, "535 5.7.8 no\r\n"],
    );
    assert!(
        matches!(r, Err(SetupError::AuthRejected { xoauth2: false, .. })),
        "{r:?}"
    );
    // Not offered: said so, nothing sent.
    let (sent, r) = drive(
        Handshake::new("h.example", false, token()),
        &["220 mx\r\n", "250-mx\r\n250 AUTH PLAIN LOGIN\r\n"],
    );
    assert_eq!(sent.len(), 1);
    assert!(r
        .expect_err("no XOAUTH2")
        .to_string()
        .contains("not XOAUTH2"));
}

fn caps(ehlo: &str) -> Capabilities {
    Capabilities::from_ehlo(&reply(ehlo))
}

/// Run one transaction against `server` replies; the client's writes
/// (`<DATA>` for the message) and the outcome.
fn transact(
    caps: &Capabilities,
    sent_before: u32,
    to: &[&str],
    server: &[&str],
) -> (Vec<String>, Result<(), TxError>) {
    let to: Vec<String> = to.iter().map(|s| s.to_string()).collect();
    let (mut tx, first) = match Transaction::start(
        "support@sed.example.org",
        &to,
        b"Subject: x\r\n\r\nhi\r\n",
        caps,
        sent_before,
    ) {
        Ok(v) => v,
        Err(e) => return (vec![], Err(e)),
    };
    let mut sent = vec![String::from_utf8(first).expect("utf-8")];
    for text in server {
        match tx.on_reply(reply(text)) {
            Ok(TxAction::Send(b)) => sent.push(String::from_utf8(b).expect("utf-8")),
            Ok(TxAction::Read) => {}
            Ok(TxAction::SendData) => sent.push("<DATA>".into()),
            Ok(TxAction::Done) => return (sent, Ok(())),
            Err(e) => return (sent, Err(e)),
        }
    }
    panic!("transaction not finished; client sent {sent:?}")
}

const OK_ONE: &[&str] = &[
    "250 2.1.0 ok\r\n",
    "250 2.1.5 ok\r\n",
    "354 go\r\n",
    "250 2.0.0 queued\r\n",
];

#[test]
fn pipelining_used_only_when_offered() {
    // Offered: MAIL, RCPT and DATA in one write.
    let (sent, r) = transact(&caps(EHLO_PLAIN), 0, &["user1@example.com"], OK_ONE);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        sent,
        [
            "MAIL FROM:<support@sed.example.org> SIZE=18\r\nRCPT TO:<user1@example.com>\r\nDATA\r\n",
            "<DATA>"
        ]
    );
    // Not offered (OpenSMTPD): one command per reply.
    let (sent, r) = transact(&caps(EHLO_OPENSMTPD), 0, &["user1@example.com"], OK_ONE);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        sent,
        [
            "MAIL FROM:<support@sed.example.org> SIZE=18\r\n",
            "RCPT TO:<user1@example.com>\r\n",
            "DATA\r\n",
            "<DATA>"
        ]
    );
    // Two recipients, pipelined: all answers read in order.
    let server = [
        "250 ok\r\n",
        "250 ok\r\n",
        "250 ok\r\n",
        "354 go\r\n",
        "250 queued\r\n",
    ];
    let (sent, r) = transact(
        &caps(EHLO_PLAIN),
        0,
        &["a@example.com", "b@example.com"],
        &server,
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].contains("RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"));
}

#[test]
fn whose_fault_a_refusal_is() {
    let plain = caps(EHLO_OPENSMTPD);
    let piped = caps(EHLO_PLAIN);
    // (caps, letters before on this connection, server, expected)
    #[derive(Debug, PartialEq)]
    enum Want {
        Session,
        Transient(&'static str),
        Permanent(&'static str),
    }
    use Want::*;
    let cases: &[(&Capabilities, u32, &[&str], Want)] = &[
        // OpenSMTPD's per-session limit after 100 letters: the session's.
        (
            &plain,
            100,
            &["452 4.5.3 Too many messages sent\r\n"],
            Session,
        ),
        (
            &piped,
            7,
            &[
                "452 4.5.3 Too many messages\r\n",
                "503 5.5.1 MAIL first\r\n",
                "503 5.5.1 RCPT first\r\n",
            ],
            Session,
        ),
        (&piped, 3, &["451 4.3.0 try later\r\n"], Session),
        // The same on a fresh connection is not a session limit.
        (
            &plain,
            0,
            &["452 4.5.3 Too many messages sent\r\n"],
            Transient("MAIL"),
        ),
        // 421 anywhere ends the session.
        (&plain, 0, &["421 4.3.2 shutting down\r\n"], Session),
        (&plain, 5, &["250 ok\r\n", "421 4.4.2 timeout\r\n"], Session),
        (
            &piped,
            5,
            &[
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "421 4.3.0 going down\r\n",
            ],
            Session,
        ),
        // The letter's own: its sender, recipients, data.
        (
            &plain,
            5,
            &["553 5.1.8 sender refused\r\n"],
            Permanent("MAIL"),
        ),
        (
            &plain,
            5,
            &["250 ok\r\n", "550 5.1.1 no such user\r\n"],
            Permanent("RCPT"),
        ),
        (
            &piped,
            5,
            &[
                "250 ok\r\n",
                "450 4.2.1 mailbox busy\r\n",
                "554 no valid recipients\r\n",
            ],
            Transient("RCPT"),
        ),
        (
            &plain,
            5,
            &["250 ok\r\n", "250 ok\r\n", "554 5.5.1 no\r\n"],
            Permanent("DATA"),
        ),
        (
            &plain,
            5,
            &[
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "552 5.3.4 too big\r\n",
            ],
            Permanent("end of data"),
        ),
        (
            &plain,
            5,
            &[
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "451 4.3.0 queue full\r\n",
            ],
            Transient("end of data"),
        ),
    ];
    for (caps, before, server, want) in cases {
        let (_, r) = transact(caps, *before, &["user1@example.com"], server);
        let got = match r {
            Err(TxError::Session(_)) => Session,
            Err(TxError::Letter { stage, reply }) if reply.is_transient() => Transient(stage),
            Err(TxError::Letter { stage, .. }) => Permanent(stage),
            other => panic!("{server:?}: {other:?}"),
        };
        assert_eq!(&got, want, "{server:?} after {before}");
    }
}

#[test]
fn what_the_server_cannot_take_is_refused_before_sending() {
    let mut c = caps(EHLO_PLAIN);
    let (sent, r) = transact(&c, 0, &["пользователь@пример.рф"], OK_ONE);
    assert!(sent.is_empty());
    assert!(
        matches!(r, Err(TxError::Refused(ref w)) if w.contains("SMTPUTF8")),
        "{r:?}"
    );
    c.size = Some(10);
    let (_, r) = transact(&c, 0, &["user1@example.com"], OK_ONE);
    assert!(
        matches!(r, Err(TxError::Refused(ref w)) if w.contains("SIZE")),
        "{r:?}"
    );
    // 8-bit text is declared where the server offers 8BITMIME.
    let (tx, first) = Transaction::start(
        "a@b.example",
        &["c@d.example".into()],
        "Тема".as_bytes(),
        &caps(EHLO_PLAIN),
        0,
    )
    .expect("start");
    assert!(tx.pipelined());
    assert!(String::from_utf8(first)
        .expect("utf-8")
        .starts_with("MAIL FROM:<a@b.example> SIZE=8 BODY=8BITMIME\r\n"));
}

#[test]
fn data_is_dot_stuffed_and_terminated() {
    // (message, chunk, wire)
    let cases: &[(&[u8], usize, &[u8])] = &[
        (b"a\r\n.b\r\n", 64, b"a\r\n..b\r\n.\r\n"),
        (b".\r\n", 64, b"..\r\n.\r\n"),
        (b"no newline", 64, b"no newline\r\n.\r\n"),
        (b"bare\nlf\n.x\n", 64, b"bare\r\nlf\r\n..x\r\n.\r\n"),
        (b"", 64, b".\r\n"),
        (
            b"line\r\n.dot\r\nend\r\n",
            3,
            b"line\r\n..dot\r\nend\r\n.\r\n",
        ),
    ];
    for (raw, chunk, wire) in cases {
        let pieces: Vec<Vec<u8>> = data(raw, *chunk).collect();
        let joined: Vec<u8> = pieces.concat();
        assert_eq!(
            String::from_utf8_lossy(&joined),
            String::from_utf8_lossy(wire),
            "{:?} in pieces of {chunk}",
            String::from_utf8_lossy(raw)
        );
        assert!(pieces.iter().all(|p| p.len() <= chunk + 8), "{pieces:?}");
    }
}
