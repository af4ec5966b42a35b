//! Table tests of [`decide`] for a new appeal and the answer that
//! completes a form: event + state → the effects, whole. Every event × every
//! status against the transition table: `tests_sweep.rs`.

use super::fixture::*;
use super::*;
use crate::workflow::route::{RouteAction, RouteRule};
use crate::workflow::rules::{Conditions, RuleRef, TicketFacts};
use Status::*;

const MAILBOX2: &str = "line2@sed.example.org";
const PHONE_DESK: &str = "op1@sed.example.org";

/// [`wf`] with one route: printers go to the 2nd line.
pub(super) fn routed_wf() -> Workflow {
    let mut wf = wf();
    wf.routes = vec![RouteRule {
        at: RuleRef {
            index: 1,
            name: Some("printers".into()),
            config_line: 120,
        },
        when: Conditions {
            words: vec!["принтер".into()],
            ..Conditions::default()
        },
        then: RouteAction {
            line: Line::Second,
            mailbox: MAILBOX2.into(),
            assignee: None,
            priority: None,
        },
    }];
    wf
}

pub(super) fn decide_on(wf: &Workflow, event: &Event, state: &TicketState) -> Effects {
    decide(event, state, &context(wf, true))
}

/// The classification's words with no `[[classify]]` rules.
fn classified() -> String {
    format!(
        "вид «{}» — по умолчанию; приоритет «high» — по умолчанию",
        Kind::Consultation.display_name()
    )
}

/// The route rule's own words for a printer appeal.
fn printers_why() -> String {
    let facts = TicketFacts {
        kind: Kind::Consultation,
        priority: "high".into(),
        organization: None,
        sender: REQUESTER.into(),
        subject: "Принтер".into(),
        description: "Не печатает принтер".into(),
        has_attachments: false,
    };
    routed_wf().route(&facts).unwrap().explain()
}

/// A fresh ticket, as the pipeline hands it to [`decide`].
fn fresh() -> TicketState {
    TicketState {
        id: "SD-7".into(),
        status: New,
        line: Line::First,
        priority: String::new(),
        kind: Kind::Consultation,
        assignee: None,
        requester: REQUESTER.into(),
        routed: false,
        form: Form::default(),
        subject: "Принтер".into(),
        has_files: false,
    }
}

pub(super) fn appeal(form: Form) -> Appeal {
    Appeal {
        requester: REQUESTER.into(),
        subject: "Принтер".into(),
        form,
        text: "Добрый день!\nНе печатает принтер".into(),
        has_files: false,
        auto_submitted: None,
        answerable: true,
        other_reply_to: None,
        related: None,
        registered_by: None,
        opened: None,
    }
}

pub(super) fn new_appeal(a: Appeal) -> Event {
    Event::NewAppeal(Box::new(a))
}

/// The fields every registered appeal gets.
fn registered(form: Form) -> Fields {
    Fields {
        kind: Some(Kind::Consultation),
        priority: Some("high".into()),
        deadline: Some(wf().deadline(now(), "high")),
        form: Some(form),
        ..Fields::default()
    }
}

fn created(by: &str, to: Status, detail: &str) -> Entry {
    Entry {
        to: Some(to.machine_name().to_string()),
        ..Entry::new(by, "created", detail)
    }
}

fn to_line2(id: &str) -> (Vec<Entry>, Vec<Letter>) {
    let why = printers_why();
    let lead = format!("Обращение {id} направлено на линию 2 ({why}).");
    (
        vec![
            entry(
                "system",
                "status",
                Some(New),
                Some(Assigned),
                "передано на линию 2",
            ),
            Entry::new("system", "routed", why),
        ],
        vec![
            Letter::Routed {
                line: Line::Second,
                mailbox: MAILBOX2.into(),
                lead: lead.clone(),
            },
            Letter::CopyToFirstLine { text: lead },
        ],
    )
}

#[test]
fn a_new_appeal_table() {
    let plain = wf();
    let routes = routed_wf();
    let mut short = full_form();
    short.full_name = None;
    short.phone = None;
    let missing = vec![crate::parse::Field::FullName, crate::parse::Field::Phone];
    let (route_rows, route_letters) = to_line2("SD-7");
    let auto =
        "Auto-Submitted: auto-forwarded: registered without an automatic answer (RFC 3834 §2)";
    let rows: Vec<(&str, &Workflow, Appeal, Effects)> =
        vec![
        (
            "complete, no route: registered on the 1st line, the requester told",
            &plain,
            appeal(full_form()),
            Effects {
                fields: registered(full_form()),
                history: vec![created(REQUESTER, New, &classified())],
                letters: vec![Letter::Registration { missing: vec![] }],
                ..Effects::default()
            },
        ),
        (
            "fields missing: awaiting the user, who is asked for them (п. 94); not routed",
            &routes,
            appeal(short.clone()),
            Effects {
                fields: registered(short.clone()),
                transition: Some(Transition {
                    from: New,
                    to: AwaitingUser,
                    actor: Actor::System,
                }),
                history: vec![created(
                    REQUESTER,
                    AwaitingUser,
                    &format!("{}; не хватает: Ф.И.О., телефон", classified()),
                )],
                letters: vec![Letter::Registration {
                    missing: missing.clone(),
                }],
                ..Effects::default()
            },
        ),
        (
            "complete and a route: assigned to the 2nd line, routed, the 1st line copied",
            &routes,
            appeal(full_form()),
            Effects {
                fields: Fields {
                    line: Some(Line::Second),
                    ..registered(full_form())
                },
                transition: Some(Transition {
                    from: New,
                    to: Assigned,
                    actor: Actor::System,
                }),
                history: [vec![created(REQUESTER, New, &classified())], route_rows.clone()]
                    .concat(),
                letters: [
                    route_letters.clone(),
                    vec![Letter::Registration { missing: vec![] }],
                ]
                .concat(),
                ..Effects::default()
            },
        ),
        (
            "an automatic letter: routed, answered with nothing, the row after the routed letter",
            &routes,
            Appeal {
                auto_submitted: Some("auto-forwarded".into()),
                other_reply_to: Some("list@example.org".into()),
                ..appeal(full_form())
            },
            Effects {
                fields: Fields {
                    line: Some(Line::Second),
                    ..registered(full_form())
                },
                transition: Some(Transition {
                    from: New,
                    to: Assigned,
                    actor: Actor::System,
                }),
                history: [vec![created(REQUESTER, New, &classified())], route_rows.clone()]
                    .concat(),
                letters: route_letters.clone(),
                after_letters: vec![Entry::new("system", "no_auto_answer", auto)],
                ..Effects::default()
            },
        ),
        (
            "a Reply-To naming someone else: told that the desk answers From",
            &plain,
            Appeal {
                other_reply_to: Some("list@example.org".into()),
                ..appeal(full_form())
            },
            Effects {
                fields: registered(full_form()),
                history: vec![created(REQUESTER, New, &classified())],
                letters: vec![
                    Letter::ReplyToNotice {
                        to: "list@example.org".into(),
                    },
                    Letter::Registration { missing: vec![] },
                ],
                ..Effects::default()
            },
        ),
        (
            "a phone call taken down: the engineer registers it and is told; no flood bound",
            &plain,
            Appeal {
                requester: String::new(),
                answerable: false,
                registered_by: Some(Registrar {
                    engineer: PHONE_DESK.into(),
                    message_id: Some("<call-1@sed.example.org>".into()),
                }),
                opened: Some(Opened {
                    by_sender: 1000,
                    reply_to: None,
                    by_reply_to: 0,
                }),
                ..appeal(short.clone())
            },
            Effects {
                fields: registered(short.clone()),
                transition: Some(Transition {
                    from: New,
                    to: AwaitingUser,
                    actor: Actor::System,
                }),
                history: vec![created(
                    PHONE_DESK,
                    AwaitingUser,
                    &format!("{}; не хватает: Ф.И.О., телефон", classified()),
                )],
                letters: vec![Letter::PhoneRegistered {
                    engineer: PHONE_DESK.into(),
                    missing: missing.clone(),
                    in_reply_to: Some("<call-1@sed.example.org>".into()),
                }],
                ..Effects::default()
            },
        ),
        (
            "written on a closed ticket: its form fills the gaps, both histories linked",
            &plain,
            Appeal {
                related: Some(Related {
                    id: "SD-1".into(),
                    form: full_form(),
                }),
                ..appeal(Form::default())
            },
            {
                let form = Form {
                    description: Some("Не печатает принтер".into()),
                    ..full_form()
                };
                Effects {
                    fields: registered(form),
                    history: vec![
                        created(REQUESTER, New, &classified()),
                        Entry::new("system", "related", "написано по закрытому обращению SD-1"),
                    ],
                    letters: vec![Letter::Registration { missing: vec![] }],
                    elsewhere: vec![(
                        "SD-1".into(),
                        Entry::new(
                            "system",
                            "related",
                            "пользователь написал снова: новое обращение SD-7",
                        ),
                    )],
                    ..Effects::default()
                }
            },
        ),
    ];
    for (name, wf, a, want) in rows {
        assert_eq!(decide_on(wf, &new_appeal(a), &fresh()), want, "{name}");
    }
}

#[test]
fn too_many_new_appeals_are_quarantined_and_nothing_else() {
    let mut wf = wf();
    wf.reflection.max_new_tickets_per_sender_per_hour = 3;
    // (opened by the sender, registered by an engineer) → quarantined
    for (by_sender, phone, out) in [
        (2, false, false),
        (3, false, true),
        (3, true, false),
        (50, false, true),
    ] {
        let a = Appeal {
            opened: Some(Opened {
                by_sender,
                reply_to: None,
                by_reply_to: 0,
            }),
            registered_by: phone.then(|| Registrar {
                engineer: PHONE_DESK.into(),
                message_id: None,
            }),
            ..appeal(full_form())
        };
        let got = decide_on(&wf, &new_appeal(a.clone()), &fresh());
        assert_eq!(got.quarantine.is_some(), out, "{by_sender}, {phone}");
        assert_eq!(too_many_new(&a, &wf), got.quarantine);
        if out {
            assert_eq!(
                got,
                Effects {
                    quarantine: got.quarantine.clone(),
                    ..Effects::default()
                }
            );
        }
    }
}

pub(super) fn answer(said: Form, lines: Form, has_files: bool) -> FormAnswer {
    FormAnswer {
        sender: REQUESTER.into(),
        text: "Кабинет 305, 3 этаж".into(),
        said,
        form: lines,
        has_files,
        auto_submitted: None,
    }
}

#[test]
fn a_form_answer_table() {
    let routes = routed_wf();
    let mut asked = state(AwaitingUser, Line::First);
    asked.priority = "high".into();
    asked.form = Form {
        room: None,
        floor: None,
        location: None,
        phone: None,
        ..full_form()
    };
    let place = Form {
        room: Some("305".into()),
        floor: Some("3".into()),
        location: Some("каб. 305, 3 этаж".into()),
        ..Form::default()
    };
    let phone = Form {
        phone: Some("+74951234567".into()),
        ..Form::default()
    };
    let (route_rows, route_letters) = to_line2("SD-1");
    let mut complete = asked.form.clone();
    complete.fill_from(&place);
    complete.fill_from(&phone);
    let mut half = asked.form.clone();
    half.fill_from(&place);
    let relay = Letter::RelayToLine {
        line: Line::First,
        text: format!(
            "Ответ пользователя {REQUESTER} на запрос недостающих сведений ничего не дополнил; прочтите и свяжитесь с пользователем:\n\nКабинет 305, 3 этаж"
        ),
    };
    let rows: Vec<(&str, FormAnswer, Effects)> = vec![
        (
            "the words and the form lines complete it: new, classified anew, routed, confirmed",
            answer(place.clone(), phone.clone(), false),
            Effects {
                fields: Fields {
                    line: Some(Line::Second),
                    kind: Some(Kind::Consultation),
                    priority: Some("high".into()),
                    deadline: Some(wf().deadline(now(), "high")),
                    escalated_for: Some(None),
                    form: Some(complete.clone()),
                    join_files: true,
                    ..Fields::default()
                },
                transition: Some(Transition {
                    from: AwaitingUser,
                    to: Assigned,
                    actor: Actor::System,
                }),
                history: [
                    vec![
                        Entry::new(REQUESTER, "fields_added", "местонахождение, кабинет, этаж, телефон"),
                        entry(
                            "system",
                            "status",
                            Some(AwaitingUser),
                            Some(New),
                            "все обязательные сведения получены",
                        ),
                    ],
                    route_rows.clone(),
                ]
                .concat(),
                letters: [
                    route_letters.clone(),
                    vec![Letter::Registration { missing: vec![] }],
                ]
                .concat(),
                ..Effects::default()
            },
        ),
        (
            "a part given: recorded, the rest asked for again",
            answer(place.clone(), Form::default(), false),
            Effects {
                fields: Fields {
                    form: Some(half),
                    ..Fields::default()
                },
                history: vec![Entry::new(
                    REQUESTER,
                    "fields_added",
                    "местонахождение, кабинет, этаж",
                )],
                letters: vec![Letter::Registration {
                    missing: vec![crate::parse::Field::Phone],
                }],
                ..Effects::default()
            },
        ),
        (
            "nothing given: a person of the 1st line reads it; the user gets nothing",
            answer(Form::default(), Form::default(), false),
            Effects {
                letters: vec![relay.clone()],
                ..Effects::default()
            },
        ),
        (
            "nothing but files: the 1st line reads it, the user sees the files registered",
            answer(Form::default(), Form::default(), true),
            Effects {
                letters: vec![
                    relay,
                    Letter::Registration {
                        missing: vec![
                            crate::parse::Field::Location,
                            crate::parse::Field::Phone,
                        ],
                    },
                ],
                ..Effects::default()
            },
        ),
        (
            "an automatic answer completes it, and is answered with nothing",
            FormAnswer {
                auto_submitted: Some("auto-replied".into()),
                ..answer(place, phone, false)
            },
            Effects {
                fields: Fields {
                    line: Some(Line::Second),
                    kind: Some(Kind::Consultation),
                    priority: Some("high".into()),
                    deadline: Some(wf().deadline(now(), "high")),
                    escalated_for: Some(None),
                    form: Some(complete),
                    join_files: true,
                    ..Fields::default()
                },
                transition: Some(Transition {
                    from: AwaitingUser,
                    to: Assigned,
                    actor: Actor::System,
                }),
                history: [
                    vec![
                        Entry::new(REQUESTER, "fields_added", "местонахождение, кабинет, этаж, телефон"),
                        Entry::new(
                            "system",
                            "no_auto_answer",
                            "Auto-Submitted: auto-replied: registered without an automatic answer (RFC 3834 §2)",
                        ),
                        entry(
                            "system",
                            "status",
                            Some(AwaitingUser),
                            Some(New),
                            "все обязательные сведения получены",
                        ),
                    ],
                    route_rows,
                ]
                .concat(),
                letters: route_letters,
                ..Effects::default()
            },
        ),
    ];
    for (name, a, want) in rows {
        assert_eq!(
            decide_on(&routes, &Event::FormAnswer(Box::new(a)), &asked),
            want,
            "{name}"
        );
    }
}
