//! Judging files by their bytes (rule 8): JPEG, PNG, PDF and BMP whose
//! headers parse ([`super::filetype::detect`], beyond the first bytes) are
//! kept with that content type whatever the name or declared type says;
//! anything else is rejected (`type`). A name with an executable's or
//! active content's extension, or a double extension, is rejected (`name`,
//! [`super::filetype::name_problem`]). Names are
//! reduced to their last path component; a name with Unicode bidirectional
//! controls is rejected (`name`); limits on size (`size`) and count
//! (`count`) come from [`ParseLimits`]. A `winmail.dat` (application/ms-tnef)
//! is opened before judging (see [`super::tnef`]); one that gives nothing
//! is refused and explained in a note.

use super::mime::RawFile;
use super::{Attachment, ParseLimits, RejectedAttachment};

/// The note added when a letter carries Outlook's winmail.dat.
pub const TNEF_NOTE: &str = "Вложения пришли в формате winmail.dat (Outlook, RTF), и прочитать их \
не удалось. Переключите Outlook на формат письма HTML или «Обычный текст» и отправьте файлы ещё раз.";

/// What the bytes are, when they are an allowed kind whose header parses.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    super::filetype::detect(data)
}

fn has_bidi(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// Last path component, control characters removed.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let t: String = last
        .chars()
        .filter(|c| {
            !c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    t.trim().to_string()
}

fn default_name(index: usize, kind: Option<&str>) -> String {
    let ext = match kind {
        Some("image/jpeg") => ".jpg",
        Some("image/png") => ".png",
        Some("application/pdf") => ".pdf",
        Some("image/bmp") => ".bmp",
        _ => "",
    };
    format!("вложение-{index}{ext}")
}

/// Is this file Outlook's TNEF container?
pub fn is_tnef(f: &RawFile) -> bool {
    f.declared == "application/ms-tnef"
        || f.declared == "application/vnd.ms-tnef"
        || f.name
            .as_deref()
            .is_some_and(|n| clean_name(n).eq_ignore_ascii_case("winmail.dat"))
        || f.data.starts_with(&[0x78, 0x9F, 0x3E, 0x22])
}

/// Judge every file. Returns kept, rejected and notes.
pub fn judge(
    files: Vec<RawFile>,
    limits: &ParseLimits,
) -> (Vec<Attachment>, Vec<RejectedAttachment>, Vec<String>) {
    let mut kept = Vec::new();
    let mut rejected = Vec::new();
    let mut notes = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        let kind = sniff(&f.data);
        let filename = f
            .name
            .as_deref()
            .map(clean_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| default_name(i + 1, kind));
        if is_tnef(&f) {
            if !notes.iter().any(|n| n == TNEF_NOTE) {
                notes.push(TNEF_NOTE.to_string());
            }
            rejected.push(RejectedAttachment {
                filename,
                reason: "type: winmail.dat (Outlook RTF)".into(),
            });
            continue;
        }
        if has_bidi(&filename) {
            rejected.push(RejectedAttachment {
                filename,
                reason: "name: скрытые символы направления текста в имени".into(),
            });
            continue;
        }
        let Some(ct) = kind else {
            let reason = match super::filetype::claims(&f.data) {
                Some(looks) => format!(
                    "type: {} (начало как у {looks}, но заголовок файла не читается)",
                    f.declared
                ),
                None => format!("type: {}", f.declared),
            };
            rejected.push(RejectedAttachment { filename, reason });
            continue;
        };
        // After the type: an executable's bytes are a `type` rejection.
        if let Some(why) = super::filetype::name_problem(&filename) {
            rejected.push(RejectedAttachment {
                filename,
                reason: format!("name: {why}"),
            });
            continue;
        }
        if f.size.max(f.data.len()) > limits.max_attachment_bytes {
            rejected.push(RejectedAttachment {
                filename,
                reason: format!("size: {} bytes", f.size.max(f.data.len())),
            });
            continue;
        }
        if kept.len() >= limits.max_attachments {
            rejected.push(RejectedAttachment {
                filename,
                reason: format!("count: more than {}", limits.max_attachments),
            });
            continue;
        }
        kept.push(Attachment {
            filename,
            content_type: ct,
            data: f.data,
        });
    }
    (kept, rejected, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, declared: &str, data: &[u8]) -> RawFile {
        RawFile {
            name: Some(name.into()),
            declared: declared.into(),
            data: data.to_vec(),
            size: data.len(),
        }
    }

    #[test]
    fn judged_by_bytes() {
        let limits = ParseLimits {
            max_attachments: 3,
            max_attachment_bytes: 100,
            ..Default::default()
        };
        use crate::parse::filetype::samples::{bmp, jpeg, pdf, png};
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(200, b' ');
        big.extend_from_slice(b"\n%%EOF\n");
        let files = vec![
            file("screen.jpg", "application/octet-stream", &png()),
            file("photo.jpg", "image/jpeg", b"MZ\x90\x00"),
            file("C:\\Users\\a\\скан", "image/bmp", &bmp()),
            file("../../etc/passwd.png", "image/png", &png()),
            file("Акт\u{202E}gnp.exe", "image/png", &png()),
            file("big.pdf", "application/pdf", &big),
            file("a.pdf", "application/pdf", &pdf()),
            file("b.jpg", "image/jpeg", &jpeg()),
            file("winmail.dat", "application/ms-tnef", b"\x78\x9F\x3E\x22"),
            file(
                "invoice.html",
                "text/html",
                b"BM<html><script>alert(1)</script>",
            ),
            file("scan.bat", "application/octet-stream", &pdf()),
            file("doc.pdf.exe", "application/pdf", &pdf()),
        ];
        let (kept, rej, notes) = judge(files, &limits);
        let k: Vec<(&str, &str)> = kept
            .iter()
            .map(|a| (a.filename.as_str(), a.content_type))
            .collect();
        assert_eq!(
            k,
            [
                ("screen.jpg", "image/png"),
                ("скан", "image/bmp"),
                ("passwd.png", "image/png")
            ]
        );
        let r: Vec<(&str, &str)> = rej
            .iter()
            .map(|r| {
                (
                    r.filename.as_str(),
                    r.reason.split(':').next().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            r,
            [
                ("photo.jpg", "type"),
                ("Акт\u{202E}gnp.exe", "name"),
                ("big.pdf", "size"),
                ("a.pdf", "count"),
                ("b.jpg", "count"),
                ("winmail.dat", "type"),
                ("invoice.html", "type"),
                ("scan.bat", "name"),
                ("doc.pdf.exe", "name")
            ]
        );
        assert_eq!(notes.len(), 1);
    }
}
