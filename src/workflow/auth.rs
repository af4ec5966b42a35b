//! Is the sender who the From header says? Read from the receiving MTA's
//! `Authentication-Results` (RFC 8601), never from the letter's own claims.
//!
//! `From:` is trivially forged. The desk's own MTA checks SPF, DKIM and
//! DMARC and writes what it found at the top of the letter, under its
//! authserv-id (`[security] authserv_id`). Only those headers count: the
//! ones carrying that authserv-id in the topmost group of trace headers
//! (above the MTA's own `Received:` line, where it inserts them). A header
//! with our authserv-id further down — written by the sender, or by a
//! relay on the way — is ignored, as is any header below the first
//! non-trace header (`From`, `Subject`, ...): that is the letter's own text.
//!
//! The decision ([`sender_trust`]) asks for a DMARC pass for the From
//! domain (`require = "dmarc"`) or an aligned DKIM or SPF pass
//! (`require = "dkim_or_spf"`). Without an authserv-id configured nothing
//! is checked ([`Trust::Unchecked`]), as before this module existed.

use serde::Deserialize;

/// `[security] require`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Require {
    /// `dmarc=pass` with `header.from` the From domain.
    #[default]
    Dmarc,
    /// `dkim=pass` with `header.d` (or `header.i`) aligned with the From
    /// domain, or `spf=pass` with `smtp.mailfrom` aligned.
    DkimOrSpf,
}

/// The `[security]` policy as the pipeline uses it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityPolicy {
    /// The receiving MTA's authserv-id; `None`: nothing is checked.
    pub authserv_id: Option<String>,
    pub require: Require,
}

/// One `method=result` of an Authentication-Results header, with its
/// properties (`header.d`, `smtp.mailfrom`, ...), names lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    pub method: String,
    pub result: String,
    pub props: Vec<(String, String)>,
}

impl AuthResult {
    fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Headers that an MTA adds on the way in (kept with the letter reader).
pub use crate::parse::trace::is_trace_header;

/// Remove RFC 5322 comments `( … )` (nested, with quoted pairs).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if depth > 0 => {
                chars.next();
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// One header's value → (authserv-id, results). `None` when it does not
/// read as RFC 8601. `authserv-id; none` gives no results.
pub fn parse_header(value: &str) -> Option<(String, Vec<AuthResult>)> {
    let clean = strip_comments(value);
    let mut parts = clean.split(';');
    let head = parts.next()?.trim();
    // authserv-id [version]
    let id = head.split_whitespace().next()?.trim_matches('"');
    if id.is_empty() {
        return None;
    }
    let mut results = Vec::new();
    for part in parts {
        let mut tokens = part.split_whitespace();
        let Some(first) = tokens.next() else {
            continue;
        };
        let Some((method, result)) = first.split_once('=') else {
            continue; // "none", or garbage
        };
        // `dkim/1=pass`: the method's version is not ours to judge.
        let method = method.split('/').next().unwrap_or(method);
        let mut props = Vec::new();
        for t in tokens {
            if let Some((n, v)) = t.split_once('=') {
                if n.contains('.') {
                    props.push((
                        n.to_ascii_lowercase(),
                        v.trim_matches('"').to_ascii_lowercase(),
                    ));
                }
            }
        }
        results.push(AuthResult {
            method: method.trim().to_ascii_lowercase(),
            result: result.trim().to_ascii_lowercase(),
            props,
        });
    }
    Some((id.to_ascii_lowercase(), results))
}

/// The results our MTA wrote: `trace` is the letter's top block of trace
/// headers, top first (name, value). The group starts at the topmost
/// Authentication-Results header with `authserv_id` and ends at the next
/// `Received:` header (the hop before ours): a header with our id below
/// that was written by someone else.
pub fn trusted_results(trace: &[(String, String)], authserv_id: &str) -> Vec<AuthResult> {
    let want = authserv_id.trim().to_ascii_lowercase();
    let mut out = Vec::new();
    let mut started = false;
    for (name, value) in trace {
        if !is_trace_header(name) {
            break;
        }
        let n = name.to_ascii_lowercase();
        if started && n == "received" {
            break;
        }
        if n != "authentication-results" {
            continue;
        }
        let Some((id, results)) = parse_header(value) else {
            continue;
        };
        if id == want {
            started = true;
            out.extend(results);
        }
    }
    out
}

/// The sender's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// No `[security] authserv_id`: From is taken as it is (as before).
    Unchecked,
    /// The MTA vouched for the From domain: what it found.
    Pass(String),
    /// Not vouched for: why (for the history).
    Fail(String),
}

impl Trust {
    /// May this sender do what needs authentication?
    pub fn allows(&self) -> bool {
        !matches!(self, Trust::Fail(_))
    }
}

/// `a` equals `b` or is a subdomain of it (relaxed alignment, RFC 7489).
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    !a.is_empty()
        && !b.is_empty()
        && (a.eq_ignore_ascii_case(b)
            || (a.len() > b.len()
                && a.as_bytes()[a.len() - b.len() - 1] == b'.'
                && a[a.len() - b.len()..].eq_ignore_ascii_case(b))
            || (b.len() > a.len()
                && b.as_bytes()[b.len() - a.len() - 1] == b'.'
                && b[b.len() - a.len()..].eq_ignore_ascii_case(a)))
}

/// The domain of an address or of `@domain` / `domain`.
fn domain_of(v: &str) -> &str {
    let v = v.trim().trim_matches(['<', '>']);
    v.rsplit_once('@').map_or(v, |(_, d)| d)
}

/// Does the sender `from` pass `policy`, by the letter's `trace` headers?
pub fn sender_trust(policy: &SecurityPolicy, trace: &[(String, String)], from: &str) -> Trust {
    let Some(id) = policy.authserv_id.as_deref() else {
        return Trust::Unchecked;
    };
    let from_domain = domain_of(from);
    let results = trusted_results(trace, id);
    if results.is_empty() {
        return Trust::Fail(format!(
            "no Authentication-Results of {id} (the receiving MTA) on the letter: the sender {from} is not authenticated"
        ));
    }
    let pass = |r: &&AuthResult, method: &str| r.method == method && r.result == "pass";
    let found = match policy.require {
        Require::Dmarc => results
            .iter()
            .filter(|r| pass(r, "dmarc"))
            .find(|r| {
                r.prop("header.from")
                    .is_none_or(|d| d.eq_ignore_ascii_case(from_domain))
            })
            .map(|_| format!("dmarc=pass for {from_domain} ({id})")),
        Require::DkimOrSpf => results
            .iter()
            .filter(|r| pass(r, "dkim"))
            .find(|r| {
                r.prop("header.d")
                    .or(r.prop("header.i").map(domain_of))
                    .is_some_and(|d| aligned(d, from_domain))
            })
            .map(|_| format!("dkim=pass aligned with {from_domain} ({id})"))
            .or_else(|| {
                results
                    .iter()
                    .filter(|r| pass(r, "spf"))
                    .find(|r| {
                        r.prop("smtp.mailfrom")
                            .is_some_and(|m| aligned(domain_of(m), from_domain))
                    })
                    .map(|_| format!("spf=pass aligned with {from_domain} ({id})"))
            }),
    };
    match found {
        Some(why) => Trust::Pass(why),
        None => {
            let seen: Vec<String> = results
                .iter()
                .map(|r| format!("{}={}", r.method, r.result))
                .collect();
            let need = match policy.require {
                Require::Dmarc => "dmarc=pass",
                Require::DkimOrSpf => "an aligned dkim=pass or spf=pass",
            };
            Trust::Fail(format!(
                "the sender {from} is not authenticated: {id} found {} ([security] require: {need})",
                seen.join(" ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &str, v: &str) -> (String, String) {
        (n.to_string(), v.to_string())
    }

    #[test]
    fn parses_real_shaped_headers() {
        let (id, r) = parse_header(
            "mx.example.org (amavis); dkim=pass (2048-bit key) header.d=Example.org header.s=s1 header.b=\"AbC\"; spf=pass (sender SPF authorized) smtp.mailfrom=user@example.org; dmarc=pass (p=REJECT) header.from=example.org",
        )
        .unwrap();
        assert_eq!(id, "mx.example.org");
        let m: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r.method.as_str(), r.result.as_str()))
            .collect();
        assert_eq!(m, [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]);
        assert_eq!(r[0].prop("header.d"), Some("example.org"));
        assert_eq!(parse_header("mx.example.org 1; none").unwrap().1, vec![]);
        assert_eq!(parse_header(";"), None);
    }

    #[test]
    fn trust_decisions() {
        let dmarc = SecurityPolicy {
            authserv_id: Some("mx.example.org".into()),
            require: Require::Dmarc,
        };
        let loose = SecurityPolicy {
            require: Require::DkimOrSpf,
            ..dmarc.clone()
        };
        let ours_pass = h(
            "Authentication-Results",
            "mx.example.org; dmarc=pass header.from=sed.example.org",
        );
        let ours_fail = h(
            "Authentication-Results",
            "mx.example.org; spf=fail smtp.mailfrom=x@evil.example; dmarc=fail header.from=sed.example.org",
        );
        let ours_none = h("Authentication-Results", "mx.example.org; none");
        let forged = h(
            "Authentication-Results",
            "mx.example.org; dmarc=pass header.from=sed.example.org",
        );
        let theirs = h(
            "Authentication-Results",
            "mx.evil.example; dmarc=pass header.from=sed.example.org",
        );
        let rcv_ours = h("Received", "from evil.example by mx.example.org");
        let rcv_lmtp = h("Received", "from mx.example.org by imap.example.org (LMTP)");
        let dkim_sub = h(
            "Authentication-Results",
            "mx.example.org; dkim=pass header.d=mail.sed.example.org; spf=fail smtp.mailfrom=a@b.example",
        );
        let spf_only = h(
            "Authentication-Results",
            "mx.example.org; spf=pass smtp.mailfrom=eng1@sed.example.org; dkim=none",
        );
        let dkim_other = h(
            "Authentication-Results",
            "mx.example.org; dkim=pass header.d=evil.example; spf=softfail smtp.mailfrom=eng1@sed.example.org",
        );
        let subject = h("Subject", "x");
        let from = "eng1@sed.example.org";
        let off = SecurityPolicy::default();
        // (policy, trace headers top first, allowed?, the case)
        type Case<'a> = (&'a SecurityPolicy, Vec<(String, String)>, bool, &'a str);
        let cases: Vec<Case> = vec![
            (&off, vec![], true, "no authserv_id: unchecked, as before"),
            (
                &dmarc,
                vec![rcv_lmtp.clone(), ours_pass.clone(), rcv_ours.clone()],
                true,
                "our MTA: dmarc=pass",
            ),
            (
                &dmarc,
                vec![ours_fail.clone(), rcv_ours.clone()],
                false,
                "our MTA: dmarc=fail",
            ),
            (
                &dmarc,
                vec![ours_none.clone(), rcv_ours.clone()],
                false,
                "our MTA: none",
            ),
            (&dmarc, vec![], false, "no header at all"),
            (
                &dmarc,
                vec![ours_fail.clone(), rcv_ours.clone(), forged.clone()],
                false,
                "forged pass below our Received",
            ),
            (
                &dmarc,
                vec![rcv_ours.clone(), subject.clone(), forged.clone()],
                false,
                "forged pass among the letter's own headers",
            ),
            (
                &dmarc,
                vec![theirs.clone(), rcv_ours.clone()],
                false,
                "another authserv-id",
            ),
            (
                &dmarc,
                vec![h(
                    "Authentication-Results",
                    "mx.example.org; dmarc=pass header.from=evil.example",
                )],
                false,
                "dmarc pass for another domain",
            ),
            (
                &loose,
                vec![dkim_sub.clone()],
                true,
                "dkim_or_spf: aligned DKIM (subdomain)",
            ),
            (
                &loose,
                vec![spf_only.clone()],
                true,
                "dkim_or_spf: aligned SPF",
            ),
            (
                &loose,
                vec![dkim_other.clone()],
                false,
                "dkim_or_spf: DKIM of another domain, SPF softfail",
            ),
            (
                &dmarc,
                vec![spf_only.clone()],
                false,
                "dmarc required, only SPF",
            ),
            (
                &dmarc,
                vec![h(
                    "authentication-results",
                    "MX.Example.Org; DMARC=Pass header.from=SED.example.org",
                )],
                true,
                "case-insensitive",
            ),
        ];
        for (policy, trace, ok, what) in cases {
            let got = sender_trust(policy, &trace, from);
            assert_eq!(got.allows(), ok, "{what}: {got:?}");
        }
        assert!(aligned("a.b.org", "b.org") && !aligned("ab.org", "b.org"));
    }
}
