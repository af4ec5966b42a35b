//! The channel an appeal came through (п. 87–88 of the regulation): a
//! letter to the support address, the form on the site, or a call to the
//! 1st line taken down by an engineer. Stored with the ticket
//! (`tickets.channel`), shown by `tickets show`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A letter to the support address.
    #[default]
    Email,
    /// The form on the site (`[web]`).
    Web,
    /// A call to the 1st line, registered by an engineer.
    Phone,
}

impl Channel {
    pub fn machine_name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Web => "web",
            Channel::Phone => "phone",
        }
    }

    /// As people read it (`tickets show`).
    pub fn display_name(self) -> &'static str {
        match self {
            Channel::Email => "электронная почта",
            Channel::Web => "форма на сайте",
            Channel::Phone => "телефон",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "email" | "mail" | "e-mail" => Some(Channel::Email),
            "web" | "site" => Some(Channel::Web),
            "phone" => Some(Channel::Phone),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Channel;

    #[test]
    fn names_round_trip() {
        for c in [Channel::Email, Channel::Web, Channel::Phone] {
            assert_eq!(Channel::parse(c.machine_name()), Some(c));
        }
        assert_eq!(Channel::parse(" Phone "), Some(Channel::Phone));
        assert_eq!(Channel::parse("fax"), None);
    }
}
