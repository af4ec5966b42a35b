//! Letter templates: plain text with `{placeholder}` fields.
//!
//! Written by hand rather than with a template engine: the templates are a
//! few Russian paragraphs with named blanks, and an admin editing one needs
//! exactly two rules (`{name}` is replaced, `{{`/`}}` are literal braces).
//! A full engine (tera, handlebars) would add loops and escaping that these
//! letters do not need and error messages admins would have to learn.

/// Placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "ticket",
    "subject",
    "status",
    "deadline",
    "missing",
    "form",
    "attachments",
    "desk",
    "text",
    "limit",
    "tickets",
];

/// Check a template: every `{...}` names a known placeholder, braces balance.
pub fn check(body: &str) -> Result<(), String> {
    render(body, |name| {
        if PLACEHOLDERS.contains(&name) {
            Some(String::new())
        } else {
            None
        }
    })
    .map(|_| ())
}

/// Render `body`, asking `value` for each placeholder. An unknown name or an
/// unbalanced brace is an error naming it.
pub fn render(body: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(body.len() + 256);
    let mut rest = body;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        let after = &rest[i + 1..];
        if after.as_bytes().first() == Some(&c) {
            out.push(c as char);
            rest = &after[1..];
            continue;
        }
        if c == b'}' {
            return Err("a `}` without its `{` (write `}}` for a literal brace)".into());
        }
        let Some(end) = after.find('}') else {
            return Err("a `{` that is never closed (write `{{` for a literal brace)".into());
        };
        let name = after[..end].trim();
        match value(name) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "unknown placeholder `{{{name}}}`; known: {}",
                    PLACEHOLDERS.join(", ")
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_checks() {
        let v = |n: &str| (n == "ticket").then(|| "TP-2026-000001".to_string());
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("Заявка {ticket}.", Ok("Заявка TP-2026-000001.")),
            ("{{literal}} {ticket}", Ok("{literal} TP-2026-000001")),
            ("{nope}", Err("unknown placeholder `{nope}`")),
            ("open {ticket", Err("never closed")),
            ("close }", Err("without its")),
        ];
        for (body, want) in cases {
            match (render(body, v), want) {
                (Ok(got), Ok(w)) => assert_eq!(&got, w),
                (Err(e), Err(w)) => assert!(e.contains(w), "{e}"),
                (got, w) => panic!("{body}: got {got:?}, want {w:?}"),
            }
        }
        assert!(check("{ticket} {form} {missing}").is_ok());
        assert!(check("{tiket}").is_err());
    }
}
