//! The 1st line's digest letter (`[desk] first_line_copies = "digest"`):
//! the events of the period grouped by ticket, each ticket with the
//! proof-of-receipt address the 1st line writes to for commanding it (one
//! letter cannot carry one `Reply-To` per ticket).

use super::compose::{ComposeError, Composer, LetterSpec};
use super::OutgoingLetter;
use crate::store::tickets::Ticket;
use chrono::{DateTime, Utc};

/// One ticket's part of the digest.
#[derive(Debug, Clone)]
pub struct DigestTicket {
    pub ticket: Ticket,
    /// The address that accepts the 1st line's commands for this ticket.
    pub proof: String,
    /// (when, what) oldest first.
    pub events: Vec<(DateTime<Utc>, String)>,
}

impl Composer {
    /// The digest to the 1st line's `mailbox`.
    pub fn first_line_digest(
        &self,
        mailbox: &str,
        tickets: &[DigestTicket],
    ) -> Result<OutgoingLetter, ComposeError> {
        let events: usize = tickets.iter().map(|t| t.events.len()).sum();
        let mut body = format!(
            "Сводка для 1-й линии (координация, п. 81): событий — {events}, обращений — {}.\n\
             Чтобы распорядиться обращением, напишите команды (например, «Линия: 3» или \
             «Статус: Подтверждено») на адрес, указанный под ним.\n",
            tickets.len()
        );
        for t in tickets {
            let tk = &t.ticket;
            body.push_str(&format!(
                "\n== {} — {}\nЛиния: {}   Срок: {}   Заявитель: {}\n",
                tk.id,
                tk.subject,
                tk.line,
                self.show_time(tk.deadline),
                tk.requester
            ));
            for (at, text) in &t.events {
                let when = self.show_time(Some(*at));
                // The event's own text, indented under its time.
                let text = text.trim().replace('\n', "\n    ");
                body.push_str(&format!("  {when}:\n    {text}\n"));
            }
            body.push_str(&format!("  Команды по обращению: {}\n", t.proof));
        }
        body.push_str(&format!("\n--\n{}\n", self.desk_name()));
        self.letter(LetterSpec {
            kind: "digest".into(),
            ticket: None,
            to: vec![mailbox.to_string()],
            subject: format!("Сводка для 1-й линии: обращений — {}", tickets.len()),
            body,
            auto: "auto-generated",
            ..Default::default()
        })
    }
}
