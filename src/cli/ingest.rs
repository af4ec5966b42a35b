//! `ticketd ingest`: letters from files or stdin, for MTA pipe delivery.

use super::EX_TEMPFAIL;
use crate::desk::Desk;
use crate::pipeline::Pipeline;
use anyhow::Context;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// A letter as read: whole, or only its first bytes and its full size
/// when it is over `[mailbox] max_letter_mb` (never truncated silently:
/// it is quarantined with its headers and the sender is told).
enum Input {
    Whole(Vec<u8>),
    TooLarge { prefix: Vec<u8>, size: u64 },
}

/// Read at most `limit + 1` bytes; past the limit, keep the first bytes
/// and count the rest without keeping it.
fn read_bounded(mut r: impl Read, limit: u64) -> std::io::Result<Input> {
    let mut raw = Vec::new();
    (&mut r)
        .take(limit.saturating_add(1))
        .read_to_end(&mut raw)?;
    if raw.len() as u64 <= limit {
        return Ok(Input::Whole(raw));
    }
    let rest = std::io::copy(&mut r, &mut std::io::sink())?;
    let size = raw.len() as u64 + rest;
    raw.truncate(crate::source::MAX_HEADER_BYTES);
    Ok(Input::TooLarge { prefix: raw, size })
}

pub fn run(cfg: Desk, files: &[PathBuf]) -> anyhow::Result<i32> {
    let limit = cfg.max_letter_bytes();
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
    let mut inputs: Vec<(String, Input)> = Vec::new();
    if files.is_empty() {
        let raw = read_bounded(std::io::stdin(), limit).context("reading the letter from stdin")?;
        inputs.push(("stdin".into(), raw));
    } else {
        for f in files {
            let raw = std::fs::File::open(f)
                .and_then(|h| read_bounded(h, limit))
                .with_context(|| format!("reading letter `{}`", f.display()))?;
            inputs.push((f.display().to_string(), raw));
        }
    }
    let mut code = 0;
    let stdout = std::io::stdout();
    for (name, input) in inputs {
        let result = match input {
            Input::Whole(raw) => pipeline.ingest(&raw),
            Input::TooLarge { prefix, size } => {
                pipeline.reject_oversize(&crate::source::header_block(&prefix), size, limit)
            }
        };
        match result {
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
