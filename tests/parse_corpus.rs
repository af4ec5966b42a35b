//! The corpus test (issue 5, "must show" 1): every letter of
//! `fixtures/corpus/letters/` is parsed and compared with its
//! `fixtures/corpus/expect/NNN.json` by the README's comparison rules, on
//! the parse side: fields, missing fields, attachments, rejected
//! attachments, `ignored` ⇔ machine-generated, `quarantined` ⇔ no sender.
//! A mismatch writes `target/parse-corpus/NNN.failed` with what was read.

use serde_json::Value;
use std::path::{Path, PathBuf};
use ticketd::parse::{parse_letter, Field, ParseOptions, ParsedLetter};

/// Letters whose `ignored` outcome comes from the From = support address
/// check, which the caller makes (it needs the config).
const FROM_SUPPORT: &[&str] = &["041"];

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

fn check_opt(errs: &mut Vec<String>, what: &str, got: Option<String>, want: &Value) {
    let want = want.as_str().map(norm);
    if got != want {
        errs.push(format!("{what}: got {got:?}, want {want:?}"));
    }
}

fn compare(id: &str, p: &ParsedLetter, exp: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let outcome = exp["outcome"].as_str().unwrap_or("");
    let ignored = outcome == "ignored" && !FROM_SUPPORT.contains(&id);
    if ignored != p.machine.is_some() {
        errs.push(format!("machine: got {:?}, outcome {outcome}", p.machine));
    }
    let quarantined = outcome == "quarantined";
    if quarantined != p.from.is_none() {
        errs.push(format!("from: got {:?}, outcome {outcome}", p.from));
    }
    if let Some(f) = exp.get("fields") {
        let form = &p.form;
        check_opt(
            &mut errs,
            "organization",
            form.organization.as_deref().map(norm),
            &f["organization"],
        );
        check_opt(
            &mut errs,
            "full_name",
            form.full_name.as_deref().map(norm),
            &f["full_name"],
        );
        check_opt(
            &mut errs,
            "room",
            form.room.as_deref().map(norm),
            &f["room"],
        );
        check_opt(
            &mut errs,
            "floor",
            form.floor.as_deref().map(norm),
            &f["floor"],
        );
        if f.get("phone_digits").is_some() {
            check_opt(
                &mut errs,
                "phone",
                form.phone.as_deref().map(digits),
                &f["phone_digits"],
            );
        }
        if f.get("phone_ext").is_some() {
            check_opt(
                &mut errs,
                "phone_ext",
                form.phone_ext.as_deref().map(digits),
                &f["phone_ext"],
            );
        }
        let desc = norm(form.description.as_deref().unwrap_or(""));
        let note = norm(form.note.as_deref().unwrap_or(""));
        for s in f["description_contains"].as_array().into_iter().flatten() {
            let s = norm(s.as_str().unwrap_or(""));
            if !desc.contains(&s) {
                errs.push(format!("description lacks {s:?}: {:?}", truncate(&desc)));
            }
        }
        for s in f["description_excludes"].as_array().into_iter().flatten() {
            let s = norm(s.as_str().unwrap_or(""));
            if desc.contains(&s) {
                errs.push(format!("description has {s:?}: {:?}", truncate(&desc)));
            }
        }
        for s in f["note_contains"].as_array().into_iter().flatten() {
            let s = norm(s.as_str().unwrap_or(""));
            if !note.contains(&s) {
                errs.push(format!("note lacks {s:?}: {note:?}"));
            }
        }
    }
    if let Some(m) = exp.get("missing_fields").and_then(Value::as_array) {
        let mut want: Vec<String> = m
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        let mut got: Vec<String> = p
            .form
            .missing()
            .iter()
            .map(|f: &Field| f.machine_name().to_string())
            .collect();
        want.sort();
        got.sort();
        if want != got {
            errs.push(format!("missing_fields: got {got:?}, want {want:?}"));
        }
    }
    if let Some(a) = exp.get("attachments").and_then(Value::as_array) {
        let mut want: Vec<(String, String)> = a
            .iter()
            .map(|x| {
                (
                    x["filename"].as_str().unwrap_or("").to_string(),
                    x["content_type"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let mut got: Vec<(String, String)> = p
            .attachments
            .iter()
            .map(|x| (x.filename.clone(), x.content_type.to_string()))
            .collect();
        want.sort();
        got.sort();
        if want != got {
            errs.push(format!("attachments: got {got:?}, want {want:?}"));
        }
    }
    for r in exp["rejected_attachments"].as_array().into_iter().flatten() {
        let name = r["filename_contains"].as_str().unwrap_or("");
        let reason = r["reason"].as_str().unwrap_or("");
        if !p
            .rejected
            .iter()
            .any(|x| x.filename.contains(name) && x.reason.starts_with(reason))
        {
            errs.push(format!(
                "rejected: no {name:?} with {reason:?} in {:?}",
                p.rejected
            ));
        }
    }
    errs
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus")
}

#[test]
fn corpus_letters_match_expectations() {
    let dir = corpus_dir();
    let mut letters: Vec<PathBuf> = std::fs::read_dir(dir.join("letters"))
        .expect("fixtures/corpus/letters exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    letters.sort();
    assert!(letters.len() >= 60, "corpus has {} letters", letters.len());
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("parse-corpus");
    let _ = std::fs::create_dir_all(&out_dir);
    let opts = ParseOptions::default();
    let mut failed = Vec::new();
    for path in &letters {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let id = &stem[..3.min(stem.len())];
        let raw = std::fs::read(path).expect("letter readable");
        let exp: Value = serde_json::from_slice(
            &std::fs::read(dir.join("expect").join(format!("{stem}.json"))).expect("expect file"),
        )
        .expect("expect json");
        let p = parse_letter(&raw, &opts);
        let errs = compare(id, &p, &exp);
        let failed_file = out_dir.join(format!("{id}.failed"));
        if errs.is_empty() {
            let _ = std::fs::remove_file(&failed_file);
        } else {
            let _ = std::fs::write(&failed_file, format!("{:#?}\n{:#?}\n", errs, p.form));
            failed.push(format!("{stem}:\n    {}", errs.join("\n    ")));
        }
    }
    let score = letters.len() - failed.len();
    println!("score: {score}/{}", letters.len());
    for f in &failed {
        println!("FAIL {f}");
    }
    assert!(
        failed.is_empty(),
        "score {score}/{}:\n{}",
        letters.len(),
        failed.join("\n")
    );
}
