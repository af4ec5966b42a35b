//! Failover of several daemons on one database (issue 17, "Must show" 2,
//! on SQLite): two `ticketd run` on one SQLite file and one IMAP mailbox,
//! 300 letters arriving, the mailbox lease's holder killed with `kill -9`
//! at random moments 5 times (restarted each time). Every letter becomes
//! exactly one ticket, none is left in the folder, at most one duplicate
//! reply per kill reaches the user, and the mailbox is taken by the
//! survivor within `lease_secs` + 5 s of each kill (at once: a daemon
//! killed on this host is seen gone). Then the holder is paused (SIGSTOP):
//! the other takes the mailbox when the lease runs out, and the paused one,
//! resumed, finds its lease lost.

mod support;

use std::time::{Duration, Instant};

use rand::Rng;
use support::daemon::{ticketd, Daemon};
use support::{exactly_once, imap, letters, servers, ConfigOpts, SUPPORT};

const LETTERS: usize = 300;
const KILLS: usize = 5;
const LEASE_SECS: u64 = 3;
const USER: &str = "user1@example.com";

/// Where the daemons' database is: the SQLite file, or a PostgreSQL
/// database of a private cluster.
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(support::pg::Cluster),
}

const HOLDER: &str =
    "SELECT l.holder, l.generation, d.pid FROM leases l JOIN daemons d ON d.id = l.holder
         WHERE l.name = 'mailbox.main'";

/// The mailbox lease: (holder's id, generation, holder's pid).
fn holder(db: &Db) -> Option<(String, i64, u32)> {
    let db = match db {
        Db::Sqlite(path) => path,
        Db::Postgres(pg) => {
            // Before the schema exists, nobody holds anything.
            let row = pg.try_query("desk", HOLDER).ok()?;
            let f: Vec<&str> = row.split('|').collect();
            return match f.as_slice() {
                [h, g, p] => Some((h.to_string(), g.parse().ok()?, p.parse().ok()?)),
                _ => None,
            };
        }
    };
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    conn.busy_timeout(Duration::from_secs(2)).ok()?;
    conn.query_row(HOLDER, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .ok()
}

fn wait_holder(
    db: &Db,
    what: &str,
    secs: u64,
    ok: impl Fn(&(String, i64, u32)) -> bool,
) -> (String, i64, u32) {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(h) = holder(db).filter(|h| ok(h)) {
            return h;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_daemons_one_mailbox_the_holder_killed_5_times() {
    killed_5_times("cluster", false);
}

/// The same on PostgreSQL (issue 17, "Must show" 2): the outbox claimed
/// with `FOR UPDATE SKIP LOCKED`, the fence a share lock on the lease row.
#[test]
fn two_daemons_on_postgres_one_mailbox_the_holder_killed_5_times() {
    killed_5_times("pgcluster", true);
}

fn killed_5_times(name: &str, postgres: bool) {
    let started = Instant::now();
    let opts = ConfigOpts {
        log_level: "info".into(),
        ..ConfigOpts::named(name)
    };
    let dir = servers().test_dir(name);
    let config = servers().write_config(&dir, &opts);
    let mut cfg: toml::Table = std::fs::read_to_string(&config)
        .expect("config")
        .parse()
        .expect("config parses");
    let mut cluster = toml::Table::new();
    cluster.insert("lease_secs".into(), toml::Value::Integer(LEASE_SECS as i64));
    cfg.insert("cluster".into(), toml::Value::Table(cluster));
    let db = if postgres {
        let pg = support::pg::Cluster::start();
        pg.createdb("desk");
        if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
            t.insert("kind".into(), "postgres".into());
            t.insert("url".into(), pg.url("desk").into());
            t.insert(
                "password_file".into(),
                pg.password_file.display().to_string().into(),
            );
        }
        Db::Postgres(pg)
    } else {
        Db::Sqlite(dir.join("ticketd.sqlite3"))
    };
    std::fs::write(&config, toml::to_string(&cfg).expect("toml")).expect("config");
    let prefix = if postgres { "pgc" } else { "clu" };
    let tags: Vec<String> = (0..LETTERS).map(|i| format!("{prefix}-{i:03}")).collect();
    let raws: Vec<Vec<u8>> = tags.iter().map(|t| letters::appeal(USER, t)).collect();
    imap::create(SUPPORT, &opts.folder);

    let mut daemons = vec![Daemon::start(&config)];
    let first = wait_holder(&db, "the first daemon's lease", 20, |_| true);
    assert_eq!(first.2, daemons[0].pid());
    daemons.push(Daemon::start(&config));

    // The load arrives across the kills: 10 letters every 400 ms, 12 s.
    let appender = {
        let folder = opts.folder.clone();
        std::thread::spawn(move || {
            for chunk in raws.chunks(10) {
                imap::append_many(SUPPORT, &folder, chunk);
                std::thread::sleep(Duration::from_millis(400));
            }
        })
    };

    let mut rng = rand::rng();
    let mut takeovers = Vec::new();
    for _ in 0..KILLS {
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        let (id, generation, pid) = wait_holder(&db, "a holder", 20, |_| true);
        let at = daemons
            .iter()
            .position(|d| d.pid() == pid)
            .unwrap_or_else(|| panic!("the holder {id} (pid {pid}) is not one of ours"));
        for d in daemons.iter_mut() {
            assert!(d.running(), "a daemon died by itself:\n{}", d.log_text());
        }
        daemons[at].kill9();
        let killed = Instant::now();
        let survivor = daemons[1 - at].pid();
        let (next, next_generation, next_pid) = wait_holder(
            &db,
            "the survivor to take the mailbox",
            LEASE_SECS + 10,
            |h| h.0 != id,
        );
        let took = killed.elapsed();
        eprintln!("kill of {id}: {next} took generation {next_generation} in {took:?}");
        assert_eq!(next_pid, survivor, "the survivor took it");
        assert!(next_generation > generation);
        assert!(
            took <= Duration::from_secs(LEASE_SECS + 5),
            "taken {took:?} after the kill (lease_secs {LEASE_SECS})"
        );
        takeovers.push(took);
        daemons[at] = Daemon::start(&config);
    }
    // A holder that stops renewing while alive (SIGSTOP: a hung host, a
    // long pause): the other takes the mailbox once the lease runs out, and
    // the paused one, resumed, finds it lost and stops touching it (its
    // commits are fenced meanwhile).
    // Paused once the load is in: a process stopped while it holds SQLite's
    // write lock (mid-commit) stops every writer on the file, the lease's
    // too — a limit of one SQLite file, not of the lease.
    appender.join().expect("appender");
    imap::wait_until(
        SUPPORT,
        &opts.folder,
        Duration::from_secs(40),
        "the folder to empty before the pause",
        |l| l.is_empty(),
    );
    std::thread::sleep(Duration::from_millis(500));
    let (id, generation, pid) = wait_holder(&db, "a holder", 20, |_| true);
    let at = daemons.iter().position(|d| d.pid() == pid).expect("ours");
    daemons[at].signal("STOP");
    let paused = Instant::now();
    let (_, next_generation, next_pid) = wait_holder(
        &db,
        "the other daemon to take the paused one's mailbox",
        LEASE_SECS + 10,
        |h| h.0 != id,
    );
    let took = paused.elapsed();
    eprintln!("pause of {id}: taken in {took:?}");
    assert_eq!(next_pid, daemons[1 - at].pid());
    assert_eq!(next_generation, generation + 1);
    // The holder renews every third of the lease, so its lease has between
    // 2/3 and all of LEASE_SECS left when it is paused; half the lease is a
    // lower bound with room for scheduling, and still far from "taken at
    // once" (a lease that is not respected).
    assert!(
        took >= Duration::from_millis(LEASE_SECS * 500)
            && took <= Duration::from_secs(LEASE_SECS + 5),
        "a paused holder's lease runs out: {took:?}"
    );
    daemons[at].signal("CONT");
    assert!(
        daemons[at].wait_log(
            "lease lost to another daemon",
            Duration::from_secs(LEASE_SECS + 5)
        ),
        "the resumed daemon finds its lease lost:\n{}",
        daemons[at].log_text()
    );
    assert!(daemons[at].running(), "and carries on, waiting");

    imap::wait_until(
        SUPPORT,
        &opts.folder,
        Duration::from_secs(40),
        "the folder to empty",
        |l| l.is_empty(),
    );
    let inbox = imap::wait_until(
        USER,
        "INBOX",
        Duration::from_secs(40),
        "a reply for every letter",
        |l| tags.iter().all(|t| imap::replies_to(l, t) >= 1),
    );
    // Let late duplicates (if any) arrive before counting.
    std::thread::sleep(Duration::from_secs(2));
    let status = ticketd(&config, &["status", "--json"]);
    assert!(status.status.success());
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status --json");
    let listed = status["daemons"].as_array().expect("daemons").clone();
    assert_eq!(listed.len(), 2, "two daemons alive: {listed:?}");
    let holding: Vec<_> = listed
        .iter()
        .filter(|d| d["mailboxes"].as_array().is_some_and(|m| !m.is_empty()))
        .collect();
    assert_eq!(holding.len(), 1, "one holds the mailbox: {listed:?}");
    assert_eq!(holding[0]["mailboxes"][0]["name"], "main");
    assert!(holding[0]["mailboxes"][0]["since"].is_string());
    assert!(listed.iter().all(|d| d["pid"]
        .as_u64()
        .is_some_and(|p| { daemons.iter().any(|x| u64::from(x.pid()) == p) })
        && d["host"].is_string()
        && d["id"].is_string()));
    for d in daemons {
        d.stop();
    }
    eprintln!("takeovers {takeovers:?}");
    let load = exactly_once::Load {
        config: &config,
        opts: &opts,
        tags: &tags,
        user: USER,
        kills: KILLS,
    };
    exactly_once::check(&load, inbox, started);
}
