//! The config file's sections as serde types. Every key is documented in
//! `config.example.toml`; defaults here match that file.

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub desk: DeskSection,
    #[serde(default)]
    pub log: Log,
    pub database: super::database::Database,
    pub attachments: Attachments,
    #[serde(default)]
    pub tickets: Tickets,
    pub mailbox: super::Mailbox,
    pub outgoing: Outgoing,
    #[serde(default)]
    pub templates: Templates,
    // --- the desk's workflow (config/sections/); all optional ---
    #[serde(default)]
    pub lines: Vec<super::sections::LineConfig>,
    #[serde(default)]
    pub priorities: Vec<super::sections::PriorityConfig>,
    #[serde(default)]
    pub calendar: super::sections::CalendarConfig,
    #[serde(default)]
    pub classify: Vec<super::sections::ClassifyConfig>,
    #[serde(default)]
    pub routes: Vec<super::sections::RouteConfig>,
    #[serde(default)]
    pub commands: super::sections::CommandsConfig,
    #[serde(default)]
    pub escalation: super::sections::EscalationConfig,
    #[serde(default)]
    pub loops: super::sections::LoopsConfig,
    #[serde(default)]
    pub security: Security,
    /// `[metrics]`: the vital-signs listener (off without `listen`).
    #[serde(default)]
    pub metrics: super::vitals::Metrics,
    /// `[[reports]]`: report letters on a schedule.
    #[serde(default)]
    pub reports: Vec<super::vitals::ReportEntry>,
    /// The web form and the users' status links; off when absent.
    #[serde(default)]
    pub web: Option<super::web::Web>,
    /// `[cluster]`: several daemons on one database (leases).
    #[serde(default)]
    pub cluster: Cluster,
    /// The file this config was read from (not a key).
    #[serde(skip)]
    pub source_path: PathBuf,
    /// Warnings about keys read and ignored (see `config::mailbox`).
    #[serde(skip)]
    pub set_aside: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSection {
    /// The address users write to; letters from it are never new appeals.
    pub support_address: String,
    /// Display name on outgoing letters.
    pub name: String,
    /// Completes local phone numbers.
    pub default_area_code: String,
    /// IANA time zone for dates shown to people and the business calendar.
    pub time_zone: String,
    /// What the 1st line receives of tickets on other lines (п. 81).
    pub first_line_copies: FirstLineCopies,
    /// With `first_line_copies = "digest"`: the longest an event waits for
    /// the 1st line's digest, seconds (default one hour).
    pub digest_interval_secs: u64,
    /// A requester's letter on a closed ticket: a new related appeal, or
    /// the ticket reopened.
    pub closed_reply: ClosedReply,
}

/// `[desk] first_line_copies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirstLineCopies {
    /// A copy of every routing, handover, proposal and confirmation, with
    /// a proof of receipt that lets the 1st line command the ticket.
    #[default]
    All,
    /// The same events gathered into one letter every
    /// `digest_interval_secs`, each ticket with its proof-of-receipt
    /// address so the 1st line can still command it.
    Digest,
    /// Nothing but escalation notices.
    None,
}

/// `[desk] closed_reply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedReply {
    /// A new appeal, linked to the closed one (`related`).
    #[default]
    New,
    /// The closed ticket back in work on its line.
    Reopen,
}

impl Default for DeskSection {
    fn default() -> Self {
        DeskSection {
            support_address: "support@sed.example.org".into(),
            name: "Служба технической поддержки СЭД".into(),
            default_area_code: "4012".into(),
            time_zone: "Europe/Kaliningrad".into(),
            first_line_copies: FirstLineCopies::All,
            digest_interval_secs: 3600,
            closed_reply: ClosedReply::New,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// tracing filter (`info`, `ticketd=debug`); `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".into(),
        }
    }
}

/// `[cluster]`: several `ticketd run` on one database share the work under
/// leases in it (a mailbox is read by one daemon at a time; the timers run
/// on one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cluster {
    /// A lease not renewed for this long is lost to its holder and taken
    /// by another daemon; renewed every third of it.
    pub lease_secs: u64,
}

impl Default for Cluster {
    fn default() -> Cluster {
        Cluster {
            lease_secs: DEFAULT_LEASE_SECS,
        }
    }
}

/// `[cluster] lease_secs` by default.
pub const DEFAULT_LEASE_SECS: u64 = 15;
/// The range `[cluster] lease_secs` is checked against.
pub const LEASE_SECS_RANGE: std::ops::RangeInclusive<u64> = 2..=3600;

impl Cluster {
    /// How often a daemon renews its leases and its heartbeat.
    pub fn renew_every(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.lease_secs.max(1) * 1000 / 3)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachments {
    pub dir: PathBuf,
    #[serde(default = "default_max_size_mb")]
    pub max_size_mb: f64,
    #[serde(default = "default_max_count")]
    pub max_count: usize,
}

fn default_max_size_mb() -> f64 {
    10.0
}
fn default_max_count() -> usize {
    20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tickets {
    pub prefix: String,
}

impl Default for Tickets {
    fn default() -> Self {
        Tickets {
            prefix: "TP".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    #[default]
    Implicit,
    Starttls,
    None,
}

/// How ticketd logs in to the IMAP / SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// LOGIN / AUTH PLAIN with `password_file` or `password_env`.
    #[default]
    Password,
    /// SASL XOAUTH2 with an access token from `token_url` (see `crate::oauth2`).
    Oauth2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AfterProcessing {
    /// Move to `processed_folder`.
    #[default]
    Move,
    /// Only set `\Seen`.
    Flag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutgoingKind {
    File,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outgoing {
    pub kind: OutgoingKind,
    /// Folder for `.eml` files (`kind = "file"`).
    pub dir: Option<PathBuf>,
    // --- SMTP ---
    pub host: Option<String>,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: Tls,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// The name ticketd greets the SMTP server with (EHLO); default: the
    /// domain of `desk.support_address`.
    pub helo_name: Option<String>,
    /// First retry after a temporary failure, seconds; doubles each time.
    #[serde(default = "default_retry_base")]
    pub retry_base_secs: u64,
    /// Longest wait between retries, seconds.
    #[serde(default = "default_retry_cap")]
    pub retry_cap_secs: u64,
    /// A letter still not accepted after this many hours is marked failed.
    #[serde(default = "default_give_up")]
    pub give_up_hours: u64,
    /// SMTP connections delivering in parallel (1..=32); each outbox row is
    /// sent by one connection at a time. A crash may resend up to 2 × N − 1
    /// letters (in flight, or sent with the mark not yet written), never
    /// lose one; with 1, at most one.
    #[serde(default = "default_connections")]
    pub connections: u32,
    // --- OAuth2 (`auth = "oauth2"`; checked in config/oauth2.rs) ---
    #[serde(default)]
    pub auth: Auth,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub refresh_token_file: Option<PathBuf>,
    pub scope: Option<String>,
}

fn default_retry_base() -> u64 {
    5
}
fn default_retry_cap() -> u64 {
    600
}
fn default_give_up() -> u64 {
    72
}
fn default_connections() -> u32 {
    1
}

/// Files that override the built-in Russian templates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    pub confirmation: Option<PathBuf>,
    pub clarification: Option<PathBuf>,
    pub too_large: Option<PathBuf>,
}

/// `[security]`: whose word ticketd takes for who sent a letter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Security {
    /// The receiving MTA's authserv-id: only its `Authentication-Results`
    /// are read. Without it, From is taken as written (check-config warns).
    pub authserv_id: Option<String>,
    /// What the MTA must have found for the From domain.
    pub require: crate::workflow::auth::Require,
}
