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
    "важность:",
    "importance:",
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
    if ends_colon && (says_wrote(&t) || ends_with_address(&t)) {
        return true;
    }
    // "<date>, <name> <address>:" — possibly wrapped over two lines.
    let has_digit = t.chars().any(|c| c.is_ascii_digit());
    if let Some(n) = next {
        let n = norm(n);
        if n.ends_with(':')
            && n.len() < 200
            && has_digit
            && (n.contains('@') || n.split_whitespace().any(is_wrote))
        {
            let joined = format!("{t} {n}");
            return says_wrote(&joined) || (ends_with_address(&joined) && joined.contains('<'));
        }
    }
    false
}

/// "… Иванов пишет:", "… написал(а):", "… wrote:", "Вы писали 1 декабря
/// 2026 г., 9:00:": the verb ends the attribution, or only a date follows
/// it. A person's own sentence that holds the verb («Писал вчера, ответа
/// так и не получил. Повторяю:») goes on with words: it is text, and the
/// form under it is the letter's own.
fn says_wrote(t: &str) -> bool {
    let body = t.trim_end().trim_end_matches(':');
    let words: Vec<&str> = body.split_whitespace().collect();
    let Some(v) = words.iter().rposition(|w| is_wrote(w)) else {
        return false;
    };
    let after = &words[v + 1..];
    if after.is_empty() {
        return true;
    }
    // Only a date and a time after the verb: digits, and at most a month
    // name, «г.» and «в» among the words.
    let wordy = after
        .iter()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() > 1)
        .count();
    after.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) && wordy <= 3
}

/// The verb of an attribution (`пишет`, `написал(а)`, `писали`, `wrote`).
fn is_wrote(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    ["пишет", "написал", "писал", "wrote", "writes"]
        .iter()
        .any(|v| w.starts_with(v))
}

/// "<date>, <name> <address>:": the address is the last word before the
/// colon and a date stands before it. An address inside a sentence («мой
/// адрес ivanova@…, ответьте:») is text.
fn ends_with_address(t: &str) -> bool {
    let body = t.trim_end().trim_end_matches(':');
    let Some(last) = body.split_whitespace().last() else {
        return false;
    };
    let has_digit = body.chars().any(|c| c.is_ascii_digit());
    last.contains('@') && has_digit && (body.contains('<') || body.contains(','))
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
    scan(blocks).0
}

/// The letter below the first history cut point (`-----Original
/// Message-----`, Outlook's `От:`/`Отправлено:` block with or without a
/// line of underscores, an attribution with the original unmarked under
/// it), its header block left out and its own history cut: the letter
/// that was forwarded or answered. `None` when there is no such cut point
/// (a signature or a mobile signature is not one) or nothing below it.
pub fn below_cut(blocks: &[Block]) -> Option<Vec<Block>> {
    let cut = scan(blocks).1?;
    let mut rest = blocks.get(cut + 1..)?;
    while let Some(Block::Line(l)) = rest.first() {
        if !(l.trim().is_empty() || is_header_line(l, FWD_HEADER_KEYS)) {
            break;
        }
        rest = &rest[1..];
    }
    let out = strip_quotes(rest);
    (!out.is_empty()).then_some(out)
}

/// The blocks before the first cut point, and the index of the history cut
/// point when one ended them.
fn scan(blocks: &[Block]) -> (Vec<Block>, Option<usize>) {
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
    let mut cut = None;
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
                if is_mobile_signature(l) {
                    break;
                }
                if is_original_marker(l) {
                    cut = Some(i);
                    break;
                }
                if is_underscores(l) {
                    let nx = next_nonempty(i, 3);
                    if nx.iter().any(|n| is_header_line(n, FROM_KEYS)) {
                        cut = Some(i);
                        break;
                    }
                }
                if is_header_line(l, FROM_KEYS) {
                    let nx = next_nonempty(i, 4);
                    if nx.iter().any(|n| is_header_line(n, SENT_KEYS)) {
                        cut = Some(i);
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
                    // An attribution wrapped over two lines ends on the next.
                    cut = Some(if l.trim_end().ends_with(':') {
                        i
                    } else {
                        i + 1
                    });
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
    (out, cut)
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
            // Attributions end with their verb, a date after it, or the
            // sender's address.
            ("текст\nВы писали 1 декабря 2026 г., 9:00:\nстарое", "текст"),
            ("текст\n01.12.2026, 09:00, \"Иванов\" <i@x.org>:\nстарое", "текст"),
            (
                "текст\nOn Tue, Dec 1, 2026 at 9:00 AM John <j@x.org> wrote:\nold",
                "текст",
            ),
            (
                "текст\nВторник, 1 декабря 2026, 9:00 +03:00 от Иванов <i@x.org>:\nстарое",
                "текст",
            ),
            // A person's own introductory sentence is text, whatever verb
            // or address it holds (issue 13, item 9).
            (
                "Писал вчера, ответа так и не получил. Повторяю:\nФИО: Иванов",
                "Писал вчера, ответа так и не получил. Повторяю:\nФИО: Иванов",
            ),
            (
                "Вы писали 1 декабря, что заявку примут, но ответа нет. Повторяю:\nФИО: Иванов",
                "Вы писали 1 декабря, что заявку примут, но ответа нет. Повторяю:\nФИО: Иванов",
            ),
            (
                "Мне написали, что форма неполная. Исправил:\nФИО: Иванов",
                "Мне написали, что форма неполная. Исправил:\nФИО: Иванов",
            ),
            (
                "Пишу 2-й раз с адреса ivanova@x.org, ответьте:\nФИО: Иванов",
                "Пишу 2-й раз с адреса ivanova@x.org, ответьте:\nФИО: Иванов",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(run(input), want, "{input}");
        }
    }

    fn below(text: &str) -> Option<String> {
        let blocks: Vec<Block> = text.lines().map(|l| Block::Line(l.to_string())).collect();
        below_cut(&blocks).map(|b| {
            b.into_iter()
                .filter_map(|b| match b {
                    Block::Line(l) => Some(l),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// The letter below a history cut point, without its header block and
    /// its own history (issue 13, item 14).
    #[test]
    fn below_the_cut_point() {
        let cases: [(&str, Option<&str>); 8] = [
            (
                "FYI\n-----Original Message-----\nFrom: P <p@x>\nSent: Monday\nTo: y\nSubject: s\n\nФИО: Петров",
                Some("ФИО: Петров"),
            ),
            (
                "\n-----Исходное сообщение-----\nОт: П\nОтправлено: 1 декабря\nКому: y\nТема: s\nВажность: Высокая\n\nФИО: Петров\n-- \nподпись",
                Some("ФИО: Петров"),
            ),
            (
                "Пересылаю.\n________________________________\nОт: П\nОтправлено: вчера\nТема: s\nФИО: Петров",
                Some("ФИО: Петров"),
            ),
            (
                "Пересылаю.\nОт: П <p@x>\nОтправлено: вчера\nКому: y\n\nФИО: Петров\n\n-----Original Message-----\nстарое",
                Some("ФИО: Петров"),
            ),
            (
                "текст\n01.12.2026 9:00, Петров пишет:\nФИО: Петров",
                Some("ФИО: Петров"),
            ),
            (
                "текст\nпн, 2 мар. 2026 г. в 09:20, Служба <\nsupport@sed.example.org>:\nФИО: Петров",
                Some("ФИО: Петров"),
            ),
            // A signature is not a cut point into another letter.
            ("текст\n-- \nФИО: Петров", None),
            ("текст\nОтправлено с iPhone\nФИО: Петров", None),
        ];
        for (input, want) in cases {
            assert_eq!(below(input).as_deref(), want, "{input}");
        }
        assert_eq!(below("ФИО: Петров"), None);
        assert_eq!(below("текст\n-----Original Message-----\nFrom: x\n"), None);
    }
}
