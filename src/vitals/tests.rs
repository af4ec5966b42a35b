use super::*;

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

const L: Limits = Limits {
    stale_sync_secs: 100,
    stale_outbox_secs: 50,
    stale_snapshot_secs: 30,
};

fn snap(
    refreshed: i64,
    sync: Option<i64>,
    oldest: Option<i64>,
    db: Result<(), String>,
) -> Snapshot {
    Snapshot {
        refreshed_at: Some(t(refreshed)),
        counts: Counts {
            outbox_oldest_pending: oldest.map(t),
            ..Default::default()
        },
        database: db,
        last_sync: vec![("main".into(), sync.map(t))],
    }
}

#[test]
fn readiness_from_the_snapshot() {
    let ok = Ok(());
    // (snapshot, now, the reasons' beginnings)
    let cases: Vec<(Snapshot, i64, Vec<&str>)> = vec![
        (snap(990, Some(950), Some(980), ok.clone()), 1000, vec![]),
        (Snapshot::default(), 1000, vec!["starting"]),
        (
            snap(990, Some(850), None, ok.clone()),
            1000,
            vec!["mailbox `main`: not synced for 150 s"],
        ),
        (snap(990, None, None, ok.clone()), 50, vec![]),
        (
            snap(990, None, None, ok.clone()),
            1000,
            vec!["mailbox `main`: never synced"],
        ),
        (
            snap(990, Some(990), Some(900), ok.clone()),
            1000,
            vec!["outbox: the oldest pending letter waits 100 s"],
        ),
        (
            snap(990, Some(990), None, Err("readonly".into())),
            1000,
            vec!["database not writable: readonly"],
        ),
        (
            snap(900, Some(990), None, ok.clone()),
            1000,
            vec!["the database was last read 100 s ago"],
        ),
    ];
    for (s, now, want) in cases {
        let got = readiness(&s, t(now), t(0), L);
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(g.starts_with(w), "{g} should start with {w}");
        }
    }
}
