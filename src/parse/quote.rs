//! Quoted history and signatures (rule 5): what the sender did not write in
//! this letter never reaches the form, the description or the text.
//!
//! Cut points (everything after is dropped): `-----Original Message-----`,
//! `-----Исходное сообщение-----`, a line of underscores followed by an
//! `От:`/`From:` header block, an `От:`/`From:` line followed by
//! `Отправлено:`/`Sent:`/`Дата:`/`Date:`, attribution lines (`... пишет:`,
//! `... написал(а):`, `... wrote:`, `<date>, <name> <address>:`), the
//! signature delimiter `-- ` alone on its line (or `--`; not `--- text`), mobile signatures (`Отправлено с
//! iPhone`, `Отправлено из ...`, `Sent from ...`). Lines starting with `>`
//! are dropped wherever they are.

use super::blocks::Block;

fn norm(s: &str) -> String {
    s.trim().to_lowercase().replace('ё', "е")
}

fn is_original_marker(l: &str) -> bool {
    if !l.contains(['-', '—', '_', '=']) || l.len() > 200 {
        return false;
    }
    let t = norm(l);
    let core = t.trim_matches(|c: char| c == '-' || c == '—' || c == ' ' || c == '_' || c == '=');
    t.len() > core.len()
        && matches!(
            core,
            "original message" | "исходное сообщение" | "исходное письмо" | "original e-mail"
        )
}

/// `-------- Пересылаемое сообщение --------` and friends: an inline
/// forward. Not history — the forwarded text may be the request itself —
/// so only the marker and the header block after it are dropped.
fn is_forward_marker(l: &str) -> bool {
    if l.len() > 200 {
        return false;
    }
    let t = norm(l);
    let core = t.trim_matches(|c: char| c == '-' || c == '—' || c == ' ' || c == '_' || c == '=');
    matches!(
        core,
        "пересылаемое сообщение"
            | "пересланное сообщение"
            | "переадресованное сообщение"
            | "forwarded message"
            | "original message follows"
    ) || t.starts_with("begin forwarded message")
}

const FWD_HEADER_KEYS: &[&str] = &[
    "от:",
    "from:",
    "дата:",
    "date:",
    "тема:",
    "subject:",
    "кому:",
    "to:",
    "копия:",
    "cc:",
    "отправлено:",
    "sent:",
];

fn is_header_line(l: &str, keys: &[&str]) -> bool {
    // Only the start matters.
    let mut e = l.trim_start().len().min(40);
    let s = l.trim_start();
    while !s.is_char_boundary(e) {
        e -= 1;
    }
    let t = norm(&s[..e]);
    keys.iter().any(|k| t.starts_with(k))
}

const FROM_KEYS: &[&str] = &["от:", "from:", "от кого:"];
const SENT_KEYS: &[&str] = &[
    "отправлено:",
    "sent:",
    "дата:",
    "date:",
    "кому:",
    "to:",
    "тема:",
    "subject:",
];

fn is_attribution(l: &str, next: Option<&str>) -> bool {
    if !l.trim_end().ends_with(':') && !next.is_some_and(|n| n.trim_end().ends_with(':')) {
        return false;
    }
    let t = norm(l);
    if t.len() > 400 {
        return false;
    }
    let ends_colon = t.ends_with(':');
    let words = ["пишет", "написал", "написала", "wrote", "писал"];
    if ends_colon && words.iter().any(|w| t.contains(w)) {
        return true;
    }
    // "<date>, <name> <address>:" — possibly wrapped over two lines.
    let has_digit = t.chars().any(|c| c.is_ascii_digit());
    if ends_colon && t.contains('@') && has_digit && (t.contains('<') || t.contains(',')) {
        return true;
    }
    if let Some(n) = next {
        let n = norm(n);
        if n.ends_with(':')
            && n.len() < 200
            && (n.contains('@') || words.iter().any(|w| n.contains(w)))
            && has_digit
        {
            let joined = format!("{t} {n}");
            return words.iter().any(|w| joined.contains(w))
                || (joined.contains('@') && joined.contains('<'));
        }
    }
    false
}

/// True for a mobile client's signature line.
pub fn is_mobile_signature(l: &str) -> bool {
    if l.trim().chars().count() > 90 {
        return false;
    }
    let t = norm(l);
    [
        "отправлено с ",
        "отправлено из ",
        "отправлено через ",
        "отправлено со ",
        "sent from ",
        "sent via ",
        "get outlook for ",
        "получите outlook",
        "скачайте outlook",
        "с уважением, отправлено",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

/// The signature delimiter: `-- ` alone on its line (RFC 3676 §4.3), or
/// the clients' variants `--` (trailing space lost) and `--` + NBSP. A line
/// that starts with `-- ` or `--- ` and goes on with text is text.
fn is_signature_separator(l: &str) -> bool {
    l.trim_end() == "--"
}

fn is_underscores(l: &str) -> bool {
    let t = l.trim();
    t.len() >= 8 && t.chars().all(|c| c == '_')
}

/// Drop quoted lines and cut at the first cut point.
pub fn strip_quotes(blocks: &[Block]) -> Vec<Block> {
    let lines_at = |i: usize| -> Option<&str> {
        match blocks.get(i) {
            Some(Block::Line(l)) => Some(l.as_str()),
            _ => None,
        }
    };
    // Next non-empty line after i (within a few lines).
    let next_nonempty = |i: usize, within: usize| -> Vec<&str> {
        let mut v = Vec::new();
        let mut j = i + 1;
        while j < blocks.len() && j <= i + within {
            if let Some(l) = lines_at(j) {
                if !l.trim().is_empty() {
                    v.push(l);
                }
            }
            j += 1;
        }
        v
    };
    let mut out = Vec::with_capacity(blocks.len());
    let mut fwd_headers = false;
    let mut signed = false;
    for (i, b) in blocks.iter().enumerate() {
        match b {
            Block::Cut => break,
            Block::Table(_) => {
                fwd_headers = false;
                out.push(b.clone())
            }
            Block::Line(l) => {
                if l.trim_start().starts_with('>') {
                    continue;
                }
                if is_forward_marker(l) {
                    fwd_headers = true;
                    continue;
                }
                if fwd_headers {
                    if l.trim().is_empty() || is_header_line(l, FWD_HEADER_KEYS) {
                        continue;
                    }
                    fwd_headers = false;
                }
                if is_signature_separator(l) {
                    signed = true;
                    break;
                }
                if is_original_marker(l) || is_mobile_signature(l) {
                    break;
                }
                if is_underscores(l) {
                    let nx = next_nonempty(i, 3);
                    if nx.iter().any(|n| is_header_line(n, FROM_KEYS)) {
                        break;
                    }
                }
                if is_header_line(l, FROM_KEYS) {
                    let nx = next_nonempty(i, 4);
                    if nx.iter().any(|n| is_header_line(n, SENT_KEYS)) {
                        break;
                    }
                }
                let nx = next_nonempty(i, 1);
                if is_attribution(l, nx.first().copied()) {
                    // Quoted with ">" below it: drop the attribution, the
                    // quoted lines go one by one, and an answer written
                    // under the quote survives. Otherwise the original
                    // follows unmarked: cut.
                    let after = next_nonempty(i, 3);
                    let marked = after
                        .iter()
                        .find(|n| !is_attribution(n, None))
                        .is_some_and(|n| n.trim_start().starts_with('>'));
                    if marked {
                        continue;
                    }
                    break;
                }
                out.push(b.clone());
            }
        }
    }
    // Drop trailing blank lines.
    while matches!(out.last(), Some(Block::Line(l)) if l.trim().is_empty()) {
        out.pop();
    }
    // The sender's own signature delimiter ended the text: say so, so that
    // a short last paragraph is not taken for a signature once more.
    if signed {
        out.push(Block::Cut);
    }
    out
}

/// Did the sender's `-- ` delimiter end these (quote-stripped) blocks?
pub fn ends_at_signature(blocks: &[Block]) -> bool {
    matches!(blocks.last(), Some(Block::Cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> String {
        let blocks: Vec<Block> = text.lines().map(|l| Block::Line(l.to_string())).collect();
        strip_quotes(&blocks)
            .into_iter()
            .filter_map(|b| match b {
                Block::Line(l) => Some(l),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn cut_points() {
        let cases = [
            ("текст\n\n02.03.2026 9:20, Служба пишет:\n> старое", "текст"),
            ("текст\n-----Original Message-----\nFrom: x", "текст"),
            ("текст\n-----Исходное сообщение-----\nОт: x", "текст"),
            (
                "текст\n________________________________\nОт: Иванов\nОтправлено: вчера",
                "текст",
            ),
            ("текст\nFrom: Ivanov <i@x>\nSent: Monday\nTo: y", "текст"),
            ("текст\n-- \nПодпись", "текст"),
            ("текст\n--\nПодпись", "текст"),
            ("текст\n\nОтправлено с iPhone\n\nстарое", "текст"),
            ("текст\nSent from my iPhone", "текст"),
            (
                "текст\n> 11 марта 2026 г., в 14:05, Служба <s@x> написал(а):\n> ok",
                "текст",
            ),
            (
                "текст\nпн, 2 мар. 2026 г. в 09:20, Служба <\nsupport@sed.example.org>:\n> x",
                "текст",
            ),
            (
                "текст\nВ сообщении от 1 марта Иванов написал:\nстарое",
                "текст",
            ),
            ("ФИО: Иванов\nТел.: 5", "ФИО: Иванов\nТел.: 5"),
            ("Иванов пишет:\n> вопрос\n\nответ под цитатой", "\nответ под цитатой"),
            (
                "Пересылаю.\n-------- Пересылаемое сообщение --------\nОт: Иванов <i@x>\nДата: 1 марта\nТема: Заявка\n\nФИО: Иванов",
                "Пересылаю.\nФИО: Иванов",
            ),
            ("Ошибка: Caused by: x", "Ошибка: Caused by: x"),
        ];
        for (input, want) in cases {
            assert_eq!(run(input), want, "{input}");
        }
    }
}
