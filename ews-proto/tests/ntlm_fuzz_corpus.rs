//! Replays the committed corpus of the `decode_ntlm` fuzz target (`fuzz/corpus/decode_ntlm/*`,
//! see FUZZING.md) on the stable toolchain, through the very checks the target runs
//! (`fuzz/src/ntlm.rs`, included below). Crashes the fuzzer finds go into the corpus as
//! `crash-*` files, so that this test keeps them fixed.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use ews_proto::ntlm::{ChannelBinding, NtlmClient, SpnegoClient};

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/ntlm.rs"]
mod checks;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/decode_ntlm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_the_checks() {
    let files = corpus();
    assert!(!files.is_empty(), "fuzz/corpus/decode_ntlm is empty");
    let failures: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable corpus file");
            catch_unwind(AssertUnwindSafe(|| checks::run(&data))).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
}

/// The seeds reach the paths they were written for (not just an early error).
#[test]
fn seeds_take_the_success_paths() {
    let seed = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus/decode_ntlm")
            .join(name);
        std::fs::read(path).expect("a seed")[1..].to_vec()
    };
    for name in [
        "seed-challenge-spec",
        "seed-challenge-exchange-like",
        "seed-challenge-timestamp-flags",
    ] {
        let mut c = NtlmClient::new(
            checks::credentials(),
            "h",
            ChannelBinding::None,
            checks::inputs(),
        );
        c.negotiate().unwrap();
        c.authenticate(&seed(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let mut s = SpnegoClient::new(NtlmClient::new(
        checks::credentials(),
        "h",
        ChannelBinding::None,
        checks::inputs(),
    ));
    s.init_token().unwrap();
    s.respond(&seed("seed-spnego-challenge")).unwrap();
    for name in ["seed-cert-ecdsa-sha384", "seed-cert-rsa-pss-sha512"] {
        ChannelBinding::from_leaf_certificate(&seed(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
