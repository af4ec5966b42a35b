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

/// Decide. Order matters: a letter without a sender cannot be answered or
/// attributed (quarantine); machine mail is never answered even when it
/// carries a ticket tag (rule 9); our own letters coming back are loops.
pub fn decide(f: &IntakeFacts<'_>) -> Intake {
    let Some(from) = f.from else {
        return Intake::Quarantine("no usable sender address in From".into());
    };
    if let Some(why) = f.machine {
        return Intake::Ignore(why.to_string());
    }
    // Own addresses with any plus-tag are own (`support+x@`, `line1+y@`).
    let me = super::address::without_plus_tag(from);
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

#[cfg(test)]
mod tests {
    use super::*;

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
