//! The wake hook's hand-written HTTP request reader (outside bytes from
//! the network): where a head ends and what it asks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketd::source::wake::{head_end, judge};

fuzz_target!(|data: &[u8]| {
    if let Some(end) = head_end(data) {
        assert!(end <= data.len());
        let _ = judge(&data[..end]);
    }
    let _ = judge(data);
});
