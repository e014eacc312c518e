//! The benchmark corpus, generated on first use by the shared generator.
//!
//! The generator (`gen_corpus.py`, beside the repository in `../shared/bench-corpus`, or
//! wherever `EWS_BENCH_GENERATOR` points) writes byte-identical files on every run. They are
//! never committed: they go to `<dir>/corpus`, where `<dir>` is the bench target's
//! `CARGO_TARGET_TMPDIR`, and are regenerated when the generator changes.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{fs, io};

/// GetDelegate answer with 10,000 delegates (about 9.5 MB).
pub const GET_DELEGATE_10000: &str = "getdelegate_10000.xml";
/// GetItem answer with 1,000 calendar items, each with a ~2 KB HTML body and 5 attendees
/// (about 7.7 MB).
pub const GET_ITEM_CALENDAR_1000: &str = "getitem_calendar_1000.xml";
/// FindItem answer with 1,000 calendar items (no bodies, no attendee lists; about 3.5 MB).
pub const FIND_ITEM_CALENDAR_1000: &str = "finditem_calendar_1000.xml";

/// Where the generator is looked for when `EWS_BENCH_GENERATOR` is not set.
fn default_generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-corpus/gen_corpus.py")
}

/// The generated corpus directory.
#[derive(Debug, Clone)]
pub struct Corpus {
    dir: PathBuf,
}

impl Corpus {
    /// Generates the corpus under `target_tmp` unless an up-to-date copy is there.
    pub fn ensure(target_tmp: impl AsRef<Path>) -> io::Result<Self> {
        let generator = std::env::var_os("EWS_BENCH_GENERATOR")
            .map(PathBuf::from)
            .unwrap_or_else(default_generator);
        let script = fs::read(&generator).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot read the corpus generator {} ({e}); check out ../shared beside \
                     the repository or set EWS_BENCH_GENERATOR",
                    generator.display()
                ),
            )
        })?;
        let stamp = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            script.hash(&mut h);
            format!("{:016x} {}\n", h.finish(), script.len())
        };
        let dir = target_tmp.as_ref().join("ews-bench-corpus");
        let stamp_file = dir.join("generator.stamp");
        if fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
            return Ok(Self { dir });
        }
        // Generate beside, then move into place, so an interrupted run leaves nothing
        // half-written that looks complete.
        let staging = target_tmp
            .as_ref()
            .join(format!("ews-bench-corpus.{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging)?;
        let out = Command::new("python3")
            .arg(&generator)
            .arg(&staging)
            .output()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run python3: {e}")))?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "{} failed: {}",
                generator.display(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        fs::write(staging.join("generator.stamp"), stamp)?;
        let _ = fs::remove_dir_all(&dir);
        fs::rename(&staging, &dir)?;
        Ok(Self { dir })
    }

    /// The bytes of one corpus file.
    pub fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        fs::read(self.dir.join(name))
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
