//! HTML bodies → [`Block`]s through html5ever (a real HTML5 parser, so
//! Word/Outlook markup, unclosed tags and entities are handled as browsers
//! do). Tables without nested tables become [`Block::Table`] (header row,
//! numbering row, data row, or transposed title | value rows — the form
//! reader decides); everything else becomes text lines with `<br>`, `<p>`,
//! `<div>` and friends as line breaks.
//!
//! Quoted history is dropped here where the markup says so: `<blockquote>`,
//! `gmail_quote`, `moz-cite-prefix`, `yahoo_quoted`, signatures marked by
//! the client; Outlook's reply header (`divRplyFwdMsg`, `appendonsend`) and
//! `<hr>` become a [`Block::Cut`] / divider line the quote rules act on.

use super::blocks::Block;
use html5ever::tendril::TendrilSink;
use html5ever::{parse_document, ParseOpts};
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// Deepest element nesting followed; deeper content is skipped (bounded
/// recursion on hostile markup).
const MAX_DEPTH: usize = 256;

/// Deepest element nesting handed to html5ever, and most tags: its tree
/// builder scans the stack of open elements for every start tag, which is
/// quadratic on hostile nesting (100 000 nested `<div>`s took minutes).
const MAX_NESTING: usize = 400;
const MAX_TAGS: usize = 60_000;

/// Render an HTML document to blocks.
pub fn to_blocks(html: &str) -> Vec<Block> {
    let html = cap_nesting(html, MAX_NESTING, MAX_TAGS);
    let dom = parse_document(RcDom::default(), ParseOpts::default()).one(html.as_ref());
    let mut r = Renderer::default();
    r.walk(&dom.document, 0);
    r.flush();
    r.out
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "basefont"
            | "bgsound"
            | "frame"
            | "keygen"
    )
}

/// Elements html5ever closes by itself when the next one opens.
fn is_self_closing_in_practice(name: &str) -> bool {
    matches!(
        name,
        "p" | "li"
            | "td"
            | "th"
            | "tr"
            | "option"
            | "dt"
            | "dd"
            | "tbody"
            | "thead"
            | "tfoot"
            | "colgroup"
            | "optgroup"
            | "rb"
            | "rt"
            | "rp"
    )
}

/// One linear pass that drops start tags nested deeper than `max_depth`
/// (and their end tags) and every tag past `max_tags`; text is kept.
pub fn cap_nesting(html: &str, max_depth: usize, max_tags: usize) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0usize; // bytes of `html` already in `out`
    let mut depth = 0usize;
    let mut dropped = 0usize;
    let mut tags = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if b[i..].starts_with(b"<!--") {
            i = match html[i + 4..].find("-->") {
                Some(e) => i + 4 + e + 3,
                None => b.len(),
            };
            continue;
        }
        let end_tag = b.get(i + 1) == Some(&b'/');
        let name_start = if end_tag { i + 2 } else { i + 1 };
        if !b.get(name_start).is_some_and(|c| c.is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let mut j = name_start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b':' || b[j] == b'-') {
            j += 1;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        // The tag ends at the first '>' outside quotes.
        let mut k = j;
        let mut quote = 0u8;
        while k < b.len() {
            match b[k] {
                q @ (b'"' | b'\'') if quote == 0 => quote = q,
                q if q == quote => quote = 0,
                b'>' if quote == 0 => break,
                _ => {}
            }
            k += 1;
        }
        let tag_end = (k + 1).min(b.len());
        let self_closed = k > 0 && b.get(k - 1) == Some(&b'/');
        tags += 1;
        let flat = is_void(&name) || self_closed || is_self_closing_in_practice(&name);
        let keep = if tags > max_tags {
            false
        } else if end_tag {
            if flat {
                true
            } else if dropped > 0 {
                dropped -= 1;
                false
            } else {
                depth = depth.saturating_sub(1);
                true
            }
        } else if flat {
            true
        } else if depth < max_depth {
            depth += 1;
            true
        } else {
            dropped += 1;
            false
        };
        if !keep {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
            o.push_str(&html[copied..i]);
            copied = tag_end;
        }
        i = tag_end;
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(&html[copied.min(html.len())..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

#[derive(Default)]
struct Renderer {
    out: Vec<Block>,
    line: String,
    pre: usize,
}

fn tag(h: &Handle) -> Option<String> {
    match &h.data {
        NodeData::Element { name, .. } => Some(name.local.to_ascii_lowercase().to_string()),
        _ => None,
    }
}

fn attr(h: &Handle, key: &str) -> Option<String> {
    match &h.data {
        NodeData::Element { attrs, .. } => attrs
            .borrow()
            .iter()
            .find(|a| a.name.local.as_ref().eq_ignore_ascii_case(key))
            .map(|a| a.value.to_string()),
        _ => None,
    }
}

fn is_block(t: &str) -> bool {
    matches!(
        t,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "address"
            | "dl"
            | "dt"
            | "dd"
            | "center"
            | "form"
            | "fieldset"
            | "body"
    )
}

/// Elements whose content is quoted history or client chrome.
fn is_skipped(h: &Handle, t: &str) -> bool {
    if matches!(
        t,
        "head" | "style" | "script" | "title" | "template" | "blockquote" | "xml" | "noscript"
    ) {
        return true;
    }
    let class = attr(h, "class").unwrap_or_default().to_ascii_lowercase();
    [
        "gmail_quote",
        "gmail_attr",
        "moz-cite-prefix",
        "yahoo_quoted",
        "gmail_signature",
        "moz-signature",
        "moz-forward-container",
    ]
    .iter()
    .any(|c| class.split_whitespace().any(|w| w == *c))
}

/// Elements after which the rest is an Outlook-style quoted letter.
fn is_cut(h: &Handle) -> bool {
    let id = attr(h, "id").unwrap_or_default().to_ascii_lowercase();
    id == "divrplyfwdmsg" || id == "appendonsend" || id == "x_divrplyfwdmsg"
}

fn has_table_inside(h: &Handle, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    h.children
        .borrow()
        .iter()
        .any(|c| tag(c).as_deref() == Some("table") || has_table_inside(c, depth + 1))
}

impl Renderer {
    fn flush(&mut self) {
        let l = self.line.trim().to_string();
        self.line.clear();
        if !l.is_empty() {
            self.out.push(Block::Line(l));
        } else if !matches!(self.out.last(), Some(Block::Line(s)) if s.is_empty()) {
            self.out.push(Block::Line(String::new()));
        }
    }

    fn text(&mut self, s: &str) {
        if self.pre > 0 {
            for (i, part) in s.split('\n').enumerate() {
                if i > 0 {
                    self.flush();
                }
                self.line.push_str(part);
            }
            return;
        }
        for c in s.chars() {
            let c = if c == '\u{a0}' { ' ' } else { c };
            if c.is_whitespace() {
                if !self.line.ends_with(' ') && !self.line.is_empty() {
                    self.line.push(' ');
                }
            } else {
                self.line.push(c);
            }
        }
    }

    fn walk(&mut self, h: &Handle, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match &h.data {
            NodeData::Text { contents } => {
                let s = contents.borrow().to_string();
                self.text(&s);
            }
            NodeData::Document => {
                for c in h.children.borrow().iter() {
                    self.walk(c, depth + 1);
                }
            }
            NodeData::Element { .. } => {
                let t = tag(h).unwrap_or_default();
                if is_cut(h) {
                    self.flush();
                    self.out.push(Block::Cut);
                    return;
                }
                if is_skipped(h, &t) {
                    if t == "blockquote" {
                        self.flush();
                    }
                    return;
                }
                if t == "table" && !has_table_inside(h, depth) {
                    self.flush();
                    let rows = table_rows(h, depth);
                    if !rows.is_empty() {
                        self.out.push(Block::Table(rows));
                    }
                    return;
                }
                if t == "hr" {
                    self.flush();
                    self.out.push(Block::Line("_".repeat(32)));
                    return;
                }
                if t == "img" {
                    return;
                }
                let block = is_block(&t) || t == "td" || t == "th";
                if block {
                    self.flush();
                }
                if t == "pre" {
                    self.pre += 1;
                }
                for c in h.children.borrow().iter() {
                    self.walk(c, depth + 1);
                }
                if t == "pre" {
                    self.pre -= 1;
                }
                if block {
                    self.flush();
                }
            }
            _ => {}
        }
    }
}

/// The rows of a table without nested tables; each cell rendered as text
/// with its paragraphs on separate lines.
fn table_rows(table: &Handle, depth: usize) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    collect_rows(table, depth, &mut rows);
    rows
}

fn collect_rows(h: &Handle, depth: usize, rows: &mut Vec<Vec<String>>) {
    if depth > MAX_DEPTH {
        return;
    }
    for c in h.children.borrow().iter() {
        match tag(c).as_deref() {
            Some("tr") => {
                let mut cells = Vec::new();
                for cell in c.children.borrow().iter() {
                    if matches!(tag(cell).as_deref(), Some("td") | Some("th")) {
                        let mut r = Renderer::default();
                        for x in cell.children.borrow().iter() {
                            r.walk(x, depth + 2);
                        }
                        r.flush();
                        let text: Vec<String> = r
                            .out
                            .into_iter()
                            .filter_map(|b| match b {
                                Block::Line(l) if !l.trim().is_empty() => Some(l),
                                _ => None,
                            })
                            .collect();
                        cells.push(text.join("\n"));
                    }
                }
                if !cells.is_empty() {
                    rows.push(cells);
                }
            }
            Some("thead") | Some("tbody") | Some("tfoot") => collect_rows(c, depth + 1, rows),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(b: &[Block]) -> Vec<String> {
        b.iter()
            .filter_map(|b| match b {
                Block::Line(l) if !l.is_empty() => Some(l.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn text_and_breaks() {
        let b = to_blocks("<p>Один&nbsp;два</p><div>три<br>четыре</div><style>x{}</style>");
        assert_eq!(lines(&b), ["Один два", "три", "четыре"]);
    }

    #[test]
    fn word_table_cells_join_spans_and_paragraphs() {
        let html = "<table><tr><td><p class=MsoNormal><span>Ф.И.О. </span><span>пользователя</span><o:p></o:p></p></td>\
                    <td><p>Иванов</p><p>каб. 5</p></td></tr></table>";
        let b = to_blocks(html);
        assert_eq!(
            b.iter().find_map(|b| match b {
                Block::Table(t) => Some(t.clone()),
                _ => None,
            }),
            Some(vec![vec![
                "Ф.И.О. пользователя".to_string(),
                "Иванов\nкаб. 5".to_string()
            ]])
        );
    }

    #[test]
    fn quotes_dropped_and_outlook_cut() {
        let b = to_blocks(
            "<div>ответ</div><blockquote>старое</blockquote><div class=\"gmail_quote\">цитата</div>\
             <div id=\"divRplyFwdMsg\">From: x</div><div>история</div>",
        );
        assert_eq!(lines(&b), ["ответ", "история"]);
        assert!(b.contains(&Block::Cut));
    }

    #[test]
    fn layout_table_unwrapped_to_inner_form_table() {
        let html = "<table><tr><td>Привет<table><tr><td>ФИО</td><td>Иванов</td></tr></table></td></tr></table>";
        let b = to_blocks(html);
        assert!(b
            .iter()
            .any(|b| matches!(b, Block::Table(t) if t[0][1] == "Иванов")));
        assert!(lines(&b).contains(&"Привет".to_string()));
    }

    #[test]
    fn nesting_capped_text_kept() {
        let html = "<div>".repeat(10) + "x" + &"</div>".repeat(10) + "<p>y<br/>z";
        assert_eq!(
            cap_nesting(&html, 3, 100),
            "<div><div><div>x</div></div></div><p>y<br/>z"
        );
        assert_eq!(cap_nesting("<b a='>'>t</b>", 0, 100), "t");
        assert_eq!(cap_nesting("<!-- <div> -->t", 0, 100), "<!-- <div> -->t");
        assert_eq!(cap_nesting("<i>a</i><i>b</i>", 5, 2), "<i>a</i>b");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let html = "<div>".repeat(5000) + "x" + &"</div>".repeat(5000);
        let _ = to_blocks(&html);
    }
}
