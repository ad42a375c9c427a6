//! Configuration in layers: built-in defaults, then a TOML file (`carebot.toml`, or the one
//! named with `--config`), then environment variables. Secrets are held as
//! [`secrecy::SecretString`] so they never print.
//!
//! | variable | overrides |
//! |---|---|
//! | `CAREBOT_DATABASE_URL`, else `DATABASE_URL` | `[database] url` |
//! | `CAREBOT_DIALOGS_DIR` | `[dialogs] dir` |
//! | `CAREBOT_HOME_NAME` | `[home] name` |
//! | `CAREBOT_TIMEZONE` | `[home] timezone` |
//! | `CAREBOT_DISCORD_TOKEN` | `[discord] token` |

mod discord;
mod matrix;

pub use discord::DiscordConfig;
pub use matrix::MatrixConfig;

use carebot_engine::engine::Settings;
use carebot_engine::flow::Problem;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The home.
    pub home: HomeConfig,
    /// Where data lives.
    pub database: DatabaseConfig,
    /// Where the flow files are.
    pub dialogs: DialogsConfig,
    /// Conversation limits.
    pub engine: EngineConfig,
    /// Who residents can contact (shown on the rights pages).
    pub contacts: ContactsConfig,
    /// When scheduled things happen.
    pub schedule: ScheduleConfig,
    /// The Matrix adapter.
    pub matrix: MatrixConfig,
    /// The Discord adapter.
    pub discord: DiscordConfig,
    /// Who else hears about an alert, and what a resident is told when nobody can be reached.
    pub safeguarding: SafeguardingConfig,
    /// How long conversation records are kept.
    pub retention: RetentionConfig,
    /// The home's procedure for residents' requests (how long staff have to reply).
    pub requests: RequestsConfig,
}

/// `[requests]`: the home's procedure for residents' requests. A request still open when its
/// days are up is brought back to the staff it went to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestsConfig {
    /// Days staff have to reply, by kind of request (`complaint`, `advocate`, `review`,
    /// `goals`, `help`), with `default` for the rest.
    pub reply_days: std::collections::BTreeMap<String, u32>,
}

impl Default for RequestsConfig {
    fn default() -> Self {
        Self {
            reply_days: carebot_engine::engine::ReplyDays::default().0,
        }
    }
}

/// `[safeguarding]`: the rungs of the ladder after the keyworker and the manager.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafeguardingConfig {
    /// The handle of the on-call member of staff (a keyworker or manager) who is told, with
    /// the managers, of every alert not acknowledged in time.
    pub on_call: Option<String>,
    /// The number a resident is given when no member of staff could be reached by message
    /// about their alert. Default: the home's phone number.
    pub phone: Option<String>,
}

/// `[retention]`: how long conversation records are kept before the scheduler deletes them.
/// Answers, consents, alerts and the audit log are care records and are not affected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days to keep delivered message bodies, finished conversation bookkeeping (timers) and
    /// the record of inbound events (used only to drop replays). 0 keeps them for ever.
    pub turns_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self { turns_days: 90 }
    }
}

/// `[contacts]`: shown to residents on the rights pages (defined with the engine, which
/// renders them).
pub use carebot_engine::engine::Contacts as ContactsConfig;

/// `[schedule]`: when check-ins are nudged and missed, alerts escalate, and updates and
/// staff messages go out (local times).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Minutes without an answer before one gentle reminder.
    pub nudge_after_minutes: i64,
    /// Minutes without an answer before a check-in counts as missed.
    pub missed_after_minutes: i64,
    /// Missed check-ins in a row before the keyworker is told.
    pub alert_after_misses: u32,
    /// Minutes an alert may wait for "ack" before the manager is told.
    pub ack_within_minutes: i64,
    /// When family updates go out ("HH:MM"; weekly ones on Sundays).
    pub family_update_time: String,
    /// When review reminders and digests go out ("HH:MM").
    pub staff_time: String,
    /// Days overdue before review reminders go to the manager too.
    pub review_manager_after_days: u32,
    /// Whether keyworkers get a morning digest.
    pub digest: bool,
    /// Days after a resident says "ask me later" about sharing before they are asked again,
    /// once (0 never asks again).
    pub ask_again_after_days: u32,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        let p = carebot_runtime::SchedulePolicy::default();
        Self {
            nudge_after_minutes: p.nudge_after.num_minutes(),
            missed_after_minutes: p.missed_after.num_minutes(),
            alert_after_misses: p.alert_after_misses,
            ack_within_minutes: p.ack_within.num_minutes(),
            family_update_time: p.update_time,
            staff_time: p.staff_time,
            review_manager_after_days: p.manager_after_days,
            digest: p.digest,
            ask_again_after_days: p.ask_again_after_days,
        }
    }
}

/// `[home]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HomeConfig {
    /// Shown to residents ("Rowan House").
    pub name: String,
    /// IANA time zone; check-ins happen in local time.
    pub timezone: toml::Spanned<String>,
    /// A number that reaches a person at the home, given when nothing else can.
    pub phone: String,
}

/// `[database]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`; may hold a password, so it is a secret.
    pub url: SecretString,
}

/// `[dialogs]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialogsConfig {
    /// The folder of flow files.
    pub dir: PathBuf,
}

/// `[engine]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Unrecognised answers before offering a person.
    pub max_retries: u8,
    /// Longest message read.
    pub max_message_chars: usize,
    /// Longest free-text answer kept.
    pub max_answer_chars: usize,
    /// Messages one account may send at once before it is asked to slow down.
    pub burst: u32,
    /// Messages per minute one account may send after the burst.
    pub messages_per_minute: u32,
}

impl Default for HomeConfig {
    fn default() -> Self {
        Self {
            name: "our home".into(),
            timezone: toml::Spanned::new(0..0, "Europe/London".into()),
            phone: String::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://carebot.db"),
        }
    }
}

impl Default for DialogsConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("dialogs"),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        let s = Settings::default();
        Self {
            max_retries: s.max_retries,
            max_message_chars: s.max_message_chars,
            max_answer_chars: s.max_answer_chars,
            burst: carebot_runtime::RateLimit::default().burst,
            messages_per_minute: carebot_runtime::RateLimit::default().per_minute,
        }
    }
}

/// The file name looked for in the working folder when `--config` is not given.
pub const DEFAULT_FILE: &str = "carebot.toml";

impl Config {
    /// Loads `file` (required when given; `carebot.toml` when present otherwise), then applies
    /// the environment through `env` (pass `|k| std::env::var(k).ok()`).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Problem> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new(DEFAULT_FILE).exists() => Self::from_file(Path::new(DEFAULT_FILE))?,
            None => Self::default(),
        };
        if let Some(url) = env("CAREBOT_DATABASE_URL").or_else(|| env("DATABASE_URL")) {
            config.database.url = SecretString::from(url);
        }
        if let Some(dir) = env("CAREBOT_DIALOGS_DIR") {
            config.dialogs.dir = PathBuf::from(dir);
        }
        config.matrix.apply_env(&env);
        if let Some(token) = env("CAREBOT_DISCORD_TOKEN") {
            config.discord.token = Some(SecretString::from(token));
        }
        if let Some(name) = env("CAREBOT_HOME_NAME") {
            config.home.name = name;
        }
        if let Some(tz) = env("CAREBOT_TIMEZONE") {
            config.home.timezone = toml::Spanned::new(0..0, tz);
            config.settings().map_err(|mut p| {
                p.file = PathBuf::from("$CAREBOT_TIMEZONE");
                p
            })?;
        }
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, Problem> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            Problem::file(
                path,
                format!("cannot be read: {e}"),
                "check the path given with --config",
            )
        })?;
        let config: Config =
            toml::from_str(&source).map_err(|e| Problem::from_toml(path, &source, &e))?;
        config.settings().map_err(|p| {
            let span = config.home.timezone.span();
            Problem::at(path, &source, span.start, p.message, p.fix)
        })?;
        // The times of day too, so nothing is opened before the whole file is known good.
        config.schedule().map_err(|p| {
            let key = ["family_update_time", "staff_time"]
                .into_iter()
                .find(|k| p.message.contains(k));
            match key.and_then(|k| carebot_engine::flow::problem::key_offset(&source, k)) {
                Some(at) => Problem::at(path, &source, at, p.message, p.fix),
                None => Problem {
                    file: path.to_path_buf(),
                    ..p
                },
            }
        })?;
        Ok(config)
    }

    /// The engine's settings, checking the time zone.
    pub fn settings(&self) -> Result<Settings, Problem> {
        let tz_name = self.home.timezone.get_ref();
        let timezone = tz_name.parse::<chrono_tz::Tz>().map_err(|_| {
            Problem::file(
                "config",
                format!("'{tz_name}' is not a time zone Carebot knows"),
                "use an IANA name such as Europe/London",
            )
        })?;
        Ok(Settings {
            max_retries: self.engine.max_retries.max(1),
            max_message_chars: self.engine.max_message_chars.max(1),
            max_answer_chars: self.engine.max_answer_chars.max(1),
            timezone,
            contacts: [
                ("complaints".to_string(), self.contacts.complaints.clone()),
                ("advocacy".to_string(), self.contacts.advocacy.clone()),
                ("regulator".to_string(), self.contacts.regulator.clone()),
            ]
            .into_iter()
            .collect(),
            reply_days: {
                // Defaults first, so a home that sets only `complaint` keeps a `default`.
                let mut days = carebot_engine::engine::ReplyDays::default().0;
                days.extend(
                    self.requests
                        .reply_days
                        .iter()
                        .map(|(k, v)| (k.clone(), (*v).max(1))),
                );
                carebot_engine::engine::ReplyDays(days)
            },
        })
    }

    /// The scheduler's policy, checking the times of day.
    pub fn schedule(&self) -> Result<carebot_runtime::SchedulePolicy, Problem> {
        let c = &self.schedule;
        for (name, t) in [
            ("family_update_time", &c.family_update_time),
            ("staff_time", &c.staff_time),
        ] {
            if chrono::NaiveTime::parse_from_str(t, "%H:%M").is_err() {
                return Err(Problem::file(
                    "config",
                    format!("[schedule] {name} = \"{t}\" is not a time of day"),
                    "use HH:MM, for example 18:00",
                ));
            }
        }
        let minutes = |m: i64| chrono::Duration::minutes(m.max(1));
        Ok(carebot_runtime::SchedulePolicy {
            nudge_after: minutes(c.nudge_after_minutes),
            missed_after: minutes(c.missed_after_minutes),
            alert_after_misses: c.alert_after_misses.max(1),
            catch_up: chrono::Duration::hours(6),
            update_time: c.family_update_time.clone(),
            ack_within: minutes(c.ack_within_minutes),
            staff_time: c.staff_time.clone(),
            manager_after_days: c.review_manager_after_days,
            digest: c.digest,
            on_call: self
                .safeguarding
                .on_call
                .clone()
                .filter(|h| !h.trim().is_empty()),
            phone: self
                .safeguarding
                .phone
                .clone()
                .filter(|p| !p.trim().is_empty()),
            retention_days: self.retention.turns_days,
            ask_again_after_days: c.ask_again_after_days,
        })
    }

    /// The per-sender rate limit.
    pub fn rate_limit(&self) -> carebot_runtime::RateLimit {
        carebot_runtime::RateLimit {
            burst: self.engine.burst.max(1),
            per_minute: self.engine.messages_per_minute.max(1),
        }
    }

    /// The database URL (a secret: do not log it; use `store::redact` to show it).
    pub fn database_url(&self) -> &str {
        self.database.url.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(text.as_bytes()).expect("write");
        f
    }

    #[test]
    fn environment_overrides_the_file() {
        let f = file("[database]\nurl = \"sqlite://a.db\"\n");
        let c = Config::load(Some(f.path()), |k| {
            (k == "DATABASE_URL").then(|| "sqlite://b.db".into())
        })
        .expect("loads");
        assert_eq!(c.database_url(), "sqlite://b.db");
    }

    #[test]
    fn an_unknown_field_names_file_line_and_fix() {
        let f = file("[home]\nname = \"Rowan\"\nnmae = \"typo\"\n");
        let p = Config::load(Some(f.path()), |_| None).expect_err("must fail");
        assert_eq!(p.line, 3);
        assert!(p.message.contains("unknown field"), "{p}");
    }

    #[test]
    fn a_bad_time_zone_points_at_its_line() {
        let f = file("[home]\nname = \"Rowan\"\ntimezone = \"Mars/Olympus\"\n");
        let p = Config::load(Some(f.path()), |_| None).expect_err("must fail");
        assert_eq!(p.line, 3);
        assert!(p.fix.contains("Europe/London"));
    }

    #[test]
    fn the_database_password_does_not_print() {
        let c = Config::load(None, |k| {
            (k == "DATABASE_URL").then(|| "postgres://u:hunter2@h/d".into())
        })
        .expect("loads");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn the_discord_token_comes_from_the_environment_and_does_not_print() {
        let f = file("[discord]\nstaff_prefix = \"!cb\"\n");
        let c = Config::load(Some(f.path()), |k| {
            (k == "CAREBOT_DISCORD_TOKEN").then(|| "tok-sekrit".into())
        })
        .expect("loads");
        let token = c.discord.token.as_ref().expect("token set");
        assert_eq!(token.expose_secret(), "tok-sekrit");
        assert!(!format!("{c:?}").contains("tok-sekrit"));
        assert_eq!(c.discord.staff_prefix, "!cb");
        assert!(
            !c.discord.send_health_content,
            "health text stays off Discord by default"
        );
    }
}
