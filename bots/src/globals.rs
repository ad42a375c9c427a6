//! The options every Carebot program takes, wherever they appear on the command line:
//! `carebot --config home.toml matrix` and `carebot-matrix --config home.toml` read the same
//! configuration.

use crate::config::Config;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// `--config`, `--db`, `--dialogs` and `-v`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Globals {
    /// Configuration file (default: ./carebot.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Database URL, overriding the config: sqlite://PATH or postgres://...
    #[arg(
        long,
        global = true,
        env = "CAREBOT_DATABASE_URL",
        hide_env_values = true
    )]
    pub db: Option<String>,
    /// Folder of flow files, overriding the config.
    #[arg(long, global = true)]
    pub dialogs: Option<PathBuf>,
    /// Print more about what Carebot is doing (never message contents).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

impl Globals {
    /// The log level unless `RUST_LOG` says otherwise.
    pub fn log_level(&self) -> &'static str {
        if self.verbose {
            "info"
        } else {
            "warn"
        }
    }

    /// The configuration: built-in defaults, then the file, then the environment, then these
    /// options.
    pub fn config(&self) -> Result<Config> {
        let mut config = Config::load(self.config.as_deref(), |k| std::env::var(k).ok())
            .map_err(|p| anyhow::anyhow!("{p}"))
            .context("reading the configuration")?;
        if let Some(db) = &self.db {
            config.database.url = db.clone().into();
        }
        if let Some(dir) = &self.dialogs {
            config.dialogs.dir = dir.clone();
        }
        Ok(config)
    }

    /// These options as arguments for another Carebot program. The database URL goes in the
    /// environment (`CAREBOT_DATABASE_URL`), never on a command line other users can read.
    pub fn pass_on(&self, to: &mut std::process::Command) {
        if let Some(config) = &self.config {
            to.arg("--config").arg(config);
        }
        if let Some(dir) = &self.dialogs {
            to.arg("--dialogs").arg(dir);
        }
        if self.verbose {
            to.arg("--verbose");
        }
        if let Some(db) = &self.db {
            to.env("CAREBOT_DATABASE_URL", db);
        }
    }
}
