//! Several daemons on one database (issue 17): the leases (who reads a
//! mailbox, who runs the timers), the daemons registry with its heartbeat,
//! and the fence a letter's transaction checks. The decision is
//! [`crate::workflow::lease::decide`]; this is its I/O.

use super::{parse_ts, ts, Result, Store, StoreError};
use crate::workflow::lease::{decide, LeaseRow, LeaseStep};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// The lease of the daemon that runs the timers (escalation, report letters).
pub const LEADER: &str = "leader";

/// The lease name of the mailbox named `mailbox`.
pub fn mailbox_lease(mailbox: &str) -> String {
    format!("mailbox.{mailbox}")
}

/// What a letter's transaction checks: the lease it was read under is
/// still this daemon's, under this generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub lease: String,
    pub holder: String,
    pub generation: i64,
}

/// This daemon, as the registry shows it.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// The PID namespace (`/proc/self/ns/pid`; empty when unknown): only
    /// a daemon of the same host and namespace can see whether a pid lives.
    pub pid_ns: String,
}

/// A daemon alive, for `ticketd status`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DaemonRow {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub started_at: String,
    /// The mailboxes it holds: `{name, since}`.
    pub mailboxes: Vec<HeldMailbox>,
    /// Whether it holds the leader lease (runs the timers).
    pub leader: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HeldMailbox {
    pub name: String,
    pub since: String,
}

impl DaemonInfo {
    /// A new daemon of this process: `host`, pid and a part unique in
    /// the process and in time (two daemons in one process, a restart
    /// with the same pid).
    pub fn new(now: DateTime<Utc>) -> DaemonInfo {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let host = host_name();
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "{host}-{pid}-{:x}{n:02x}",
            now.timestamp_millis() & 0xff_ffff
        );
        let pid_ns = std::fs::read_link("/proc/self/ns/pid")
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        DaemonInfo {
            id,
            host,
            pid,
            pid_ns,
        }
    }
}

/// Does the process `pid` of this PID namespace exist? (A pid reused by
/// another process counts as alive: the lease then runs out instead.)
fn pid_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 checks for the process without sending anything.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// This machine's name (`gethostname`), or `localhost`.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(h) if !h.is_empty() => h.to_string(),
        _ => "localhost".into(),
    }
}

/// The claimant of a store opened outside a daemon (`run --once`, the
/// CLI): this process.
pub(super) fn process_owner() -> String {
    format!("{}-{}", host_name(), std::process::id())
}

/// Fail the open transaction of `conn` unless `fence` holds in it.
pub(super) fn check_fence(conn: &Connection, fence: &Fence) -> Result<()> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT holder, generation FROM leases WHERE name = ?1")?
        .query_row([&fence.lease], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((holder, generation)) if holder == fence.holder && generation == fence.generation => {
            Ok(())
        }
        _ => Err(StoreError::Fenced {
            lease: fence.lease.clone(),
        }),
    }
}

impl Store {
    /// The fence every later write transaction ([`Store::unit`], a batch)
    /// checks inside itself; None: no check (one daemon, the CLI).
    pub fn set_fence(&mut self, fence: Option<Fence>) {
        self.fence = fence;
    }

    /// Claim outbox rows as `owner` (a daemon's id) from now on.
    pub fn set_owner(&mut self, owner: &str) {
        self.owner = owner.to_string();
    }

    /// Read the lease `name`, decide ([`decide`]) and write the step, in
    /// one write transaction: two daemons never both take it.
    pub fn lease_step(
        &mut self,
        name: &str,
        me: &str,
        mine: Option<i64>,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<LeaseStep> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<LeaseRow> = tx
            .prepare_cached("SELECT holder, generation, expires_at FROM leases WHERE name = ?1")?
            .query_row([name], |r| {
                let at: String = r.get(2)?;
                Ok(LeaseRow {
                    holder: r.get(0)?,
                    generation: r.get(1)?,
                    // An unreadable expiry is an expired one.
                    expires_at: parse_ts(&at).unwrap_or(DateTime::<Utc>::MIN_UTC),
                })
            })
            .optional()?;
        let holder_alive = match &row {
            Some(r) => tx
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM daemons WHERE id = ?1 AND expires_at > ?2)",
                )?
                .query_row(params![r.holder, ts(now)], |r| r.get(0))?,
            None => false,
        };
        let step = decide(now, row.as_ref(), me, mine, holder_alive);
        let until = ts(now + lease);
        match &step {
            LeaseStep::Take { generation } => {
                tx.prepare_cached(
                    "INSERT INTO leases(name, holder, generation, since, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(name) DO UPDATE SET holder = ?2, generation = ?3,
                        since = ?4, expires_at = ?5",
                )?
                .execute(params![name, me, generation, ts(now), until])?;
            }
            LeaseStep::Renew => {
                tx.prepare_cached(
                    "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND holder = ?2",
                )?
                .execute(params![name, me, until])?;
            }
            LeaseStep::Wait { .. } | LeaseStep::Lost { .. } => {}
        }
        tx.commit()?;
        Ok(step)
    }

    /// Give back the leases `me` holds (at shutdown): they expire now, so
    /// another daemon takes them at its next look; the generation stays.
    pub fn leases_release(&self, me: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE leases SET expires_at = ?2 WHERE holder = ?1",
            params![me, ts(now)],
        )?;
        Ok(())
    }

    /// The heartbeat: this daemon is alive until `until`.
    pub fn daemon_beat(
        &self,
        d: &DaemonInfo,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO daemons(id, host, pid, pid_ns, started_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET expires_at = ?6",
            )?
            .execute(params![d.id, d.host, d.pid, d.pid_ns, ts(now), ts(until)])?;
        Ok(())
    }

    /// Remove from the registry the daemons of this host and PID namespace
    /// whose process is gone (killed): their leases are free at once and
    /// their outbox claims too. Returns their ids.
    pub fn daemons_reap(&self, me: &DaemonInfo) -> Result<Vec<String>> {
        if me.pid_ns.is_empty() {
            return Ok(Vec::new());
        }
        let mut st = self.conn.prepare_cached(
            "SELECT id, pid FROM daemons WHERE host = ?1 AND pid_ns = ?2 AND id <> ?3",
        )?;
        let local: Vec<(String, i64)> = st
            .query_map(params![me.host, me.pid_ns, me.id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<std::result::Result<_, _>>()?;
        let mut gone = Vec::new();
        for (id, pid) in local {
            if !pid_alive(pid) {
                self.conn
                    .prepare_cached("DELETE FROM daemons WHERE id = ?1")?
                    .execute([&id])?;
                gone.push(id);
            }
        }
        Ok(gone)
    }

    /// Leave the registry (at shutdown), and forget daemons gone for a day.
    pub fn daemon_leave(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "DELETE FROM daemons WHERE id = ?1 OR expires_at < ?2",
            params![id, ts(now - chrono::Duration::days(1))],
        )?;
        Ok(())
    }

    /// The daemons alive at `now`, with the mailboxes each holds.
    pub fn daemons_alive(&self, now: DateTime<Utc>) -> Result<Vec<DaemonRow>> {
        let now = ts(now);
        let mut st = self.conn.prepare(
            "SELECT id, host, pid, started_at FROM daemons WHERE expires_at > ?1 ORDER BY started_at, id",
        )?;
        let mut daemons: Vec<DaemonRow> = st
            .query_map([&now], |r| {
                Ok(DaemonRow {
                    id: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    started_at: r.get(3)?,
                    mailboxes: Vec::new(),
                    leader: false,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        let mut st = self.conn.prepare(
            "SELECT name, holder, since FROM leases WHERE expires_at > ?1 ORDER BY name",
        )?;
        let leases = st.query_map([&now], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for l in leases {
            let (name, holder, since) = l?;
            let Some(d) = daemons.iter_mut().find(|d| d.id == holder) else {
                continue;
            };
            if name == LEADER {
                d.leader = true;
            } else if let Some(mailbox) = name.strip_prefix("mailbox.") {
                d.mailboxes.push(HeldMailbox {
                    name: mailbox.to_string(),
                    since,
                });
            }
        }
        Ok(daemons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
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
            .outbox_due(at(2), 6)
            .unwrap()
            .iter()
            .map(|l| l.id)
            .collect();
        let got_b: Vec<i64> = b
            .outbox_due(at(2), 6)
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
            .outbox_due(at(3), 6)
            .unwrap()
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(again, got_b, "its own claims again, none of a's");
        // a's own claims are its own on its next read.
        assert_eq!(a.outbox_due(at(3), 2).unwrap().len(), 2);
        // a sends row 1; the mark frees it (sent, not pending: gone).
        a.outbox_marks(
            &[super::super::outbox::Mark::Sent { id: 1, at: at(3) }],
            true,
        )
        .unwrap();
        // a is killed: its heartbeat runs out at 16; b beats on.
        b.daemon_beat(&info("b"), at(15), at(30)).unwrap();
        let before: Vec<i64> = b
            .outbox_due(at(15), 20)
            .unwrap()
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(before, got_b, "a still alive: its rows stay a's");
        let taken: Vec<i64> = b
            .outbox_due(at(17), 20)
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
        let mut theirs =
            Store::open(&_d.path().join("db.sqlite3"), StdDuration::from_secs(1)).unwrap();
        theirs.set_owner("dead");
        assert_eq!(theirs.outbox_due(at(1), 5).unwrap().len(), 1);
        s.set_owner(&me.id);
        assert!(
            s.outbox_due(at(1), 5).unwrap().is_empty(),
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
            s.outbox_due(at(1), 5).unwrap().len(),
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
}
