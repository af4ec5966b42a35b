//! MIME header parameters (`Content-Type`, `Content-Disposition`) read from
//! the raw header bytes, so that attachment names come out right whatever
//! the client did: RFC 2231 (`filename*=`, continuations `*0*`, charset),
//! RFC 2047 words even inside quotes, and raw 8-bit bytes (rule 7).

use super::charset::{decode_rfc2047, decode_text, fallback_decode, percent_decode};

/// A parsed structured header: `type/subtype` (lower-cased) and parameters
/// with lower-cased names, values fully decoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Structured {
    pub value: String,
    pub params: Vec<(String, String)>,
}

impl Structured {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Split on `;` outside double quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_q = false;
    let mut esc = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' if in_q => esc = true,
            '"' => in_q = !in_q,
            ';' if !in_q => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner.strip_suffix('"').unwrap_or(inner);
        let mut out = String::with_capacity(inner.len());
        let mut esc = false;
        for c in inner.chars() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        out
    } else {
        v.to_string()
    }
}

/// Parse a raw structured header value (bytes after `Name:`).
pub fn parse_structured(raw: &[u8]) -> Structured {
    // Real parameter lists are short; a 2 MB header is read as far as 16 KB.
    let text = fallback_decode(&raw[..raw.len().min(16 * 1024)]);
    // Unfold.
    let text: String = text
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    let parts = split_params(&text);
    let mut st = Structured {
        value: parts
            .first()
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default(),
        params: Vec::new(),
    };
    // RFC 2231 pieces: name -> (index, encoded, value)
    let mut pieces: Vec<(String, u32, bool, String)> = Vec::new();
    for p in parts.iter().skip(1) {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        if k.is_empty() {
            continue;
        }
        if let Some(star) = k.find('*') {
            let base = k[..star].to_string();
            let rest = &k[star + 1..];
            let encoded = rest.ends_with('*') || rest.is_empty();
            let idx: u32 = rest.trim_end_matches('*').parse().unwrap_or(0);
            pieces.push((base, idx, encoded, unquote(v)));
        } else {
            st.params.push((k, decode_rfc2047(&unquote(v))));
        }
    }
    if !pieces.is_empty() {
        pieces.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut i = 0;
        while i < pieces.len() {
            let name = pieces[i].0.clone();
            let mut charset: Option<String> = None;
            let mut bytes = Vec::new();
            while i < pieces.len() && pieces[i].0 == name {
                let (_, idx, encoded, ref v) = pieces[i];
                let mut v = v.as_str();
                if idx == 0 && encoded {
                    // charset'lang'value
                    let mut it = v.splitn(3, '\'');
                    if let (Some(cs), Some(_lang), Some(val)) = (it.next(), it.next(), it.next()) {
                        charset = Some(cs.to_string());
                        v = val;
                    }
                }
                if encoded {
                    bytes.extend(percent_decode(v));
                } else {
                    bytes.extend_from_slice(v.as_bytes());
                }
                i += 1;
            }
            let value = decode_text(&bytes, charset.as_deref().filter(|c| !c.is_empty()));
            // RFC 2231 wins over a plain parameter of the same name.
            st.params.retain(|(k, _)| *k != name);
            st.params.push((name, value));
        }
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let cp = encoding_rs::WINDOWS_1251.encode("схема.bmp").0.into_owned();
        let mut raw8 = b"attachment; filename=\"".to_vec();
        raw8.extend_from_slice(&cp);
        raw8.push(b'"');
        let cases: Vec<(Vec<u8>, &str, &str)> = vec![
            (
                b"attachment; filename=\"a b.pdf\"".to_vec(),
                "filename",
                "a b.pdf",
            ),
            (
                b"attachment; filename*=UTF-8''%D0%90%D0%BA%D1%82.pdf".to_vec(),
                "filename",
                "Акт.pdf",
            ),
            (
                b"attachment;\r\n filename*0*=windows-1251''%F1%F5%E5%EC%E0;\r\n filename*1*=.bmp"
                    .to_vec(),
                "filename",
                "схема.bmp",
            ),
            (
                b"attachment; filename*0=\"long \"; filename*1=\"name.png\"".to_vec(),
                "filename",
                "long name.png",
            ),
            (
                b"image/jpeg; name=\"=?koi8-r?B?z9vJwsvBLmpwZw==?=\"".to_vec(),
                "name",
                "ошибка.jpg",
            ),
            (raw8, "filename", "схема.bmp"),
            (
                b"text/plain; charset=\"utf-8\"; format=flowed".to_vec(),
                "format",
                "flowed",
            ),
        ];
        for (raw, key, want) in cases {
            let st = parse_structured(&raw);
            assert_eq!(
                st.param(key),
                Some(want),
                "{}",
                String::from_utf8_lossy(&raw)
            );
        }
        assert_eq!(
            parse_structured(b" Text/HTML ; charset=x").value,
            "text/html"
        );
    }
}
