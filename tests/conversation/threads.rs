//! Items 13 and 14: refusals a user understands; threading as people
//! write subjects.

use super::harness::*;

/// Item 14: a bare number of this desk in the subject threads.
#[test]
fn item14_bare_ticket_number_in_the_subject_threads() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    let (o, t) = c.send(
        USER,
        SUPPORT,
        &format!("По заявке {id}"),
        "Добрый день!\r\n\r\nПисала вчера, принтер так и не печатает.",
    );
    assert_eq!((o.as_str(), t.as_str()), ("updated", id.as_str()));
    // A number that is not this desk's ticket opens a new appeal.
    let (o, _) = c.send(USER, SUPPORT, "По заявке TP-2020-999999", APPEAL);
    assert_eq!(o, "created");
}

/// Item 13: a user who writes command lines is answered in Russian with
/// what to do, and the line gets the words.
#[test]
fn item13_refusal_to_a_user_says_what_to_do() {
    let mut c = Conv::new();
    let id = c.appeal(APPEAL);
    c.new_letters();
    c.user(&id, "Статус: Подтверждено\r\n\r\nЗакрывайте, всё работает.");
    let sent = c.new_letters();
    let refusal = sent
        .iter()
        .find(|s| s.to_is(USER) && s.kind == "refusal")
        .unwrap_or_else(|| panic!("a refusal to the user: {:?}", summary(&sent)));
    assert!(
        refusal.text.contains("своими словами"),
        "says what to do: {}",
        refusal.text
    );
    assert!(!refusal.text.contains("only"), "Russian: {}", refusal.text);
    assert!(
        sent.iter()
            .any(|s| s.to_is(L2) && s.text.contains("Закрывайте, всё работает")),
        "the line gets the words: {:?}",
        summary(&sent)
    );
}
