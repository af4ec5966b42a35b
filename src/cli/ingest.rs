//! `ticketd ingest`: letters from files or stdin, for MTA pipe delivery.

use super::EX_TEMPFAIL;
use crate::config::Config;
use crate::pipeline::Pipeline;
use anyhow::Context;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Largest letter read from stdin or a file (bounds memory; an MTA limit is
/// normally far lower).
const MAX_LETTER: u64 = 256 * 1024 * 1024;

pub fn run(cfg: Config, files: &[PathBuf]) -> anyhow::Result<i32> {
    let mut pipeline = match Pipeline::open(Arc::new(cfg)) {
        Ok(p) => p,
        Err(e) if e.is_transient() => {
            eprintln!(
                "ticketd: cannot store letters now ({e}); the letter was NOT accepted, retry later"
            );
            return Ok(EX_TEMPFAIL);
        }
        Err(e) => return Err(e.into()),
    };
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    if files.is_empty() {
        let mut raw = Vec::new();
        std::io::stdin()
            .take(MAX_LETTER)
            .read_to_end(&mut raw)
            .context("reading the letter from stdin")?;
        inputs.push(("stdin".into(), raw));
    } else {
        for f in files {
            let mut raw = Vec::new();
            std::fs::File::open(f)
                .and_then(|h| h.take(MAX_LETTER).read_to_end(&mut raw))
                .with_context(|| format!("reading letter `{}`", f.display()))?;
            inputs.push((f.display().to_string(), raw));
        }
    }
    let mut code = 0;
    let stdout = std::io::stdout();
    for (name, raw) in inputs {
        match pipeline.ingest(&raw) {
            Ok(report) => {
                let line = serde_json::to_string(&report).context("encoding the result")?;
                let mut out = stdout.lock();
                writeln!(out, "{line}")
                    .and_then(|_| out.flush())
                    .context("writing to stdout")?;
            }
            Err(e) if e.is_transient() => {
                eprintln!(
                    "ticketd: letter {name} could not be stored ({e}); NOT accepted, retry later"
                );
                code = EX_TEMPFAIL;
            }
            Err(e) => {
                eprintln!("ticketd: letter {name} could not be processed: {e}");
                if code == 0 {
                    code = 1;
                }
            }
        }
    }
    Ok(code)
}
