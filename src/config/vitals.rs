//! `[metrics]` (the vital-signs listener) and `[[reports]]` (report
//! letters on a schedule): their types and checks.

use serde::Deserialize;

/// `[metrics]`: off without `listen`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// `IP:PORT` for `GET /metrics`, `/healthz`, `/readyz` (loopback unless
    /// `allow_remote`).
    pub listen: Option<String>,
    pub allow_remote: bool,
    /// `/readyz` fails when the mailbox was last synced longer ago (IMAP;
    /// keep it above `mailbox.idle_refresh_secs`).
    pub stale_sync_secs: u64,
    /// `/readyz` fails when the oldest pending outgoing letter is older.
    pub stale_outbox_secs: u64,
    /// How often the counts are re-read from the database.
    pub refresh_secs: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            listen: None,
            allow_remote: false,
            stale_sync_secs: 900,
            stale_outbox_secs: 3600,
            refresh_secs: 15,
        }
    }
}

/// How often a `[[reports]]` entry sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Week,
    Month,
}

/// One `[[reports]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEntry {
    pub every: Every,
    pub to: Vec<String>,
    /// Desk time on the first working day of the new period, `HH:MM`.
    #[serde(default = "default_at")]
    pub at: String,
    /// Only `html` (an HTML letter with a text part and the CSV listing).
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_at() -> String {
    "09:00".into()
}

fn default_format() -> String {
    "html".into()
}

impl ReportEntry {
    /// `at` as seconds after local midnight.
    pub fn at_secs(&self) -> Result<u32, String> {
        let bad = || format!("`{}` is not a time like \"09:00\"", self.at);
        let (h, m) = self.at.trim().split_once(':').ok_or_else(bad)?;
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(h * 3600 + m * 60)
    }

    /// The entry's own name in state and logs: `reports.<n>.<every>`.
    pub fn key(&self, index: usize) -> String {
        let every = match self.every {
            Every::Week => "week",
            Every::Month => "month",
        };
        format!("reports.{index}.{every}")
    }
}

/// Check `[metrics]` and `[[reports]]`: the failing key and why.
pub fn check(m: &Metrics, reports: &[ReportEntry]) -> Result<(), (String, String)> {
    if let Some(l) = &m.listen {
        check_listen(l, m.allow_remote).map_err(|r| ("metrics.listen".to_string(), r))?;
    }
    if m.refresh_secs == 0 || m.refresh_secs > 3600 {
        return Err((
            "metrics.refresh_secs".into(),
            format!("must be 1 to 3600, not {}", m.refresh_secs),
        ));
    }
    for (i, r) in reports.iter().enumerate() {
        let key = |k: &str| format!("reports[{i}].{k}");
        r.at_secs().map_err(|e| (key("at"), e))?;
        if r.format != "html" {
            return Err((
                key("format"),
                format!("`{}`: only \"html\" is sent", r.format),
            ));
        }
        if r.to.is_empty() {
            return Err((key("to"), "lists no address".into()));
        }
        if let Some(a) = r.to.iter().find(|a| !a.contains('@')) {
            return Err((key("to"), format!("`{a}` is not an e-mail address")));
        }
    }
    Ok(())
}

/// `metrics.listen`: `IP:PORT`, loopback unless allowed.
pub fn check_listen(value: &str, allow_remote: bool) -> Result<std::net::SocketAddr, String> {
    let addr: std::net::SocketAddr = value.trim().parse().map_err(|_| {
        format!("`{value}` is not IP:PORT (e.g. \"127.0.0.1:9187\"; a host name is not accepted)")
    })?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "`{value}` is not a loopback address; the metrics name the desk's load and backlog, so listening beyond this machine needs metrics.allow_remote = true (put it behind a firewall)"
        ));
    }
    Ok(addr)
}
