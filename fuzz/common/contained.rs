//! Panics ticketd contains on purpose are not findings.
//!
//! libFuzzer's panic hook aborts on every panic, even one that is caught.
//! ticketd runs mail-parser (third-party code on hostile bytes) inside
//! `catch_unwind` and reads the letter as plain text when it panics; the
//! fuzz build has debug assertions on, so mail-parser's own
//! `debug_assert!`s (no-ops in a release build) fire too. A panic raised
//! in mail-parser's sources is therefore let through to ticketd's guard;
//! any other panic still aborts and is a finding.

use std::sync::Once;

pub fn contain_mail_parser_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_mail_parser = info
                .location()
                .is_some_and(|l| l.file().contains("/mail-parser-"));
            if !in_mail_parser {
                abort(info);
            }
        }));
    });
}
