//! A letter to a registration address (`support+reg-<mac>@…`): an appeal
//! a 1st-line engineer took by phone (п. 87). From that engineer, to their
//! own address, vouched for where `[security]` asks: the form and the
//! `Заявитель:` line become an appeal with `channel = "phone"` and
//! `registered_by` = the engineer, registered under the letter's own
//! identity (exactly once, the letter kept). Anything else that reaches a
//! registration address registers nothing and is recorded (`ignored`,
//! with why).

use super::apply::{self, Ctx};
use super::submission::{AppealFile, Channel, NewAppeal};
use super::{IngestError, IngestReport, Pipeline};
use crate::parse::ParsedLetter;
use crate::store::tickets::AttachmentRow;
use crate::workflow::auth::{self, Trust};
use crate::workflow::loops::SenderRole;
use crate::workflow::status::Line;
use crate::workflow::{phone, signed, token};

impl Pipeline {
    /// `Some` when the letter went to a registration address (handled
    /// here), `None` for every other letter.
    pub(super) fn phone_letter(
        &mut self,
        identity: &str,
        raw: &[u8],
        parsed: &ParsedLetter,
        kept: Option<&[AttachmentRow]>,
    ) -> Result<Option<IngestReport>, IngestError> {
        let to_cc: Vec<&str> = parsed
            .to
            .iter()
            .chain(parsed.cc.iter())
            .map(|a| a.email.as_str())
            .collect();
        let support = &self.cfg.workflow.support_address;
        let Some(reg) =
            token::proof_addresses(support, parsed.trace.delivered_to.as_deref(), &to_cc)
                .into_iter()
                .find(|a| signed::is_reg_address(a))
                .map(str::to_string)
        else {
            return Ok(None);
        };
        let incoming = Ctx {
            identity,
            raw,
            parsed,
            now: self.clock.now(),
            kept,
            channel: Channel::Email,
            registered_by: None,
            mailbox: self.intake_mailbox.clone(),
        };
        let sender = crate::address::canonical(incoming.sender().unwrap_or_default());
        let first_line = matches!(
            self.cfg.workflow.sender_role(&sender),
            SenderRole::Engineer(lines) if lines.contains(&Line::First)
        );
        let trust = auth::sender_trust(&self.cfg.security_policy(), &parsed.trace.headers, &sender);
        let trusted = match &trust {
            Trust::Fail(why) => Err(why.as_str()),
            _ => Ok(()),
        };
        let own = signed::is_reg_address_of(&reg, &sender, &self.key);
        if let Err(why) = phone::may_register(first_line, trusted, parsed.from_ambiguous, own) {
            tracing::warn!(sender = %sender, "{why}");
            return apply::ignore(self, &incoming, &why).map(Some);
        }
        let (caller, rest) = phone::caller(&parsed.text);
        let form = crate::parse::form_in_text(&rest, &self.cfg.desk.default_area_code);
        let files = parsed
            .attachments
            .iter()
            .map(|a| AppealFile {
                filename: a.filename.clone(),
                content_type: a.content_type.to_string(),
                data: a.data.clone(),
            })
            .collect();
        let appeal = NewAppeal {
            channel: Channel::Phone,
            key: identity.to_string(),
            requester: caller.unwrap_or_default(),
            subject: parsed.subject.clone(),
            form,
            text: rest,
            files,
            registered_by: Some(sender),
        };
        match self.register_appeal(appeal, identity, raw) {
            Err(IngestError::Appeal(why)) => {
                let why = format!("phone registration refused: {why}");
                apply::ignore(self, &incoming, &why).map(Some)
            }
            r => r.map(Some),
        }
    }
}
