//! The engineer's receipt for an appeal taken by phone (п. 87): the
//! ticket's number, deadline and what is still missing, so the engineer
//! can tell the caller at once. Always sent, whether or not the caller
//! gave an e-mail address.

use super::compose::{ComposeError, Composer, LetterSpec};
use super::OutgoingLetter;
use crate::parse::Field;
use crate::store::tickets::Ticket;

impl Composer {
    /// To `engineer`, who registered `t` from a call.
    pub fn phone_registered(
        &self,
        t: &Ticket,
        engineer: &str,
        missing: &[Field],
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let caller = if t.requester.is_empty() {
            "Заявитель без адреса электронной почты: писем ему не будет, сообщите номер сами."
                .to_string()
        } else {
            format!("Заявителю ({}) отправлено подтверждение.", t.requester)
        };
        let missing = if missing.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = missing.iter().map(|f| f.russian_name()).collect();
            format!("\nНе хватает: {}.\n", names.join("; "))
        };
        let body = format!(
            "Обращение по телефону зарегистрировано: {}.\nСтатус: {}\nСрок решения: {}\n{caller}\n{missing}\n--\n{}\n",
            t.id,
            t.status().display_name(),
            self.show_time(t.deadline),
            self.desk_name()
        );
        self.letter(LetterSpec {
            kind: "phone_registered".into(),
            ticket: Some(t.id.clone()),
            to: vec![engineer.to_string()],
            subject: Self::tagged_subject(&t.id, &t.subject),
            body,
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }
}
