//! Composing outgoing letters: templates rendered with a ticket's values,
//! built into RFC 5322 bytes by lettre's builder (addresses, transfer
//! encodings); the Subject is encoded and folded by [`super::header`], so
//! that no header line is over 78 characters where it can be folded and
//! none is ever over 998.
//!
//! Every letter carries a Message-ID generated here (so the outbox row and
//! the letter agree, and replies thread back by In-Reply-To),
//! `Auto-Submitted` and `X-Auto-Response-Suppress: All`, so that well-behaved
//! auto-responders do not answer and ticketd does not answer them (rule 9);
//! automatic notices also carry `Precedence: bulk` (a person's words relayed
//! by the desk do not: they are no notice).

use super::header::{self, short_subject};
use super::texts;
use super::{template, OutgoingLetter};
use crate::desk::Desk;
use crate::parse::Field;
use crate::store::tickets::{AttachmentRow, RejectedRow, Ticket};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("template `{name}`: {reason}")]
    Template { name: String, reason: String },
    #[error("cannot use address `{addr}` for an outgoing letter: {reason}")]
    Address { addr: String, reason: String },
    #[error("cannot build the letter: {0}")]
    Build(String),
}

/// The template texts in force (built-in or the admin's files).
#[derive(Debug, Clone)]
pub struct Texts {
    pub confirmation: String,
    pub clarification: String,
    pub too_large: String,
}

/// Composes letters for one desk.
#[derive(Debug, Clone)]
pub struct Composer {
    from: Mailbox,
    support: String,
    domain: String,
    desk: String,
    texts: Texts,
    /// The texts of mailboxes with their own `templates_dir`, by name.
    mailbox_texts: Vec<(String, Texts)>,
    tz: chrono_tz::Tz,
    /// The desk's priority names, for the routed letter's help.
    priorities: Vec<String>,
    /// `[web] public_url` and the desk's key: every letter to a requester
    /// carries the ticket's signed status link.
    link: Option<(String, crate::workflow::token::ReplyKey)>,
}

/// A letter to compose: the general form behind every kind.
#[derive(Debug, Clone, Default)]
pub struct LetterSpec {
    pub kind: String,
    pub ticket: Option<String>,
    pub to: Vec<String>,
    /// Copy recipients (a `Cc` header; on the envelope too).
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub reply_to: Option<String>,
    /// `auto-replied` (an answer to a letter) or `auto-generated` (a notice).
    pub auto: &'static str,
    /// A person's words relayed by the desk (an engineer's answer, a user's
    /// letter to the line): no `Precedence: bulk`, which is for notices.
    pub relayed: bool,
    /// Files to attach: (filename, content type, bytes).
    pub files: Vec<(String, String, Vec<u8>)>,
    /// An HTML version of `body` (multipart/alternative with the text).
    pub html: Option<String>,
    /// A letter to the ticket's requester: it carries the status link
    /// (when `[web] public_url` is set).
    pub to_requester: bool,
}

impl Composer {
    pub fn new(cfg: &Desk) -> Result<Composer, ComposeError> {
        let load = |name: &str,
                    p: &Option<std::path::PathBuf>,
                    builtin: &str|
         -> Result<String, ComposeError> {
            let Some(p) = p else {
                return Ok(builtin.to_string());
            };
            let body = std::fs::read_to_string(p).map_err(|e| ComposeError::Template {
                name: name.into(),
                reason: format!("cannot read `{}`: {e}", p.display()),
            })?;
            template::check(&body).map_err(|reason| ComposeError::Template {
                name: name.into(),
                reason,
            })?;
            Ok(body)
        };
        let t = &cfg.templates;
        let texts = Texts {
            confirmation: load("confirmation", &t.confirmation, texts::CONFIRMATION)?,
            clarification: load("clarification", &t.clarification, texts::CLARIFICATION)?,
            too_large: load("too_large", &t.too_large, texts::TOO_LARGE)?,
        };
        let mut mailbox_texts = Vec::new();
        for m in &cfg.mailboxes {
            let Some(dir) = m.templates_dir() else {
                continue;
            };
            let own = |file: &str, desk: &str| -> Result<String, ComposeError> {
                let p = dir.join(file);
                if p.exists() {
                    load(
                        &format!("mailboxes {} templates_dir", m.name()),
                        &Some(p),
                        "",
                    )
                } else {
                    Ok(desk.to_string())
                }
            };
            mailbox_texts.push((
                m.name().to_string(),
                Texts {
                    confirmation: own("confirmation.txt", &texts.confirmation)?,
                    clarification: own("clarification.txt", &texts.clarification)?,
                    too_large: own("too_large.txt", &texts.too_large)?,
                },
            ));
        }
        let support = cfg.desk.support_address.to_lowercase();
        let from = Mailbox::new(
            Some(cfg.desk.name.clone()),
            support.parse().map_err(|e| ComposeError::Address {
                addr: support.clone(),
                reason: format!("{e}"),
            })?,
        );
        let domain = support
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default();
        Ok(Composer {
            from,
            support,
            domain,
            texts,
            mailbox_texts,
            desk: cfg.desk.name.clone(),
            tz: cfg.workflow.calendar.time_zone(),
            priorities: cfg
                .workflow
                .priorities
                .iter()
                .map(|p| p.name.clone())
                .collect(),
            link: None,
        })
    }

    /// Put `{public_url}/t/<ticket>-<sig>` into every letter to a requester.
    pub fn set_status_link(&mut self, public_url: &str, key: crate::workflow::token::ReplyKey) {
        self.link = Some((public_url.trim().trim_end_matches('/').to_string(), key));
    }

    /// The ticket's status link, when `[web]` is on.
    pub fn status_link(&self, ticket: &str) -> Option<String> {
        self.link
            .as_ref()
            .map(|(url, key)| crate::workflow::signed::status_link(url, ticket, key))
    }

    /// The body with the status link before the signature (`--`).
    fn with_link(&self, body: &str, ticket: &str) -> String {
        let Some(link) = self.status_link(ticket) else {
            return body.to_string();
        };
        let line = format!("Состояние обращения и подтверждение решения: {link}\n");
        match body.rfind("\n--\n") {
            Some(i) => format!("{}\n\n{line}{}", body[..i].trim_end(), &body[i..]),
            None => format!("{}\n\n{line}", body.trim_end()),
        }
    }

    pub fn desk_name(&self) -> &str {
        &self.desk
    }

    pub fn priority_names(&self) -> &[String] {
        &self.priorities
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.tz
    }

    pub fn support_address(&self) -> &str {
        &self.support
    }

    /// A new Message-ID in the desk's domain (no angle brackets).
    pub fn new_message_id(&self, ticket: Option<&str>) -> String {
        let r: u128 = rand::random();
        match ticket {
            Some(t) => format!("{t}.{r:032x}@{}", self.domain),
            None => format!("{r:032x}@{}", self.domain),
        }
    }

    /// `[TP-2026-000042] subject`, without a second copy of the tag; a very
    /// long subject is shortened with `…` ([`header::short_subject`]).
    pub fn tagged_subject(ticket: &str, subject: &str) -> String {
        let tag = format!("[{ticket}]");
        let rest = short_subject(&subject.replace(&tag, ""));
        if rest.is_empty() {
            tag
        } else {
            format!("{tag} {rest}")
        }
    }

    fn render(
        &self,
        name: &str,
        body: &str,
        value: impl Fn(&str) -> Option<String>,
    ) -> Result<String, ComposeError> {
        template::render(body, |k| {
            if k == "desk" {
                Some(self.desk.clone())
            } else {
                value(k)
            }
        })
        .map_err(|reason| ComposeError::Template {
            name: name.into(),
            reason,
        })
    }

    /// п. 94: the appeal was registered (or, with `missing`, what to add).
    pub fn registration(
        &self,
        t: &Ticket,
        missing: &[Field],
        rejected: &[RejectedRow],
        kept: &[AttachmentRow],
        notes: &[String],
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let form = form_block(t);
        let mut files = attachments_block(kept, rejected);
        for n in notes {
            files.push_str(&format!("\n{n}\n"));
        }
        let missing_list: String = missing
            .iter()
            .map(|f| format!("  — {}\n", missing_label(*f, t)))
            .collect();
        let deadline = self.show_time(t.deadline);
        // The ticket's mailbox's own templates, when it has them.
        let texts = self.texts_of(t.mailbox.as_deref());
        let (name, body, kind) = if missing.is_empty() {
            ("confirmation", &texts.confirmation, "confirmation")
        } else {
            ("clarification", &texts.clarification, "clarification")
        };
        let text = self.render(name, body, |k| {
            Some(match k {
                "ticket" => t.id.clone(),
                "subject" => short_subject(&t.subject),
                "status" => t.status().display_name().to_string(),
                "deadline" => deadline.clone(),
                "missing" => missing_list.clone(),
                "form" => form.clone(),
                "attachments" => files.clone(),
                _ => return None,
            })
        })?;
        self.letter(LetterSpec {
            kind: kind.into(),
            ticket: Some(t.id.clone()),
            to: vec![t.requester.clone()],
            subject: Self::tagged_subject(&t.id, &t.subject),
            body: text,
            to_requester: true,
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }

    /// The texts of `mailbox` (its `templates_dir`'s), else the desk's.
    fn texts_of(&self, mailbox: Option<&str>) -> &Texts {
        mailbox
            .and_then(|m| self.mailbox_texts.iter().find(|(n, _)| n == m))
            .map_or(&self.texts, |(_, texts)| texts)
    }

    /// The polite refusal of a letter over the size limit (that came
    /// through `mailbox`: its template, when it has its own).
    pub fn too_large(
        &self,
        to: &str,
        subject: &str,
        limit_bytes: u64,
        in_reply_to: Option<&str>,
        mailbox: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let limit = super::texts::size_limit(limit_bytes);
        let subject = short_subject(subject);
        let text = self.render("too_large", &self.texts_of(mailbox).too_large, |k| {
            Some(match k {
                "subject" => subject.clone(),
                "limit" => limit.clone(),
                _ => return None,
            })
        })?;
        self.letter(LetterSpec {
            kind: "too_large".into(),
            to: vec![to.to_string()],
            subject: format!("Письмо не принято: {subject}"),
            body: text,
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }

    /// Build any letter.
    pub fn letter(&self, mut spec: LetterSpec) -> Result<OutgoingLetter, ComposeError> {
        if spec.to_requester && spec.to.iter().all(|a| a.trim().is_empty()) {
            return Err(ComposeError::Build(
                "no letter: the requester gave no e-mail address (an appeal taken by phone); the engineer tells them".into(),
            ));
        }
        if let (true, Some(t)) = (spec.to_requester, spec.ticket.as_deref()) {
            spec.body = self.with_link(&spec.body, t);
        }
        let message_id = self.new_message_id(spec.ticket.as_deref());
        let subject = HeaderName::new_from_ascii_str("Subject");
        let encoded = header::unstructured(&subject, &spec.subject);
        let mut b = Message::builder()
            .raw_header(address_header("From", std::slice::from_ref(&self.from)))
            .raw_header(HeaderValue::dangerous_new_pre_encoded(
                subject,
                spec.subject.clone(),
                encoded,
            ))
            .message_id(Some(format!("<{message_id}>")));
        let mut to = Vec::new();
        let mut to_boxes = Vec::new();
        for addr in &spec.to {
            let mb: Mailbox = addr.parse().map_err(|e| ComposeError::Address {
                addr: addr.clone(),
                reason: format!("{e}"),
            })?;
            to.push(mb.email.to_string());
            to_boxes.push(mb);
        }
        if !to_boxes.is_empty() {
            b = b.raw_header(address_header("To", &to_boxes));
        }
        let mut cc_boxes = Vec::new();
        for addr in &spec.cc {
            let mb: Mailbox = addr.parse().map_err(|e| ComposeError::Address {
                addr: addr.clone(),
                reason: format!("{e}"),
            })?;
            to.push(mb.email.to_string());
            cc_boxes.push(mb);
        }
        if !cc_boxes.is_empty() {
            b = b.raw_header(address_header("Cc", &cc_boxes));
        }
        if let Some(r) = &spec.reply_to {
            let mb: Mailbox = r.parse().map_err(|e| ComposeError::Address {
                addr: r.clone(),
                reason: format!("{e}"),
            })?;
            let mb = Mailbox::new(Some(self.desk.clone()), mb.email);
            b = b.raw_header(address_header("Reply-To", &[mb]));
        }
        let mut refs: Vec<String> = spec
            .references
            .iter()
            .filter(|r| usable_id(r))
            .cloned()
            .collect();
        if let Some(irt) = spec.in_reply_to.as_ref().filter(|r| usable_id(r)) {
            b = b.in_reply_to(format!("<{irt}>"));
            if !refs.contains(irt) {
                refs.push(irt.clone());
            }
        }
        if !refs.is_empty() {
            b = b.references(
                refs.iter()
                    .map(|r| format!("<{r}>"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        let precedence = if spec.relayed { "" } else { "bulk" };
        for (name, value) in [
            ("Auto-Submitted", spec.auto.to_string()),
            ("X-Auto-Response-Suppress", "All".to_string()),
            ("Precedence", precedence.to_string()),
            ("X-Ticketd-Ticket", spec.ticket.clone().unwrap_or_default()),
        ] {
            if !value.is_empty() {
                b = b.raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str(name),
                    value,
                ));
            }
        }
        use lettre::message::{Attachment, MultiPart, SinglePart};
        let alternative = spec
            .html
            .as_ref()
            .map(|h| MultiPart::alternative_plain_html(spec.body.clone(), h.clone()));
        let msg = if spec.files.is_empty() {
            match alternative {
                Some(alt) => b.multipart(alt),
                None => b.header(ContentType::TEXT_PLAIN).body(spec.body.clone()),
            }
        } else {
            let mut mp = match alternative {
                Some(alt) => MultiPart::mixed().multipart(alt),
                None => MultiPart::mixed().singlepart(SinglePart::plain(spec.body.clone())),
            };
            for (name, ct, bytes) in &spec.files {
                let ct = ContentType::parse(ct).unwrap_or(
                    ContentType::parse("application/octet-stream")
                        .map_err(|e| ComposeError::Build(e.to_string()))?,
                );
                mp = mp.singlepart(Attachment::new(name.clone()).body(bytes.clone(), ct));
            }
            b.multipart(mp)
        }
        .map_err(|e| ComposeError::Build(e.to_string()))?;
        let raw = msg.formatted();
        // The folding above makes this impossible; a letter that servers
        // would refuse or cut is never queued all the same.
        if let Some((n, len)) = header::long_header_lines(&raw, header::MAX_LINE).first() {
            return Err(ComposeError::Build(format!(
                "header line {n} is {len} characters long, over the limit of {}",
                header::MAX_LINE
            )));
        }
        Ok(OutgoingLetter {
            message_id,
            ticket_id: spec.ticket,
            kind: spec.kind,
            from: self.support.clone(),
            to,
            raw,
        })
    }
}

/// An address header, folded by [`header::mailboxes`]; lettre reads the
/// plain value (for the envelope), the letter carries the folded one.
fn address_header(name: &'static str, boxes: &[Mailbox]) -> HeaderValue {
    let raw = boxes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let emails: Vec<String> = boxes.iter().map(|m| m.email.to_string()).collect();
    let list: Vec<(Option<&str>, &str)> = boxes
        .iter()
        .zip(&emails)
        .map(|(m, e)| (m.name.as_deref(), e.as_str()))
        .collect();
    let encoded = header::mailboxes(name, &list);
    HeaderValue::dangerous_new_pre_encoded(HeaderName::new_from_ascii_str(name), raw, encoded)
}

/// A Message-ID that can go into In-Reply-To or References: one token,
/// short enough that the line stays under 998 characters (a msg-id cannot
/// be folded).
fn usable_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 900
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// What exactly is missing, in Russian: for the location, the part that is
/// not known (a room without a floor asks only for the floor).
pub fn missing_label(f: Field, t: &Ticket) -> String {
    let known = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    match f {
        Field::Location if known(&t.form.room) && !known(&t.form.floor) => {
            format!(
                "Этаж (кабинет {} указан, этаж — нет)",
                t.form.room.as_deref().unwrap_or_default()
            )
        }
        Field::Location if known(&t.form.floor) && !known(&t.form.room) => {
            format!(
                "Номер кабинета (этаж {} указан, кабинет — нет)",
                t.form.floor.as_deref().unwrap_or_default()
            )
        }
        other => other.russian_name().to_string(),
    }
}

/// The phone as people dial it: the number and its extension
/// (`+74012551234 доб. 204`); `None` when neither is known.
pub fn phone_with_ext(phone: Option<&str>, ext: Option<&str>) -> Option<String> {
    fn known(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    match (known(phone), known(ext)) {
        (Some(p), Some(e)) => Some(format!("{p} доб. {e}")),
        (Some(p), None) => Some(p.to_string()),
        (None, Some(e)) => Some(format!("доб. {e}")),
        (None, None) => None,
    }
}

/// The Table 2 form as a block of `title: value` lines. A mandatory field
/// not given shows as a blank to fill (`________`); the optional note
/// (п. 91) is left out when there is none — a blank would ask for it.
pub fn form_block(t: &Ticket) -> String {
    let v = |o: &Option<String>| {
        o.clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "________".into())
    };
    let location = match (&t.form.room, &t.form.floor, &t.form.location) {
        (Some(r), Some(f), _) => format!("кабинет {r}, этаж {f}"),
        (_, _, l) => v(l),
    };
    let mut desc = v(&t.form.description);
    if desc.chars().count() > 500 {
        desc = desc.chars().take(500).collect::<String>() + "…";
    }
    let phone = phone_with_ext(t.form.phone.as_deref(), t.form.phone_ext.as_deref());
    let note = t.form.note.clone().filter(|s| !s.trim().is_empty());
    [
        (Field::Organization, Some(v(&t.form.organization))),
        (Field::FullName, Some(v(&t.form.full_name))),
        (Field::Location, Some(location)),
        (Field::Phone, Some(v(&phone))),
        (Field::Description, Some(desc)),
        (Field::Note, note),
    ]
    .iter()
    .filter_map(|(f, val)| {
        val.as_ref()
            .map(|val| format!("  {}: {}\n", f.russian_name(), val))
    })
    .collect()
}

/// Files kept and refused, in plain Russian (empty when there were none).
pub fn attachments_block(kept: &[AttachmentRow], rejected: &[RejectedRow]) -> String {
    let mut s = String::new();
    if !kept.is_empty() {
        s.push_str("\nПринятые файлы:\n");
        for a in kept {
            s.push_str(&format!("  — {} ({} байт)\n", a.filename, a.size));
        }
    }
    if !rejected.is_empty() {
        s.push_str("\nНе приняты файлы (допускаются JPG, PNG, PDF, BMP):\n");
        for r in rejected {
            s.push_str(&format!(
                "  — {}: {}\n",
                r.filename,
                texts::rejection_reason(&r.reason)
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests;
