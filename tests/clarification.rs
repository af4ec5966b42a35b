//! п. 94 clarification round trip: a letter missing the phone and the floor
//! gets a reply naming exactly those two; the user's answer completes the
//! ticket, which returns to `new`, and the ordinary confirmation follows.

mod common;

use common::{body_text, header, TestDesk};

const FIRST: &str = "From: Ivanova <ivanova@minfin.example.org>\r
To: support@sed.example.org\r
Subject: =?utf-8?b?0J3QtSDQvtGC0LrRgNGL0LLQsNC10YLRgdGPINC00L7QutGD0LzQtdC90YI=?=\r
Message-ID: <first-1@minfin.example.org>\r
Date: Mon, 02 Mar 2026 10:00:00 +0300\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 8bit\r
\r
Организация: Министерство финансов Калининградской области\r
ФИО: Иванова Мария Сергеевна\r
Кабинет: 305\r
Описание проблемы: Не открывается карточка входящего документа.\r
";

fn missing_lines(body: &str) -> Vec<String> {
    body.lines()
        .filter(|l| l.trim_start().starts_with('—'))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn missing_phone_and_floor_round_trip() {
    // The desk without routing rules: a complete ticket stays `new` on line 1.
    let desk = TestDesk::plain();
    let (r, _) = desk.ingest(FIRST.as_bytes());
    assert_eq!(r["outcome"], "created");
    let id = r["ticket"].as_str().unwrap().to_string();
    let t = desk.show(&id);
    assert_eq!(t["status"], "awaiting_user");
    assert_eq!(
        t["missing_fields"],
        serde_json::json!(["location", "phone"])
    );
    assert_eq!(t["room"], "305");

    desk.run_once();
    let out = desk.outbox();
    assert_eq!(out.len(), 1);
    let ask = &out[0];
    assert_eq!(
        header(ask, "to").as_deref(),
        Some("ivanova@minfin.example.org")
    );
    assert!(header(ask, "subject").unwrap().contains(&format!("[{id}]")));
    let body = body_text(ask);
    let missing = missing_lines(&body);
    assert_eq!(
        missing.len(),
        2,
        "exactly two things asked for: {missing:?}\n{body}"
    );
    assert!(
        missing[0].contains("Этаж") && missing[0].contains("305"),
        "{missing:?}"
    );
    assert!(missing[1].contains("телефона"), "{missing:?}");
    assert!(
        body.contains("Ф.И.О. пользователя: Иванова Мария Сергеевна"),
        "the form shows what we have"
    );

    // The user answers in the thread, with only what was asked.
    let answer = format!(
        "From: ivanova@minfin.example.org\r
To: support@sed.example.org\r
Subject: Re: [{id}] =?utf-8?b?0J3QtSDQvtGC0LrRgNGL0LLQsNC10YLRgdGP?=\r
Message-ID: <answer-1@minfin.example.org>\r
In-Reply-To: <first-1@minfin.example.org>\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 8bit\r
\r
Этаж: 3\r
Телефон: 8 (4012) 55-12-34 доб. 77\r
\r
> Пожалуйста, ответьте на это письмо\r
"
    );
    let (r2, _) = desk.ingest(answer.as_bytes());
    assert_eq!(r2["outcome"], "updated");
    assert_eq!(r2["ticket"], id.as_str());
    let t = desk.show(&id);
    assert_eq!(t["status"], "new", "complete again: {t}");
    assert_eq!(t["missing_fields"], serde_json::json!([]));
    assert_eq!(t["floor"], "3");
    assert_eq!(t["room"], "305");
    assert_eq!(t["phone"], "+74012551234");
    assert_eq!(t["phone_ext"], "77");
    let actions: Vec<&str> = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"fields_added") && actions.contains(&"status"),
        "{actions:?}"
    );

    desk.run_once();
    let out = desk.outbox();
    assert_eq!(out.len(), 2, "one confirmation after the answer");
    let confirm = &out[1];
    let body = body_text(confirm);
    assert!(body.contains("зарегистрировано"), "{body}");
    assert!(
        missing_lines(&body).is_empty(),
        "nothing asked any more: {body}"
    );
    assert!(header(confirm, "subject")
        .unwrap()
        .contains(&format!("[{id}]")));
    assert_eq!(
        header(confirm, "in-reply-to").as_deref(),
        Some("answer-1@minfin.example.org")
    );
}
