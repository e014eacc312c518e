//! Microsoft's XSD, applied inside `cargo test`: every golden request of ews-proto and
//! every response fixture is valid against `../shared/ews-schema` (through its
//! `validate.sh`), and the validator still rejects the shared examples of known mistakes.
//!
//! The golden requests are blessed from the code under test, so this schema check (and
//! `seeds.rs`, which compares with Microsoft's examples) is what holds them to truth the
//! code did not write. Without xmllint every test here fails with the install hint
//! (`apt-get install -y libxml2-utils`); none passes on a lesser check.

mod common;

use std::path::PathBuf;

use common::{files_below, run_validator, schema_dir, validator, workspace_root};

fn proto_tests() -> PathBuf {
    workspace_root().join("ews-proto/tests")
}

/// Shows the files a report is about by their workspace-relative names.
fn listing(files: &[PathBuf]) -> String {
    let root = workspace_root();
    files
        .iter()
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect::<Vec<_>>()
        .join("\n  ")
}

#[test]
fn xmllint_is_there() {
    // Fails first and plainly when the engine is missing (the others fail too).
    validator();
}

#[test]
fn golden_requests_are_schema_valid_with_strict_headers() {
    let files = files_below(&proto_tests().join("golden"), ".request.xml");
    // Every operation, every header and every ExchangeVersionType value (19) has one.
    assert!(files.len() >= 45, "golden requests found: {}", files.len());
    let (ok, report) = run_validator(&["-q", "--strict-headers"], &files);
    assert!(
        ok,
        "golden requests invalid against Microsoft's schema (or carrying a header the WSDL \
         does not bind to their operation):\n{report}\nfiles:\n  {}",
        listing(&files)
    );
}

/// The response fixtures that are valid against the schema: all but the ones made newer
/// than the schema on purpose (an element, a code or a level from the future) and the
/// SOAP 1.2 one.
fn schema_fixtures() -> Vec<PathBuf> {
    files_below(&proto_tests().join("fixtures"), ".xml")
        .into_iter()
        .filter(|p| {
            let name = p.to_string_lossy();
            !name.contains("future") && !name.contains("soap12")
        })
        .collect()
}

#[test]
fn response_fixtures_are_schema_valid() {
    let files = schema_fixtures();
    assert!(
        files.len() >= 15,
        "response fixtures found: {}",
        files.len()
    );
    let (ok, report) = run_validator(&["-q"], &files);
    assert!(
        ok,
        "response fixtures invalid against Microsoft's schema:\n{report}\nfiles:\n  {}",
        listing(&files)
    );
}

#[test]
fn the_excluded_fixtures_are_the_deliberately_invalid_ones() {
    // What the filter above leaves out really is outside the schema: if one of them became
    // valid, it would belong to the checked set.
    let all = files_below(&proto_tests().join("fixtures"), ".xml");
    let checked = schema_fixtures();
    let excluded: Vec<PathBuf> = all.into_iter().filter(|p| !checked.contains(p)).collect();
    assert!(!excluded.is_empty(), "no newer-than-schema fixtures found");
    let (ok, report) = run_validator(&["-q", "--expect-fail"], &excluded);
    assert!(
        ok,
        "an excluded fixture is valid, so it should be checked:\n{report}"
    );
}

#[test]
fn the_validator_still_rejects_the_known_mistakes() {
    let files = files_below(&schema_dir().join("examples/invalid"), ".xml");
    assert!(files.len() >= 10, "invalid examples found: {}", files.len());
    let (ok, report) = run_validator(&["-q", "--expect-fail"], &files);
    assert!(
        ok,
        "the validator accepted an example that must fail:\n{report}"
    );
}

#[test]
fn the_validator_accepts_the_valid_examples() {
    // The other half of the validator's own check: without it, a validator that rejects
    // everything would pass the test above.
    let files = files_below(&schema_dir().join("examples"), ".xml")
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "invalid"))
        .collect::<Vec<_>>();
    assert!(files.len() >= 9, "valid examples found: {}", files.len());
    let (ok, report) = run_validator(&["-q", "--strict-headers"], &files);
    assert!(ok, "a valid shared example was rejected:\n{report}");
}
