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
