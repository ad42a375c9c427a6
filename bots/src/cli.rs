//! The command line.

use crate::{admin, console, demo, setup};
use anyhow::{Context, Result};
use carebot_core::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Carebot: a chat assistant for care homes, supported living and home care.
#[derive(Debug, Parser)]
#[command(name = "carebot", version, about)]
pub struct Cli {
    /// Configuration file (default: ./carebot.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL, overriding the config: sqlite://PATH or postgres://...
    #[arg(
        long,
        global = true,
        env = "CAREBOT_DATABASE_URL",
        hide_env_values = true
    )]
    db: Option<String>,
    /// Folder of flow files, overriding the config.
    #[arg(long, global = true)]
    dialogs: Option<PathBuf>,
    /// Print more about what Carebot is doing (never message contents).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Try Carebot: a demo care home in ./carebot-demo.db, chatting as the resident Ava.
    Demo {
        /// Chat as someone else in the demo home (ava, ben, kim, maria, sam).
        #[arg(long = "as", default_value = "ava")]
        who: String,
    },
    /// Chat in this terminal as a person (reads one message per line when not a terminal).
    Chat {
        /// The person's handle.
        #[arg(long = "as")]
        who: String,
    },
    #[command(flatten)]
    Admin(admin::AdminCommand),
    /// Write everything held about a person (a subject access request) as JSON and as a readable
    /// Markdown copy. The export itself is audited.
    Export {
        /// The person's handle.
        #[arg(long)]
        person: String,
        /// Folder to write `<handle>.json` and `<handle>.md` into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// What an operator needs to see: deliveries per channel, unacknowledged alerts, overdue
    /// reviews, when the scheduler last ran. Counts only.
    Status,
    /// Run the scheduler once: start due check-ins, fire timers, queue updates, reminders and
    /// digests, escalate alerts. (Chat and the adapters run it continuously.)
    Tick,
    /// Work with flow files.
    Dialogs {
        #[command(subcommand)]
        command: DialogsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum DialogsCommand {
    /// Check every flow file; exit status 1 when anything is wrong.
    Check {
        /// The folder (default: the configured one, normally dialogs/).
        dir: Option<PathBuf>,
    },
}

impl Cli {
    /// The log level unless `RUST_LOG` says otherwise.
    pub fn log_level(&self) -> &'static str {
        if self.verbose {
            "info"
        } else {
            "warn"
        }
    }

    fn config(&self) -> Result<Config> {
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

    /// Runs the chosen command.
    pub async fn run(self) -> Result<ExitCode> {
        match &self.command {
            Command::Dialogs {
                command: DialogsCommand::Check { dir },
            } => {
                let dir = match dir {
                    Some(d) => d.clone(),
                    None => self.config()?.dialogs.dir,
                };
                Ok(check_dialogs(&dir))
            }
            Command::Admin(cmd) => {
                let config = self.config()?;
                let store = setup::store(config.database_url()).await?;
                let code = admin::run(cmd, &store, || setup::dialogs(&config.dialogs.dir)).await;
                store.close().await;
                code
            }
            Command::Export { person, out } => {
                let store = setup::store(self.config()?.database_url()).await?;
                let actor = format!(
                    "cli:{}",
                    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
                );
                let data = store
                    .export_person(person, &actor, chrono::Utc::now().timestamp_millis())
                    .await?;
                store.close().await;
                let json_path = out.join(format!("{person}.json"));
                let md_path = out.join(format!("{person}.md"));
                std::fs::write(&json_path, serde_json::to_string_pretty(&data)?)
                    .with_context(|| format!("writing {}", json_path.display()))?;
                std::fs::write(&md_path, crate::export::markdown(person, &data))
                    .with_context(|| format!("writing {}", md_path.display()))?;
                println!("Wrote {} and {}.", json_path.display(), md_path.display());
                Ok(ExitCode::SUCCESS)
            }
            Command::Status => {
                let config = self.config()?;
                let store = setup::store(config.database_url()).await?;
                let tz = config
                    .settings()
                    .map_err(|p| anyhow::anyhow!("{p}"))?
                    .timezone;
                let today = chrono::Utc::now()
                    .with_timezone(&tz)
                    .format("%Y-%m-%d")
                    .to_string();
                let status = store.status(&today).await?;
                store.close().await;
                print!("{}", crate::status::render(&status));
                Ok(ExitCode::SUCCESS)
            }
            Command::Tick => {
                let bot = setup::carebot(&self.config()?).await?;
                let r = bot.tick().await.context("running the scheduler")?;
                println!(
                    "check-ins started: {}, timers fired: {}, family updates queued: {}, alerts escalated: {}, staff messages queued: {}",
                    r.started, r.timers, r.updates, r.escalated, r.staff_messages
                );
                bot.store.close().await;
                Ok(ExitCode::SUCCESS)
            }
            Command::Chat { who } => {
                let bot = setup::carebot(&self.config()?).await?;
                console::chat(&bot, who).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Demo { who } => {
                let mut config = self.config()?;
                if self.db.is_none() {
                    config.database.url = demo::DEMO_DB.to_string().into();
                }
                let bot = setup::carebot(&config).await?;
                demo::seed(&bot).await.context("setting up the demo home")?;
                console::chat(&bot, who).await?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

fn check_dialogs(dir: &std::path::Path) -> ExitCode {
    match carebot_core::flow::load_dir(dir) {
        Ok(d) => {
            let flows = d.flows();
            let names: Vec<&str> = flows.iter().map(|f| f.id()).collect();
            println!(
                "{}: {} flows ({}), texts and intents all fine",
                dir.display(),
                flows.len(),
                names.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                println!("{p}");
            }
            println!("{} problem(s) in {}", problems.len(), dir.display());
            ExitCode::FAILURE
        }
    }
}
