//! The MIME walk: mail-parser gives the structure and header offsets; this
//! module re-reads each leaf from the raw bytes so that charsets follow
//! rule 7 (mail-parser would decode an unknown label as lossy UTF-8) and
//! damaged transfer encodings are read up to the damage (rule 12).
//!
//! Bounds: MIME depth, number of parts, decoded text size. Past a bound the
//! walk stops descending; what was read so far is kept. A forwarded letter
//! (message/rfc822) opens a new *level*: its bodies are kept apart so the
//! form can be read from the forwarded letter (rule 11); its files join the
//! letter's files.

use super::charset::{decode_base64, decode_qp, decode_text, html_meta_charset};
use super::params::{parse_structured, Structured};
use super::ParseLimits;
use mail_parser::{HeaderName, Message, MessagePart, PartType};

/// A text body of one level.
#[derive(Debug, Clone)]
pub struct Body {
    pub html: bool,
    /// Decoded text (HTML source for HTML bodies).
    pub text: String,
    pub flowed: bool,
    pub delsp: bool,
}

/// A file found in the letter, not yet judged.
#[derive(Debug, Clone)]
pub struct RawFile {
    /// Decoded name as the letter gives it (full path possibly), or None.
    pub name: Option<String>,
    /// Declared `type/subtype`.
    pub declared: String,
    /// The bytes; only a prefix when the file is over the size limit.
    pub data: Vec<u8>,
    /// Decoded size in bytes.
    pub size: usize,
}

/// Everything the walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Bodies per level: `levels[0]` is the letter itself, later entries are
    /// forwarded letters in the order met.
    pub levels: Vec<Vec<Body>>,
    pub files: Vec<RawFile>,
    /// Content types of every part seen (for delivery-report detection).
    pub content_types: Vec<String>,
    /// True when a bound stopped the walk.
    pub truncated: bool,
}

struct Ctx<'l> {
    limits: &'l ParseLimits,
    parts_seen: usize,
    text_bytes: usize,
    out: Walked,
}

/// Raw bytes of one header of a part, if present.
fn header_raw<'a>(part: &MessagePart<'_>, raw: &'a [u8], name: HeaderName<'_>) -> Option<&'a [u8]> {
    let h = part.headers.iter().find(|h| h.name == name)?;
    raw.get(h.offset_start as usize..h.offset_end as usize)
}

fn structured(part: &MessagePart<'_>, raw: &[u8], name: HeaderName<'_>) -> Option<Structured> {
    header_raw(part, raw, name).map(parse_structured)
}

/// The body bytes of a leaf part, transfer-decoded from the raw message.
fn leaf_bytes(part: &MessagePart<'_>, raw: &[u8]) -> Vec<u8> {
    let start = part.offset_body as usize;
    let end = (part.offset_end as usize).min(raw.len());
    let body = raw.get(start..end.max(start)).unwrap_or_default();
    let cte = header_raw(part, raw, HeaderName::ContentTransferEncoding)
        .map(|b| String::from_utf8_lossy(b).trim().to_ascii_lowercase())
        .unwrap_or_default();
    match cte.as_str() {
        "base64" => decode_base64(body),
        "quoted-printable" => decode_qp(body),
        _ => {
            let mut v = body.to_vec();
            // The line break before the next boundary belongs to the boundary.
            if v.ends_with(b"\r\n") {
                v.truncate(v.len() - 2);
            } else if v.ends_with(b"\n") {
                v.truncate(v.len() - 1);
            }
            v
        }
    }
}

/// Walk a parsed letter.
pub fn walk(msg: &Message<'_>, limits: &ParseLimits) -> Walked {
    let mut ctx = Ctx {
        limits,
        parts_seen: 0,
        text_bytes: 0,
        out: Walked::default(),
    };
    ctx.out.levels.push(Vec::new());
    walk_message(msg, 0, 0, &mut ctx);
    ctx.out
}

fn walk_message(msg: &Message<'_>, level: usize, depth: usize, ctx: &mut Ctx<'_>) {
    if !msg.parts.is_empty() {
        walk_part(msg, 0, level, depth, ctx);
    }
}

fn walk_part(msg: &Message<'_>, id: usize, level: usize, depth: usize, ctx: &mut Ctx<'_>) {
    if depth > ctx.limits.max_depth || ctx.parts_seen >= ctx.limits.max_parts {
        ctx.out.truncated = true;
        return;
    }
    let Some(part) = msg.parts.get(id) else {
        return;
    };
    ctx.parts_seen += 1;
    let raw: &[u8] = msg.raw_message.as_ref();
    let ct = structured(part, raw, HeaderName::ContentType).unwrap_or_default();
    let ctype = if ct.value.is_empty() {
        "text/plain".to_string()
    } else {
        ct.value.clone()
    };
    ctx.out.content_types.push(ctype.clone());
    match &part.body {
        PartType::Multipart(children) => {
            for &c in children {
                walk_part(msg, c as usize, level, depth + 1, ctx);
            }
        }
        PartType::Message(inner) => {
            let new_level = ctx.out.levels.len();
            ctx.out.levels.push(Vec::new());
            walk_message(inner, new_level, depth + 1, ctx);
        }
        _ => leaf(part, raw, &ct, &ctype, level, ctx),
    }
}

fn leaf(
    part: &MessagePart<'_>,
    raw: &[u8],
    ct: &Structured,
    ctype: &str,
    level: usize,
    ctx: &mut Ctx<'_>,
) {
    let disp = structured(part, raw, HeaderName::ContentDisposition).unwrap_or_default();
    let name = disp
        .param("filename")
        .or_else(|| ct.param("name"))
        .map(|s| s.to_string())
        .filter(|s| !s.trim().is_empty());
    let is_text_body = (ctype == "text/plain" || ctype == "text/html")
        && disp.value != "attachment"
        && name.is_none();
    // Parts of a delivery report, S/MIME or PGP signatures, AppleDouble
    // resource forks: not files the sender attached, so neither kept nor
    // refused.
    let is_report_part = matches!(
        ctype,
        "message/delivery-status"
            | "text/rfc822-headers"
            | "message/disposition-notification"
            | "application/pkcs7-signature"
            | "application/x-pkcs7-signature"
            | "application/pgp-signature"
            | "application/applefile"
    ) || (ctype.starts_with("message/") && name.is_none());
    if is_text_body {
        let mut bytes = leaf_bytes(part, raw);
        let room = ctx.limits.max_text_bytes.saturating_sub(ctx.text_bytes);
        if bytes.len() > room {
            bytes.truncate(room);
            ctx.out.truncated = true;
        }
        ctx.text_bytes += bytes.len();
        let html = ctype == "text/html";
        let label = ct.param("charset").map(|s| s.to_string()).or_else(|| {
            if html {
                html_meta_charset(&bytes)
            } else {
                None
            }
        });
        let text = decode_text(&bytes, label.as_deref());
        let flowed = ct
            .param("format")
            .is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
        let delsp = ct
            .param("delsp")
            .is_some_and(|f| f.eq_ignore_ascii_case("yes"));
        if let Some(l) = ctx.out.levels.get_mut(level) {
            l.push(Body {
                html,
                text,
                flowed,
                delsp,
            });
        }
        return;
    }
    if is_report_part {
        return;
    }
    // A file over the size limit is refused anyway: keep only the bytes
    // needed to say what it is, not a copy of megabytes.
    let max = ctx.limits.max_attachment_bytes;
    let (data, size) = match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) if !part.is_encoding_problem => {
            let size = b.len();
            let keep = if size > max { 64 } else { size };
            (b[..keep.min(size)].to_vec(), size)
        }
        _ => {
            let mut v = leaf_bytes(part, raw);
            let size = v.len();
            v.truncate(max.saturating_add(1));
            (v, size)
        }
    };
    ctx.out.files.push(RawFile {
        name,
        declared: ctype.to_string(),
        data: if size > max {
            data[..data.len().min(64)].to_vec()
        } else {
            data
        },
        size,
    });
}
