//! A real headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`, installed by
//! `scripts/servers/install-chromium`), with fantoccini over plain HTTP
//! on loopback. Screenshots go to the test's output folder
//! (`target/tmp/web_browser/`).
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
}

/// Where a test's screenshots go.
pub fn output_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web_browser");
    std::fs::create_dir_all(&d).expect("output folder");
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    pub async fn start() -> Browser {
        for p in [CHROMIUM, DRIVER] {
            assert!(
                std::path::Path::new(p).exists(),
                "{p} is missing: run scripts/servers/install-chromium (apt-get install chromium chromium-driver)"
            );
        }
        let port = free_port();
        let mut driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=900,1500", "--lang=ru-RU"]
                }
            }))
            .expect("caps");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let until = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    if Instant::now() > until {
                        let _ = driver.kill();
                        panic!("chromedriver did not start a session: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Browser { client, driver }
    }

    /// Save a screenshot of the window as `name` in the output folder.
    pub async fn shot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let p = output_dir().join(name);
        std::fs::write(&p, png).expect("write screenshot");
        p
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let e = self.client.find(Locator::Id(id)).await.expect(id);
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    pub async fn value(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .expect(id)
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    pub async fn text(&self, id: &str) -> Option<String> {
        match self.client.find(Locator::Id(id)).await {
            Ok(e) => e.text().await.ok(),
            Err(_) => None,
        }
    }

    /// Wait (at most 20 s) for an element with `id`.
    pub async fn wait_for(&self, id: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id} did not appear: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .click()
            .await
            .expect("click");
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
