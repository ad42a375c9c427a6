//! `carebot matrix` and `carebot discord`: the adapters are programs of their own
//! (`carebot-matrix`, `carebot-discord`), found the way git and cargo find their subcommands:
//! next to this `carebot` first, then on `PATH`. Keeping matrix-sdk and serenity out of this
//! binary is what makes the demo's first build fast and the binary small.
//!
//! On Unix the adapter replaces this process (`exec`): same process id, same signals, so a
//! service manager's SIGTERM reaches the adapter itself and its exit status is the command's.

use anyhow::Result;
use carebot::globals::Globals;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// An adapter program and how to get it.
pub struct Adapter {
    /// The subcommand (`carebot matrix`).
    pub name: &'static str,
    /// The program it runs.
    pub program: &'static str,
    /// Its package in this workspace.
    pub package: &'static str,
}

/// Matrix, end-to-end encrypted.
pub const MATRIX: Adapter = Adapter {
    name: "matrix",
    program: "carebot-matrix",
    package: "bots/matrix",
};

/// Discord.
pub const DISCORD: Adapter = Adapter {
    name: "discord",
    program: "carebot-discord",
    package: "bots/discord",
};

/// Runs the adapter with the same options; returns only if it could not be started (or, off
/// Unix, when it ends).
pub fn hand_over(adapter: Adapter, globals: &Globals) -> Result<ExitCode> {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(exe_name(adapter.program)))
        .filter(|p| p.is_file());
    let program: PathBuf = beside.unwrap_or_else(|| PathBuf::from(exe_name(adapter.program)));
    let mut command = Command::new(&program);
    globals.pass_on(&mut command);
    let not_found = |e: std::io::Error| {
        anyhow::anyhow!(
            "`carebot {name}` runs the program {program}, which could not be started ({e}). It is \
             built on its own so that the demo builds quickly: build it with \
             `cargo build --release -p {program}` (it lands next to carebot), or install it with \
             `cargo install --path {package}`.",
            name = adapter.name,
            program = adapter.program,
            package = adapter.package,
        )
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // `exec` returns only when it failed.
        Err(not_found(command.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(not_found)?;
        Ok(match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
            None => ExitCode::FAILURE,
        })
    }
}

fn exe_name(program: &str) -> String {
    format!("{program}{}", std::env::consts::EXE_SUFFIX)
}
