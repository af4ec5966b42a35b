//! `[web]` in `check-config` (issue 15): a bad `public_url` and a port in
//! use are errors naming file:line and the key.

mod common;

use common::TestDesk;

fn web(listen: &str, public_url: &str) -> TestDesk {
    let (listen, public_url) = (listen.to_string(), public_url.to_string());
    TestDesk::with(move |cfg| {
        let mut w = toml::Table::new();
        w.insert("listen".into(), toml::Value::String(listen));
        w.insert("public_url".into(), toml::Value::String(public_url));
        cfg.insert("web".into(), toml::Value::Table(w));
    })
}

fn check(desk: &TestDesk) -> (bool, String) {
    let out = desk.run(&["check-config"], None);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_bad_public_url_or_a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let free = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    // (listen, public_url, key named, words)
    for (listen, url, key, says) in [
        (
            format!("127.0.0.1:{free}"),
            "http://support.example.org",
            "web.public_url",
            "loopback",
        ),
        (
            format!("127.0.0.1:{free}"),
            "support.example.org",
            "web.public_url",
            "not a URL",
        ),
        (
            "localhost:8080".to_string(),
            "https://support.example.org",
            "web.listen",
            "IP:PORT",
        ),
        (
            format!("127.0.0.1:{port}"),
            "https://support.example.org",
            "web.listen",
            "cannot listen",
        ),
    ] {
        let desk = web(&listen, url);
        let (ok, err) = check(&desk);
        assert!(!ok, "{listen} {url}: accepted");
        let at = format!("{}:", desk.config.display());
        assert!(
            err.contains(&at) && err.contains(key) && err.contains(says),
            "{listen} {url}: {err}"
        );
        // `FILE:LINE: KEY: reason`
        let line: Option<usize> = err
            .lines()
            .find(|l| l.contains(&format!(": {key}: ")) && l.contains(says))
            .and_then(|l| l.split(&at).nth(1))
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.trim().parse().ok());
        assert!(line.is_some_and(|n| n > 1), "a line number: {err}");
    }
    let (ok, err) = check(&web(
        &format!("127.0.0.1:{free}"),
        "https://support.example.org",
    ));
    assert!(ok, "{err}");
    drop(taken);
}
