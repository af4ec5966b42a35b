//! An engineer's reply: keyword lines (`Статус:`, `Линия:`, ...), quoted
//! history, the user's confirmation and status-request words.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketd::workflow::classify::Priority;
use ticketd::workflow::commands::{
    clean_subject, is_confirmation, is_status_request, parse_reply, strip_quoted,
};
use ticketd::workflow::duration::WorkDuration;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let priorities: Vec<Priority> = ["high", "normal"]
        .iter()
        .filter_map(|n| {
            Some(Priority {
                name: n.to_string(),
                deadline: WorkDuration::parse("4h").ok()?,
                is_default: *n == "normal",
            })
        })
        .collect();
    let engineers = vec!["eng1@sed.example.org".to_string()];
    let _ = parse_reply(&text, &priorities, &engineers);
    let _ = strip_quoted(&text);
    let _ = is_confirmation(&text);
    let _ = is_status_request(&text, &text);
    let _ = clean_subject(&text);
});
