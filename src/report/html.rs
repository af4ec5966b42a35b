//! The report as one self-contained HTML page.

use super::Report;

pub fn page(r: &Report) -> String {
    format!(
        "<!DOCTYPE html><html><body><pre>{}</pre></body></html>",
        super::render::text(r)
    )
}
