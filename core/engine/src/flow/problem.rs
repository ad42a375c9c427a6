//! A problem found in a dialog or config file, located for the person who has to fix it.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a file: where, what, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file, as given to the loader.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is about the whole file.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// What is wrong, in plain words.
    pub message: String,
    /// What to change to put it right.
    pub fix: String,
}

impl Problem {
    /// A problem at byte `offset` of `source`.
    pub fn at(
        file: impl Into<PathBuf>,
        source: &str,
        offset: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(source, offset);
        Self {
            file: file.into(),
            line,
            column,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// A problem about a whole file.
    pub fn file(
        file: impl Into<PathBuf>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// Turns a TOML parse error into a located problem.
    pub fn from_toml(file: impl Into<PathBuf>, source: &str, err: &toml::de::Error) -> Self {
        let offset = err.span().map(|s| s.start).unwrap_or(0);
        let message = err.message().trim().to_string();
        if let Some(wanted) = wanted_value(&message) {
            // "invalid type: string \"three\", expected u8": say which setting, and what it
            // takes, in words.
            if let Some(key) = key_on_line(source, offset) {
                return Self::at(
                    file,
                    source,
                    offset,
                    format!("`{key}` cannot be {}", given_value(&message)),
                    format!("give `{key}` {wanted}"),
                );
            }
        }
        let fix = if message.contains("unknown field") {
            "remove or rename the field; the README lists the fields each section may have"
        } else if message.contains("missing field") {
            "add the missing field"
        } else if message.contains("unknown variant") {
            "use one of the values listed after 'expected'"
        } else {
            "correct the TOML syntax on this line (quotes, brackets and `=` signs)"
        };
        Self::at(file, source, offset, message, fix)
    }
}

/// What a TOML type error expected, in words ("a whole number, 0 or more").
fn wanted_value(message: &str) -> Option<&'static str> {
    if !(message.starts_with("invalid type") || message.starts_with("invalid value")) {
        return None;
    }
    let expected = message.split("expected ").nth(1)?.trim();
    Some(match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more (no quotes), e.g. 3",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number (no quotes), e.g. 3",
        "f32" | "f64" => "a number (no quotes), e.g. 1.5",
        "a boolean" => "true or false (no quotes)",
        "a string" => "text in double quotes, e.g. \"18:00\"",
        e if e.starts_with("a sequence") => "a list in square brackets, e.g. [\"a\", \"b\"]",
        _ => return None,
    })
}

/// The value a TOML type error was given ("the text \"three\"", "-5").
fn given_value(message: &str) -> String {
    let given = message
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split(", expected").next())
        .unwrap_or("")
        .trim();
    match given.split_once(' ') {
        Some(("string", s)) => format!("the text {s}"),
        Some(("integer", n)) => n.trim_matches('`').to_string(),
        Some((_, v)) => v.trim_matches('`').to_string(),
        None => given.to_string(),
    }
}

/// The key set on the line holding byte `offset` (`max_retries = "three"` gives `max_retries`).
pub fn key_on_line(source: &str, offset: usize) -> Option<String> {
    let offset = offset.min(source.len());
    let start = source
        .get(..offset)?
        .rfind('\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let line = source.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[') && !key.starts_with('#')).then(|| key.to_string())
}

/// The byte offset of the line that sets `key` (`key = ...`) in `source`, if any.
pub fn key_offset(source: &str, key: &str) -> Option<usize> {
    let mut at = 0;
    for line in source.split_inclusive('\n') {
        if line
            .trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(at + (line.len() - line.trim_start().len()));
        }
        at += line.len();
    }
    None
}

/// 1-based line and column of byte `offset` in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.column) {
            (0, _) => write!(f, "{file}: {}", self.message)?,
            (l, 0) => write!(f, "{file}:{l}: {}", self.message)?,
            (l, c) => write!(f, "{file}:{l}:{c}: {}", self.message)?,
        }
        write!(f, "\n  fix: {}", self.fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 9), (2, 4));
    }

    #[test]
    fn display_names_file_line_and_fix() {
        let p = Problem::at("dialogs/x.toml", "a\nb", 2, "step 'b' is unknown", "add it");
        assert_eq!(
            p.to_string(),
            "dialogs/x.toml:2:1: step 'b' is unknown\n  fix: add it"
        );
    }
}
