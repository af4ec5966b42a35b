//! A new appeal through a mailbox (issue 17): the ticket records the
//! mailbox, and a route's `via_mailbox` condition matches it.

use super::fixture::*;
use super::tests_appeal::{appeal, routed_wf};
use super::*;
use crate::workflow::rules::Conditions;

#[test]
fn the_mailbox_is_recorded_and_routes_match_on_it() {
    let mut wf = routed_wf();
    // The printers route only for letters through "tula".
    wf.routes[0].when = Conditions {
        words: vec!["принтер".into()],
        via_mailbox: vec!["tula".into()],
        ..Conditions::default()
    };
    let fresh = TicketState {
        id: "SD-9".into(),
        status: Status::New,
        line: Line::First,
        priority: String::new(),
        kind: Kind::Consultation,
        assignee: None,
        requester: REQUESTER.into(),
        routed: false,
        form: Default::default(),
        subject: "Принтер".into(),
        has_files: false,
        via_mailbox: None,
    };
    // (the mailbox the letter came through, the line it is routed to)
    let cases = [
        (Some("tula"), Some(Line::Second)),
        (Some("main"), None),
        (None, None),
    ];
    for (via, line) in cases {
        let a = Appeal {
            via_mailbox: via.map(str::to_string),
            ..appeal(full_form())
        };
        let e = decide(&Event::NewAppeal(Box::new(a)), &fresh, &context(&wf, true));
        assert_eq!(e.fields.mailbox.as_deref(), via, "{via:?}");
        assert_eq!(e.fields.line, line, "{via:?}: {:?}", e.history);
    }
}
