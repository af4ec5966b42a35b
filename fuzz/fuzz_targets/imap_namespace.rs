//! The IMAP responses ticketd reads by hand: the untagged NAMESPACE line
//! (its own tokenizer) and the text of a refused command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketd::source::imap::folders::{answer_text, parse_personal, resolve};

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let ns = parse_personal(&line);
    let _ = resolve("Processed", ns.as_ref());
    let _ = answer_text(&line);
});
