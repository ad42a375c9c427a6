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
