//! Spam without a third party: appeals per client address per hour
//! (`[web] max_appeals_per_ip_per_hour`), and which address a request
//! comes from.

use axum::http::HeaderMap;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

/// Appeals registered per client address in the last hour (in memory: a
/// restart forgets them, which costs a spammer nothing it could not get
/// by waiting).
#[derive(Debug, Default)]
pub struct RateLimiter {
    max: u32,
    hits: HashMap<IpAddr, VecDeque<i64>>,
}

/// Addresses remembered at most; past it, the quiet ones are forgotten.
const MAX_ADDRESSES: usize = 10_000;
const HOUR: i64 = 3600;

impl RateLimiter {
    pub fn new(max_per_hour: u32) -> RateLimiter {
        RateLimiter {
            max: max_per_hour,
            hits: HashMap::new(),
        }
    }

    /// May `ip` send another appeal at `now` (Unix seconds)?
    pub fn allows(&mut self, ip: IpAddr, now: i64) -> bool {
        if self.max == 0 {
            return true;
        }
        let Some(q) = self.hits.get_mut(&ip) else {
            return true;
        };
        while q.front().is_some_and(|t| *t <= now - HOUR) {
            q.pop_front();
        }
        q.len() < self.max as usize
    }

    /// `ip` sent an appeal at `now`.
    pub fn record(&mut self, ip: IpAddr, now: i64) {
        if self.max == 0 {
            return;
        }
        if self.hits.len() >= MAX_ADDRESSES && !self.hits.contains_key(&ip) {
            self.hits
                .retain(|_, q| q.back().is_some_and(|t| *t > now - HOUR));
        }
        self.hits.entry(ip).or_default().push_back(now);
    }
}

/// The client's address: the peer's, or — when the peer is this machine
/// (the reverse proxy) — the last address the proxy added to
/// `X-Forwarded-For`. A remote peer's header is not believed.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if !peer.ip().is_loopback() {
        return peer.ip();
    }
    let named: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    named.last().copied().unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_address_per_hour() {
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let mut r = RateLimiter::new(2);
        assert!(r.allows(a, 1000));
        r.record(a, 1000);
        r.record(a, 1500);
        assert!(!r.allows(a, 1600), "two in the hour");
        assert!(r.allows(b, 1600), "another address");
        assert!(r.allows(a, 1000 + HOUR), "the first is an hour old");
        let mut off = RateLimiter::new(0);
        off.record(a, 1);
        assert!(off.allows(a, 1));
    }

    #[test]
    fn forwarded_only_from_the_proxy_on_this_machine() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.9".parse().expect("hv"),
        );
        let local: SocketAddr = "127.0.0.1:5555".parse().expect("sa");
        let remote: SocketAddr = "192.0.2.1:5555".parse().expect("sa");
        assert_eq!(client_ip(local, &h).to_string(), "203.0.113.9");
        assert_eq!(client_ip(remote, &h).to_string(), "192.0.2.1");
        assert_eq!(client_ip(local, &HeaderMap::new()).to_string(), "127.0.0.1");
    }
}
