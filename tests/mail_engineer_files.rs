//! The engineer's files reach the user (issue 11, Must show 5): an
//! engineer's proposal with a screenshot, answering the routed letter that
//! reached line 2's mailbox through Postfix, reaches the user's mailbox
//! (ticketd → Postfix → LMTP → Dovecot, read back over IMAP) with the PNG
//! attached, byte for byte. Incoming letters go into this test's own folder
//! of the support mailbox (`TestDesk::deliver`), so tests run side by side.

mod common;
mod support;

use mail_parser::MimeHeaders;
use sha2::{Digest, Sha256};
use support::desk::{about, appeal, body, start};

use common::PNG;

#[test]
fn an_engineers_screenshot_reaches_the_users_mailbox() {
    let desk = start("engfiles", "EF", "engfiles", "1d", 20);
    let user = "user2@example.com";
    desk.deliver(&appeal(user, "ef-1", "Принтер печатает полосы"));
    let ack = about_any(user, "ef-1");
    let id = desk.id_in(&ack).expect("ticket id in the auto-reply");
    let routed = about("line2@sed.example.org", &id, 1, "the routed letter");
    let reply_to = routed[0].header("Reply-To").expect("Reply-To");
    let proof = regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
        .unwrap()
        .find(&reply_to)
        .expect("proof address")
        .as_str()
        .to_string();
    let mid = routed[0].header("Message-ID").unwrap_or_default();
    let raw = format!(
        "Delivered-To: {proof}\r\nFrom: Eng One <eng1@sed.example.org>\r\nTo: {proof}\r\nSubject: Re: [{id}] Принтер\r\n\
         Message-ID: <ef-eng-{id}@test.example>\r\nIn-Reply-To: {mid}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Статус: Предложено решение\r\n\r\nСделайте как на снимке экрана.\r\n\r\n--bb\r\n\
         Content-Type: image/png\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb--\r\n",
        common::base64(PNG)
    );
    desk.deliver(raw.as_bytes());
    desk.wait_status(&id, "solution_proposed");
    let letters = about(user, &id, 2, "the proposal with the screenshot");
    let proposal = letters
        .iter()
        .find(|m| body(m).contains("как на снимке экрана"))
        .expect("the proposal");
    let msg = mail_parser::MessageParser::default()
        .parse(&proposal.raw)
        .unwrap();
    let files: Vec<(String, Vec<u8>)> = msg
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or("").to_string(),
                a.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(files.len(), 1, "one file");
    assert_eq!(files[0].0, "screen.png");
    assert_eq!(
        hex(&Sha256::digest(&files[0].1)),
        hex(&Sha256::digest(PNG)),
        "the same SHA-256"
    );
    assert!(proposal.header("Precedence").is_none(), "a person's words");
    drop(desk);
}

fn about_any(user: &str, msgid: &str) -> support::imap::Stored {
    let tag = format!("{msgid}@test.example");
    support::imap::wait_until(user, "INBOX", support::desk::WAIT, "the auto-reply", |l| {
        l.iter()
            .any(|m| m.header("In-Reply-To").is_some_and(|v| v.contains(&tag)))
    })
    .into_iter()
    .find(|m| m.header("In-Reply-To").is_some_and(|v| v.contains(&tag)))
    .expect("auto-reply")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
