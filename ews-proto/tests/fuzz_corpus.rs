//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`, see FUZZING.md) on the
//! stable toolchain, with the very checks the fuzz targets run (their source files are
//! included below): every file goes through every operation's decoder, the envelope and
//! HTTP-status reader and the `ServerVersionInfo` reader; the `encode_roundtrip` inputs are
//! also built into operations, encoded and read back with roxmltree. No panic, no broken
//! invariant.
//!
//! Crashes the fuzzers find are added to the corpus (as `crash-*` files) so that this
//! test keeps them fixed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/decode.rs"]
mod decode;
#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/roundtrip.rs"]
mod roundtrip;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

/// Every file of `fuzz/corpus/<target>`, sorted.
fn files(target: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every file of every `targets`, reporting all files that panic.
fn replay(targets: &[&str], check: impl Fn(&[u8])) {
    let mut failures = Vec::new();
    let mut count = 0;
    for target in targets {
        let list = files(target);
        assert!(!list.is_empty(), "fuzz/corpus/{target} is empty");
        for path in list {
            let data = std::fs::read(&path).expect("readable corpus file");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(count > 0);
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
}

const DECODE_TARGETS: &[&str] = &[
    "decode_add_delegate",
    "decode_get_delegate",
    "decode_update_delegate",
    "decode_remove_delegate",
    "decode_create_item",
    "decode_get_item",
    "decode_delete_item",
    "decode_find_item",
    "decode_update_item",
    "decode_cancel_meeting",
    "decode_respond_to_meeting",
    "decode_ntlm",
    "decode_envelope",
    "decode_server_version",
    // Replayed through the Autodiscover decoders by `autodiscover_fuzz_corpus.rs`.
    "decode_autodiscover_soap",
    "decode_autodiscover_pox",
];

#[test]
fn every_target_has_a_committed_corpus() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus_root())
        .expect("fuzz/corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut expected: Vec<&str> = DECODE_TARGETS.to_vec();
    expected.push("encode_roundtrip");
    expected.sort_unstable();
    assert_eq!(dirs, expected);
}

/// Every file of one target's corpus through every decoder (one test per target, so that
/// the test harness replays them in parallel).
fn through_every_decoder(target: &str) {
    replay(&[target], |data| {
        decode::decode_all(data);
        decode::decode_envelope(data);
        decode::decode_server_version(data);
    });
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                through_every_decoder(stringify!($name));
            }
        )*
    };
}

replay_tests!(
    decode_add_delegate,
    decode_get_delegate,
    decode_update_delegate,
    decode_remove_delegate,
    decode_create_item,
    decode_get_item,
    decode_delete_item,
    decode_find_item,
    decode_update_item,
    decode_cancel_meeting,
    decode_respond_to_meeting,
    decode_envelope,
    decode_server_version,
);

#[test]
fn encode_roundtrip() {
    through_every_decoder("encode_roundtrip");
    replay(&["encode_roundtrip"], roundtrip::run);
}
