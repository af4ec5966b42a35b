//! The site's form and the status link over real HTTP (issue 15, must
//! show 3): a listener on 127.0.0.1:0 served in-process, requests written
//! on a TCP socket. The honeypot, the per-address limit (429), a 30 MB
//! file refused while it streams, an `.exe` renamed `.png`, a form without
//! its token; and the signed link.

mod common;
#[path = "web/site.rs"]
mod site;

use sha2::{Digest, Sha256};
use site::*;
use tokio::io::AsyncWriteExt;

const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_is_plain_russian_html_with_labels_and_nothing_from_outside() {
    let s = Site::start(|_| {}).await;
    let r = s.get("/").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|v| v.starts_with("text/html")));
    assert!(r
        .header("content-security-policy")
        .is_some_and(|v| v.contains("default-src 'none'")));
    let b = &r.body;
    assert!(b.contains("lang=\"ru\""));
    for f in [
        "organization",
        "full_name",
        "location",
        "phone",
        "email",
        "description",
        "note",
        "attachments",
    ] {
        assert!(
            b.contains(&format!("<label for=\"{f}\"")),
            "a label for {f}"
        );
        assert!(b.contains(&format!("name=\"{f}\"")), "field {f}");
    }
    assert!(b.contains("name=\"website\""), "the honeypot");
    assert!(!b.contains("<script"), "no scripts");
    assert!(
        !b.contains("src=\"http") && !b.contains("href=\"http"),
        "nothing from outside"
    );
    assert_eq!(s.get("/nothing-here").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_appeal_is_one_web_ticket_with_its_file_and_the_confirmation() {
    let s = Site::start(|_| {}).await;
    let token = s.get("/").await.token();
    s.advance(5);
    let mut parts = vec![Part::Text("token", &token)];
    let form = full_form();
    parts.extend(form.iter().map(|(k, v)| Part::Text(k, v)));
    parts.push(Part::File("attachments", "screen.png", common::PNG));
    let r = s.post_appeal(&parts, "192.0.2.10").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.ticket().expect("the ticket number on the page");
    let link = r.link_path().expect("the status link on the page");
    assert!(link.starts_with(&format!("/t/{id}-")), "{link}");

    let t = s.show(&id);
    assert_eq!(t["channel"], "web");
    assert_eq!(t["registered_by"], serde_json::Value::Null);
    assert_eq!(t["requester"], USER);
    assert_eq!(t["room"], "305");
    assert_eq!(t["floor"], "3");
    assert_eq!(t["phone"], "+74012551234");
    assert_eq!(t["phone_ext"], "123");
    assert_eq!(t["organization"], "Министерство финансов");
    assert_eq!(t["note"], "Работаю до 18:00");
    assert_eq!(
        t["attachments"][0]["sha256"],
        hex::encode(Sha256::digest(common::PNG))
    );
    // The confirmation through the normal outbox, with the link.
    let conf: Vec<_> = s
        .outbox()
        .into_iter()
        .filter(|(k, to, _)| k == "confirmation" && to.contains(USER))
        .collect();
    assert_eq!(conf.len(), 1, "one confirmation to the requester");
    let body = common::body_text(&conf[0].2);
    assert!(body.contains(&id), "{body}");
    assert!(
        body.contains(&format!("http://{}{link}", s.addr)),
        "the link in the letter: {body}"
    );

    // Sent again with the same token (a double click, a resubmitted page):
    // the same ticket, nothing new.
    let again = s.post_appeal(&parts, "192.0.2.10").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.ticket().as_deref(), Some(id.as_str()));
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 1);
    assert_eq!(
        s.count("SELECT count(*) FROM outbox WHERE kind = 'confirmation'"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_fields_are_named_next_to_them_with_every_value_kept() {
    let s = Site::start(|_| {}).await;
    let form: Vec<_> = full_form()
        .into_iter()
        .filter(|(k, _)| *k != "phone" && *k != "location")
        .collect();
    let r = s.appeal(&form, &[], "192.0.2.11").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"err-phone\""), "{}", r.body);
    assert!(r.body.contains("id=\"err-location\""));
    assert!(r.body.contains("aria-describedby=\"err-phone hint-phone\""));
    for (k, v) in &form {
        if *k == "description" || *k == "note" {
            assert!(r.body.contains(&format!(">{}</textarea>", v)), "{k} kept");
        } else {
            assert!(r.body.contains(&format!("value=\"{v}\"")), "{k} kept");
        }
    }
    assert!(
        !r.body.contains("err-full_name"),
        "a right field has no error"
    );
    assert_eq!(
        s.count("SELECT count(*) FROM tickets"),
        0,
        "nothing registered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_honeypot_looks_like_success_and_registers_nothing() {
    let s = Site::start(|_| {}).await;
    let mut form = full_form();
    form.push(("website", "http://spam.example"));
    let r = s.appeal(&form, &[], "192.0.2.12").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Обращение принято"));
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 0);
    assert_eq!(s.count("SELECT count(*) FROM outbox"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_appeals_from_one_address_than_allowed_get_429() {
    let s = Site::start(|cfg| {
        if let Some(toml::Value::Table(w)) = cfg.get_mut("web") {
            w.insert(
                "max_appeals_per_ip_per_hour".into(),
                toml::Value::Integer(2),
            );
        }
    })
    .await;
    for _ in 0..2 {
        let r = s.appeal(&full_form(), &[], "198.51.100.1").await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = s.appeal(&full_form(), &[], "198.51.100.1").await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Слишком много обращений"));
    let other = s.appeal(&full_form(), &[], "198.51.100.2").await;
    assert_eq!(other.status, 200, "another address is not limited");
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 3);
    // An hour later the address may write again.
    s.advance(3600);
    assert_eq!(
        s.appeal(&full_form(), &[], "198.51.100.1").await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_token_forged_or_sent_too_fast_is_refused() {
    let s = Site::start(|_| {}).await;
    let form = full_form();
    let fields: Vec<Part> = form.iter().map(|(k, v)| Part::Text(k, v)).collect();
    let r = s.post_appeal(&fields, "192.0.2.13").await;
    assert_eq!(r.status, 400, "no token");
    assert!(
        r.body.contains("value=\"Иванова Мария Сергеевна\""),
        "values kept"
    );

    let mut forged = vec![Part::Text("token", "1764662400.00.00")];
    forged.extend(form.iter().map(|(k, v)| Part::Text(k, v)));
    assert_eq!(
        s.post_appeal(&forged, "192.0.2.13").await.status,
        400,
        "forged"
    );

    let token = s.get("/").await.token();
    let mut quick = vec![Part::Text("token", &token)];
    quick.extend(form.iter().map(|(k, v)| Part::Text(k, v)));
    let r = s.post_appeal(&quick, "192.0.2.13").await;
    assert_eq!(r.status, 400, "sent at once");
    assert!(r.body.contains("слишком быстро"));
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 0);
    s.advance(3);
    assert_eq!(
        s.post_appeal(&quick, "192.0.2.13").await.status,
        200,
        "after 3 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exe_renamed_png_is_refused_by_its_bytes() {
    let s = Site::start(|_| {}).await;
    let r = s
        .appeal(&full_form(), &[("screen.png", EXE)], "192.0.2.14")
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"err-attachments\""), "{}", r.body);
    assert!(r.body.contains("screen.png"));
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 0);
}

/// The process's peak resident set, KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// POST a form with a 30 MB file, streamed in 64 KiB pieces (the client
/// never holds it whole either): with its length announced, or chunked
/// (then the server learns the size only while reading).
async fn post_30_mb(s: &Site, chunked: bool) -> Resp {
    let token = s.get("/").await.token();
    s.advance(5);
    let mut head = vec![Part::Text("token", &token)];
    let form = full_form();
    head.extend(form.iter().map(|(k, v)| Part::Text(k, v)));
    let mut start = multipart(&head);
    start.truncate(start.len() - format!("--{BOUNDARY}--\r\n").len());
    start.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
    );
    start.extend_from_slice(common::PNG);
    let end = format!("\r\n--{BOUNDARY}--\r\n");
    const SIZE: usize = 30 * 1024 * 1024;
    let total = start.len() + SIZE + end.len();
    let mut c = tokio::net::TcpStream::connect(s.addr)
        .await
        .expect("connect");
    let length = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {total}")
    };
    let head = format!(
        "POST /appeal HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n{length}\r\n\r\n",
        s.addr
    );
    let frame = |b: &[u8]| -> Vec<u8> {
        if chunked {
            let mut v = format!("{:x}\r\n", b.len()).into_bytes();
            v.extend_from_slice(b);
            v.extend_from_slice(b"\r\n");
            v
        } else {
            b.to_vec()
        }
    };
    c.write_all(head.as_bytes()).await.expect("head");
    c.write_all(&frame(&start)).await.expect("start");
    let chunk = frame(&vec![0u8; 64 * 1024]);
    let mut sent = 0;
    // The server answers and closes before all is sent.
    while sent < SIZE {
        if c.write_all(&chunk).await.is_err() {
            break;
        }
        sent += 64 * 1024;
    }
    let _ = c.write_all(&frame(end.as_bytes())).await;
    if chunked {
        let _ = c.write_all(b"0\r\n\r\n").await;
    }
    read_response(c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_mb_file_is_refused_while_it_streams() {
    let s = Site::start(|_| {}).await;
    let before = peak_rss_kib();
    for chunked in [false, true] {
        let r = post_30_mb(&s, chunked).await;
        assert_eq!(r.status, 413, "chunked {chunked}: {}", r.body);
        assert!(r.body.contains("слишком большое"));
    }
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 30 * 1024,
        "peak RSS grew by {grown} KiB while 30 MB streamed"
    );
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 0);
    let left: Vec<_> = std::fs::read_dir(s.desk.root().join("attachments/.web-upload"))
        .map(|d| d.filter_map(Result::ok).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no upload left on disk: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_attachment_limit_is_named_on_the_form() {
    let s = Site::start(|cfg| {
        if let Some(toml::Value::Table(a)) = cfg.get_mut("attachments") {
            a.insert("max_size_mb".into(), toml::Value::Float(1.0));
        }
    })
    .await;
    let mut big = common::PNG.to_vec();
    big.resize(1024 * 1024 + 10, 0);
    let r = s
        .appeal(
            &full_form(),
            &[("big.png", &big), ("ok.png", common::PNG)],
            "192.0.2.15",
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("«big.png»: больше 1 МБ"), "{}", r.body);
    assert_eq!(s.count("SELECT count(*) FROM tickets"), 0);
}
