//! Appeals taken by phone (п. 87), registered from the engineer's mail
//! client: a 1st-line engineer writes to their own registration address
//! (`support+reg-<mac>@…`, [`super::signed::reg_address`]) with the Table 2
//! form and a `Заявитель:` / `Requester:` line naming the caller's e-mail
//! (optional). Pure: which letters may register, and who the caller is.

/// Why a letter to a registration address registers nothing (for the
/// record), or `Ok` when it registers the call.
pub fn may_register(
    first_line_engineer: bool,
    sender_trusted: Result<(), &str>,
    several_from: bool,
    address_is_senders: bool,
) -> Result<(), String> {
    if several_from {
        return Err("phone registration refused: the letter has several From addresses".into());
    }
    if !first_line_engineer {
        return Err(
            "phone registration refused: the sender is not an engineer of the 1st line".into(),
        );
    }
    if let Err(why) = sender_trusted {
        return Err(format!("phone registration refused: {why}"));
    }
    if !address_is_senders {
        return Err(
            "phone registration refused: the registration address is not the sender's own".into(),
        );
    }
    Ok(())
}

/// Keys of the caller's line.
const KEYS: [&str; 3] = ["заявитель", "requester", "caller"];

/// Is `line` the caller's line? Its value, then.
fn caller_value(line: &str) -> Option<&str> {
    let (k, v) = line.trim().split_once(':')?;
    let k = k.trim().to_lowercase();
    KEYS.contains(&k.as_str()).then_some(v.trim())
}

/// The caller's e-mail from the `Заявитель:` line (`None`: no line, or no
/// address in it), and the text without that line.
pub fn caller(text: &str) -> (Option<String>, String) {
    let mut found = None;
    let mut rest = Vec::new();
    for line in text.lines() {
        match caller_value(line) {
            Some(v) if found.is_none() => {
                found = Some(address_in(v));
            }
            _ => rest.push(line),
        }
    }
    (found.flatten(), rest.join("\n"))
}

/// The address in `Иванова <ivanova@x.org>` or `ivanova@x.org`, lower-cased.
fn address_in(v: &str) -> Option<String> {
    let inner = match (v.find('<'), v.rfind('>')) {
        (Some(s), Some(e)) if s < e => &v[s + 1..e],
        _ => v,
    };
    inner
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .map(|w| w.trim_matches(|c: char| "()[]\"'.".contains(c)))
        .find(|w| w.contains('@'))
        .map(super::address::canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_register() {
        // (1st-line engineer, trusted, several From, own address, registers)
        for (eng, trusted, several, own, ok) in [
            (true, Ok(()), false, true, true),
            (false, Ok(()), false, true, false),
            (true, Err("dmarc=fail"), false, true, false),
            (true, Ok(()), true, true, false),
            (true, Ok(()), false, false, false),
        ] {
            assert_eq!(
                may_register(eng, trusted, several, own).is_ok(),
                ok,
                "{eng} {trusted:?} {several} {own}"
            );
        }
    }

    #[test]
    fn the_callers_line() {
        // (text, caller, text left)
        for (text, want, left) in [
            (
                "Заявитель: Ivanova@Minfin.example.org\nФИО: Иванова",
                Some("ivanova@minfin.example.org"),
                "ФИО: Иванова",
            ),
            (
                "ФИО: Иванова\nRequester: Иванова <ivanova@x.org>",
                Some("ivanova@x.org"),
                "ФИО: Иванова",
            ),
            ("заявитель : нет почты\nФИО: Иванова", None, "ФИО: Иванова"),
            ("ФИО: Иванова", None, "ФИО: Иванова"),
            ("Caller: (ivanova@x.org).", Some("ivanova@x.org"), ""),
        ] {
            let (c, rest) = caller(text);
            assert_eq!(c.as_deref(), want, "{text}");
            assert_eq!(rest, left, "{text}");
        }
    }
}
