//! Parse throughput over the letter corpus: `cargo bench --bench parse`.
//! Prints letters per second and MB per second (for BENCHMARKS.md).

use std::path::Path;
use std::time::{Duration, Instant};
use ticketd::parse::{parse_letter, ParseOptions};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/letters");
    let mut letters: Vec<Vec<u8>> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter_map(|p| std::fs::read(p).ok())
            .collect(),
        Err(e) => {
            eprintln!("cannot read {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    letters.sort();
    if letters.is_empty() {
        eprintln!("no letters in {}", dir.display());
        std::process::exit(1);
    }
    let opts = ParseOptions::default();
    let bytes: usize = letters.iter().map(Vec::len).sum();
    // Warm-up pass.
    for l in &letters {
        std::hint::black_box(parse_letter(l, &opts));
    }
    let budget = Duration::from_secs(3);
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < budget {
        for l in &letters {
            std::hint::black_box(parse_letter(l, &opts));
        }
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = letters.len() as f64 * f64::from(rounds);
    println!(
        "parse: {} letters x {rounds} rounds in {secs:.2} s: {:.0} letters/s, {:.1} MB/s (corpus {:.1} MB incl. one 2 MB header letter)",
        letters.len(),
        n / secs,
        bytes as f64 * f64::from(rounds) / secs / 1e6,
        bytes as f64 / 1e6
    );
    // Without the 2 MB header letter, closer to everyday mail.
    let small: Vec<&Vec<u8>> = letters.iter().filter(|l| l.len() < 512 * 1024).collect();
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < budget {
        for l in &small {
            std::hint::black_box(parse_letter(l, &opts));
        }
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "parse (letters under 512 KB): {:.0} letters/s",
        small.len() as f64 * f64::from(rounds) / secs
    );
}
