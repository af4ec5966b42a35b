//! What a file is, beyond its first bytes, and whether its name is safe.
//!
//! п. 92 allows pictures and PDFs. "Starts with `BM`" is not a BMP: a file
//! `invoice.html` holding `BM<html><script>…` passed as one. So each kind's
//! header must parse ([`detect`]):
//!
//! * BMP: `BM`, the file-size field, a DIB header of a known size (12, 40,
//!   52, 56, 64, 108, 124), pixel data offset inside the file after the
//!   headers, non-zero width and height, one plane, a known bit depth;
//! * PNG: the 8-byte signature and an `IHDR` chunk of length 13 first, with
//!   non-zero width and height and a valid bit depth / colour type;
//! * JPEG: `FF D8` (SOI), then a marker segment whose length fits the file;
//! * PDF: `%PDF-` and a digit, and `%%EOF` in the last kilobyte.
//!
//! Names ([`name_problem`]): an executable's or active content's extension
//! (`.exe`, `.bat`, `.js`, `.html`, ...) is refused, and so is a double
//! extension (`doc.pdf.exe`, `photo.jpg.pdf`). A kept file whose extension
//! is not its type's (`screen.jpg` holding a PNG) keeps its name in the
//! ticket (as the user wrote it), but is forwarded under [`safe_name`]
//! (`screen.png`), so a mail client opens it as what it is.

/// The kinds kept, with their extensions (the first is the canonical one).
pub const KINDS: [(&str, &[&str]); 4] = [
    ("image/jpeg", &["jpg", "jpeg", "jpe", "jfif"]),
    ("image/png", &["png"]),
    ("application/pdf", &["pdf"]),
    ("image/bmp", &["bmp", "dib"]),
];

/// Extensions of programs, scripts and active documents: never kept.
const DANGEROUS: &[&str] = &[
    "exe", "bat", "cmd", "com", "scr", "pif", "cpl", "msi", "msp", "dll", "sys", "js", "jse",
    "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "hta", "jar", "lnk", "reg", "sh", "bash", "app",
    "gadget", "iso", "img", "vhd", "html", "htm", "xhtml", "shtml", "svg", "mht", "mhtml", "xml",
    "chm", "docm", "xlsm", "pptm", "url", "inf", "scf",
];

/// Extensions that, followed by another, make a double extension.
const DOCUMENTS: &[&str] = &[
    "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "odt", "zip", "rar", "7z", "gif",
    "tif", "tiff",
];

fn u16le(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}
fn u32le(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}
fn i32le(d: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}
fn u32be(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn is_bmp(d: &[u8]) -> bool {
    let check = || -> Option<bool> {
        if !d.starts_with(b"BM") {
            return Some(false);
        }
        let offset = u32le(d, 10)? as usize;
        let dib = u32le(d, 14)? as usize;
        if ![12, 40, 52, 56, 64, 108, 124].contains(&dib) {
            return Some(false);
        }
        let (w, h, planes, bpp) = if dib == 12 {
            (
                i32::from(u16le(d, 18)?),
                i32::from(u16le(d, 20)?),
                u16le(d, 22)?,
                u16le(d, 24)?,
            )
        } else {
            (i32le(d, 18)?, i32le(d, 22)?, u16le(d, 26)?, u16le(d, 28)?)
        };
        Some(
            offset >= 14 + dib
                && offset <= d.len()
                && w > 0
                && h != 0
                && planes == 1
                && [1, 2, 4, 8, 16, 24, 32, 64].contains(&bpp),
        )
    };
    check().unwrap_or(false)
}

fn is_png(d: &[u8]) -> bool {
    let check = || -> Option<bool> {
        Some(
            d.starts_with(b"\x89PNG\r\n\x1a\n")
                && u32be(d, 8)? == 13
                && d.get(12..16)? == b"IHDR"
                && u32be(d, 16)? > 0
                && u32be(d, 20)? > 0
                && [1, 2, 4, 8, 16].contains(d.get(24)?)
                && [0, 2, 3, 4, 6].contains(d.get(25)?),
        )
    };
    check().unwrap_or(false)
}

fn is_jpeg(d: &[u8]) -> bool {
    let check = || -> Option<bool> {
        if !d.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(false);
        }
        let marker = *d.get(3)?;
        // A segment with a length: APPn, DQT, SOFn, DHT, DRI, COM.
        let segment = matches!(marker, 0xE0..=0xEF | 0xDB | 0xC0..=0xCF | 0xDD | 0xFE);
        let len = usize::from(u16::from_be_bytes(d.get(4..6)?.try_into().ok()?));
        Some(segment && len >= 2 && 4 + len <= d.len())
    };
    check().unwrap_or(false)
}

fn is_pdf(d: &[u8]) -> bool {
    let tail = &d[d.len().saturating_sub(1024)..];
    d.starts_with(b"%PDF-")
        && d.get(5).is_some_and(u8::is_ascii_digit)
        && tail.windows(5).any(|w| w == b"%%EOF")
}

/// What the bytes are, when they are an allowed kind whose header parses.
pub fn detect(data: &[u8]) -> Option<&'static str> {
    if is_jpeg(data) {
        Some("image/jpeg")
    } else if is_png(data) {
        Some("image/png")
    } else if is_pdf(data) {
        Some("application/pdf")
    } else if is_bmp(data) {
        Some("image/bmp")
    } else {
        None
    }
}

/// The first bytes look like an allowed kind (for the rejection's reason:
/// "looks like a PNG but its header does not parse").
pub fn claims(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(&[0x89, 0x50, 0x4E, 0x47]) {
        Some("image/png")
    } else if data.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if data.starts_with(b"BM") {
        Some("image/bmp")
    } else {
        None
    }
}

/// The extensions of a name, lower-cased, last first (`a.pdf.exe` →
/// `["exe", "pdf"]`); at most two.
fn extensions(name: &str) -> Vec<String> {
    let name = name.trim().trim_end_matches(['.', ' ']);
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    parts[1..]
        .iter()
        .rev()
        .take(2)
        .map(|e| e.trim().to_ascii_lowercase())
        .collect()
}

/// Why a file name must not be kept, if it must not: an executable's or
/// active content's extension, or a double extension.
pub fn name_problem(name: &str) -> Option<String> {
    let ext = extensions(name);
    if let Some(last) = ext.first() {
        if DANGEROUS.contains(&last.as_str()) {
            return Some(format!(
                "расширение .{last} (программа или активное содержимое)"
            ));
        }
    }
    if let Some(second) = ext.get(1) {
        let known = DANGEROUS.contains(&second.as_str())
            || DOCUMENTS.contains(&second.as_str())
            || KINDS.iter().any(|(_, e)| e.contains(&second.as_str()));
        if known {
            return Some(format!("двойное расширение .{second}.{}", ext[0]));
        }
    }
    None
}

/// The name under which a kept file is forwarded: its own when the
/// extension is its type's, else the stem with the type's extension
/// (`screen.jpg` holding a PNG → `screen.png`, `скан` → `скан.bmp`).
pub fn safe_name(name: &str, content_type: &str) -> String {
    let Some((_, exts)) = KINDS.iter().find(|(ct, _)| *ct == content_type) else {
        return name.to_string();
    };
    let ext = extensions(name);
    if ext.first().is_some_and(|e| exts.contains(&e.as_str())) {
        return name.to_string();
    }
    let stem = match (ext.first(), name.rsplit_once('.')) {
        (Some(_), Some((stem, _))) if !stem.is_empty() => stem,
        _ => name,
    };
    format!("{stem}.{}", exts[0])
}

#[cfg(test)]
pub(crate) mod samples {
    /// Smallest files whose headers parse, for tests.
    pub fn bmp() -> Vec<u8> {
        let mut d = b"BM".to_vec();
        d.extend_from_slice(&58u32.to_le_bytes()); // file size
        d.extend_from_slice(&[0, 0, 0, 0]);
        d.extend_from_slice(&54u32.to_le_bytes()); // pixel offset
        d.extend_from_slice(&40u32.to_le_bytes()); // DIB size
        d.extend_from_slice(&1i32.to_le_bytes()); // width
        d.extend_from_slice(&1i32.to_le_bytes()); // height
        d.extend_from_slice(&1u16.to_le_bytes()); // planes
        d.extend_from_slice(&24u16.to_le_bytes()); // bpp
        d.resize(58, 0);
        d
    }
    pub fn png() -> Vec<u8> {
        let mut d = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        d.extend_from_slice(&1u32.to_be_bytes());
        d.extend_from_slice(&1u32.to_be_bytes());
        d.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        d
    }
    pub fn jpeg() -> Vec<u8> {
        b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xFF\xD9".to_vec()
    }
    pub fn pdf() -> Vec<u8> {
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    #[test]
    fn headers_must_parse() {
        let mut bad_dib = bmp();
        bad_dib[14] = 99;
        let mut bad_png = png();
        bad_png[12..16].copy_from_slice(b"IEND");
        // (bytes, detected, case)
        let cases: Vec<(Vec<u8>, Option<&str>, &str)> = vec![
            (bmp(), Some("image/bmp"), "a BMP with its headers"),
            (png(), Some("image/png"), "a PNG with IHDR"),
            (jpeg(), Some("image/jpeg"), "a JPEG with APP0"),
            (pdf(), Some("application/pdf"), "a PDF with %%EOF"),
            (
                b"BM<html><script>alert(1)</script></html>".to_vec(),
                None,
                "`BM` alone is no BMP",
            ),
            (b"BM6".to_vec(), None, "a three-byte BMP"),
            (bad_dib, None, "a BMP with an unknown DIB header size"),
            (b"\x89PNG\r\n\x1a\n".to_vec(), None, "a PNG signature alone"),
            (bad_png, None, "a PNG whose first chunk is not IHDR"),
            (
                b"\xFF\xD8\xFF\xE0\x01\x00".to_vec(),
                None,
                "a JPEG segment longer than the file",
            ),
            (b"%PDF-1.4\n<script>".to_vec(), None, "a PDF without %%EOF"),
            (b"MZ\x90\x00".to_vec(), None, "an executable"),
        ];
        for (data, want, what) in cases {
            assert_eq!(detect(&data), want, "{what}");
        }
    }

    #[test]
    fn names() {
        // (name, refused?, forwarded as (for a PNG), case)
        let cases = [
            ("screen.png", false, "screen.png", "the right extension"),
            (
                "screen.jpg",
                false,
                "screen.png",
                "another picture's extension: renamed",
            ),
            ("скан", false, "скан.png", "no extension: the type's added"),
            ("invoice.html", true, "", "active content"),
            ("scan.bat", true, "", "a batch file"),
            ("doc.pdf.exe", true, "", "an executable behind a PDF's name"),
            ("photo.jpg.pdf", true, "", "a double extension"),
            (
                "Снимок экрана 2026-03-11 101512.png",
                false,
                "Снимок экрана 2026-03-11 101512.png",
                "digits and spaces",
            ),
            (
                "v1.2.png",
                false,
                "v1.2.png",
                "a version number is no extension",
            ),
            ("SCAN.BAT", true, "", "upper case"),
            ("scan.exe.", true, "", "a trailing dot (Windows drops it)"),
        ];
        for (name, refused, forwarded, what) in cases {
            assert_eq!(name_problem(name).is_some(), refused, "{what}");
            if !refused {
                assert_eq!(safe_name(name, "image/png"), forwarded, "{what}");
            }
        }
    }
}
