//! Pure decisions over plain data: what a letter means for the desk.
//!
//! No I/O here: functions take parsed letters, ticket snapshots and config
//! values and return decisions that the pipeline carries out in the store.
//!
//! * [`intake`]: is a letter a new appeal, a follow-up, something to ignore
//!   or to quarantine.
//! * [`thread`]: ticket tags in subjects and identity of a letter.

pub mod intake;
pub mod thread;
