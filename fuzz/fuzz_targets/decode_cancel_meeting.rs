//! The cancel_meeting response decoder over arbitrary bodies (status 200), with the default limits
//! and with tight ones.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::decode::decode_body(&ews_fuzz::decode::ops::cancel_meeting(), data);
});
