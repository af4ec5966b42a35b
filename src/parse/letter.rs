//! One letter end to end: headers, machine detection, bodies per level,
//! the form from the most readable body, attachments.

use super::attach::is_tnef;
use super::attach::judge;
use super::auto::{auto_submitted, body_reason, machine_reason};
use super::blocks::{from_plain, Block};
use super::charset::fallback_decode;
use super::form::{read, Reading};
use super::html::to_blocks;
use super::mime::{walk, Body, RawFile, Walked};
use super::quote::{below_cut, strip_quotes};
use super::sender::recover;
use super::tnef;
use super::{Address, ParseLimits, ParseOptions, ParsedLetter};
use mail_parser::{HeaderValue, MessageParser};
use std::borrow::Cow;

/// Longest header value copied for machine detection.
const MAX_HEADER_COPY: usize = 2048;

/// Where the top-level header block ends (offset of the blank line), found
/// in one linear pass.
fn header_end(raw: &[u8]) -> usize {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\n' {
            let next = raw.get(i + 1).copied();
            if next == Some(b'\n') || (next == Some(b'\r') && raw.get(i + 2) == Some(&b'\n')) {
                return i + 1;
            }
        }
        i += 1;
    }
    raw.len()
}

/// Raw 8-bit header lines that are not UTF-8 are re-read as windows-1251
/// (rule 7), so mail-parser sees text it can decode.
fn normalize_headers(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = header_end(raw);
    let head = &raw[..end];
    if std::str::from_utf8(head).is_ok() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + end / 2);
    for line in head.split_inclusive(|b| *b == b'\n') {
        if std::str::from_utf8(line).is_ok() {
            out.extend_from_slice(line);
        } else {
            out.extend_from_slice(fallback_decode(line).as_bytes());
        }
    }
    out.extend_from_slice(&raw[end..]);
    Cow::Owned(out)
}

fn first_address(v: Option<&mail_parser::Address<'_>>) -> Option<Address> {
    let v = v?;
    let addrs: Vec<&mail_parser::Addr<'_>> = match v {
        mail_parser::Address::List(l) => l.iter().collect(),
        mail_parser::Address::Group(g) => g.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    addrs.into_iter().find_map(to_address)
}

fn to_address(a: &mail_parser::Addr<'_>) -> Option<Address> {
    // ASCII only: Unicode lower-casing folds look-alikes (a Kelvin sign to
    // `k`); comparisons normalise with NFKC in `workflow::address`.
    let email = a.address.as_ref()?.trim().to_ascii_lowercase();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || domain.is_empty() || email.contains(char::is_whitespace) {
        return None;
    }
    Some(Address {
        name: a
            .name
            .as_ref()
            .map(|n| {
                n.trim_matches(|c: char| c.is_whitespace() || c == '<' || c == '>')
                    .to_string()
            })
            .filter(|n| !n.is_empty()),
        email,
    })
}

fn all_addresses(v: Option<&mail_parser::Address<'_>>) -> Vec<Address> {
    match v {
        Some(mail_parser::Address::List(l)) => l.iter().filter_map(to_address).collect(),
        Some(mail_parser::Address::Group(g)) => g
            .iter()
            .flat_map(|g| g.addresses.iter())
            .filter_map(to_address)
            .collect(),
        None => Vec::new(),
    }
}

/// Number of addresses in a header value.
fn count_addresses(v: &mail_parser::Address<'_>) -> usize {
    match v {
        mail_parser::Address::List(l) => l.len(),
        mail_parser::Address::Group(g) => g.iter().map(|g| g.addresses.len()).sum(),
    }
}

/// The sender: the first address of the FIRST `From` header (mail-parser
/// keeps the last), and whether the letter names several (several `From`
/// headers, or several addresses in one): such a letter is never taken as
/// an engineer's.
fn first_from(msg: &mail_parser::Message<'_>) -> (Option<Address>, bool) {
    let froms: Vec<&mail_parser::Address<'_>> = msg
        .parts
        .first()
        .map(|p| {
            p.headers
                .iter()
                .filter(|h| h.name == mail_parser::HeaderName::From)
                .filter_map(|h| h.value.as_address())
                .collect()
        })
        .unwrap_or_default();
    match froms.first() {
        Some(first) => (
            first_address(Some(first)),
            froms.len() > 1 || count_addresses(first) > 1,
        ),
        None => (first_address(msg.from()), false),
    }
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// One level's bodies as blocks: its plain text and its HTML.
fn level_blocks(bodies: &[Body], max_html: usize) -> (Vec<Block>, Vec<Block>) {
    let mut plain: Vec<Block> = Vec::new();
    let mut html: Vec<Block> = Vec::new();
    for b in bodies {
        if b.html {
            let mut end = b.text.len().min(max_html);
            while !b.text.is_char_boundary(end) {
                end -= 1;
            }
            html.extend(to_blocks(&b.text[..end]));
        } else {
            plain.extend(from_plain(&b.text, b.flowed, b.delsp));
        }
    }
    (plain, html)
}

/// Candidate readings of one level (plain, then HTML), each of the part
/// `pick` takes out of the body's blocks.
fn readings_of(
    (plain, html): &(Vec<Block>, Vec<Block>),
    area: &str,
    pick: impl Fn(&[Block]) -> Option<Vec<Block>>,
) -> Vec<Reading> {
    [plain, html]
        .into_iter()
        .filter(|b| !b.is_empty())
        .filter_map(|b| pick(b))
        .map(|b| read(&b, area))
        .collect()
}

/// Candidate readings of one level: its plain text and its HTML, quoted
/// history cut.
fn readings(bodies: &[Body], area: &str, max_html: usize) -> Vec<Reading> {
    readings_of(&level_blocks(bodies, max_html), area, |b| {
        Some(strip_quotes(b))
    })
}

/// A letter in a conversation, whose quoted part may be the desk's own
/// letter: a reply (`In-Reply-To`), or a subject naming a ticket in
/// brackets (`[TP-2026-000042]`, any prefix). Outlook's forward carries
/// neither.
fn in_a_thread(subject: &str, in_reply_to: &[String]) -> bool {
    static TAG: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    !in_reply_to.is_empty()
        || TAG
            .get_or_init(|| regex::Regex::new(r"\[\s*[A-Za-z0-9]+-\d{4}-\d{6,}\s*\]").ok())
            .as_ref()
            .is_some_and(|re| re.is_match(subject))
}

/// Rule 13: a form forwarded below `-----Original Message-----` or
/// Outlook's header block (`quote::below_cut`), read when the sender's own
/// words hold no form field and the letter is not in a thread
/// ([`in_a_thread`]). Only the form comes from there: the sender, the text
/// that commands and confirmations are read from, and machine detection
/// stay the letter's own. The sender's words are the description when the
/// forwarded form has none.
fn forwarded_form(
    blocks: &(Vec<Block>, Vec<Block>),
    own: &Reading,
    in_thread: bool,
    area: &str,
) -> Option<super::Form> {
    if own.score > 0 || in_thread {
        return None;
    }
    let below = best(readings_of(blocks, area, below_cut)).filter(|r| r.score >= 2)?;
    let mut form = below.form;
    if form.description.is_none() {
        form.description.clone_from(&own.form.description);
    }
    Some(form)
}

/// The most readable of the candidates. Ties go to the first (plain before
/// HTML) unless it is a stub next to the other ("view this letter in HTML").
fn best(cands: Vec<Reading>) -> Option<Reading> {
    let mut best: Option<Reading> = None;
    for c in cands {
        let better = match &best {
            None => true,
            // Two readable forms: the sounder layout wins (a table over
            // title paragraphs, whose values shift at an empty cell).
            Some(b) if c.score >= 3 && b.score >= 3 && c.layout != b.layout => c.layout > b.layout,
            Some(b) if c.score != b.score => c.score > b.score,
            Some(b) if c.layout != b.layout => c.layout > b.layout,
            Some(b) => b.text.chars().count() * 3 < c.text.chars().count(),
        };
        if better {
            best = Some(c);
        }
    }
    best
}

/// mail-parser on hostile input: a panic inside it (an arithmetic overflow
/// in its quoted-printable decoder was found by the mutation test) must not
/// take the daemon down, so it is contained here.
fn guarded<T>(f: impl FnOnce() -> Option<T>) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .ok()
        .flatten()
}

/// The top-level headers as (lower-cased name, raw value), values cut at
/// [`MAX_HEADER_COPY`]: what machine detection and sender recovery read.
fn header_list(msg: &mail_parser::Message<'_>) -> Vec<(String, String)> {
    let top_raw: &[u8] = msg.raw_message.as_ref();
    msg.parts
        .first()
        .map(|p| {
            p.headers
                .iter()
                .map(|h| {
                    let s = h.offset_start as usize;
                    let e = (h.offset_end as usize).min(s + MAX_HEADER_COPY);
                    let v = top_raw.get(s..e.max(s)).unwrap_or_default();
                    (
                        h.name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v)
                            .replace(['\r', '\n'], " ")
                            .trim()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The letter when its MIME structure could not be read: headers if they
/// parse, the rest read as one plain-text body.
fn degraded(buf: &[u8], opts: &ParseOptions) -> ParsedLetter {
    let end = header_end(buf);
    let body = buf.get(end..).unwrap_or_default();
    let body = &body[..body.len().min(opts.limits.max_text_bytes)];
    let blocks = from_plain(&fallback_decode(body).replace('\0', ""), false, false);
    let reading = read(&strip_quotes(&blocks), &opts.default_area_code);
    let head = guarded(|| MessageParser::default().parse_headers(&buf[..end]));
    let (from, subject, message_id, headers) = match &head {
        Some(h) => {
            let headers = header_list(h);
            (
                first_from(h).0.or_else(|| recover_sender(&headers)),
                h.subject().unwrap_or_default().replace('\0', ""),
                h.message_id().map(str::to_string),
                headers,
            )
        }
        None => (None, String::new(), None, Vec::new()),
    };
    // Machine mail stays machine mail when its structure is damaged: a
    // bounce read as plain text must not become a ticket and be answered.
    let content_type: Vec<String> = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .into_iter()
        .collect();
    let machine = machine_reason(
        &headers,
        from.as_ref().map(|a| a.email.as_str()),
        &content_type,
    )
    .or_else(|| body_reason(&subject, &reading.text, form_fields(&reading.form)));
    let trace = super::trace::read(buf);
    ParsedLetter {
        message_id,
        subject,
        from,
        machine,
        auto_submitted: auto_submitted(&headers),
        from_ambiguous: trace.from_headers > 1,
        trace,
        form: reading.form,
        text: reading.text,
        notes: vec!["структура письма повреждена: прочитано как простой текст".into()],
        ..Default::default()
    }
}

/// Outlook's winmail.dat (application/ms-tnef): its files join the
/// letter's files, its body becomes the letter's body when the letter has
/// no text of its own (Outlook's "Rich Text" letters carry an empty one).
/// A winmail.dat that gives nothing stays a file, refused with a note
/// telling the sender how to switch Outlook to HTML or plain text.
fn open_winmail(walked: &mut Walked, limits: &ParseLimits) {
    let mut opened = Vec::new();
    walked.files.retain(|f| {
        if !is_tnef(f) || f.size > limits.max_attachment_bytes {
            return true;
        }
        match tnef::read(&f.data, limits.max_attachment_bytes, limits.max_attachments) {
            Some(t) if t.text.is_some() || t.html.is_some() || !t.files.is_empty() => {
                opened.push(t);
                false
            }
            _ => true,
        }
    });
    for t in opened {
        let has_text = walked
            .levels
            .first()
            .is_some_and(|l| l.iter().any(|b| !b.text.trim().is_empty()));
        if !has_text {
            let (html, text) = match (t.html, t.text) {
                (Some(h), _) => (true, h),
                (None, Some(x)) => (false, x),
                (None, None) => (false, String::new()),
            };
            let mut end = text.len().min(limits.max_text_bytes);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            if let Some(l) = walked.levels.first_mut() {
                l.push(Body {
                    html,
                    text: text[..end].replace('\0', ""),
                    flowed: false,
                    delsp: false,
                });
            }
        }
        for f in t.files {
            walked.files.push(RawFile {
                name: f.name,
                declared: "application/octet-stream".into(),
                size: f.data.len(),
                data: f.data,
            });
        }
    }
}

/// A sender from a `From:` mail-parser could not read (rule 10), with
/// `Return-Path` and `Sender` as the only witnesses of an ambiguous one.
fn recover_sender(headers: &[(String, String)]) -> Option<Address> {
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let confirm: Vec<&str> = ["return-path", "sender"]
        .iter()
        .filter_map(|n| get(n))
        .collect();
    recover(get("from")?, &confirm)
}

/// Form fields that only a person fills in (the description is any text).
fn form_fields(f: &super::Form) -> usize {
    [&f.organization, &f.full_name, &f.location, &f.phone]
        .iter()
        .filter(|v| v.is_some())
        .count()
}

pub fn parse(raw: &[u8], opts: &ParseOptions) -> ParsedLetter {
    let buf = normalize_headers(raw);
    let Some(msg) = guarded(|| MessageParser::default().parse(buf.as_ref())) else {
        return degraded(buf.as_ref(), opts);
    };
    let (from, from_ambiguous) = first_from(&msg);
    let headers = header_list(&msg);

    let from = from.or_else(|| recover_sender(&headers));
    let mut walked = walk(&msg, &opts.limits);
    open_winmail(&mut walked, &opts.limits);
    let machine = machine_reason(
        &headers,
        from.as_ref().map(|a| a.email.as_str()),
        &walked.content_types,
    );

    let area = opts.default_area_code.as_str();
    let max_html = opts.limits.max_html_bytes;
    let top = level_blocks(
        walked.levels.first().map(Vec::as_slice).unwrap_or(&[]),
        max_html,
    );
    let outer = best(readings_of(&top, area, |b| Some(strip_quotes(b))));
    // Rule 11: the form comes from a forwarded letter when there is one
    // holding any of it.
    let inner = walked
        .levels
        .iter()
        .skip(1)
        .filter_map(|l| best(readings(l, area, max_html)))
        .filter(|r| r.score > 0)
        .max_by_key(|r| r.score);
    let form = match (&inner, &outer) {
        (Some(i), Some(o)) if o.score > i.score && o.score >= 3 => o.form.clone(),
        (Some(i), _) => i.form.clone(),
        (None, Some(o)) => o.form.clone(),
        (None, None) => Default::default(),
    };
    let text = outer.as_ref().map(|o| o.text.clone()).unwrap_or_default();
    let subject = msg.subject().unwrap_or_default().replace('\0', "");
    let machine = machine.or_else(|| body_reason(&subject, &text, form_fields(&form)));
    // Rule 13, after machine detection: a bounce quoting the desk's letter
    // stays a bounce.
    let in_reply_to = ids(msg.in_reply_to());
    let form = match (&inner, &outer) {
        (None, Some(o)) => {
            forwarded_form(&top, o, in_a_thread(&subject, &in_reply_to), area).unwrap_or(form)
        }
        _ => form,
    };

    let (attachments, rejected, mut notes) = judge(walked.files, &opts.limits);
    let trace = super::trace::read(buf.as_ref());
    if walked.truncated {
        notes.push("письмо прочитано не полностью: превышены пределы разбора".into());
    }

    ParsedLetter {
        message_id: msg.message_id().map(|s| s.to_string()),
        subject,
        from,
        from_ambiguous: from_ambiguous || trace.from_headers > 1,
        trace,
        auto_submitted: auto_submitted(&headers),
        reply_to: first_address(msg.reply_to()),
        to: all_addresses(msg.to()),
        cc: all_addresses(msg.cc()),
        in_reply_to,
        references: ids(msg.references()),
        machine,
        form,
        text,
        attachments,
        rejected,
        notes,
    }
}

#[cfg(test)]
mod tests;
