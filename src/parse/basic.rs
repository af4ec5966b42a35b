//! Minimal reader used until the full form reader lands: headers through
//! mail-parser, `Key: value` lines in the text body.

use super::{Address, Form, ParseOptions, ParsedLetter};
use mail_parser::{HeaderValue, MessageParser};

fn first_address(v: Option<&mail_parser::Address>) -> Option<Address> {
    let addr = v?.first()?;
    let email = addr.address.as_ref()?.trim().to_lowercase();
    if !email.contains('@') {
        return None;
    }
    Some(Address {
        name: addr.name.as_ref().map(|n| n.to_string()),
        email,
    })
}

fn ids(v: &HeaderValue) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

pub fn parse(raw: &[u8], _opts: &ParseOptions) -> ParsedLetter {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return ParsedLetter::default();
    };
    let text = msg.body_text(0).map(|t| t.to_string()).unwrap_or_default();
    let mut form = Form::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.to_lowercase(), v.trim().to_string());
        if k.contains("ф.и.о") || k.contains("фио") {
            form.full_name = Some(v);
        } else if k.contains("телефон") {
            form.phone = Some(v);
        } else if k.contains("описание") {
            form.description = Some(v);
        }
    }
    ParsedLetter {
        message_id: msg.message_id().map(|s| s.to_string()),
        subject: msg.subject().unwrap_or_default().to_string(),
        from: first_address(msg.from()),
        reply_to: first_address(msg.reply_to()),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        form,
        text,
        ..Default::default()
    }
}
