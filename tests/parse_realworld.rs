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
        }
    }
    println!(
        "{} letters, {with_sender} with a usable sender",
        paths.len()
    );
    assert!(slow.is_empty(), "slower than 1 s: {slow:?}");
    assert!(
        with_sender > paths.len() / 2,
        "most real letters have a sender"
    );
}
