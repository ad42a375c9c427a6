//! The dialogs shipped with this build, inside the binary.
//!
//! Flows, texts, rules and examples live in `dialogs/` so care staff can read and change them.
//! A `carebot` installed on its own (with `cargo install`, or copied to a server) has no such
//! folder beside it: when the configured folder is the default `dialogs` and it is not there,
//! the copy built into the binary is used, and `carebot dialogs export DIR` writes that copy out
//! for staff to edit.

use anyhow::{bail, Context, Result};
use carebot_engine::flow::Dialogs;
use include_dir::{include_dir, Dir};
use std::path::Path;

/// Every file of the repository's `dialogs/` folder, as it was when this binary was built.
static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../dialogs");

/// Writes the shipped dialogs into `dir` (made if need be) and returns how many files were
/// written. Nothing is overwritten: if any of the files is already there, nothing is written.
pub fn write_to(dir: &Path) -> Result<usize> {
    let mut files = Vec::new();
    collect(&SHIPPED, &mut files);
    if let Some(there) = files.iter().find(|f| dir.join(f.path()).exists()) {
        bail!(
            "{} is already there; nothing was written (choose an empty folder)",
            dir.join(there.path()).display()
        );
    }
    for f in &files {
        let path = dir.join(f.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("making the folder {}", parent.display()))?;
        }
        std::fs::write(&path, f.contents())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files.len())
}

/// Loads the shipped dialogs: written to a private, randomly named temporary folder, loaded
/// and checked as any dialogs folder is, and the folder removed again.
pub fn load() -> Result<Dialogs> {
    let tmp = tempfile::tempdir().context("making a temporary folder for the built-in dialogs")?;
    write_to(tmp.path())?;
    crate::setup::dialogs_in(tmp.path()).context("the dialogs built into this carebot")
}

/// Every file under `dir`, depth first.
fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    out.extend(dir.files());
    for d in dir.dirs() {
        collect(d, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_dialogs_load_and_hold_the_examples() {
        let dialogs = load().expect("the built-in dialogs load");
        assert!(dialogs.flow("checkin").is_some());
        assert!(SHIPPED.get_file("examples/risk.tsv").is_some());
    }
}
