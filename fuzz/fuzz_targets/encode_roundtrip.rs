//! Arbitrary operations and contexts: encoded requests read back the same under roxmltree,
//! or encode refused them for a documented reason. See `ews_fuzz::roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::roundtrip::run(data);
});
