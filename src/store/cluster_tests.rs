//! Tests of [`super::cluster`]: leases, the fence, the registry, the
//! outbox claims, on a real SQLite file.

use super::cluster::*;
use super::{ts, Store, StoreError};
use crate::workflow::lease::LeaseStep;
use chrono::TimeZone;
use chrono::{DateTime, Utc};
use std::time::Duration as StdDuration;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("db.sqlite3"), StdDuration::from_secs(1)).unwrap();
    (dir, s)
}

/// Two daemons on one lease: the first takes it, the second waits, the
/// first renews; when the first goes silent past the expiry the second
/// takes the next generation and the first, looking again, has lost it.
#[test]
fn a_lease_passes_to_the_survivor_after_its_expiry_with_a_new_generation() {
    let (_d, mut s) = open();
    let lease = chrono::Duration::seconds(15);
    let name = mailbox_lease("main");
    let d = |id: &str| DaemonInfo {
        id: id.into(),
        host: "h".into(),
        pid: 1,
        pid_ns: String::new(),
    };
    // Both alive in the registry as long as their leases.
    s.daemon_beat(&d("a"), at(0), at(20)).unwrap();
    s.daemon_beat(&d("b"), at(0), at(40)).unwrap();
    assert_eq!(
        s.lease_step(&name, "a", None, at(0), lease).unwrap(),
        LeaseStep::Take { generation: 1 }
    );
    assert!(matches!(
        s.lease_step(&name, "b", None, at(1), lease).unwrap(),
        LeaseStep::Wait { until, .. } if until == at(15)
    ));
    assert_eq!(
        s.lease_step(&name, "a", Some(1), at(5), lease).unwrap(),
        LeaseStep::Renew
    );
    assert!(matches!(
        s.lease_step(&name, "b", None, at(19), lease).unwrap(),
        LeaseStep::Wait { until, .. } if until == at(20)
    ));
    assert_eq!(
        s.lease_step(&name, "b", None, at(20), lease).unwrap(),
        LeaseStep::Take { generation: 2 }
    );
    assert_eq!(
        s.lease_step(&name, "a", Some(1), at(21), lease).unwrap(),
        LeaseStep::Lost { holder: "b".into() }
    );
    // Given back at shutdown: taken at once by the other.
    s.leases_release("b", at(22)).unwrap();
    assert_eq!(
        s.lease_step(&name, "a", None, at(22), lease).unwrap(),
        LeaseStep::Take { generation: 3 }
    );
}

/// A letter's transaction under a fence commits while the lease is the
/// daemon's under that generation, and is refused (nothing written)
/// once another daemon took the lease.
#[test]
fn a_stale_holders_transaction_is_refused_by_the_fence() {
    let (_d, mut s) = open();
    let lease = chrono::Duration::seconds(15);
    let name = mailbox_lease("main");
    s.lease_step(&name, "a", None, at(0), lease).unwrap();
    s.set_fence(Some(Fence {
        lease: name.clone(),
        holder: "a".into(),
        generation: 1,
    }));
    s.batch_begin().unwrap();
    s.batch_commit().unwrap();
    s.lease_step(&name, "b", None, at(30), lease).unwrap();
    let e = s.batch_begin().expect_err("fenced");
    assert!(matches!(e, StoreError::Fenced { .. }), "{e}");
    assert!(e.is_transient(), "the letter is left for the new holder");
    assert!(!s.batch_open(), "nothing left open");
    let e = s.unit().err().expect("fenced");
    assert!(matches!(e, StoreError::Fenced { .. }), "{e}");
    assert!(!s.batch_open());
    s.set_fence(None);
    s.batch_begin().unwrap();
    s.batch_commit().unwrap();
}

#[test]
fn status_lists_the_daemons_alive_with_what_they_hold() {
    let (_d, mut s) = open();
    let lease = chrono::Duration::seconds(15);
    let a = DaemonInfo {
        id: "a".into(),
        host: "h1".into(),
        pid: 10,
        pid_ns: String::new(),
    };
    let b = DaemonInfo {
        id: "b".into(),
        host: "h2".into(),
        pid: 20,
        pid_ns: String::new(),
    };
    s.daemon_beat(&a, at(0), at(15)).unwrap();
    s.daemon_beat(&b, at(1), at(16)).unwrap();
    s.lease_step(&mailbox_lease("main"), "a", None, at(0), lease)
        .unwrap();
    s.lease_step(LEADER, "b", None, at(1), lease).unwrap();
    let alive = s.daemons_alive(at(2)).unwrap();
    assert_eq!(alive.len(), 2);
    assert_eq!((alive[0].id.as_str(), alive[0].pid), ("a", 10));
    assert_eq!(
        alive[0].mailboxes,
        vec![HeldMailbox {
            name: "main".into(),
            since: ts(at(0))
        }]
    );
    assert!(!alive[0].leader && alive[1].leader);
    assert!(alive[1].mailboxes.is_empty());
    // a stops beating: gone after its expiry; b stays.
    s.daemon_beat(&b, at(14), at(30)).unwrap();
    let alive = s.daemons_alive(at(20)).unwrap();
    assert_eq!(alive.len(), 1);
    assert_eq!(alive[0].id, "b");
    s.daemon_leave("b", at(21)).unwrap();
    assert!(s.daemons_alive(at(21)).unwrap().is_empty());
}

fn queue(s: &mut Store, n: usize, at: DateTime<Utc>) {
    let tx = s.begin().unwrap();
    for i in 0..n {
        let l = crate::outbox::OutgoingLetter {
            message_id: format!("m{i}@test"),
            ticket_id: None,
            kind: "confirmation".into(),
            from: "support@sed.example.org".into(),
            to: vec![format!("user{i}@example.com")],
            raw: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
        };
        crate::store::outbox::enqueue(&tx, &l, at).unwrap();
    }
    tx.commit().unwrap();
}

/// Two daemons' senders on one outbox: each row is claimed by one; the
/// claims of a daemon whose heartbeat ran out are taken by the other;
/// a mark frees the row's claim.
#[test]
fn outbox_rows_are_claimed_by_one_daemon_and_taken_over_from_a_dead_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let open = |owner: &str| {
        let mut s = Store::open(&path, StdDuration::from_secs(1)).unwrap();
        s.set_owner(owner);
        s
    };
    let (mut a, b) = (open("a"), open("b"));
    queue(&mut a, 10, at(0));
    let info = |id: &str| DaemonInfo {
        id: id.into(),
        host: "h".into(),
        pid: 1,
        pid_ns: String::new(),
    };
    a.daemon_beat(&info("a"), at(1), at(16)).unwrap();
    b.daemon_beat(&info("b"), at(1), at(16)).unwrap();
    let got_a: Vec<i64> = a
        .outbox_due(at(2), 6, 6)
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    let got_b: Vec<i64> = b
        .outbox_due(at(2), 6, 6)
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(got_a, (1..=6).collect::<Vec<_>>(), "oldest first");
    assert_eq!(
        got_b,
        (7..=10).collect::<Vec<_>>(),
        "only the rows a did not claim"
    );
    let again: Vec<i64> = b
        .outbox_due(at(3), 6, 6)
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(again, got_b, "its own claims again, none of a's");
    // a's own claims are its own on its next read.
    assert_eq!(a.outbox_due(at(3), 2, 2).unwrap().len(), 2);
    // a sends row 1; the mark frees it (sent, not pending: gone).
    a.outbox_marks(&[super::outbox::Mark::Sent { id: 1, at: at(3) }], true)
        .unwrap();
    // a is killed: its heartbeat runs out at 16; b beats on.
    b.daemon_beat(&info("b"), at(15), at(30)).unwrap();
    let before: Vec<i64> = b
        .outbox_due(at(15), 20, 20)
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(before, got_b, "a still alive: its rows stay a's");
    let taken: Vec<i64> = b
        .outbox_due(at(17), 20, 20)
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(
        taken,
        (2..=10).collect::<Vec<_>>(),
        "a's claims taken over; row 1 was sent"
    );
    // b alive: its next due for a is the claim's end, not now.
    let next = a.outbox_next_due(at(17)).unwrap().unwrap();
    assert!(next > at(17) + chrono::Duration::minutes(9), "{next}");
}

/// A daemon of this host and PID namespace killed (its pid gone): the
/// next daemon to look removes it from the registry, and takes its
/// lease at once, before the lease runs out; its outbox claims are
/// free too. A daemon of another host is left to its expiry.
#[test]
fn a_daemon_killed_on_this_host_frees_its_lease_at_once() {
    let (_d, mut s) = open();
    let lease = chrono::Duration::seconds(15);
    let name = mailbox_lease("main");
    let me = DaemonInfo::new(at(0));
    assert!(!me.pid_ns.is_empty(), "Linux names the PID namespace");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let dead = DaemonInfo {
        id: "dead".into(),
        pid: dead_pid,
        ..me.clone()
    };
    let remote = DaemonInfo {
        id: "remote".into(),
        host: "elsewhere".into(),
        pid: dead_pid,
        ..me.clone()
    };
    for d in [&dead, &remote] {
        s.daemon_beat(d, at(0), at(15)).unwrap();
    }
    s.daemon_beat(&me, at(0), at(15)).unwrap();
    assert_eq!(
        s.lease_step(&name, "dead", None, at(0), lease).unwrap(),
        LeaseStep::Take { generation: 1 }
    );
    s.lease_step(LEADER, "remote", None, at(0), lease).unwrap();
    queue(&mut s, 1, at(0));
    let mut theirs = Store::open(&_d.path().join("db.sqlite3"), StdDuration::from_secs(1)).unwrap();
    theirs.set_owner("dead");
    assert_eq!(theirs.outbox_due(at(1), 5, 5).unwrap().len(), 1);
    s.set_owner(&me.id);
    assert!(
        s.outbox_due(at(1), 5, 5).unwrap().is_empty(),
        "claimed by a daemon alive"
    );
    assert!(matches!(
        s.lease_step(&name, &me.id, None, at(1), lease).unwrap(),
        LeaseStep::Wait { .. }
    ));
    assert_eq!(s.daemons_reap(&me).unwrap(), vec!["dead".to_string()]);
    assert_eq!(
        s.lease_step(&name, &me.id, None, at(1), lease).unwrap(),
        LeaseStep::Take { generation: 2 }
    );
    assert_eq!(
        s.outbox_due(at(1), 5, 5).unwrap().len(),
        1,
        "its claim is free"
    );
    // The other host's daemon: its lease runs out first.
    assert!(matches!(
        s.lease_step(LEADER, &me.id, None, at(1), lease).unwrap(),
        LeaseStep::Wait { .. }
    ));
    assert_eq!(s.daemons_alive(at(1)).unwrap().len(), 2);
}

/// While intake holds the write lock and no other daemon is alive, the
/// sender reads free rows without claiming them — only as many as it sends
/// at once: a daemon starting meanwhile finds those rows free too, and
/// every row read ahead unclaimed would be a duplicate reply.
#[test]
fn rows_read_unclaimed_under_intakes_lock_are_only_those_sent_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let mut a = Store::open(&path, StdDuration::from_secs(1)).unwrap();
    a.set_owner("a");
    queue(&mut a, 10, at(0));
    let me = DaemonInfo {
        id: "a".into(),
        host: "h".into(),
        pid: 1,
        pid_ns: String::new(),
    };
    a.daemon_beat(&me, at(1), at(16)).unwrap();
    let intake = Store::open(&path, StdDuration::from_secs(1)).unwrap();
    intake.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    let read: Vec<i64> = a
        .outbox_due(at(2), 65, 2)
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(read, vec![1, 2], "the two sent at once, oldest first");
    intake.conn().execute_batch("COMMIT").unwrap();
    // Unclaimed: a daemon starting now would find them free; once the lock
    // is free the reads claim again, the whole batch.
    let unclaimed: i64 = a
        .conn()
        .query_row(
            "SELECT count(*) FROM outbox WHERE claimed_by IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unclaimed, 10);
    assert_eq!(a.outbox_due(at(2), 65, 2).unwrap().len(), 10);
}
