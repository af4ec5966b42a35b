//! The letter corpus (`fixtures/corpus`, copied from shared/corpus), each
//! letter in a fresh desk through the real binary, compared with its
//! `expect/*.json` by the rules of `fixtures/corpus/README.md`:
//! `ingest < letter`, `run --once`, `tickets show ID --json`.
//! Also: every real-world letter (`fixtures/realworld`) ends with a JSON
//! line and no panic. The corpus runs on SQLite and on PostgreSQL (one
//! private cluster, a fresh database per letter).

mod common;
#[path = "common/engines.rs"]
mod engines;
#[path = "support/pg.rs"]
mod pg;

use common::{header, headers, TestDesk};
use regex::Regex;
use serde_json::Value;
use std::path::Path;

/// Letters that must match. Raised as the reader improves; never lowered.
const REQUIRED_SCORE: usize = 60;

const SEED_LETTER: &str = "From: {addr}
To: support@sed.example.org
Subject: =?utf-8?b?0J3QtSDRgNCw0LHQvtGC0LDQtdGCINC/0L7Rh9GC0LA=?=
Message-ID: <seed-{n}@harness.example.org>
Date: Mon, 02 Mar 2026 10:00:00 +0300
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Наименование органа исполнительной власти: Министерство финансов Калининградской области
Ф.И.О. пользователя: Петров Пётр Петрович
Местонахождение: каб. 101, 1 этаж
Номер контактного телефона: +7 (4012) 55-00-01
Описание возникшей проблемы: Не открывается карточка документа.
";

fn norm(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.split_whitespace().collect::<Vec<_>>().join(" ")),
        other => Some(
            other
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
    }
}

fn digits(v: &Value) -> Option<String> {
    norm(v).map(|s| s.chars().filter(|c| c.is_ascii_digit()).collect())
}

/// Reply-To, else From, of the incoming letter (lower-case).
fn sender_of(raw: &[u8]) -> String {
    let h = headers(raw);
    let get = |n: &str| {
        h.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    get("reply-to")
        .or_else(|| get("from"))
        .unwrap_or_default()
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase()
}

fn check_letter(set: &Path, raw: &[u8], exp: &Value, desk: TestDesk) -> Vec<String> {
    let mut fails = Vec::new();
    let mut raw = raw.to_vec();
    let mut tag_map: Vec<(String, String)> = Vec::new();
    let tag_re = Regex::new(r"TP-\d{4}-\d{6,}").unwrap();
    let addr_re = Regex::new(r"[\w.+-]+@[\w.-]+").unwrap();
    let prior_re = Regex::new(r"letter (\d{3}-[\w-]+) .*ingested before").unwrap();
    for (i, req) in exp["requires"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let req = req.as_str().unwrap_or("");
        if let Some(c) = prior_re.captures(req) {
            let prior = set.join("letters").join(format!("{}.eml", &c[1]));
            if let Ok(bytes) = std::fs::read(prior) {
                let (res, _) = desk.ingest(&bytes);
                if res["outcome"] != "created" {
                    return vec![format!("required letter {} not created: {res}", &c[1])];
                }
            }
            continue;
        }
        let Some(tag) = tag_re.find(req) else {
            continue;
        };
        let addr = req
            .split_once("requester")
            .and_then(|(_, rest)| addr_re.find(rest).map(|m| m.as_str().to_string()))
            .unwrap_or_else(|| sender_of(&raw));
        let seed = SEED_LETTER
            .replace("{addr}", &addr)
            .replace("{n}", &i.to_string());
        let (res, _) = desk.ingest(seed.as_bytes());
        let Some(id) = res["ticket"]
            .as_str()
            .filter(|_| res["outcome"] == "created")
        else {
            return vec![format!("could not create the required ticket: {res}")];
        };
        tag_map.push((tag.as_str().to_string(), id.to_string()));
    }
    desk.run_once();
    for (old, new) in &tag_map {
        let s = String::from_utf8_lossy(old.as_bytes()).to_string();
        raw = replace_bytes(&raw, s.as_bytes(), new.as_bytes());
    }
    let before = desk.outbox().len();
    let (res, code) = desk.ingest(&raw);
    desk.run_once();
    let out: Vec<Vec<u8>> = desk.outbox().into_iter().skip(before).collect();
    if code != 0 {
        fails.push(format!("ingest exit code {code}"));
    }
    let want = &exp["outcome"];
    if &res["outcome"] != want {
        fails.push(format!(
            "outcome {} != {} ({})",
            res["outcome"], want, res["reason"]
        ));
    }
    let tid = res["ticket"].as_str().map(str::to_string);
    if want == "updated" {
        if let Some(t) = exp["ticket"].as_str() {
            let t = tag_map
                .iter()
                .find(|(o, _)| o == t)
                .map(|(_, n)| n.as_str())
                .unwrap_or(t);
            if tid.as_deref() != Some(t) {
                fails.push(format!("updated ticket {tid:?} != {t}"));
            }
        }
    }
    if let Some(auto) = exp["auto_reply"].as_bool() {
        let who = sender_of(&raw);
        let to_sender: Vec<&Vec<u8>> = out
            .iter()
            .filter(|m| {
                let rcpt = [header(m, "to"), header(m, "cc")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(",");
                !who.is_empty() && rcpt.split(',').any(|a| a.trim() == who)
            })
            .collect();
        if auto && to_sender.is_empty() {
            fails.push(format!("no letter to the sender {who}"));
        } else if auto
            && !to_sender.iter().any(|m| {
                let subj_ok = tid.as_ref().is_none_or(|t| {
                    header(m, "subject")
                        .unwrap_or_default()
                        .contains(t.as_str())
                });
                let auto_ok =
                    header(m, "auto-submitted").is_some_and(|v| v.trim().to_lowercase() != "no");
                subj_ok && auto_ok
            })
        {
            fails.push(format!(
                "no letter to the sender has both {tid:?} in its Subject and Auto-Submitted"
            ));
        }
        if !auto && !to_sender.is_empty() {
            fails.push(format!(
                "{} letter(s) to the sender, expected none",
                to_sender.len()
            ));
        }
    }
    if exp["dedupe_key"] == "content" {
        let (again, _) = desk.ingest(&raw);
        if again["outcome"] != "duplicate" {
            fails.push(format!(
                "second delivery: {}, expected duplicate",
                again["outcome"]
            ));
        }
    }
    if (want == "created" || want == "updated") && tid.is_some() {
        let t = desk.show(tid.as_deref().unwrap_or_default());
        compare_ticket(&t, exp, &mut fails);
    }
    fails
}

fn compare_ticket(t: &Value, exp: &Value, fails: &mut Vec<String>) {
    let f = &exp["fields"];
    for k in ["organization", "full_name", "room", "floor"] {
        if f.get(k).is_some() && norm(&t[k]) != norm(&f[k]) {
            fails.push(format!("{k} {:?} != {:?}", norm(&t[k]), norm(&f[k])));
        }
    }
    if let Some(p) = f.get("phone_digits") {
        if digits(&t["phone"]) != norm(p) {
            fails.push(format!("phone {} digits != {p}", t["phone"]));
        }
    }
    if let Some(p) = f.get("phone_ext") {
        if digits(&t["phone_ext"]) != digits(p) {
            fails.push(format!("phone_ext {} != {p}", t["phone_ext"]));
        }
    }
    let desc = norm(&t["description"]).unwrap_or_default();
    for sub in f["description_contains"].as_array().into_iter().flatten() {
        if !desc.contains(&norm(sub).unwrap_or_default()) {
            fails.push(format!("description lacks {sub}"));
        }
    }
    for sub in f["description_excludes"].as_array().into_iter().flatten() {
        if desc.contains(&norm(sub).unwrap_or_default()) {
            fails.push(format!("description contains {sub}"));
        }
    }
    let note = norm(&t["note"]).unwrap_or_default();
    for sub in f["note_contains"].as_array().into_iter().flatten() {
        if !note.contains(&norm(sub).unwrap_or_default()) {
            fails.push(format!("note lacks {sub}"));
        }
    }
    if let Some(m) = exp.get("missing_fields") {
        let sorted = |v: &Value| {
            let mut x: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(String::from))
                .collect();
            x.sort();
            x
        };
        if sorted(&t["missing_fields"]) != sorted(m) {
            fails.push(format!(
                "missing_fields {:?} != {:?}",
                sorted(&t["missing_fields"]),
                sorted(m)
            ));
        }
    }
    if let Some(a) = exp.get("attachments") {
        let pairs = |v: &Value| {
            let mut x: Vec<(String, String)> = v
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    (
                        a["filename"].as_str().unwrap_or("").into(),
                        a["content_type"].as_str().unwrap_or("").into(),
                    )
                })
                .collect();
            x.sort();
            x
        };
        if pairs(&t["attachments"]) != pairs(a) {
            fails.push(format!(
                "attachments {:?} != {:?}",
                pairs(&t["attachments"]),
                pairs(a)
            ));
        }
    }
    let rejected = t["rejected_attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in exp["rejected_attachments"].as_array().into_iter().flatten() {
        let name = r["filename_contains"].as_str().unwrap_or("");
        let reason = r["reason"].as_str().unwrap_or("");
        if !rejected.iter().any(|x| {
            x["filename"].as_str().unwrap_or("").contains(name)
                && x["reason"].as_str().unwrap_or("").starts_with(reason)
        }) {
            fails.push(format!("no rejection ({reason}) for {name:?}"));
        }
    }
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if !from.is_empty() && hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn corpus_letters_match_expectations() {
    corpus_on(&|_| TestDesk::new());
}

#[test]
fn corpus_letters_match_expectations_on_postgres() {
    let cluster = pg::Cluster::start();
    corpus_on(&|name| {
        let db = format!("c{}", name.replace('-', "_"));
        cluster.createdb(&db);
        TestDesk::with(|cfg| engines::use_postgres(cfg, &cluster, &db))
    });
}

/// The corpus, each letter in the desk `new_desk(letter name)` makes.
fn corpus_on(new_desk: &(dyn Fn(&str) -> TestDesk + Sync)) {
    let set = common::repo().join("fixtures/corpus");
    let mut names: Vec<String> = std::fs::read_dir(set.join("letters"))
        .expect("fixtures/corpus/letters")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".eml"))
        .map(|n| n.trim_end_matches(".eml").to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 60, "the corpus has 60 letters");
    // Letters are independent: check them on a few threads.
    let chunks: Vec<Vec<String>> = names
        .chunks(names.len().div_ceil(4))
        .map(|c| c.to_vec())
        .collect();
    let results: Vec<(String, Vec<String>)> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let set = &set;
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|n| {
                            let raw = std::fs::read(set.join("letters").join(format!("{n}.eml")))
                                .expect("letter");
                            let exp: Value = serde_json::from_slice(
                                &std::fs::read(set.join("expect").join(format!("{n}.json")))
                                    .expect("expect"),
                            )
                            .expect("expect JSON");
                            (n.clone(), check_letter(set, &raw, &exp, new_desk(n)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("corpus thread"))
            .collect()
    });
    let mut ok = 0;
    for (n, fails) in &results {
        if fails.is_empty() {
            ok += 1;
        } else {
            println!("FAIL {n}: {}", fails.join("; "));
        }
    }
    println!("corpus score: {ok}/{}", results.len());
    assert!(
        ok >= REQUIRED_SCORE,
        "corpus score {ok}/{} is below the required {REQUIRED_SCORE}",
        results.len()
    );
}

#[test]
fn realworld_letters_never_crash() {
    let dir = common::repo().join("fixtures/realworld");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/realworld")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(files.len() > 50, "real-world letters present");
    let desk = TestDesk::new();
    // One process for all of them: also proves one bad letter does not stop the rest.
    let mut args: Vec<String> = vec!["ingest".into()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let started = std::time::Instant::now();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = desk.run(&argv, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), files.len(), "one JSON line per letter");
    for (f, v) in files.iter().zip(&lines) {
        let o = v["outcome"].as_str().unwrap_or("");
        assert!(
            ["created", "ignored", "quarantined", "updated", "duplicate"].contains(&o),
            "{}: outcome {o}",
            f.display()
        );
    }
    let per_letter = started.elapsed() / files.len() as u32;
    assert!(
        per_letter.as_secs_f64() < 1.0,
        "average {per_letter:?} per letter"
    );
}
