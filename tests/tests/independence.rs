//! The simulator is an independent oracle: no file of it names the core it checks.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the simulator's folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_simulator_shares_no_code_with_the_core() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim"),
        &mut files,
    );
    assert!(files.len() >= 5, "found the simulator: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for name in ["ews_proto", "ews_blocking", "ews_async", "crate::tour"] {
            assert!(!text.contains(name), "{} mentions {name}", file.display());
        }
    }
}
