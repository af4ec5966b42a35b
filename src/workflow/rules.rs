//! Conditions shared by the classification and routing rules, and the facts
//! they are checked against.
//!
//! A rule's conditions all have to hold; a list inside one condition needs
//! any one of its entries (`words = ["1С", "ЭЦП"]`: either word). A rule
//! without conditions matches everything — it is the default and must come
//! last. Every check says in one human line why it held or why not, which is
//! what `ticketd route explain` prints.

use super::status::Kind;
use regex::Regex;

/// What the rules look at: the pipeline fills this from the parsed letter
/// and the ticket. For classification `kind` and `priority` are not read
/// (classification rules cannot test them), so any value will do there.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFacts {
    pub kind: Kind,
    /// A priority name from the config.
    pub priority: String,
    /// The form's «Наименование органа исполнительной власти».
    pub organization: Option<String>,
    /// The requester's address (bare, `user@example.org`).
    pub sender: String,
    pub subject: String,
    /// The form's «Описание возникшей проблемы» (or the letter text when
    /// the form has none).
    pub description: String,
    pub has_attachments: bool,
    /// The mailbox (its config name) the ticket came through.
    pub via_mailbox: Option<String>,
}

impl TicketFacts {
    /// The facts of a parsed letter, before classification: `kind` is
    /// «Консультация» and `priority` empty until [`super::classify()`] fills
    /// them. The sender is `From`; the description is the form's, else the
    /// letter's text.
    pub fn from_letter(letter: &crate::parse::ParsedLetter) -> TicketFacts {
        let description = letter
            .form
            .description
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| letter.text.clone());
        TicketFacts {
            kind: Kind::Consultation,
            priority: String::new(),
            organization: letter.form.organization.clone(),
            sender: letter
                .from
                .as_ref()
                .map(|a| a.email.clone())
                .unwrap_or_default(),
            subject: letter.subject.clone(),
            description,
            has_attachments: !letter.attachments.is_empty(),
            via_mailbox: None,
        }
    }
}

/// Who a sender condition names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderPattern {
    /// `boss@minfin.example.org`: this address exactly (case-insensitive).
    Address(String),
    /// `minfin.example.org` or `@minfin.example.org`: the domain and its
    /// subdomains.
    Domain(String),
}

impl SenderPattern {
    /// `None` for something that is neither an address nor a domain.
    pub fn parse(s: &str) -> Option<SenderPattern> {
        let s = s.trim().to_lowercase();
        if let Some(domain) = s.strip_prefix('@') {
            return valid_domain(domain).then(|| SenderPattern::Domain(domain.to_string()));
        }
        match s.split_once('@') {
            Some((local, domain)) => (is_address(&s) && !local.is_empty() && valid_domain(domain))
                .then(|| SenderPattern::Address(s.clone())),
            None => valid_domain(&s).then(|| SenderPattern::Domain(s.clone())),
        }
    }

    pub fn matches(&self, sender: &str) -> bool {
        let sender = sender.trim().to_lowercase();
        match self {
            SenderPattern::Address(a) => sender == *a,
            SenderPattern::Domain(d) => match sender.rsplit_once('@') {
                Some((_, dom)) => dom == d || dom.ends_with(&format!(".{d}")),
                None => false,
            },
        }
    }
}

impl std::fmt::Display for SenderPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SenderPattern::Address(a) => f.write_str(a),
            SenderPattern::Domain(d) => write!(f, "@{d}"),
        }
    }
}

/// A plain `local@domain.tld` address: one `@`, no spaces or brackets.
pub fn is_address(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && valid_domain(domain)
                && !local
                    .chars()
                    .any(|c| c.is_whitespace() || "<>()[],;:\"\\".contains(c))
        }
        None => false,
    }
}

fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.contains('.')
        && d.split('.').all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && p.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// The compiled conditions of one rule. Empty lists and `None` mean "not
/// tested".
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub kind: Vec<Kind>,
    pub priority: Vec<String>,
    /// Case-insensitive substrings of the organisation.
    pub organization: Vec<String>,
    pub sender: Vec<SenderPattern>,
    /// Case-insensitive substrings of the subject or description: a stem
    /// (`подпис`) matches every ending.
    pub words: Vec<String>,
    /// Matched against the subject and against the description.
    pub regex: Option<Regex>,
    pub has_attachments: Option<bool>,
    /// `via_mailbox`: the ticket came through one of these mailboxes
    /// (config names).
    pub via_mailbox: Vec<String>,
}

impl Conditions {
    /// A rule with no conditions matches every ticket.
    pub fn is_unconditional(&self) -> bool {
        self.kind.is_empty()
            && self.priority.is_empty()
            && self.organization.is_empty()
            && self.sender.is_empty()
            && self.words.is_empty()
            && self.regex.is_none()
            && self.has_attachments.is_none()
            && self.via_mailbox.is_empty()
    }

    /// `Ok(why it matched)` or `Err(the first condition that failed)`.
    pub fn check(&self, f: &TicketFacts) -> Result<String, String> {
        let mut why = Vec::new();
        if !self.kind.is_empty() {
            if !self.kind.contains(&f.kind) {
                let want: Vec<&str> = self.kind.iter().map(|k| k.display_name()).collect();
                return Err(format!(
                    "вид «{}», а не {}",
                    f.kind.display_name(),
                    one_of(&want)
                ));
            }
            why.push(format!("вид «{}»", f.kind.display_name()));
        }
        if !self.priority.is_empty() {
            if !self.priority.iter().any(|p| {
                p.to_lowercase() == f.priority.to_lowercase()
                    || super::classify::alias_of(p) == Some(f.priority.to_lowercase().as_str())
            }) {
                let want: Vec<&str> = self.priority.iter().map(String::as_str).collect();
                return Err(format!(
                    "приоритет «{}», а не {}",
                    f.priority,
                    one_of(&want)
                ));
            }
            why.push(format!("приоритет «{}»", f.priority));
        }
        if !self.organization.is_empty() {
            let Some(org) = f.organization.as_deref().filter(|o| !o.trim().is_empty()) else {
                return Err("в форме не указана организация".into());
            };
            let folded = fold(org);
            match self.organization.iter().find(|o| folded.contains(&fold(o))) {
                Some(o) => why.push(format!("организация содержит «{o}»")),
                None => {
                    let want: Vec<&str> = self.organization.iter().map(String::as_str).collect();
                    return Err(format!(
                        "организация «{org}» не содержит ни одного из {}",
                        list(&want)
                    ));
                }
            }
        }
        if !self.sender.is_empty() {
            match self.sender.iter().find(|p| p.matches(&f.sender)) {
                Some(p) => why.push(format!("отправитель подходит под {p}")),
                None => {
                    let want: Vec<String> = self.sender.iter().map(ToString::to_string).collect();
                    let want: Vec<&str> = want.iter().map(String::as_str).collect();
                    return Err(format!("отправитель {} — не {}", f.sender, one_of(&want)));
                }
            }
        }
        if !self.words.is_empty() {
            let text = fold(&format!("{}\n{}", f.subject, f.description));
            match self.words.iter().find(|w| text.contains(&fold(w))) {
                Some(w) => why.push(format!("в тексте есть «{w}»")),
                None => {
                    let want: Vec<&str> = self.words.iter().map(String::as_str).collect();
                    return Err(format!(
                        "ни в теме, ни в описании нет ни одного из {}",
                        list(&want)
                    ));
                }
            }
        }
        if let Some(re) = &self.regex {
            if re.is_match(&f.subject) {
                why.push(format!("тема подходит под /{re}/"));
            } else if re.is_match(&f.description) {
                why.push(format!("описание подходит под /{re}/"));
            } else {
                return Err(format!("ни тема, ни описание не подходят под /{re}/"));
            }
        }
        if let Some(want) = self.has_attachments {
            if want != f.has_attachments {
                return Err(if want {
                    "в письме нет вложений"
                } else {
                    "в письме есть вложения"
                }
                .into());
            }
            why.push(
                if want {
                    "есть вложения"
                } else {
                    "нет вложений"
                }
                .into(),
            );
        }
        if !self.via_mailbox.is_empty() {
            let Some(m) = f.via_mailbox.as_deref() else {
                return Err("обращение пришло не через почтовый ящик".into());
            };
            if !self.via_mailbox.iter().any(|w| w == m) {
                let want: Vec<&str> = self.via_mailbox.iter().map(String::as_str).collect();
                return Err(format!("пришло через ящик «{m}», а не {}", one_of(&want)));
            }
            why.push(format!("пришло через ящик «{m}»"));
        }
        if why.is_empty() {
            return Ok("правило по умолчанию, без условий".into());
        }
        Ok(why.join(", "))
    }
}

/// Lower case, `ё` as `е`: how words and organisations are compared.
pub fn fold(s: &str) -> String {
    s.to_lowercase().replace('ё', "е")
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("«{i}»"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn one_of(items: &[&str]) -> String {
    match items {
        [one] => format!("«{one}»"),
        _ => format!("один из {}", list(items)),
    }
}

/// Where a rule stands in the config, for messages: `routes[3] "to dev" (line 120)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleRef {
    /// 1-based position in its list.
    pub index: usize,
    pub name: Option<String>,
    /// 1-based line of its `[[…]]` header in the config file (0 if unknown).
    pub config_line: usize,
}

impl RuleRef {
    /// For people at the desk: `правило 4 «default: the 1st line» (строка
    /// 236 конфигурации)`; the name stays as the admin wrote it.
    pub fn russian(&self, what: &str) -> String {
        let mut s = format!("{what} {}", self.index);
        if let Some(n) = &self.name {
            s.push_str(&format!(" «{n}»"));
        }
        if self.config_line > 0 {
            s.push_str(&format!(" (строка {} конфигурации)", self.config_line));
        }
        s
    }
}

impl std::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {}", self.index)?;
        if let Some(n) = &self.name {
            write!(f, " \"{n}\"")?;
        }
        if self.config_line > 0 {
            write!(f, " (line {})", self.config_line)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TicketFacts {
        TicketFacts {
            kind: Kind::Incident,
            priority: "high".into(),
            organization: Some("Министерство финансов Калининградской области".into()),
            sender: "Ivanov@Minfin.Gov39.example.org".into(),
            subject: "Не работает ЭЦП".into(),
            description: "При подписании документа ошибка 0x80090008".into(),
            has_attachments: true,
            via_mailbox: Some("tula".into()),
        }
    }

    #[test]
    fn sender_patterns() {
        let cases = [
            ("ivanov@minfin.gov39.example.org", Some(true)),
            ("IVANOV@minfin.gov39.example.org", Some(true)),
            ("petrov@minfin.gov39.example.org", Some(false)),
            ("gov39.example.org", Some(true)),
            ("@example.org", Some(true)),
            ("@other.org", Some(false)),
            ("minfin", None),
            ("a@b@c.org", None),
            ("@", None),
            ("user@localhost", None),
            ("x y@example.org", None),
        ];
        for (pat, want) in cases {
            let got =
                SenderPattern::parse(pat).map(|p| p.matches("Ivanov@Minfin.Gov39.example.org"));
            assert_eq!(got, want, "{pat}");
        }
        // A domain pattern does not match a longer domain that merely ends the same.
        let p = SenderPattern::parse("example.org").unwrap();
        assert!(!p.matches("x@badexample.org"));
    }

    #[test]
    fn conditions_say_why() {
        fn re(s: &str) -> Option<Regex> {
            Some(
                regex::RegexBuilder::new(s)
                    .case_insensitive(true)
                    .build()
                    .unwrap(),
            )
        }
        let c = |f: fn(&mut Conditions)| {
            let mut c = Conditions::default();
            f(&mut c);
            c
        };
        let cases: Vec<(Conditions, Result<&str, &str>)> = vec![
            (Conditions::default(), Ok("правило по умолчанию, без условий")),
            (c(|c| c.kind = vec![Kind::Incident]), Ok("вид «Инцидент»")),
            (
                c(|c| c.kind = vec![Kind::Consultation]),
                Err("вид «Инцидент», а не «Консультация»"),
            ),
            (c(|c| c.priority = vec!["low".into(), "normal".into()]), Err("приоритет «high», а не один из «low», «normal»")),
            (c(|c| c.organization = vec!["министерство ФИНАНСОВ".into()]), Ok("организация содержит «министерство ФИНАНСОВ»")),
            (c(|c| c.organization = vec!["Агентство".into()]), Err("организация «Министерство финансов Калининградской области» не содержит ни одного из «Агентство»")),
            (c(|c| c.sender = vec![SenderPattern::Domain("gov39.example.org".into())]), Ok("отправитель подходит под @gov39.example.org")),
            (c(|c| c.sender = vec![SenderPattern::Address("boss@x.org".into())]), Err("отправитель Ivanov@Minfin.Gov39.example.org — не «boss@x.org»")),
            (c(|c| c.words = vec!["1С".into(), "эцп".into()]), Ok("в тексте есть «эцп»")),
            (c(|c| c.words = vec!["подпис".into()]), Ok("в тексте есть «подпис»")),
            (c(|c| c.words = vec!["принтер".into()]), Err("ни в теме, ни в описании нет ни одного из «принтер»")),
            (c(|c| c.regex = re(r"0x[0-9a-f]{8}")), Ok("описание подходит под /0x[0-9a-f]{8}/")),
            (c(|c| c.regex = re(r"^не работает")), Ok("тема подходит под /^не работает/")),
            (c(|c| c.regex = re(r"принтер")), Err("ни тема, ни описание не подходят под /принтер/")),
            (c(|c| c.has_attachments = Some(true)), Ok("есть вложения")),
            (c(|c| c.has_attachments = Some(false)), Err("в письме есть вложения")),
            (c(|c| c.via_mailbox = vec!["oryol".into(), "tula".into()]), Ok("пришло через ящик «tula»")),
            (c(|c| c.via_mailbox = vec!["main".into()]), Err("пришло через ящик «tula», а не «main»")),
            (
                c(|c| {
                    c.kind = vec![Kind::Incident];
                    c.words = vec!["ЭЦП".into()];
                    c.has_attachments = Some(true);
                }),
                Ok("вид «Инцидент», в тексте есть «ЭЦП», есть вложения"),
            ),
        ];
        for (cond, want) in cases {
            let got = cond.check(&facts());
            assert_eq!(got.as_deref().map_err(String::as_str), want);
        }
        let mut no_org = facts();
        no_org.organization = None;
        let mut web = facts();
        web.via_mailbox = None;
        let cond = c(|c| c.via_mailbox = vec!["tula".into()]);
        assert_eq!(
            cond.check(&web),
            Err("обращение пришло не через почтовый ящик".into())
        );
        assert!(!cond.is_unconditional());
        let cond = c(|c| c.organization = vec!["x".into()]);
        assert_eq!(
            cond.check(&no_org),
            Err("в форме не указана организация".into())
        );
        assert!(Conditions::default().is_unconditional());
        assert!(!c(|c| c.has_attachments = Some(false)).is_unconditional());
    }

    #[test]
    fn facts_from_a_parsed_letter() {
        use crate::parse::{Address, Attachment, ParsedLetter};
        let mut l = ParsedLetter {
            subject: "Не работает ЭЦП".into(),
            from: Some(Address {
                name: None,
                email: "user@example.org".into(),
            }),
            text: "Весь текст письма".into(),
            ..Default::default()
        };
        let f = TicketFacts::from_letter(&l);
        assert_eq!(
            (f.sender.as_str(), f.description.as_str()),
            ("user@example.org", "Весь текст письма")
        );
        assert!(!f.has_attachments && f.organization.is_none());
        l.form.description = Some("Ошибка подписи".into());
        l.form.organization = Some("Минфин".into());
        l.attachments.push(Attachment {
            filename: "a.png".into(),
            content_type: "image/png",
            data: vec![1],
        });
        let f = TicketFacts::from_letter(&l);
        assert_eq!(f.description, "Ошибка подписи");
        assert_eq!(f.organization.as_deref(), Some("Минфин"));
        assert!(f.has_attachments);
    }

    #[test]
    fn addresses() {
        for (s, ok) in [
            ("eng1@sed.example.org", true),
            ("line2@sed.example.org", true),
            ("no-at.example.org", false),
            ("a@b", false),
            ("<a@b.org>", false),
            ("a@@b.org", false),
        ] {
            assert_eq!(is_address(s), ok, "{s}");
        }
        let r = RuleRef {
            index: 3,
            name: Some("to dev".into()),
            config_line: 120,
        };
        assert_eq!(r.to_string(), "rule 3 \"to dev\" (line 120)");
    }
}
