use super::sync::{plan, uid_set, Plan};
use super::*;

#[test]
fn uid_sets_collapse_runs() {
    let cases: &[(&[u32], &str)] = &[
        (&[], ""),
        (&[5], "5"),
        (&[1, 2, 3], "1:3"),
        (&[3, 1, 2, 7, 9, 10], "1:3,7,9:10"),
        (&[4, 4, 5], "4:5"),
    ];
    for (uids, want) in cases {
        assert_eq!(uid_set(uids), *want, "{uids:?}");
    }
}

#[test]
fn plan_separates_oversize_and_bounds_batches() {
    // (items, limit, max letters, max bytes) → plan
    type Case = (Vec<(u32, u64)>, u64, usize, u64, Plan);
    let cases: Vec<Case> = vec![
        (vec![], 100, 2, 1000, Plan::default()),
        (
            vec![(3, 10), (1, 10), (2, 10)],
            100,
            2,
            1000,
            Plan {
                oversize: vec![],
                batches: vec![vec![1, 2], vec![3]],
            },
        ),
        (
            vec![(1, 10), (2, 500), (3, 10)],
            100,
            10,
            1000,
            Plan {
                oversize: vec![(2, 500)],
                batches: vec![vec![1, 3]],
            },
        ),
        (
            vec![(1, 60), (2, 60), (3, 60)],
            100,
            10,
            100,
            Plan {
                oversize: vec![],
                batches: vec![vec![1], vec![2], vec![3]],
            },
        ),
        (
            vec![(1, 100)],
            100,
            10,
            50,
            Plan {
                oversize: vec![],
                batches: vec![vec![1]],
            },
        ),
    ];
    for (items, limit, n, bytes, want) in cases {
        assert_eq!(plan(items.clone(), limit, n, bytes), want, "{items:?}");
    }
}

#[test]
fn backoff_doubles_and_caps_at_30s() {
    let got: Vec<u64> = (0..8).map(|a| backoff(a).as_secs()).collect();
    assert_eq!(got, vec![1, 2, 4, 8, 16, 30, 30, 30]);
    assert_eq!(backoff(u32::MAX), Duration::from_secs(30));
}

#[test]
fn resume_keeps_or_restarts_position() {
    let p = |v, u| Position {
        uidvalidity: v,
        last_uid: u,
    };
    let cases = [
        (None, 7, p(7, 0), false),
        (Some(p(7, 42)), 7, p(7, 42), false),
        (Some(p(7, 42)), 8, p(8, 0), true),
    ];
    for (stored, v, want, changed) in cases {
        assert_eq!(resume(stored, v), (want, changed), "{stored:?} {v}");
    }
}

#[test]
fn namespace_answers_are_parsed() {
    let ns = |p: &str, s: Option<char>| {
        Some(folders::Namespace {
            prefix: p.into(),
            separator: s,
        })
    };
    let cases = [
        (r#"* NAMESPACE (("" "/")) NIL NIL"#, ns("", Some('/'))),
        (
            r#"* NAMESPACE (("INBOX." ".")) NIL (("shared." "."))"#,
            ns("INBOX.", Some('.')),
        ),
        (
            r#"* NAMESPACE (("INBOX." ".")) (("user." ".")) (("" "."))"#,
            ns("INBOX.", Some('.')),
        ),
        (r#"* namespace (("" NIL)) NIL NIL"#, ns("", None)),
        (
            r##"* NAMESPACE (("" "/")("#mh/" "/" "X-PARAM" ("FLAG1" "FLAG2"))) NIL NIL"##,
            ns("", Some('/')),
        ),
        (
            r#"* NAMESPACE (("a\"b\\" "\\")) NIL NIL"#,
            ns("a\"b\\", Some('\\')),
        ),
        (r#"* NAMESPACE NIL NIL (("" "."))"#, None),
        (r#"* NAMESPACE (("INBOX." "..")) NIL NIL"#, None),
        (r#"* NAMESPACE (("INBOX. NIL NIL"#, None),
        (r#"* CAPABILITY IMAP4rev1 NAMESPACE"#, None),
        ("", None),
    ];
    for (line, want) in cases {
        assert_eq!(folders::parse_personal(line), want, "{line}");
    }
}

#[test]
fn processed_folder_is_resolved_in_the_personal_namespace() {
    let dot = folders::Namespace {
        prefix: "INBOX.".into(),
        separator: Some('.'),
    };
    let slash = folders::Namespace {
        prefix: String::new(),
        separator: Some('/'),
    };
    let flat = folders::Namespace {
        prefix: "INBOX/".into(),
        separator: None,
    };
    let cases = [
        // (configured, namespace, server's name)
        ("Processed", None, "Processed"),
        ("Processed", Some(&slash), "Processed"),
        ("Archive/Processed", Some(&slash), "Archive/Processed"),
        ("Processed", Some(&dot), "INBOX.Processed"),
        ("Обработано", Some(&dot), "INBOX.Обработано"),
        ("INBOX.Processed", Some(&dot), "INBOX.Processed"),
        ("inbox.Processed", Some(&dot), "inbox.Processed"),
        ("Archive.Processed", Some(&dot), "Archive.Processed"),
        ("INBOX", Some(&dot), "INBOX"),
        ("Archive/Processed", Some(&dot), "INBOX.Archive/Processed"),
        ("Processed", Some(&flat), "INBOX/Processed"),
    ];
    for (configured, ns, want) in cases {
        assert_eq!(
            folders::resolve(configured, ns),
            want,
            "{configured} in {ns:?}"
        );
    }
}

#[test]
fn server_answers_are_quoted_without_library_noise() {
    let cases = [
        (
            r#"code: None, info: Some("Permission denied")"#,
            "Permission denied",
        ),
        (
            r#"code: Some(TryCreate), info: Some("Mailbox doesn't exist: x")"#,
            "[TryCreate] Mailbox doesn't exist: x",
        ),
        (r#"code: None, info: Some("say \"no\"")"#, r#"say "no""#),
        (r#"code: Some(ReadOnly), info: None"#, "[ReadOnly]"),
        ("something else", "something else"),
    ];
    for (raw, want) in cases {
        assert_eq!(folders::answer_text(raw), want, "{raw}");
    }
}

#[test]
fn refusals_fall_back_and_lost_connections_reconnect() {
    use async_imap::error::Error;
    use std::io;
    let cases = [
        (
            Error::No(r#"code: None, info: Some("Permission denied")"#.into()),
            ack::Failure::Refused("NO Permission denied".into()),
        ),
        (
            Error::Bad(r#"code: None, info: Some("Invalid mailbox name")"#.into()),
            ack::Failure::Refused("BAD Invalid mailbox name".into()),
        ),
        (
            Error::ConnectionLost,
            ack::Failure::Lost(Error::ConnectionLost.to_string()),
        ),
        (
            Error::Io(io::Error::other("reset")),
            ack::Failure::Lost("io: reset".into()),
        ),
    ];
    for (e, want) in cases {
        let got = ack::classify(&e);
        match (&got, &want) {
            (ack::Failure::Lost(_), ack::Failure::Lost(_)) => {}
            _ => assert_eq!(got, want, "{e:?}"),
        }
    }
}

#[test]
fn ack_state_names_a_refusal_once_flags_meanwhile_and_retries() {
    use ack::{AckState, Step, RETRY_MOVE};
    let t0 = Instant::now();
    let mut a = AckState::new(true, "INBOX.Processed");
    assert_eq!((a.step(t0), a.scan_from(41)), (Step::Move, 1));

    // First refusal: news, flagged from then on, scanned from the last UID.
    assert!(a.refused("UID MOVE", "NO Permission denied", t0, "T0"));
    assert_eq!((a.step(t0), a.scan_from(41)), (Step::Flag, 42));
    assert!(a.dirty);
    a.dirty = false;
    // The same answer again: not news, the first time stays.
    assert!(!a.refused("UID MOVE", "NO Permission denied", t0, "T1"));
    assert!(!a.dirty);
    let e = a.error.clone().expect("error kept");
    assert_eq!(e.since, "T0");
    assert_eq!(
        e.message,
        "UID MOVE INBOX.Processed: the server answered \"NO Permission denied\""
    );
    // After the retry interval a move is tried again.
    assert_eq!(a.step(t0 + RETRY_MOVE), Step::Move);
    // Another answer is news.
    assert!(a.refused("UID COPY", "NO Over quota", t0, "T2"));
    // A move that works clears the error, and scanning starts at 1 again.
    assert_eq!(a.moved().map(|e| e.since), Some("T2".to_string()));
    assert_eq!(
        (a.step(t0), a.scan_from(41), a.dirty),
        (Step::Move, 1, true)
    );
    assert_eq!(a.moved(), None);

    // Flag mode never moves, scans from the last UID.
    let f = AckState::new(false, "Processed");
    assert_eq!((f.step(t0), f.scan_from(7)), (Step::Flag, 8));

    // A refusal stored by an earlier run: scanned from the last UID, but
    // the first batch tries moving.
    let mut r = AckState::new(true, "INBOX.Processed");
    let before = "CREATE INBOX.Processed: the server answered \"NO x\"";
    r.restore(Some(before.into()), Some("T9".into()));
    assert_eq!((r.step(t0), r.scan_from(5)), (Step::Move, 6));
    // The same refusal again is logged once by this run, keeps its time.
    assert!(r.refused("CREATE", "NO x", t0, "T10"));
    assert!(!r.refused("CREATE", "NO x", t0, "T11"));
    assert_eq!(r.error.as_ref().map(|e| e.since.as_str()), Some("T9"));
    let mut none = AckState::new(true, "P");
    none.restore(Some(String::new()), Some(String::new()));
    assert_eq!(none.error, None);
}
