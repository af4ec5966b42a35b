//! Header lines of outgoing letters, as every server and client takes them.
//!
//! RFC 5322 §2.1.1: a line SHOULD be at most 78 characters and MUST be at
//! most 998. lettre folds a header only at spaces, so one long word (a
//! subject of 200 KB without a space, a pasted URL) became one line of that
//! length, which servers refuse or cut. Here an unstructured value (the
//! Subject) is written as plain words where they fit and as RFC 2047
//! encoded-words elsewhere: non-ASCII text, and any word too long for a line
//! (RFC 2047 may encode plain ASCII too, and encoded-words may be folded
//! anywhere between them). An encoded-word is at most 75 characters
//! (RFC 2047 §2) and never splits a UTF-8 character: each holds whole
//! characters, so every one decodes on its own.
//!
//! Very long subjects are shortened first ([`short_subject`]): a reader
//! sees the beginning and an ellipsis, the ticket keeps the whole text.

/// Lines are folded to at most this many characters (without CRLF).
pub const FOLD_AT: usize = 78;
/// No line may ever be longer than this (without CRLF).
pub const MAX_LINE: usize = 998;
/// The longest subject a letter carries, in characters; longer ones end
/// with `…`.
pub const MAX_SUBJECT_CHARS: usize = 150;

/// RFC 2047 §2: an encoded-word is at most 75 characters.
const MAX_ENCODED_WORD: usize = 75;
const PREFIX: &str = "=?UTF-8?B?";
const SUFFIX: &str = "?=";

/// `subject` cut to [`MAX_SUBJECT_CHARS`] characters with `…`, at a word
/// boundary when one is near; control characters and line breaks become
/// spaces, runs of spaces one.
pub fn short_subject(subject: &str) -> String {
    shorten(subject, MAX_SUBJECT_CHARS)
}

/// `text` on one line, at most `max` characters (the last one `…` when cut).
pub fn shorten(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() <= max || max == 0 {
        return words;
    }
    let cut: String = words.chars().take(max.saturating_sub(1)).collect();
    // Prefer the end of a word if one ends in the last fifth.
    let keep = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() >= max * 4 / 5 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", keep.trim_end())
}

/// The encoded and folded value of an unstructured header named `name`
/// (what follows `Name: `), with CRLF SP between lines and no final CRLF.
/// Every line, the first with `Name: `, is at most [`FOLD_AT`] characters.
pub fn unstructured(name: &str, value: &str) -> String {
    let mut w = Writer::new(name);
    w.text(value, plain);
    w.out
}

/// The folded value of an address header (`From`, `To`, `Reply-To`):
/// each mailbox as `display name <address>` (the name as atoms or
/// encoded-words, RFC 2047 §5 (3)), or the bare address. An address is one
/// token: it may start a line, never be split.
pub fn mailboxes(name: &str, list: &[(Option<&str>, &str)]) -> String {
    let mut w = Writer::new(name);
    for (i, (display, addr)) in list.iter().enumerate() {
        let comma = if i + 1 < list.len() { "," } else { "" };
        match display.filter(|d| !d.trim().is_empty()) {
            Some(d) => {
                w.text(d, atom);
                w.word(&format!("<{addr}>{comma}"));
            }
            None => w.word(&format!("{addr}{comma}")),
        }
    }
    w.out
}

/// Printable ASCII that cannot be mistaken for an encoded-word and fits on
/// a continuation line.
fn plain(word: &str) -> bool {
    word.len() < FOLD_AT && word.bytes().all(|b| b.is_ascii_graphic()) && !word.contains("=?")
}

/// An RFC 5322 atom (no specials), for a display name.
fn atom(word: &str) -> bool {
    plain(word)
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
}

struct Writer {
    out: String,
    /// Length of the current line so far.
    line: usize,
    /// Nothing written yet (no separating space needed).
    first: bool,
}

impl Writer {
    fn new(name: &str) -> Writer {
        Writer {
            out: String::new(),
            line: name.len() + 2,
            first: true,
        }
    }

    /// Words of `value`: those `keep` accepts as they are, runs of the
    /// others as encoded-words (the spaces between them inside the encoded
    /// text: white space between encoded-words is not shown).
    fn text(&mut self, value: &str, keep: fn(&str) -> bool) {
        let words: Vec<&str> = value.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            if keep(words[i]) {
                self.word(words[i]);
                i += 1;
                continue;
            }
            let start = i;
            while i < words.len() && !keep(words[i]) {
                i += 1;
            }
            self.encoded(&words[start..i].join(" "));
        }
    }

    fn fold(&mut self) {
        self.out.push_str("\r\n");
        self.line = 0;
    }

    /// Write a space (or fold) before something `len` long.
    fn separate(&mut self, len: usize) {
        if self.first {
            self.first = false;
            if self.line + len <= FOLD_AT {
                return;
            }
            self.fold();
        } else if self.line + 1 + len > FOLD_AT {
            self.fold();
        }
        self.out.push(' ');
        self.line += 1;
    }

    fn word(&mut self, word: &str) {
        self.separate(word.len());
        self.out.push_str(word);
        self.line += word.len();
    }

    fn encoded(&mut self, mut text: &str) {
        while !text.is_empty() {
            // Bytes that fit in the room left on this line, whole characters.
            let room = |line: usize| {
                let free = FOLD_AT.saturating_sub(line + 1).min(MAX_ENCODED_WORD);
                free.saturating_sub(PREFIX.len() + SUFFIX.len()) / 4 * 3
            };
            let mut n = char_prefix(text, room(self.line));
            if n == 0 {
                // Nothing fits here: `separate` folds, and a fresh line
                // holds at least one character.
                n = char_prefix(text, room(0)).max(first_char_len(text));
            }
            let chunk = &text[..n];
            let len = PREFIX.len() + base64_len(n) + SUFFIX.len();
            self.separate(len);
            self.out.push_str(PREFIX);
            base64(chunk.as_bytes(), &mut self.out);
            self.out.push_str(SUFFIX);
            self.line += len;
            text = &text[n..];
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes ending on a character
/// boundary.
fn char_prefix(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn first_char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Standard base64 with padding (RFC 4648 §4), as RFC 2047's "B" encoding.
fn base64(bytes: &[u8], out: &mut String) {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(ABC[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

/// Lines of a letter's header block longer than `limit` (without CRLF):
/// (line number from 1, length). Stops at the first empty line.
pub fn long_header_lines(raw: &[u8], limit: usize) -> Vec<(usize, usize)> {
    raw.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .enumerate()
        .filter(|(_, l)| l.len() > limit)
        .map(|(i, l)| (i + 1, l.len()))
        .collect()
}

#[cfg(test)]
mod tests;
