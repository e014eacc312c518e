//! Checks behind the fuzz targets. The decoding checks and the encode round trip live in
//! their own files so that `ews-proto/tests/fuzz_corpus.rs` can replay the committed
//! corpus through exactly the same code on the stable toolchain.

pub mod autodiscover;
pub mod decode;
pub mod ntlm;
pub mod roundtrip;
