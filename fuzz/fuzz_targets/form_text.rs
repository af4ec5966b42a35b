//! The form reader on plain text (key-value lines, text tables, title
//! paragraphs, quotes and signatures), with and without format=flowed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketd::parse::fuzzing::form_text;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (form, plain) = form_text(&text, mode & 1 != 0, mode & 2 != 0);
    assert!(plain.len() <= text.len() * 4 + 16);
    if let Some(p) = &form.phone {
        assert!(!p.is_empty());
    }
    let _ = form.missing();
});
