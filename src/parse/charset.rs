//! Bytes → text: transfer encodings (quoted-printable, base64), charsets
//! (declared label, HTML `<meta>`, RFC 2047 encoded words) and the fallback
//! rule for unknown or missing labels (rule 7: UTF-8 when the bytes are valid
//! UTF-8, else windows-1251).
//!
//! Everything here is lenient and linear: damaged input is decoded as far as
//! it goes, never rejected.

use encoding_rs::{Encoding, GB18030, IBM866, KOI8_R, UTF_8, WINDOWS_1251};
use mail_parser::decoders::charsets::map::charset_decoder;

/// Look a charset label up; `None` for labels encoding_rs does not know.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let l = label.trim().trim_matches('"').trim();
    if l.is_empty() {
        return None;
    }
    let lower = l.to_ascii_lowercase();
    // GB2312 letters are written with GBK's and GB18030's characters by
    // every Chinese mail client: the superset reads them all.
    if matches!(
        lower.as_str(),
        "gb2312"
            | "gb_2312"
            | "gb_2312-80"
            | "gb2312-80"
            | "csgb2312"
            | "chinese"
            | "gbk"
            | "x-gbk"
            | "cp936"
            | "ms936"
            | "windows-936"
            | "euc-cn"
            | "x-euc-cn"
            | "iso-ir-58"
            | "csiso58gb231280"
    ) {
        return Some(GB18030);
    }
    if let Some(e) = Encoding::for_label(l.as_bytes()) {
        return Some(e);
    }
    // Labels seen in the wild that WHATWG does not list.
    let alias = match lower.as_str() {
        "win-1251" | "win1251" | "cp-1251" | "windows1251" => "windows-1251",
        "koi8r" | "koi-8-r" => "koi8-r",
        "cp-866" | "dos-866" | "866" | "alt" => "ibm866",
        "utf8" => "utf-8",
        _ => return None,
    };
    Encoding::for_label(alias.as_bytes())
}

/// Decode text bytes with the declared label, applying rule 7 when the
/// label is missing or unknown. NUL bytes are removed (rule 12).
pub fn decode_text(bytes: &[u8], label: Option<&str>) -> String {
    // "us-ascii" cannot describe 8-bit bytes: such a label is as good as
    // none (mailers put it on Russian text they never looked at).
    let ascii_label = label.is_some_and(|l| {
        matches!(
            l.trim().trim_matches('"').to_ascii_lowercase().as_str(),
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us"
        )
    });
    let label = if ascii_label && bytes.iter().any(|b| *b >= 0x80) {
        None
    } else {
        label
    };
    let enc = label.and_then(encoding_for_label);
    let out = match enc {
        Some(e) if e == UTF_8 => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            // Declared UTF-8 but not UTF-8 at all: a mislabelled Russian
            // letter, in whichever of Russian mail's charsets reads best.
            Err(_) if mostly_invalid_utf8(bytes) => best_russian(bytes, None),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        },
        // A Russian single-byte label decodes any bytes, so "does not
        // decode" shows only in the text: another of the three is taken
        // when it reads as Russian and the declared one does not.
        Some(e) if RUSSIAN.contains(&e) => best_russian(bytes, Some(e)),
        Some(e) => e.decode(bytes).0.into_owned(),
        // Labels encoding_rs does not carry (UTF-7, ...) but mail-parser
        // does; its decoder runs guarded, it is third-party code on
        // hostile bytes.
        None => match label.and_then(|l| charset_decoder(l.trim().as_bytes())) {
            Some(f) => {
                std::panic::catch_unwind(|| f(bytes)).unwrap_or_else(|_| fallback_decode(bytes))
            }
            None => fallback_decode(bytes),
        },
    };
    if out.contains('\0') {
        out.replace('\0', "")
    } else {
        out
    }
}

/// Rule 7 for bytes without a usable label: UTF-8 when valid, else the
/// Russian charset that reads best (windows-1251 unless the text says
/// KOI8-R or CP866).
pub fn fallback_decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => best_russian(bytes, Some(WINDOWS_1251)),
    }
}

/// The charsets Russian mail is really written in.
const RUSSIAN: [&Encoding; 3] = [WINDOWS_1251, KOI8_R, IBM866];

/// Most bytes looked at to judge a charset: the start of a text tells.
const JUDGE_BYTES: usize = 16 * 1024;

/// How much `s` reads like Russian text: lower-case Cyrillic letters count
/// for it; a capital inside a lower-case word (windows-1251 read as KOI8-R
/// inverts the case), box-drawing and other symbols no letter is written
/// with (CP866 read as windows-1251 and back) count against it.
pub fn russian_score(s: &str) -> i64 {
    let mut score = 0i64;
    let mut prev_lower = false;
    for c in s.chars() {
        let (lower, upper) = (matches!(c, 'а'..='я' | 'ё'), matches!(c, 'А'..='Я' | 'Ё'));
        if lower {
            score += 1;
        } else if upper && prev_lower {
            score -= 3;
        } else if !upper
            && !c.is_ascii()
            && !matches!(
                c,
                'і' | 'І'
                    | 'ї'
                    | 'Ї'
                    | 'є'
                    | 'Є'
                    | 'ґ'
                    | 'Ґ'
                    | 'ў'
                    | 'Ў'
                    | '«'
                    | '»'
                    | '—'
                    | '–'
                    | '№'
                    | '…'
                    | '“'
                    | '”'
                    | '„'
                    | '\u{a0}'
            )
        {
            score -= 5;
        }
        prev_lower = lower;
    }
    score
}

/// Decode with the Russian charset whose text reads best; `declared` wins
/// ties and near-ties (a label is evidence too).
fn best_russian(bytes: &[u8], declared: Option<&'static Encoding>) -> String {
    // None of the three is multi-byte: any prefix is whole characters.
    let sample = &bytes[..bytes.len().min(JUDGE_BYTES)];
    let score = |e: &'static Encoding| russian_score(&e.decode_without_bom_handling(sample).0);
    let base = declared.unwrap_or(WINDOWS_1251);
    let base_score = score(base);
    let mut pick = (base, base_score);
    for e in RUSSIAN {
        if e == base {
            continue;
        }
        let s = score(e);
        // A clear win only: the declared charset keeps short or odd texts.
        if s > pick.1 && s - base_score > 8 {
            pick = (e, s);
        }
    }
    pick.0.decode_without_bom_handling(bytes).0.into_owned()
}

/// True when more than a handful of the 8-bit bytes do not form UTF-8.
fn mostly_invalid_utf8(bytes: &[u8]) -> bool {
    let high = bytes.iter().filter(|b| **b >= 0x80).count();
    if high == 0 {
        return false;
    }
    let lossy = String::from_utf8_lossy(bytes);
    let bad = lossy.chars().filter(|c| *c == '\u{FFFD}').count();
    bad * 4 > high
}

/// Quoted-printable, leniently: malformed `=` sequences are kept as written.
pub fn decode_qp(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        // Soft line break: "=" followed by optional whitespace and a newline.
        let mut j = i + 1;
        while j < input.len() && (input[j] == b' ' || input[j] == b'\t') {
            j += 1;
        }
        if j < input.len() && input[j] == b'\n' {
            i = j + 1;
            continue;
        }
        if j + 1 < input.len() && input[j] == b'\r' && input[j + 1] == b'\n' {
            i = j + 2;
            continue;
        }
        if j >= input.len() {
            break;
        }
        if i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b'=');
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn b64(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Base64, leniently: whitespace is skipped; decoding stops at padding or at
/// the first byte outside the alphabet (broken base64 is read up to the
/// damage, rule 12).
pub fn decode_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    for &b in input {
        if b.is_ascii_whitespace() {
            continue;
        }
        let Some(v) = b64(b) else { break };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

/// Decode RFC 2047 encoded words (`=?charset?B|Q?...?=`) anywhere in `s`,
/// also inside quotes; whitespace between adjacent encoded words is dropped.
pub fn decode_rfc2047(s: &str) -> String {
    if !s.contains("=?") {
        return s.to_string();
    }
    // Each attempt may scan to the next "?=": bounded input keeps the
    // worst case small.
    if s.len() > 16 * 1024 {
        let mut e = 16 * 1024;
        while !s.is_char_boundary(e) {
            e -= 1;
        }
        return decode_rfc2047(&s[..e]) + &s[e..];
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut pending_ws = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some(start) = rest.find("=?") {
            let (before, from) = rest.split_at(start);
            if let Some((text, consumed)) = encoded_word(from) {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(&pending_ws);
                    out.push_str(before);
                }
                pending_ws.clear();
                out.push_str(&text);
                last_was_word = true;
                rest = &from[consumed..];
                continue;
            }
            out.push_str(before);
            out.push_str("=?");
            rest = &from[2..];
            last_was_word = false;
        } else {
            out.push_str(rest);
            break;
        }
    }
    out
}

/// One encoded word at the start of `s`: its text and how many bytes it took.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let body = s.strip_prefix("=?")?;
    let q1 = body.find('?')?;
    let charset = &body[..q1];
    let after = &body[q1 + 1..];
    let (enc, rest) = after.split_once('?')?;
    let end = rest.find("?=")?;
    let data = &rest[..end];
    if charset.len() > 40 || enc.len() != 1 || data.contains(' ') {
        return None;
    }
    // RFC 2231 language suffix: `utf-8*ru`.
    let charset = charset.split('*').next().unwrap_or(charset);
    let bytes = match enc {
        "B" | "b" => decode_base64(data.as_bytes()),
        "Q" | "q" => decode_qp(data.replace('_', " ").as_bytes()),
        _ => return None,
    };
    let consumed = 2 + q1 + 1 + enc.len() + 1 + end + 2;
    Some((decode_text(&bytes, Some(charset)), consumed))
}

/// The charset an HTML document declares in a `<meta>` near its start.
pub fn html_meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let pos = find(&lower, b"charset=")?;
    let tail = &lower[pos + 8..];
    let tail = tail
        .strip_prefix(b"\"")
        .or_else(|| tail.strip_prefix(b"'"))
        .unwrap_or(tail);
    let end = tail
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        .unwrap_or(tail.len());
    let label = String::from_utf8_lossy(&tail[..end]).into_owned();
    (!label.is_empty()).then_some(label)
}

/// First position of `needle` in `hay` (naive, used on bounded slices).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Percent-decoding for RFC 2231 values.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_fallback() {
        let cp = WINDOWS_1251.encode("Привет").0.into_owned();
        let koi = encoding_rs::KOI8_R.encode("Привет").0.into_owned();
        let cases: Vec<(Vec<u8>, Option<&str>, &str)> = vec![
            ("Привет".as_bytes().to_vec(), Some("utf-8"), "Привет"),
            (cp.clone(), Some("windows-1251"), "Привет"),
            (cp.clone(), Some("win-1251"), "Привет"),
            (cp.clone(), None, "Привет"),
            (cp.clone(), Some("x-unknown"), "Привет"),
            (cp.clone(), Some("us-ascii"), "Привет"),
            ("Привет".as_bytes().to_vec(), Some("US-ASCII"), "Привет"),
            (cp.clone(), Some("utf-8"), "Привет"),
            (koi, Some("koi8-r"), "Привет"),
            ("Привет".as_bytes().to_vec(), Some("x-unknown"), "Привет"),
            (b"a\0b".to_vec(), None, "ab"),
            (b"Fr+APY-sche".to_vec(), Some("utf-7"), "Frösche"),
        ];
        for (bytes, label, want) in cases {
            assert_eq!(decode_text(&bytes, label), want, "label {label:?}");
        }
    }

    #[test]
    fn transfer_encodings() {
        assert_eq!(decode_qp(b"a=3Db=\r\nc=\nd=ZZ"), b"a=bcd=ZZ");
        assert_eq!(decode_qp(b"end="), b"end");
        assert_eq!(decode_base64(b"0J/RgNC4\r\n0LLQtdGC"), "Привет".as_bytes());
        // Damage stops decoding; what came before survives.
        assert_eq!(decode_base64(b"0J/RgNC4*#!0LLQ"), "При".as_bytes());
    }

    #[test]
    fn encoded_words() {
        let cases = [
            ("=?utf-8?B?0J/RgNC40LLQtdGC?=", "Привет"),
            ("=?koi8-r?B?z9vJwsvBLmpwZw==?=", "ошибка.jpg"),
            ("Re: =?utf-8?Q?=D0=90?= =?utf-8?Q?=D0=91?= x", "Re: АБ x"),
            ("[TP-1] =?utf-8?B?0JA=?=", "[TP-1] А"),
            ("plain", "plain"),
            ("=?broken", "=?broken"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_rfc2047(input), want, "{input}");
        }
    }

    #[test]
    fn meta_charset() {
        assert_eq!(
            html_meta_charset(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
            )
            .as_deref(),
            Some("windows-1251")
        );
        assert_eq!(
            html_meta_charset(b"<meta charset='koi8-r'>").as_deref(),
            Some("koi8-r")
        );
        assert_eq!(html_meta_charset(b"<p>nothing</p>"), None);
    }
}
