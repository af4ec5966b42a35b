//! `ticketd lines` (the lines, their engineers, the 1st line's
//! registration addresses for phone appeals) and `ticketd tickets new`
//! (an appeal taken by phone, registered from the command line).

use crate::desk::Desk;
use crate::pipeline::submission::{Channel, NewAppeal};
use crate::pipeline::Pipeline;
use crate::workflow::loops::SenderRole;
use crate::workflow::signed;
use crate::workflow::status::Line;
use anyhow::{bail, Context};
use std::sync::Arc;

fn pipeline(cfg: Desk) -> anyhow::Result<Pipeline> {
    let path = cfg.source_path.display().to_string();
    Pipeline::open(Arc::new(cfg)).with_context(|| format!("opening the desk from `{path}`"))
}

pub(super) fn lines(cfg: Desk, json: bool) -> anyhow::Result<i32> {
    let p = pipeline(cfg)?;
    let wf = &p.config().workflow;
    let reg = |line: Line, e: &str| {
        (line == Line::First).then(|| signed::reg_address(&wf.support_address, e, p.key()))
    };
    if json {
        let v: Vec<serde_json::Value> = wf
            .lines
            .iter()
            .map(|l| {
                serde_json::json!({
                    "number": l.line.number(),
                    "name": l.name,
                    "mailbox": l.mailbox,
                    "engineers": l.engineers.iter().map(|e| serde_json::json!({
                        "address": e,
                        "registration_address": reg(l.line, e),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    if wf.lines.is_empty() {
        println!("Линии не настроены ([[lines]] в конфигурации).");
        return Ok(0);
    }
    for l in &wf.lines {
        let name = l
            .name
            .as_deref()
            .map(|n| format!(" «{n}»"))
            .unwrap_or_default();
        println!("Линия {}{name}: {}", l.line.number(), l.mailbox);
        for e in &l.engineers {
            match reg(l.line, e) {
                Some(r) => println!("  {e}  регистрация звонков: {r}"),
                None => println!("  {e}"),
            }
        }
    }
    println!(
        "\nОбращение по телефону: инженер 1-й линии пишет на свой адрес регистрации форму (таблица 2)\nи строку «Заявитель: адрес@почты» (если у заявителя есть почта)."
    );
    Ok(0)
}

/// `tickets new`'s arguments.
pub(super) struct NewArgs {
    pub channel: String,
    pub requester: Option<String>,
    pub registered_by: Option<String>,
    pub subject: Option<String>,
    pub fields: Vec<String>,
}

const KEYS: [&str; 6] = [
    "organization",
    "full_name",
    "location",
    "phone",
    "description",
    "note",
];

pub(super) fn new_ticket(cfg: Desk, a: &NewArgs) -> anyhow::Result<i32> {
    let channel = match Channel::parse(&a.channel) {
        Some(c @ (Channel::Phone | Channel::Web)) => c,
        Some(Channel::Email) => {
            bail!("a letter is registered by `ticketd ingest FILE`; --channel is phone or web")
        }
        None => bail!("--channel `{}`: phone or web", a.channel),
    };
    let mut values = crate::web::form::Values::new();
    for f in &a.fields {
        let Some((k, v)) = f.split_once('=') else {
            bail!("--field `{f}`: write KEY=VALUE, e.g. --field full_name=\"Иванова Мария\"");
        };
        let k = k.trim();
        if !KEYS.contains(&k) {
            bail!(
                "--field `{k}`: not a form field; one of {}",
                KEYS.join(", ")
            );
        }
        values.insert(k.to_string(), v.to_string());
    }
    let mut p = pipeline(cfg)?;
    let registered_by = match &a.registered_by {
        Some(e) => {
            let e = crate::address::canonical(e);
            if !matches!(p.config().workflow.sender_role(&e), SenderRole::Engineer(_)) {
                bail!("--registered-by `{e}` is not an engineer of any line ([[lines]] engineers)");
            }
            Some(e)
        }
        None => None,
    };
    let form = crate::web::form::form_of(&values, &p.config().desk.default_area_code);
    let subject = a.subject.clone().unwrap_or_else(|| {
        form.description
            .as_deref()
            .and_then(|d| d.lines().next())
            .unwrap_or_default()
            .chars()
            .take(80)
            .collect()
    });
    let requester = a.requester.clone().unwrap_or_default();
    if requester.is_empty() && channel != Channel::Phone {
        bail!(
            "--requester is needed for a {} appeal",
            channel.machine_name()
        );
    }
    let appeal = NewAppeal {
        channel,
        key: format!("cli:{:032x}", rand::random::<u128>()),
        requester,
        subject,
        form,
        text: String::new(),
        files: Vec::new(),
        registered_by,
    };
    let r = p.submit_appeal(appeal)?;
    println!("{}", serde_json::to_string(&r)?);
    Ok(0)
}
