//! The desk's working letters: the routed letter to a line, notices to
//! lines, relaying an engineer's words to the user, confirmations and
//! refusals of commands, the list of a user's tickets.
//!
//! Their texts are fixed Russian (only the user-facing registration letters
//! are admin templates): they are read by the desk's own staff.

use super::compose::{attachments_block, form_block, ComposeError, Composer, LetterSpec};
use super::header::{short_subject, shorten};
use super::texts::{action_name, actor_name, rejection_reason, status_change};
use super::thread::Thread;
use super::OutgoingLetter;
use crate::store::tickets::{AttachmentRow, HistoryRow, RejectedRow, Ticket};
use crate::workflow::speech::summary_line;
use crate::workflow::status::Status;
use chrono::{DateTime, Utc};

/// A file to attach: (name, content type, bytes).
pub type File = (String, String, Vec<u8>);

/// How to move a ticket by reply, for the routed letter (`{priorities}`:
/// the desk's priority names).
const COMMAND_HELP: &str = "\
Чтобы изменить обращение, ответьте на это письмо (не меняя адрес ответа:
в нём подтверждение, что письмо получено вами), начав текст со строк:
  Статус: Предложено решение        (Новое, Направлено на инженера, Действие пользователя, Предложено решение)
  Линия: 2                          (1, 2 или 3)
  Приоритет: {priority}{pad}({priorities})
  Вид: Инцидент                     (Консультация, Инцидент, Запрос на обслуживание)
  Исполнитель: адрес инженера
Текст после этих строк при статусе «Действие пользователя» или «Предложено решение»
будет отправлен пользователю от имени службы поддержки.";

impl Composer {
    /// Deadline as people read it, in the desk's time zone.
    pub fn show_time(&self, time: Option<DateTime<Utc>>) -> String {
        let Some(t) = time else {
            return "не установлен".into();
        };
        t.with_timezone(&self.time_zone())
            .format("%d.%m.%Y %H:%M")
            .to_string()
    }

    /// [`COMMAND_HELP`] with the desk's priorities.
    fn command_help(&self) -> String {
        let names = self.priority_names();
        let example = names.first().map_or("высокий", String::as_str);
        let pad = " ".repeat(23usize.saturating_sub(example.chars().count()).max(1));
        COMMAND_HELP
            .replace("{priority}", example)
            .replace("{pad}", &pad)
            .replace("{priorities}", &names.join(", "))
    }

    fn summary(&self, t: &Ticket) -> String {
        format!(
            "Обращение: {}\nТема: {}\nСтатус: {}\nВид: {}   Приоритет: {}   Линия: {}\nСрок: {}\nЗаявитель: {}\n",
            t.id,
            short_subject(&t.subject),
            t.status().display_name(),
            t.kind.display_name(),
            t.priority,
            t.line,
            self.show_time(t.deadline),
            t.requester
        )
    }

    /// The ticket sent to a line's mailbox, with form, files and history;
    /// `reply_to` carries the proof of receipt.
    pub fn routed(
        &self,
        t: &Ticket,
        to: &str,
        reply_to: &str,
        why: &str,
        history: &[HistoryRow],
        files: Vec<File>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let mut body = format!("{why}\n\n{}\n{}", self.summary(t), form_block(t));
        body.push_str(&attachments_block(&t.attachments, &t.rejected_attachments));
        if !history.is_empty() {
            body.push_str("\nИстория:\n");
            for h in history {
                let change = status_change(h.from.as_deref(), h.to.as_deref());
                body.push_str(&format!(
                    "  {}  {}  {}{}",
                    self.show_time(crate::store::parse_ts(&h.at)),
                    actor_name(&h.actor),
                    action_name(&h.action),
                    change
                ));
                // The line that says what the letter is about, not its
                // «Добрый день!».
                let d = h.detail.as_deref().map(summary_line).unwrap_or("");
                if !d.is_empty() {
                    body.push_str(&format!(" — {d}"));
                }
                body.push('\n');
            }
        }
        body.push('\n');
        body.push_str(&self.command_help());
        body.push('\n');
        // A ticket with an assignee is addressed to them, the line's
        // mailbox in copy, and names them.
        let (to, cc) = match t.assignee.as_deref() {
            Some(a) if !a.eq_ignore_ascii_case(to) => {
                body = format!("Исполнитель: {a}\n\n{body}");
                (vec![a.to_string()], vec![to.to_string()])
            }
            _ => (vec![to.to_string()], Vec::new()),
        };
        self.letter(LetterSpec {
            kind: "routed".into(),
            ticket: Some(t.id.clone()),
            to,
            cc,
            subject: Self::tagged_subject(&t.id, &t.subject),
            body,
            reply_to: Some(reply_to.to_string()),
            auto: "auto-generated",
            files,
            ..Default::default()
        })
    }

    /// A short notice to a line (escalation, the user confirmed, ...).
    pub fn line_notice(
        &self,
        t: &Ticket,
        to: &str,
        reply_to: Option<String>,
        text: &str,
        files: Vec<File>,
    ) -> Result<OutgoingLetter, ComposeError> {
        self.letter(LetterSpec {
            kind: "notice".into(),
            ticket: Some(t.id.clone()),
            to: vec![to.to_string()],
            subject: Self::tagged_subject(&t.id, &t.subject),
            body: format!("{text}\n\n{}", self.summary(t)),
            reply_to,
            auto: "auto-generated",
            files,
            ..Default::default()
        })
    }

    /// A copy for the 1st line (п. 81), with its proof of receipt.
    pub fn first_line_copy(
        &self,
        t: &Ticket,
        to: &str,
        reply_to: &str,
        text: &str,
    ) -> Result<OutgoingLetter, ComposeError> {
        self.letter(LetterSpec {
            kind: "copy".into(),
            ticket: Some(t.id.clone()),
            to: vec![to.to_string()],
            subject: Self::tagged_subject(&t.id, &t.subject),
            body: format!("{text}\n\n{}\n\n{}", self.summary(t), self.command_help()),
            reply_to: Some(reply_to.to_string()),
            auto: "auto-generated",
            ..Default::default()
        })
    }

    /// п. 94: the appeal was taken in work (routed after registration).
    pub fn taken_in_work(&self, t: &Ticket) -> Result<OutgoingLetter, ComposeError> {
        let body = format!(
            "Здравствуйте!\n\nВаше обращение {} принято в работу и направлено инженеру.\nСрок решения: {}\n\n\
             При переписке по обращению сохраняйте его номер [{}] в теме письма.\n\nЭто письмо отправлено автоматически.\n--\n{}\n",
            t.id,
            self.show_time(t.deadline),
            t.id,
            self.desk_name()
        );
        self.to_requester(t, "in_work", body, Thread::default())
    }

    /// A user's letter relayed to a line: a person's words (no
    /// `Precedence: bulk`), with the files the user sent.
    pub fn relay_to_line(
        &self,
        t: &Ticket,
        to: &str,
        reply_to: Option<String>,
        text: &str,
        files: Vec<File>,
    ) -> Result<OutgoingLetter, ComposeError> {
        self.letter(LetterSpec {
            kind: "from_user".into(),
            ticket: Some(t.id.clone()),
            to: vec![to.to_string()],
            subject: Self::tagged_subject(&t.id, &t.subject),
            body: format!("{text}\n\n{}", self.summary(t)),
            reply_to,
            auto: "auto-generated",
            relayed: true,
            files,
            ..Default::default()
        })
    }

    /// An engineer's words to the user, from the support address, with the
    /// files the engineer attached (already checked like a user's),
    /// threaded under the user's last letter (`thread`).
    pub fn relay_to_user(
        &self,
        t: &Ticket,
        text: &str,
        files: Vec<File>,
        thread: &Thread,
    ) -> Result<OutgoingLetter, ComposeError> {
        let lead = match t.status() {
            Status::SolutionProposed => {
                "По вашему обращению предложено решение. Если оно помогло, ответьте на это письмо словом «Подтверждаю»; если нет — опишите, что не так."
            }
            _ => "По вашему обращению инженеру нужны сведения от вас. Пожалуйста, ответьте на это письмо.",
        };
        let body = format!(
            "Здравствуйте!\n\n{lead}\n\nОбращение: {}\nСтатус: {}\n\n{}\n\n--\n{}\n",
            t.id,
            t.status().display_name(),
            text.trim(),
            self.desk_name()
        );
        self.letter(LetterSpec {
            kind: "to_user".into(),
            ticket: Some(t.id.clone()),
            // The requester's own address, never a Reply-To (README,
            // "Security model").
            to: vec![t.requester.clone()],
            to_requester: true,
            subject: Self::tagged_subject(&t.id, &t.subject),
            body,
            // The user's last letter: mail clients thread the answer.
            in_reply_to: thread.in_reply_to.clone(),
            references: thread.references.clone(),
            auto: "auto-generated",
            relayed: true,
            files,
            ..Default::default()
        })
    }

    /// The desk closed the appeal on the user's behalf (`Статус:
    /// Подтверждено` by an operator): how to reopen it.
    pub fn closed_by_desk(
        &self,
        t: &Ticket,
        by: &str,
        thread: &Thread,
    ) -> Result<OutgoingLetter, ComposeError> {
        let body = format!(
            "Здравствуйте!\n\nВаше обращение {} закрыто службой поддержки ({by}): решение подтверждено.\n\n\
             Если проблема осталась или появилась снова, ответьте на это письмо и опишите, что не так — \
             мы зарегистрируем обращение и свяжем его с этим.\n\nЭто письмо отправлено автоматически.\n--\n{}\n",
            t.id,
            self.desk_name()
        );
        self.to_requester(t, "closed", body, thread.clone())
    }

    /// Thanks without the keyword: ask the user to confirm with «Подтверждаю».
    pub fn ask_to_confirm(
        &self,
        t: &Ticket,
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let body = format!(
            "Здравствуйте!\n\nСпасибо за ответ по обращению {}. Если предложенное решение помогло, подтвердите, пожалуйста, \
             ответом на это письмо со словом «Подтверждаю» в начале — тогда обращение будет закрыто. \
             Если не помогло — опишите, что не так.\n\nЭто письмо отправлено автоматически.\n--\n{}\n",
            t.id,
            self.desk_name()
        );
        let thread = Thread {
            in_reply_to: in_reply_to.map(str::to_string),
            ..Thread::default()
        };
        self.to_requester(t, "ask_confirm", body, thread)
    }

    fn to_requester(
        &self,
        t: &Ticket,
        kind: &str,
        body: String,
        thread: Thread,
    ) -> Result<OutgoingLetter, ComposeError> {
        self.letter(LetterSpec {
            kind: kind.into(),
            ticket: Some(t.id.clone()),
            to: vec![t.requester.clone()],
            to_requester: true,
            subject: Self::tagged_subject(&t.id, &t.subject),
            body,
            in_reply_to: thread.in_reply_to,
            references: thread.references,
            auto: "auto-generated",
            ..Default::default()
        })
    }

    /// The one-line confirmation of an applied command to the engineer:
    /// the files sent on to the user, and the ones refused, with why.
    pub fn command_done(
        &self,
        t: &Ticket,
        to: &str,
        summary: &str,
        sent: &[AttachmentRow],
        refused: &[RejectedRow],
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let mut files = String::new();
        if !sent.is_empty() {
            files.push_str("\nПользователю отправлены файлы:\n");
            for a in sent {
                files.push_str(&format!("  — {} ({} байт)\n", a.filename, a.size));
            }
        }
        if !refused.is_empty() {
            files.push_str("\nНе приняты и пользователю не отправлены файлы:\n");
            for r in refused {
                files.push_str(&format!(
                    "  — {}: {}\n",
                    r.filename,
                    rejection_reason(&r.reason)
                ));
            }
        }
        self.letter(LetterSpec {
            kind: "command_done".into(),
            ticket: Some(t.id.clone()),
            to: vec![to.to_string()],
            subject: format!("[{}] принято: {}", t.id, shorten(summary, 100)),
            body: format!("{}: {summary}\n{files}\n{}", t.id, self.summary(t)),
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }

    /// A refused command or confirmation: what was refused and why; nothing
    /// of the letter was applied.
    pub fn refusal(
        &self,
        ticket: &str,
        to: &str,
        reasons: &[String],
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let mut body =
            format!("{ticket}: письмо не применено, обращение не изменено.\n\nПричины:\n");
        for r in reasons {
            body.push_str(&format!("  — {r}\n"));
        }
        self.letter(LetterSpec {
            kind: "refusal".into(),
            ticket: Some(ticket.to_string()),
            to: vec![to.to_string()],
            subject: format!("[{ticket}] не применено"),
            body,
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }

    /// The list of a user's open tickets (a `статус` letter, п. 7 of 003).
    pub fn status_list(
        &self,
        to: &str,
        tickets: &[Ticket],
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let mut body = String::from("Здравствуйте!\n\n");
        if tickets.is_empty() {
            body.push_str("Открытых обращений с вашего адреса нет.\n");
        } else {
            body.push_str("Ваши открытые обращения:\n\n");
            for t in tickets {
                body.push_str(&format!(
                    "  {}  {}  срок: {}  — {}\n",
                    t.id,
                    t.status().display_name(),
                    self.show_time(t.deadline),
                    short_subject(&t.subject)
                ));
            }
        }
        body.push_str(&format!(
            "\nЭто письмо отправлено автоматически.\n--\n{}\n",
            self.desk_name()
        ));
        self.letter(LetterSpec {
            kind: "status_list".into(),
            to: vec![to.to_string()],
            subject: "Статус ваших обращений".into(),
            body,
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }
}
