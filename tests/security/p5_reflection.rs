//! Property 5: at most `[loops] max_auto_per_address_per_day` automatic
//! letters go to one address (all tickets), and at most
//! `[loops] max_new_tickets_per_sender_per_hour` new tickets are opened
//! from one sender or one Reply-To; beyond that, letters are quarantined
//! with the reason, visible in `status`.

use super::*;

const TARGET: &str = "target@victim.example";

fn bounded(per_address: i64, per_sender: i64) -> TestDesk {
    TestDesk::with(|cfg| {
        set(
            cfg,
            "loops",
            "max_auto_per_address_per_day",
            per_address.into(),
        );
        set(
            cfg,
            "loops",
            "max_new_tickets_per_sender_per_hour",
            per_sender.into(),
        );
    })
}

#[test]
fn p5_automatic_letters_to_one_address_are_bounded_over_all_tickets() {
    // (sender of each letter, Reply-To, subject, case)
    type Shape = fn(usize) -> (String, String, &'static str);
    let cases: Vec<(Shape, &str)> = vec![
        (
            |_| (TARGET.to_string(), String::new(), "Принтер"),
            "one address opening ticket after ticket (each letter a new ticket)",
        ),
        (
            |_| (TARGET.to_string(), String::new(), "статус"),
            "`статус` requests are counted too",
        ),
        (
            |i| {
                (
                    format!("bot{i}@spam.example"),
                    format!("Reply-To: {TARGET}\r\n"),
                    "Принтер",
                )
            },
            "many senders naming the target in Reply-To",
        ),
    ];
    for (shape, what) in cases {
        let desk = bounded(3, 0);
        for i in 0..6 {
            let (from, extra, subject) = shape(i);
            let body = if subject == "статус" {
                ""
            } else {
                APPEAL
            };
            ingest(&desk, &letter("", &from, SUPPORT, subject, &extra, body));
        }
        let got = to_addr(&desk, TARGET).len();
        assert!(got <= 3, "{what}: {got} letters to the target");
        assert!(got >= 1, "{what}: the first letters still go");
        // The desk's lines are exempt.
        let routed = to_addr(&desk, "line2@sed.example.org").len();
        if subject_is_appeal(shape) {
            assert!(routed >= 6, "{what}: the line got every ticket ({routed})");
        }
    }
}

fn subject_is_appeal(shape: fn(usize) -> (String, String, &'static str)) -> bool {
    shape(0).2 != "статус"
}

#[test]
fn p5_new_tickets_per_sender_or_reply_to_are_bounded_and_quarantined() {
    // (sender of letter i, Reply-To of letter i, case)
    type Shape = fn(usize) -> (String, String);
    let cases: Vec<(Shape, &str)> = vec![
        (
            |_| ("flood@spam.example".into(), String::new()),
            "one sender",
        ),
        (
            |i| {
                (
                    format!("bot{i}@spam.example"),
                    format!("Reply-To: {TARGET}\r\n"),
                )
            },
            "one Reply-To behind many senders",
        ),
    ];
    for (shape, what) in cases {
        let desk = bounded(100, 2);
        let outcomes: Vec<String> = (0..4)
            .map(|i| {
                let (from, extra) = shape(i);
                let r = ingest(
                    &desk,
                    &letter("", &from, SUPPORT, "Принтер", &extra, APPEAL),
                );
                if r["outcome"] == "quarantined" {
                    assert!(
                        r["reason"]
                            .as_str()
                            .unwrap()
                            .contains("max_new_tickets_per_sender_per_hour"),
                        "{what}: {r}"
                    );
                }
                r["outcome"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(
            outcomes,
            ["created", "created", "quarantined", "quarantined"],
            "{what}"
        );
        let out = desk.run(&["status"], None);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("rate limit") && text.contains('2'),
            "{what}: visible in status:\n{text}"
        );
    }
}
