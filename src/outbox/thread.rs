//! Threading the desk's answers under the user's letters: `In-Reply-To` is
//! the user's last letter, `References` its own References followed by it
//! (RFC 5322 3.6.4), so Outlook, Thunderbird and webmail show the engineer's
//! words in the conversation the user started.

/// At most this many ids in `References`: the first (the thread's root) and
/// the latest ones; a long conversation must not grow the header without
/// bound (each id is one unfoldable token).
const MAX_REFERENCES: usize = 20;

/// Where an answer goes in the user's thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

impl Thread {
    /// The answer to a letter with Message-ID `message_id` whose header
    /// block starts `head` (the stored bytes of the letter; a body after
    /// the header block is ignored). `root`, the letter that opened the
    /// ticket, leads the References when the letter's own do not name it
    /// (a client that sends no References still gets one thread).
    pub fn answering(message_id: &str, head: &[u8], root: Option<&str>) -> Thread {
        let mut references: Vec<String> = mail_parser::MessageParser::new()
            .parse_headers(head)
            .map(|m| match m.references() {
                mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
                mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        references.retain(|r| r != message_id);
        if let Some(root) = root.filter(|r| *r != message_id && !references.iter().any(|x| x == r))
        {
            references.insert(0, root.to_string());
        }
        references.push(message_id.to_string());
        if references.len() > MAX_REFERENCES {
            let keep_from = references.len() - (MAX_REFERENCES - 1);
            let root = references[0].clone();
            references = std::iter::once(root)
                .chain(references.drain(keep_from..))
                .collect();
        }
        Thread {
            in_reply_to: Some(message_id.to_string()),
            references,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_the_users_references_then_the_letter() {
        let cases: &[(&str, &str, Option<&str>, &[&str])] = &[
            // The opening letter itself: no References of its own.
            ("a@u", "Subject: x\r\n\r\nbody", Some("a@u"), &["a@u"]),
            ("a@u", "Subject: x\r\n\r\nbody", None, &["a@u"]),
            // A reply: the chain, then the letter.
            (
                "c@u",
                "References: <a@u>\r\n <b@desk>\r\nSubject: x\r\n\r\n",
                Some("a@u"),
                &["a@u", "b@desk", "c@u"],
            ),
            // The letter's own id is not repeated.
            (
                "c@u",
                "References: <a@u> <c@u>\r\n\r\n",
                None,
                &["a@u", "c@u"],
            ),
            // A reply without References: the opening letter leads.
            (
                "c@u",
                "Subject: Re: x\r\n\r\n",
                Some("a@u"),
                &["a@u", "c@u"],
            ),
            // A chain from elsewhere: the opening letter first.
            (
                "c@u",
                "References: <b@desk>\r\n\r\n",
                Some("a@u"),
                &["a@u", "b@desk", "c@u"],
            ),
            // Unreadable bytes: the letter alone.
            ("d@u", "\u{0}\u{1}", None, &["d@u"]),
        ];
        for (mid, head, root, want) in cases {
            let t = Thread::answering(mid, head.as_bytes(), *root);
            assert_eq!(t.in_reply_to.as_deref(), Some(*mid), "{head:?}");
            assert_eq!(t.references, *want, "{head:?}");
        }
    }

    #[test]
    fn a_long_thread_keeps_its_root_and_latest() {
        let refs: Vec<String> = (0..40).map(|i| format!("<m{i}@u>")).collect();
        let head = format!("References: {}\r\n\r\n", refs.join(" "));
        let t = Thread::answering("last@u", head.as_bytes(), Some("m0@u"));
        assert_eq!(t.references.len(), MAX_REFERENCES);
        assert_eq!(t.references[0], "m0@u");
        assert_eq!(t.references.last().map(String::as_str), Some("last@u"));
        assert_eq!(t.references[MAX_REFERENCES - 2], "m39@u");
    }
}
