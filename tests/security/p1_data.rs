//! Property 1: a letter that lists or echoes a requester's tickets or form
//! goes only to the requester's own address (the From of the letter that
//! opened the ticket); a differing Reply-To gets at most a short notice
//! without personal data.

use super::*;

const ATTACKER: &str = "attacker@evil.example";

#[test]
fn p1_status_lists_and_echoed_forms_go_to_from_only() {
    let desk = secured("dmarc");
    let id = open_ticket(&desk, &pass_for(USER), USER, APPEAL);
    // (the letter, the case it guards)
    let cases = [
        (
            letter(
                &pass_for(USER),
                USER,
                SUPPORT,
                "статус",
                &format!("Reply-To: {ATTACKER}\r\n"),
                "",
            ),
            "статус with From victim, Reply-To attacker: the list must not go to the attacker",
        ),
        (
            letter(
                &pass_for(USER),
                USER,
                SUPPORT,
                "Принтер",
                &format!("Reply-To: {ATTACKER}\r\n"),
                APPEAL,
            ),
            "a new appeal with Reply-To attacker: the form is echoed to From only",
        ),
    ];
    for (raw, what) in cases {
        ingest(&desk, &raw);
        for (kind, body) in to_addr(&desk, ATTACKER) {
            assert_eq!(kind, "reply_to_notice", "{what}: only a short notice");
            // The threading headers carry random Message-IDs («…b2730569…»
            // holds a `305`): not data.
            let body: String = body
                .lines()
                .filter(|l| {
                    !["Message-ID:", "In-Reply-To:", "References:"]
                        .iter()
                        .any(|h| l.starts_with(h))
                })
                .collect::<Vec<_>>()
                .join("\n");
            for secret in [id.as_str(), "55-12-34", "551234", "Иванова", "305", USER] {
                assert!(
                    !body.contains(secret),
                    "{what}: `{secret}` reached the Reply-To address:\n{body}"
                );
            }
        }
    }
    let mine = to_addr(&desk, USER);
    assert!(
        mine.iter()
            .any(|(k, b)| k == "status_list" && b.contains(&id)),
        "the list went to the requester's own address"
    );
    assert_eq!(
        mine.iter().filter(|(k, _)| k == "confirmation").count(),
        2,
        "both registrations went to From: {:?}",
        mine.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
}
