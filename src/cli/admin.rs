//! Admin commands: `check-config`, `outbox`, `status` (`quarantine` is
//! [`super::quarantine`]).

use super::tickets::open;
use super::OutboxCmd;
use crate::clock::Clock;
use crate::desk::Desk;
use crate::outbox::compose::Composer;
use crate::store::outbox::OutboxRow;
use crate::store::suppressed::SuppressedRow;
use crate::store::Store;
use crate::workflow::status::Status;
use anyhow::{bail, Context};

/// Checks beyond loading: templates render, addresses compose.
pub(super) fn check_config(cfg: &Desk) -> anyhow::Result<()> {
    Composer::new(cfg).with_context(|| format!("config `{}`", cfg.source_path.display()))?;
    if let Some(addr) = cfg.web.as_ref().and_then(|w| w.listen_addr().ok()) {
        // Free now, or `ticketd run` cannot serve the form.
        if let Err(e) = std::net::TcpListener::bind(addr) {
            let text = std::fs::read_to_string(&cfg.source_path).unwrap_or_default();
            return Err(crate::config::ConfigError::invalid(
                &cfg.source_path,
                &text,
                "web.listen",
                format!(
                    "cannot listen on {addr}: {e} (another program holds the port — `ss -ltnp` names it — or the daemon already runs)"
                ),
            )
            .into());
        }
    }
    for w in cfg.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(())
}

pub(super) fn outbox(cfg: &Desk, cmd: OutboxCmd, clock: &dyn Clock) -> anyhow::Result<i32> {
    let store = open(cfg)?;
    match cmd {
        OutboxCmd::List {
            status,
            limit,
            json,
        } => {
            let rows = outbox_rows(&store, status.as_deref(), limit)?;
            if json {
                let v: Vec<serde_json::Value> = rows.iter().map(ListRow::json).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if rows.is_empty() {
                println!("Исходящих писем нет.");
            } else {
                for r in rows {
                    match r {
                        ListRow::Letter(r) => say!(
                            "{:>6}  {:<7}  {:<14}  {:<16}  {}  attempts {}{}",
                            r.id,
                            r.status,
                            r.kind,
                            r.ticket_id.as_deref().unwrap_or("-"),
                            r.recipients.join(", "),
                            r.attempts,
                            r.last_error
                                .map(|e| format!("  last error: {e}"))
                                .unwrap_or_default()
                        ),
                        ListRow::Held(h) => say!(
                            "{:>6}  {:<7}  {:<14}  {:<16}  {}",
                            "-",
                            "suppressed",
                            h.kind,
                            h.ticket_id,
                            h.reason
                        ),
                    }
                }
            }
            Ok(0)
        }
        OutboxCmd::Retry { id, all } => {
            if id.is_none() && !all {
                bail!(
                    "name a letter (`ticketd outbox retry ID`) or use `--all` for every failed one"
                );
            }
            let n = store.outbox_retry(id, clock.now())?;
            println!("requeued {n} letter(s); a running daemon sends them within 30 s (or run `ticketd run --once`)");
            Ok(0)
        }
    }
}

/// A row of `outbox list`: a queued letter, or one held back by the loop
/// limits (never queued: it has no outbox id).
enum ListRow {
    Letter(OutboxRow),
    Held(SuppressedRow),
}

impl ListRow {
    fn at(&self) -> &str {
        match self {
            ListRow::Letter(r) => &r.created_at,
            ListRow::Held(h) => &h.at,
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            ListRow::Letter(r) => serde_json::to_value(r).unwrap_or_default(),
            ListRow::Held(h) => serde_json::json!({
                "id": null,
                "status": "suppressed",
                "kind": h.kind,
                "ticket_id": h.ticket_id,
                "recipients": [],
                "created_at": h.at,
                "reason": h.reason,
            }),
        }
    }
}

/// The statuses `outbox list --status` takes.
const LIST_STATUSES: [&str; 4] = ["pending", "sent", "failed", "suppressed"];

/// Queued letters and held-back ones, newest first, at most `limit`.
fn outbox_rows(store: &Store, status: Option<&str>, limit: usize) -> anyhow::Result<Vec<ListRow>> {
    if let Some(s) = status.filter(|s| !LIST_STATUSES.contains(s)) {
        bail!("--status `{s}`: use one of {}", LIST_STATUSES.join(", "));
    }
    let mut rows: Vec<ListRow> = Vec::new();
    if status != Some("suppressed") {
        rows.extend(
            store
                .outbox_list(status, limit)?
                .into_iter()
                .map(ListRow::Letter),
        );
    }
    if status.is_none() || status == Some("suppressed") {
        rows.extend(
            store
                .suppressed_latest(limit)?
                .into_iter()
                .map(ListRow::Held),
        );
    }
    // Stored times are RFC 3339 in UTC: as strings they sort in time.
    rows.sort_by(|a, b| b.at().cmp(a.at()));
    rows.truncate(limit);
    Ok(rows)
}

/// The daemons alive on the database (`ticketd status`): each with its
/// host and pid, the mailboxes it reads and since when, the timers.
fn print_daemons(daemons: &[crate::store::cluster::DaemonRow]) {
    if daemons.is_empty() {
        println!("Демоны: не запущены");
        return;
    }
    println!("Демоны ({}):", daemons.len());
    for d in daemons {
        let held: Vec<String> = d
            .mailboxes
            .iter()
            .map(|m| format!("{} с {}", m.name, m.since))
            .collect();
        say!(
            "  {} (узел {}, pid {}): ящики: {}{}",
            d.id,
            d.host,
            d.pid,
            if held.is_empty() {
                "—".to_string()
            } else {
                held.join(", ")
            },
            if d.leader {
                "; таймеры (лидер)"
            } else {
                ""
            }
        );
    }
}

/// How many held-back letters `status` lists.
const STATUS_SUPPRESSED: usize = 5;

pub(super) fn status(cfg: &Desk, json: bool, clock: &dyn Clock) -> anyhow::Result<i32> {
    let store = open(cfg)?;
    let suppressed_total = store.suppressed_count(None)?;
    let suppressed_day =
        store.suppressed_count(Some(crate::workflow::loops::window_start(clock.now())))?;
    let suppressed = store.suppressed_latest(STATUS_SUPPRESSED)?;
    let by_status = store.count_by_status()?;
    let quarantined = store.quarantine_list(false)?.len();
    let rate_limited = store.quarantined_by_rate_limit()?;
    let backlog = store.outbox_backlog()?;
    let last_sync = store.state_get(&cfg.mailbox.state_key(crate::source::imap::KEY_LAST_SYNC))?;
    let oauth2 = oauth2_problems(&store)?;
    // The SMTP server refused every connection at the last try: since when
    // and its words (written by the sender; empty once it works again).
    let outbox_blocked: Option<serde_json::Value> = store
        .state_get(crate::outbox::sender::BLOCKED_STATE)?
        .filter(|v| !v.is_empty())
        .and_then(|v| serde_json::from_str(&v).ok());
    let ack_error = imap_ack_error(&store, &cfg.mailbox)?;
    let daemons = store.daemons_alive(clock.now())?;
    let mailboxes = mailbox_states(&store, &cfg.mailboxes)?;
    if json {
        let v = serde_json::json!({
            "tickets": by_status.iter().map(|(s, n)| (s.clone(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "quarantined": quarantined,
            "quarantined_rate_limited": rate_limited,
            "outbox": backlog,
            "suppressed": {"total": suppressed_total, "last_24h": suppressed_day, "latest": suppressed},
            "imap_last_sync": last_sync,
            "oauth2": oauth2.iter().map(|(s, p)| (*s, p)).collect::<std::collections::BTreeMap<_, _>>(),
            "outbox_blocked": outbox_blocked,
            "imap_error": ack_error.as_ref().map(|(message, since)| serde_json::json!({"message": message, "since": since})),
            "daemons": daemons,
            "mailboxes": mailboxes,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!("Обращения по статусам:");
    for st in Status::ALL {
        let n = by_status
            .iter()
            .find(|(s, _)| s == st.machine_name())
            .map_or(0, |(_, n)| *n);
        println!("  {:<26} {n}", st.display_name());
    }
    println!("В карантине: {quarantined}");
    if rate_limited > 0 {
        println!("  из них по ограничению частоты (rate limit, [loops]): {rate_limited}");
    }
    println!(
        "Исходящие: ожидают {}, не доставлены {}, самое старое ожидающее: {}",
        backlog.pending,
        backlog.failed,
        backlog.oldest_pending.as_deref().unwrap_or("—")
    );
    if suppressed_total > 0 {
        println!(
            "Не отправлены (пределы автоматических писем, [loops]): за 24 часа {suppressed_day}, всего {suppressed_total}; последние:"
        );
        for h in &suppressed {
            say!(
                "  {}  {}  {}: {}",
                super::tickets::local_stored(&h.at, cfg.workflow.calendar.time_zone()),
                h.ticket_id,
                h.kind,
                h.reason
            );
        }
        println!("  (все: `ticketd outbox list --status suppressed`)");
    }
    if let Some(b) = &outbox_blocked {
        println!(
            "Исходящие ЗАБЛОКИРОВАНЫ с {}: SMTP-сервер не принимает соединение: {}",
            b["since"].as_str().unwrap_or("?"),
            b["message"].as_str().unwrap_or("?")
        );
    }
    if cfg.mailboxes.len() == 1 {
        if let Some(t) = last_sync {
            println!("Последняя синхронизация IMAP: {t}");
        }
    } else {
        println!("Почтовые ящики:");
    }
    for m in &mailboxes {
        let name = m["name"].as_str().unwrap_or("?");
        if cfg.mailboxes.len() > 1 {
            say!(
                "  {name}: последняя синхронизация {}",
                m["last_sync"].as_str().unwrap_or("—")
            );
        }
        if let Some(e) = m["last_error"].as_object() {
            say!(
                "  {name}: ОШИБКА с {}: {}",
                e.get("at").and_then(|v| v.as_str()).unwrap_or("?"),
                e.get("message").and_then(|v| v.as_str()).unwrap_or("?")
            );
        }
    }
    print_daemons(&daemons);
    if let Some((message, since)) = ack_error {
        say!("IMAP: письма не перемещаются в папку обработанных с {since}: {message}; они помечаются прочитанными (\\Seen) и остаются в папке");
    }
    for (section, p) in &oauth2 {
        if let Some(p) = p {
            println!(
                "OAuth2 [{section}]: токен не получен с {}: {}",
                p.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                p.error
            );
        }
    }
    Ok(0)
}

/// Each mailbox's `{name, kind, last_sync, last_error}` for `status`
/// (`last_error`: `{at, message}` of the connection's failure since the
/// last complete sync, or null).
fn mailbox_states(
    store: &crate::store::Store,
    mailboxes: &[crate::config::Mailbox],
) -> anyhow::Result<Vec<serde_json::Value>> {
    use crate::source::imap::{KEY_LAST_ERROR, KEY_LAST_SYNC};
    mailboxes
        .iter()
        .map(|m| {
            let last_sync = store.state_get(&m.state_key(KEY_LAST_SYNC))?;
            let last_error: Option<serde_json::Value> = store
                .state_get(&m.state_key(KEY_LAST_ERROR))?
                .filter(|v| !v.is_empty())
                .and_then(|v| serde_json::from_str(&v).ok());
            Ok(serde_json::json!({
                "name": m.name(),
                "kind": match m.kind() {
                    crate::config::MailboxKind::Maildir => "maildir",
                    crate::config::MailboxKind::Imap => "imap",
                },
                "last_sync": last_sync,
                "last_error": last_error,
            }))
        })
        .collect()
}

/// The IMAP source's refusal of the processed folder (message, since), if any.
fn imap_ack_error(
    store: &crate::store::Store,
    mailbox: &crate::config::Mailbox,
) -> anyhow::Result<Option<(String, String)>> {
    use crate::source::imap::ack::{KEY_ACK_ERROR, KEY_ACK_ERROR_SINCE};
    let message = store
        .state_get(&mailbox.state_key(KEY_ACK_ERROR))?
        .filter(|m| !m.is_empty());
    Ok(match message {
        Some(m) => Some((
            m,
            store
                .state_get(&mailbox.state_key(KEY_ACK_ERROR_SINCE))?
                .unwrap_or_default(),
        )),
        None => None,
    })
}

/// The token failures recorded by `crate::oauth2` (`null` when all is well).
fn oauth2_problems(
    store: &crate::store::Store,
) -> anyhow::Result<Vec<(&'static str, Option<crate::oauth2::Problem>)>> {
    ["mailbox", "outgoing"]
        .into_iter()
        .map(|s| {
            let v = store.state_get(&crate::oauth2::state_key(s))?;
            Ok((s, crate::oauth2::read_problem(v.as_deref())))
        })
        .collect()
}

/// `ticketd route explain`: classification and routing of a ticket or letter.
pub(super) fn route_explain(
    cfg: &Desk,
    id: Option<String>,
    letter: Option<std::path::PathBuf>,
) -> anyhow::Result<i32> {
    use crate::workflow::rules::TicketFacts;
    let wf = &cfg.workflow;
    let (title, facts) = match (id, letter) {
        (_, Some(path)) => {
            let raw = std::fs::read(&path)
                .with_context(|| format!("reading letter `{}`", path.display()))?;
            let parsed = crate::parse::parse_letter(&raw, &cfg.parse_options());
            let mut facts = TicketFacts::from_letter(&parsed);
            let class = wf.classify(&facts);
            say!("Classification: {}", class.explain());
            facts.kind = class.kind;
            facts.priority = class.priority;
            (format!("letter {}", path.display()), facts)
        }
        (Some(id), None) => {
            let id = id.trim().trim_matches(['[', ']']).to_uppercase();
            let store = open(cfg)?;
            let Some(t) = store.ticket_full(&id)? else {
                bail!("no ticket `{id}`; `ticketd tickets list` shows the existing ones");
            };
            (format!("ticket {id}"), crate::pipeline::ticket_facts(&t))
        }
        (None, None) => bail!("name a ticket ID or `--letter FILE`"),
    };
    say!(
        "Facts of {title}: kind {}, priority {}, sender {}, organisation {}, attachments: {}",
        facts.kind.machine_name(),
        facts.priority,
        facts.sender,
        facts.organization.as_deref().unwrap_or("—"),
        if facts.has_attachments { "yes" } else { "no" }
    );
    if wf.routes.is_empty() {
        say!(
            "No [[routes]] in `{}`: nothing is routed.",
            cfg.source_path.display()
        );
    } else {
        say_part!("{}", wf.explain_route(&facts));
    }
    Ok(0)
}
