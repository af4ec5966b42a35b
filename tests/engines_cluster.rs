//! Several daemons on one database, at the store's interface, on both
//! engines (issue 17): the fence refuses a stale holder's letter, the
//! outbox is claimed row by row and taken over from a dead daemon, and on
//! PostgreSQL a letter's open transaction holds its lease until it commits.

mod common;
#[path = "common/engines.rs"]
mod engines;
#[path = "support/pg.rs"]
mod pg;

use chrono::{DateTime, TimeZone, Utc};
use engines::{EngineDesk, BOTH};
use ticketd::store::cluster::{mailbox_lease, DaemonInfo, Fence};
use ticketd::store::outbox::{Mark, OutgoingLetter};
use ticketd::store::{Store, StoreError};
use ticketd::workflow::lease::LeaseStep;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0)
        .single()
        .expect("a valid time")
}

fn info(id: &str) -> DaemonInfo {
    DaemonInfo {
        id: id.into(),
        host: "h".into(),
        pid: 1,
        pid_ns: String::new(),
    }
}

fn queue(s: &mut Store, n: usize, when: DateTime<Utc>) {
    let u = s.unit().expect("unit");
    for i in 0..n {
        let l = OutgoingLetter {
            message_id: format!("m{i}@test"),
            ticket_id: None,
            kind: "confirmation".into(),
            from: "support@sed.example.org".into(),
            to: vec![format!("user{i}@example.com")],
            raw: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
        };
        u.enqueue(&l, when).expect("enqueue");
    }
    u.commit().expect("commit");
}

fn ids(s: &Store, now: DateTime<Utc>, n: usize) -> Vec<i64> {
    s.outbox_due(now, n, n)
        .expect("due")
        .iter()
        .map(|l| l.id)
        .collect()
}

#[test]
fn a_stale_holders_letter_is_refused_by_the_fence_on_both_engines() {
    for engine in BOTH {
        let desk = EngineDesk::with(engine, |_| {});
        let mut s = desk.store();
        let lease = chrono::Duration::seconds(15);
        let name = mailbox_lease("main");
        s.lease_step(&name, "a", None, at(0), lease).expect("take");
        s.set_fence(Some(Fence {
            lease: name.clone(),
            holder: "a".into(),
            generation: 1,
        }));
        s.batch_begin().expect("under its own lease");
        s.batch_commit().expect("commit");
        s.lease_step(&name, "b", None, at(30), lease)
            .expect("b takes");
        let e = s.batch_begin().expect_err("fenced");
        assert!(matches!(e, StoreError::Fenced { .. }), "{engine:?}: {e}");
        assert!(e.is_transient());
        assert!(!s.batch_open(), "{engine:?}: nothing left open");
        let e = s.unit().err().expect("fenced");
        assert!(matches!(e, StoreError::Fenced { .. }), "{engine:?}: {e}");
        s.set_fence(None);
        s.batch_begin().expect("no fence");
        s.batch_commit().expect("commit");
    }
}

#[test]
fn outbox_rows_are_claimed_by_one_daemon_on_both_engines() {
    for engine in BOTH {
        let desk = EngineDesk::with(engine, |_| {});
        let (mut a, mut b) = (desk.store(), desk.store());
        a.set_owner("a");
        b.set_owner("b");
        queue(&mut a, 10, at(0));
        a.daemon_beat(&info("a"), at(1), at(16)).expect("beat");
        b.daemon_beat(&info("b"), at(1), at(16)).expect("beat");
        let got_a = ids(&a, at(2), 6);
        let got_b = ids(&b, at(2), 6);
        assert_eq!(got_a.len(), 6, "{engine:?}");
        assert_eq!(got_b.len(), 4, "{engine:?}: only the rows a did not claim");
        assert!(got_a.iter().all(|i| !got_b.contains(i)), "{engine:?}");
        assert_eq!(ids(&b, at(3), 6), got_b, "{engine:?}: its own again");
        a.outbox_marks(
            &[Mark::Sent {
                id: got_a[0],
                at: at(3),
            }],
            true,
        )
        .expect("mark");
        // a is killed: its heartbeat runs out at 16; b beats on.
        b.daemon_beat(&info("b"), at(15), at(30)).expect("beat");
        assert_eq!(ids(&b, at(15), 20), got_b, "{engine:?}: a still alive");
        let mut taken = ids(&b, at(17), 20);
        taken.sort_unstable();
        let mut want: Vec<i64> = got_a[1..].iter().chain(&got_b).copied().collect();
        want.sort_unstable();
        assert_eq!(
            taken, want,
            "{engine:?}: a's claims taken over, its sent row not"
        );
    }
}

/// PostgreSQL: while a letter's transaction of the holder is open (it
/// checked its fence), another daemon cannot take the lease even after it
/// ran out — the step fails (transient) instead of waiting; once the
/// letter commits, the lease passes.
#[test]
fn on_postgres_an_open_letter_holds_its_lease_until_it_commits() {
    let desk = EngineDesk::with(engines::Engine::Postgres, |_| {});
    let (mut a, mut b) = (desk.store(), desk.store());
    let lease = chrono::Duration::seconds(15);
    let name = mailbox_lease("main");
    assert_eq!(
        a.lease_step(&name, "a", None, at(0), lease).expect("take"),
        LeaseStep::Take { generation: 1 }
    );
    a.set_fence(Some(Fence {
        lease: name.clone(),
        holder: "a".into(),
        generation: 1,
    }));
    let u = a.unit().expect("a's letter begins under its lease");
    let e = b
        .lease_step(&name, "b", None, at(30), lease)
        .expect_err("the lease row is held by a's open letter");
    assert!(e.is_transient(), "{e}");
    u.commit().expect("a's letter commits under its lease");
    assert_eq!(
        b.lease_step(&name, "b", None, at(31), lease).expect("take"),
        LeaseStep::Take { generation: 2 }
    );
    let e = a.unit().err().expect("fenced now");
    assert!(matches!(e, StoreError::Fenced { .. }), "{e}");
}
