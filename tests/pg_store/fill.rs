//! The desk `db copy` reads, built fast: letters with attachments through
//! `ticketd ingest`, then tickets through the store's interface.

use crate::common::{self, TestDesk, PNG};
use chrono::{Duration, TimeZone, Utc};
use ticketd::store::letters::LetterRecord;
use ticketd::store::tickets::{AttachmentRow, HistoryRow, Ticket};
use ticketd::store::{ts, Store};
use ticketd::workflow::status::{Actor, Line, Status};

/// A letter from a user with two attachments: a picture (kept) and a
/// text file whose bytes differ per `i` (refused by type: a row of
/// `rejected_attachments`).
pub fn letter_with_files(i: usize) -> Vec<u8> {
    let b64 = common::base64;
    let note = format!("журнал ошибок {i}\n").repeat(50 + i * 7);
    format!(
        "From: user{i}@minfin.example.org\r\nTo: support@sed.example.org\r\n\
         Subject: Ошибка {i}\r\nMessage-ID: <pg-{i}@minfin.example.org>\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Наименование органа исполнительной власти: Министерство финансов\r\n\
         Ф.И.О. пользователя: Петров Пётр {i}\r\nМестонахождение: каб. {i}\r\n\
         Номер контактного телефона: +7 4012 55-00-{i:02}\r\n\
         Описание возникшей проблемы: не открывается документ {i}\r\n--bb\r\n\
         Content-Type: image/png; name=\"screen.png\"\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb\r\n\
         Content-Type: text/plain; name=\"log{i}.txt\"\r\nContent-Disposition: attachment; filename=\"log{i}.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--bb--\r\n",
        b64(PNG),
        b64(note.as_bytes())
    )
    .into_bytes()
}

/// Deterministic bytes of `len` for attachment `k` (xorshift).
fn file_bytes(k: u64, len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (k + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The desk: `letters` ingested letters with attachments, then `n`
/// tickets through the store spread over 400 days before 2026-12-01 (two
/// calendar years of numbers), every 25th with an attachment file (every
/// fourth of those the bytes of an earlier one: shared blobs).
pub fn build_desk(desk: &TestDesk, letters: usize, n: usize) {
    for i in 0..letters {
        let (v, code) = desk.ingest(&letter_with_files(i));
        assert_eq!(code, 0, "ingest {i}: {v}");
    }
    let cfg = ticketd::desk::Desk::load(&desk.config).expect("config");
    let mut store = Store::open(&cfg.database.path, std::time::Duration::from_secs(30)).unwrap();
    let prefix = cfg.tickets.prefix.clone();
    let priority = cfg.workflow.priorities[0].name.clone();
    let end = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let start = end - Duration::days(400);
    let step = 400 * 86_400_000 / n as i64;
    store.batch_begin().unwrap();
    for i in 0..n {
        let created = start + Duration::milliseconds(step * i as i64);
        let unit = store.unit().unwrap();
        let id = unit.allocate_id(&prefix, created).unwrap();
        let user = format!("user{}@agency{}.example.org", i % 997, i % 31);
        let mut t = Ticket::default();
        t.id = id.clone();
        t.priority = priority.clone();
        t.requester = user.clone();
        t.reply_to = user;
        t.subject = format!("Обращение {i}: «Объект не найден»");
        t.created_at = created;
        t.updated_at = created;
        t.deadline = Some(created + Duration::hours(8));
        // Schema 9: some through a mailbox of their own (report_rows.mailbox).
        if i % 5 == 1 {
            t.mailbox = Some("north".into());
        }
        unit.insert_ticket(&t).unwrap();
        let hist =
            |at: chrono::DateTime<Utc>, action: &str, from: Option<&str>, to: &str| HistoryRow {
                at: ts(at),
                actor: "system".into(),
                action: action.into(),
                from: from.map(Into::into),
                to: Some(to.into()),
                detail: Some(format!("строка {i}")),
            };
        unit.add_history(&id, &hist(created, "created", None, "new"), None)
            .unwrap();
        if i % 3 == 0 {
            let at = created + Duration::minutes(90);
            let eng = Actor::Engineer {
                line: Line::First,
                address: "eng1@sed.example.org".into(),
            };
            if t.move_to(Status::SolutionProposed, &eng).is_ok() {
                unit.add_history(
                    &id,
                    &hist(at, "command", Some("new"), "solution_proposed"),
                    None,
                )
                .unwrap();
                t.updated_at = at;
                unit.update_ticket(&t).unwrap();
                if i % 150 == 0 {
                    // Closed again by the same actor, and a close recorded
                    // after a later one (the engineers' figures, version 7).
                    for (mins, to) in [(120, "confirmed"), (60, "confirmed")] {
                        let h = hist(
                            created + Duration::minutes(mins),
                            "command",
                            Some("solution_proposed"),
                            to,
                        );
                        unit.add_history(&id, &h, None).unwrap();
                    }
                }
            }
        }
        if i % 25 == 0 {
            let k = (i / 25) as u64;
            let k = if k % 4 == 3 { k - 1 } else { k };
            let data = file_bytes(k, 1000 + (k as usize * 7919) % 60_000);
            let sha = ticketd::pipeline::files::store(&cfg.attachments.dir, &data).unwrap();
            let raw = format!("Subject: filled {i}\r\n\r\nbody").into_bytes();
            let letter = unit
                .insert_letter(&LetterRecord {
                    identity: &format!("fill-{i}"),
                    message_id: Some(&format!("<fill-{i}@example.org>")),
                    sender: Some("user@example.org"),
                    outcome: "created",
                    ticket_id: Some(&id),
                    reason: None,
                    raw: &raw,
                    at: created,
                    mailbox: (i % 50 == 0).then_some("north"),
                })
                .unwrap();
            let row = AttachmentRow {
                filename: format!("скан-{k}.bin"),
                content_type: "application/octet-stream".into(),
                size: data.len() as i64,
                sha256: sha,
            };
            unit.add_attachment(&id, letter, &row).unwrap();
        }
        unit.commit().unwrap();
    }
    store.batch_commit().unwrap();
    store.checkpoint().unwrap();
}
