//! The command line (clap): parsing, logging set-up, dispatch.
//!
//! Every command takes `--config FILE` (default `/etc/ticketd/config.toml`).
//! Errors reach the user through anyhow with their context chain; exit codes
//! are 0 (done), 1 (error), 2 (usage or config error, from clap or
//! `check-config`), 75 (EX_TEMPFAIL: a letter could not be stored, the MTA
//! must retry).

#[macro_use]
mod term;
mod admin;
mod assets;
mod dates;
mod db;
mod ingest;
mod phone;
mod quarantine;
mod report;
mod run;
mod tickets;

use crate::config::DEFAULT_PATH;
use crate::desk::Desk;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Exit code asking the MTA to retry later (sysexits.h EX_TEMPFAIL).
pub const EX_TEMPFAIL: i32 = 75;
/// Exit code for a bad configuration (sysexits.h EX_CONFIG).
pub const EX_CONFIG: i32 = 78;

#[derive(Parser, Debug)]
#[command(
    name = "ticketd",
    version,
    about = "E-mail help desk: Table 2 appeals become tickets, answered and routed by mail"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, value_name = "FILE", default_value = DEFAULT_PATH)]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon: watch the mailbox, process letters, send mail.
    Run {
        /// Process everything waiting (letters, outgoing mail), then exit.
        #[arg(long)]
        once: bool,
    },
    /// Process RFC 5322 letters from files (or one from stdin), as the daemon
    /// would; prints one JSON line per letter. Exit 75 when a letter could not
    /// be stored and must be retried.
    Ingest {
        /// Letter files; none: read one letter from stdin.
        files: Vec<PathBuf>,
    },
    /// Validate the configuration and its templates and rules; name the
    /// values still left from the example (reserved example domains).
    CheckConfig {
        /// Fail (exit 78) while a value from the example is left; the
        /// systemd unit checks with this before every start.
        #[arg(long)]
        strict: bool,
    },
    /// Read tickets; register one taken by phone.
    #[command(subcommand)]
    Tickets(TicketsCmd),
    /// Letters kept aside because they could not become tickets.
    #[command(subcommand)]
    Quarantine(QuarantineCmd),
    /// Outgoing letters: list, requeue failed ones.
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Routing rules: which rule sends a ticket (or a letter) where, and why.
    #[command(subcommand)]
    Route(RouteCmd),
    /// The desk at a glance: tickets by status, quarantine, outbox backlog.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The report of a period (received, statuses, deadlines, times,
    /// backlog, engineers), or with `--tickets` one row per ticket.
    Report(ReportArgs),
    /// The support lines, their engineers, and each 1st-line engineer's
    /// registration address for appeals taken by phone.
    Lines {
        #[arg(long)]
        json: bool,
    },
    /// The database: its schema (`migrate`), a SQLite desk's move to
    /// PostgreSQL (`copy`).
    #[command(subcommand)]
    Db(db::DbCmd),
    /// Print the built-in example configuration.
    ExampleConfig,
    /// Write the Debian package's generated files (man pages, completions,
    /// template files, the packaged config) into DIR; for scripts/package.
    #[command(hide = true)]
    PackageAssets { dir: PathBuf },
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// A month: 2026-11. Default: the last finished month (with
    /// `--tickets`: every ticket).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
    /// The first day (DD.MM.YYYY or YYYY-MM-DD, the desk's time zone).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// The last day, included (default: today).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// text, csv, json or html.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// One row per ticket with every field and stored time, instead of
    /// the figures; streamed, no row limit.
    #[arg(long)]
    pub tickets: bool,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum TicketsCmd {
    /// Tickets, newest first.
    List {
        #[arg(long)]
        json: bool,
        /// Only this status (machine or Russian name).
        #[arg(long)]
        status: Option<String>,
        /// Only tickets created since this date: DD.MM.YYYY or YYYY-MM-DD,
        /// optionally with a time HH:MM (the desk's time zone), or RFC 3339.
        #[arg(long)]
        since: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
        /// Only tickets that came through this mailbox (its config name;
        /// letters from before `[[mailboxes]]` count as "main").
        #[arg(long)]
        mailbox: Option<String>,
    },
    /// One ticket with its form, attachments and history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Register an appeal taken by phone (or from the site) as the desk
    /// would: `--field full_name=… --field location="каб. 305, 3 этаж" …`.
    /// Prints one JSON line like `ingest`.
    New {
        /// `phone` or `web`.
        #[arg(long, default_value = "phone")]
        channel: String,
        /// The caller's e-mail (the confirmation goes there); optional for
        /// a phone appeal.
        #[arg(long)]
        requester: Option<String>,
        /// The engineer who took the call (an engineer of a line).
        #[arg(long)]
        registered_by: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        /// A Table 2 field: organization, full_name, location, phone,
        /// description, note (`KEY=VALUE`, repeatable).
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RouteCmd {
    /// Print the classification and the routing rule that matches a ticket
    /// (or a letter not yet registered), and why each earlier rule did not.
    Explain {
        /// A ticket ID.
        #[arg(required_unless_present = "letter", conflicts_with = "letter")]
        id: Option<String>,
        /// A letter file (RFC 5322) instead of a ticket.
        #[arg(long, value_name = "FILE")]
        letter: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum QuarantineCmd {
    /// Quarantined letters (not yet released; `--all` for every one).
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// One quarantined letter; `--raw` prints its bytes.
    Show {
        id: i64,
        #[arg(long)]
        raw: bool,
    },
    /// Push a quarantined letter through the pipeline again.
    Release { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum OutboxCmd {
    /// Outgoing letters, newest first.
    List {
        /// pending, sent, failed, or suppressed (held back by the `[loops]`
        /// limits: never queued, listed with the reason).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Requeue failed letters (one by id, or all).
    Retry {
        id: Option<i64>,
        #[arg(long)]
        all: bool,
    },
}

/// Set up tracing to stderr: journald-friendly (no colours unless a
/// terminal), level from RUST_LOG or the config.
pub fn init_logging(level: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

pub fn load_config(path: &Path) -> anyhow::Result<Desk> {
    Ok(Desk::load(path)?)
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ticketd: error: {e:#}");
            if e.downcast_ref::<crate::config::ConfigError>().is_some() {
                EX_CONFIG
            } else {
                1
            }
        }
    }
}

/// Threads for blocking work (the pipeline's SQLite and parsing, Maildir
/// reads, DNS look-ups). The pipeline handles one letter at a time, so two
/// are enough; tokio's default (512) lets a burst start a dozen, and every
/// thread the pipeline lands on grows its own copy of the parser's regex
/// caches (~1 MB each): measured with heaptrack under scripts/bench.
const BLOCKING_THREADS: usize = 2;
/// Idle blocking threads live this long (tokio's default: 10 s), so the
/// pipeline keeps landing on the threads whose regex caches are warm.
const BLOCKING_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(600);

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_keep_alive(BLOCKING_KEEP_ALIVE)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// glibc gives every thread that allocates its own malloc arena (up to
/// 8 per core), each keeping its own high-water mark of freed memory; the
/// daemon's threads (runtime workers, the pipeline's blocking thread) work on
/// one letter at a time, so one arena costs no contention worth having and
/// saves ~11 MB of peak RSS under load (measured with scripts/bench). Blocks
/// of 128 KiB and more (letters, attachments) are always mmapped and given
/// back when freed, instead of the threshold creeping up and leaving them in
/// the heap. Called before the runtime starts any thread.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters (glibc takes its own
    // locks); it runs before the runtime starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// `check-config`: first the values left from the example (read from the
/// text, so all are named even when loading then stops at an error), then
/// loading, templates and rules. Example values fail only with `--strict`.
fn check_config(path: &Path, strict: bool) -> anyhow::Result<i32> {
    let leftovers = std::fs::read_to_string(path)
        .map(|text| crate::config::examples::example_values(&text))
        .unwrap_or_default();
    if !leftovers.is_empty() {
        eprint!("{}", crate::config::examples::describe(path, &leftovers));
    }
    let cfg = load_config(path)?;
    admin::check_config(&cfg)?;
    if leftovers.is_empty() {
        println!("{}: OK", path.display());
        Ok(0)
    } else if strict {
        eprintln!(
            "ticketd: error: {}: {} example value(s) left (listed above); edit them, then run `ticketd check-config` again",
            path.display(),
            leftovers.len()
        );
        Ok(EX_CONFIG)
    } else {
        println!(
            "{}: OK, but {} value(s) are still the example's (see above); `--strict`, as the systemd unit runs it, refuses them",
            path.display(),
            leftovers.len()
        );
        Ok(0)
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    if let Command::ExampleConfig = cli.command {
        print!("{}", crate::config::EXAMPLE);
        return Ok(0);
    }
    if let Command::PackageAssets { dir } = &cli.command {
        assets::write(dir)?;
        return Ok(0);
    }
    if let Command::CheckConfig { strict } = cli.command {
        return check_config(&cli.config, strict);
    }
    let cfg = load_config(&cli.config)?;
    init_logging(&cfg.log.level);
    if let Command::Db(cmd) = cli.command {
        return db::run(&cfg, cmd);
    }
    let clock = crate::clock::system();
    match cli.command {
        Command::Run { once: true } => {
            let r =
                runtime()?.block_on(crate::daemon::run_once(std::sync::Arc::new(cfg), clock))?;
            tracing::info!(
                letters = r.letters,
                deferred = r.deferred,
                sent = r.delivery.sent,
                retried = r.delivery.retried,
                escalated = r.escalated,
                failed = r.delivery.failed,
                "run --once done"
            );
            Ok(0)
        }
        Command::Run { once: false } => {
            runtime()?.block_on(run::run(&cli.config, cfg, clock))?;
            Ok(0)
        }
        Command::Ingest { files } => ingest::run(cfg, &files),
        Command::Tickets(TicketsCmd::New {
            channel,
            requester,
            registered_by,
            subject,
            fields,
        }) => phone::new_ticket(
            cfg,
            &phone::NewArgs {
                channel,
                requester,
                registered_by,
                subject,
                fields,
            },
        ),
        Command::Tickets(cmd) => tickets::run(&cfg, cmd),
        Command::Lines { json } => phone::lines(cfg, json),
        Command::Quarantine(cmd) => quarantine::quarantine(cfg, cmd, clock),
        Command::Outbox(cmd) => admin::outbox(&cfg, cmd, clock.as_ref()),
        Command::Status { json } => admin::status(&cfg, json, clock.as_ref()),
        Command::Report(args) => report::run(&cfg, args, clock.now()),
        Command::Route(RouteCmd::Explain { id, letter }) => admin::route_explain(&cfg, id, letter),
        Command::CheckConfig { .. }
        | Command::ExampleConfig
        | Command::PackageAssets { .. }
        | Command::Db(_) => Ok(0),
    }
}
