//! The get_item response decoder over arbitrary bodies (status 200), with the default limits
//! and with tight ones; a series it reads writes back (`write_back`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::decode::decode_get_item(data);
});
