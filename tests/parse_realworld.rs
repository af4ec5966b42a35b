//! Every `fixtures/realworld/*.eml` (mail-parser's own test letters: other
//! clients, other charsets, malformed structure) parses without a panic and
//! within one second each.

use std::path::Path;
use std::time::{Duration, Instant};
use ticketd::parse::{parse_letter, ParseOptions};

#[test]
fn realworld_letters_parse_quickly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/realworld");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/realworld exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no letters in {}", dir.display());
    let opts = ParseOptions::default();
    let mut slow = Vec::new();
    let mut with_sender = 0;
    let mut lost = Vec::new();
    for p in &paths {
        let raw = std::fs::read(p).expect("readable");
        let t = Instant::now();
        let parsed = parse_letter(&raw, &opts);
        let took = t.elapsed();
        if took > Duration::from_secs(1) {
            slow.push(format!("{}: {took:?}", p.display()));
        }
        if parsed.from.is_some() {
            with_sender += 1;
        } else if from_line_has_address(&raw) {
            lost.push(p.display().to_string());
        }
    }
    println!(
        "{} letters, {with_sender} with a usable sender",
        paths.len()
    );
    assert!(slow.is_empty(), "slower than 1 s: {slow:?}");
    assert!(
        lost.is_empty(),
        "From has an address but no sender was read: {lost:?}"
    );
    assert!(
        with_sender > paths.len() / 2,
        "most real letters have a sender"
    );
}

/// A top-level `From:` line with an `@` in it (a crude check, independent
/// of the parser under test).
fn from_line_has_address(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.len() > 5 && line[..5].eq_ignore_ascii_case("from:") {
            return line.contains('@');
        }
    }
    false
}
