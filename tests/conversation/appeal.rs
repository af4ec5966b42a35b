//! Appeals from other channels (the site's form, a phone call) through
//! `Pipeline::submit`: registered as a letter's would be — same kind,
//! line, deadline, the same letters — without being forged into a letter.

use super::harness::*;
use ticketd::parse::Form;
use ticketd::pipeline::submission::{AppealFile, Channel, NewAppeal, Submission};
use ticketd::pipeline::Outcome;

use super::common::PNG;

fn form(complete: bool) -> Form {
    Form {
        organization: Some("Министерство финансов".into()),
        full_name: Some("Иванова Мария Сергеевна".into()),
        location: complete.then(|| "каб. 305, 3 этаж".into()),
        room: complete.then(|| "305".into()),
        floor: complete.then(|| "3".into()),
        phone: complete.then(|| "+74012551234".into()),
        description: Some("Не работает принтер в кабинете, ошибка драйвера.".into()),
        ..Default::default()
    }
}

fn appeal(channel: Channel, key: &str, complete: bool) -> NewAppeal {
    NewAppeal {
        channel,
        key: key.into(),
        requester: USER.into(),
        subject: "Принтер".into(),
        form: form(complete),
        text: String::new(),
        files: Vec::new(),
        registered_by: None,
    }
}

#[test]
fn a_web_appeal_is_registered_as_the_same_letter_would_be() {
    // The letter, on one desk.
    let mut by_mail = Conv::new();
    let id = by_mail.appeal(APPEAL);
    let mailed = by_mail.ticket(&id);
    let mail_letters = summary(&by_mail.new_letters());

    // The same appeal through the site's form, on another desk, same time.
    let mut c = Conv::new();
    let r =
        c.p.submit(Submission::Appeal(Box::new(appeal(
            Channel::Web,
            "form-1",
            true,
        ))))
        .expect("submitted");
    assert_eq!(r.outcome, Outcome::Created);
    let t = c.ticket(r.ticket.as_deref().expect("a ticket"));
    assert_eq!(
        (t.status(), t.kind, t.line, t.priority.clone(), t.deadline),
        (
            mailed.status(),
            mailed.kind,
            mailed.line,
            mailed.priority.clone(),
            mailed.deadline
        ),
        "status, kind, line, priority and deadline as for the letter"
    );
    assert_eq!(t.requester, USER);
    assert_eq!(t.form.room.as_deref(), Some("305"));
    assert_eq!(
        summary(&c.new_letters()),
        mail_letters,
        "the same letters to the same people"
    );

    // The same submission again is one appeal; another key is another.
    let again =
        c.p.submit_appeal(appeal(Channel::Web, "form-1", true))
            .expect("again");
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(again.ticket, r.ticket);
    assert!(c.new_letters().is_empty(), "nothing sent twice");
    let phone =
        c.p.submit_appeal(appeal(Channel::Phone, "form-1", true))
            .expect("a call");
    assert_eq!(phone.outcome, Outcome::Created, "keys are per channel");
    assert_ne!(phone.ticket, r.ticket);
}

#[test]
fn an_incomplete_appeal_is_clarified_and_its_files_are_checked() {
    let mut c = Conv::new();
    let mut a = appeal(Channel::Web, "form-2", false);
    a.files = vec![
        AppealFile {
            filename: "screen.png".into(),
            content_type: "image/png".into(),
            data: PNG.to_vec(),
        },
        AppealFile {
            filename: "setup.exe".into(),
            content_type: "image/png".into(),
            data: b"MZ\x90\x00 not a picture".to_vec(),
        },
    ];
    let r = c.p.submit_appeal(a).expect("submitted");
    assert_eq!(r.outcome, Outcome::Created);
    let t = c.ticket(r.ticket.as_deref().expect("a ticket"));
    assert_eq!(t.status(), "awaiting_user");
    assert_eq!(t.attachments.len(), 1, "{:?}", t.attachments);
    assert_eq!(t.attachments[0].content_type, "image/png");
    assert!(
        t.rejected_attachments
            .iter()
            .any(|r| r.filename == "setup.exe"),
        "{:?}",
        t.rejected_attachments
    );
    let sent = c.new_letters();
    let clarification = sent
        .iter()
        .find(|s| s.to_is(USER))
        .unwrap_or_else(|| panic!("the requester is asked: {:?}", summary(&sent)));
    assert!(
        clarification.text.contains("setup.exe"),
        "{}",
        clarification.text
    );
}

#[test]
fn an_appeal_needs_a_requester_the_desk_can_answer() {
    let mut c = Conv::new();
    // (requester, key, what the refusal names)
    for (requester, key, names) in [
        ("ivanova", "k1", "not an e-mail address"),
        (
            "ivanova@minfin.example.org\r\nBcc: x@example.org",
            "k2",
            "not an e-mail address",
        ),
        (SUPPORT, "k3", "desk's own"),
        (L2, "k4", "desk's own"),
        (USER, "", "key"),
    ] {
        let mut a = appeal(Channel::Web, key, true);
        a.requester = requester.into();
        let e = c.p.submit_appeal(a).expect_err(requester).to_string();
        assert!(e.contains(names), "{requester:?}: {e}");
    }
    assert!(c.new_letters().is_empty(), "nobody written to");
}

/// What a channel sends is bounded and made plain: a subject cannot add a
/// header to the desk's letters, and an appeal over `[mailbox]
/// max_letter_mb` is refused, as such a letter would be quarantined.
#[test]
fn an_appeal_cannot_inject_headers_or_exceed_the_letter_limit() {
    let mut c = Conv::new();
    let mut a = appeal(Channel::Web, "inject", true);
    a.subject = "Принтер\r\nBcc: thief@example.org\r\n".into();
    a.form.full_name = Some("Иванова\r\nBcc: thief@example.org".into());
    let r = c.p.submit_appeal(a).expect("submitted");
    let t = c.ticket(r.ticket.as_deref().expect("a ticket"));
    assert_eq!(t.subject, "Принтер Bcc: thief@example.org");
    let sent = c.new_letters();
    assert!(!sent.is_empty());
    for s in &sent {
        let raw = String::from_utf8_lossy(&s.raw);
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        assert!(
            !head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "no injected header: {head}"
        );
        assert!(!s.to_is("thief@example.org"), "{:?}", s.to);
        assert!(
            !s.text.lines().any(|l| l.starts_with("Bcc:")),
            "one-line fields stay one line: {}",
            s.text
        );
    }

    let mut big = appeal(Channel::Web, "big", true);
    big.text = "x".repeat(30 * 1024 * 1024);
    let e = c.p.submit_appeal(big).expect_err("too large").to_string();
    assert!(e.contains("max_letter_mb"), "{e}");
}
