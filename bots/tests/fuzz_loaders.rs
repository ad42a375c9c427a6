//! Fuzzing the two loaders staff feed by hand: flow files (random mutations of the shipped
//! `dialogs/*.toml`) and the configuration file. Whatever the mutation, loading never
//! panics, and every problem names a file, and a line inside it when it is about a line.
//! A modest number of cases, so it runs in every test run.

use carebot::config::Config;
use carebot_engine::flow::{load_dir, Problem};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn shipped() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialogs");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("dialogs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read"))
        })
        .collect();
    files.sort();
    files
}

/// One way to damage a file, as a slip of the keyboard or a bad merge would.
#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceChar(usize, char),
    InsertText(usize, String),
    TruncateAt(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let odd = prop_oneof![
        Just("=".to_string()),
        Just("\"".to_string()),
        Just("[".to_string()),
        Just("[[step]]\n".to_string()),
        Just("next = \"nowhere\"\n".to_string()),
        Just("{{ oops".to_string()),
        Just("\u{0}".to_string()),
        "\\PC{0,12}",
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        (any::<usize>(), odd).prop_map(|(i, s)| Mutation::InsertText(i, s)),
        any::<usize>().prop_map(Mutation::TruncateAt),
    ]
}

fn apply(source: &str, m: &Mutation) -> String {
    let mut lines: Vec<&str> = source.lines().collect();
    let n = lines.len().max(1);
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| i % chars.len().max(1);
    match m {
        Mutation::DeleteLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
            lines.join("\n")
        }
        Mutation::DuplicateLine(i) => {
            if !lines.is_empty() {
                let l = lines[i % n];
                lines.insert(i % n, l);
            }
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
            lines.join("\n")
        }
        Mutation::ReplaceChar(i, c) => {
            let mut cs = chars.clone();
            if !cs.is_empty() {
                let i = at(*i);
                cs[i] = *c;
            }
            cs.into_iter().collect()
        }
        Mutation::InsertText(i, s) => {
            let i = at(*i);
            chars[..i]
                .iter()
                .chain(s.chars().collect::<Vec<_>>().iter())
                .chain(chars[i..].iter())
                .collect()
        }
        Mutation::TruncateAt(i) => chars[..at(*i)].iter().collect(),
    }
}

/// Every problem names a file that exists in `dir` (or the folder) and, when it points at a
/// line, a line that is in that file.
fn located(problems: &[Problem], dir: &Path) {
    assert!(!problems.is_empty(), "an error lists at least one problem");
    for p in problems {
        let file: PathBuf = p.file.clone();
        assert!(file.starts_with(dir), "names a file in the folder: {p}");
        if file.is_file() {
            let lines = std::fs::read_to_string(&file)
                .expect("read")
                .lines()
                .count();
            assert!(p.line <= lines + 1, "line {} of {} in {p}", p.line, lines);
        }
        let shown = p.to_string();
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(shown.contains(&name), "the message names the file: {shown}");
        if p.line > 0 {
            assert!(
                shown.contains(&format!("{name}:{}", p.line)),
                "and the line: {shown}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_flow_file_never_panics_and_every_problem_is_located(
        which in any::<usize>(),
        m in mutation(),
    ) {
        let files = shipped();
        let dir = tempfile::tempdir().expect("temp");
        let target = which % files.len();
        for (i, (name, text)) in files.iter().enumerate() {
            let text = if i == target { apply(text, &m) } else { text.clone() };
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        if let Err(problems) = load_dir(dir.path()) {
            located(&problems, dir.path());
        }
    }

    #[test]
    fn a_mutated_config_file_never_panics_and_names_its_line(m in mutation()) {
        let good = "[home]\nname = \"Rowan House\"\ntimezone = \"Europe/London\"\nphone = \"01632 960000\"\n\n[database]\nurl = \"sqlite://carebot.db\"\n\n[engine]\nmax_retries = 3\nburst = 20\n\n[safeguarding]\non_call = \"maria\"\n\n[retention]\nturns_days = 90\n\n[schedule]\nstaff_time = \"08:00\"\n";
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("carebot.toml");
        std::fs::write(&path, apply(good, &m)).expect("write");
        if let Err(p) = Config::load(Some(&path), |_| None) {
            located(std::slice::from_ref(&p), dir.path());
        }
    }
}
