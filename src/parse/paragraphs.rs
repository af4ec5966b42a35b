//! Table 2 written as paragraphs: each title on a line of its own, without
//! a separator, the value on the next line(s) — what a user gets by copying
//! the regulation's titles, and what Outlook's text rendering of a table
//! looks like:
//!
//! * transposed: `title`, `value`, `title`, `value`, …
//! * horizontal: all titles, an optional numbering run `1..n`, then the `n`
//!   values in the same order.
//!
//! A title line must be worded as a title (an organisation *value* such as
//! "Министерство …" is not a title line); lines ending with `:` are left to
//! the key-value reader, which continues values over lines.

use super::form::{is_valediction, split_kv};
use super::table::RawFields;
use super::vocab::{classify_title, Kind};

/// A whole line that is a field title, worded as one.
pub fn strict_title(line: &str) -> Option<Kind> {
    let t = line.trim();
    if t.is_empty() || t.ends_with(':') || t.chars().count() > 110 || t.contains(':') {
        return None;
    }
    // A sentence is not a title: "Спасибо, снова проблема." names a field
    // word but ends like prose. Abbreviations ("Тел.", "Ф.И.О.") may end
    // with a dot.
    if t.ends_with(['!', '?']) || t.split_whitespace().count() > 12 {
        return None;
    }
    if let Some(stem) = t.strip_suffix('.') {
        let last = stem.split_whitespace().last().unwrap_or("");
        if !(last.contains('.') || last.chars().count() <= 4) {
            return None;
        }
    }
    // "ФИО - Иванов", "Тел.\t55-12-34": a key with its value, not a bare title.
    if let Some((key, value)) = split_kv(t) {
        if !value.is_empty() && classify_title(key).is_some() {
            return None;
        }
    }
    let k = classify_title(t)?;
    if k == Kind::Organization {
        let l = t.to_lowercase();
        if !["наименование", "орган", "организац", "учрежден"]
            .iter()
            .any(|w| l.contains(w))
        {
            return None;
        }
    }
    Some(k)
}

/// Read title paragraphs; marks the lines used.
pub fn read_paragraphs(lines: &[&str], used: &mut [bool]) -> RawFields {
    let mut f = RawFields::default();
    // Non-empty, unused lines up to a closing.
    let mut idx: Vec<usize> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if used[i] || l.trim().is_empty() {
            continue;
        }
        if is_valediction(l) {
            if idx.is_empty() {
                continue;
            }
            break;
        }
        idx.push(i);
    }
    let titles: Vec<Option<Kind>> = idx.iter().map(|&i| strict_title(lines[i])).collect();
    let title_at = |p: usize| titles.get(p).copied().flatten();
    let mut p = 0;
    while p < idx.len() {
        if title_at(p).is_none() {
            p += 1;
            continue;
        }
        let mut q = p;
        let mut kinds = Vec::new();
        while let Some(k) = title_at(q) {
            kinds.push(k);
            q += 1;
        }
        let n = kinds.len();
        if n >= 3 {
            let mut r = q;
            if r + n <= idx.len() && (0..n).all(|k| lines[idx[r + k]].trim() == (k + 1).to_string())
            {
                r += n;
            }
            if r + n <= idx.len() {
                for (k, kind) in kinds.iter().enumerate() {
                    f.set(*kind, lines[idx[r + k]].trim().to_string());
                }
                for &i in &idx[p..r + n] {
                    used[i] = true;
                }
                p = r + n;
                continue;
            }
            p = q;
            continue;
        }
        // Transposed: the last title of the run takes the following value.
        let kind = kinds[n - 1];
        let value_is_kv = idx.get(q).is_some_and(|&i| {
            split_kv(lines[i]).is_some_and(|(k, v)| !v.is_empty() && classify_title(k).is_some())
        });
        if q < idx.len() && kind != Kind::Number && !value_is_kv {
            let first = idx[q];
            let mut value = vec![lines[first].trim()];
            let mut last = first;
            // Free text may run on over lines; a name or a phone does not.
            if matches!(kind, Kind::Description | Kind::Note | Kind::Organization) {
                let mut j = first + 1;
                while j < lines.len()
                    && !used[j]
                    && !lines[j].trim().is_empty()
                    && strict_title(lines[j]).is_none()
                    && !is_valediction(lines[j])
                {
                    value.push(lines[j].trim());
                    last = j;
                    j += 1;
                }
            }
            f.set(kind, value.join("\n"));
            for &i in &idx[p..=q] {
                used[i] = true;
            }
            for u in used.iter_mut().take(last + 1).skip(first) {
                *u = true;
            }
            p = idx.iter().position(|&i| i > last).unwrap_or(idx.len());
            continue;
        }
        p = q;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> RawFields {
        let lines: Vec<&str> = text.lines().collect();
        let mut used = vec![false; lines.len()];
        read_paragraphs(&lines, &mut used)
    }

    #[test]
    fn transposed_paragraphs() {
        let f = run("Добрый день!\n\nФ.И.О. пользователя\n\nИванов Иван\n\nНомер контактного телефона\n55-12-34\nОписание возникшей проблемы\nНе печатает.\nСовсем.\n\nС уважением");
        assert_eq!(f.get(Kind::FullName), Some("Иванов Иван"));
        assert_eq!(f.get(Kind::Phone), Some("55-12-34"));
        assert_eq!(f.get(Kind::Description), Some("Не печатает.\nСовсем."));
    }

    #[test]
    fn outlook_horizontal_paragraphs() {
        let f = run("N п/п\n\nНаименование органа исполнительной власти\n\nФ.И.О. пользователя, его местонахождение (включая номер кабинета и этаж)\n\nНомер контактного телефона\n\nОписание возникшей проблемы\n\nПримечание\n\n1\n\n2\n\n3\n\n4\n\n5\n\n6\n\n1\n\nМинистерство спорта\n\nИванов И.И., каб. 5, 2 этаж\n\n55-12-34\n\nНе входит\n\nСрочно\n");
        assert_eq!(f.get(Kind::Organization), Some("Министерство спорта"));
        assert_eq!(
            f.get(Kind::NameAndLocation),
            Some("Иванов И.И., каб. 5, 2 этаж")
        );
        assert_eq!(f.get(Kind::Note), Some("Срочно"));
    }

    #[test]
    fn sentences_are_not_titles() {
        let f = run("Спасибо за помощь, снова проблема.\nФИО: Белов\nЕсть вопрос?\nТекст");
        assert_eq!(f.items.len(), 0);
    }

    #[test]
    fn values_are_not_titles() {
        let f = run("Иванов И.И.\nМинистерство образования Калининградской области");
        assert_eq!(f.items.len(), 0);
        let f = run("ФИО:\nИванов");
        assert_eq!(f.items.len(), 0, "left to the key-value reader");
    }
}
