//! Charsets: a declared label (taken from the first bytes) on any bytes,
//! the Russian fallback that picks by the text, RFC 2047 encoded words,
//! the HTML `<meta>` charset, transfer decodings.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/contained.rs"]
mod contained;
use ticketd::parse::charset;

fuzz_target!(|data: &[u8]| {
    contained::contain_mail_parser_panics();
    // "label\0bytes": the label is whatever comes before the first NUL.
    let (label, bytes) = match data.iter().position(|b| *b == 0) {
        Some(i) => (Some(String::from_utf8_lossy(&data[..i]).into_owned()), &data[i + 1..]),
        None => (None, data),
    };
    let text = charset::decode_text(bytes, label.as_deref());
    assert!(!text.contains('\0'));
    let _ = charset::fallback_decode(bytes);
    let _ = charset::russian_score(&text);
    let _ = charset::decode_rfc2047(&String::from_utf8_lossy(data));
    let _ = charset::html_meta_charset(bytes);
    let _ = charset::decode_qp(bytes);
    let _ = charset::decode_base64(bytes);
    let _ = charset::percent_decode(&String::from_utf8_lossy(bytes));
});
