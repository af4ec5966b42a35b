//! The transport against a scripted SMTP server on loopback: PIPELINING
//! used when offered and only then, one EHLO per connection, a session's
//! end (452 after N letters, 421) answered by a new connection at once,
//! XOAUTH2 with one retry after a refused token, and the blocked state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;

/// How the scripted server behaves.
#[derive(Clone, Default)]
struct Script {
    pipelining: bool,
    /// Answer MAIL with 452 after this many letters in one session.
    limit: Option<usize>,
    /// Answer the n-th MAIL of the first session (1-based) with 421 and
    /// close.
    drop_first_at: Option<usize>,
    /// Greeting of every connection (default `220 scripted ESMTP`).
    greeting: Option<&'static str>,
    /// Offer AUTH XOAUTH2 and accept only this token.
    token: Option<&'static str>,
}

/// What the server saw, per connection.
#[derive(Default, Debug)]
struct Seen {
    /// Commands of each connection, in order (verb only).
    commands: Vec<Vec<String>>,
    /// For each letter: whether RCPT had arrived before MAIL was answered.
    pipelined: Vec<bool>,
    bodies: Vec<String>,
}

async fn serve(listener: TcpListener, script: Script, seen: Arc<Mutex<Seen>>) {
    let mut first = true;
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            return;
        };
        let (script, seen) = (script.clone(), seen.clone());
        let drop_at = if first { script.drop_first_at } else { None };
        first = false;
        tokio::spawn(async move {
            let _ = session(sock, script, drop_at, seen).await;
        });
    }
}

async fn session(
    sock: tokio::net::TcpStream,
    script: Script,
    drop_at: Option<usize>,
    seen: Arc<Mutex<Seen>>,
) -> std::io::Result<()> {
    let index = {
        let mut s = seen.lock().unwrap();
        s.commands.push(Vec::new());
        s.commands.len() - 1
    };
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    let greeting = script.greeting.unwrap_or("220 scripted ESMTP");
    w.write_all(format!("{greeting}\r\n").as_bytes()).await?;
    if !greeting.starts_with("220") {
        return Ok(());
    }
    let (mut mails, mut letters) = (0usize, 0usize);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        seen.lock().unwrap().commands[index].push(verb.clone());
        let reply: String = match verb.as_str() {
            "EHLO" => {
                let mut caps = vec!["scripted", "8BITMIME"];
                if script.pipelining {
                    caps.push("PIPELINING");
                }
                if script.token.is_some() {
                    caps.push("AUTH XOAUTH2");
                }
                let n = caps.len();
                caps.iter()
                    .enumerate()
                    .map(|(i, c)| format!("250{}{c}\r\n", if i + 1 == n { ' ' } else { '-' }))
                    .collect()
            }
            "AUTH" => {
                let b64 = line.split_whitespace().nth(2).unwrap_or("");
                let text = auth::unbase64(b64).unwrap_or_default();
                let want = format!("auth=Bearer {}\x01", script.token.unwrap_or("-"));
                if String::from_utf8_lossy(&text).contains(&want) {
                    "235 2.7.0 Accepted\r\n".into()
                } else {
                    w.write_all(
                        format!("334 {}\r\n", auth::base64(br#"{"status":"401"}"#)).as_bytes(),
                    )
                    .await?;
                    line.clear();
                    r.read_line(&mut line).await?;
                    "535 5.7.8 token not accepted\r\n".into()
                }
            }
            "MAIL" => {
                mails += 1;
                // Before answering: has the client sent its RCPT already?
                let more = tokio::time::timeout(Duration::from_millis(50), r.fill_buf()).await;
                seen.lock()
                    .unwrap()
                    .pipelined
                    .push(matches!(more, Ok(Ok(b)) if !b.is_empty()));
                if drop_at == Some(mails) {
                    w.write_all(b"421 4.3.2 going down\r\n").await?;
                    return Ok(());
                }
                if script.limit.is_some_and(|l| letters >= l) {
                    "452 4.5.3 Too many messages sent\r\n".into()
                } else {
                    "250 2.1.0 ok\r\n".into()
                }
            }
            "RCPT" => "250 2.1.5 ok\r\n".into(),
            "DATA" => {
                w.write_all(b"354 go ahead\r\n").await?;
                let mut body = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 || line == ".\r\n" {
                        break;
                    }
                    body.push_str(&line);
                }
                seen.lock().unwrap().bodies.push(body);
                letters += 1;
                "250 2.0.0 queued\r\n".into()
            }
            "QUIT" => {
                let _ = w.write_all(b"221 bye\r\n").await;
                return Ok(());
            }
            _ => "250 ok\r\n".into(),
        };
        w.write_all(reply.as_bytes()).await?;
    }
}

fn letter(id: i64) -> QueuedLetter {
    QueuedLetter {
        id,
        message_id: format!("m{id}@test"),
        from: "support@sed.example.org".into(),
        to: vec!["user1@example.com".into()],
        raw: format!("Subject: {id}\r\n\r\n.leading dot\r\nbody {id}\r\n").into_bytes(),
        attempts: 0,
        created_at: crate::clock::Clock::now(&crate::clock::SystemClock),
    }
}

fn config(port: u16) -> Outgoing {
    toml::from_str(&format!(
        "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nhelo_name = \"sed.example.org\"\n"
    ))
    .expect("config")
}

/// Start the scripted server, build a transport with `make`, run `f`.
fn with_server<T, F: std::future::Future<Output = T>>(
    script: Script,
    make: impl FnOnce(&Outgoing) -> SmtpTransport,
    f: impl FnOnce(Arc<SmtpTransport>) -> F,
) -> (T, Seen) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server = tokio::spawn(serve(listener, script, seen.clone()));
        let smtp = Arc::new(make(&config(port)));
        let out = f(smtp.clone()).await;
        drop(smtp);
        tokio::time::sleep(Duration::from_millis(20)).await;
        server.abort();
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        (out, seen)
    })
}

fn plain(cfg: &Outgoing) -> SmtpTransport {
    SmtpTransport::new(cfg).expect("transport")
}

fn send_all(script: Script, n: i64) -> (Vec<Result<(), SendError>>, Duration, Seen) {
    let ((results, took), seen) = with_server(script, plain, |smtp| async move {
        let t = Instant::now();
        let mut out = Vec::new();
        for id in 1..=n {
            out.push(smtp.send(&letter(id)).await);
        }
        (out, t.elapsed())
    });
    (results, took, seen)
}

#[test]
fn pipelines_only_when_the_server_offers_it() {
    for offered in [true, false] {
        let (results, _, seen) = send_all(
            Script {
                pipelining: offered,
                ..Script::default()
            },
            2,
        );
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(
            seen.pipelined,
            [offered, offered],
            "PIPELINING offered: {offered}"
        );
        // Either way the message arrives whole and dot-stuffed.
        assert_eq!(seen.bodies.len(), 2);
        for (i, body) in seen.bodies.iter().enumerate() {
            assert!(body.contains("..leading dot\r\n"), "{body:?}");
            assert!(body.contains(&format!("body {}\r\n", i + 1)), "{body:?}");
        }
        // One connection, one EHLO.
        assert_eq!(seen.commands.len(), 1, "{:?}", seen.commands);
        assert_eq!(seen.commands[0].iter().filter(|c| *c == "EHLO").count(), 1);
    }
}

#[test]
fn a_session_limit_is_crossed_on_a_new_connection_at_once() {
    // 452 to MAIL after 3 letters per session, as OpenSMTPD after 100.
    for pipelining in [false, true] {
        let (results, took, seen) = send_all(
            Script {
                pipelining,
                limit: Some(3),
                ..Script::default()
            },
            10,
        );
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(seen.bodies.len(), 10, "every letter delivered once");
        // 3 + 3 + 3 + 1: four connections, each greeted with one EHLO.
        assert_eq!(seen.commands.len(), 4, "{:?}", seen.commands);
        for c in &seen.commands {
            assert_eq!(c.iter().filter(|v| *v == "EHLO").count(), 1, "{c:?}");
        }
        // No backoff: only the scripted server's own 50 ms peeks.
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[test]
fn a_421_goes_on_over_a_new_connection() {
    let (results, _, seen) = send_all(
        Script {
            drop_first_at: Some(2),
            ..Script::default()
        },
        3,
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(seen.bodies.len(), 3);
    assert_eq!(seen.commands.len(), 2, "{:?}", seen.commands);
}

#[test]
fn a_fresh_connections_refusal_is_the_letters_and_retried_later() {
    // The limit at 0: even the first MAIL of a session gets 452; that is
    // not a session ending after letters, so it counts (transient) and
    // the transport does not loop over new connections.
    let (results, _, seen) = send_all(
        Script {
            limit: Some(0),
            ..Script::default()
        },
        1,
    );
    let e = results[0].as_ref().expect_err("refused");
    assert!(e.is_transient() && !e.is_connection(), "{e}");
    assert!(e.to_string().contains("452 4.5.3"), "{e}");
    assert_eq!(seen.commands.len(), 1);
}

/// A token source: hands out `tokens` in turn, counts refusals.
struct Tokens {
    tokens: Vec<&'static str>,
    next: AtomicUsize,
    rejected: AtomicUsize,
}

impl SmtpCredentials for Tokens {
    fn credentials(&self) -> CredentialsFuture<'_> {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        let token = self.tokens[i.min(self.tokens.len() - 1)].to_string();
        Box::pin(async move {
            Ok(Credentials::XOAuth2 {
                user: "support@sed.example.org".into(),
                token,
            })
        })
    }
    fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }
}

fn xoauth2(tokens: Vec<&'static str>) -> (Vec<Result<(), SendError>>, Seen, usize, usize) {
    let source = Arc::new(Tokens {
        tokens,
        next: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    let src = source.clone();
    let (results, seen) = with_server(
        Script {
            token: Some("fresh"),
            ..Script::default()
        },
        move |cfg| SmtpTransport::with_credentials(cfg, src).expect("transport"),
        |smtp| async move { vec![smtp.send(&letter(1)).await, smtp.send(&letter(2)).await] },
    );
    let asked = source.next.load(Ordering::SeqCst);
    let rejected = source.rejected.load(Ordering::SeqCst);
    (results, seen, asked, rejected)
}

#[test]
fn xoauth2_refused_token_is_refreshed_once() {
    // Expired first, fresh second: refused, reported, retried, delivered.
    let (results, seen, asked, rejected) = xoauth2(vec!["expired", "fresh"]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!((asked, rejected), (2, 1));
    assert_eq!(
        seen.commands.len(),
        2,
        "one new connection: {:?}",
        seen.commands
    );
    assert_eq!(seen.bodies.len(), 2);
    // Refused twice: a connection error naming the refusal, no loop.
    let (results, seen, asked, rejected) = xoauth2(vec!["bad"]);
    let e = results[0].as_ref().expect_err("refused");
    assert!(e.is_connection(), "{e}");
    assert!(
        e.to_string().contains("535 5.7.8 token not accepted"),
        "{e}"
    );
    assert!(!e.to_string().contains("bad"), "no token in errors: {e}");
    assert_eq!((asked, rejected), (4, 4), "two tries per letter");
    assert_eq!(seen.commands.len(), 4);
}

#[test]
fn a_server_that_cannot_be_used_is_blocked_with_its_words_until_it_works() {
    let (blocked, _) = with_server(
        Script {
            greeting: Some("554 5.3.2 not accepting mail (test)"),
            ..Script::default()
        },
        plain,
        |smtp| async move {
            assert_eq!(smtp.blocked(), None);
            let e = smtp.send(&letter(1)).await.expect_err("refused");
            assert!(e.is_transient() && e.is_connection(), "{e}");
            let first = smtp.blocked().expect("blocked");
            let _ = smtp.send(&letter(2)).await;
            let second = smtp.blocked().expect("blocked");
            assert_eq!(first.since, second.since, "one outage, one start");
            second
        },
    );
    assert!(
        blocked
            .reason
            .contains("greeting: 554 5.3.2 not accepting mail (test)"),
        "{blocked:?}"
    );
    // A working server clears it.
    let (cleared, _) = with_server(Script::default(), plain, |smtp| async move {
        *smtp.blocked.lock().unwrap() = Some(Blocked {
            since: crate::clock::Clock::now(&crate::clock::SystemClock),
            reason: "old".into(),
        });
        smtp.send(&letter(1)).await.expect("sent");
        smtp.blocked()
    });
    assert_eq!(cleared, None);
}
