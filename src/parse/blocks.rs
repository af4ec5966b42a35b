//! The common shape every body is reduced to before the form is read: a
//! sequence of text lines and tables, in reading order. Plain text becomes
//! lines (format=flowed unwrapped); HTML becomes lines plus its tables.

/// One piece of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A line of text (no line breaks inside).
    Line(String),
    /// A table: rows of cells; a cell may hold line breaks.
    Table(Vec<Vec<String>>),
    /// A point after which everything is quoted history (an Outlook reply
    /// header, a forwarded-message divider found in HTML structure).
    Cut,
}

/// Plain text → lines. `flowed`/`delsp` follow RFC 3676: a line ending in a
/// space continues on the next line (signature separator `-- ` excepted).
pub fn from_plain(text: &str, flowed: bool, delsp: bool) -> Vec<Block> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if !flowed {
        return text.lines().map(|l| Block::Line(l.to_string())).collect();
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut open = false;
    for raw in text.split('\n') {
        // Space-stuffing: one leading space added by the sender is removed.
        let line = raw.strip_prefix(' ').unwrap_or(raw);
        let quoted_depth = line.chars().take_while(|c| *c == '>').count();
        let is_sig = line == "-- ";
        if open {
            cur.push_str(line);
        } else {
            cur = line.to_string();
        }
        if line.ends_with(' ') && !is_sig && quoted_depth == 0 {
            if delsp {
                cur.pop();
            }
            open = true;
        } else {
            out.push(Block::Line(std::mem::take(&mut cur)));
            open = false;
        }
    }
    if open {
        out.push(Block::Line(cur));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(b: &[Block]) -> Vec<String> {
        b.iter()
            .filter_map(|b| match b {
                Block::Line(l) => Some(l.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn flowed_unwrap() {
        let t = "a | b \n| c |\n-- \nsig\n";
        assert_eq!(
            lines(&from_plain(t, true, false)),
            ["a | b | c |", "-- ", "sig", ""]
        );
        assert_eq!(lines(&from_plain("ab \ncd", true, true)), ["abcd"]);
        assert_eq!(lines(&from_plain("a \nb", false, false)), ["a ", "b"]);
    }
}
