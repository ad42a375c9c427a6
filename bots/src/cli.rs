//! The command line.

use crate::{admin, demo};
use anyhow::{Context, Result};
use carebot::globals::Globals;
use carebot::setup;
use carebot_console as console;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Carebot: a chat assistant for care homes, supported living and home care.
#[derive(Debug, Parser)]
#[command(name = "carebot", version, about)]
pub struct Cli {
    #[command(flatten)]
    globals: Globals,
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
        /// The member of staff asking (checked: only the person's manager); without it, the
        /// operator at this command line, acting as an admin.
        #[arg(long)]
        by: Option<String>,
    },
    /// Erase everything held about a person (a right-to-erasure request): their records are
    /// deleted, their name and handle anonymised, and the erasure audited. Prints what was
    /// removed, and what was kept and why. Cannot be undone: export first if they want a copy.
    Erase {
        /// The person's handle.
        #[arg(long)]
        person: String,
        /// The member of staff asking (checked: only the person's manager); without it, the
        /// operator at this command line, acting as an admin.
        #[arg(long)]
        by: Option<String>,
        /// Confirms that this cannot be undone.
        #[arg(long)]
        confirm: bool,
    },
    /// What an operator needs to see: deliveries per channel, unacknowledged alerts, overdue
    /// reviews, when the scheduler last ran. Counts only.
    Status,
    /// Serve Prometheus metrics (counts only, no personal data) at http://ADDR/metrics until
    /// stopped with Ctrl-C.
    Metrics {
        /// Address to listen on. Keep it private (localhost or the monitoring network).
        #[arg(long, default_value = "127.0.0.1:9464")]
        listen: std::net::SocketAddr,
    },
    /// Run the scheduler once: start due check-ins, fire timers, queue updates, reminders and
    /// digests, escalate alerts. (Chat and the adapters run it continuously.)
    Tick,
    /// Serve residents, families and staff over Matrix (end-to-end encrypted), with the
    /// `[matrix]` settings. Stops gracefully on Ctrl-C or SIGTERM.
    Matrix,
    /// Run the Discord adapter: direct messages with linked people, staff commands in server
    /// channels. Needs a bot token (CAREBOT_DISCORD_TOKEN or [discord] token). Stops cleanly on
    /// Ctrl-C or SIGTERM.
    Discord,
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
    /// Run labelled examples (`expected<TAB>utterance`) through the engine and print
    /// precision, recall, a confusion table and every miss; exit status 1 below the targets
    /// in system.toml's [understanding.targets]. A folder holding system.toml is the dialogs
    /// to test (default: the configured one); other folders give their *.tsv files; with no
    /// example files, the dialogs folder's examples/ are used.
    Test {
        /// The dialogs folder and/or example files and folders.
        paths: Vec<PathBuf>,
    },
    /// Write the dialogs built into this carebot to a folder, for staff to read and edit
    /// (point `[dialogs] dir` at it); nothing already there is overwritten.
    #[command(visible_alias = "init")]
    Export {
        /// The folder to write (made if need be).
        dir: PathBuf,
    },
}

impl Cli {
    /// The log level unless `RUST_LOG` says otherwise.
    pub fn log_level(&self) -> &'static str {
        self.globals.log_level()
    }

    fn config(&self) -> Result<carebot::config::Config> {
        self.globals.config()
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
            Command::Dialogs {
                command: DialogsCommand::Test { paths },
            } => {
                let (dir, files) = crate::dialogs_test::split(paths);
                let dir = match dir {
                    Some(d) => d,
                    None => self.config()?.dialogs.dir,
                };
                crate::dialogs_test::run(&dir, &files)
            }
            Command::Dialogs {
                command: DialogsCommand::Export { dir },
            } => match carebot::shipped::write_to(dir) {
                Ok(n) => {
                    println!(
                        "Wrote the {n} files of the built-in dialogs to {}. Edit them, then run `carebot dialogs check {}`.",
                        dir.display(),
                        dir.display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("carebot dialogs export: {e:#}");
                    Ok(ExitCode::FAILURE)
                }
            },
            Command::Admin(cmd) => {
                let config = self.config()?;
                let store = setup::store(config.database_url()).await?;
                let code = admin::run(cmd, &store, || setup::dialogs(&config.dialogs.dir)).await;
                store.close().await;
                code
            }
            Command::Export { person, out, by } => {
                let store = setup::store(self.config()?.database_url()).await?;
                let operator = format!(
                    "cli:{}",
                    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
                );
                let owner = carebot_runtime::admin::person_id(&store, person).await?;
                let actor = carebot_runtime::admin::records_requester(
                    &store,
                    owner,
                    by.as_deref(),
                    carebot_engine::access::Action::Read,
                    &operator,
                )
                .await?;
                let data = store
                    .export_person(person, &actor, chrono::Utc::now().timestamp_millis())
                    .await?;
                store.close().await;
                let json_path = out.join(format!("{person}.json"));
                let md_path = out.join(format!("{person}.md"));
                // Health data: readable by this user only.
                carebot::files::write_private(
                    &json_path,
                    serde_json::to_string_pretty(&data)?.as_bytes(),
                )?;
                carebot::files::write_private(
                    &md_path,
                    crate::export::markdown(person, &data).as_bytes(),
                )?;
                println!("Wrote {} and {}.", json_path.display(), md_path.display());
                Ok(ExitCode::SUCCESS)
            }
            Command::Erase {
                person,
                by,
                confirm,
            } => {
                if !confirm {
                    anyhow::bail!("erasing {person} cannot be undone; run `carebot export --person {person}` first if they want a copy, then add --confirm");
                }
                let store = setup::store(self.config()?.database_url()).await?;
                let operator = format!(
                    "cli:{}",
                    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
                );
                let now = chrono::Utc::now().timestamp_millis();
                let done =
                    carebot_runtime::admin::erase(&store, person, by.as_deref(), &operator, now)
                        .await;
                store.close().await;
                let done = done?;
                println!("Erased {person}.\nRemoved:");
                for (what, n) in &done.removed {
                    println!("  {what}: {n}");
                }
                println!("Kept:");
                for (what, n, why) in &done.kept {
                    println!("  {what}: {n} ({why})");
                }
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
                let warning = store.file_access_warning();
                store.close().await;
                print!("{}", crate::status::render(&status));
                if let Some(warning) = warning {
                    println!("{warning}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Metrics { listen } => {
                let store = setup::store(self.config()?.database_url()).await?;
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("listening on {listen}"))?;
                println!("Serving metrics at http://{listen}/metrics (Ctrl-C stops).");
                let stop = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                carebot::metrics::serve(store.clone(), listener, stop).await?;
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
            Command::Tick => {
                let bot = setup::carebot(&self.config()?).await?;
                let r = bot.tick().await.context("running the scheduler")?;
                println!(
                    "check-ins started: {}, timers fired: {}, family updates queued: {}, alerts escalated: {}, staff messages queued: {}, old records deleted: {}, asked again about sharing: {}",
                    r.started, r.timers, r.updates, r.escalated, r.staff_messages, r.retention_deleted, r.asked_again
                );
                // Every pass ran; what failed is named, and the exit status says so.
                for e in &r.errors {
                    eprintln!("not done: {e}");
                }
                bot.store.close().await;
                Ok(if r.errors.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Command::Matrix => crate::adapter::hand_over(crate::adapter::MATRIX, &self.globals),
            Command::Discord => crate::adapter::hand_over(crate::adapter::DISCORD, &self.globals),
            Command::Chat { who } => {
                let mut bot = setup::carebot(&self.config()?).await?;
                setup::ready_to_serve(&bot).await?;
                bot.limiter = console_limiter();
                console::chat(&bot, who).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Demo { who } => {
                let mut config = self.config()?;
                if self.globals.db.is_none() {
                    config.database.url = demo::DEMO_DB.to_string().into();
                }
                let mut bot = setup::carebot(&config).await?;
                bot.limiter = console_limiter();
                demo::seed(&bot).await.context("setting up the demo home")?;
                console::chat(&bot, who).await?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// The console is the operator's own terminal (often a script piping many lines at once), not
/// an account on a shared network: there is nobody else for a limit to protect.
fn console_limiter() -> carebot_runtime::RateLimiter {
    carebot_runtime::RateLimiter::new(carebot_runtime::RateLimit {
        burst: u32::MAX,
        per_minute: u32::MAX,
    })
}

fn check_dialogs(dir: &std::path::Path) -> ExitCode {
    match carebot_engine::flow::load_dir(dir) {
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
