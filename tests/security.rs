//! The reply channel's security (issue 12), one table per property, each
//! case named by what it guards. Letters go through the real binary
//! (`ingest`); what left the desk is read from the outbox table.
//!
//! | property | module |
//! |---|---|
//! | 1 nobody's data to anybody else | `security/p1_data.rs` |
//! | 2 authenticated senders | `security/p2_auth.rs` |
//! | 3 no replay, no other context | `security/p3_replay.rs` |
//! | 4 only the requester changes the form | `security/p4_requester.rs` |
//! | 5 reflection bounded | `security/p5_reflection.rs` |
//! | 6 attachments are what their names say | `security/p6_p8.rs` |
//! | 7 files and limits, addresses | `security/p6_p8.rs` |
//! | 8 the terminal | `security/p6_p8.rs` |

mod common;

#[path = "security/p1_data.rs"]
mod p1_data;
#[path = "security/p2_auth.rs"]
mod p2_auth;
#[path = "security/p3_replay.rs"]
mod p3_replay;
#[path = "security/p4_requester.rs"]
mod p4_requester;
#[path = "security/p5_reflection.rs"]
mod p5_reflection;
#[path = "security/p6_p8.rs"]
mod p6_p8;

use common::TestDesk;
use serde_json::Value;

/// The test MTA's authserv-id.
pub const MX: &str = "mx.test";
pub const SUPPORT: &str = "support@sed.example.org";
pub const ENG: &str = "eng1@sed.example.org";
pub const USER: &str = "ivanova@minfin.example.org";

/// Set `section.key = value` in a config table.
pub fn set(cfg: &mut toml::Table, section: &str, key: &str, v: toml::Value) {
    let t = cfg
        .entry(section)
        .or_insert_with(|| toml::Value::Table(Default::default()));
    if let toml::Value::Table(t) = t {
        t.insert(key.into(), v);
    }
}

/// The example desk with `[security] authserv_id = "mx.test"` (and
/// `require`); the reflection bounds out of the way (property 5 sets its own).
pub fn secured(require: &str) -> TestDesk {
    TestDesk::with(|cfg| {
        set(cfg, "security", "authserv_id", MX.into());
        set(cfg, "security", "require", require.into());
        unbounded(cfg);
    })
}

/// `[loops]` without the reflection bounds.
pub fn unbounded(cfg: &mut toml::Table) {
    set(cfg, "loops", "max_auto_per_address_per_day", 100_000.into());
    set(
        cfg,
        "loops",
        "max_new_tickets_per_sender_per_hour",
        0.into(),
    );
}

/// An `Authentication-Results` header of the test MTA with `results`.
pub fn ar(results: &str) -> String {
    format!("Authentication-Results: {MX}; {results}\r\n")
}

/// DMARC pass for the domain of `from`.
pub fn pass_for(from: &str) -> String {
    let d = from.rsplit_once('@').map(|(_, d)| d).unwrap_or(from);
    ar(&format!(
        "dkim=pass header.d={d}; spf=pass smtp.mailfrom={from}; dmarc=pass header.from={d}"
    ))
}

/// A letter: `trace` (headers above From, as an MTA adds them), then From,
/// To, Subject, Message-ID, `extra` headers, and the body.
pub fn letter(
    trace: &str,
    from: &str,
    to: &str,
    subject: &str,
    extra: &str,
    body: &str,
) -> Vec<u8> {
    let r: u64 = rand::random();
    format!(
        "{trace}From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <s{r:x}@test.example>\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A complete Table 2 appeal about a broken printer (an incident: routed
/// to the 2nd line).
pub const APPEAL: &str = "Организация: Министерство финансов\r\n\
ФИО: Иванова Мария Сергеевна\r\n\
Кабинет: 305, этаж 3\r\n\
Телефон: 8 (4012) 55-12-34\r\n\
Описание проблемы: Не работает принтер в кабинете, ошибка драйвера.\r\n";

/// The same appeal without phone and floor (awaiting the user).
pub const INCOMPLETE: &str = "Организация: Министерство финансов\r\n\
ФИО: Иванова Мария Сергеевна\r\n\
Кабинет: 305\r\n\
Описание проблемы: Не работает принтер в кабинете, ошибка драйвера.\r\n";

/// Ingest, asserting the JSON outcome.
pub fn ingest(desk: &TestDesk, raw: &[u8]) -> Value {
    let (r, code) = desk.ingest(raw);
    assert_eq!(code, 0, "ingest exit code: {r}");
    r
}

/// Open a ticket from `from` (authenticated when `trace` says so); its id.
pub fn open_ticket(desk: &TestDesk, trace: &str, from: &str, body: &str) -> String {
    let r = ingest(desk, &letter(trace, from, SUPPORT, "Принтер", "", body));
    assert_eq!(r["outcome"], "created", "{r}");
    r["ticket"].as_str().unwrap().to_string()
}

/// Outbox rows: (kind, recipients, the letter's header block, decoded
/// subject and decoded body).
pub fn outbox(desk: &TestDesk) -> Vec<(String, Vec<String>, String)> {
    let db = desk.db();
    let mut st = db
        .prepare("SELECT kind, recipients, raw FROM outbox ORDER BY id")
        .unwrap();
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
        Ok((
            r.get::<_, String>(0)?,
            serde_json::from_str(&to).unwrap_or_default(),
            text,
        ))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// Outbox rows to `addr`.
pub fn to_addr(desk: &TestDesk, addr: &str) -> Vec<(String, String)> {
    outbox(desk)
        .into_iter()
        .filter(|(_, to, _)| to.iter().any(|t| t.eq_ignore_ascii_case(addr)))
        .map(|(k, _, raw)| (k, raw))
        .collect()
}

/// The proof-of-receipt address of the latest routed letter of `ticket`.
pub fn proof(desk: &TestDesk, ticket: &str) -> String {
    let re = regex::Regex::new(r"support\+[A-Za-z0-9-]+@sed\.example\.org").unwrap();
    outbox(desk)
        .into_iter()
        .rev()
        .filter(|(k, _, raw)| k == "routed" && raw.contains(ticket))
        .find_map(|(_, _, text)| re.find(&text).map(|m| m.as_str().to_string()))
        .unwrap_or_else(|| panic!("no routed letter for {ticket}"))
}

/// A ticket's JSON.
pub fn show(desk: &TestDesk, id: &str) -> Value {
    desk.show(id)
}

/// The actions of a ticket's history.
pub fn actions(t: &Value) -> Vec<String> {
    t["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|e| e["action"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}
