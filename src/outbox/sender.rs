//! Delivering the outbox: due rows → transport → marked sent, retried or
//! failed.
//!
//! The retry policy is a pure function ([`next_attempt`]); the loop asks the
//! transport's error whether it is transient, never its internals.

use super::file::FileTransport;
use super::{QueuedLetter, SendError};
use crate::config::Outgoing;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};

/// The ways a letter can leave.
pub enum Transport {
    File(FileTransport),
    Smtp(Box<super::smtp::SmtpTransport>),
}

impl Transport {
    pub fn from_config(cfg: &Outgoing) -> Result<Transport, SendError> {
        match cfg.kind {
            crate::config::OutgoingKind::File => {
                let dir = cfg
                    .dir
                    .clone()
                    .ok_or_else(|| SendError::permanent("outgoing.dir is not set"))?;
                Ok(Transport::File(FileTransport::new(dir)))
            }
            crate::config::OutgoingKind::Smtp => Ok(Transport::Smtp(Box::new(
                super::smtp::SmtpTransport::new(cfg)?,
            ))),
        }
    }

    pub async fn send(&self, letter: &QueuedLetter) -> Result<(), SendError> {
        match self {
            Transport::File(f) => f.send(letter),
            Transport::Smtp(s) => s.send(letter).await,
        }
    }
}

/// What a delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Retry schedule: `base * 2^attempts`, capped; `None` once the letter is
/// older than the give-up age (it is then marked failed).
pub fn next_attempt(
    now: DateTime<Utc>,
    created: DateTime<Utc>,
    attempts: i64,
    cfg: &Outgoing,
) -> Option<DateTime<Utc>> {
    if now - created >= Duration::hours(cfg.give_up_hours as i64) {
        return None;
    }
    let exp = attempts.clamp(0, 30) as u32;
    let wait = cfg
        .retry_base_secs
        .saturating_mul(1u64 << exp)
        .min(cfg.retry_cap_secs);
    Some(now + Duration::seconds(wait as i64))
}

/// Send everything due now, in batches, until nothing due is left.
pub async fn deliver_due(
    store: &mut Store,
    transport: &Transport,
    cfg: &Outgoing,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    loop {
        let now = Utc::now();
        let batch = store.outbox_due(now, 64)?;
        if batch.is_empty() {
            return Ok(report);
        }
        let mut progressed = false;
        for letter in &batch {
            match transport.send(letter).await {
                Ok(()) => {
                    store.outbox_mark_sent(letter.id, Utc::now())?;
                    tracing::info!(message_id = %letter.message_id, "letter sent");
                    report.sent += 1;
                    progressed = true;
                }
                Err(e) if e.is_transient() => {
                    match next_attempt(Utc::now(), letter.created_at, letter.attempts, cfg) {
                        Some(next) => {
                            tracing::warn!(message_id = %letter.message_id, error = %e, retry_at = %next, "delivery failed, will retry");
                            store.outbox_mark_retry(letter.id, next, &e.to_string())?;
                            report.retried += 1;
                        }
                        None => {
                            tracing::error!(message_id = %letter.message_id, error = %e, "delivery failed for too long, giving up");
                            store.outbox_mark_failed(letter.id, &format!("gave up: {e}"))?;
                            report.failed += 1;
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(message_id = %letter.message_id, error = %e, "delivery refused");
                    store.outbox_mark_failed(letter.id, &e.to_string())?;
                    report.failed += 1;
                }
            }
        }
        if !progressed {
            return Ok(report);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Outgoing {
        toml::from_str("kind = \"file\"\ndir = \"x\"\nretry_base_secs = 5\nretry_cap_secs = 60\ngive_up_hours = 1").unwrap()
    }

    #[test]
    fn retry_schedule() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cases = [
            (0, 0, Some(5)),
            (1, 0, Some(10)),
            (3, 0, Some(40)),
            (4, 0, Some(60)),
            (40, 0, Some(60)),
            (2, 3600, None),
        ];
        for (attempts, age, want) in cases {
            let now = t0 + Duration::seconds(age);
            let got = next_attempt(now, t0, attempts, &cfg()).map(|t| (t - now).num_seconds());
            assert_eq!(got, want, "attempts {attempts} age {age}");
        }
    }
}
