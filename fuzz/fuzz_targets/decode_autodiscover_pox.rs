//! See [`ews_fuzz::autodiscover::pox`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::autodiscover::pox(data);
});
