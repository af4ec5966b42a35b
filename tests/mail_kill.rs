//! Crash safety of IMAP intake (issue 4, "Must show" 5): `kill -9` of the
//! daemon at random moments during a 300-letter IMAP load, 10 times, then a
//! clean run: every letter is exactly one ticket, nothing is left in the
//! folder, and at most one duplicate reply per kill reached the user —
//! on SQLite, and on PostgreSQL (a private cluster; issue 17).

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;
use support::daemon::Daemon;
use support::{exactly_once, imap, letters, servers, ConfigOpts, SUPPORT};

const LETTERS: usize = 300;
const KILLS: usize = 10;
const USER: &str = "user1@example.com";

#[test]
fn kill_9_during_load_loses_nothing_and_duplicates_nothing() {
    kill_9_during_load("kill", None);
}

#[test]
fn kill_9_during_load_on_postgres_loses_nothing_and_duplicates_nothing() {
    let pg = support::pg::Cluster::start();
    pg.createdb("desk");
    kill_9_during_load("pgkill", Some(&pg));
}

fn kill_9_during_load(name: &str, pg: Option<&support::pg::Cluster>) {
    let opts = ConfigOpts {
        log_level: "info".into(),
        ..ConfigOpts::named(name)
    };
    let dir = servers().test_dir(name);
    let config = servers().write_config(&dir, &opts);
    if let Some(pg) = pg {
        let mut cfg: toml::Table = std::fs::read_to_string(&config)
            .expect("config")
            .parse()
            .expect("config parses");
        if let Some(toml::Value::Table(t)) = cfg.get_mut("database") {
            t.insert("kind".into(), "postgres".into());
            t.insert("url".into(), pg.url("desk").into());
            t.insert(
                "password_file".into(),
                pg.password_file.display().to_string().into(),
            );
        }
        std::fs::write(&config, toml::to_string(&cfg).expect("toml")).expect("config");
    }
    let tags: Vec<String> = (0..LETTERS).map(|i| format!("{name}-{i:03}")).collect();
    let raws: Vec<Vec<u8>> = tags.iter().map(|t| letters::appeal(USER, t)).collect();
    imap::create(SUPPORT, &opts.folder);
    // The load arrives while the daemon is being killed: 10 letters every
    // 150 ms, about 4.5 s in all, across the kill cycles.
    let appender = {
        let folder = opts.folder.clone();
        std::thread::spawn(move || {
            for chunk in raws.chunks(10) {
                imap::append_many(SUPPORT, &folder, chunk);
                std::thread::sleep(Duration::from_millis(150));
            }
        })
    };

    let mut rng = rand::rng();
    let mut kills = 0;
    while kills < KILLS {
        let mut daemon = Daemon::start(&config);
        std::thread::sleep(Duration::from_millis(rng.random_range(100..700)));
        assert!(
            daemon.running(),
            "the daemon died by itself:\n{}",
            daemon.log_text()
        );
        daemon.kill9();
        kills += 1;
    }
    appender.join().expect("appender");
    let left_after_kills = imap::count(SUPPORT, &opts.folder);
    eprintln!("{left_after_kills} of {LETTERS} letters still in the folder after {KILLS} kills");

    // Clean run until every letter is processed and every reply delivered.
    let mut daemon = Daemon::start(&config);
    let t0 = Instant::now();
    imap::wait_until(
        SUPPORT,
        &opts.folder,
        Duration::from_secs(120),
        "the folder to empty",
        |l| l.is_empty(),
    );
    let inbox = imap::wait_until(
        USER,
        "INBOX",
        Duration::from_secs(120),
        "a reply for every letter",
        |l| {
            let mut per: HashMap<&str, usize> = HashMap::new();
            for m in l {
                if let Some(v) = m.header("In-Reply-To") {
                    if let Some(tag) = tags
                        .iter()
                        .find(|t| v.contains(&format!("<{t}@test.example>")))
                    {
                        *per.entry(tag.as_str()).or_default() += 1;
                    }
                }
            }
            per.len() == LETTERS
        },
    );
    eprintln!("clean run finished in {:?}", t0.elapsed());
    std::thread::sleep(Duration::from_secs(2));
    daemon.signal("TERM");
    assert!(daemon
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
    let load = exactly_once::Load {
        config: &config,
        opts: &opts,
        tags: &tags,
        user: USER,
        kills: KILLS,
    };
    exactly_once::check(&load, inbox, t0);
}
