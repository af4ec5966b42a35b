//! Values left over from the example configuration.
//!
//! The packaged `/etc/ticketd/config.toml` is `config.example.toml` with the
//! Debian paths: every address and host in it lies under a domain reserved
//! for examples (RFC 2606, RFC 6761: `example.org`, `.example`, `.test`,
//! `.invalid`), where no mail is ever delivered. `check-config` lists each
//! such value with its key, line and what to put there, so the first start
//! explains itself; `check-config --strict` (the unit's `ExecStartPre`)
//! refuses to start the daemon while one is left.
//!
//! Read from the TOML text itself, before the config is validated, so every
//! leftover is named at once even when a later check stops the load.

use toml::de::{DeTable, DeValue};

/// One value that still holds an example domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleValue {
    /// 1-based line of the value.
    pub line: usize,
    /// `desk.support_address`, `lines[2].engineers`, ...
    pub key: String,
    pub value: String,
    /// What to put there instead.
    pub hint: &'static str,
}

/// Every string value (also inside arrays and `[[tables]]`) whose address or
/// host lies under a reserved example domain, in the order of the file. A
/// text that is not valid TOML yields nothing: loading reports that.
pub fn example_values(text: &str) -> Vec<ExampleValue> {
    let Ok(doc) = DeTable::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk_table(text, "", doc.get_ref(), &mut out);
    out.sort_by_key(|v| v.line);
    out
}

fn walk_table(text: &str, prefix: &str, table: &DeTable<'_>, out: &mut Vec<ExampleValue>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        walk_value(text, &key, v, out);
    }
}

fn walk_value(text: &str, key: &str, v: &toml::Spanned<DeValue<'_>>, out: &mut Vec<ExampleValue>) {
    match v.get_ref() {
        DeValue::String(s) if is_example(s) => out.push(ExampleValue {
            line: text[..v.span().start.min(text.len())].matches('\n').count() + 1,
            key: key.to_string(),
            value: s.to_string(),
            hint: hint(key),
        }),
        DeValue::Table(t) => walk_table(text, key, t, out),
        DeValue::Array(items) => {
            let tables = items
                .iter()
                .all(|i| matches!(i.get_ref(), DeValue::Table(_)));
            for (n, item) in items.iter().enumerate() {
                // `[[lines]]` entries are named `lines[1]`, as the desk's
                // errors name them; the items of a list keep the list's key.
                let key = if tables {
                    format!("{key}[{}]", n + 1)
                } else {
                    key.to_string()
                };
                walk_value(text, &key, item, out);
            }
        }
        _ => {}
    }
}

/// The domains reserved for documentation and tests: `example.com`,
/// `example.net`, `example.org` and their subdomains, and the top-level
/// `.example`, `.test`, `.invalid` (RFC 2606 §2–3, RFC 6761 §6).
fn is_reserved(domain: &str) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    let under = |zone: &str| d == zone || d.ends_with(&format!(".{zone}"));
    [
        "example.com",
        "example.net",
        "example.org",
        "example",
        "test",
        "invalid",
    ]
    .iter()
    .any(|z| under(z))
}

/// True when the value's domain (an address's part after `@`, a URL's or a
/// bare host name) is reserved for examples.
fn is_example(value: &str) -> bool {
    let v = value.trim();
    let v = v.split_once("://").map_or(v, |(_, rest)| rest);
    let host_part = v.split(['/', '?', '#']).next().unwrap_or_default();
    let domain = host_part.rsplit_once('@').map_or(host_part, |(_, d)| d);
    let domain = domain.split(':').next().unwrap_or_default();
    // A bare word ("test") is a name, not a host: only dotted names count.
    domain.contains('.') && !domain.contains(char::is_whitespace) && is_reserved(domain)
}

/// What belongs in `key`, for the admin replacing an example value.
fn hint(key: &str) -> &'static str {
    let (section, last) = match key.rsplit_once('.') {
        Some((s, l)) => (s.split('[').next().unwrap_or(s), l),
        None => ("", key),
    };
    match (section, last) {
        ("desk", "support_address") => {
            "the address users write to (the support mailbox ticketd reads); it is also the From of every letter ticketd sends"
        }
        ("mailbox", "host") => "the host name of your IMAP server",
        ("mailbox", "user") => "the login of the support mailbox on the IMAP server",
        ("outgoing", "host") => "the host name of your SMTP server (relay or submission)",
        ("outgoing", "user") => "the login ticketd uses on the SMTP server",
        ("lines", "mailbox") => {
            "this line's shared mailbox: routed letters and escalation notices go there"
        }
        ("lines", "engineers") => {
            "the addresses of this line's engineers: only their replies may change a ticket"
        }
        ("routes", "assignee") => "an engineer of the route's line (listed in its engineers)",
        (_, "sender") => "a sender address or domain of your own, or remove the condition",
        _ => "a value of your own site",
    }
}

/// The listing `check-config` prints: one line per value, `file:line: key =
/// "value": hint`, under a heading that says why these cannot stay.
pub fn describe(path: &std::path::Path, found: &[ExampleValue]) -> String {
    let mut s = format!(
        "{}: {} value{} still hold{} the example's reserved domains, where no mail is delivered; \
         replace {}:\n",
        path.display(),
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        if found.len() == 1 { "s" } else { "" },
        if found.len() == 1 { "it" } else { "each" },
    );
    for v in found {
        s.push_str(&format!(
            "  {}:{}: {} = \"{}\": put {}\n",
            path.display(),
            v.line,
            v.key,
            v.value,
            v.hint
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_domains_only() {
        let cases = [
            ("support@sed.example.org", true),
            ("imap.example.org", true),
            ("example.com", true),
            ("https://support.example.org/form", true),
            ("u@mail.example.net:993", true),
            ("desk@host.test", true),
            ("a@b.invalid", true),
            ("box@site.example", true),
            ("support@sed.gov39.ru", false),
            ("imap.gov39.ru", false),
            ("myexample.org", false),
            ("example.org.ru", false),
            ("127.0.0.1", false),
            ("localhost", false),
            ("Служба технической поддержки СЭД", false),
            ("var/ticketd.sqlite3", false),
            ("Europe/Kaliningrad", false),
            ("test", false),
        ];
        for (v, want) in cases {
            assert_eq!(is_example(v), want, "{v}");
        }
    }

    #[test]
    fn names_key_line_and_hint_in_file_order() {
        let text = r#"
[desk]
support_address = "support@sed.example.org"
name = "Desk"

[mailbox]
kind = "imap"
host = "imap.example.org"
user = "support@agency.ru"

[[lines]]
number = 1
mailbox = "line1@agency.ru"
engineers = ["op1@agency.ru", "op2@sed.example.org"]
"#;
        let found = example_values(text);
        let got: Vec<(usize, &str, &str)> = found
            .iter()
            .map(|v| (v.line, v.key.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "desk.support_address", "support@sed.example.org"),
                (8, "mailbox.host", "imap.example.org"),
                (14, "lines[1].engineers", "op2@sed.example.org"),
            ]
        );
        assert!(found[1].hint.contains("IMAP server"));
        assert!(found[2].hint.contains("engineers"));
        let listing = describe(std::path::Path::new("/etc/ticketd/config.toml"), &found);
        assert!(listing.contains("3 values still hold"), "{listing}");
        assert!(
            listing.contains("/etc/ticketd/config.toml:8: mailbox.host = \"imap.example.org\": put the host name of your IMAP server"),
            "{listing}"
        );
    }

    #[test]
    fn own_values_and_broken_toml_yield_nothing() {
        assert!(example_values("[desk]\nsupport_address = \"help@agency.ru\"\n").is_empty());
        assert!(example_values("[desk\nsupport_address = \"a@example.org\"").is_empty());
    }

    #[test]
    fn the_example_config_is_all_example() {
        let found = example_values(super::super::EXAMPLE);
        let keys: Vec<&str> = found.iter().map(|v| v.key.as_str()).collect();
        for want in [
            "desk.support_address",
            "lines[1].mailbox",
            "lines[2].engineers",
            "routes[3].assignee",
        ] {
            assert!(keys.contains(&want), "{want} not in {keys:?}");
        }
    }
}
