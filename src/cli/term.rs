//! What the terminal is shown. Subjects, names and reasons come from
//! letters: an ESC or BEL byte in them would drive the admin's terminal
//! (colours, titles, cursor moves, hidden text). Every human output goes
//! through [`escape`]; JSON output is escaped by serde already.

/// Control characters (C0 except newline and tab, DEL, C1) written as
/// `\x1b` / `\u{9b}`; everything else as it is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// `println!` for human output: the formatted text, [`escape`]d.
macro_rules! say {
    ($($t:tt)*) => {
        println!("{}", $crate::cli::term::escape(&format!($($t)*)))
    };
}

/// `print!` for human output, [`escape`]d.
macro_rules! say_part {
    ($($t:tt)*) => {
        print!("{}", $crate::cli::term::escape(&format!($($t)*)))
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_are_shown_escaped() {
        // (from a letter, shown as, case)
        let cases = [
            (
                "Тема\x1b]0;pwned\x07",
                "Тема\\x1b]0;pwned\\x07",
                "ESC and BEL",
            ),
            ("a\rb", "a\\x0db", "carriage return overwriting the line"),
            ("x\u{9b}31m", "x\\u{9b}31m", "C1 CSI"),
            (
                "строка\nдругая\tтаб",
                "строка\nдругая\tтаб",
                "newline and tab kept",
            ),
            ("\x7f", "\\x7f", "DEL"),
        ];
        for (input, shown, what) in cases {
            assert_eq!(super::escape(input), shown, "{what}");
        }
    }
}
