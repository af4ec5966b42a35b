//! What an incoming letter is for the desk: a new appeal, a follow-up of an
//! existing ticket, something never to answer, or something to keep aside.

/// What the pipeline knows about a letter when deciding.
#[derive(Debug, Clone, Default)]
pub struct IntakeFacts<'a> {
    /// The sender's address (From), `None` when there is no usable one.
    pub from: Option<&'a str>,
    /// Why the letter is machine-generated, if it is (rule 9).
    pub machine: Option<&'a str>,
    /// The desk's own address and the line mailboxes: never new appeals.
    pub own_addresses: &'a [String],
    /// The line mailboxes (among `own_addresses`): a letter from one about
    /// a ticket is a follow-up (a line answering from its shared mailbox;
    /// it acts only with a valid proof), never a new appeal.
    pub line_mailboxes: &'a [String],
    /// An existing ticket tagged in the subject.
    pub tagged_ticket: Option<&'a str>,
    /// An existing ticket this letter answers (In-Reply-To / References).
    pub threaded_ticket: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// Keep aside with the reason: it cannot become a ticket.
    Quarantine(String),
    /// Record and answer nothing.
    Ignore(String),
    /// A new appeal.
    New,
    /// A letter about an existing ticket.
    FollowUp(String),
}

/// Decide. Order matters: machine mail is never answered even when it
/// carries a ticket tag (rule 9), and a bounce is a bounce even when its
/// From cannot be read; a letter without a sender cannot be answered or
/// attributed (quarantine); our own letters coming back are loops.
pub fn decide(f: &IntakeFacts<'_>) -> Intake {
    if let Some(why) = f.machine {
        return Intake::Ignore(why.to_string());
    }
    let Some(from) = f.from else {
        return Intake::Quarantine("no usable sender address in From".into());
    };
    // Own addresses with any plus-tag are own (`support+x@`, `line1+y@`).
    let me = super::address::without_plus_tag(from);
    if let Some(t) = f.tagged_ticket.filter(|_| {
        f.line_mailboxes
            .iter()
            .any(|a| super::address::without_plus_tag(a) == me)
    }) {
        return Intake::FollowUp(t.to_string());
    }
    if f.own_addresses
        .iter()
        .any(|a| super::address::without_plus_tag(a) == me)
    {
        return Intake::Ignore(format!("loop: sent from our own address {from}"));
    }
    match f.tagged_ticket.or(f.threaded_ticket) {
        Some(t) => Intake::FollowUp(t.to_string()),
        None => Intake::New,
    }
}

/// Why a new appeal gets no automatic answer, if it does not: its
/// `Auto-Submitted` keyword (`auto-forwarded`, or any value other than
/// `no`; the values that make machine mail never reach here). RFC 3834 §2
/// forbids answering such a letter automatically, not reading it.
pub fn no_auto_answer(auto_submitted: Option<&str>) -> Option<String> {
    let v = auto_submitted?.trim();
    (!v.is_empty() && !v.eq_ignore_ascii_case("no")).then(|| {
        format!("Auto-Submitted: {v}: registered without an automatic answer (RFC 3834 §2)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_answers() {
        let cases = [
            (None, false),
            (Some("no"), false),
            (Some("auto-forwarded"), true),
            (Some("auto-generated-by-rule"), true),
        ];
        for (v, silent) in cases {
            assert_eq!(no_auto_answer(v).is_some(), silent, "{v:?}");
        }
        assert!(no_auto_answer(Some("auto-forwarded"))
            .is_some_and(|r| r.contains("Auto-Submitted: auto-forwarded")));
    }

    #[test]
    fn a_line_mailbox_answers_about_a_tagged_ticket_only() {
        let own = vec![
            "support@sed.example.org".to_string(),
            "line2@sed.example.org".to_string(),
        ];
        let lines = vec!["line2@sed.example.org".to_string()];
        let f = IntakeFacts {
            from: Some("line2@sed.example.org"),
            own_addresses: &own,
            line_mailboxes: &lines,
            tagged_ticket: Some("TP-2026-000001"),
            ..Default::default()
        };
        assert_eq!(decide(&f), Intake::FollowUp("TP-2026-000001".into()));
        let untagged = IntakeFacts {
            tagged_ticket: None,
            ..f.clone()
        };
        assert!(matches!(decide(&untagged), Intake::Ignore(_)));
        let support = IntakeFacts {
            from: Some("support@sed.example.org"),
            ..f.clone()
        };
        assert!(matches!(decide(&support), Intake::Ignore(_)));
        let auto = IntakeFacts {
            machine: Some("auto-submitted"),
            ..f
        };
        assert!(matches!(decide(&auto), Intake::Ignore(_)));
    }

    #[test]
    fn decisions() {
        let own = vec!["support@sed.example.org".to_string()];
        let base = IntakeFacts {
            from: Some("user@example.com"),
            own_addresses: &own,
            ..Default::default()
        };
        let cases: Vec<(IntakeFacts, Intake)> = vec![
            (base.clone(), Intake::New),
            (
                IntakeFacts {
                    from: None,
                    ..base.clone()
                },
                Intake::Quarantine("no usable sender address in From".into()),
            ),
            (
                IntakeFacts {
                    machine: Some("auto-submitted"),
                    tagged_ticket: Some("TP-2026-000001"),
                    ..base.clone()
                },
                Intake::Ignore("auto-submitted".into()),
            ),
            (
                IntakeFacts {
                    from: None,
                    machine: Some("delivery report"),
                    ..base.clone()
                },
                Intake::Ignore("delivery report".into()),
            ),
            (
                IntakeFacts {
                    from: Some("SUPPORT@sed.example.org"),
                    ..base.clone()
                },
                Intake::Ignore("loop: sent from our own address SUPPORT@sed.example.org".into()),
            ),
            (
                IntakeFacts {
                    tagged_ticket: Some("TP-2026-000001"),
                    ..base.clone()
                },
                Intake::FollowUp("TP-2026-000001".into()),
            ),
            (
                IntakeFacts {
                    threaded_ticket: Some("TP-2026-000002"),
                    ..base.clone()
                },
                Intake::FollowUp("TP-2026-000002".into()),
            ),
            (
                IntakeFacts {
                    tagged_ticket: Some("TP-2026-000001"),
                    threaded_ticket: Some("TP-2026-000002"),
                    ..base.clone()
                },
                Intake::FollowUp("TP-2026-000001".into()),
            ),
        ];
        for (facts, want) in cases {
            assert_eq!(decide(&facts), want, "{facts:?}");
        }
    }
}
