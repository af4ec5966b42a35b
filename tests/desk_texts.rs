//! What people read is Russian, in the desk's time, with the engineer's
//! files (issue 11, "every letter ticketd sends is clean"): one ticket on
//! the example desk (file outbox) through routing, an engineer's proposal
//! with a screenshot and a refused file, and `tickets show`.

mod common;

use common::{base64 as b64, body_text, header, TestDesk};
use mail_parser::MimeHeaders;
use regex::Regex;
use sha2::{Digest, Sha256};

use common::PNG;

const APPEAL: &str = "From: Смирнова <smirnova@minzdrav.example.org>\r
To: support@sed.example.org\r
Subject: =?utf-8?b?0J7RiNC40LHQutCwINC/0YDQuCDQstGF0L7QtNC1INCyINCh0K3QlA==?=\r
Message-ID: <texts-1@minzdrav.example.org>\r
Date: Fri, 04 Dec 2026 18:43:16 +0200\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 8bit\r
\r
Наименование органа исполнительной власти: Министерство здравоохранения\r
Ф.И.О. пользователя: Смирнова Ольга Викторовна\r
Местонахождение: кабинет 305, 3 этаж\r
Номер контактного телефона: 8 (4012) 55-12-34\r
Описание возникшей проблемы: ошибка при входе в систему\r
";

/// The engineer's answer to the routed letter: a proposal with a
/// screenshot (kept and relayed) and an executable (refused).
pub fn engineer_reply(from: &str, proof: &str, id: &str, routed_mid: &str, png: &[u8]) -> String {
    format!(
        "From: {from}\r\nTo: {proof}\r\nDelivered-To: {proof}\r\nSubject: Re: [{id}] ошибка\r\n\
         Message-ID: <eng-reply-{id}@sed.example.org>\r\nIn-Reply-To: <{routed_mid}>\r\n\
         Date: Fri, 04 Dec 2026 19:00:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Статус: Предложено решение\r\n\r\nСделайте как на снимке экрана: очистите кэш браузера.\r\n\r\n--bb\r\n\
         Content-Type: image/png\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb\r\n\
         Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"tool.exe\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb--\r\n",
        b64(png),
        b64(b"MZ\x90\x00\x03\x00\x00\x00 not a picture")
    )
}

/// English phrases (two Latin words in a row; acronyms such as PNG aside) in a text people read, once
/// addresses, ticket numbers, file names and «quoted» names (rule names
/// stay as the admin wrote them) are set aside.
fn english(text: &str) -> Vec<String> {
    let aside = Regex::new(
        r"[\w.+-]+@[\w.-]+|TP-\d{4}-\d+|[\w.-]+\.(png|exe)|«[^»]*»|<[^>]*>|\bsha256 [0-9a-f]+",
    )
    .unwrap();
    let text = aside.replace_all(text, " ");
    Regex::new(r"[A-Za-z][a-z]+(?:[ ,:;()-]+[A-Za-z][a-z]+)+")
        .unwrap()
        .find_iter(&text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// Outbox rows as (kind, raw letter).
fn sent(desk: &TestDesk) -> Vec<(String, Vec<u8>)> {
    let db = desk.db();
    let mut st = db
        .prepare("SELECT kind, raw FROM outbox ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn attachments(raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    msg.attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or("").to_string(),
                a.contents().to_vec(),
            )
        })
        .collect()
}

#[test]
fn the_engineers_files_reach_the_user_and_every_text_is_russian() {
    let desk = TestDesk::new();
    let (r, _) = desk.ingest(APPEAL.as_bytes());
    let id = r["ticket"].as_str().expect("created").to_string();
    desk.run_once();
    let letters = sent(&desk);
    let (_, routed) = letters
        .iter()
        .find(|(k, _)| k == "routed")
        .expect("routed to a line");
    let proof = header(routed, "reply-to").expect("proof address");
    let mid = header(routed, "message-id").expect("message id");
    let routed_body = body_text(routed);
    let lead = routed_body.lines().next().unwrap_or("");
    assert!(
        lead.starts_with(&format!("Обращение {id} направлено на линию 2")),
        "{lead}"
    );
    assert!(
        lead.contains("«incidents to the 2nd line»"),
        "the rule's name as written: {lead}"
    );
    let history = routed_body
        .split("История:")
        .nth(1)
        .and_then(|h| h.split("\n\n").next())
        .unwrap_or("");
    assert!(history.contains("обращение зарегистрировано"), "{history}");
    for part in [lead, history] {
        assert_eq!(english(part), Vec::<String>::new(), "{part}");
    }

    let reply = engineer_reply("eng1@sed.example.org", &proof, &id, &mid, PNG);
    let (r, _) = desk.ingest(reply.as_bytes());
    assert_eq!(r["outcome"], "updated", "{r}");
    desk.run_once();
    let t = desk.show(&id);
    assert_eq!(t["status"], "solution_proposed", "{t}");
    let letters = sent(&desk);
    let (_, to_user) = letters
        .iter()
        .find(|(k, _)| k == "to_user")
        .expect("the proposal went to the user");
    assert!(body_text(to_user).contains("как на снимке экрана"));
    let files = attachments(to_user);
    assert_eq!(
        files.len(),
        1,
        "only the accepted file: {:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(files[0].0, "screen.png");
    assert_eq!(
        Sha256::digest(&files[0].1).to_vec(),
        Sha256::digest(PNG).to_vec(),
        "the same bytes"
    );
    assert_eq!(header(to_user, "precedence"), None, "a person's words");
    // The ticket keeps the file too.
    assert!(t["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["filename"] == "screen.png"));
    let (_, done) = letters
        .iter()
        .find(|(k, _)| k == "command_done")
        .expect("the engineer's confirmation");
    let done_body = body_text(done);
    assert!(
        done_body.contains("screen.png") && done_body.contains("tool.exe"),
        "sent and refused files are named: {done_body}"
    );
    assert_eq!(header(done, "precedence").as_deref(), Some("bulk"));
    assert_eq!(english(&done_body), Vec::<String>::new(), "{done_body}");

    // `tickets show`: Russian history, the desk's local time.
    let out = desk.run(&["tickets", "show", &id], None);
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    if std::env::var("PEEK").is_ok() {
        eprintln!("{routed_body}\n=====\n{shown}");
    }
    let history = shown.split("История:").nth(1).unwrap_or("");
    assert_eq!(english(history), Vec::<String>::new(), "{history}");
    for want in [
        "обращение зарегистрировано",
        "направлено на линию",
        "команда инженера",
    ] {
        assert!(history.contains(want), "{want}: {history}");
    }
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().unwrap())
        .expect("--json keeps RFC 3339");
    let local = created
        .with_timezone(&chrono_tz::Europe::Kaliningrad)
        .format("%d.%m.%Y %H:%M")
        .to_string();
    assert!(
        shown.contains(&format!("Создано: {local}")),
        "{local}: {shown}"
    );
    let list = desk.run(&["tickets", "list"], None);
    assert!(String::from_utf8_lossy(&list.stdout).contains(&local));
    assert!(
        !shown.contains(t["created_at"].as_str().unwrap()),
        "no UTC stamp"
    );
    assert_eq!(
        t["priority"], "высокий",
        "the example config's Russian names"
    );
}
