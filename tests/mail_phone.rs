//! Appeals taken by phone through the real servers (issue 15, must show
//! 4): a 1st-line engineer's letter to their registration address goes
//! Postfix → Dovecot → IMAP → ticketd and registers a `phone` ticket for
//! the named caller, who gets the confirmation (read back over IMAP), as
//! the engineer gets the number; the same letter from another address,
//! or to another engineer's registration address, registers nothing and
//! is recorded.

mod support;

use std::time::{Duration, Instant};
use support::desk::{about, about_prefix, desk_key, smtp_send, start, WAIT};
use support::SUPPORT;
use ticketd::workflow::signed::reg_address;

const OP1: &str = "op1@sed.example.org";
const CALLER: &str = "user2@example.com";

fn call(from: &str, to: &str, msgid: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Звонок: не печатает принтер\r\nMessage-ID: <{msgid}@test.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Заявитель: {CALLER}\r\nОрганизация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\n\
         Кабинет 305, 3 этаж\r\nТелефон: 8 (4012) 55-12-34\r\nОписание проблемы: не печатает принтер\r\n"
    )
    .into_bytes()
}

/// Wait until the desk recorded `n` letters refused as phone registrations.
fn wait_refused(config: &std::path::Path, n: i64) -> Vec<String> {
    let db = config.parent().expect("dir").join("ticketd.sqlite3");
    let until = Instant::now() + WAIT;
    loop {
        let conn = rusqlite::Connection::open(&db).expect("db");
        let reasons: Vec<String> = conn
            .prepare("SELECT reason FROM letters WHERE outcome = 'ignored' AND reason LIKE 'phone registration refused%' ORDER BY id")
            .and_then(|mut st| {
                st.query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .unwrap_or_default();
        if reasons.len() as i64 >= n {
            return reasons;
        }
        assert!(
            Instant::now() < until,
            "only {} refusals recorded",
            reasons.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_engineers_letter_to_their_registration_address_registers_a_phone_ticket() {
    let desk = start("phone", "PH", "INBOX", "1d", 10);
    let key = desk_key(&desk.config);
    let reg = reg_address(SUPPORT, OP1, &key);
    smtp_send(OP1, &reg, &call(OP1, &reg, "ph-1"));

    // The engineer's receipt with the number; the caller's confirmation.
    let receipt = about_prefix(OP1, "[PH-", "the engineer's receipt");
    let id = desk.id_in(&receipt).expect("the number in the receipt");
    let t = desk.show(&id);
    assert_eq!(t["channel"], "phone");
    assert_eq!(t["registered_by"], OP1);
    assert_eq!(t["requester"], CALLER);
    assert_eq!(t["full_name"], "Смирнова Ольга Викторовна");
    let confirmed = about(CALLER, &id, 1, "the caller's confirmation");
    assert!(!confirmed.is_empty());

    // From a user to the engineer's address; from the engineer to another
    // engineer's: nothing registered, each recorded.
    smtp_send(
        "user1@example.com",
        &reg,
        &call("user1@example.com", &reg, "ph-2"),
    );
    let other = reg_address(SUPPORT, "op2@sed.example.org", &key);
    smtp_send(OP1, &other, &call(OP1, &other, "ph-3"));
    let reasons = wait_refused(&desk.config, 2);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("not an engineer of the 1st line")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("not the sender's own")),
        "{reasons:?}"
    );
    let out = support::daemon::ticketd(&desk.config, &["tickets", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "one ticket: {list}");
    desk.daemon.stop();
}
