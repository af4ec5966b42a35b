//! Outlook's winmail.dat: the TNEF reader, compressed RTF and the RTF
//! reading, with small bounds so the bounds themselves are exercised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketd::parse::tnef::{read, rtf};

fuzz_target!(|data: &[u8]| {
    let max = 64 * 1024;
    if let Some(t) = read(data, max, 8) {
        assert!(t.files.len() <= 8);
        assert!(t.files.iter().all(|f| f.data.len() <= max && !f.data.is_empty()));
    }
    if let Some(raw) = rtf::decompress(data, max) {
        assert!(raw.len() <= max);
    }
    let _ = rtf::to_body(data, 1251);
});
