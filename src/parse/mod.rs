//! Reading a letter: raw RFC 5322 bytes → [`ParsedLetter`].
//!
//! Owns everything about understanding what a user's mail client produced:
//! MIME structure and charsets (via mail-parser and encoding_rs), the Table 2
//! form in its many layouts, quoted history and signatures, attachments
//! judged by their bytes, and recognising machine-generated mail. Everything
//! here is a pure function of the bytes and [`ParseOptions`]; nothing here
//! touches the database, the network or the clock.
//!
//! # How a letter is read
//!
//! 1. `letter`: raw 8-bit header lines that are not UTF-8 are re-read as
//!    windows-1251, then mail-parser parses the structure (a panic inside
//!    mail-parser is contained and the letter is read as plain text).
//! 2. `mime`: the walk over parts with bounds (depth, part count, decoded
//!    text size); text leaves are re-decoded from the raw bytes so charsets
//!    follow rule 7; a forwarded message/rfc822 opens a new level.
//! 3. `blocks` / `html`: each body becomes lines and tables.
//! 4. `quote`: quoted history and signatures are cut.
//! 5. `form` / `table` / `vocab` / `location` / `phone`: Table 2 is read;
//!    the most readable body wins (plain or HTML), the forwarded letter's
//!    form wins over the forwarder's words (rule 11), and a form forwarded
//!    inline below the history cut point is read when the sender's own
//!    words hold none (rule 13).
//! 6. `attach`: files judged by their bytes; `auto`: machine mail.
//!
//! # Layouts and rules, and the tests that prove them
//!
//! | rule | what | tests |
//! |---|---|---|
//! | 1 | HTML table: header row, numbering row `1..6`, data row; columns in any order; a numbering row `1..6` without titles means the regulation's column order | `table::tests::horizontal_with_numbering_and_reordered_columns`, `table::tests::numbering_row_without_titles_follows_the_regulation`, corpus 001, 002, 022, 027 |
//! | 1 | HTML transposed table (title \| value, optional number column), Word/Outlook markup (spans, `MsoNormal`, `&nbsp;`, conditional comments), layout tables unwrapped, a header table split from its data table, one-column tables of `Key: value` cells | `table::tests::transposed*`, `html::tests::*`, `form::tests::header_table_split_from_data_table`, `form::tests::one_column_table_of_key_value_cells`, `tests/parse_wordings.rs`, corpus 003, 004, 005, 036 |
//! | 1 | pipe tables with/without outer pipes, `\|---\|` rows, rows and headers wrapped by the mailer, format=flowed | `table::tests::pipe_table_wrapped_and_markdown`, `table::tests::pipe_table_hard_wrapped_without_flowed`, `blocks::tests::flowed_unwrap`, corpus 006, 007, 017, 023 |
//! | 1 | tab tables, spreadsheet cells quoted over line breaks | `table::tests::spreadsheet_quoted_tab_rows`, corpus 008, 025 |
//! | 1 | `Key: value` with `:`, ` - `, ` — `, tab (a key is a couple of words or worded as a title: a sentence with a dash is text); numbered items; value on the next line; value over several lines; only known titles start a field | `form::tests::key_value_layouts`, `form::tests::separate_room_and_floor_keys`, `form::tests::other_wordings`, `form::tests::problem_written_under_the_form_without_key`, `tests/parse_wordings.rs`, corpus 009–016, 048 |
//! | 1 | titles as paragraphs (title line, value line; or all titles, numbering, values — Outlook's text rendering of a table) | `paragraphs::tests::*`, `tests/parse_wordings.rs` (`titles_as_paragraphs_after_a_key_value_line`) |
//! | 1 | unlabelled lines that are plainly a location (`Каб. 7, 2 эт.`) or a phone (`тел. ...`) | `form::tests::key_value_layouts`, corpus 014, 050 |
//! | 1 | the one title vocabulary | `vocab::tests::titles` |
//! | 2 | name and place in one cell or key | `location::tests::name_and_place`, `form::tests::combined_title_as_key_and_postal_index`, corpus 001, 005, 013 |
//! | 3 | room and floor from every common wording; postal index and house numbers are neither; bare `305/3` under a room/floor title | `location::tests::*`, corpus 012, 026, 027, 030 |
//! | 4 | phone normalisation, area code, extension, first number only, digits elsewhere never a phone | `phone::tests::phones`, `form::tests::digits_elsewhere_never_phone`, corpus 021–025 |
//! | 5 | quoted history, attributions, Outlook blocks, `-- ` alone on its line (not `--- text`) and mobile signatures, closings (`С уважением`) end the form; a short paragraph before a real `-- ` is text, not a signature; inline forwards keep their text; an attribution ends with its verb (`пишет:`, `написал(а):`, `wrote:`), a date after it, or the sender's address — an introductory sentence before the form («Писал вчера, ответа так и не получил. Повторяю:») is text; free text as description; 20 KB descriptions whole | `quote::tests::cut_points`, `letter::tests::introductory_lines_before_the_form`, `form::tests::free_text_is_description_without_key`, `tests/parse_letters2.rs`, `form::tests::signature_phone_is_not_the_phone`, corpus 028, 044, 045, 048, 049, 050 |
//! | 6 | mandatory fields | [`Form::missing`], corpus 026–030 |
//! | 7 | charsets: declared, RFC 2047/2231, HTML `<meta>` (`gb2312` and GBK's labels as GB18030), unknown or missing label → UTF-8 if valid else windows-1251 (KOI8-R or CP866 when the text reads so); a declared UTF-8/windows-1251/KOI8-R/CP866 that does not read as Russian → the one of the three that does (`us-ascii` on 8-bit bytes counts as missing; UTF-7 and other labels encoding_rs lacks through mail-parser's decoders); 8-bit headers and file names | `charset::tests::*`, `params::tests::parameters`, `tests/parse_letters2.rs`, corpus 003, 014, 016, 017, 019, 020, 037, 055 |
//! | 8 | attachments by magic bytes; names decoded and reduced to the last path component; bidi controls → `name`; `size`, `count`; inline cid images; files in forwarded letters; winmail.dat (TNEF) opened: its body and files, a note when it gives nothing | `attach::tests::judged_by_bytes`, `tnef::tests::*`, `tests/parse_letters2.rs`, corpus 018, 031–037, 046, 047 |
//! | 9 | auto-replies, DSNs, lists (From = support address is the caller's check) | `auto::tests::real_header_sets`, corpus 038–042 |
//! | 9 | `Auto-Submitted` other than `no`/`auto-replied`/`auto-generated`/`auto-notified` (`auto-forwarded`): an appeal without an automatic answer; out-of-office and bounce notices without headers, by subject **and** text | `tests/parse_letters2.rs`, `auto::tests::*` |
//! | 10 | a slightly broken From (stray `>`, spaces in the brackets) recovered when unambiguous | `sender::tests::broken_from_values`, `tests/parse_letters2.rs` |
//! | 11 | forwarded message/rfc822: form and files from the inner letter | corpus 047 |
//! | 13 | a form forwarded inline below `-----Original Message-----` / `-----Исходное сообщение-----`, Outlook's `От:`/`Отправлено:`/`Кому:`/`Тема:` block (with or without underscores) or an unmarked attribution: read when the sender's own words hold no form field and the form below has two fields or more, its header block skipped; never in a thread (a reply with `In-Reply-To`, or a `[XX-YYYY-NNNNNN]` tag in the subject: the quote may be the desk's letter); the sender's words are the description when the form has none; the sender (From), the text and machine detection stay the letter's own; a template's `________` is no value | `quote::tests::below_the_cut_point`, `letter::tests::form_forwarded_below_the_history_cut`, `letter::tests::forwarded_form_not_read`, `form::tests::template_blanks_are_no_value`, `tests/conversation/forms.rs` |
//! | 12 | malformed input: broken base64, missing closing boundary, deep nesting, 2 MB header lines, NULs, no sender; hostile HTML (nesting capped before html5ever) and text (linear form reading) | `charset::tests::transfer_encodings`, `html::tests::nesting_capped_text_kept`, `tests/parse_robust.rs`, `tests/parse_realworld.rs`, corpus 051–060 |
//!
//! The corpus test is `tests/parse_corpus.rs`; the fuzz target is
//! `fuzz/fuzz_targets/parse_letter.rs`; throughput is `benches/parse.rs`.

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

/// A form field (or part of one) by its machine name (as in
/// `missing_fields`), as people read it: `organization` → «организация».
pub fn field_name(machine: &str) -> &str {
    match machine {
        "organization" => "организация",
        "full_name" => "Ф.И.О.",
        "location" => "местонахождение",
        "room" => "кабинет",
        "floor" => "этаж",
        "phone" => "телефон",
        "phone_ext" => "добавочный номер",
        "description" => "описание проблемы",
        "note" => "примечание",
        other => other,
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
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
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

    /// Fill this form's empty fields from `answer` (a user's later letter);
    /// returns the machine names of the fields filled. A field already
    /// given is never overwritten; the location's parts and the phone's
    /// extension are taken only while the room/floor or the phone are
    /// still unknown, so an answer cannot mix two locations or phones.
    pub fn fill_from(&mut self, answer: &Form) -> Vec<&'static str> {
        let mut filled = Vec::new();
        let mut take = |slot: &mut Option<String>, v: &Option<String>, name: &'static str| {
            let empty = slot.as_deref().is_none_or(|s| s.trim().is_empty());
            if empty && v.as_deref().is_some_and(|s| !s.trim().is_empty()) {
                slot.clone_from(v);
                filled.push(name);
            }
        };
        take(&mut self.organization, &answer.organization, "organization");
        take(&mut self.full_name, &answer.full_name, "full_name");
        if self.room.is_none() || self.floor.is_none() {
            take(&mut self.location, &answer.location, "location");
            take(&mut self.room, &answer.room, "room");
            take(&mut self.floor, &answer.floor, "floor");
        }
        if self.phone.is_none() {
            take(&mut self.phone_ext, &answer.phone_ext, "phone_ext");
        }
        take(&mut self.phone, &answer.phone, "phone");
        take(&mut self.description, &answer.description, "description");
        take(&mut self.note, &answer.note, "note");
        filled
    }
}

#[cfg(test)]
mod form_tests {
    use super::Form;

    fn f(room: Option<&str>, phone: Option<&str>, ext: Option<&str>, desc: Option<&str>) -> Form {
        Form {
            room: room.map(Into::into),
            floor: room.map(|_| "3".into()),
            phone: phone.map(Into::into),
            phone_ext: ext.map(Into::into),
            description: desc.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn an_answer_fills_only_what_is_empty() {
        // (ticket's form, the answer, fields filled, room, phone+ext after)
        let cases = [
            (
                f(None, None, None, Some("принтер")),
                f(
                    Some("305"),
                    Some("+74012551234"),
                    Some("204"),
                    Some("другое"),
                ),
                vec!["room", "floor", "phone_ext", "phone"],
                (Some("305"), Some("+74012551234"), Some("204")),
            ),
            (
                f(Some("101"), Some("+74950000000"), None, Some("принтер")),
                f(Some("305"), Some("+74012551234"), Some("204"), None),
                vec![],
                (Some("101"), Some("+74950000000"), None),
            ),
            (
                f(None, Some("+74950000000"), None, Some("принтер")),
                f(Some("305"), None, Some("204"), None),
                vec!["room", "floor"],
                (Some("305"), Some("+74950000000"), None),
            ),
            (
                f(None, None, None, Some("  ")),
                f(None, None, None, Some("Не печатает")),
                vec!["description"],
                (None, None, None),
            ),
        ];
        for (mut form, answer, filled, (room, phone, ext)) in cases {
            assert_eq!(form.fill_from(&answer), filled, "{answer:?}");
            assert_eq!(
                (
                    form.room.as_deref(),
                    form.phone.as_deref(),
                    form.phone_ext.as_deref()
                ),
                (room, phone, ext)
            );
        }
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
    /// `None` when From is missing, empty or holds no address. The first
    /// address of the first `From` header.
    pub from: Option<Address>,
    /// Several `From` headers, or several addresses in From: the letter is
    /// never taken as an engineer's.
    pub from_ambiguous: bool,
    /// The top trace headers and the delivered-to address.
    pub trace: trace::Trace,
    pub reply_to: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Message-IDs (no angle brackets).
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// `Some(reason)` when the letter is machine-generated (auto-reply,
    /// delivery report, mailing list, bulk): it must never be answered.
    pub machine: Option<String>,
    /// The `Auto-Submitted` keyword when present and not `no` (lower-case,
    /// parameters cut). With `machine` unset (`auto-forwarded` and other
    /// values) the letter is an appeal that gets no automatic answer.
    pub auto_submitted: Option<String>,
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
    /// Where answers go: the sender (From). Reply-To is never followed
    /// (README, "Security model"): anyone may write any Reply-To, and a
    /// letter about a ticket holds the requester's data.
    pub fn reply_address(&self) -> Option<&Address> {
        self.from.as_ref()
    }

    /// A Reply-To that names another address than From.
    pub fn differing_reply_to(&self) -> Option<&Address> {
        let r = self.reply_to.as_ref()?;
        let f = self.from.as_ref()?;
        (crate::address::canonical(&r.email) != crate::address::canonical(&f.email)).then_some(r)
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
pub mod filetype;
mod form;
mod html;
mod letter;
pub mod location;
mod mime;
pub use mime::RawFile;
mod paragraphs;
mod params;
pub mod phone;
mod quote;
mod sender;
pub mod sentence;
mod table;
pub mod tnef;
pub mod trace;
mod vocab;

/// The Table 2 form in a plain text (not a letter): a phone appeal's body
/// with the caller's line taken out. `area_code` completes a local phone.
pub fn form_in_text(text: &str, area_code: &str) -> Form {
    let blocks = quote::strip_quotes(&blocks::from_plain(text, false, false));
    form::read(&blocks, area_code).form
}

/// Each reader of outside bytes on its own, for the fuzz targets in
/// `fuzz/` (the letter as a whole is [`parse_letter`]). Not an API.
#[doc(hidden)]
pub mod fuzzing {
    use super::blocks::from_plain;
    use super::form::read;
    use super::quote::strip_quotes;
    use super::Form;

    /// Plain text → lines (format=flowed when asked) → quotes cut → form.
    pub fn form_text(text: &str, flowed: bool, delsp: bool) -> (Form, String) {
        let r = read(&strip_quotes(&from_plain(text, flowed, delsp)), "4012");
        (r.form, r.text)
    }

    /// HTML → lines and tables → quotes cut → form.
    pub fn form_html(html: &str) -> (Form, String) {
        let r = read(&strip_quotes(&super::html::to_blocks(html)), "4012");
        (r.form, r.text)
    }
}
