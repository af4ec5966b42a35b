//! `ticketd db migrate` and `ticketd db copy`: the database's schema and
//! the move of a SQLite desk to PostgreSQL (`crate::store::pg`). Also the
//! refusal of every other command while `[database] kind = "postgres"`:
//! the daemon's queries are not ported yet, and a half-working daemon is
//! worse than a clear stop.

use crate::config::{database, PgTarget, SslMode};
use crate::desk::Desk;
use crate::store::pg;
use anyhow::{bail, Context};
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum DbCmd {
    /// Create or upgrade the schema of the configured database (SQLite
    /// or PostgreSQL) to this ticketd's version; idempotent; refuses a
    /// database newer than this ticketd.
    Migrate,
    /// Copy the SQLite desk (`[database] path`, or `--from`) into an empty
    /// PostgreSQL database, every table and every attachment file,
    /// verified by row counts and hashes; run it again after an
    /// interruption to resume. Stop the daemon first.
    Copy(CopyArgs),
}

#[derive(clap::Args, Debug)]
pub struct CopyArgs {
    /// The target: postgresql://user@host[:port]/dbname (no password in
    /// it). Default: `[database] url` when kind = "postgres".
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// The SQLite file to copy (default: `[database] path`).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// The target's password, read from this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The target's password, read from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// disable, require or verify-full (default: verify-full unless the
    /// host is loopback or a Unix socket).
    #[arg(long, value_name = "MODE")]
    pub sslmode: Option<String>,
    /// CA certificates (PEM) for sslmode verify-full.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Rows per committed chunk.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub chunk_rows: usize,
    /// Stop after this many rows (tests: an interrupted copy).
    #[arg(long, hide = true, value_name = "N")]
    pub stop_after_rows: Option<u64>,
}

pub(super) fn run(cfg: &Desk, cmd: DbCmd) -> anyhow::Result<i32> {
    let rt = super::runtime()?;
    match cmd {
        DbCmd::Migrate => match cfg.database.postgres()? {
            None => {
                let path = &cfg.database.path;
                let m = pg::migrate::migrate_sqlite(
                    path,
                    std::time::Duration::from_millis(cfg.database.busy_timeout_ms),
                )
                .with_context(|| format!("database `{}`", path.display()))?;
                println!("{}", said("sqlite", &path.display().to_string(), m));
                Ok(0)
            }
            Some(target) => rt.block_on(async {
                let pool = pg::connect(&target).await?;
                let mut obj = pool.get().await.map_err(pg::PgError::from)?;
                let m = pg::migrate::migrate_pg(&mut obj).await?;
                println!("{}", said("postgresql", &database::redact(&target.url), m));
                Ok(0)
            }),
        },
        DbCmd::Copy(args) => {
            let target = copy_target(cfg, &args)?;
            let source = args
                .from
                .clone()
                .unwrap_or_else(|| cfg.database.path.clone());
            if source.as_os_str().is_empty() || !source.is_file() {
                bail!(
                    "db copy: no SQLite desk at `{}`; name it with --from FILE or [database] path",
                    source.display()
                );
            }
            let dir = cfg.attachments.dir.clone();
            let read_blob = move |sha: &str| crate::pipeline::files::read_verified(&dir, sha);
            let mut progress = |line: &str| eprintln!("{line}");
            rt.block_on(async {
                let pool = pg::connect(&target).await?;
                let mut obj = pool.get().await.map_err(pg::PgError::from)?;
                let report = pg::copy::copy(
                    &source,
                    &mut obj,
                    pg::copy::CopyOptions {
                        chunk_rows: args.chunk_rows.max(1),
                        stop_after_rows: args.stop_after_rows,
                        read_blob: &read_blob,
                        progress: &mut progress,
                    },
                )
                .await?;
                println!(
                    "db copy: `{}` → {}: {} rows copied in this run; {} tables and {} attachment files verified (source id {})",
                    source.display(),
                    database::redact(&target.url),
                    report.rows_copied,
                    report.tables.len() - 1,
                    report.tables.last().map_or(0, |t| t.rows),
                    report.source_id
                );
                Ok(0)
            })
        }
    }
}

fn said(engine: &str, place: &str, m: pg::migrate::Migrated) -> String {
    if m.from == m.to {
        format!("{engine} `{place}`: schema version {} (up to date)", m.to)
    } else {
        format!(
            "{engine} `{place}`: schema version {} (was {})",
            m.to, m.from
        )
    }
}

/// `--to` and its flags, or `[database]` when kind = "postgres".
fn copy_target(cfg: &Desk, args: &CopyArgs) -> anyhow::Result<PgTarget> {
    let Some(url) = &args.to else {
        return cfg.database.postgres()?.ok_or_else(|| {
            anyhow::anyhow!(
                "db copy: no target: give --to postgresql://user@host/dbname, or set [database] kind = \"postgres\" with its url in {}",
                cfg.source_path.display()
            )
        });
    };
    let sslmode = match &args.sslmode {
        None => None,
        Some(s) => Some(SslMode::parse(s).ok_or_else(|| {
            anyhow::anyhow!("--sslmode: `{s}` is not disable, require or verify-full")
        })?),
    };
    database::check_postgres(url, sslmode, args.ca_file.as_deref(), 2).map_err(
        |(key, reason)| {
            let flag = match key {
                "url" => "--to",
                "sslmode" => "--sslmode",
                "ca_file" => "--ca-file",
                other => other,
            };
            anyhow::anyhow!("{flag}: {reason}")
        },
    )?;
    let hosts = database::url_facts(url)
        .map(|f| f.hosts)
        .unwrap_or_default();
    Ok(PgTarget {
        url: url.clone(),
        password: crate::config::read_secret(
            args.password_file.as_deref(),
            args.password_env.as_deref(),
            "db copy (--password-file / --password-env)",
        )?,
        sslmode: database::effective_sslmode(sslmode, &hosts),
        ca_file: args.ca_file.clone(),
        pool_size: 2,
        given_by: "--to, --password-file/--password-env, --sslmode and --ca-file",
    })
}
