//! The HTML report (issue 16, "Must show" 2): one self-contained file,
//! rendered by headless Chromium with no request made.

use super::{desk, report, two_months};

/// Chromium's proxy: records the first line of every request, so any
/// request the page makes beyond its own file is seen.
fn recording_proxy() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            use std::io::Read;
            let _ = c.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut buf = [0u8; 1024];
            let n = c.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            s.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
    (port, seen)
}

/// Chromium's own background services (time, component updates,
/// accounts), which it calls whatever the page: not the page's requests.
fn chromium_own(request: &str) -> bool {
    let host = request
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    ["google.com", "googleapis.com", "gvt1.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// Must show 2: the HTML report is one file with inline SVG charts and no
/// external resource; headless Chromium renders it to a PNG (kept in the
/// test's output folder) without making any request.
#[test]
fn the_html_report_renders_in_headless_chromium_without_requests() {
    let mut c = desk();
    two_months(&mut c);
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-html");
    std::fs::create_dir_all(&out).expect("output folder");
    let html_path = out.join("report-2025-10.html");
    report(
        &c,
        &[
            "report",
            "--period",
            "2025-10",
            "--format",
            "html",
            "--out",
            &html_path.display().to_string(),
        ],
    );
    let html = std::fs::read_to_string(&html_path).expect("the page");
    // Three charts, inline, drawn as bars.
    assert_eq!(html.matches("<svg").count(), 3, "three inline SVG charts");
    assert!(html.matches("<rect").count() >= 10, "bars drawn");
    for title in [
        "Поступило обращений по дням",
        "Обращения по видам",
        "Сроки по приоритетам",
    ] {
        assert!(html.contains(title), "chart {title}");
    }
    assert!(html.contains("@media print"), "print styles");
    // Nothing that could load anything: no script, link, image, frame,
    // style import or url().
    let lower = html.to_lowercase();
    for bad in [
        "<script", "<link", "<img", "<iframe", "<object", "@import", "url(", "src=", "href=",
    ] {
        assert!(!lower.contains(bad), "the page holds `{bad}`");
    }

    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        panic!("headless Chromium is needed (scripts/servers/install installs it)");
    };
    let (proxy, seen) = recording_proxy();
    let png = out.join("report-2025-10.png");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().expect("profile dir");
    let run = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=800,2600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{proxy}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .expect("run chromium");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); chromium said: {}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    assert_eq!((width, height), (800, 2600));
    assert!(
        bytes.len() > 30_000,
        "the page drew something: {} bytes",
        bytes.len()
    );
    let requests = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let page: Vec<&String> = requests.iter().filter(|r| !chromium_own(r)).collect();
    assert!(page.is_empty(), "the page made requests: {page:?}");
    eprintln!("rendered: {}", png.display());
}
