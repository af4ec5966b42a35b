//! Reading Table 2 out of a body (rules 1–6): tables first (HTML or text),
//! then `Key: value` lines (`:`, ` - `, ` — `, tab separators, numbered
//! items, value on the next line, value continuing over lines), then lines
//! that are plainly a location or a phone. Only known titles start a new
//! field; other `Word: ...` lines belong to the current value. Whatever the
//! form does not use is the free text, which becomes the description when
//! the form has none.

use super::blocks::Block;
use super::location::{
    find_floor, find_room, split_name_location, starts_with_location, strip_position,
};
use super::paragraphs::{read_paragraphs, strict_title};
use super::phone::parse_phone;
use super::quote::{ends_at_signature, is_mobile_signature};
use super::table::{find_text_table, read_grid, value_under, RawFields};
use super::vocab::{classify_title, Kind};
use super::Form;

/// A form read from one body, with how much of it was found.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub form: Form,
    /// Number of fields found through titles (a measure of how readable
    /// this body's form is).
    pub score: usize,
    /// The body as plain text (tables as `cell | cell` rows).
    pub text: String,
    /// How trustworthy the layout the form came from is, for ties between
    /// a letter's plain and HTML bodies: 2 a table, 1 key-value lines, 0
    /// title paragraphs only (an empty cell shifts every value after it).
    pub layout: u8,
}

/// Split `Key: value` at the first separator; None when there is none or
/// the key is too long to be a title.
pub fn split_kv(line: &str) -> Option<(&str, &str)> {
    // The first of ":", tab, "|", " — ", " – ", " - " (one scan; the key is
    // at most 100 characters, so the scan stops early on long lines).
    let mut found = None;
    for (i, c) in line.char_indices() {
        if i > 400 {
            break;
        }
        match c {
            ':' | '\t' | '|' => {
                found = Some((i, 1));
                break;
            }
            ' ' => {
                let rest = &line[i + 1..];
                let dash = ["— ", "– ", "- "].iter().find(|d| rest.starts_with(*d));
                if let Some(d) = dash {
                    found = Some((i, 1 + d.len()));
                    break;
                }
            }
            _ => {}
        }
    }
    let (p, l) = found?;
    let key = line[..p].trim();
    if key.is_empty() || key.chars().count() > 100 || key.contains('!') || key.contains('?') {
        return None;
    }
    // A key is a label: a couple of words, or worded as a form title. A
    // sentence that happens to hold a dash or a colon ("В отделе не
    // работает СЭД — белый экран") is text, whatever its words name.
    let dash = l > 1;
    let words = key.split_whitespace().count();
    if words > if dash { 2 } else { 4 } && strict_title(key).is_none() {
        return None;
    }
    let val = line[p + l..].trim();
    let val = val.trim_end_matches('|').trim();
    Some((key, val))
}

/// Lines like "Тел. 8-911-..." without a separator.
fn plain_phone(line: &str) -> Option<&str> {
    let t = line.trim();
    let lower = t.to_lowercase();
    let prefixes = ["телефон", "тел.", "тел ", "моб.", "моб ", "мобильный"];
    let p = prefixes.iter().find(|p| lower.starts_with(*p))?;
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    (digits >= 5 && t.chars().count() < 80).then(|| t[p.len()..].trim())
}

/// A line that is plainly a location ("Каб. 7, 2 эт.").
fn plain_location(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() <= 60
        && starts_with_location(t)
        && (find_room(t).is_some() || find_floor(t).is_some())
}

pub fn is_greeting(line: &str) -> bool {
    if line.trim().chars().count() > 40 {
        return false;
    }
    let t = line.trim().to_lowercase();
    let short = true;
    short
        && [
            "добрый день",
            "добрый вечер",
            "доброе утро",
            "здравствуйте",
            "привет",
            "коллеги",
            "уважаемые",
            "уважаемый",
            "уважаемая",
            "hello",
            "hi",
            "good ",
        ]
        .iter()
        .any(|g| t.starts_with(g))
}

pub fn is_valediction(line: &str) -> bool {
    let n = line.trim().chars().count();
    if n > 60 {
        return false;
    }
    let t = line.trim().to_lowercase();
    let closing = [
        "с уважением",
        "всего доброго",
        "всего хорошего",
        "с наилучшими",
        "best regards",
        "regards",
        "kind regards",
    ];
    // "Спасибо!" closes a letter; "Спасибо за помощь в прошлый раз." opens one.
    let thanks = [
        "спасибо",
        "заранее спасибо",
        "заранее благодар",
        "благодарю",
        "thanks",
        "thank you",
    ];
    (n <= 60 && closing.iter().any(|g| t.starts_with(g)))
        || (n <= 30 && thanks.iter().any(|g| t.starts_with(g)))
}

/// Read the form out of (quote-stripped) blocks.
pub fn read(blocks: &[Block], area_code: &str) -> Reading {
    let mut grid = false;
    let mut raw = RawFields::default();
    // 1. HTML tables. A table that is not a form grid (one column of
    // "Key: value" cells, a layout table) is read as lines.
    let mut lines: Vec<&str> = Vec::new();
    // Word sometimes splits a table after its header row: a header-only
    // table is read together with the table that follows it.
    let mut merged: Vec<Block> = Vec::with_capacity(blocks.len());
    for b in blocks {
        if let (Block::Table(next), Some(Block::Table(prev))) = (b, merged.last_mut()) {
            if read_grid(prev).is_none() && header_only(prev) {
                prev.extend(next.iter().cloned());
                continue;
            }
        }
        if matches!(b, Block::Line(l) if l.trim().is_empty())
            && matches!(merged.last(), Some(Block::Table(_)))
        {
            continue;
        }
        merged.push(b.clone());
    }
    for b in &merged {
        match b {
            Block::Table(rows) => match read_grid(rows) {
                Some(f) => {
                    grid = true;
                    raw.merge(f)
                }
                None => {
                    for cell in rows.iter().flatten() {
                        lines.extend(cell.lines());
                    }
                }
            },
            Block::Line(l) => lines.push(l.as_str()),
            Block::Cut => break,
        }
    }
    // 2. Lines: text tables, then key-value.
    let mut used = vec![false; lines.len()];
    if let Some(t) = find_text_table(&lines) {
        if let Some(f) = read_grid(&t.rows) {
            grid = true;
            raw.merge(f);
            for u in used.iter_mut().take(t.end).skip(t.start) {
                *u = true;
            }
        }
    }
    // Title paragraphs first: their value lines ("каб. 5, 2 этаж") must not
    // be taken for unlabelled location or phone lines.
    let paragraphs = read_paragraphs(&lines, &mut used);
    let signed = ends_at_signature(blocks);
    let kv = read_kv(&lines, &mut used, signed);
    let layout = if grid {
        2
    } else if !paragraphs.items.is_empty() && kv.items.len() < paragraphs.items.len() {
        0
    } else {
        1
    };
    raw.merge(kv);
    raw.merge(paragraphs);
    let free: Vec<&str> = lines
        .iter()
        .zip(used.iter())
        .filter(|(_, u)| !**u)
        .map(|(l, _)| *l)
        .collect();
    let score = raw
        .items
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .count();
    let form = build(&raw, &free, area_code, signed);
    Reading {
        form,
        score,
        text: render_text(blocks),
        layout,
    }
}

/// At most `n` bytes of `s`, cut at a character boundary.
fn head(s: &str, n: usize) -> &str {
    let mut e = s.len().min(n);
    while !s.is_char_boundary(e) {
        e -= 1;
    }
    &s[..e]
}

/// A table made only of a title row.
fn header_only(rows: &[Vec<String>]) -> bool {
    rows.len() == 1
        && rows[0]
            .iter()
            .filter(|c| matches!(classify_title(c), Some(k) if k != Kind::Number))
            .count()
            >= 2
}

/// Does an unlabelled line continue the current field's value? A value on
/// the line after its key always does; descriptions and notes run on; an
/// organisation only when the mailer wrapped a long line; a phone or a
/// location only with more of the same; a name or a bare room/floor never.
/// Everything else is free text (often the description itself).
fn continues(kind: Kind, value: &str, line: &str, prev_len: usize) -> bool {
    if value.trim().is_empty() {
        return true;
    }
    match kind {
        Kind::Description | Kind::Note => true,
        Kind::Organization => prev_len >= 60,
        Kind::Phone => {
            let digits = line.chars().filter(|c| c.is_ascii_digit()).count();
            let letters = line.chars().filter(|c| c.is_alphabetic()).count();
            digits >= 2 && letters <= 12
        }
        Kind::Location | Kind::NameAndLocation => {
            starts_with_location(line) || find_room(line).is_some() || find_floor(line).is_some()
        }
        Kind::FullName | Kind::Room | Kind::Floor | Kind::Number => false,
    }
}

/// Key-value lines. Marks the lines it uses in `used`. `signed`: the
/// sender's `-- ` delimiter already cut the signature off.
fn read_kv(lines: &[&str], used: &mut [bool], signed: bool) -> RawFields {
    let mut f = RawFields::default();
    let mut vals: Vec<(Kind, String)> = Vec::new();
    let mut current: Option<usize> = None; // index into vals
    let mut blank_after = false;
    // Lines other readers (tables, paragraphs) took before this one ran.
    let first_used = used.iter().position(|u| *u);
    let mut has_location = false;
    let mut has_phone = false;
    for (i, line) in lines.iter().enumerate() {
        if used[i] {
            current = None;
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            if let Some(c) = current {
                if vals[c].1.trim().is_empty() {
                    continue; // value on a later line
                }
                if vals[c].0 == Kind::Description {
                    blank_after = true;
                    continue;
                }
            }
            current = None;
            continue;
        }
        if is_valediction(t) || is_mobile_signature(t) {
            // What follows a closing is the signature: no field comes
            // from it (a phone in a signature is not the phone field).
            // A "Заранее спасибо!" before any field is only politeness.
            if !vals.is_empty() || first_used.is_some_and(|p| p < i) {
                break;
            }
            current = None;
            continue;
        }
        if let Some((k, v)) = split_kv(t) {
            if let Some(kind) = classify_title(k) {
                if kind != Kind::Number {
                    used[i] = true;
                    has_location |= kind == Kind::Location;
                    has_phone |= kind == Kind::Phone;
                    vals.push((kind, value_under(kind, k, v)));
                    current = Some(vals.len() - 1);
                    blank_after = false;
                    continue;
                }
            }
        }
        if plain_location(t) && !has_location {
            has_location = true;
            used[i] = true;
            vals.push((Kind::Location, t.to_string()));
            current = None;
            continue;
        }
        if let Some(p) = plain_phone(t) {
            if !has_phone {
                has_phone = true;
                used[i] = true;
                vals.push((Kind::Phone, p.to_string()));
                current = None;
                continue;
            }
        }
        // A bare title line starts a paragraph-form field (see
        // `paragraphs`), never continues the current value.
        if strict_title(t).is_some() {
            current = None;
            continue;
        }
        if let Some(c) = current {
            let prev_len = if i > 0 {
                lines[i - 1].chars().count()
            } else {
                0
            };
            // After a blank line a description goes on only with prose, not
            // with a bare signature ("Иванов И.И.", "Главный специалист").
            let signature_like = !signed && blank_after && t.split_whitespace().count() < 6;
            if !signature_like && continues(vals[c].0, &vals[c].1, t, prev_len) {
                used[i] = true;
                let v = &mut vals[c].1;
                if !v.is_empty() {
                    v.push_str(if blank_after { "\n\n" } else { "\n" });
                }
                v.push_str(t);
                blank_after = false;
            } else {
                current = None;
            }
        }
    }
    for (k, v) in vals {
        f.set(k, v);
    }
    f
}

/// A value, or None for a blank: dashes, dots, a template's `________`,
/// «нет».
fn clean(v: Option<&str>) -> Option<String> {
    let v = v?.trim();
    let t = v.trim_matches(|c: char| matches!(c, '-' | '—' | '–' | '.' | '_') || c.is_whitespace());
    if t.is_empty() || matches!(t.to_lowercase().as_str(), "нет" | "n/a" | "отсутствует")
    {
        return None;
    }
    Some(v.to_string())
}

fn bare_number(v: &str) -> Option<String> {
    let t = v.trim().trim_end_matches('.');
    let ok = !t.is_empty()
        && t.chars().count() <= 6
        && t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.chars().all(|c| c.is_alphanumeric());
    ok.then(|| t.to_string())
}

/// Raw fields → the form.
fn build(raw: &RawFields, free: &[&str], area_code: &str, signed: bool) -> Form {
    let mut form = Form {
        organization: clean(raw.get(Kind::Organization)),
        note: clean(raw.get(Kind::Note)),
        ..Default::default()
    };
    let mut loc_text: Option<String> = clean(raw.get(Kind::Location));
    let name_cell =
        clean(raw.get(Kind::NameAndLocation)).or_else(|| clean(raw.get(Kind::FullName)));
    if let Some(cell) = name_cell {
        let (name, loc) = split_name_location(&cell);
        form.full_name = name.map(|n| strip_position(&n)).filter(|n| !n.is_empty());
        if loc_text.is_none() {
            loc_text = loc;
        } else if let (Some(l), Some(extra)) = (&loc_text, loc) {
            loc_text = Some(format!("{extra}, {l}"));
        }
    }
    let room_key = clean(raw.get(Kind::Room));
    let floor_key = clean(raw.get(Kind::Floor));
    if let Some(l) = &loc_text {
        let l = head(l, 1000);
        form.room = find_room(l);
        form.floor = find_floor(l);
    }
    if form.room.is_none() {
        form.room = room_key
            .as_deref()
            .and_then(|r| find_room(&format!("каб. {r}")).or_else(|| bare_number(r)));
    }
    if form.floor.is_none() {
        form.floor = floor_key
            .as_deref()
            .and_then(|f| find_floor(&format!("этаж {f}")).or_else(|| find_floor(f)));
    }
    // "Кабинет: 5, этаж 2" — the other half written in the same value.
    if form.floor.is_none() {
        form.floor = room_key.as_deref().and_then(find_floor);
    }
    if form.room.is_none() {
        form.room = floor_key.as_deref().and_then(find_room);
    }
    form.location = loc_text.or_else(|| {
        let parts: Vec<String> = [
            room_key.map(|r| format!("каб. {r}")),
            floor_key.map(|f| format!("этаж {f}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    });
    if let Some(p) = clean(raw.get(Kind::Phone)) {
        let (main, ext) = parse_phone(&p, area_code);
        form.phone = main;
        form.phone_ext = ext;
    }
    form.description = match raw.get(Kind::Description) {
        Some(d) => clean(Some(d)),
        None => free_text(free, signed),
    };
    form
}

/// The free text as a description: greetings at the start and everything
/// from a valediction on are left out. `signed`: the `-- ` delimiter cut
/// the signature already, so a short last paragraph is the sender's text.
pub fn free_text(lines: &[&str], signed: bool) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for l in lines {
        let t = l.trim();
        if is_valediction(t) {
            if out.iter().any(|x| !x.is_empty()) {
                break;
            }
            continue;
        }
        if out.iter().all(|x| x.trim().is_empty()) && (t.is_empty() || is_greeting(t)) {
            continue;
        }
        out.push(t);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    // A last short paragraph after the text is a signature without "-- ".
    if let Some(blank) = out.iter().rposition(|l| l.is_empty()).filter(|_| !signed) {
        let tail = &out[blank + 1..];
        if tail.len() <= 4 && tail.iter().all(|l| l.split_whitespace().count() < 6) {
            out.truncate(blank);
            while out.last().is_some_and(|l| l.is_empty()) {
                out.pop();
            }
        }
    }
    let s = out.join("\n");
    (!s.trim().is_empty()).then_some(s)
}

/// Blocks as plain text; tables become `cell | cell` rows.
pub fn render_text(blocks: &[Block]) -> String {
    let mut out: Vec<String> = Vec::new();
    for b in blocks {
        match b {
            Block::Line(l) => out.push(l.clone()),
            Block::Table(rows) => {
                for r in rows {
                    out.push(
                        r.iter()
                            .map(|c| c.replace('\n', " "))
                            .collect::<Vec<_>>()
                            .join(" | "),
                    );
                }
            }
            Block::Cut => break,
        }
    }
    let s = out.join("\n");
    s.trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests;
