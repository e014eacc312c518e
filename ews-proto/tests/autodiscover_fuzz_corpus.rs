//! Replays the committed corpora of the Autodiscover fuzz targets
//! (`fuzz/corpus/decode_autodiscover_{soap,pox}`, see FUZZING.md) on the stable
//! toolchain with the targets' own checks (their source file is included below), every
//! file through both decoders.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/autodiscover.rs"]
mod autodiscover;

#[test]
fn the_autodiscover_corpora_replay_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut failures = Vec::new();
    let mut count = 0;
    for target in ["decode_autodiscover_soap", "decode_autodiscover_pox"] {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} is empty", dir.display());
        for path in files {
            let data = std::fs::read(&path).expect("readable corpus file");
            count += 1;
            let replayed = catch_unwind(AssertUnwindSafe(|| {
                autodiscover::soap(&data);
                autodiscover::pox(&data);
            }));
            if replayed.is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(count > 100, "{count} files");
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
}
