use super::grant::*;
use super::http::*;
use super::*;
use std::time::Duration;

#[test]
fn refresh_body_is_form_encoded() {
    let secret = Secret::new("s3cr&t=");
    let cases = [
        (
            Client {
                client_id: "ticketd",
                client_secret: None,
                scope: None,
            },
            "grant_type=refresh_token&refresh_token=1%2F%2Fab%2Bc&client_id=ticketd",
        ),
        (
            Client {
                client_id: "id with space",
                client_secret: Some(&secret),
                scope: Some("https://outlook.office.com/IMAP.AccessAsUser.All offline_access"),
            },
            "grant_type=refresh_token&refresh_token=1%2F%2Fab%2Bc&client_id=id%20with%20space\
             &client_secret=s3cr%26t%3D\
             &scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All%20offline_access",
        ),
    ];
    for (client, want) in cases {
        assert_eq!(refresh_body(&client, &Secret::new("1//ab+c")), want);
    }
}

#[test]
fn answers_are_read() {
    let granted = |token: &str, life: Option<u64>, rt: Option<&str>| {
        Answer::Granted(Grant {
            access_token: Secret::new(token),
            lifetime: life.map(Duration::from_secs),
            refresh_token: rt.map(Secret::new),
        })
    };
    let cases: Vec<(u16, &str, Answer)> = vec![
        (
            200,
            r#"{"access_token":"ya29.a","token_type":"Bearer","expires_in":3599}"#,
            granted("ya29.a", Some(3599), None),
        ),
        (
            200,
            r#"{"access_token":"t","token_type":"bearer","expires_in":"60","refresh_token":"r2"}"#,
            granted("t", Some(60), Some("r2")),
        ),
        (200, r#"{"access_token":"t"}"#, granted("t", None, None)),
        (
            200,
            r#"{"access_token":"t","refresh_token":""}"#,
            granted("t", None, None),
        ),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
            Answer::Refused {
                error: "invalid_grant".into(),
                description: Some("Token has been expired or revoked.".into()),
            },
        ),
        (
            401,
            r#"{"error":"invalid_client"}"#,
            Answer::Refused {
                error: "invalid_client".into(),
                description: None,
            },
        ),
    ];
    for (status, body, want) in cases {
        assert_eq!(parse_answer(status, body.as_bytes()), want, "{body}");
    }
    for (status, body) in [
        (200, "not json"),
        (200, r#"{"token_type":"Bearer"}"#),
        (200, r#"{"access_token":"a b\r\nX: y"}"#),
        (200, r#"{"access_token":"t","token_type":"mac"}"#),
        (500, "<html>oops</html>"),
        (400, "<html>bad request</html>"),
        (429, r#"{"error":"slow_down"}"#),
    ] {
        assert!(
            matches!(
                parse_answer(status, body.as_bytes()),
                Answer::Unavailable(_)
            ),
            "{status} {body}"
        );
    }
}

#[test]
fn freshness_keeps_a_margin() {
    let s = Duration::from_secs;
    let cases = [
        (s(0), Some(s(3600)), true),
        (s(3539), Some(s(3600)), true),
        (s(3540), Some(s(3600)), false),
        (s(4000), Some(s(3600)), false),
        // short-lived: refreshed at half its life
        (s(4), Some(s(10)), true),
        (s(5), Some(s(10)), false),
        (s(0), Some(s(0)), false),
        // no expires_in: an hour
        (s(3000), None, true),
        (s(3541), None, false),
    ];
    for (age, life, want) in cases {
        assert_eq!(still_fresh(age, life), want, "{age:?} of {life:?}");
    }
}

#[test]
fn refresh_token_file_text() {
    assert_eq!(read_refresh_token("1//abc\n"), Ok(Secret::new("1//abc")));
    assert_eq!(read_refresh_token("  tok \r\n"), Ok(Secret::new("tok")));
    assert!(read_refresh_token("\n").is_err());
    assert!(read_refresh_token("a\nb").is_err());
    assert!(read_refresh_token("a b").is_err());
}

#[test]
fn sasl_strings() {
    let t = Secret::new("ya29.x");
    assert_eq!(
        xoauth2("support@sed.example.org", &t),
        b"user=support@sed.example.org\x01auth=Bearer ya29.x\x01\x01"
    );
    assert_eq!(
        oauthbearer("a,b=c@x", &t),
        b"n,a=a=2Cb=3Dc@x,\x01auth=Bearer ya29.x\x01\x01"
    );
}

#[test]
fn secrets_never_print() {
    let t = Secret::new("ya29.SECRET");
    let g = Grant {
        access_token: t.clone(),
        lifetime: None,
        refresh_token: Some(Secret::new("1//SECRET")),
    };
    assert!(!format!("{g:?} {t:?}").contains("SECRET"));
}

#[test]
fn urls() {
    let u = |https, host: &str, port, path: &str| Url {
        https,
        host: host.into(),
        port,
        path: path.into(),
    };
    let ok = [
        (
            "https://oauth2.googleapis.com/token",
            u(true, "oauth2.googleapis.com", 443, "/token"),
        ),
        (
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            u(
                true,
                "login.microsoftonline.com",
                443,
                "/common/oauth2/v2.0/token",
            ),
        ),
        ("HTTPS://h:8443", u(true, "h", 8443, "/")),
        ("https://h?x=1", u(true, "h", 443, "/?x=1")),
        ("http://127.0.0.1:4000/t", u(false, "127.0.0.1", 4000, "/t")),
        ("http://[::1]:4000/t", u(false, "::1", 4000, "/t")),
        ("http://localhost/t", u(false, "localhost", 80, "/t")),
    ];
    for (s, want) in ok {
        assert_eq!(Url::parse(s), Ok(want), "{s}");
    }
    for bad in [
        "ftp://h/t",
        "oauth2.googleapis.com/token",
        "http://oauth2.googleapis.com/token",
        "https:///token",
        "https://h:0/t",
        "https://h:99999/t",
        "https://user:pw@h/t",
        "https://h/t#frag",
        "https://h/a b",
        "https://[::1/t",
    ] {
        assert!(Url::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn request_bytes() {
    let url = Url::parse("https://h:8443/tok?a=1").unwrap();
    let r = String::from_utf8(request(&url, "x=1")).unwrap();
    assert!(
        r.starts_with("POST /tok?a=1 HTTP/1.1\r\nHost: h:8443\r\n"),
        "{r}"
    );
    assert!(r.contains("\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
    assert!(r.contains("\r\nContent-Length: 3\r\n"));
    assert!(r.ends_with("\r\nConnection: close\r\n\r\nx=1"));
    let url = Url::parse("https://h/t").unwrap();
    assert!(String::from_utf8(request(&url, ""))
        .unwrap()
        .contains("\r\nHost: h\r\n"));
}

#[test]
fn responses() {
    let resp = |status, body: &str| {
        Ok(Some(Response {
            status,
            body: body.as_bytes().to_vec(),
        }))
    };
    type Parsed = Result<Option<Response>, String>;
    let cases: Vec<(&str, bool, Parsed)> = vec![
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            false,
            resp(200, "{}"),
        ),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", false, Ok(None)),
        ("HTTP/1.1 200 OK\r\nContent-Len", false, Ok(None)),
        (
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\n\r\nabcEXTRA",
            false,
            resp(400, "abc"),
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            false,
            resp(200, "abcde"),
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            false,
            Ok(None),
        ),
        ("HTTP/1.0 200 OK\r\n\r\nuntil eof", false, Ok(None)),
        ("HTTP/1.0 200 OK\r\n\r\nuntil eof", true, resp(200, "until eof")),
    ];
    for (raw, eof, want) in cases {
        assert_eq!(parse_response(raw.as_bytes(), eof), want, "{raw:?}");
    }
    for (raw, eof) in [
        ("SSH-2.0-OpenSSH\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", true),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            false,
        ),
        ("HTTP/1.1 200 OK\r\nContent-Le", true),
    ] {
        assert!(parse_response(raw.as_bytes(), eof).is_err(), "{raw:?}");
    }
}

#[test]
fn problems_round_trip_for_status() {
    let p = Problem {
        error: "refused".into(),
        since: chrono::DateTime::parse_from_rfc3339("2026-12-04T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    };
    let v = serde_json::to_string(&p).unwrap();
    assert_eq!(read_problem(Some(&v)), Some(p));
    assert_eq!(read_problem(Some("")), None);
    assert_eq!(read_problem(None), None);
}

/// A token endpoint on loopback answering `answers` in turn; returns the
/// URL and the request bodies it received.
async fn endpoint(answers: Vec<&'static str>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", l.local_addr().unwrap());
    let task =
        tokio::spawn(async move {
            let mut bodies = Vec::new();
            for a in answers {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if body.len() >= len {
                            break;
                        }
                    }
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                bodies.push(text.split("\r\n\r\n").nth(1).unwrap_or("").to_string());
                let reply =
                    format!(
                "HTTP/1.1 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                if a.contains("\"error\"") { "400 Bad Request" } else { "200 OK" },
                a.len(),
                a
            );
                s.write_all(reply.as_bytes()).await.unwrap();
            }
            bodies
        });
    (url, task)
}

#[tokio::test]
async fn refreshes_caches_rotates_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("refresh-token");
    std::fs::write(&rt, "r1\n").unwrap();
    let (url, server) = endpoint(vec![
        r#"{"access_token":"a1","expires_in":3600,"refresh_token":"r2"}"#,
        r#"{"access_token":"a2","expires_in":3600}"#,
        r#"{"error":"invalid_grant","error_description":"revoked"}"#,
        r#"{"error":"invalid_grant","error_description":"revoked"}"#,
        r#"{"access_token":"a3","expires_in":1}"#,
        r#"{"access_token":"a4","expires_in":3600}"#,
    ])
    .await;
    let settings =
        Settings::new("mailbox", Some(&url), Some("cid"), None, Some(&rt), None).unwrap();
    let src = TokenSource::new(settings).unwrap();
    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let r2 = reports.clone();
    src.set_status_sink(Arc::new(move |section, p| {
        r2.lock()
            .unwrap()
            .push((section, p.map(|p| p.error.clone())));
    }));

    assert_eq!(src.access_token().await.unwrap(), Secret::new("a1"));
    // rotated refresh token written back, 0600
    assert_eq!(std::fs::read_to_string(&rt).unwrap(), "r2\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&rt).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // cached while fresh
    assert_eq!(src.access_token().await.unwrap(), Secret::new("a1"));
    // a refusal of another token changes nothing; of this one, refreshes
    src.rejected(&Secret::new("other"));
    assert_eq!(src.access_token().await.unwrap(), Secret::new("a1"));
    src.rejected(&Secret::new("a1"));
    assert_eq!(src.access_token().await.unwrap(), Secret::new("a2"));
    // refused twice: one report naming the key; then recovered
    src.rejected(&Secret::new("a2"));
    for _ in 0..2 {
        let e = src.access_token().await.unwrap_err();
        assert!(!e.is_transient());
        assert!(e.to_string().contains("mailbox.refresh_token_file"), "{e}");
    }
    assert_eq!(src.access_token().await.unwrap(), Secret::new("a3"));
    // a short-lived token is replaced before it expires (half its life)
    assert_eq!(src.access_token().await.unwrap(), Secret::new("a3"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(src.access_token().await.unwrap(), Secret::new("a4"));
    let bodies = server.await.unwrap();
    assert!(bodies[0].contains("refresh_token=r1"), "{bodies:?}");
    assert!(bodies[1].contains("refresh_token=r2"), "{bodies:?}");
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0]
        .1
        .as_deref()
        .unwrap_or("")
        .contains("invalid_grant"));
    assert_eq!(reports[1], ("mailbox", None));
}

#[tokio::test]
async fn missing_refresh_token_file_names_the_key() {
    let settings = Settings::new(
        "outgoing",
        Some("http://127.0.0.1:9/t"),
        Some("cid"),
        None,
        Some(Path::new("/nonexistent/rt")),
        None,
    )
    .unwrap();
    let e = TokenSource::new(settings)
        .unwrap()
        .access_token()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("outgoing.refresh_token_file"), "{e}");
}

#[tokio::test]
async fn unreachable_endpoint_is_transient_and_names_token_url() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("rt");
    std::fs::write(&rt, "r").unwrap();
    let url = format!("http://127.0.0.1:{port}/t");
    let settings =
        Settings::new("mailbox", Some(&url), Some("cid"), None, Some(&rt), None).unwrap();
    let e = TokenSource::new(settings)
        .unwrap()
        .access_token()
        .await
        .unwrap_err();
    assert!(e.is_transient());
    assert!(e.to_string().contains("mailbox.token_url"), "{e}");
}
