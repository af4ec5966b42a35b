//! Which move each user's letter makes, status by status: the table of
//! the desk's answers to the requester (and to anyone else: none).

use super::fixture::*;
use super::*;
use Status::*;

#[test]
fn users_letters_move_exactly_these() {
    let bodies = [
        ("Подтверждаю", "confirm"),
        ("Добрый день!\n\nПодтверждаю, уведомления пришли", "confirm"),
        ("Спасибо, всё получилось", "thanks"),
        ("Не помогло, ошибка осталась", "not helped"),
        ("Кабинет 305, 3 этаж, тел. 55-12-34", "words"),
    ];
    // (status, from the requester, body kind) → the move and its actor on
    // a routed ticket; anything not listed moves nothing.
    let requester = || Actor::User {
        address: "user@example.org".into(),
    };
    let moves = [
        (SolutionProposed, true, "confirm", Confirmed, requester()),
        (SolutionProposed, true, "not helped", Assigned, requester()),
        (AwaitingUser, true, "confirm", Assigned, requester()),
        (AwaitingUser, true, "thanks", Assigned, requester()),
        (AwaitingUser, true, "not helped", Assigned, requester()),
        (AwaitingUser, true, "words", Assigned, requester()),
        (Confirmed, true, "not helped", Assigned, Actor::System),
        (Confirmed, true, "words", Assigned, Actor::System),
    ];
    let wf = wf();
    let ctx = context(&wf, false);
    for from in Status::ALL {
        for from_requester in [true, false] {
            for (body, what) in bodies {
                let sender = if from_requester {
                    "user@example.org"
                } else {
                    "colleague@example.org"
                };
                let event = Event::UserLetter(UserLetter {
                    sender: sender.into(),
                    trust: Ok(()),
                    text: body.into(),
                });
                let state = state(from, Line::Second);
                let got = decide(&event, &state, &ctx).transition;
                let want = moves
                    .iter()
                    .find(|m| m.0 == from && m.1 == from_requester && m.2 == what)
                    .map(|m| Transition {
                        from,
                        to: m.3,
                        actor: m.4.clone(),
                    });
                assert_eq!(got, want, "{from}, requester {from_requester}, «{body}»");
            }
        }
    }
}
