//! Report letters on a schedule (issue 16, "Must show" 3), in-process on a
//! manual clock: a `[[reports]] every = "month"` entry sends the report of
//! the finished month once — on start when the daemon was down at 09:00 of
//! the first working day, at 09:00 when it runs — and never twice, across
//! restarts too. The letter has an HTML and a text part and the per-ticket
//! CSV attached.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestDesk;
use mail_parser::{MessageParser, MimeHeaders};
use std::sync::Arc;
use std::time::Instant;
use ticketd::clock::{Clock, ManualClock};
use ticketd::desk::Desk;

const BOSS: &str = "boss@sed.example.org";

fn local(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+02:00"))
        .expect("time")
        .with_timezone(&Utc)
}

fn appeal() -> Vec<u8> {
    "From: user1@example.com\r\nTo: support@sed.example.org\r\nSubject: Принтер\r\n\
     Message-ID: <report-letter-1@test.example>\r\nDate: Fri, 30 Oct 2026 10:00:00 +0200\r\n\
     MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
     Content-Transfer-Encoding: 8bit\r\n\r\n\
     Организация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\n\
     Кабинет 305, 3 этаж\r\nТелефон: 8 (4012) 55-12-34\r\n\
     Описание проблемы: не открывается карточка документа\r\n"
        .as_bytes()
        .to_vec()
}

/// The report letters in the outbox: (subject, raw).
fn reports(desk: &TestDesk) -> Vec<(String, Vec<u8>)> {
    desk.outbox()
        .into_iter()
        .filter_map(|raw| {
            let to = common::header(&raw, "to")?;
            let subject = common::header(&raw, "subject")?;
            (to.contains(BOSS)).then_some((subject, raw))
        })
        .collect()
}

async fn until<T>(what: &str, desk: &TestDesk, mut f: impl FnMut(&TestDesk) -> Option<T>) -> T {
    let end = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(v) = f(desk) {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Run the daemon from `at` while `body` acts; stop it.
async fn daemon<F, Fut>(desk: &TestDesk, clock: &ManualClock, at: DateTime<Utc>, body: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    clock.set(at);
    let config = Desk::load(&desk.config).expect("config loads");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let d = tokio::spawn(ticketd::daemon::serve(
        config,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        async move {
            let _ = stopped.await;
        },
    ));
    body().await;
    let _ = stop.send(());
    d.await.expect("joined").expect("stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_is_sent_once_per_month_across_restarts() {
    let desk = TestDesk::with(|cfg| {
        let r: toml::Table = toml::from_str(&format!(
            "every = \"month\"\nto = [\"{BOSS}\"]\nat = \"09:00\"\nformat = \"html\""
        ))
        .expect("reports");
        cfg.insert(
            "reports".into(),
            toml::Value::Array(vec![toml::Value::Table(r)]),
        );
    });
    let clock = ManualClock::new(local("2026-10-30T10:00:00"));
    let subject = |m: &str| format!("Отчёт о работе службы поддержки за {m}");

    // Friday 30 October: the daemon was down on 1 October at 09:00; the
    // September report goes out when it starts. A letter arrives.
    daemon(&desk, &clock, local("2026-10-30T10:00:00"), || async {
        until("the September report", &desk, |d| {
            (reports(d).len() == 1).then_some(())
        })
        .await;
        desk.drop_letter("1.report.test", &appeal());
        until("the ticket", &desk, |d| {
            d.db()
                .query_row("SELECT count(*) FROM tickets", [], |r| r.get::<_, i64>(0))
                .ok()
                .filter(|n| *n == 1)
        })
        .await;
        // Monday 2 November, 08:59: not yet; 09:00: the October report.
        clock.set(local("2026-11-02T08:59:00"));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(reports(&desk).len(), 1, "not before 09:00");
        clock.set(local("2026-11-02T09:00:00"));
        until("the October report", &desk, |d| {
            (reports(d).len() == 2).then_some(())
        })
        .await;
        clock.advance(Duration::hours(3));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    })
    .await;
    // A restart the same day sends nothing again.
    daemon(&desk, &clock, local("2026-11-02T13:00:00"), || async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    })
    .await;
    assert_eq!(reports(&desk).len(), 2, "once per period, across restarts");
    // Down on 1 December at 09:00: November's goes out at the start.
    daemon(&desk, &clock, local("2026-12-01T11:30:00"), || async {
        until("the November report", &desk, |d| {
            (reports(d).len() == 3).then_some(())
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    })
    .await;
    let got = reports(&desk);
    let subjects: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            subject("01.09.2026 — 30.09.2026"),
            subject("01.10.2026 — 31.10.2026"),
            subject("01.11.2026 — 30.11.2026"),
        ]
    );

    // The October letter: HTML, text, and the CSV with the ticket.
    let msg = MessageParser::default().parse(&got[1].1).expect("parses");
    let text = msg.body_text(0).expect("a text part");
    assert!(text.contains("Поступило обращений: 1"), "{text}");
    let html = msg.body_html(0).expect("an HTML part");
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "{html}"
    );
    let csv = msg
        .attachments()
        .find(|a| a.attachment_name() == Some("tickets-2026-10.csv"))
        .expect("the CSV attached");
    let rows = ticketd::report::csv::parse(&String::from_utf8_lossy(csv.contents()));
    assert_eq!(rows.len(), 2, "header and the one ticket: {rows:?}");
    assert_eq!(rows[1][0], "TP-2026-000001");
    // September's has no ticket.
    let sept = MessageParser::default().parse(&got[0].1).expect("parses");
    assert!(sept
        .body_text(0)
        .expect("text")
        .contains("Поступило обращений: 0"));
}
