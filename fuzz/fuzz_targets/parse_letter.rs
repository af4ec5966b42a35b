//! Fuzz the letter → ticket fields path: any bytes must parse without a
//! panic, and what comes out must be internally consistent.
//!
//! Run: `scripts/fuzz SECONDS parse_letter` (stable toolchain with
//! `RUSTC_BOOTSTRAP=1`; seeds in `fuzz/seeds/parse_letter`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/contained.rs"]
mod contained;
use ticketd::parse::{parse_letter, ParseOptions};

fuzz_target!(|data: &[u8]| {
    contained::contain_mail_parser_panics();
    let p = parse_letter(data, &ParseOptions::default());
    // Invariants the rest of ticketd relies on.
    if let Some(from) = &p.from {
        assert!(from.email.contains('@'));
    }
    assert!(!p.text.contains('\0'));
    for a in &p.attachments {
        assert!(!a.filename.contains('/') && !a.filename.contains('\\'));
    }
    for r in &p.rejected {
        assert!(["type", "size", "name", "count"]
            .iter()
            .any(|k| r.reason.starts_with(k)));
    }
    let _ = p.form.missing();
});
