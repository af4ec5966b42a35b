//! Outlook's RTF body: compressed RTF ([MS-OXRTFCP], "LZFu") and a
//! reading of the RTF into what the form reader takes: the HTML that
//! Outlook encapsulated (`\fromhtml`, [MS-OXRTFEX]) or plain text, table
//! cells tab-separated so Table 2 written in Word stays a table.
//!
//! Linear and bounded: the output never exceeds the declared raw size nor
//! `max`, group nesting is capped, unknown control words are skipped.

use crate::parse::charset::decode_text;

/// The dictionary every compressed RTF starts from ([MS-OXRTFCP] 3.1.1.1).
const PREBUF: &[u8] = b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

const COMPRESSED: u32 = 0x7546_5A4C; // "LZFu"
const UNCOMPRESSED: u32 = 0x414C_454D; // "MELA"

/// Deepest group nesting followed.
const MAX_DEPTH: usize = 512;

/// Decompress `PR_RTF_COMPRESSED`. `None` when it is not compressed RTF.
pub fn decompress(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let word = |i: usize| -> Option<u32> {
        let b = data.get(i..i + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let comp_size = word(0)? as usize;
    let raw_size = word(4)? as usize;
    let kind = word(8)?;
    // comp_size counts from after itself; a damaged one is read as far as
    // the bytes go.
    let end = comp_size.saturating_add(4).min(data.len());
    let body = data.get(16..end.max(16))?;
    let cap = raw_size.min(max);
    if kind == UNCOMPRESSED {
        return Some(body[..body.len().min(cap)].to_vec());
    }
    if kind != COMPRESSED {
        return None;
    }
    let mut dict = [0u8; 4096];
    dict[..PREBUF.len()].copy_from_slice(PREBUF);
    let mut wp = PREBUF.len();
    let mut out = Vec::with_capacity(cap.min(1 << 20));
    let mut i = 0;
    'outer: while i < body.len() && out.len() < cap {
        let control = body[i];
        i += 1;
        for bit in 0..8 {
            if out.len() >= cap {
                break 'outer;
            }
            if control & (1 << bit) == 0 {
                let Some(&b) = body.get(i) else {
                    break 'outer;
                };
                i += 1;
                out.push(b);
                dict[wp] = b;
                wp = (wp + 1) % 4096;
            } else {
                let (Some(&hi), Some(&lo)) = (body.get(i), body.get(i + 1)) else {
                    break 'outer;
                };
                i += 2;
                let w = u16::from_be_bytes([hi, lo]) as usize;
                let offset = w >> 4;
                let len = (w & 0xF) + 2;
                if offset == wp {
                    break 'outer; // the end marker
                }
                for k in 0..len {
                    if out.len() >= cap {
                        break 'outer;
                    }
                    let b = dict[(offset + k) % 4096];
                    out.push(b);
                    dict[wp] = b;
                    wp = (wp + 1) % 4096;
                }
            }
        }
    }
    Some(out)
}

/// A body made from RTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Html(String),
    Text(String),
}

/// Destinations whose text is not the letter's.
const SKIP: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "header",
    "footer",
    "headerl",
    "headerr",
    "footerl",
    "footerr",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "xmlnstbl",
    "generator",
];

#[derive(Clone, Copy)]
struct State {
    skip: bool,
    /// Inside `\htmlrtf` … `\htmlrtf0`: RTF-only text of an HTML body.
    htmlrtf: bool,
    uc: usize,
}

struct Out {
    text: String,
    pending: Vec<u8>,
    label: &'static str,
}

impl Out {
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let s = decode_text(&self.pending, Some(self.label));
            self.text.push_str(&s);
            self.pending.clear();
        }
    }
    fn byte(&mut self, b: u8) {
        self.pending.push(b);
    }
    fn push(&mut self, s: &str) {
        self.flush();
        self.text.push_str(s);
    }
}

fn label_for(codepage: u32) -> &'static str {
    match codepage {
        1252 => "windows-1252",
        866 => "ibm866",
        20866 => "koi8-r",
        65001 => "utf-8",
        936 => "gb18030",
        _ => "windows-1251",
    }
}

/// Read RTF: the encapsulated HTML when Outlook wrote one, else the text.
pub fn to_body(rtf: &[u8], codepage: u32) -> Body {
    let head = &rtf[..rtf.len().min(2048)];
    let html = head.windows(9).any(|w| w == b"\\fromhtml");
    let mut out = Out {
        text: String::new(),
        pending: Vec::new(),
        label: label_for(codepage),
    };
    let mut stack: Vec<State> = Vec::new();
    let mut overflow = 0usize;
    let mut st = State {
        skip: false,
        htmlrtf: false,
        uc: 1,
    };
    // Fallback characters still to drop after a `\uN`.
    let mut drop = 0usize;
    // The next control word names a destination (after `{` or `{\*`).
    let mut group_start = false;
    let mut starred = false;
    let visible = |st: &State| !(st.skip || html && st.htmlrtf);
    let mut i = 0;
    while i < rtf.len() {
        let b = rtf[i];
        match b {
            b'{' => {
                if stack.len() < MAX_DEPTH {
                    stack.push(st);
                } else {
                    overflow += 1;
                }
                group_start = true;
                starred = false;
                i += 1;
                continue;
            }
            b'}' => {
                if overflow > 0 {
                    overflow -= 1;
                } else if let Some(s) = stack.pop() {
                    st = s;
                }
                group_start = false;
                i += 1;
                continue;
            }
            b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'\\' => {
                let Some(&n) = rtf.get(i + 1) else { break };
                if n.is_ascii_alphabetic() {
                    let start = i + 1;
                    let mut j = start;
                    while j < rtf.len() && j - start < 32 && rtf[j].is_ascii_alphabetic() {
                        j += 1;
                    }
                    let word = std::str::from_utf8(&rtf[start..j]).unwrap_or("");
                    let num_start = j;
                    if j < rtf.len() && rtf[j] == b'-' {
                        j += 1;
                    }
                    while j < rtf.len() && j - num_start < 11 && rtf[j].is_ascii_digit() {
                        j += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&rtf[num_start..j])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if j < rtf.len() && rtf[j] == b' ' {
                        j += 1;
                    }
                    i = j;
                    let first = group_start;
                    group_start = false;
                    if first && (SKIP.contains(&word) || (starred && !(html && word == "htmltag")))
                    {
                        st.skip = true;
                        continue;
                    }
                    if first && html && word == "htmltag" {
                        // Literal HTML: shown even inside \htmlrtf.
                        st.htmlrtf = false;
                        continue;
                    }
                    match word {
                        "htmlrtf" => st.htmlrtf = param != Some(0),
                        "uc" => st.uc = param.unwrap_or(1).clamp(0, 8) as usize,
                        "u" => {
                            if visible(&st) {
                                let v = param.unwrap_or(0);
                                let v = if v < 0 { v + 65536 } else { v };
                                let c = u32::try_from(v).ok().and_then(char::from_u32);
                                out.push(&c.unwrap_or('\u{FFFD}').to_string());
                            }
                            drop = st.uc;
                        }
                        "ansicpg" => {
                            if let Some(p) = param.and_then(|p| u32::try_from(p).ok()) {
                                out.flush();
                                out.label = label_for(p);
                            }
                        }
                        _ if !visible(&st) => {}
                        "par" | "line" | "sect" | "page" if !html => out.push("\n"),
                        "row" => out.push("\n"),
                        "tab" => out.push("\t"),
                        "cell" => out.push("\t"),
                        "emdash" => out.push("—"),
                        "endash" => out.push("–"),
                        "lquote" => out.push("‘"),
                        "rquote" => out.push("’"),
                        "ldblquote" => out.push("“"),
                        "rdblquote" => out.push("”"),
                        "bullet" => out.push("•"),
                        _ => {}
                    }
                    continue;
                }
                group_start = false;
                i += 2;
                match n {
                    b'*' => {
                        starred = true;
                        group_start = true;
                    }
                    b'\'' => {
                        let hex = rtf
                            .get(i..i + 2)
                            .and_then(|h| std::str::from_utf8(h).ok())
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        if let Some(v) = hex {
                            i += 2;
                            if drop > 0 {
                                drop -= 1;
                            } else if visible(&st) {
                                out.byte(v);
                            }
                        }
                    }
                    b'~' if visible(&st) => out.push("\u{a0}"),
                    b'\\' | b'{' | b'}' if visible(&st) => {
                        if drop > 0 {
                            drop -= 1;
                        } else {
                            out.byte(n)
                        }
                    }
                    b'\n' | b'\r' if visible(&st) && !html => out.push("\n"),
                    _ => {}
                }
                continue;
            }
            _ => {
                group_start = false;
                i += 1;
                if drop > 0 {
                    drop -= 1;
                    continue;
                }
                if visible(&st) {
                    out.byte(b);
                }
            }
        }
    }
    out.flush();
    if html {
        Body::Html(out.text)
    } else {
        Body::Text(out.text)
    }
}
