//! The signed status link end to end (issue 15, must show 5): `ticketd
//! run` against the real Postfix → Dovecot serves `[web]`; a user's
//! letter is answered, the auto-reply read back over IMAP carries the
//! link; a headless Chromium opens it and sees the status; after the
//! engineer's `Статус: Предложено решение` by mail the user presses
//! «Подтверждаю»: the ticket is `confirmed` once, a second press (from a
//! page opened before) changes nothing, a tampered link is 404.

#[path = "web/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use fantoccini::Locator;
use support::daemon::Daemon;
use support::desk::{about, appeal, body, desk_sections, reply, smtp_send, TestDesk, WAIT};
use support::{imap, servers, ConfigOpts};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The test desk of `support::desk`, with `[web]` on `port`.
fn web_desk(port: u16) -> TestDesk {
    let name = "weblink";
    let dir = servers().test_dir(name);
    let opts = ConfigOpts {
        processed_folder: format!("Processed-{name}"),
        ..ConfigOpts::default()
    };
    let config = servers().write_config(&dir, &opts);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&desk_sections("WL", "1d"));
    text.push_str(&format!(
        "\n[web]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n"
    ));
    std::fs::write(&config, text).expect("write config");
    let out = support::daemon::ticketd(&config, &["check-config"]);
    assert!(
        out.status.success(),
        "check-config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let daemon = Daemon::start(&config);
    assert!(
        daemon.wait_log("IMAP connected", WAIT) && daemon.wait_log("status links served", WAIT),
        "daemon did not start its intake and web server:\n{}",
        daemon.log_text()
    );
    TestDesk {
        config,
        daemon,
        folder: "INBOX".into(),
        prefix: "WL".into(),
    }
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_from_the_auto_reply_confirms_a_proposed_solution_once() {
    let port = free_port();
    let desk = blocking(|| web_desk(port));
    let user = "user1@example.com";
    blocking(|| {
        smtp_send(
            user,
            support::SUPPORT,
            &appeal(user, "wl-1", "Не печатает принтер в кабинете"),
        )
    });
    let ack = blocking(|| {
        imap::wait_until(user, "INBOX", WAIT, "the auto-reply", |l| {
            l.iter().any(|m| {
                m.header("In-Reply-To")
                    .is_some_and(|v| v.contains("wl-1@test.example"))
            })
        })
    })
    .into_iter()
    .find(|m| {
        m.header("In-Reply-To")
            .is_some_and(|v| v.contains("wl-1@test.example"))
    })
    .expect("auto-reply");
    let id = desk.id_in(&ack).expect("the ticket in the auto-reply");
    let text = body(&ack);
    let re = regex::Regex::new(r"http://127\.0\.0\.1:\d+/t/[A-Z0-9-]+-[0-9a-f]{32}").expect("re");
    let link = re
        .find(&text)
        .unwrap_or_else(|| panic!("no status link in the auto-reply:\n{text}"))
        .as_str()
        .to_string();
    assert!(link.contains(&format!("/t/{id}-")), "{link}");

    let b = Browser::start().await;
    b.client.goto(&link).await.expect("open the link");
    assert_eq!(b.wait_for("ticket").await, id);
    let status = b.text("status").await.expect("status");
    assert_eq!(
        status, "Направлено на инженера",
        "printers go to the 2nd line"
    );
    b.shot("link-assigned.png").await;

    // The engineer proposes a solution by mail, through the proof address.
    let routed = blocking(|| about("line2@sed.example.org", &id, 1, "the routed letter"));
    let reply_to = routed[0].header("Reply-To").expect("Reply-To");
    let proof = regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
        .expect("re")
        .find(&reply_to)
        .expect("proof address")
        .as_str()
        .to_string();
    blocking(|| {
        smtp_send(
            "eng1@sed.example.org",
            &proof,
            &reply(
                "Eng One <eng1@sed.example.org>",
                &proof,
                &format!("Re: [{id}] Не печатает принтер"),
                routed[0].header("Message-ID"),
                "Статус: Предложено решение\r\n\r\nПереустановите драйвер принтера.",
            ),
        );
        desk.wait_status(&id, "solution_proposed");
    });

    // A second tab keeps the page with the button, as a user who opened
    // the link twice.
    b.client.refresh().await.expect("reload");
    assert_eq!(
        b.text("status").await.as_deref(),
        Some("Предложено решение")
    );
    let page = b.client.source().await.expect("source");
    assert!(
        page.contains("Статус: Предложено решение"),
        "the history shows it"
    );
    assert!(
        !page.contains("@sed.example.org"),
        "no desk addresses on the page"
    );
    let first = b.client.window().await.expect("window");
    let second = b.client.new_window(true).await.expect("tab").handle;
    b.client
        .switch_to_window(second.clone())
        .await
        .expect("tab");
    b.client.goto(&link).await.expect("open again");
    b.wait_for("confirm").await;
    b.client.switch_to_window(first).await.expect("back");
    b.shot("link-proposed.png").await;
    b.click("#confirm").await;
    let said = b.wait_for("said").await;
    assert!(said.contains("Решение подтверждено"), "{said}");
    assert_eq!(b.text("status").await.as_deref(), Some("Подтверждено"));
    b.shot("link-confirmed.png").await;
    let t = blocking(|| desk.wait_status(&id, "confirmed"));
    let by_link = |t: &serde_json::Value| {
        t["history"].as_array().map_or(0, |h| {
            h.iter()
                .filter(|e| e["action"] == "confirmed" && e["actor"] == "user (link)")
                .count()
        })
    };
    assert_eq!(by_link(&t), 1);

    // The second press, from the page opened before: nothing changes.
    b.client.switch_to_window(second).await.expect("tab");
    b.click("#confirm").await;
    let said = b.wait_for("said").await;
    assert!(said.contains("Ничего не изменилось"), "{said}");
    let t = blocking(|| desk.show(&id));
    assert_eq!(t["status"], "confirmed");
    assert_eq!(by_link(&t), 1, "confirmed once");

    // A tampered link: the same 404 page as any unknown address.
    let last = link.chars().last().expect("sig");
    let tampered = format!(
        "{}{}",
        &link[..link.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    b.client.goto(&tampered).await.expect("tampered");
    let h1 = b
        .client
        .find(Locator::Css("h1"))
        .await
        .expect("h1")
        .text()
        .await
        .expect("text");
    assert_eq!(h1, "Страница не найдена");
    assert!(b.text("ticket").await.is_none());
    b.stop().await;
    blocking(|| desk.daemon.stop());
}
