//! The README's table of the files that adding an operation touches stays true: each
//! operation's type is named (outside comments and `#[cfg(test)]` modules) in every file
//! the table requires, and in no driver file: the two faces take a new operation without
//! a change. Core modules that run a workflow of existing operations (`calendar`, `sync`,
//! the read-back) may name them; that is using an operation, not adding one.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ews-proto sits in the workspace")
        .to_path_buf()
}

/// The `{op}` patterns of the README table, between its markers.
fn listed_files() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let start = readme
        .find("<!-- operation-files")
        .expect("the README marks the table of files adding an operation touches");
    let end = readme[start..]
        .find("<!-- /operation-files -->")
        .expect("the table's end marker")
        + start;
    readme[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            // A `#[cfg(test)] mod tests;` of its own file.
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The code of a source file: comments and `#[cfg(test)] mod tests` left out.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn names(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// `(file stem, type name)` of every operation: the files of `ops/` that implement
/// `Operation`.
fn operations() -> Vec<(String, String)> {
    let ops = workspace().join("ews-proto/src/ops");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&ops).expect("ops dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("op file");
        let Some(i) = text.find("impl Operation for ") else {
            continue;
        };
        let name: String = text[i + "impl Operation for ".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        out.push((stem, name));
    }
    out.sort();
    out
}

#[test]
fn adding_an_operation_touches_the_files_the_readme_lists_and_no_driver() {
    let listed = listed_files();
    assert!(listed.len() >= 3, "the README table lists {listed:?}");
    let required: Vec<&String> = listed
        .iter()
        .filter(|p| {
            ["ops/{op}.rs", "ops/mod.rs", "src/lib.rs"]
                .iter()
                .any(|r| p.ends_with(r))
        })
        .collect();
    assert_eq!(required.len(), 3, "the README table lists {listed:?}");
    let ops = operations();
    assert!(
        ops.len() >= 8,
        "found only {ops:?}: the scan of ews-proto/src/ops is broken"
    );
    let root = workspace();
    let mut drivers = Vec::new();
    for dir in ["ews-blocking/src", "ews-async/src"] {
        rust_files(&root.join(dir), &mut drivers);
    }
    let mut wrong = Vec::new();
    for (stem, name) in &ops {
        for pattern in &required {
            let rel = pattern.replace("{op}", stem);
            let text = std::fs::read_to_string(root.join(&rel)).expect("a listed file");
            if !names(&code(&text), name) {
                wrong.push(format!("{name} is not in {rel}"));
            }
        }
        for file in &drivers {
            let text = std::fs::read_to_string(file).expect("source");
            if names(&code(&text), name) {
                let rel = file.strip_prefix(&root).expect("under the workspace");
                wrong.push(format!("{name} in the driver file {}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the README's list of files an operation touches is not true: {wrong:#?}"
    );
}

#[test]
fn the_scan_sees_a_stray_name() {
    // The checker itself: a name in code counts, one in a comment or a test module does not.
    assert!(names(&code("let op = GetItem::new(id);"), "GetItem"));
    assert!(!names(
        &code("// GetItem here\n/// and [`GetItem`]"),
        "GetItem"
    ));
    assert!(!names(
        &code("fn f() {}\n#[cfg(test)]\nmod tests { GetItem }"),
        "GetItem"
    ));
    assert!(!names(&code("let x = GetItems;"), "GetItem"));
}
