//! The `carebot` binary as a person uses it: the demo, scripted chats, and every kind of bad
//! input getting a clear message instead of a panic. One test binary, by responsibility:
//! `input` (bad input of every kind, and a chat that resumes), `records` (what staff set up,
//! see, export and erase, and the files that hold it), `programs` (the installed binary, the
//! dialogs it carries, the adapter programs it hands over to). The helpers below serve all.

mod input;
mod programs;
mod records;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn dialogs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialogs")
}

/// Runs carebot with `args`, feeding `input` on stdin, in `dir`.
fn carebot(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carebot"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CAREBOT_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carebot starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("carebot finishes")
}

/// Copies the shipped dialogs folder (its files and the examples the learned model reads).
fn copy_dialogs(to: &Path) {
    for (from, to) in [
        (dialogs(), to.to_path_buf()),
        (dialogs().join("examples"), to.join("examples")),
    ] {
        std::fs::create_dir_all(&to).expect("folder");
        for entry in std::fs::read_dir(&from).expect("dialogs") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_panic(out: &Output) {
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}
