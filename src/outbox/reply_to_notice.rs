//! The one letter that follows a Reply-To differing from From: a short
//! notice without personal data (README, "Security model"). Everything
//! about a ticket goes to the requester's own address (From); the Reply-To
//! address learns only that an appeal was registered and where answers go.

use super::compose::{ComposeError, Composer, LetterSpec};
use super::OutgoingLetter;

impl Composer {
    /// To `to` (a Reply-To other than the requester's From): the ticket's
    /// number, nothing of the form, the subject or the requester.
    pub fn reply_to_notice(
        &self,
        ticket: &str,
        to: &str,
        in_reply_to: Option<&str>,
    ) -> Result<OutgoingLetter, ComposeError> {
        let body = format!(
            "Здравствуйте!\n\n\
             Письмо, в котором ваш адрес указан для ответа (Reply-To), зарегистрировано \
             как обращение {ticket}.\n\
             Ответы по обращению служба поддержки отправляет только на адрес, \
             с которого оно пришло (From).\n\n\
             Это письмо отправлено автоматически.\n--\n{}\n",
            self.desk_name()
        );
        self.letter(LetterSpec {
            kind: "reply_to_notice".into(),
            ticket: Some(ticket.to_string()),
            to: vec![to.to_string()],
            subject: Composer::tagged_subject(ticket, "Обращение зарегистрировано"),
            body,
            in_reply_to: in_reply_to.map(str::to_string),
            auto: "auto-replied",
            ..Default::default()
        })
    }
}
