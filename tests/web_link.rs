//! The signed status link over real HTTP (issue 15): the page a user
//! opens from a letter, the same 404 for a tampered link and an unknown
//! ticket, and the «Подтверждаю» / «Не решено» buttons going through the
//! user's workflow (actor `user (link)`), once.

mod common;
#[path = "web/site.rs"]
mod site;

use site::*;

/// Register a web appeal; (ticket, link path).
async fn web_ticket(s: &Site) -> (String, String) {
    let r = s.appeal(&full_form(), &[], "192.0.2.20").await;
    assert_eq!(r.status, 200, "{}", r.body);
    (r.ticket().expect("ticket"), r.link_path().expect("link"))
}

/// The engineer of the line the ticket is on answers the routed letter.
async fn engineer_says(s: &Site, id: &str, body: &str) {
    let line: i64 = s
        .desk
        .db()
        .query_row("SELECT line FROM tickets WHERE id = ?1", [id], |r| r.get(0))
        .expect("line");
    let (mailbox, engineer) = match line {
        1 => ("line1@sed.example.org", "op1@sed.example.org"),
        2 => ("line2@sed.example.org", "eng1@sed.example.org"),
        _ => ("line3@dev.example.org", "dev1@dev.example.org"),
    };
    let re = regex::Regex::new(r"support\+[A-Za-z0-9-]+@sed\.example\.org").expect("re");
    let proof = s
        .outbox()
        .into_iter()
        .rev()
        .filter(|(_, to, _)| to.contains(mailbox))
        .find_map(|(_, _, raw)| {
            common::header(&raw, "reply-to")
                .and_then(|h| re.find(&h).map(|m| m.as_str().to_string()))
        })
        .expect("a routed letter with a proof");
    let r: u64 = rand::random();
    let raw = format!(
        "From: {engineer}\r\nTo: {proof}\r\nSubject: RE: [{id}] Карточка\r\nMessage-ID: <e{r:x}@test.example>\r\n\
         Date: Wed, 02 Dec 2026 10:30:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    );
    let rep = s.handle.ingest(raw.into_bytes()).await.expect("ingest");
    assert_eq!(rep.outcome.as_str(), "updated", "{rep:?}");
}

fn status(s: &Site, id: &str) -> String {
    s.desk
        .db()
        .query_row("SELECT status FROM tickets WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_shows_the_ticket_and_a_wrong_one_is_the_same_404() {
    let s = Site::start(|_| {}).await;
    let (id, link) = web_ticket(&s).await;
    let r = s.get(&link).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ticket().as_deref(), Some(id.as_str()));
    assert!(r.body.contains("Срок решения"));
    assert!(r.body.contains("(Europe/Kaliningrad)"), "the desk's zone");
    assert!(r.body.contains("Обращение зарегистрировано"), "the history");
    assert!(
        !r.body.contains('@'),
        "no addresses on the page: {}",
        r.body
    );
    assert!(
        !r.body.contains("id=\"confirm\""),
        "no buttons before a solution"
    );
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));

    // One hex digit changed; another ticket under this signature; a ticket
    // that does not exist: the same 404 page.
    let last = link.chars().last().expect("sig");
    let tampered = format!(
        "{}{}",
        &link[..link.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let other = link.replacen(&id, &id.replace("000001", "000002"), 1);
    let bad = s.get(&tampered).await;
    assert_eq!(bad.status, 404);
    let unknown = s.get(&other).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(bad.body, unknown.body);
    assert_eq!(s.get("/t/nothing").await.body, bad.body);
    let posted = s.post_form(&tampered, &[("action", "confirm")]).await;
    assert_eq!(posted.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirm_button_closes_the_ticket_once_as_user_link() {
    let s = Site::start(|_| {}).await;
    let (id, link) = web_ticket(&s).await;
    engineer_says(
        &s,
        &id,
        "Статус: Предложено решение\r\n\r\nОчистите кэш браузера.",
    )
    .await;
    assert_eq!(status(&s, &id), "solution_proposed");
    let page = s.get(&link).await;
    assert!(page.body.contains("Предложено решение"));
    assert!(page.body.contains("id=\"confirm\""), "{}", page.body);

    let r = s.post_form(&link, &[("action", "confirm")]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Решение подтверждено"), "{}", r.body);
    assert_eq!(status(&s, &id), "confirmed");
    let again = s.post_form(&link, &[("action", "confirm")]).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("Ничего не изменилось"));
    assert_eq!(status(&s, &id), "confirmed");
    let confirmed = s.count(&format!(
        "SELECT count(*) FROM history WHERE ticket_id = '{id}' AND action = 'confirmed' AND actor = 'user (link)'"
    ));
    assert_eq!(confirmed, 1, "recorded once, by the link");
    let t = s.show(&id);
    assert_eq!(t["status"], "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_solved_returns_the_ticket_to_the_line_with_the_users_words() {
    let s = Site::start(|_| {}).await;
    let (id, link) = web_ticket(&s).await;
    engineer_says(
        &s,
        &id,
        "Статус: Предложено решение\r\n\r\nОчистите кэш браузера.",
    )
    .await;
    let before = s.outbox().len();
    let r = s
        .post_form(
            &link,
            &[
                ("action", "not_solved"),
                ("text", "Кэш очистила, ошибка та же."),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("возвращено инженеру"), "{}", r.body);
    assert_eq!(status(&s, &id), "assigned");
    let to_line: Vec<String> = s.outbox()[before..]
        .iter()
        .filter(|(_, to, _)| to.contains("line"))
        .map(|(_, _, raw)| common::body_text(raw))
        .collect();
    assert!(
        to_line
            .iter()
            .any(|b| b.contains("Кэш очистила, ошибка та же.")),
        "the words reach the line: {to_line:?}"
    );
    assert!(s.count(&format!(
        "SELECT count(*) FROM history WHERE ticket_id = '{id}' AND actor = 'user (link)' AND action = 'status'"
    )) == 1);
    // No solution is proposed now: the buttons are gone, a press changes nothing.
    assert!(!s.get(&link).await.body.contains("id=\"confirm\""));
    let late = s.post_form(&link, &[("action", "confirm")]).await;
    assert!(late.body.contains("Ничего не изменилось"));
    assert_eq!(status(&s, &id), "assigned");
}
