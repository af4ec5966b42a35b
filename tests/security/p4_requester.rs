//! Property 4: only the requester changes their ticket's form and confirms
//! it; a reply from another address is a comment for the line, changes no
//! field and no status, and the requester is told nothing.

use super::*;

const STRANGER: &str = "stranger@evil.example";

#[test]
fn p4_another_address_only_comments() {
    let desk = secured("dmarc");
    // (ticket state to start from, the stranger's body, case)
    let cases = [
        (
            "awaiting_user",
            "Телефон: 8 (999) 000-00-00\r\nЭтаж: 9",
            "a stranger fills in the missing fields of someone else's ticket",
        ),
        (
            "solution_proposed",
            "Подтверждаю",
            "a stranger confirms someone else's solution",
        ),
        (
            "assigned",
            "Всё уже работает, закрывайте.",
            "a stranger writes more",
        ),
    ];
    for (state, body, what) in cases {
        let id = match state {
            "awaiting_user" => open_ticket(&desk, &pass_for(USER), USER, INCOMPLETE),
            _ => open_ticket(&desk, &pass_for(USER), USER, APPEAL),
        };
        if state == "solution_proposed" {
            let p = proof(&desk, &id);
            ingest(
                &desk,
                &letter(
                    &pass_for(ENG),
                    ENG,
                    &p,
                    &format!("Re: [{id}]"),
                    "",
                    "Статус: Предложено решение\r\n\r\nПереустановите драйвер.",
                ),
            );
        }
        let before = show(&desk, &id);
        assert_eq!(before["status"], state, "{what}: setup");
        let to_user = to_addr(&desk, USER).len();
        let r = ingest(
            &desk,
            &letter(
                &pass_for(STRANGER),
                STRANGER,
                SUPPORT,
                &format!("Re: [{id}] Принтер"),
                "",
                body,
            ),
        );
        assert_eq!(r["outcome"], "updated", "{what}: recorded on the ticket");
        let after = show(&desk, &id);
        for field in ["status", "phone", "floor", "location", "full_name", "line"] {
            assert_eq!(after[field], before[field], "{what}: `{field}` unchanged");
        }
        assert_eq!(
            to_addr(&desk, USER).len(),
            to_user,
            "{what}: the requester is told nothing"
        );
        assert!(
            to_addr(&desk, "line1@sed.example.org")
                .iter()
                .chain(to_addr(&desk, "line2@sed.example.org").iter())
                .any(|(k, b)| (k == "from_user" || k == "notice")
                    && b.contains(STRANGER)
                    && b.contains(&id)),
            "{what}: the line gets it as a comment"
        );
        assert!(
            to_addr(&desk, STRANGER).is_empty(),
            "{what}: the stranger gets nothing"
        );
    }
}
