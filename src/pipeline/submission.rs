//! A source-neutral intake: what reaches the desk is a [`Submission`] — a
//! letter as its raw bytes, or an appeal made elsewhere ([`NewAppeal`]: the
//! site's form, a phone call the 1st line takes down). An appeal is not
//! forged into a letter and parsed back: its form, text and files go to
//! the same registration as a letter's (classification, deadline, routing,
//! the confirmation to the requester), its files through the same checks
//! ([`crate::parse::attach::judge`]).
//!
//! Who sent it: a letter's sender is read from the letter; an appeal's
//! requester is what the channel says (the form's e-mail field, the
//! operator's note of the caller). The desk answers that address only, as
//! it answers a letter's From; a channel that can prove the address (a
//! signed link) checks it before it submits.

use super::apply::Ctx;
use super::{IngestError, IngestReport, Outcome, Pipeline};
use crate::parse::{Address, Form, ParsedLetter, RawFile};
use crate::workflow::intake::{self, Intake, IntakeFacts};

/// What reaches the desk.
#[derive(Debug, Clone)]
pub enum Submission {
    /// A letter, as the mail server delivered it (kept as it came).
    Letter(Vec<u8>),
    /// An appeal made through another channel.
    Appeal(Box<NewAppeal>),
}

/// The channel an appeal came through; an appeal is `Web` or `Phone` (a
/// letter comes as [`Submission::Letter`]).
pub use crate::workflow::channel::Channel;

/// A file sent with an appeal (a screenshot, a scan).
#[derive(Debug, Clone)]
pub struct AppealFile {
    pub filename: String,
    /// As the channel declared it (`image/png`); the bytes decide.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// An appeal made outside the mail: the Table 2 form, free text, files.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub channel: Channel,
    /// The channel's own id of this appeal (a form submission's id, a call
    /// record's number): the same key twice is one appeal.
    pub key: String,
    /// The requester's e-mail address: where the desk writes.
    pub requester: String,
    pub subject: String,
    pub form: Form,
    /// What the requester said beyond the form fields.
    pub text: String,
    pub files: Vec<AppealFile>,
    /// The engineer who took a phone appeal down (stored as the ticket's
    /// `registered_by`).
    pub registered_by: Option<String>,
}

/// Longest channel key kept (a key is an id, not a text).
const MAX_KEY: usize = 200;
/// Longest subject kept, in characters (a subject is one line).
const MAX_SUBJECT: usize = 250;

impl Pipeline {
    /// Take in whatever reached the desk.
    pub fn submit(&mut self, s: Submission) -> Result<IngestReport, IngestError> {
        match s {
            Submission::Letter(raw) => self.ingest(&raw),
            Submission::Appeal(a) => self.submit_appeal(*a),
        }
    }

    /// Register an appeal made outside the mail. The same channel key again
    /// is a duplicate; a requester that is no usable address, or the desk's
    /// own, is refused ([`IngestError::Appeal`]).
    pub fn submit_appeal(&mut self, a: NewAppeal) -> Result<IngestReport, IngestError> {
        let key = a.key.trim();
        if a.channel == Channel::Email {
            return Err(IngestError::Appeal(
                "a letter is submitted as Submission::Letter, not as an appeal".into(),
            ));
        }
        if key.is_empty() || key.len() > MAX_KEY || key.chars().any(char::is_control) {
            return Err(IngestError::Appeal(format!(
                "the {} appeal's key must be 1–{MAX_KEY} printable characters",
                a.channel.machine_name()
            )));
        }
        let identity = format!("appeal:{}:{key}", a.channel.machine_name());
        if let Some(seen) = self.store.seen(&identity)? {
            return Ok(IngestReport {
                message_id: None,
                outcome: Outcome::Duplicate,
                ticket: seen.ticket_id,
                reason: Some(format!(
                    "appeal {identity} already processed as {}",
                    seen.outcome
                )),
                queued_mail: false,
            });
        }
        self.register_appeal(a, &identity, &[])
    }

    /// Register `a` under `identity` (its exactly-once key), keeping `raw`
    /// (the letter a phone appeal came in, if any). A phone appeal may
    /// have no requester (a caller without e-mail): then nobody is
    /// written to but the engineer.
    pub(super) fn register_appeal(
        &mut self,
        a: NewAppeal,
        identity: &str,
        raw: &[u8],
    ) -> Result<IngestReport, IngestError> {
        let key = a.key.trim();
        let requester = crate::address::canonical(a.requester.trim());
        let anonymous = requester.is_empty() && a.channel == Channel::Phone;
        if !anonymous && !plausible_address(&requester) {
            return Err(IngestError::Appeal(format!(
                "`{}` is not an e-mail address the desk can answer (name@domain)",
                a.requester
            )));
        }
        let facts = IntakeFacts {
            from: Some(&requester),
            machine: None,
            own_addresses: &self.own_addresses,
            line_mailboxes: &[],
            tagged_ticket: None,
            threaded_ticket: None,
        };
        if !anonymous && intake::decide(&facts) != Intake::New {
            return Err(IngestError::Appeal(format!(
                "`{requester}` is one of the desk's own addresses; an appeal needs the requester's"
            )));
        }
        // Bounded like a letter: everything together within `[mailbox]
        // max_letter_mb`.
        let size = a.subject.len()
            + a.text.len()
            + form_values(&a.form).map(str::len).sum::<usize>()
            + a.files
                .iter()
                .map(|f| f.data.len() + f.filename.len())
                .sum::<usize>();
        let limit = self.cfg.max_letter_bytes();
        if u64::try_from(size).unwrap_or(u64::MAX) > limit {
            return Err(IngestError::Appeal(format!(
                "{size} bytes is over [mailbox] max_letter_mb ({limit} bytes)"
            )));
        }
        let subject = one_line(&a.subject, MAX_SUBJECT);
        let subject = if subject.is_empty() {
            match a.channel {
                Channel::Web => "Обращение с сайта".to_string(),
                Channel::Phone => "Обращение по телефону".to_string(),
                Channel::Email => "Обращение".to_string(),
            }
        } else {
            subject
        };
        // One-line fields stay one line; the description and the note
        // keep their line breaks.
        let mut form = a.form;
        for (i, v) in form_slots(&mut form).into_iter().enumerate() {
            if let Some(s) = v.as_mut() {
                *s = if i < 7 {
                    one_line(s, MAX_SUBJECT)
                } else {
                    plain_text(s)
                };
            }
        }
        let raw_files = a
            .files
            .into_iter()
            .map(|f| RawFile {
                name: Some(f.filename),
                declared: f.content_type,
                size: f.data.len(),
                data: f.data,
            })
            .collect();
        let (attachments, rejected, notes) =
            crate::parse::attach::judge(raw_files, &self.opts.limits);
        let parsed = ParsedLetter {
            subject,
            from: (!anonymous).then(|| Address {
                name: form.full_name.as_deref().map(|n| one_line(n, MAX_SUBJECT)),
                email: requester,
            }),
            form,
            text: plain_text(&a.text),
            attachments,
            rejected,
            notes,
            ..Default::default()
        };
        let kept = if parsed.attachments.is_empty() {
            None
        } else {
            Some(super::apply::store_files(
                &self.desk(),
                &parsed.attachments,
            )?)
        };
        let ctx = Ctx {
            identity,
            raw,
            parsed: &parsed,
            now: self.clock.now(),
            kept: kept.as_deref(),
            channel: a.channel,
            registered_by: a.registered_by.as_deref(),
            mailbox: None,
        };
        tracing::info!(channel = a.channel.machine_name(), key, "appeal submitted");
        super::create::create(self, &ctx)
    }
}

/// The form's values, for measuring.
fn form_values(f: &Form) -> impl Iterator<Item = &str> {
    [
        &f.organization,
        &f.full_name,
        &f.location,
        &f.room,
        &f.floor,
        &f.phone,
        &f.phone_ext,
        &f.description,
        &f.note,
    ]
    .into_iter()
    .filter_map(|v| v.as_deref())
}

/// The form's values: the seven one-line fields, then the description and
/// the note.
fn form_slots(f: &mut Form) -> [&mut Option<String>; 9] {
    [
        &mut f.organization,
        &mut f.full_name,
        &mut f.location,
        &mut f.room,
        &mut f.floor,
        &mut f.phone,
        &mut f.phone_ext,
        &mut f.description,
        &mut f.note,
    ]
}

/// One line of at most `max` characters: control characters (CR, LF, tab,
/// ESC…) become spaces, runs of spaces one.
fn one_line(s: &str, max: usize) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// Text as people wrote it: line breaks as `\n`, tabs kept, other control
/// characters dropped.
fn plain_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// `name@domain.tld` with nothing a mail header could misread.
fn plausible_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::{one_line, plain_text, plausible_address};

    #[test]
    fn what_a_channel_sends_is_made_plain() {
        // (subject in, one line out)
        for (s, want) in [
            ("Принтер", "Принтер"),
            (
                "  Принтер\r\nBcc: x@example.org ",
                "Принтер Bcc: x@example.org",
            ),
            ("a\x1b[31mb\tc", "a [31mb c"),
            ("", ""),
        ] {
            assert_eq!(one_line(s, 250), want, "{s:?}");
        }
        assert_eq!(one_line(&"я".repeat(300), 250).chars().count(), 250);
        assert_eq!(
            plain_text("раз\r\nдва\rтри\x07\tчетыре"),
            "раз\nдва\nтри\tчетыре"
        );
    }

    #[test]
    fn requester_addresses() {
        // (address, accepted)
        for (a, ok) in [
            ("ivanova@minfin.example.org", true),
            ("i.ivanova+sed@minfin.example.org", true),
            ("ivanova", false),
            ("@minfin.example.org", false),
            ("ivanova@localhost", false),
            ("ivanova@minfin.example.org.", false),
            ("iva nova@minfin.example.org", false),
            ("ivanova@minfin.example.org\r\nBcc: x@y.z", false),
            ("<ivanova@minfin.example.org>", false),
        ] {
            assert_eq!(plausible_address(a), ok, "{a:?}");
        }
    }
}
