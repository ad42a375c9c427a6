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

use crate::engine::Settings;
use crate::flow::Problem;
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
        })
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
}
