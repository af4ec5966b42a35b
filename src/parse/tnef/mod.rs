//! Outlook's `winmail.dat` (application/ms-tnef, [MS-OXTNEF]): the body
//! and the files an Outlook set to "Rich Text" packs into one attachment.
//!
//! No well-kept crate reads it (`tnef` 0.1 is unmaintained and reads files
//! only, `ytnef` binds a C library), so this is a small reader of exactly
//! what ticketd needs: the attachments (`attAttachRenddata` starts one,
//! `attAttachTitle`, `attAttachData`, and the MAPI properties
//! `PR_ATTACH_LONG_FILENAME` / `PR_ATTACH_DATA_BIN`), and the body
//! (`attBody`, or the MAPI `PR_BODY`, `PR_BODY_HTML`, `PR_RTF_COMPRESSED`,
//! see [`rtf`]). Everything else is skipped.
//!
//! Bounded: every length is checked against the bytes that remain, the
//! number of attributes, properties and files is capped, and the output
//! never exceeds the input's size bounds. Damaged input gives what was read
//! before the damage; it is fuzzed (`fuzz/fuzz_targets/tnef.rs`).

pub mod rtf;

/// `78 9F 3E 22`, the TNEF signature.
pub const SIGNATURE: [u8; 4] = [0x78, 0x9F, 0x3E, 0x22];

/// Most attributes read from one stream.
const MAX_ATTRIBUTES: usize = 4096;
/// Most MAPI properties read from one attribute.
const MAX_PROPS: usize = 4096;
/// Most values of one multi-valued property.
const MAX_VALUES: usize = 1024;

/// A file packed in the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TnefFile {
    pub name: Option<String>,
    pub data: Vec<u8>,
}

/// What came out of a winmail.dat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tnef {
    /// Plain text body (`attBody` or `PR_BODY`, or text made from RTF).
    pub text: Option<String>,
    /// HTML body (`PR_BODY_HTML`, or HTML encapsulated in the RTF).
    pub html: Option<String>,
    pub files: Vec<TnefFile>,
}

/// A little-endian reader over a slice that never reads past its end.
struct Cur<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cur { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
    /// Skip to the next multiple of 4 (MAPI values are padded).
    fn align4(&mut self) {
        let pad = (4 - self.at % 4) % 4;
        self.at = (self.at + pad).min(self.b.len());
    }
}

// Attribute ids (type << 16 | id).
const ATT_BODY: u32 = 0x0002_800C;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_RENDDATA: u32 = 0x0006_9002;
const ATT_MAPI_PROPS: u32 = 0x0006_9003;
const ATT_ATTACHMENT: u32 = 0x0006_9005;
const ATT_OEM_CODEPAGE: u32 = 0x0006_9007;

// MAPI property ids.
const PR_BODY: u16 = 0x1000;
const PR_RTF_COMPRESSED: u16 = 0x1009;
const PR_BODY_HTML: u16 = 0x1013;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;

// MAPI property types.
const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const PT_OBJECT: u16 = 0x000D;
const MV_FLAG: u16 = 0x1000;

/// One MAPI property value worth keeping.
enum Value<'a> {
    Bytes(&'a [u8]),
    Text(String),
}

/// Bytes of a fixed-size property type, `None` for variable-size ones.
fn fixed_size(t: u16) -> Option<usize> {
    Some(match t {
        0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B | 0x0001 | 0x0000 => 4,
        0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => 8,
        0x0048 => 16,
        _ => return None,
    })
}

/// 8-bit text in the stream's code page; Outlook in Russia writes 1251.
fn text8(b: &[u8], codepage: u32) -> String {
    let b = b.split(|c| *c == 0).next().unwrap_or_default();
    let label = match codepage {
        65001 => "utf-8",
        866 => "ibm866",
        20866 => "koi8-r",
        1252 => "windows-1252",
        936 => "gb18030",
        _ => "windows-1251",
    };
    super::charset::decode_text(b, Some(label))
}

fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Read a MAPI property block, calling `keep(id, value)` for the
/// properties ticketd uses. Stops quietly at the first damage.
fn mapi_props<'a>(data: &'a [u8], codepage: u32, mut keep: impl FnMut(u16, Value<'a>)) {
    let mut c = Cur::new(data);
    let Some(count) = c.u32() else { return };
    for _ in 0..(count as usize).min(MAX_PROPS) {
        let (Some(ptype), Some(id)) = (c.u16(), c.u16()) else {
            return;
        };
        if id >= 0x8000 {
            // A named property: GUID, kind, then a number or a name.
            if c.take(16).is_none() {
                return;
            }
            match c.u32() {
                Some(0) => {
                    if c.u32().is_none() {
                        return;
                    }
                }
                Some(1) => {
                    let Some(len) = c.u32() else { return };
                    if c.take(len as usize).is_none() {
                        return;
                    }
                    c.align4();
                }
                _ => return,
            }
        }
        let multi = ptype & MV_FLAG != 0;
        let base = ptype & !MV_FLAG;
        if let Some(size) = fixed_size(base) {
            let n = if multi {
                match c.u32() {
                    Some(n) => (n as usize).min(MAX_VALUES),
                    None => return,
                }
            } else {
                1
            };
            for _ in 0..n {
                if c.take(size).is_none() {
                    return;
                }
            }
            continue;
        }
        if !matches!(base, PT_STRING8 | PT_UNICODE | PT_BINARY | PT_OBJECT) {
            // An unknown type: its size cannot be known, nothing after it
            // can be read safely.
            return;
        }
        // Variable-size values always carry a count, even single ones.
        let Some(n) = c.u32() else { return };
        for i in 0..(n as usize).min(MAX_VALUES) {
            let Some(len) = c.u32() else { return };
            if len as usize > c.left() {
                return;
            }
            let Some(v) = c.take(len as usize) else {
                return;
            };
            c.align4();
            if i == 0 && !multi {
                let v = match base {
                    PT_STRING8 => Value::Text(text8(v, codepage)),
                    PT_UNICODE => Value::Text(utf16(v)),
                    // An embedded object starts with its 16-byte interface id.
                    PT_OBJECT => Value::Bytes(v.get(16..).unwrap_or_default()),
                    _ => Value::Bytes(v),
                };
                keep(id, v);
            }
        }
    }
}

/// Read a winmail.dat. `max_bytes` bounds each file and each body kept.
/// `None` when the bytes are not TNEF at all.
pub fn read(data: &[u8], max_bytes: usize, max_files: usize) -> Option<Tnef> {
    let mut c = Cur::new(data);
    if c.take(4)? != SIGNATURE {
        return None;
    }
    c.u16()?; // legacy key
    let mut out = Tnef::default();
    let mut codepage = 1251u32;
    let mut rtf: Option<Vec<u8>> = None;
    let mut current: Option<TnefFile> = None;
    let mut long_name: Option<String> = None;
    let finish = |f: Option<TnefFile>, long: &mut Option<String>, files: &mut Vec<TnefFile>| {
        if let Some(mut f) = f {
            if let Some(l) = long.take() {
                f.name = Some(l);
            }
            if !f.data.is_empty() && files.len() < max_files {
                files.push(f);
            }
        }
    };
    for _ in 0..MAX_ATTRIBUTES {
        let Some(_level) = c.u8() else { break };
        let (Some(id), Some(len)) = (c.u32(), c.u32()) else {
            break;
        };
        let Some(v) = c.take(len as usize) else { break };
        if c.u16().is_none() {
            break; // checksum; its value is not worth refusing a body over
        }
        match id {
            ATT_OEM_CODEPAGE => {
                if let Some(b) = v.get(..4) {
                    codepage = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            ATT_BODY if out.text.is_none() => {
                out.text = Some(text8(&v[..v.len().min(max_bytes)], codepage));
            }
            ATT_ATTACH_RENDDATA => {
                finish(current.take(), &mut long_name, &mut out.files);
                current = Some(TnefFile::default());
            }
            ATT_ATTACH_TITLE => {
                let f = current.get_or_insert_with(TnefFile::default);
                f.name = Some(text8(v, codepage)).filter(|n| !n.trim().is_empty());
            }
            ATT_ATTACH_DATA => {
                let f = current.get_or_insert_with(TnefFile::default);
                if v.len() <= max_bytes {
                    f.data = v.to_vec();
                }
            }
            ATT_ATTACHMENT => {
                let f = current.get_or_insert_with(TnefFile::default);
                mapi_props(v, codepage, |pid, val| match (pid, val) {
                    (PR_ATTACH_LONG_FILENAME, Value::Text(t)) if !t.trim().is_empty() => {
                        long_name = Some(t)
                    }
                    (PR_ATTACH_FILENAME, Value::Text(t))
                        if f.name.is_none() && !t.trim().is_empty() =>
                    {
                        f.name = Some(t)
                    }
                    (PR_ATTACH_DATA, Value::Bytes(b))
                        if f.data.is_empty() && b.len() <= max_bytes =>
                    {
                        f.data = b.to_vec()
                    }
                    _ => {}
                });
            }
            ATT_MAPI_PROPS => mapi_props(v, codepage, |pid, val| match (pid, val) {
                (PR_BODY, Value::Text(t)) if out.text.is_none() => out.text = Some(t),
                (PR_BODY_HTML, Value::Bytes(b)) if out.html.is_none() => {
                    out.html = Some(text8(&b[..b.len().min(max_bytes)], codepage))
                }
                (PR_BODY_HTML, Value::Text(t)) if out.html.is_none() => out.html = Some(t),
                (PR_RTF_COMPRESSED, Value::Bytes(b)) if rtf.is_none() => {
                    rtf = rtf::decompress(b, max_bytes)
                }
                _ => {}
            }),
            _ => {}
        }
    }
    finish(current.take(), &mut long_name, &mut out.files);
    if out.text.is_none() && out.html.is_none() {
        if let Some(r) = rtf {
            match rtf::to_body(&r, codepage) {
                rtf::Body::Html(h) => out.html = Some(h),
                rtf::Body::Text(t) => out.text = Some(t),
            }
        }
    }
    for t in [&mut out.text, &mut out.html] {
        if t.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *t = None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
