//! Batches ([`Pipeline::ingest_batch`]): one transaction, a savepoint per
//! letter; a failing letter rolls back only itself, a transient failure
//! stops the batch with the letters before it committed.

use super::{IngestError, Outcome, Pipeline};
use std::path::Path;
use std::sync::Arc;

fn pipeline(dir: &Path, attachments: &Path) -> Pipeline {
    let text = format!(
        r#"[desk]
support_address = "support@sed.example.org"

[database]
path = {db:?}

[attachments]
dir = {att:?}

[mailbox]
kind = "maildir"
path = {mail:?}

[outgoing]
kind = "file"
dir = {out:?}
"#,
        db = dir.join("t.sqlite3").display().to_string(),
        att = attachments.display().to_string(),
        mail = dir.join("mail").display().to_string(),
        out = dir.join("out").display().to_string(),
    );
    let cfg = crate::desk::Desk::from_str_at(&text, &dir.join("c.toml"), dir).unwrap();
    Pipeline::open(Arc::new(cfg)).unwrap()
}

/// A complete Table 2 appeal from `from`, optionally answering `reply_to`
/// and carrying a small attachment.
fn appeal(tag: &str, reply_to: Option<&str>, attachment: bool) -> Vec<u8> {
    let thread = reply_to
        .map(|m| format!("In-Reply-To: <{m}>\r\n"))
        .unwrap_or_default();
    let body = format!(
        "Наименование органа исполнительной власти: Министерство здравоохранения\r\n\
         Ф.И.О. пользователя: Смирнова Ольга Викторовна\r\n\
         Местонахождение: кабинет 305, 3 этаж\r\n\
         Номер контактного телефона: 8 (4012) 55-12-34\r\n\
         Описание возникшей проблемы: не открывается карточка {tag}\r\n"
    );
    let text = if attachment {
        format!(
            "Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n--bb\r\n\
             Content-Type: image/png; name=\"s.png\"\r\nContent-Disposition: attachment; filename=\"s.png\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==\r\n--bb--\r\n"
        )
    } else {
        format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}")
    };
    format!(
        "From: Smirnova <user@example.com>\r\nTo: support@sed.example.org\r\nSubject: Problem {tag}\r\n\
         Message-ID: <{tag}@test.example>\r\n{thread}MIME-Version: 1.0\r\n{text}"
    )
    .into_bytes()
}

fn count(p: &Pipeline, sql: &str) -> i64 {
    p.store().conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_batch_commits_its_letters_once_and_sees_its_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = pipeline(dir.path(), &dir.path().join("att"));
    let a = appeal("a", None, false);
    let batch = vec![
        a.clone(),
        appeal("b", None, true),
        a,                                          // the same letter again: a duplicate
        appeal("c", Some("a@test.example"), false), // answers a, created above
    ];
    let got: Vec<_> = p
        .ingest_batch(&batch)
        .into_iter()
        .map(|r| r.unwrap().outcome)
        .collect();
    assert_eq!(
        got,
        [
            Outcome::Created,
            Outcome::Created,
            Outcome::Duplicate,
            Outcome::Updated
        ]
    );
    assert_eq!(count(&p, "SELECT count(*) FROM tickets"), 2);
    assert_eq!(count(&p, "SELECT count(*) FROM letters"), 3);
    assert_eq!(count(&p, "SELECT count(*) FROM attachments"), 1);
    assert!(p.store().conn().is_autocommit(), "the batch is committed");
    // Again: every letter is a duplicate now.
    let again = p.ingest_batch(&batch);
    assert!(again
        .iter()
        .all(|r| r.as_ref().unwrap().outcome == Outcome::Duplicate));
    assert_eq!(count(&p, "SELECT count(*) FROM letters"), 3);
}

#[test]
fn a_failing_letter_rolls_back_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = pipeline(dir.path(), &dir.path().join("att"));
    // The second letter fails after its ticket row is written.
    p.store()
        .conn()
        .execute_batch(
            "CREATE TRIGGER fail_b BEFORE INSERT ON letters WHEN NEW.message_id = 'b@test.example'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .unwrap();
    let batch = vec![
        appeal("a", None, false),
        appeal("b", None, false),
        appeal("c", None, false),
    ];
    let got = p.ingest_batch(&batch);
    assert_eq!(got[0].as_ref().unwrap().outcome, Outcome::Created);
    let e = got[1].as_ref().unwrap_err();
    assert!(!e.is_transient(), "{e}");
    assert_eq!(got[2].as_ref().unwrap().outcome, Outcome::Created);
    let tickets: Vec<String> = {
        let conn = p.store().conn();
        let mut st = conn.prepare("SELECT id FROM tickets ORDER BY id").unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    // b's ticket number was rolled back with it: no gap.
    assert_eq!(tickets.len(), 2);
    assert!(tickets[1].ends_with("000002"), "{tickets:?}");
    assert_eq!(
        count(
            &p,
            "SELECT count(*) FROM letters WHERE message_id = 'b@test.example'"
        ),
        0
    );
    assert_eq!(count(&p, "SELECT count(*) FROM outbox"), 2);
    // Retried once the cause is gone, b is taken in exactly once.
    p.store()
        .conn()
        .execute_batch("DROP TRIGGER fail_b")
        .unwrap();
    let again = p.ingest_batch(&batch);
    let outcomes: Vec<_> = again.into_iter().map(|r| r.unwrap().outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Duplicate, Outcome::Created, Outcome::Duplicate]
    );
    assert_eq!(count(&p, "SELECT count(*) FROM tickets"), 3);
}

#[test]
fn a_transient_failure_stops_the_batch_after_committing_the_letters_before() {
    let dir = tempfile::tempdir().unwrap();
    // The attachments folder cannot be created (a file is in the way): the
    // letter with an attachment fails transiently.
    let blocked = dir.path().join("att");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let mut p = pipeline(dir.path(), &blocked);
    let batch = vec![
        appeal("a", None, false),
        appeal("b", None, true),
        appeal("c", None, false),
    ];
    let got = p.ingest_batch(&batch);
    assert_eq!(got[0].as_ref().unwrap().outcome, Outcome::Created);
    assert!(matches!(got[1], Err(IngestError::Attachment { .. })));
    assert!(matches!(got[2], Err(IngestError::Batch(_))));
    assert!(got[2].as_ref().unwrap_err().is_transient());
    assert_eq!(count(&p, "SELECT count(*) FROM letters"), 1);
    assert!(p.store().conn().is_autocommit(), "the batch is committed");
    // The folder is fixed: the rest goes through, a only once.
    std::fs::remove_file(&blocked).unwrap();
    let outcomes: Vec<_> = p
        .ingest_batch(&batch)
        .into_iter()
        .map(|r| r.unwrap().outcome)
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Duplicate, Outcome::Created, Outcome::Created]
    );
    assert_eq!(count(&p, "SELECT count(*) FROM tickets"), 3);
}

#[test]
fn a_batch_left_open_does_not_swallow_later_letters() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = pipeline(dir.path(), &dir.path().join("att"));
    // As after a panic inside a batch: the transaction is still open.
    p.store_mut().batch_begin().unwrap();
    let r = p.ingest_batch(&[appeal("a", None, false), appeal("b", None, false)]);
    assert!(r.iter().all(Result::is_ok));
    assert!(p.store().conn().is_autocommit());
    drop(p);
    let p = pipeline(dir.path(), &dir.path().join("att"));
    assert_eq!(count(&p, "SELECT count(*) FROM tickets"), 2);
}

#[test]
fn maildir_moves_only_the_letters_its_batch_committed() {
    use crate::source::maildir;
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), &dir.path().join("att"));
    p.store()
        .conn()
        .execute_batch(
            "CREATE TRIGGER fail_b BEFORE INSERT ON letters WHEN NEW.message_id = 'b@test.example'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .unwrap();
    let root = dir.path().join("mail");
    maildir::ensure(&root).unwrap();
    for (name, tag) in [("1.a", "a"), ("2.b", "b"), ("3.c", "c")] {
        std::fs::write(root.join("new").join(name), appeal(tag, None, false)).unwrap();
    }
    let handle = super::Handle::new(p);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(maildir::pass(&root, &handle, None)).unwrap();
    assert_eq!((report.processed, report.deferred), (2, 1));
    let names = |sub: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(root.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("new"), ["2.b"]);
    assert_eq!(names("cur"), ["1.a:2,S", "3.c:2,S"]);
    let tickets = rt
        .block_on(handle.with(|p| Ok(count(p, "SELECT count(*) FROM tickets"))))
        .unwrap();
    assert_eq!(tickets, 2);
}
