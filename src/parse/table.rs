//! Table 2 as a grid (rule 1): HTML tables and plain-text tables (pipe or
//! tab separated, with or without outer pipes and `|---|` rows, spreadsheet
//! cells quoted when they hold line breaks, rows soft-wrapped by the mailer).
//!
//! A grid is read either horizontally (a header row of titles, an optional
//! numbering row `1..6`, then the data row) or transposed (title | value per
//! row). Columns are found by their titles through [`classify_title`].

use super::location::words_for_bare_numbers;
use super::vocab::{classify_title, floor_first, Kind};

/// A value as the form reader should see it: a bare "305, 3" under a title
/// naming room and floor gets its words back.
pub fn value_under(kind: Kind, title: &str, value: &str) -> String {
    if kind == Kind::Location {
        if let Some(ff) = floor_first(title) {
            if let Some(v) = words_for_bare_numbers(value, ff) {
                return v;
            }
        }
    }
    value.trim().to_string()
}

/// Fields read from a grid or from key-value lines, by kind, as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawFields {
    pub items: Vec<(Kind, String)>,
}

impl RawFields {
    pub fn get(&self, k: Kind) -> Option<&str> {
        self.items
            .iter()
            .find(|(x, _)| *x == k)
            .map(|(_, v)| v.as_str())
    }
    /// First value of a kind wins; later ones are ignored.
    pub fn set(&mut self, k: Kind, v: String) {
        if k == Kind::Number {
            return;
        }
        if self.get(k).is_none() {
            self.items.push((k, v));
        }
    }
    pub fn merge(&mut self, other: RawFields) {
        for (k, v) in other.items {
            self.set(k, v);
        }
    }
}

fn titled(cells: &[String]) -> Vec<Option<Kind>> {
    cells.iter().map(|c| classify_title(c)).collect()
}

fn title_count(kinds: &[Option<Kind>]) -> usize {
    kinds
        .iter()
        .filter(|k| matches!(k, Some(k) if *k != Kind::Number))
        .count()
}

fn is_numbering_row(cells: &[String]) -> bool {
    let non_empty: Vec<&String> = cells.iter().filter(|c| !c.trim().is_empty()).collect();
    non_empty.len() >= 2
        && non_empty
            .iter()
            .enumerate()
            .all(|(i, c)| c.trim() == (i + 1).to_string())
}

fn is_rule_row(cells: &[String]) -> bool {
    cells.iter().all(|c| {
        c.trim()
            .chars()
            .all(|ch| matches!(ch, '-' | ':' | '=' | '+' | ' ' | '—' | '–'))
    })
}

/// Read a grid. Returns None when no header row or title column is found.
/// When both readings are possible, the one with more titles wins (a
/// transposed table's value cells can look like titles too).
pub fn read_grid(rows: &[Vec<String>]) -> Option<RawFields> {
    let horizontal = read_horizontal(rows);
    let transposed = read_transposed(rows);
    match (horizontal, transposed) {
        (Some((h, hn)), Some((t, tn))) => Some(if tn > hn { t } else { h }),
        (Some((h, _)), None) => Some(h),
        (None, Some((t, _))) => Some(t),
        (None, None) => None,
    }
}

/// A header row of at least two titles, then the data row (numbering and
/// rule rows skipped). Returns the fields and the number of titles.
/// The columns of Table 2 in the regulation's order, by their numbers
/// `1..6`: a table that carries the numbering row but no titles is read in
/// this order.
const REGULATION_COLUMNS: [Kind; 6] = [
    Kind::Number,
    Kind::Organization,
    Kind::NameAndLocation,
    Kind::Phone,
    Kind::Description,
    Kind::Note,
];

/// Titles for a numbering row `1..6` standing in for the header.
fn regulation_header() -> Vec<String> {
    [
        "N п/п",
        "Наименование органа исполнительной власти",
        "Ф.И.О. пользователя, его местонахождение (включая номер кабинета и этаж)",
        "Номер контактного телефона",
        "Описание возникшей проблемы",
        "Примечание",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn is_regulation_numbering(row: &[String]) -> bool {
    row.len() == REGULATION_COLUMNS.len() && is_numbering_row(row) && row[5].trim() == "6"
}

fn read_horizontal(rows: &[Vec<String>]) -> Option<(RawFields, usize)> {
    let titled_header = rows.iter().enumerate().find_map(|(i, r)| {
        let k = titled(r);
        (title_count(&k) >= 2).then(|| (i, r.clone(), k))
    });
    let (hi, header, kinds) = match titled_header {
        Some(h) => h,
        None => {
            let i = rows.iter().position(|r| is_regulation_numbering(r))?;
            let kinds = REGULATION_COLUMNS.iter().map(|k| Some(*k)).collect();
            (i, regulation_header(), kinds)
        }
    };
    let n = title_count(&kinds);
    let row = rows.iter().skip(hi + 1).find(|row| {
        !is_numbering_row(row) && !is_rule_row(row) && !row.iter().all(|c| c.trim().is_empty())
    })?;
    // A data row one cell short of a header that starts with the number
    // column (the user left "N" out), or one cell longer with a row number
    // in front of a header without it: align the cells with the titles.
    let numbered = |c: &str| {
        let c = c.trim();
        (1..=3).contains(&c.len()) && c.chars().all(|ch| ch.is_ascii_digit())
    };
    let shift: isize = if row.len() + 1 == kinds.len()
        && kinds.first() == Some(&Some(Kind::Number))
        && !numbered(&row[0])
    {
        -1
    } else if row.len() == kinds.len() + 1
        && kinds.first() != Some(&Some(Kind::Number))
        && numbered(&row[0])
    {
        1
    } else {
        0
    };
    let mut f = RawFields::default();
    for (i, k) in kinds.iter().enumerate() {
        let at = i as isize + shift;
        if at < 0 {
            continue;
        }
        if let (Some(k), Some(v)) = (k, row.get(at as usize)) {
            f.set(*k, value_under(*k, &header[i], v));
        }
    }
    Some((f, n))
}

/// Rows whose first cell (or second, after a number column) is a title.
fn read_transposed(rows: &[Vec<String>]) -> Option<(RawFields, usize)> {
    let mut f = RawFields::default();
    let mut n = 0;
    for row in rows {
        // The title is the first cell, or the second after a number column.
        let at = match row.first().map(|c| classify_title(c)) {
            Some(Some(Kind::Number)) | Some(None) if row.len() >= 3 => 1,
            _ => 0,
        };
        if row.len() < at + 2 {
            continue;
        }
        if let Some(k) = classify_title(&row[at]) {
            if k == Kind::Number {
                continue;
            }
            let v = row[at + 1..]
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            f.set(k, value_under(k, &row[at], &v));
            n += 1;
        }
    }
    (n >= 2).then_some((f, n))
}

/// Split a pipe-separated line into cells (outer pipes optional).
pub fn pipe_cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| c.trim().to_string()).collect()
}

/// Split tab-separated lines into rows, honouring spreadsheet quoting
/// (`"cell with\nline breaks"`, `""` for a quote). Starts at `lines[0]`;
/// returns the rows and how many lines they used. A row with no tab ends
/// the table.
pub fn tab_rows(lines: &[&str]) -> (Vec<Vec<String>>, usize) {
    let mut rows = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].contains('\t') {
            break;
        }
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut in_q = false;
        let mut at_cell_start = true;
        loop {
            let line = lines[i];
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                if in_q {
                    if c == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            cell.push('"');
                        } else {
                            in_q = false;
                        }
                    } else {
                        cell.push(c);
                    }
                } else if c == '\t' {
                    cells.push(std::mem::take(&mut cell));
                    at_cell_start = true;
                    continue;
                } else if c == '"' && at_cell_start && cell.trim().is_empty() {
                    in_q = true;
                    cell.clear();
                } else {
                    cell.push(c);
                }
                at_cell_start = false;
            }
            i += 1;
            if in_q && i < lines.len() {
                cell.push('\n');
                continue;
            }
            break;
        }
        cells.push(cell);
        rows.push(cells.into_iter().map(|c| c.trim().to_string()).collect());
    }
    (rows, i)
}

/// A text table found in lines: its rows and the line range it covers.
pub struct TextTable {
    pub rows: Vec<Vec<String>>,
    pub start: usize,
    pub end: usize,
}

/// Find a horizontal text table (pipes or tabs) whose header row has at
/// least two field titles.
pub fn find_text_table(lines: &[&str]) -> Option<TextTable> {
    for (i, l) in lines.iter().enumerate() {
        if l.matches('|').count() >= 2 {
            let header = pipe_cells(l);
            if (title_count(&titled(&header)) >= 2 && header.len() >= 3)
                || is_regulation_numbering(&header)
            {
                return Some(read_pipe_rows(lines, i));
            }
        }
        let quick: Vec<String> = l
            .split('\t')
            .map(|c| c.trim_matches([' ', '"']).to_string())
            .collect();
        let numbered = is_regulation_numbering(&quick);
        if (quick.len() >= 3 && title_count(&titled(&quick)) >= 2) || numbered {
            let (rows, used) = tab_rows(&lines[i..]);
            if let Some(h) = rows.first() {
                if (title_count(&titled(h)) >= 2 && h.len() >= 3) || numbered {
                    return Some(TextTable {
                        rows,
                        start: i,
                        end: i + used,
                    });
                }
            }
        }
    }
    None
}

/// Most lines one wrapped table row may span.
const MAX_ROW_LINES: usize = 60;

/// Does this line start a new table row (`| ...`, `1 | ...`)?
fn starts_row(l: &str) -> bool {
    let t = l.trim_start();
    if t.starts_with('|') {
        return true;
    }
    let d = t.chars().take_while(|c| c.is_ascii_digit()).count();
    d > 0 && t[d..].trim_start().starts_with('|')
}

/// Pipe rows from the header at `start`. A header hard-wrapped by the mailer
/// (long lines, continuation not starting a row) is joined first; then a
/// row wrapped over several lines is joined until it has as many cells as
/// the header (and its closing pipe when the header has one), or a blank
/// line ends it.
fn read_pipe_rows(lines: &[&str], start: usize) -> TextTable {
    let mut header = lines[start].trim().to_string();
    let mut i = start + 1;
    let mut last_len = lines[start].chars().count();
    while i < lines.len()
        && last_len >= 50
        && !lines[i].trim().is_empty()
        && !starts_row(lines[i])
        && lines[i].contains('|')
    {
        header.push(' ');
        header.push_str(lines[i].trim());
        last_len = lines[i].chars().count();
        i += 1;
    }
    let ncols = pipe_cells(&header).len();
    let closed = header.ends_with('|');
    let mut rows = vec![pipe_cells(&header)];
    while i < lines.len() {
        let l = lines[i];
        if l.trim().is_empty() || !l.contains('|') {
            break;
        }
        let mut joined = l.trim().to_string();
        let mut pipes = joined.matches('|').count();
        // Cells of `joined` without re-splitting it (pipe_cells semantics).
        let cells = |s: &str, pipes: usize| {
            (pipes + 1)
                .saturating_sub(usize::from(s.starts_with('|')))
                .saturating_sub(usize::from(s.len() > 1 && s.ends_with('|')))
        };
        let mut j = i + 1;
        // A row wrapped over more than MAX_ROW_LINES lines is not a row
        // (and re-splitting an ever longer row must stay linear).
        while (cells(&joined, pipes) < ncols || (closed && !joined.ends_with('|')))
            && j < lines.len()
            && j - i < MAX_ROW_LINES
            && !lines[j].trim().is_empty()
        {
            joined.push(' ');
            joined.push_str(lines[j].trim());
            pipes += lines[j].matches('|').count();
            j += 1;
        }
        rows.push(pipe_cells(&joined));
        i = j;
    }
    TextTable {
        rows,
        start,
        end: i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn horizontal_with_numbering_and_reordered_columns() {
        let rows = vec![
            s(&["№", "Телефон", "ФИО", "Кабинет, этаж", "Описание"]),
            s(&["1", "2", "3", "4", "5"]),
            s(&[
                "1",
                "55-12-34",
                "Иванов И.И.",
                "каб. 5, 2 эт.",
                "Не работает",
            ]),
        ];
        let f = read_grid(&rows).expect("grid");
        assert_eq!(f.get(Kind::Phone), Some("55-12-34"));
        assert_eq!(f.get(Kind::FullName), Some("Иванов И.И."));
        assert_eq!(f.get(Kind::Location), Some("каб. 5, 2 эт."));
        assert_eq!(f.get(Kind::Description), Some("Не работает"));
    }

    #[test]
    fn transposed_with_number_column_and_bare_room_floor() {
        let rows = vec![
            s(&["1", "ФИО", "Иванов"]),
            s(&["2", "Кабинет / этаж", "305 / 3"]),
            s(&["3", "Тел.", "55-12-34"]),
        ];
        let f = read_grid(&rows).expect("grid");
        assert_eq!(f.get(Kind::FullName), Some("Иванов"));
        assert_eq!(f.get(Kind::Location), Some("каб. 305, 3 этаж"));
    }

    #[test]
    fn numbering_row_without_titles_follows_the_regulation() {
        let rows = vec![
            s(&["1", "2", "3", "4", "5", "6"]),
            s(&[
                "1",
                "Минспорт",
                "Ильин И.И., каб. 4, 1 этаж",
                "55-12-34",
                "Не входит",
                "",
            ]),
        ];
        let f = read_grid(&rows).expect("grid");
        assert_eq!(f.get(Kind::Organization), Some("Минспорт"));
        assert_eq!(
            f.get(Kind::NameAndLocation),
            Some("Ильин И.И., каб. 4, 1 этаж")
        );
        assert_eq!(f.get(Kind::Description), Some("Не входит"));
        let lines = [
            "1 | 2 | 3 | 4 | 5 | 6",
            "1 | Минспорт | Ильин И.И., каб. 4, 1 этаж | 55-12-34 | Не входит | |",
        ];
        let t = find_text_table(&lines).expect("table");
        let f = read_grid(&t.rows).expect("grid");
        assert_eq!(f.get(Kind::Phone), Some("55-12-34"));
    }

    #[test]
    fn data_row_without_or_with_extra_number_cell() {
        let rows = vec![
            s(&["N п/п", "ФИО", "Телефон", "Описание"]),
            s(&["Иванов", "55-12-34", "Не входит"]),
        ];
        let f = read_grid(&rows).expect("grid");
        assert_eq!(f.get(Kind::FullName), Some("Иванов"));
        assert_eq!(f.get(Kind::Description), Some("Не входит"));
        let rows = vec![
            s(&["ФИО", "Телефон", "Описание"]),
            s(&["1", "Иванов", "55-12-34", "Не входит"]),
        ];
        let f = read_grid(&rows).expect("grid");
        assert_eq!(f.get(Kind::FullName), Some("Иванов"));
        assert_eq!(f.get(Kind::Phone), Some("55-12-34"));
    }

    #[test]
    fn transposed() {
        let rows = vec![
            s(&["Организация", "Минздрав"]),
            s(&["ФИО", "Иванов"]),
            s(&["Тел.", "55-12-34"]),
        ];
        let f = read_grid(&rows).expect("grid");
        assert_eq!(f.get(Kind::Organization), Some("Минздрав"));
        assert_eq!(f.get(Kind::Phone), Some("55-12-34"));
    }

    #[test]
    fn pipe_table_wrapped_and_markdown() {
        let lines = [
            "| ФИО | Телефон | Описание проблемы |",
            "|---|---|---|",
            "| Иванов | 55-12-34 | Не",
            "работает |",
        ];
        let t = find_text_table(&lines).expect("table");
        let f = read_grid(&t.rows).expect("grid");
        assert_eq!(f.get(Kind::Description), Some("Не работает"));
        assert_eq!(t.end, 4);
    }

    #[test]
    fn pipe_table_hard_wrapped_without_flowed() {
        let lines = [
            "N п/п | Наименование органа исполнительной власти | Ф.И.О.",
            "пользователя, его местонахождение (включая номер кабинета и этаж) |",
            "Номер контактного телефона | Описание возникшей проблемы | Примечание |",
            "1 | Министерство природных ресурсов и экологии Калининградской области",
            "| Новикова Наталья Владимировна, 2 этаж, кабинет 208 | 8 4012 558812 |",
            "В папке не отображаются документы,",
            "направленные мне. | Можно подключиться",
            "удалённо |",
            "",
            "Спасибо!",
        ];
        let t = find_text_table(&lines).expect("table");
        let f = read_grid(&t.rows).expect("grid");
        assert_eq!(
            f.get(Kind::NameAndLocation),
            Some("Новикова Наталья Владимировна, 2 этаж, кабинет 208")
        );
        assert_eq!(f.get(Kind::Phone), Some("8 4012 558812"));
        assert_eq!(
            f.get(Kind::Description),
            Some("В папке не отображаются документы, направленные мне.")
        );
        assert_eq!(f.get(Kind::Note), Some("Можно подключиться удалённо"));
        assert_eq!(t.end, 8);
    }

    #[test]
    fn spreadsheet_quoted_tab_rows() {
        let lines = [
            "ФИО\tМестонахождение\tТелефон\tОписание",
            "Иванов\t\"каб. 5\n2 этаж\"\t55-12-34\t\"Не \"\"работает\"\"\"",
            "",
        ];
        let joined = lines.join("\n");
        let ls: Vec<&str> = joined.split('\n').collect();
        let t = find_text_table(&ls).expect("table");
        let f = read_grid(&t.rows).expect("grid");
        assert_eq!(f.get(Kind::Location), Some("каб. 5\n2 этаж"));
        assert_eq!(f.get(Kind::Description), Some("Не \"работает\""));
    }
}
