//! Several daemons on one database (issue 17): the leases (who reads a
//! mailbox, who runs the timers), the daemons registry with its heartbeat,
//! and the fence a letter's transaction checks. The decision is
//! [`crate::workflow::lease::decide`]; this is its I/O.

use super::engine::{params, Conn};
use super::{parse_ts, ts, Result, Store, StoreError};
use crate::workflow::lease::{decide, LeaseRow, LeaseStep};
use chrono::{DateTime, Utc};
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

/// Fail the open transaction of `conn` unless `fence` holds in it. On
/// PostgreSQL the lease row stays share-locked until the transaction ends,
/// so a daemon taking the lease waits for this commit (SQLite's write
/// lock does the same for the whole file).
pub(super) fn check_fence(conn: &Conn, fence: &Fence) -> Result<()> {
    let row: Option<(String, i64)> = conn.query_opt(
        conn.pick(
            "SELECT holder, generation FROM leases WHERE name = ?1",
            "SELECT holder, generation FROM leases WHERE name = ?1 FOR SHARE",
        ),
        &params![fence.lease],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
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
        let tx = self.conn.begin()?;
        // PostgreSQL: one lease step at a time per lease name (the row may
        // not exist yet, so a row lock alone would not serialise two takes).
        // A letter's transaction holds the lease row (the fence, share
        // lock) until it commits: the step waits for it at most a second,
        // then fails (transient) and is tried again at the next look,
        // instead of holding up the keeper's other leases.
        if tx.engine() == super::engine::Engine::Postgres {
            tx.batch("SET LOCAL lock_timeout = '1s'")?;
            tx.execute("SELECT pg_advisory_xact_lock(hashtext(?1))", &params![name])?;
        }
        let row: Option<LeaseRow> = tx.query_opt(
            "SELECT holder, generation, expires_at FROM leases WHERE name = ?1",
            &params![name],
            |r| {
                let at: String = r.get(2)?;
                Ok(LeaseRow {
                    holder: r.get(0)?,
                    generation: r.get(1)?,
                    // An unreadable expiry is an expired one.
                    expires_at: parse_ts(&at).unwrap_or(DateTime::<Utc>::MIN_UTC),
                })
            },
        )?;
        let holder_alive = match &row {
            Some(r) => tx.one(
                "SELECT EXISTS(SELECT 1 FROM daemons WHERE id = ?1 AND expires_at > ?2)",
                &params![r.holder, ts(now)],
            )?,
            None => false,
        };
        let step = decide(now, row.as_ref(), me, mine, holder_alive);
        let until = ts(now + lease);
        match &step {
            LeaseStep::Take { generation } => {
                tx.execute(
                    "INSERT INTO leases(name, holder, generation, since, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(name) DO UPDATE SET holder = ?2, generation = ?3,
                        since = ?4, expires_at = ?5",
                    &params![name, me, generation, ts(now), until],
                )?;
            }
            LeaseStep::Renew => {
                tx.execute(
                    "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND holder = ?2",
                    &params![name, me, until],
                )?;
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
            &params![me, ts(now)],
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
        self.conn.execute(
            "INSERT INTO daemons(id, host, pid, pid_ns, started_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET expires_at = ?6",
            &params![d.id, d.host, d.pid, d.pid_ns, ts(now), ts(until)],
        )?;
        Ok(())
    }

    /// Remove from the registry the daemons of this host and PID namespace
    /// whose process is gone (killed): their leases are free at once and
    /// their outbox claims too. Returns their ids.
    pub fn daemons_reap(&self, me: &DaemonInfo) -> Result<Vec<String>> {
        if me.pid_ns.is_empty() {
            return Ok(Vec::new());
        }
        let local: Vec<(String, i64)> = self.conn.query_map(
            "SELECT id, pid FROM daemons WHERE host = ?1 AND pid_ns = ?2 AND id <> ?3",
            &params![me.host, me.pid_ns, me.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut gone = Vec::new();
        for (id, pid) in local {
            if !pid_alive(pid) {
                self.conn
                    .execute("DELETE FROM daemons WHERE id = ?1", &params![id])?;
                gone.push(id);
            }
        }
        Ok(gone)
    }

    /// Leave the registry (at shutdown), and forget daemons gone for a day.
    pub fn daemon_leave(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "DELETE FROM daemons WHERE id = ?1 OR expires_at < ?2",
            &params![id, ts(now - chrono::Duration::days(1))],
        )?;
        Ok(())
    }

    /// The daemons alive at `now`, with the mailboxes each holds.
    pub fn daemons_alive(&self, now: DateTime<Utc>) -> Result<Vec<DaemonRow>> {
        let now = ts(now);
        let mut daemons: Vec<DaemonRow> = self.conn.query_map(
            "SELECT id, host, pid, started_at FROM daemons WHERE expires_at > ?1 ORDER BY started_at, id",
            &params![now],
            |r| {
                Ok(DaemonRow {
                    id: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    started_at: r.get(3)?,
                    mailboxes: Vec::new(),
                    leader: false,
                })
            },
        )?;
        let leases: Vec<(String, String, String)> = self.conn.query_map(
            "SELECT name, holder, since FROM leases WHERE expires_at > ?1 ORDER BY name",
            &params![now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        for (name, holder, since) in leases {
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
