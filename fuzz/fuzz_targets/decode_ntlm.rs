//! NTLM CHALLENGE messages (raw, and base64 inside `WWW-Authenticate: NTLM`), `WWW-Authenticate`
//! values, SPNEGO server tokens and server certificates. See `ews_fuzz::ntlm::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ews_fuzz::ntlm::run(data);
});
