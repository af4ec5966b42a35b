//! The HTML reader (html5ever after the nesting cap, tables, Outlook and
//! Word markup) and the form read from what it gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketd::parse::fuzzing::form_html;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let (form, _text) = form_html(&html);
    let _ = form.missing();
});
