//! Reading a letter: raw RFC 5322 bytes → [`ParsedLetter`].
//!
//! Owns everything about understanding what a user's mail client produced:
//! MIME structure and charsets (via mail-parser and encoding_rs), the Table 2
//! form in its many layouts, quoted history and signatures, attachments
//! judged by their bytes, and recognising machine-generated mail. Everything
//! here is a pure function of the bytes and [`ParseOptions`]; nothing here
//! touches the database, the network or the clock.

use serde::Serialize;

/// Bounds applied while reading a letter: past a bound the letter is read as
/// far as it goes, never rejected with a panic.
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Largest attachment kept, in bytes; a larger one is rejected (`size`).
    pub max_attachment_bytes: usize,
    /// Most attachments kept per letter; the rest are rejected (`count`).
    pub max_attachments: usize,
    /// Deepest MIME nesting followed.
    pub max_depth: usize,
    /// Most MIME parts looked at.
    pub max_parts: usize,
    /// Largest text body (decoded) considered for the form, in bytes.
    pub max_text_bytes: usize,
    /// Largest HTML body handed to the HTML parser, in bytes.
    pub max_html_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_attachment_bytes: 10 * 1024 * 1024,
            max_attachments: 20,
            max_depth: 20,
            max_parts: 200,
            max_text_bytes: 1024 * 1024,
            max_html_bytes: 2 * 1024 * 1024,
        }
    }
}

/// What parsing needs from the configuration.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Area code that completes a local number (`4012` → `55-12-34` becomes
    /// `+74012551234`).
    pub default_area_code: String,
    pub limits: ParseLimits,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            default_area_code: "4012".into(),
            limits: ParseLimits::default(),
        }
    }
}

/// An e-mail address with its display name. `email` is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub name: Option<String>,
    pub email: String,
}

/// The Table 2 fields (contract: form field machine names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Organization,
    FullName,
    Location,
    Phone,
    Description,
    Note,
}

impl Field {
    /// Mandatory fields (п. 90), in the order the form lists them.
    pub const MANDATORY: [Field; 4] = [
        Field::FullName,
        Field::Location,
        Field::Phone,
        Field::Description,
    ];

    pub fn machine_name(self) -> &'static str {
        match self {
            Field::Organization => "organization",
            Field::FullName => "full_name",
            Field::Location => "location",
            Field::Phone => "phone",
            Field::Description => "description",
            Field::Note => "note",
        }
    }

    /// The column title of Table 2.
    pub fn russian_name(self) -> &'static str {
        match self {
            Field::Organization => "Наименование органа исполнительной власти",
            Field::FullName => "Ф.И.О. пользователя",
            Field::Location => "Местонахождение (номер кабинета и этаж)",
            Field::Phone => "Номер контактного телефона",
            Field::Description => "Описание возникшей проблемы",
            Field::Note => "Примечание",
        }
    }
}

/// The form as read from a letter. `None` means "not found".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Form {
    pub organization: Option<String>,
    pub full_name: Option<String>,
    /// The location as written (`каб. 305, 3 этаж`).
    pub location: Option<String>,
    /// Room number as written (`305`, `112а`).
    pub room: Option<String>,
    /// Floor number as written (`3`).
    pub floor: Option<String>,
    /// Main phone, normalised to `+7XXXXXXXXXX` where it is Russian.
    pub phone: Option<String>,
    /// Extension digits (`доб. 123` → `123`).
    pub phone_ext: Option<String>,
    pub description: Option<String>,
    pub note: Option<String>,
}

impl Form {
    /// Mandatory fields that are absent (п. 90). `location` counts as
    /// present only when both room and floor are known.
    pub fn missing(&self) -> Vec<Field> {
        let blank = |v: &Option<String>| v.as_deref().map_or(true, |s| s.trim().is_empty());
        let mut out = Vec::new();
        if blank(&self.full_name) {
            out.push(Field::FullName);
        }
        if blank(&self.room) || blank(&self.floor) {
            out.push(Field::Location);
        }
        if blank(&self.phone) {
            out.push(Field::Phone);
        }
        if blank(&self.description) {
            out.push(Field::Description);
        }
        out
    }
}

/// An attachment kept: its bytes are one of the allowed kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Decoded, last path component, extension as written.
    pub filename: String,
    /// What the bytes are: `image/jpeg`, `image/png`, `application/pdf`,
    /// `image/bmp`.
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// An attachment refused, with a reason starting `type`, `size`, `name` or
/// `count`, optionally followed by `: ` and details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedAttachment {
    pub filename: String,
    pub reason: String,
}

/// Everything ticketd needs from one letter.
#[derive(Debug, Clone, Default)]
pub struct ParsedLetter {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// Decoded subject ("" when absent).
    pub subject: String,
    /// `None` when From is missing, empty or holds no address.
    pub from: Option<Address>,
    pub reply_to: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Message-IDs (no angle brackets).
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// `Some(reason)` when the letter is machine-generated (auto-reply,
    /// delivery report, mailing list, bulk): it must never be answered.
    pub machine: Option<String>,
    /// The Table 2 form.
    pub form: Form,
    /// The body as plain text with quoted history and signatures removed:
    /// what reply commands, follow-ups and confirmations are read from.
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub rejected: Vec<RejectedAttachment>,
    /// Remarks for the user or the log (e.g. a winmail.dat that could not be
    /// unpacked).
    pub notes: Vec<String>,
}

impl ParsedLetter {
    /// Where answers go: Reply-To if present, else From.
    pub fn reply_address(&self) -> Option<&Address> {
        self.reply_to.as_ref().or(self.from.as_ref())
    }
}

/// Read a letter. Never panics; malformed input is read as far as it goes.
pub fn parse_letter(raw: &[u8], opts: &ParseOptions) -> ParsedLetter {
    letter::parse(raw, opts)
}

pub mod attach;
pub mod auto;
mod blocks;
pub mod charset;
mod form;
mod html;
mod letter;
mod location;
mod mime;
mod params;
pub mod phone;
mod quote;
mod table;
mod vocab;
