//! The SMTP transport against a scripted server on loopback: PIPELINING is
//! used when offered and only then, and the EHLO keyword check.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;

/// A one-connection SMTP server. Returns, for each letter, whether the
/// client had sent more than MAIL before MAIL was answered (pipelining),
/// and the message bodies received.
async fn scripted_server(
    listener: TcpListener,
    offer_pipelining: bool,
) -> (Vec<bool>, Vec<String>) {
    let (sock, _) = listener.accept().await.expect("accept");
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    let mut pipelined = Vec::new();
    let mut bodies = Vec::new();
    w.write_all(b"220 scripted ESMTP\r\n")
        .await
        .expect("greeting");
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            break;
        }
        let cmd = line.to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") {
            if offer_pipelining {
                b"250-scripted\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n"
            } else {
                b"250-scripted\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n"
            }
        } else if cmd.starts_with("MAIL") {
            // Before answering: has the client sent its RCPT already? A
            // client that waits for this answer cannot have.
            let more = tokio::time::timeout(Duration::from_millis(300), r.fill_buf()).await;
            pipelined.push(matches!(more, Ok(Ok(b)) if !b.is_empty()));
            b"250 2.1.0 ok\r\n"
        } else if cmd.starts_with("RCPT") {
            b"250 2.1.5 ok\r\n"
        } else if cmd.starts_with("DATA") {
            w.write_all(b"354 go ahead\r\n").await.expect("354");
            let mut body = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
                    break;
                }
                body.push_str(&line);
            }
            bodies.push(body);
            b"250 2.0.0 queued\r\n"
        } else if cmd.starts_with("QUIT") {
            let _ = w.write_all(b"221 bye\r\n").await;
            break;
        } else {
            b"250 ok\r\n"
        };
        w.write_all(reply).await.expect("reply");
    }
    (pipelined, bodies)
}

fn letter(id: i64) -> QueuedLetter {
    QueuedLetter {
        id,
        message_id: format!("m{id}@test"),
        from: "support@sed.example.org".into(),
        to: vec!["user1@example.com".into()],
        raw: format!("Subject: {id}\r\n\r\n.leading dot\r\nbody {id}\r\n").into_bytes(),
        attempts: 0,
        created_at: chrono::Utc::now(),
    }
}

fn send_two(offer_pipelining: bool) -> (Vec<bool>, Vec<String>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(scripted_server(listener, offer_pipelining));
        let cfg: Outgoing = toml::from_str(&format!(
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n"
        ))
        .expect("config");
        let smtp = SmtpTransport::new(&cfg).expect("transport");
        for id in 1..=2 {
            smtp.send(&letter(id)).await.expect("sent");
        }
        drop(smtp);
        server.await.expect("server")
    })
}

#[test]
fn pipelines_only_when_the_server_offers_it() {
    // (offered, expected per letter)
    for (offered, want) in [(true, vec![true, true]), (false, vec![false, false])] {
        let (pipelined, bodies) = send_two(offered);
        assert_eq!(pipelined, want, "PIPELINING offered: {offered}");
        // Either way the message arrives whole and dot-stuffed.
        assert_eq!(bodies.len(), 2);
        for (i, body) in bodies.iter().enumerate() {
            assert!(body.contains("..leading dot\r\n"), "{body:?}");
            assert!(body.contains(&format!("body {}\r\n", i + 1)), "{body:?}");
        }
    }
}

#[test]
fn ehlo_keywords() {
    use lettre::transport::smtp::response::{Category, Code, Detail, Severity};
    let code = Code::new(
        Severity::PositiveCompletion,
        Category::MailSystem,
        Detail::Zero,
    );
    // (lines of the EHLO answer, offers PIPELINING)
    let cases: &[(&[&str], bool)] = &[
        (&["mx.example", "PIPELINING", "8BITMIME"], true),
        (&["mx.example", "pipelining"], true),
        (&["mx.example", "SIZE 100", "8BITMIME"], false),
        (&["PIPELINING-NOT"], false),
        (&["mx.example PIPELINING"], false),
        (&[], false),
    ];
    for (lines, want) in cases {
        let r = Response::new(code, lines.iter().map(|l| l.to_string()).collect());
        assert_eq!(offers(&r, "PIPELINING"), *want, "{lines:?}");
    }
}
