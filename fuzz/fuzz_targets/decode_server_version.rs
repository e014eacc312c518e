//! See [`ews_fuzz::decode::decode_server_version`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::decode::decode_server_version(data);
});
