//! The desk's key: proofs of receipt, status links, form tokens and
//! registration addresses are all HMACs under it
//! ([`crate::workflow::token`], [`crate::workflow::signed`]).

use super::IngestError;
use crate::desk::Desk;
use crate::store::Store;
use crate::workflow::token::ReplyKey;

/// State key of the generated proof-of-receipt key (used when
/// `[commands] secret_file` is not set).
const KEY_STATE: &str = "commands.key";

/// The HMAC key for proofs of receipt: from `[commands] secret_file`, or
/// generated once and kept in the database, so that commands by reply work
/// out of the box and the secret is never in the config.
pub(super) fn reply_key(cfg: &Desk, store: &Store) -> Result<ReplyKey, IngestError> {
    let bytes = match &cfg.workflow.secret_file {
        Some(f) => std::fs::read(f).map_err(|e| {
            IngestError::Key(format!(
                "cannot read `{}` ([commands] secret_file): {e}",
                f.display()
            ))
        })?,
        None => match store
            .state_get(KEY_STATE)?
            .and_then(|h| hex::decode(h).ok())
        {
            Some(b) => b,
            None => {
                let b: [u8; 32] = rand::random();
                store.state_set(KEY_STATE, &hex::encode(b))?;
                b.to_vec()
            }
        },
    };
    ReplyKey::from_bytes(&bytes).map_err(|e| IngestError::Key(e.to_string()))
}
