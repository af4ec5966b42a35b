//! Properties 6 (attachments are what their names say), 7 (files and
//! limits, addresses) and 8 (the terminal), through the binary.

use super::*;
use std::os::unix::fs::PermissionsExt;

/// A letter with one base64 attachment.
fn with_file(from: &str, name: &str, ctype: &str, data: &[u8]) -> Vec<u8> {
    use std::fmt::Write;
    let b64 = {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in data.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    };
    let r: u64 = rand::random();
    let mut out = String::new();
    let _ = write!(
        out,
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: Принтер\r\nMessage-ID: <f{r:x}@test.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{APPEAL}\r\n\
         --b\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
    );
    out.into_bytes()
}

fn bmp() -> Vec<u8> {
    let mut d = b"BM".to_vec();
    d.extend_from_slice(&58u32.to_le_bytes());
    d.extend_from_slice(&[0, 0, 0, 0]);
    d.extend_from_slice(&54u32.to_le_bytes());
    d.extend_from_slice(&40u32.to_le_bytes());
    d.extend_from_slice(&1i32.to_le_bytes());
    d.extend_from_slice(&1i32.to_le_bytes());
    d.extend_from_slice(&1u16.to_le_bytes());
    d.extend_from_slice(&24u16.to_le_bytes());
    d.resize(58, 0);
    d
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

#[test]
fn p6_attachments_are_what_their_names_say() {
    let desk = TestDesk::with(unbounded);
    // (name, declared type, bytes, kept?, refusal reason starts with, case)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, bool, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "invoice.html",
            "text/html",
            b"BM<html><script>alert(1)</script></html>".to_vec(),
            false,
            "type",
            "`BM` alone is no BMP",
        ),
        (
            "scan.bat",
            "application/octet-stream",
            PDF.to_vec(),
            false,
            "name",
            "a batch file's name",
        ),
        (
            "doc.pdf.exe",
            "application/pdf",
            PDF.to_vec(),
            false,
            "name",
            "a double extension",
        ),
        (
            "%PDF.pdf",
            "application/pdf",
            b"%PDF-1.4 no end".to_vec(),
            false,
            "type",
            "a PDF without %%EOF",
        ),
        ("схема.bmp", "image/bmp", bmp(), true, "", "a real BMP"),
        (
            "акт.pdf",
            "application/pdf",
            PDF.to_vec(),
            true,
            "",
            "a real PDF",
        ),
    ];
    for (name, ctype, data, kept, reason, what) in cases {
        let r = ingest(&desk, &with_file(USER, name, ctype, &data));
        let t = show(&desk, r["ticket"].as_str().unwrap());
        let k = t["attachments"].as_array().unwrap();
        let rej = t["rejected_attachments"].as_array().unwrap();
        if kept {
            assert_eq!(k.len(), 1, "{what}: {t}");
        } else {
            assert!(k.is_empty(), "{what}: kept {k:?}");
            assert!(
                rej.iter()
                    .any(|x| x["reason"].as_str().unwrap().starts_with(reason)),
                "{what}: {rej:?}"
            );
        }
    }
    // Forwarded under its type's extension: a BMP named .jpg reaches the
    // line as .bmp.
    ingest(&desk, &with_file(USER, "photo.jpg", "image/jpeg", &bmp()));
    let raw: Vec<u8> = desk
        .db()
        .query_row(
            "SELECT raw FROM outbox WHERE kind = 'routed' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.contains("photo.bmp") && !raw.contains("photo.jpg"),
        "forwarded as photo.bmp"
    );
}

#[test]
fn p7_files_are_private_whatever_the_umask() {
    let desk = TestDesk::with(unbounded);
    let root = desk.root().to_path_buf();
    let mut c = desk.command();
    c.args(["ingest"]).stdin(std::process::Stdio::piped());
    // umask 000 in the child: what it creates must still be private.
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let mut child = c.stdout(std::process::Stdio::piped()).spawn().unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&with_file(USER, "акт.pdf", "application/pdf", PDF))
            .unwrap();
    }
    assert!(child.wait().unwrap().success());
    let mut c = desk.command();
    c.args(["run", "--once"]);
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    assert!(c.output().unwrap().status.success());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // (path, the case)
    let mut files = vec![(
        root.join("db.sqlite3"),
        "the database (holds the generated key)",
    )];
    for e in walk(&root.join("attachments")) {
        files.push((e, "an attachment"));
    }
    for e in walk(&root.join("outbox")) {
        files.push((e, "an outbox file"));
    }
    assert!(files.len() >= 3, "{files:?}");
    for (p, what) in files {
        let m = mode(&p);
        assert_eq!(m & 0o077, 0, "{what} `{}` is {m:o}", p.display());
    }
    for d in walk_dirs(&root.join("attachments")) {
        assert_eq!(mode(&d) & 0o077, 0, "folder `{}`", d.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn walk_dirs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk_dirs(&e.path()));
        }
    }
    out
}

#[test]
fn p7_max_letter_mb_bounds_ingest_and_maildir() {
    let desk = TestDesk::with(|cfg| {
        unbounded(cfg);
        set(cfg, "mailbox", "max_letter_mb", toml::Value::Float(0.01));
    });
    let mut big = letter("", USER, SUPPORT, "Большое", "", APPEAL);
    big.extend(std::iter::repeat_n(b'x', 20_000));
    // (how it arrives, the case)
    let r = ingest(&desk, &big);
    assert_eq!(r["outcome"], "quarantined", "ingest: {r}");
    assert!(r["reason"].as_str().unwrap().contains("too large"), "{r}");
    let mut big2 = letter("", USER, SUPPORT, "Большое 2", "", APPEAL);
    big2.extend(std::iter::repeat_n(b'y', 20_000));
    desk.drop_letter("big.eml", &big2);
    assert!(desk.run_once().status.success());
    let db = desk.db();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM quarantine WHERE reason LIKE 'too large%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2, "ingest and Maildir both quarantined");
    let tickets: i64 = db
        .query_row("SELECT count(*) FROM tickets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tickets, 0, "never stored truncated as a ticket");
    let told = to_addr(&desk, USER)
        .iter()
        .filter(|(k, _)| k == "too_large")
        .count();
    assert_eq!(told, 2, "the sender is told, both times");
}

#[test]
fn p7_addresses_from_and_plus_tags() {
    let desk = secured("dmarc");
    let id = open_ticket(&desk, &pass_for(USER), USER, APPEAL);
    let p = proof(&desk, &id);
    let cmd = "Статус: Действие пользователя\r\n\r\nУточните.";
    // (From header(s) as written, the case) — none may command.
    let cases = [
        (
            "From: \u{212A}eng1@sed.example.org\r\n",
            "a Kelvin sign for the k... of an engineer-like address",
        ),
        ("From: еng1@sed.example.org\r\n", "a Cyrillic е"),
        (
            "From: stranger@evil.example\r\nFrom: eng1@sed.example.org\r\n",
            "two From headers, the engineer second",
        ),
        (
            "From: eng1@sed.example.org, stranger@evil.example\r\n",
            "two addresses in From",
        ),
    ];
    for (from, what) in cases {
        let r: u64 = rand::random();
        let raw = format!(
            "{}{from}To: {p}\r\nSubject: Re: [{id}]\r\nMessage-ID: <k{r:x}@t>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{cmd}\r\n",
            pass_for(ENG)
        );
        ingest(&desk, raw.as_bytes());
        assert_eq!(show(&desk, &id)["status"], "assigned", "{what}");
    }
    // Own addresses with any plus-tag never open tickets.
    for own in [
        "support+x@sed.example.org",
        "line1+y@sed.example.org",
        "SUPPORT+TP@SED.example.org",
    ] {
        let r = ingest(
            &desk,
            &letter(&pass_for(own), own, SUPPORT, "Принтер", "", APPEAL),
        );
        assert_eq!(r["outcome"], "ignored", "{own}: {r}");
    }
}

#[test]
fn p8_control_characters_are_shown_escaped() {
    let desk = TestDesk::with(unbounded);
    let r = ingest(
        &desk,
        &letter(
            "",
            USER,
            SUPPORT,
            "Принтер\x1b]0;pwned\x07\x1b[2J",
            "",
            APPEAL,
        ),
    );
    let id = r["ticket"].as_str().unwrap().to_string();
    // (command, the case)
    let cases: [(&[&str], &str); 2] = [
        (&["tickets", "list"], "tickets list"),
        (&["tickets", "show", &id], "tickets show"),
    ];
    for (args, what) in cases {
        let out = desk.run(args, None);
        assert!(out.status.success(), "{what}");
        assert!(
            !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
            "{what}: raw control bytes"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\\x1b"), "{what}: shown escaped:\n{text}");
    }
}
