//! Property 2: with `[security] authserv_id`, an engineer's command, a
//! confirmation, a form completion and a `статус` request need the From
//! domain to pass by the Authentication-Results our MTA wrote (the topmost
//! ones); otherwise they are refused, recorded, and the sender gets nothing
//! with data. Without authserv_id: as before, and check-config warns.

use super::*;

const LMTP: &str =
    "Received: from mx.test by imap.test with LMTP; Mon, 2 Mar 2026 10:00:00 +0300\r\n";
const OURS: &str = "Received: from client.example by mx.test (Postfix) with ESMTP; Mon, 2 Mar 2026 10:00:00 +0300\r\n";

/// (name, trace headers above From, extra headers below From, passes?)
fn variants(from: &str) -> Vec<(&'static str, String, String, bool)> {
    let d = from.rsplit_once('@').unwrap().1;
    let pass = ar(&format!("dmarc=pass header.from={d}"));
    vec![
        ("no Authentication-Results at all", String::new(), String::new(), false),
        ("ours says dmarc=fail", format!("{LMTP}{}{OURS}", ar(&format!("dmarc=fail header.from={d}"))), String::new(), false),
        ("ours says none", format!("{LMTP}{}{OURS}", ar("none")), String::new(), false),
        ("ours none, a forged pass below our Received", format!("{LMTP}{}{OURS}{pass}", ar("none")), String::new(), false),
        ("only a forged pass among the letter's own headers", format!("{LMTP}{OURS}"), pass.clone(), false),
        ("a pass by another authserv-id", format!("{LMTP}Authentication-Results: mx.evil.example; dmarc=pass header.from={d}\r\n{OURS}"), String::new(), false),
        ("a pass for another domain", format!("{LMTP}{}{OURS}", ar("dmarc=pass header.from=evil.example")), String::new(), false),
        ("ours says dmarc=pass", format!("{LMTP}{pass}{OURS}"), String::new(), true),
    ]
}

/// A ticket on the 2nd line; its id and proof address.
fn routed(desk: &TestDesk) -> (String, String) {
    let id = open_ticket(desk, &pass_for(USER), USER, APPEAL);
    let p = proof(desk, &id);
    (id, p)
}

fn command(
    desk: &TestDesk,
    id: &str,
    proof: &str,
    trace: &str,
    extra: &str,
    status: &str,
) -> Value {
    ingest(
        desk,
        &letter(
            trace,
            ENG,
            proof,
            &format!("Re: [{id}] Принтер"),
            extra,
            &format!("Статус: {status}\r\n\r\nУточните модель принтера."),
        ),
    )
}

#[test]
fn p2_engineer_commands_need_an_authenticated_sender() {
    let desk = secured("dmarc");
    for (what, trace, extra, ok) in variants(ENG) {
        let (id, p) = routed(&desk);
        let before = to_addr(&desk, ENG).len();
        command(&desk, &id, &p, &trace, &extra, "Действие пользователя");
        let t = show(&desk, &id);
        let want = if ok { "awaiting_user" } else { "assigned" };
        assert_eq!(t["status"], want, "{what}");
        if !ok {
            assert!(
                actions(&t).contains(&"command_refused".to_string()),
                "{what}: the refusal is recorded"
            );
            assert_eq!(
                to_addr(&desk, ENG).len(),
                before,
                "{what}: nothing sent to the sender"
            );
        }
    }
}

#[test]
fn p2_confirmations_completions_and_status_requests_need_it_too() {
    let desk = secured("dmarc");
    for (what, trace, extra, ok) in variants(USER) {
        // A confirmation of a proposed solution.
        let (id, p) = routed(&desk);
        command(&desk, &id, &p, &pass_for(ENG), "", "Предложено решение");
        assert_eq!(show(&desk, &id)["status"], "solution_proposed");
        let r = ingest(
            &desk,
            &letter(
                &trace,
                USER,
                SUPPORT,
                &format!("Re: [{id}] Принтер"),
                &extra,
                "Подтверждаю",
            ),
        );
        let want = if ok { "confirmed" } else { "solution_proposed" };
        assert_eq!(
            show(&desk, &id)["status"],
            want,
            "confirmation: {what} ({r})"
        );

        // A form completion.
        let inc = open_ticket(&desk, &pass_for(USER), USER, INCOMPLETE);
        ingest(
            &desk,
            &letter(
                &trace,
                USER,
                SUPPORT,
                &format!("Re: [{inc}] Принтер"),
                &extra,
                "Телефон: 8 (4012) 55-12-34\r\nЭтаж: 3",
            ),
        );
        let t = show(&desk, &inc);
        assert_eq!(t["phone"].is_null(), !ok, "completion: {what}");
        assert_eq!(t["status"] == "awaiting_user", !ok, "completion: {what}");

        // A status request.
        let lists = |d: &TestDesk| {
            to_addr(d, USER)
                .iter()
                .filter(|(k, _)| k == "status_list")
                .count()
        };
        let before = lists(&desk);
        let r = ingest(&desk, &letter(&trace, USER, SUPPORT, "статус", &extra, ""));
        assert_eq!(
            lists(&desk) - before,
            usize::from(ok),
            "статус: {what} ({r})"
        );
    }
}

#[test]
fn p2_dkim_or_spf_takes_an_aligned_dkim_or_spf_pass() {
    let desk = secured("dkim_or_spf");
    // (results, applied?, case)
    let cases = [
        (
            "dkim=pass header.d=sed.example.org; dmarc=none",
            true,
            "aligned DKIM",
        ),
        (
            "spf=pass smtp.mailfrom=eng1@sed.example.org; dkim=none",
            true,
            "aligned SPF",
        ),
        (
            "dkim=pass header.d=evil.example; spf=fail smtp.mailfrom=x@evil.example",
            false,
            "DKIM of another domain",
        ),
        (
            "spf=softfail smtp.mailfrom=eng1@sed.example.org",
            false,
            "SPF softfail",
        ),
    ];
    for (results, ok, what) in cases {
        let (id, p) = routed(&desk);
        command(
            &desk,
            &id,
            &p,
            &format!("{LMTP}{}{OURS}", ar(results)),
            "",
            "Действие пользователя",
        );
        let want = if ok { "awaiting_user" } else { "assigned" };
        assert_eq!(show(&desk, &id)["status"], want, "{what}");
    }
}

#[test]
fn p2_without_authserv_id_from_is_taken_as_before_and_check_config_warns() {
    let desk = TestDesk::with(unbounded);
    let (id, p) = routed(&desk);
    command(&desk, &id, &p, "", "", "Действие пользователя");
    assert_eq!(
        show(&desk, &id)["status"],
        "awaiting_user",
        "no header needed"
    );
    let out = desk.run(&["check-config"], None);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("security.authserv_id"),
        "check-config warns: {err}"
    );
    let quiet = secured("dmarc").run(&["check-config"], None);
    // The example-value check (issue 19) may still name the key's reserved
    // test domain; the warning about From alone must be gone.
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("authserv_id is not set"));
    let bad = TestDesk::with(|cfg| set(cfg, "security", "require", "spf".into()));
    let out = bad.run(&["check-config"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("config.toml:") && err.contains("dkim_or_spf"),
        "a bad require names file:line:key: {err}"
    );
}
