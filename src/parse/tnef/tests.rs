use super::rtf::{decompress, to_body, Body};
use super::*;

/// The winmail.dat of `fixtures/letters2/19-outlook-winmail-dat.eml`
/// (written by `fixtures/letters2/make_winmail.py`).
fn sample() -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/letters2/winmail.tnef");
    std::fs::read(p).expect("fixtures/letters2/winmail.tnef")
}

#[test]
fn body_and_files_of_an_outlook_letter() {
    let t = read(&sample(), 1 << 20, 20).expect("TNEF");
    assert_eq!(t.files.len(), 1);
    assert_eq!(t.files[0].name.as_deref(), Some("скриншот ошибки.png"));
    assert!(t.files[0].data.starts_with(b"\x89PNG"));
    let text = t.text.expect("a body from the RTF");
    assert!(
        text.contains("Ф.И.О. пользователя: Белова Ирина Олеговна"),
        "{text}"
    );
    assert!(text.contains("«Ошибка 0x80004005»"), "{text}");
}

#[test]
fn damaged_streams_give_what_came_before_the_damage() {
    let s = sample();
    assert_eq!(read(b"not tnef", 100, 20), None);
    assert_eq!(read(&[], 100, 20), None);
    // Every prefix reads without a panic; once the file's attributes are
    // whole, it is there.
    for n in 0..s.len() {
        let _ = read(&s[..n], 1 << 20, 20);
    }
    // A length field pointing far past the end stops the reading.
    let mut bad = s.clone();
    bad[11..15].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(read(&bad, 1 << 20, 20).is_some_and(|t| t.files.is_empty()));
    // Bounds: no file over the size bound, no more files than allowed.
    let t = read(&s, 8, 20).expect("TNEF");
    assert!(t.files.is_empty());
    let t = read(&s, 1 << 20, 0).expect("TNEF");
    assert!(t.files.is_empty());
}

#[test]
fn compressed_rtf() {
    // "MELA": stored, not compressed.
    let mut m = Vec::new();
    m.extend_from_slice(&(12u32 + 5).to_le_bytes());
    m.extend_from_slice(&5u32.to_le_bytes());
    m.extend_from_slice(&0x414C_454Du32.to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(b"{\\rtf");
    assert_eq!(decompress(&m, 100).as_deref(), Some(&b"{\\rtf"[..]));
    // A reference into the preloaded dictionary: offset 0, 7 bytes is
    // "{\rtf1\" — the dictionary every stream starts from.
    let mut z = Vec::new();
    z.extend_from_slice(&(12u32 + 5).to_le_bytes());
    z.extend_from_slice(&7u32.to_le_bytes());
    z.extend_from_slice(&0x7546_5A4Cu32.to_le_bytes());
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(&[0b01, 0x00, 0x05]);
    assert_eq!(decompress(&z, 100).as_deref(), Some(&b"{\\rtf1\\"[..]));
    // The output bound holds whatever the header claims.
    assert!(decompress(&z, 3).is_some_and(|v| v.len() == 3));
    assert_eq!(decompress(b"short", 100), None);
}

#[test]
fn rtf_to_text_and_html() {
    let rtf = b"{\\rtf1\\ansi\\ansicpg1251{\\fonttbl{\\f0 Arial;}}{\\*\\generator x;}\
\\pard \\'d4\\'c8\\'ce: \\'c8\\'e2\\'e0\\'ed\\'ee\\'e2\\par \\u1058?\\u1077?\\'eb.\\tab 55\\par\
\\trowd A\\cell B\\cell\\row}";
    assert_eq!(
        to_body(rtf, 1251),
        Body::Text("ФИО: Иванов\nТел.\t55\nA\tB\t\n".into())
    );
    let html = b"{\\rtf1\\ansi\\fromhtml1 {\\*\\htmltag19 <html>}{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 \
\\'cf\\'f0\\'e8\\'e2\\'e5\\'f2{\\*\\htmltag72 </p>}\\htmlrtf \\par\\htmlrtf0}}";
    assert_eq!(
        to_body(html, 1251),
        Body::Html("<html><p>Привет</p>".into())
    );
    // Deep nesting and stray braces neither panic nor recurse.
    let deep: Vec<u8> = std::iter::repeat(b'{')
        .take(100_000)
        .chain(b"x".iter().copied())
        .chain(std::iter::repeat(b'}').take(100_001))
        .collect();
    assert_eq!(to_body(&deep, 1251), Body::Text("x".into()));
}
