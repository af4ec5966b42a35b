use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[test]
fn listen_addresses() {
    let cases: &[(&str, bool, Result<&str, &str>)] = &[
        ("127.0.0.1:8025", false, Ok("127.0.0.1:8025")),
        (" 127.0.0.1:8025 ", false, Ok("127.0.0.1:8025")),
        ("[::1]:8025", false, Ok("[::1]:8025")),
        ("127.0.0.2:8025", false, Ok("127.0.0.2:8025")),
        ("localhost:8025", false, Err("is not IP:PORT")),
        ("127.0.0.1", false, Err("is not IP:PORT")),
        ("127.0.0.1:0", false, Err("needs a fixed port")),
        (
            "192.0.2.7:8025",
            false,
            Err("mailbox.wake_allow_remote = true"),
        ),
        ("0.0.0.0:8025", false, Err("not a loopback address")),
        ("192.0.2.7:8025", true, Ok("192.0.2.7:8025")),
        ("0.0.0.0:8025", true, Ok("0.0.0.0:8025")),
    ];
    for (value, remote, want) in cases {
        let got = check_listen(value, *remote);
        match (want, &got) {
            (Ok(addr), Ok(a)) => assert_eq!(a.to_string(), *addr, "{value}"),
            (Err(part), Err(e)) => assert!(e.contains(part), "{value}: {e:?} lacks {part:?}"),
            _ => panic!("{value} (remote {remote}): got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn head_end_finds_the_empty_line() {
    let cases: &[(&[u8], Option<usize>)] = &[
        (b"POST / HTTP/1.1\r\n\r\n", Some(19)),
        (b"POST / HTTP/1.1\r\nA: b\r\n\r\nbody", Some(25)),
        (b"POST / HTTP/1.1\n\n", Some(17)),
        (b"POST / HTTP/1.1\nA: b\n\nbody", Some(22)),
        (b"POST / HTTP/1.1\r\nA: b\r\n", None),
        (b"POST / HTTP/1.1\r\n\r", None),
        (b"", None),
    ];
    for (buf, want) in cases {
        assert_eq!(head_end(buf), *want, "{:?}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn requests_judged() {
    let big = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY + 1
    );
    let cases: &[(&[u8], Result<u64, Reject>)] = &[
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n\r\n",
            Ok(33),
        ),
        (b"PUT /wake HTTP/1.1\r\nContent-Length: 0\r\n\r\n", Ok(0)),
        (b"POST / HTTP/1.0\r\n\r\n", Ok(0)),
        (b"POST / HTTP/1.1\nContent-Length: 5\n\n", Ok(5)),
        (b"POST / HTTP/1.1\r\ncontent-length:  7 \r\n\r\n", Ok(7)),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n",
            Ok(7),
        ),
        (big.as_bytes(), Err(Reject::BodyTooLarge)),
        (b"GET / HTTP/1.1\r\n\r\n", Err(Reject::MethodNotAllowed)),
        (b"HEAD / HTTP/1.1\r\n\r\n", Err(Reject::MethodNotAllowed)),
        (b"post / HTTP/1.1\r\n\r\n", Err(Reject::MethodNotAllowed)),
        (b"POST / HTTP/2.0\r\n\r\n", Err(Reject::Version)),
        (b"POST / SPDY/3\r\n\r\n", Err(Reject::BadRequest)),
        (b"POST /\r\n\r\n", Err(Reject::BadRequest)),
        (b"POST  / HTTP/1.1\r\n\r\n", Err(Reject::BadRequest)),
        (b"\r\n\r\n", Err(Reject::BadRequest)),
        (b"\x16\x03\x01\x02\x00\x01\r\n\r\n", Err(Reject::BadRequest)),
        (b"POST /a\x01b HTTP/1.1\r\n\r\n", Err(Reject::BadRequest)),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n",
            Err(Reject::BadRequest),
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            Err(Reject::BadRequest),
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            Err(Reject::BadRequest),
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Err(Reject::LengthRequired),
        ),
        (
            b"POST / HTTP/1.1\r\nNoColon\r\n\r\n",
            Err(Reject::BadRequest),
        ),
        (
            b"POST / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            Err(Reject::BadRequest),
        ),
        (
            b"POST / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            Err(Reject::BadRequest),
        ),
    ];
    for (head, want) in cases {
        assert_eq!(judge(head), *want, "{:?}", String::from_utf8_lossy(head));
    }
}

#[test]
fn responses() {
    let ok = String::from_utf8(response(Ok(()))).expect("ascii");
    assert!(ok.starts_with("HTTP/1.1 204 No Content\r\n"), "{ok}");
    assert!(ok.contains("Connection: close\r\n") && ok.ends_with("\r\n\r\n"));
    let no = String::from_utf8(response(Err(Reject::MethodNotAllowed))).expect("ascii");
    assert!(no.starts_with("HTTP/1.1 405 "), "{no}");
    assert!(no.contains("Allow: POST, PUT\r\n"), "{no}");
    let big = String::from_utf8(response(Err(Reject::HeadTooLarge))).expect("ascii");
    assert!(big.starts_with("HTTP/1.1 431 "), "{big}");
    assert!(!big.contains("Allow:"), "{big}");
}

/// Whether `wake` holds a wake-up now (and take it).
fn pending(wake: &Notify) -> bool {
    take(Some(wake))
}

async fn over_duplex(input: Vec<Vec<u8>>, limit: Duration) -> (Result<(), Reject>, String, bool) {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let wake = Notify::new();
    let writer = async move {
        for part in input {
            if client.write_all(&part).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let mut out = Vec::new();
        let _ = client.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    };
    let (verdict, answer) = tokio::join!(handle_within(server, &wake, limit), writer);
    let verdict = verdict.expect("a whole request");
    (verdict, answer, pending(&wake))
}

#[tokio::test]
async fn a_post_in_pieces_wakes_once_the_body_is_read() {
    let (verdict, answer, woke) = over_duplex(
        vec![
            b"POST /wake HT".to_vec(),
            b"TP/1.1\r\nContent-Length: 10\r\n".to_vec(),
            b"\r\n01234".to_vec(),
            b"56789".to_vec(),
        ],
        REQUEST_TIMEOUT,
    )
    .await;
    assert_eq!(verdict, Ok(()));
    assert!(answer.starts_with("HTTP/1.1 204 "), "{answer}");
    assert!(woke);
}

#[tokio::test]
async fn refused_requests_do_not_wake() {
    let mut huge_head = b"POST / HTTP/1.1\r\nX: ".to_vec();
    huge_head.extend(std::iter::repeat_n(b'a', MAX_HEAD));
    huge_head.extend_from_slice(b"\r\n\r\n");
    let cases: Vec<(Vec<u8>, Reject, &str)> = vec![
        (huge_head, Reject::HeadTooLarge, "431"),
        (
            format!(
                "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                MAX_BODY * 4
            )
            .into_bytes(),
            Reject::BodyTooLarge,
            "413",
        ),
        (
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            Reject::MethodNotAllowed,
            "405",
        ),
        (b"hello\r\n\r\n".to_vec(), Reject::BadRequest, "400"),
    ];
    for (request, want, code) in cases {
        let (verdict, answer, woke) = over_duplex(vec![request], REQUEST_TIMEOUT).await;
        assert_eq!(verdict, Err(want));
        assert!(answer.starts_with(&format!("HTTP/1.1 {code} ")), "{answer}");
        assert!(!woke, "{code} must not wake the watcher");
    }
}

#[tokio::test]
async fn a_stalled_request_times_out_without_waking() {
    let (mut client, server) = tokio::io::duplex(1024);
    let wake = Notify::new();
    client
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n012")
        .await
        .expect("write");
    let t = std::time::Instant::now();
    let verdict = handle_within(server, &wake, Duration::from_millis(200))
        .await
        .expect("answered");
    assert_eq!(verdict, Err(Reject::Timeout));
    assert!(t.elapsed() < Duration::from_secs(2));
    let mut out = Vec::new();
    let _ = client.read_to_end(&mut out).await;
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408 "));
    assert!(!pending(&wake));
}

#[tokio::test]
async fn a_peer_gone_before_a_whole_request_gets_nothing() {
    let (mut client, server) = tokio::io::duplex(1024);
    let wake = Notify::new();
    client
        .write_all(b"POST / HTTP/1.1\r\n")
        .await
        .expect("write");
    drop(client);
    assert!(handle_within(server, &wake, REQUEST_TIMEOUT).await.is_err());
    assert!(!pending(&wake));
}

async fn send(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

struct Running {
    addr: SocketAddr,
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn start() -> Running {
    let listener = Listener::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let wake = Arc::new(Notify::new());
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(listener.serve(wake.clone(), rx));
    Running {
        addr,
        wake,
        stop,
        task,
    }
}

const POST: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";

#[tokio::test]
async fn many_posts_while_busy_coalesce_into_one_wake() {
    let r = start();
    for _ in 0..10 {
        let answer = send(r.addr, POST).await;
        assert!(answer.starts_with("HTTP/1.1 204 "), "{answer}");
    }
    assert!(pending(&r.wake), "the watcher is woken after its sync");
    assert!(!pending(&r.wake), "once: ten requests, one sync");
    // A watcher already waiting is woken at once.
    let waiter = {
        let wake = r.wake.clone();
        tokio::spawn(async move { woken(Some(&wake)).await })
    };
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(send(r.addr, POST).await.starts_with("HTTP/1.1 204 "));
    tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .expect("woken")
        .expect("task");
    let _ = r.stop.send(true);
    tokio::time::timeout(Duration::from_secs(2), r.task)
        .await
        .expect("serve stops on shutdown")
        .expect("task");
    assert!(
        TcpStream::connect(r.addr).await.is_err(),
        "the port is released"
    );
}

#[tokio::test]
async fn bad_requests_over_tcp_are_answered_and_do_not_wake() {
    let r = start();
    let answer = send(r.addr, b"GET /wake HTTP/1.1\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
    let mut big = b"POST / HTTP/1.1\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 3 * MAX_HEAD));
    let answer = send(r.addr, &big).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(!pending(&r.wake));
    assert!(!woken_soon(&r.wake).await);
}

async fn woken_soon(wake: &Notify) -> bool {
    tokio::time::timeout(Duration::from_millis(100), woken(Some(wake)))
        .await
        .is_ok()
}

#[tokio::test]
async fn slow_connections_never_delay_a_real_wake_up() {
    let r = start();
    // (stalled connections opened first, the case)
    let cases = [
        (
            MAX_CONNECTIONS,
            "as many stalled connections as there are slots",
        ),
        (3 * MAX_CONNECTIONS, "three times as many"),
    ];
    for (n, what) in cases {
        let mut stalled = Vec::new();
        for _ in 0..n {
            let mut s = TcpStream::connect(r.addr).await.expect("connect");
            s.write_all(b"POST / HTTP/1.1\r\n").await.expect("write");
            stalled.push(s);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        let answer = send(r.addr, POST).await;
        let took = started.elapsed();
        assert!(answer.starts_with("HTTP/1.1 204 "), "{what}: {answer}");
        assert!(
            took < Duration::from_millis(100),
            "{what}: the real request took {took:?}"
        );
        assert!(pending(&r.wake), "{what}");
        // The oldest stalled connections were closed to bound the count.
        let mut buf = [0u8; 16];
        let first = tokio::time::timeout(Duration::from_secs(1), stalled[0].read(&mut buf)).await;
        assert!(
            matches!(first, Ok(Ok(0)) | Ok(Err(_))),
            "{what}: the oldest connection is closed"
        );
    }
}

#[test]
fn a_port_in_use_names_the_key() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let first = Listener::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr = first.local_addr().expect("addr");
        let Err(e) = Listener::bind(addr) else {
            panic!("a second bind of {addr} must fail");
        };
        let text = e.to_string();
        assert!(
            text.starts_with("mailbox.wake_listen: cannot listen on 127.0.0.1:"),
            "{text}"
        );
    });
}

#[test]
fn no_hook_never_wakes() {
    assert!(!take(None));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r =
        rt.block_on(async { tokio::time::timeout(Duration::from_millis(50), woken(None)).await });
    assert!(r.is_err());
}
