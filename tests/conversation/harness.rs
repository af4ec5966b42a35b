#![allow(dead_code)]
//! The conversation harness: the example desk in-process, on a manual
//! clock; letters as people write them; what left the desk read from the
//! outbox table.

use super::common::{self, TestDesk};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use ticketd::clock::ManualClock;
use ticketd::pipeline::Pipeline;
use ticketd::store::tickets::Ticket;

pub const SUPPORT: &str = "support@sed.example.org";
pub const USER: &str = "ivanova@minfin.example.org";
pub const L1: &str = "line1@sed.example.org";
pub const L2: &str = "line2@sed.example.org";
pub const L3: &str = "line3@dev.example.org";
pub const OP: &str = "op1@sed.example.org";
pub const ENG: &str = "eng1@sed.example.org";
pub const ENG2: &str = "eng2@sed.example.org";
pub const DEV: &str = "dev1@dev.example.org";

/// A complete Table 2 appeal about a printer error (an incident: line 2).
pub const APPEAL: &str = "Добрый день!\r\n\r\n\
Организация: Министерство финансов\r\n\
ФИО: Иванова Мария Сергеевна\r\n\
Кабинет: 305, этаж 3\r\n\
Телефон: 8 (4012) 55-12-34\r\n\
Описание проблемы: Не работает принтер в кабинете, ошибка драйвера.\r\n\r\n\
С уважением,\r\nМария";

/// The same appeal without the room, floor and phone.
pub const INCOMPLETE: &str = "Добрый день!\r\n\r\n\
Организация: Министерство финансов\r\n\
ФИО: Иванова Мария Сергеевна\r\n\
Описание проблемы: Не работает принтер в кабинете, ошибка драйвера.\r\n";

/// One letter that left the desk.
#[derive(Debug, Clone)]
pub struct Sent {
    pub kind: String,
    pub to: Vec<String>,
    /// Header block, decoded subject and decoded body.
    pub text: String,
    /// The letter as queued.
    pub raw: Vec<u8>,
}

impl Sent {
    pub fn to_is(&self, addr: &str) -> bool {
        self.to.iter().any(|t| t.eq_ignore_ascii_case(addr))
    }
}

pub struct Conv {
    pub desk: TestDesk,
    pub p: Pipeline,
    pub clock: ManualClock,
    seen: usize,
    /// The Message-ID (without brackets) of the latest letter sent in.
    pub last_id: String,
}

/// Wednesday 2 December 2026, 10:00 at the desk (UTC+2): working time.
pub fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("time")
}

impl Conv {
    pub fn new() -> Conv {
        Conv::with(|_| {})
    }

    pub fn with(change: impl FnOnce(&mut toml::Table)) -> Conv {
        let desk = TestDesk::with(change);
        let cfg = ticketd::desk::Desk::load(&desk.config).expect("config loads");
        let mut p = Pipeline::open(Arc::new(cfg)).expect("pipeline");
        let clock = ManualClock::new(start());
        p.set_clock(Arc::new(clock.clone()));
        Conv {
            desk,
            p,
            clock,
            seen: 0,
            last_id: String::new(),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// A letter from `from` to `to`; the ingest outcome and ticket.
    pub fn send(&mut self, from: &str, to: &str, subject: &str, body: &str) -> (String, String) {
        self.send_with(from, to, subject, "", body)
    }

    /// [`Conv::send`] with more header lines (`extra`: each ending in CRLF).
    pub fn send_with(
        &mut self,
        from: &str,
        to: &str,
        subject: &str,
        extra: &str,
        body: &str,
    ) -> (String, String) {
        let r: u64 = rand::random();
        self.last_id = format!("c{r:x}@test.example");
        let raw = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <c{r:x}@test.example>\r\n{extra}\
             Date: Wed, 02 Dec 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
        );
        let rep = self.p.ingest(raw.as_bytes()).expect("ingest");
        (
            rep.outcome.as_str().to_string(),
            rep.ticket.unwrap_or_default(),
        )
    }

    /// A new appeal from the user; its ticket id.
    pub fn appeal(&mut self, body: &str) -> String {
        let (o, id) = self.send(USER, SUPPORT, "Принтер", body);
        assert_eq!(o, "created");
        id
    }

    /// Escalation timer at the current time.
    pub fn tick(&mut self) {
        let now = self.p.now();
        self.p.escalate_due(now).expect("escalate");
    }

    pub fn all(&self) -> Vec<Sent> {
        let db = self.desk.db();
        let mut st = db
            .prepare("SELECT kind, recipients, raw FROM outbox ORDER BY id")
            .expect("prepare");
        st.query_map([], |r| {
            let to: String = r.get(1)?;
            let raw: Vec<u8> = r.get(2)?;
            let head_end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or(raw.len());
            let text = format!(
                "{}\n{}\n{}",
                String::from_utf8_lossy(&raw[..head_end]),
                common::header(&raw, "subject").unwrap_or_default(),
                common::body_text(&raw)
            );
            Ok(Sent {
                kind: r.get(0)?,
                to: serde_json::from_str(&to).unwrap_or_default(),
                text,
                raw,
            })
        })
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
    }

    /// The letters queued since the last call.
    pub fn new_letters(&mut self) -> Vec<Sent> {
        let all = self.all();
        let out = all[self.seen.min(all.len())..].to_vec();
        self.seen = all.len();
        out
    }

    pub fn ticket(&self, id: &str) -> Ticket {
        self.p
            .store()
            .ticket_full(id)
            .expect("read ticket")
            .expect("ticket exists")
    }

    /// The proof-of-receipt address in the latest letter to `mailbox`
    /// about `id` that carries one.
    pub fn proof(&self, id: &str, mailbox: &str) -> String {
        let re = regex::Regex::new(r"support\+[A-Za-z0-9-]+@sed\.example\.org").expect("re");
        self.all()
            .into_iter()
            .rev()
            .filter(|s| s.to_is(mailbox) && s.text.contains(id))
            .find_map(|s| re.find(&s.text).map(|m| m.as_str().to_string()))
            .unwrap_or_else(|| panic!("no letter with a proof for {id} to {mailbox}"))
    }

    /// An engineer's reply to the latest letter with a proof to `mailbox`.
    pub fn engineer(&mut self, who: &str, id: &str, mailbox: &str, body: &str) -> String {
        let proof = self.proof(id, mailbox);
        let (o, _) = self.send(who, &proof, &format!("RE: [{id}] Принтер"), body);
        o
    }

    /// The user's reply on the ticket.
    pub fn user(&mut self, id: &str, body: &str) -> String {
        let (o, _) = self.send(USER, SUPPORT, &format!("Re: [{id}] Принтер"), body);
        o
    }
}

/// Who got which kinds, compactly: `to:kind` sorted.
pub fn summary(letters: &[Sent]) -> Vec<String> {
    let mut v: Vec<String> = letters
        .iter()
        .flat_map(|s| s.to.iter().map(move |t| format!("{t}:{}", s.kind)))
        .collect();
    v.sort();
    v
}
