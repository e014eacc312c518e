//! See [`ews_fuzz::decode::decode_envelope`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::decode::decode_envelope(data);
});
