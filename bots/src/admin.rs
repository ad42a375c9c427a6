//! Admin subcommands: set up a home, its people and who is whose; issue link codes; check the
//! audit chain. Each only parses arguments and calls `carebot_runtime::admin` or the store.

use anyhow::{bail, Context, Result};
use carebot_engine::domain::{Basis, Decision, PlanSection, Role};
use carebot_engine::flow::problem::Problem;
use carebot_engine::flow::Dialogs;
use carebot_runtime::admin;
use carebot_store::audit::ChainCheck;
use carebot_store::people::NewPerson;
use carebot_store::Store;
use clap::{Subcommand, ValueEnum};
use std::process::ExitCode;

/// Setting a home up.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add the home (a single-home installation has one).
    HomeAdd {
        /// Its name, as residents know it.
        #[arg(long)]
        name: String,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/London")]
        timezone: String,
        /// A number that reaches a person at the home, day and night: residents who ask
        /// for urgent help are told to ring it.
        #[arg(long)]
        phone: String,
    },
    /// Set the home's phone number (the home named with --name, when there are several).
    HomePhone {
        /// The number, e.g. "01632 960000".
        phone: String,
        /// Which home.
        #[arg(long)]
        name: Option<String>,
    },
    /// Add a person.
    PersonAdd {
        /// A short unique handle (`ava`).
        handle: String,
        /// Their name as they like to be called.
        #[arg(long)]
        name: String,
        /// resident, family, keyworker, manager or admin.
        #[arg(long)]
        role: RoleArg,
        /// Daily check-in time (local, HH:MM), for residents.
        #[arg(long)]
        checkin: Option<String>,
    },
    /// List everyone.
    People,
    /// Link a family member, keyworker or manager to a resident.
    Relate {
        /// The resident's handle.
        resident: String,
        /// The other person's handle.
        person: String,
        /// family, keyworker or manager.
        #[arg(long = "as")]
        relation: RoleArg,
    },
    /// Suggest a goal to a resident: they are asked whether it is theirs (and may reword or
    /// decline it) before it is ever asked about. `--agreed` adds one they have already agreed
    /// with you, in their own words.
    GoalAdd {
        /// The resident's handle.
        resident: String,
        /// The goal ("walk to the garden").
        text: String,
        /// The member of staff suggesting it (their handle), named to the resident.
        #[arg(long)]
        by: Option<String>,
        /// The resident has already agreed it is theirs, in these words: asked about at once.
        #[arg(long)]
        agreed: bool,
    },
    /// Write a new version of a resident's care plan from a file of plain sections
    /// (`[[section]]` tables, each with a `title` and a `text`; see the README).
    /// Nothing is overwritten: each time is a new version. The resident is told and asked to
    /// read it and say whether they agree.
    PlanSet {
        /// The resident's handle.
        resident: String,
        /// The plan file (TOML).
        file: std::path::PathBuf,
        /// The member of staff who wrote it (their handle), kept with the version.
        #[arg(long)]
        by: Option<String>,
    },
    /// Set a resident's care-plan review interval and next due date.
    ReviewSet {
        /// The resident's handle.
        resident: String,
        /// Days between reviews.
        #[arg(long)]
        every: i32,
        /// Next due date, YYYY-MM-DD.
        #[arg(long)]
        next: chrono::NaiveDate,
    },
    /// Issue a one-time code the person sends as `link CODE` from their chat account.
    LinkCode {
        /// The person's handle.
        handle: String,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Revoke every chat account linked to a person (a lost phone, someone no longer welcome):
    /// each becomes an unknown account at once. Audited.
    Unlink {
        /// The person's handle.
        handle: String,
    },
    /// Check the audit log's hash chain; exit status 1 if it is broken.
    AuditVerify,
    /// Record a consent decision for a resident who cannot make it themselves. Only their own
    /// keyworker or manager, and only with a lawful basis.
    #[command(group(clap::ArgGroup::new("basis").required(true).args(["lpa", "deputy", "best_interests"])))]
    ConsentRecord {
        /// The resident's handle.
        resident: String,
        /// The family member's handle.
        family: String,
        /// The category (mood, goals, message).
        category: String,
        /// yes, no or later.
        decision: String,
        /// The keyworker or manager recording it.
        #[arg(long)]
        by: String,
        /// A registered health-and-welfare Lasting Power of Attorney: the attorney's name.
        #[arg(long)]
        lpa: Option<String>,
        /// A Court of Protection deputy: the deputy's name.
        #[arg(long)]
        deputy: Option<String>,
        /// A best-interests decision: who decided, when and why.
        #[arg(long)]
        best_interests: Option<String>,
    },
}

/// A care-plan file as staff write it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[serde(default)]
    section: Vec<PlanFileSection>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFileSection {
    title: toml::Spanned<String>,
    text: toml::Spanned<String>,
}

/// The longest section heading: it is shown as a heading, not read as a paragraph.
const MAX_TITLE_CHARS: usize = 80;

/// Reads and checks a care-plan file: every problem names the file, the line, the key and
/// what to change.
pub fn read_plan(path: &std::path::Path) -> Result<Vec<PlanSection>, Problem> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        Problem::file(
            path,
            format!("cannot be read: {e}"),
            "check the path to the plan file",
        )
    })?;
    let file: PlanFile =
        toml::from_str(&source).map_err(|e| Problem::from_toml(path, &source, &e))?;
    if file.section.is_empty() {
        return Err(Problem::file(
            path,
            "has no sections",
            "add at least one [[section]] with title = \"...\" and text = \"...\"",
        ));
    }
    let mut sections = Vec::new();
    for s in file.section {
        let title = s.title.get_ref().trim();
        let text = s.text.get_ref().trim();
        let bad = |v: &str| v.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS || bad(title) {
            return Err(Problem::at(path, &source, s.title.span().start,
                format!("`title` must be a short heading of 1 to {MAX_TITLE_CHARS} characters, with no control characters"),
                "write a heading such as title = \"What matters to me\""));
        }
        if text.is_empty() || bad(text) {
            return Err(Problem::at(
                path,
                &source,
                s.text.span().start,
                "`text` is empty or holds control characters",
                "write what this part of the plan says, in plain words the resident uses",
            ));
        }
        sections.push(PlanSection {
            title: title.to_string(),
            text: text.to_string(),
        });
    }
    Ok(sections)
}

/// A role on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// Resident.
    Resident,
    /// Family member.
    Family,
    /// Keyworker.
    Keyworker,
    /// Manager.
    Manager,
    /// Administrator.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Resident => Role::Resident,
            RoleArg::Family => Role::Family,
            RoleArg::Keyworker => Role::Keyworker,
            RoleArg::Manager => Role::Manager,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Who the audit log says did it: the operating-system user at the command line.
fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Runs an admin command against `store`; `dialogs` is loaded only by commands that need it.
pub async fn run(
    cmd: &AdminCommand,
    store: &Store,
    dialogs: impl Fn() -> Result<Dialogs>,
) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match cmd {
        AdminCommand::HomeAdd {
            name,
            timezone,
            phone,
        } => {
            timezone.parse::<chrono_tz::Tz>().ok().with_context(|| {
                format!("'{timezone}' is not a time zone; use an IANA name such as Europe/London")
            })?;
            let phone = checked_phone(phone)?;
            store.add_home(name, timezone, phone).await?;
            println!("Added {name}.");
        }
        AdminCommand::HomePhone { phone, name } => {
            let phone = checked_phone(phone)?;
            match store.set_home_phone(name.as_deref(), phone).await? {
                0 => anyhow::bail!(
                    "no home was changed: give the home's name with --name (see `carebot people`)"
                ),
                _ => println!("The home's phone number is now {phone}."),
            }
        }
        AdminCommand::PersonAdd {
            handle,
            name,
            role,
            checkin,
        } => {
            let Some(home) = store.first_home().await? else {
                bail!("add the home first: carebot home-add --name \"...\" --phone \"...\"")
            };
            if let Some(t) = checkin {
                chrono::NaiveTime::parse_from_str(t, "%H:%M")
                    .ok()
                    .with_context(|| format!("'{t}' is not a time; use HH:MM, e.g. 09:30"))?;
            }
            let id = store
                .add_person(
                    NewPerson {
                        home,
                        handle,
                        name,
                        role: (*role).into(),
                    },
                    now,
                )
                .await
                .context("adding the person (is the handle already taken?)")?;
            store.set_checkin_time(id, checkin.as_deref()).await?;
            println!("Added {name} as {handle}.");
        }
        AdminCommand::People => {
            for (handle, name, role) in store.people().await? {
                println!(
                    "{handle:<12} {role:<10} {}",
                    carebot_console::visible(&name)
                );
            }
        }
        AdminCommand::Relate {
            resident,
            person,
            relation,
        } => {
            admin::relate(store, resident, person, (*relation).into(), &actor(), now).await?;
            println!("{person} is now {} for {resident}.", Role::from(*relation));
        }
        AdminCommand::GoalAdd {
            resident,
            text,
            by,
            agreed,
        } => {
            let id = admin::person_id(store, resident).await?;
            if *agreed {
                store.add_goal(id, text, now).await?;
                println!("Added the goal for {resident}; their check-in asks about it.");
            } else {
                let by = match by {
                    Some(handle) => Some(admin::person_id(store, handle).await?),
                    None => None,
                };
                store.suggest_goal(id, text, by, now).await?;
                println!("Suggested the goal to {resident}: they will be asked whether it is theirs at their next check-in, or when they say \"my goals\".");
            }
        }
        AdminCommand::PlanSet { resident, file, by } => {
            // The whole file is checked before anything is written.
            let sections = read_plan(file).map_err(|p| anyhow::anyhow!("{p}"))?;
            let id = admin::person_id(store, resident).await?;
            let written_by = match by {
                Some(handle) => {
                    admin::person_id(store, handle).await?;
                    format!("staff:{handle}")
                }
                None => actor(),
            };
            let dialogs = dialogs()?;
            let version =
                admin::set_plan(store, &dialogs.system, id, &sections, &written_by, now).await?;
            let n = sections.len();
            let s = if n == 1 { "" } else { "s" };
            println!("Wrote version {version} of {resident}'s care plan ({n} section{s}); they have been told and asked whether they agree.");
        }
        AdminCommand::ReviewSet {
            resident,
            every,
            next,
        } => {
            let id = admin::person_id(store, resident).await?;
            store
                .set_review(id, *every, &next.format("%Y-%m-%d").to_string())
                .await?;
            println!("{resident}'s next review is due {next}, then every {every} days.");
        }
        AdminCommand::LinkCode { handle, days } => {
            let code = admin::issue_link_code(store, handle, *days, &actor(), now).await?;
            println!("{code}\nGive this to {handle}. They send \"link {code}\" from their chat account within {days} days. It works once.");
        }
        AdminCommand::ConsentRecord {
            resident,
            family,
            category,
            decision,
            by,
            lpa,
            deputy,
            best_interests,
        } => {
            let decision: Decision = decision.parse().map_err(anyhow::Error::msg)?;
            let basis = match (lpa, deputy, best_interests) {
                (Some(n), _, _) => Basis::Lpa(n.clone()),
                (_, Some(n), _) => Basis::Deputy(n.clone()),
                (_, _, Some(r)) => Basis::BestInterests(r.clone()),
                _ => bail!("give the basis: --lpa NAME, --deputy NAME or --best-interests REASONS"),
            };
            let dialogs = dialogs()?;
            admin::record_consent_on_behalf(
                store,
                &dialogs.system,
                resident,
                family,
                category,
                decision,
                basis,
                by,
                now,
            )
            .await?;
            println!(
                "Recorded: {category} {decision} for {family}, on {resident}'s behalf, by {by}."
            );
        }
        AdminCommand::Unlink { handle } => {
            let n = admin::unlink(store, handle, &actor(), now).await?;
            println!("Revoked {n} chat account(s) of {handle}; they are now unknown to Carebot.");
        }
        AdminCommand::AuditVerify => match store.verify_audit().await? {
            ChainCheck::Intact { rows } => println!("The audit log is intact ({rows} rows)."),
            ChainCheck::Broken { id } => {
                println!("The audit log is BROKEN at row {id}: it or a row before it was changed or deleted.");
                return Ok(ExitCode::FAILURE);
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// A phone number worth giving to someone who needs help: not blank, with digits in it.
fn checked_phone(phone: &str) -> Result<&str> {
    let phone = phone.trim();
    if !phone.chars().any(|c| c.is_ascii_digit()) {
        anyhow::bail!(
            "'{phone}' is not a phone number: give the number that reaches someone at the home day and night, e.g. --phone \"01632 960000\" (residents asking for urgent help are told to ring it)"
        );
    }
    Ok(phone)
}
