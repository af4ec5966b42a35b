//! Property 3: a proof is bound to the ticket, the line and the assignment
//! it was issued for, must sit in the delivered-to address of our own
//! domain, and the same command again within `[commands] replay_window` is
//! a duplicate answered once.

use super::*;

fn reply(id: &str, trace: &str, to: &str, extra: &str, body: &str) -> Vec<u8> {
    letter(
        &format!("{trace}{}", pass_for(ENG)),
        ENG,
        to,
        &format!("Re: [{id}] Принтер"),
        extra,
        body,
    )
}

const ASK: &str = "Статус: Действие пользователя\r\n\r\nУточните модель принтера.";

fn relayed(desk: &TestDesk) -> usize {
    to_addr(desk, USER)
        .iter()
        .filter(|(k, _)| k == "to_user")
        .count()
}

#[test]
fn p3_the_same_command_again_is_a_duplicate_answered_once() {
    // (replay_window, second letter's body, applied again?, case)
    let cases = [
        (
            None,
            ASK,
            false,
            "resent with a new Message-ID within the default 7d",
        ),
        (
            None,
            "Статус:  Действие пользователя\r\n\r\nУточните   модель принтера.\r\n",
            false,
            "resent with other spacing",
        ),
        (
            None,
            "Статус: Действие пользователя\r\n\r\nИ ещё: какой у вас компьютер?",
            true,
            "the same status with a new question is a new command",
        ),
        (
            Some("0"),
            ASK,
            true,
            "replay_window = \"0\" turns the check off",
        ),
    ];
    for (window, second, again, what) in cases {
        let desk = TestDesk::with(|cfg| {
            set(cfg, "security", "authserv_id", MX.into());
            unbounded(cfg);
            if let Some(w) = window {
                set(cfg, "commands", "replay_window", w.into());
            }
        });
        let id = open_ticket(&desk, &pass_for(USER), USER, APPEAL);
        let p = proof(&desk, &id);
        let r = ingest(&desk, &reply(&id, "", &p, "", ASK));
        assert_eq!(r["outcome"], "updated", "{what}");
        assert_eq!(relayed(&desk), 1, "{what}");
        // The user answers; the ticket is back in work.
        ingest(
            &desk,
            &letter(
                &pass_for(USER),
                USER,
                SUPPORT,
                &format!("Re: [{id}]"),
                "",
                "HP 1020",
            ),
        );
        let r = ingest(&desk, &reply(&id, "", &p, "", second));
        assert_eq!(r["outcome"] == "duplicate", !again, "{what}: {r}");
        assert_eq!(relayed(&desk), 1 + usize::from(again), "{what}");
        let want = if again { "awaiting_user" } else { "assigned" };
        assert_eq!(show(&desk, &id)["status"], want, "{what}");
    }
    let bad = TestDesk::with(|cfg| set(cfg, "commands", "replay_window", "soon".into()));
    let out = bad.run(&["check-config"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("commands.replay_window")
            && err.contains("config.toml:"),
        "{err}"
    );
}

#[test]
fn p3_proofs_sit_in_our_delivered_to_address_and_die_on_rerouting() {
    let desk = secured("dmarc");
    // (how the reply is addressed, applied?, case)
    type Addr = fn(&str, &str) -> (String, String, String);
    let cases: Vec<(Addr, bool, &str)> = vec![
        (
            |_, p| (String::new(), p.to_string(), String::new()),
            true,
            "proof in To, no Delivered-To (as before)",
        ),
        (
            |_, p| {
                (
                    format!("Delivered-To: {p}\r\n"),
                    SUPPORT.into(),
                    String::new(),
                )
            },
            true,
            "proof in the topmost Delivered-To",
        ),
        (
            |_, p| {
                (
                    format!("X-Original-To: {p}\r\nDelivered-To: support@sed.example.org\r\n"),
                    SUPPORT.into(),
                    String::new(),
                )
            },
            true,
            "proof in the topmost X-Original-To",
        ),
        (
            |_, p| {
                (
                    format!("Delivered-To: {SUPPORT}\r\n"),
                    SUPPORT.into(),
                    format!("Cc: {p}\r\n"),
                )
            },
            false,
            "delivered to the bare address, the proof only in Cc",
        ),
        (
            |_, p| {
                (
                    format!("Delivered-To: {SUPPORT}\r\nDelivered-To: {p}\r\n"),
                    SUPPORT.into(),
                    String::new(),
                )
            },
            false,
            "the proof in a lower Delivered-To (not ours)",
        ),
        (
            |_, p| {
                (
                    String::new(),
                    p.replace("sed.example.org", "evil.example"),
                    String::new(),
                )
            },
            false,
            "the proof with another domain",
        ),
        (
            |_, p| {
                (
                    String::new(),
                    p.replace("support+", "sales+"),
                    String::new(),
                )
            },
            false,
            "the proof with another local part",
        ),
    ];
    for (addr, ok, what) in cases {
        let id = open_ticket(&desk, &pass_for(USER), USER, APPEAL);
        let p = proof(&desk, &id);
        let (trace, to, extra) = addr(&id, &p);
        ingest(&desk, &reply(&id, &trace, &to, &extra, ASK));
        let want = if ok { "awaiting_user" } else { "assigned" };
        assert_eq!(show(&desk, &id)["status"], want, "{what}");
    }

    // Re-routing kills the old proof: moved to line 3, then back by the
    // line-3 engineer; line 2's first proof is dead, the new one works.
    let id = open_ticket(&desk, &pass_for(USER), USER, APPEAL);
    let old = proof(&desk, &id);
    ingest(&desk, &reply(&id, "", &old, "", "Линия: 3"));
    assert_eq!(show(&desk, &id)["line"], 3);
    let dev = "dev1@dev.example.org";
    let p3 = proof(&desk, &id);
    ingest(
        &desk,
        &letter(
            &pass_for(dev),
            dev,
            &p3,
            &format!("Re: [{id}]"),
            "",
            "Линия: 2",
        ),
    );
    assert_eq!(show(&desk, &id)["line"], 2);
    ingest(&desk, &reply(&id, "", &old, "", ASK));
    assert_eq!(
        show(&desk, &id)["status"],
        "assigned",
        "the proof of the first routing is dead"
    );
    let new = proof(&desk, &id);
    assert_ne!(new, old);
    ingest(&desk, &reply(&id, "", &new, "", ASK));
    assert_eq!(
        show(&desk, &id)["status"],
        "awaiting_user",
        "the new proof works"
    );

    // Re-assignment kills it too.
    let id = open_ticket(&desk, &pass_for(USER), USER, APPEAL);
    let old = proof(&desk, &id);
    ingest(
        &desk,
        &reply(&id, "", &old, "", "Исполнитель: eng2@sed.example.org"),
    );
    assert_eq!(show(&desk, &id)["assignee"], "eng2@sed.example.org");
    ingest(&desk, &reply(&id, "", &old, "", ASK));
    assert_eq!(
        show(&desk, &id)["status"],
        "assigned",
        "issued before the re-assignment"
    );
    let new = proof(&desk, &id);
    ingest(&desk, &reply(&id, "", &new, "", ASK));
    assert_eq!(
        show(&desk, &id)["status"],
        "awaiting_user",
        "the letter of the re-assignment carries a fresh proof"
    );
}
