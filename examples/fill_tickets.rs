//! Fill a desk's database with synthetic tickets through the store's
//! interface (`scripts/bench-reports`): no letters are parsed, so a million
//! tickets take minutes. Each ticket gets a registration, most a proposed
//! solution by an engineer, many a confirmation, some an escalation — the
//! same history rows, and so the same recorded facts, as the pipeline's.
//!
//! `cargo run --release --example fill_tickets -- CONFIG N [DAYS]`: N
//! tickets spread over the DAYS (default 365) before now.

use chrono::{Duration, Utc};
use std::sync::Arc;
use ticketd::desk::Desk;
use ticketd::parse::Form;
use ticketd::store::tickets::{HistoryRow, Ticket};
use ticketd::store::{ts, Store};
use ticketd::workflow::status::{Actor, Kind, Line, Status};

const ORGS: [&str; 8] = [
    "Министерство финансов Калининградской области",
    "Министерство здравоохранения Калининградской области",
    "Министерство социальной политики Калининградской области",
    "Правительство Калининградской области",
    "Министерство образования Калининградской области",
    "Агентство по архитектуре",
    "Служба государственного строительного надзора",
    "Министерство культуры и туризма",
];

/// A small deterministic generator (xorshift): the same N gives the same
/// database.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn row(
    at: chrono::DateTime<Utc>,
    actor: &str,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> HistoryRow {
    HistoryRow {
        at: ts(at),
        actor: actor.into(),
        action: action.into(),
        from: from.map(Into::into),
        to: to.map(Into::into),
        detail: None,
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(config), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok()))
    else {
        anyhow::bail!("usage: fill_tickets CONFIG N [DAYS]");
    };
    let days: i64 = args.get(3).and_then(|d| d.parse().ok()).unwrap_or(365);
    let cfg = Arc::new(Desk::load(std::path::Path::new(config))?);
    let mut store = Store::open(&cfg.database.path, std::time::Duration::from_secs(30))?;
    store.set_calendar(&cfg.workflow.calendar)?;
    let priorities: Vec<String> = cfg
        .workflow
        .priorities
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let prefix = cfg.tickets.prefix.clone();
    let now = Utc::now();
    let start = now - Duration::days(days);
    let step = (days * 86_400_000) / n.max(1) as i64;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t0 = std::time::Instant::now();
    const BATCH: u64 = 20_000;
    let mut i = 0;
    while i < n {
        store.batch_begin()?;
        for _ in 0..BATCH.min(n - i) {
            let created = start + Duration::milliseconds(step * i as i64);
            let unit = store.unit()?;
            let id = unit.allocate_id(&prefix, created)?;
            let kind = Kind::ALL[rng.below(3) as usize];
            let line = Line::ALL[rng.below(3) as usize];
            let priority = priorities[rng.below(priorities.len() as u64) as usize].clone();
            let user = format!(
                "user{}@agency{}.example.org",
                rng.below(5000),
                rng.below(50)
            );
            let deadline = ticketd::workflow::add_working_time(
                created,
                Duration::hours(4 + 4 * rng.below(4) as i64),
                &cfg.workflow.calendar,
            );
            let mut t = Ticket::default();
            t.id = id.clone();
            t.kind = kind;
            t.priority = priority;
            t.line = line;
            t.requester = user.clone();
            t.reply_to = user.clone();
            t.subject = format!("Обращение {i}: не открывается карточка документа");
            t.form = Form {
                organization: Some(ORGS[rng.below(ORGS.len() as u64) as usize].into()),
                full_name: Some("Иванова Мария Сергеевна".into()),
                location: Some(format!("каб. {}, {} этаж", 100 + rng.below(400), 1 + rng.below(5))),
                phone: Some(format!("+7401255{:04}", rng.below(10_000))),
                description: Some(
                    "При открытии карточки входящего документа появляется ошибка «Объект не найден»."
                        .into(),
                ),
                ..Default::default()
            };
            t.created_at = created;
            t.updated_at = created;
            t.deadline = Some(deadline);
            if line != Line::First {
                let _ = t.move_to(Status::Assigned, &Actor::System);
            }
            unit.insert_ticket(&t)?;
            unit.add_history(
                &id,
                &row(created, "system", "created", None, Some("new")),
                None,
            )?;
            let roll = rng.below(100);
            if roll < 10 {
                unit.add_history(&id, &row(deadline, "system", "escalated", None, None), None)?;
            }
            if roll < 80 {
                let eng = format!("eng{}@sed.example.org", rng.below(12));
                let at = created + Duration::minutes(30 + rng.below(60 * 24 * 3) as i64);
                let actor = Actor::Engineer {
                    line: if line == Line::Third {
                        Line::Second
                    } else {
                        line
                    },
                    address: eng.clone(),
                };
                let from = t.status();
                if t.move_to(Status::SolutionProposed, &actor).is_ok() {
                    unit.add_history(
                        &id,
                        &row(
                            at,
                            &eng,
                            "command",
                            Some(from.machine_name()),
                            Some("solution_proposed"),
                        ),
                        None,
                    )?;
                    t.updated_at = at;
                    if roll < 55 {
                        let at = at + Duration::hours(1 + rng.below(48) as i64);
                        let who = Actor::User {
                            address: user.clone(),
                        };
                        if t.move_to(Status::Confirmed, &who).is_ok() {
                            unit.add_history(
                                &id,
                                &row(
                                    at,
                                    &format!("user:{user}"),
                                    "confirmed",
                                    Some("solution_proposed"),
                                    Some("confirmed"),
                                ),
                                None,
                            )?;
                            t.updated_at = at;
                        }
                    }
                    unit.update_ticket(&t)?;
                }
            }
            unit.commit()?;
            i += 1;
        }
        store.batch_commit()?;
        eprint!("\r{i} tickets, {:.0} s", t0.elapsed().as_secs_f64());
    }
    eprintln!();
    store.checkpoint()?;
    println!("{n} tickets in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
